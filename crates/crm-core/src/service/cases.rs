//! Case and follow-up use cases (CAS-1…CAS-5, FUP-1, INT-7).

use super::{Crm, check_version};
use crate::access::{Actor, Permission};
use crate::case::history::{FieldMap, diff};
use crate::case::{
    Case, CaseContext, CaseFilter, CaseHistoryEntry, CaseNumber, CasePatch, CasePatchError, CaseSort, CaseStatus,
    NewCase,
};
use crate::custom_field::FieldEntity;
use crate::error::{Error, Result};
use crate::event::{DomainEvent, EventKind};
use crate::follow_up::{FollowUp, NewFollowUp};
use crate::ids::{CaseId, InteractionId};
use crate::interaction::LinkTarget;
use crate::page::{Page, PageRequest};
use crate::time::next_id;

impl From<CasePatchError> for Error {
    fn from(e: CasePatchError) -> Self {
        match e {
            CasePatchError::Invalid(v) => Error::Validation(v),
            CasePatchError::Transition(t) => Error::IllegalTransition(t),
        }
    }
}

impl Crm {
    /// Checks who may be assigned: the actor may always take work; giving it to someone
    /// else needs `case.assign`.
    fn check_assignment(actor: &Actor, assignee: Option<crate::ids::AgentId>, group_set: bool) -> Result<()> {
        let other_agent = assignee.is_some_and(|a| a != actor.agent);
        if other_agent || group_set {
            actor.require(Permission::CaseAssign)?;
        }
        Ok(())
    }

    /// Builds a new case with its number, history and events.
    async fn prepare_case(
        &self,
        actor: &Actor,
        input: NewCase,
        origin: Option<InteractionId>,
    ) -> Result<(Case, Vec<CaseHistoryEntry>, Vec<DomainEvent>)> {
        actor.require(Permission::CaseEdit)?;
        Self::check_assignment(actor, input.assignee, input.group.is_some())?;
        // One read for the customer and the case fields (one round trip where the store can).
        let (customer, definitions) =
            self.store.customer_with_definitions(actor.tenant, input.customer, FieldEntity::Case).await?;
        let customer = customer.ok_or_else(|| Error::not_found("customer", input.customer))?;
        if customer.is_merged() {
            return Err(Error::invalid("customer", "was merged into another card; use that one"));
        }
        if let Some(a) = input.assignee {
            self.ensure_agent(actor, a, "assignee").await?;
        }
        self.check_list_keys(actor, &input.list_keys()).await?;
        let tenant = self.tenant(actor.tenant).await?;
        let ctx = CaseContext { definitions: &definitions, region: Some(tenant.default_region), now: self.clock.now() };
        // Validate before drawing a number, so refused input burns none.
        let valid = input.validate(actor, origin, ctx)?;
        let id: CaseId = next_id(&*self.ids);
        if let Some(parent) = valid.parent() {
            self.check_parent(actor, id, false, parent).await?;
        }
        let number = self.store.next_case_number(actor.tenant).await?;
        let mut case = valid.build(id, number);
        let history = diff(&FieldMap::new(), &case.field_map(), actor.tenant, case.id, 1, actor.agent, case.created_at);
        self.mark_new_case(&mut case, &history).await?;
        let mut events = vec![self.event(
            actor,
            EventKind::CaseCreated { case: case.id, number, customer: case.customer(), assignee: case.assignee() },
        )];
        if case.assignee().is_some_and(|a| a != actor.agent) || case.group().is_some() {
            events.push(self.event(
                actor,
                EventKind::CaseAssigned { case: case.id, assignee: case.assignee(), group: case.group() },
            ));
        }
        Ok((case, history, events))
    }

    /// Creates a case (CAS-1), as a draft or open (CAS-2).
    ///
    /// # Errors
    /// Forbidden without `case.edit` (and `case.assign` to assign to others); bad values;
    /// a missing or merged customer.
    pub async fn create_case(&self, actor: &Actor, input: NewCase) -> Result<Case> {
        let (case, history, events) = self.prepare_case(actor, input, None).await?;
        self.store.insert_case(&case, &history, &events).await?;
        Ok(case)
    }

    /// Creates a case from an interaction and links it at once (INT-7), atomically.
    ///
    /// # Errors
    /// As [`Crm::create_case`], plus `interaction.handle`, a missing interaction and a stale
    /// interaction version.
    pub async fn create_case_from_interaction(
        &self,
        actor: &Actor,
        interaction: InteractionId,
        expected_version: u64,
        mut input: NewCase,
    ) -> Result<Case> {
        actor.require(Permission::InteractionHandle)?;
        let mut inter = self.load_interaction(actor, interaction).await?;
        let expected_version = check_version("interaction", interaction, inter.version(), expected_version)?;
        input.origin_channel = input.origin_channel.or(Some(inter.channel));
        let (case, history, mut events) = self.prepare_case(actor, input, Some(interaction)).await?;
        let now = self.clock.now();
        inter.link_all(
            [LinkTarget::Case { id: case.id }, LinkTarget::Customer { id: case.customer() }],
            actor.agent,
            now,
        )?;
        events.push(
            self.event(actor, EventKind::InteractionLinked { interaction, target: LinkTarget::Case { id: case.id } }),
        );
        self.store.insert_case_from_interaction(&case, &history, &inter, expected_version, &events).await?;
        Ok(case)
    }

    /// A case the actor may see.
    ///
    /// # Errors
    /// Forbidden without `case.read`; `NotFound` (also for private cases the actor may not
    /// see).
    pub async fn get_case(&self, actor: &Actor, id: CaseId) -> Result<Case> {
        actor.require(Permission::CaseRead)?;
        self.load_case(actor, id).await
    }

    pub(super) async fn load_case(&self, actor: &Actor, id: CaseId) -> Result<Case> {
        match self.store.get_case(actor.tenant, id).await? {
            Some(c) if c.visible_to(actor) => Ok(c),
            _ => Err(Error::not_found("case", id)),
        }
    }

    /// A case by number.
    ///
    /// # Errors
    /// As [`Crm::get_case`].
    pub async fn get_case_by_number(&self, actor: &Actor, number: CaseNumber) -> Result<Case> {
        actor.require(Permission::CaseRead)?;
        match self.store.get_case_by_number(actor.tenant, number).await? {
            Some(c) if c.visible_to(actor) => Ok(c),
            _ => Err(Error::not_found("case", number)),
        }
    }

    /// Edits a case (CAS-3), status changes through the lifecycle (CAS-2); every changed
    /// field is recorded in the history (CAS-4).
    ///
    /// # Errors
    /// Forbidden; `NotFound`; bad values; an illegal transition; a stale version.
    pub async fn update_case(
        &self,
        actor: &Actor,
        id: CaseId,
        expected_version: u64,
        patch: CasePatch,
    ) -> Result<Case> {
        // A reply that re-marked the case since it was read moves its mark generation, not
        // its version (ADR 0032): the edit is then made again over the row as it is now.
        let mut attempts = super::sla_marks::REMARK_ATTEMPTS;
        loop {
            match self.update_case_once(actor, id, expected_version, patch.clone()).await {
                Err(e @ Error::Conflict(crate::error::Conflict::StaleVersion { .. })) if attempts > 1 => {
                    attempts -= 1;
                    let now = self.store.get_case(actor.tenant, id).await?;
                    if now.is_none_or(|c| expected_version != super::ANY_VERSION && c.version() != expected_version) {
                        return Err(e);
                    }
                }
                other => return other,
            }
        }
    }

    async fn update_case_once(
        &self,
        actor: &Actor,
        id: CaseId,
        expected_version: u64,
        patch: CasePatch,
    ) -> Result<Case> {
        actor.require(Permission::CaseEdit)?;
        let mut case = self.load_case(actor, id).await?;
        let expected_version = check_version("case", id, case.version(), expected_version)?;
        Self::check_assignment(actor, patch.assignee.flatten(), patch.group.is_some())?;
        if let Some(Some(a)) = patch.assignee {
            self.ensure_agent(actor, a, "assignee").await?;
        }
        self.check_list_keys(actor, &patch.list_keys()).await?;
        if let Some(Some(parent)) = patch.parent
            && case.parent() != Some(parent)
        {
            self.check_parent(actor, id, true, parent).await?;
        }
        if patch.status == Some(CaseStatus::Closed) && case.status() != CaseStatus::Closed {
            self.check_children_closed(actor, id).await?;
        }
        let tenant = self.tenant(actor.tenant).await?;
        let definitions = self.store.field_definitions(actor.tenant, FieldEntity::Case).await?;
        let ctx = CaseContext { definitions: &definitions, region: Some(tenant.default_region), now: self.clock.now() };
        let before = case.field_map();
        let (old_assignee, old_group) = (case.assignee(), case.group());
        patch.apply(&mut case, actor.agent, ctx)?;
        let history = diff(&before, &case.field_map(), actor.tenant, id, case.version(), actor.agent, ctx.now);
        if history.is_empty() {
            return Ok(case);
        }
        self.mark_edited_case(&mut case, &history).await?;
        let fields = history.iter().map(|h| h.field.clone()).collect();
        let kind = EventKind::CaseUpdated { case: id, fields };
        let mut events = vec![self.event_with_changes(actor, kind, Some(&before), Some(&case.field_map()))];
        if (case.assignee(), case.group()) != (old_assignee, old_group) {
            events.push(
                self.event(actor, EventKind::CaseAssigned { case: id, assignee: case.assignee(), group: case.group() }),
            );
        }
        self.store.update_case(&case, expected_version, &history, &events).await?;
        Ok(case)
    }

    /// Deletes a case softly (needs `case.delete`, ADM-2; CAS-3): hidden from lists and
    /// lookups from now on, its number, history, follow-ups and tasks kept; restorable by
    /// an administrator for [`Crm::case_restore_period`]. The deletion is a history entry
    /// (`deleted_at`).
    ///
    /// Returns the deleted case (its new version is what a restore expects).
    ///
    /// # Errors
    /// Forbidden; `NotFound`; a stale version.
    pub async fn delete_case(&self, actor: &Actor, id: CaseId, expected_version: u64) -> Result<Case> {
        actor.require(Permission::CaseDelete)?;
        let mut case = self.load_case(actor, id).await?;
        let expected_version = check_version("case", id, case.version(), expected_version)?;
        let before = case.field_map();
        let now = self.clock.now();
        case.soft_delete(now)?;
        let history = diff(&before, &case.field_map(), actor.tenant, id, case.version(), actor.agent, now);
        let events = [self.event(actor, EventKind::CaseDeleted { case: id })];
        self.store.update_case(&case, expected_version, &history, &events).await?;
        Ok(case)
    }

    /// Restores a softly deleted case within [`Crm::case_restore_period`] of its deletion:
    /// administrators only (`case.delete` and `admin.agents`). The restore is a history
    /// entry too (`deleted_at` cleared).
    ///
    /// # Errors
    /// Forbidden; `NotFound` for a case that is neither live nor deleted; a live case
    /// (`case`: is not deleted); the period over (`deleted_at`); a stale version.
    pub async fn restore_case(&self, actor: &Actor, id: CaseId, expected_version: u64) -> Result<Case> {
        actor.require(Permission::CaseDelete)?;
        actor.require(Permission::AdminAgents)?;
        let mut case = match self.store.get_deleted_case(actor.tenant, id).await? {
            Some(c) => c,
            None if self.store.get_case(actor.tenant, id).await?.is_some() => {
                return Err(Error::invalid("case", "is not deleted"));
            }
            None => return Err(Error::not_found("case", id)),
        };
        let expected_version = check_version("case", id, case.version(), expected_version)?;
        let before = case.field_map();
        let now = self.clock.now();
        case.undelete(now, self.case_restore_period())?;
        let history = diff(&before, &case.field_map(), actor.tenant, id, case.version(), actor.agent, now);
        let events = [self.event(actor, EventKind::CaseRestored { case: id })];
        self.store.update_case(&case, expected_version, &history, &events).await?;
        Ok(case)
    }

    /// Lists cases with filters, sort and cursor pagination (CAS-5); private cases the actor
    /// may not see are never listed.
    ///
    /// # Errors
    /// Forbidden without `case.read`; a bad cursor.
    pub async fn list_cases(
        &self,
        actor: &Actor,
        filter: &CaseFilter,
        sort: CaseSort,
        page: &PageRequest,
    ) -> Result<Page<Case>> {
        actor.require(Permission::CaseRead)?;
        let mut filter = filter.clone();
        filter.validate()?;
        filter.at = Some(self.clock.now());
        Ok(self.store.list_cases(actor.tenant, &filter, &actor.private_scope(), sort, page).await?)
    }

    /// A case's children the actor may see, by number (issue 27), paginated like the list.
    ///
    /// # Errors
    /// As [`Crm::get_case`]; a bad cursor.
    pub async fn case_children(&self, actor: &Actor, id: CaseId, page: &PageRequest) -> Result<Page<Case>> {
        self.get_case(actor, id).await?;
        let filter = CaseFilter { parent: Some(id), ..CaseFilter::default() };
        let sort = CaseSort { field: crate::case::CaseSortField::Number, direction: crate::case::SortDirection::Asc };
        self.list_cases(actor, &filter, sort, page).await
    }

    /// A case's history, oldest first (CAS-4).
    ///
    /// # Errors
    /// As [`Crm::get_case`].
    pub async fn case_history(&self, actor: &Actor, id: CaseId) -> Result<Vec<CaseHistoryEntry>> {
        self.get_case(actor, id).await?;
        Ok(self.store.case_history(actor.tenant, id).await?)
    }

    /// Adds a follow-up to a case (FUP-1).
    ///
    /// # Errors
    /// Forbidden without `case.edit`; `NotFound`; bad values.
    pub async fn add_follow_up(&self, actor: &Actor, case: CaseId, input: NewFollowUp) -> Result<FollowUp> {
        actor.require(Permission::CaseEdit)?;
        let read = self.load_case(actor, case).await?;
        let follow_up = input.build(next_id(&*self.ids), actor.tenant, case, Some(actor.agent), self.clock.now())?;
        let events = [self.event(actor, EventKind::FollowUpAdded { case, follow_up: follow_up.id })];
        // A reply re-marks the case in the same transaction (ADR 0032), over the row read.
        let mut read = Some(read);
        for _ in 0..super::sla_marks::REMARK_ATTEMPTS {
            let case_now = match read.take() {
                Some(c) => c,
                None => self.load_case(actor, case).await?,
            };
            let remark = self.remark_for_replies(&case_now, std::slice::from_ref(&follow_up)).await?;
            match self.store.insert_follow_up(&follow_up, remark.as_slice(), &events).await {
                Err(e) if remark.is_some() && super::sla_marks::is_stale(&e) => {}
                other => return other.map(|()| follow_up).map_err(Into::into),
            }
        }
        Err(Error::Conflict(crate::error::Conflict::State("the case is too busy, try again".into())))
    }

    /// A case's follow-ups in order.
    ///
    /// # Errors
    /// As [`Crm::get_case`].
    pub async fn follow_ups(&self, actor: &Actor, case: CaseId) -> Result<Vec<FollowUp>> {
        self.get_case(actor, case).await?;
        Ok(self.store.follow_ups_of(actor.tenant, case).await?)
    }
}
