//! Outbound use cases (OUT-1, OUT-2): campaigns and call lists (`outbound.manage`), entry
//! imports with a per-row report, the next contact and outcomes (`interaction.handle`),
//! progress, and the do-not-call list.

use std::collections::BTreeSet;

use serde::Serialize;

use super::{Crm, check_version};
use crate::access::{Actor, Permission};
use crate::customer::PhoneNumber;
use crate::error::{Error, FieldError, Result};
use crate::event::EventKind;
use crate::ids::{CallListEntryId, CallListId, CampaignId};
use crate::outbound::{
    CallList, CallListEntry, CallListPatch, Campaign, CampaignPatch, DoNotCall, EntryClaim, EntryState, NewCallList,
    NewCampaign, NewEntry, OutcomeInput, Progress, RecordedOutcome,
};
use crate::time::next_id;

/// Most rows one import takes.
pub const MAX_IMPORT_ROWS: usize = 100_000;

/// Most entries or numbers one page lists.
pub const MAX_OUTBOUND_PAGE: usize = 500;

/// One row of an import: its number in the file (from 1, the header not counted) and the
/// entry, or why the row could not even be read.
#[derive(Clone, Debug)]
pub struct ImportRow {
    /// Row number.
    pub row: usize,
    /// The entry, or the error reading it.
    pub entry: std::result::Result<NewEntry, FieldError>,
}

/// A refused row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RowError {
    /// Row number (from 1, the header not counted).
    pub row: usize,
    /// The field.
    pub field: String,
    /// Why.
    pub reason: String,
}

/// What an import did: the accepted rows were written together (all of them or, on a store
/// failure, none, and then the call fails); every refused row is listed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportReport {
    /// Rows read.
    pub rows: usize,
    /// Entries written.
    pub imported: usize,
    /// Rows refused, each with its reasons.
    pub rejected: Vec<RowError>,
}

impl Crm {
    /// Creates a campaign.
    ///
    /// # Errors
    /// Forbidden without `outbound.manage`; bad values.
    pub async fn create_campaign(&self, actor: &Actor, input: NewCampaign) -> Result<Campaign> {
        actor.require(Permission::OutboundManage)?;
        let campaign = input.build(next_id(&*self.ids), actor.tenant, self.clock.now())?;
        self.store.insert_campaign(&campaign).await?;
        Ok(campaign)
    }

    /// A campaign.
    ///
    /// # Errors
    /// Forbidden without `customer.read`; `NotFound`.
    pub async fn get_campaign(&self, actor: &Actor, id: CampaignId) -> Result<Campaign> {
        actor.require(Permission::CustomerRead)?;
        self.store.get_campaign(actor.tenant, id).await?.ok_or_else(|| Error::not_found("campaign", id))
    }

    /// The tenant's campaigns.
    ///
    /// # Errors
    /// Forbidden without `customer.read`.
    pub async fn campaigns(&self, actor: &Actor) -> Result<Vec<Campaign>> {
        actor.require(Permission::CustomerRead)?;
        Ok(self.store.campaigns(actor.tenant).await?)
    }

    /// Changes a campaign.
    ///
    /// # Errors
    /// Forbidden; `NotFound`; bad values; a stale version.
    pub async fn update_campaign(
        &self,
        actor: &Actor,
        id: CampaignId,
        expected_version: u64,
        patch: CampaignPatch,
    ) -> Result<Campaign> {
        actor.require(Permission::OutboundManage)?;
        let mut campaign = self.get_campaign(actor, id).await?;
        let expected = check_version("campaign", id, campaign.version(), expected_version)?;
        patch.apply(&mut campaign)?;
        if campaign.version() != expected {
            self.store.update_campaign(&campaign, expected).await?;
        }
        Ok(campaign)
    }

    async fn check_list_assignment(&self, actor: &Actor, list: &CallList) -> Result<()> {
        for a in &list.assignment.agents {
            self.ensure_agent(actor, *a, "assignment.agents").await?;
        }
        for g in &list.assignment.groups {
            if self.store.get_group(actor.tenant, *g).await?.is_none() {
                return Err(Error::invalid("assignment.groups", format!("{g} is not a group of this tenant")));
            }
        }
        Ok(())
    }

    /// Creates a call list of a campaign.
    ///
    /// # Errors
    /// Forbidden; `NotFound` for the campaign; bad values; unknown agents or groups.
    pub async fn create_call_list(&self, actor: &Actor, campaign: CampaignId, input: NewCallList) -> Result<CallList> {
        actor.require(Permission::OutboundManage)?;
        self.get_campaign(actor, campaign).await?;
        let list = input.build(next_id(&*self.ids), actor.tenant, campaign, self.clock.now())?;
        self.check_list_assignment(actor, &list).await?;
        self.check_list_script(actor, &list).await?;
        self.store.insert_call_list(&list).await?;
        Ok(list)
    }

    /// The script a list carries exists in the tenant and has a published version (agents
    /// run published versions only): 422 naming `script` otherwise.
    async fn check_list_script(&self, actor: &Actor, list: &CallList) -> Result<()> {
        let Some(id) = list.script else { return Ok(()) };
        match self.store.get_script(actor.tenant, id).await? {
            None => Err(FieldError::new("script", format!("script {id} does not exist")).into()),
            Some(s) if s.published == 0 => {
                Err(FieldError::new("script", format!("script {id} has no published version")).into())
            }
            Some(_) => Ok(()),
        }
    }

    /// A call list.
    ///
    /// # Errors
    /// Forbidden without `customer.read`; `NotFound`.
    pub async fn get_call_list(&self, actor: &Actor, id: CallListId) -> Result<CallList> {
        actor.require(Permission::CustomerRead)?;
        self.store.get_call_list(actor.tenant, id).await?.ok_or_else(|| Error::not_found("call_list", id))
    }

    /// The lists of a campaign.
    ///
    /// # Errors
    /// Forbidden; `NotFound` for the campaign.
    pub async fn call_lists(&self, actor: &Actor, campaign: CampaignId) -> Result<Vec<CallList>> {
        self.get_campaign(actor, campaign).await?;
        Ok(self.store.call_lists(actor.tenant, campaign).await?)
    }

    /// Changes a list (activate, assign, window …).
    ///
    /// # Errors
    /// Forbidden; `NotFound`; bad values; a stale version.
    pub async fn update_call_list(
        &self,
        actor: &Actor,
        id: CallListId,
        expected_version: u64,
        patch: CallListPatch,
    ) -> Result<CallList> {
        actor.require(Permission::OutboundManage)?;
        let mut list = self.get_call_list(actor, id).await?;
        let expected = check_version("call_list", id, list.version(), expected_version)?;
        patch.apply(&mut list)?;
        if list.version() != expected {
            self.check_list_assignment(actor, &list).await?;
            self.check_list_script(actor, &list).await?;
            self.store.update_call_list(&list, expected).await?;
        }
        Ok(list)
    }

    /// Imports entries into a list: every row is checked (the customer exists in the tenant
    /// and is not merged away, the number is one of theirs, the values are in range); the
    /// accepted rows are written in one transaction and every refused one is reported.
    ///
    /// # Errors
    /// Forbidden; `NotFound` for the list; more than [`MAX_IMPORT_ROWS`] rows; store
    /// failures (then nothing was written).
    pub async fn import_entries(&self, actor: &Actor, list: CallListId, rows: Vec<ImportRow>) -> Result<ImportReport> {
        actor.require(Permission::OutboundManage)?;
        let list = self.get_call_list(actor, list).await?;
        if rows.len() > MAX_IMPORT_ROWS {
            return Err(Error::invalid(
                "rows",
                format!("at most {MAX_IMPORT_ROWS} rows per import, got {}", rows.len()),
            ));
        }
        let tenant = self.tenant(actor.tenant).await?;
        let now = self.clock.now();
        let mut report = ImportReport { rows: rows.len(), imported: 0, rejected: Vec::new() };
        let mut entries = Vec::new();
        let mut phones = BTreeSet::new();
        for ImportRow { row, entry } in rows {
            let refuse = |report: &mut ImportReport, e: FieldError| {
                report.rejected.push(RowError { row, field: e.field, reason: e.reason });
            };
            let input = match entry {
                Ok(i) => i,
                Err(e) => {
                    refuse(&mut report, e);
                    continue;
                }
            };
            let customer = match self.store.get_customer(actor.tenant, input.customer).await? {
                Some(c) if !c.is_merged() => c,
                Some(_) => {
                    refuse(&mut report, FieldError::new("customer", "was merged into another card; use that one"));
                    continue;
                }
                None => {
                    refuse(
                        &mut report,
                        FieldError::new("customer", format!("{} is not a customer of this tenant", input.customer)),
                    );
                    continue;
                }
            };
            match input.build(next_id(&*self.ids), &list, &customer, Some(tenant.default_region), tenant.time_zone, now)
            {
                Ok(e) if !phones.insert(e.phone.clone()) => {
                    refuse(
                        &mut report,
                        FieldError::new("phone", format!("{} is already in this import", e.phone.as_e164())),
                    );
                }
                Ok(e) => entries.push(e),
                Err(errors) => {
                    for e in errors.errors() {
                        refuse(&mut report, e.clone());
                    }
                }
            }
        }
        if !entries.is_empty() {
            self.store.insert_entries(actor.tenant, list.id, &entries).await?;
        }
        report.imported = entries.len();
        Ok(report)
    }

    /// An entry.
    ///
    /// # Errors
    /// Forbidden without `customer.read`; `NotFound`.
    pub async fn get_entry(&self, actor: &Actor, id: CallListEntryId) -> Result<CallListEntry> {
        actor.require(Permission::CustomerRead)?;
        self.store.get_entry(actor.tenant, id).await?.ok_or_else(|| Error::not_found("call_list_entry", id))
    }

    /// An entry of `list` (`NotFound` when it is another list's).
    ///
    /// # Errors
    /// Forbidden without `customer.read`; `NotFound`.
    pub async fn entry_of_list(&self, actor: &Actor, list: CallListId, id: CallListEntryId) -> Result<CallListEntry> {
        let entry = self.get_entry(actor, id).await?;
        if entry.list == list { Ok(entry) } else { Err(Error::not_found("call_list_entry", id)) }
    }

    /// A page of a list's entries in id order.
    ///
    /// # Errors
    /// Forbidden; `NotFound` for the list; a limit above [`MAX_OUTBOUND_PAGE`].
    pub async fn entries(
        &self,
        actor: &Actor,
        list: CallListId,
        after: Option<CallListEntryId>,
        limit: usize,
    ) -> Result<Vec<CallListEntry>> {
        if !(1..=MAX_OUTBOUND_PAGE).contains(&limit) {
            return Err(Error::invalid("limit", format!("must be 1 to {MAX_OUTBOUND_PAGE}")));
        }
        let list = self.get_call_list(actor, list).await?;
        Ok(self.store.entries(actor.tenant, list.id, after, limit).await?)
    }

    /// The next contact for the actor (preview dialling): the list must be active, its
    /// campaign running and the actor assigned; the entry is leased to the actor.
    /// `None` when nothing is eligible now.
    ///
    /// # Errors
    /// Forbidden without `interaction.handle` or when not assigned; `NotFound`; a conflict
    /// when the list is inactive or the campaign outside its window.
    pub async fn next_contact(&self, actor: &Actor, list: CallListId) -> Result<Option<CallListEntry>> {
        actor.require(Permission::InteractionHandle)?;
        let list = self.get_call_list(actor, list).await?;
        if !list.assignment.includes(actor) {
            return Err(Error::Forbidden { permission: None, reason: "you are not assigned to this call list".into() });
        }
        let now = self.clock.now();
        if !list.active {
            return Err(crate::error::Conflict::State("the call list is not active".into()).into());
        }
        let campaign = self.get_campaign(actor, list.campaign).await?;
        if !campaign.is_running(now) {
            return Err(crate::error::Conflict::State("the campaign is outside its active window".into()).into());
        }
        let claim = EntryClaim::new(&list, actor.agent, now);
        if claim.open_zones.is_empty() {
            return Ok(None);
        }
        Ok(self.store.claim_next_entry(&claim).await?)
    }

    /// Records the outcome of the actor's call of an entry it holds.
    ///
    /// # Errors
    /// Forbidden; `NotFound`; an unknown disposition, a bad callback time or answer naming
    /// the field; a conflict when the actor does not hold the entry or it changed meanwhile.
    pub async fn record_outcome(
        &self,
        actor: &Actor,
        list: CallListId,
        id: CallListEntryId,
        input: OutcomeInput,
    ) -> Result<RecordedOutcome> {
        actor.require(Permission::InteractionHandle)?;
        let mut entry = self.entry_of_list(actor, list, id).await?;
        let list = self.get_call_list(actor, entry.list).await?;
        let campaign = self.get_campaign(actor, list.campaign).await?;
        let expected = entry.version();
        let now = self.clock.now();
        let recorded = entry.record_outcome(&list, &campaign, actor.agent, input, now)?;
        if recorded.do_not_call {
            // Written before the entry: a customer's "never call me again" is kept even when
            // the entry's write then loses a race (adding a number twice is a no-op).
            let reason = format!("disposition {} on list {}", recorded.disposition, list.name);
            let dnc = DoNotCall { phone: entry.phone.clone(), reason: Some(reason), added_at: now };
            self.store.add_do_not_call(actor.tenant, &dnc).await?;
        }
        let events = [self.event(
            actor,
            EventKind::OutboundOutcomeRecorded {
                entry: entry.id,
                list: entry.list,
                customer: entry.customer,
                agent: actor.agent,
                disposition: recorded.disposition.clone(),
                closed: entry.state() == EntryState::Closed,
            },
        )];
        self.store.update_entry(&entry, expected, &events).await?;
        Ok(recorded)
    }

    /// Progress of a list.
    ///
    /// # Errors
    /// Forbidden; `NotFound`.
    pub async fn list_progress(&self, actor: &Actor, id: CallListId) -> Result<Progress> {
        let list = self.get_call_list(actor, id).await?;
        Ok(self.store.list_progress(actor.tenant, list.id).await?)
    }

    /// Progress of a campaign: the sum over its lists.
    ///
    /// # Errors
    /// Forbidden; `NotFound`.
    pub async fn campaign_progress(&self, actor: &Actor, id: CampaignId) -> Result<Progress> {
        let mut total = Progress::default();
        for list in self.call_lists(actor, id).await? {
            total = total.plus(self.store.list_progress(actor.tenant, list.id).await?);
        }
        Ok(total)
    }

    /// Puts a number on the do-not-call list (read with the tenant's region).
    ///
    /// # Errors
    /// Forbidden without `outbound.manage`; a bad number or reason.
    pub async fn add_do_not_call(&self, actor: &Actor, phone: &str, reason: Option<String>) -> Result<DoNotCall> {
        actor.require(Permission::OutboundManage)?;
        let tenant = self.tenant(actor.tenant).await?;
        let phone = PhoneNumber::parse(phone, Some(tenant.default_region))?;
        let reason = crate::outbound::optional_reason(reason.as_deref())?;
        let entry = DoNotCall { phone, reason, added_at: self.clock.now() };
        self.store.add_do_not_call(actor.tenant, &entry).await?;
        Ok(entry)
    }

    /// Takes a number off the do-not-call list.
    ///
    /// # Errors
    /// Forbidden; a bad number; `NotFound` when it is not on the list.
    pub async fn remove_do_not_call(&self, actor: &Actor, phone: &str) -> Result<()> {
        actor.require(Permission::OutboundManage)?;
        let tenant = self.tenant(actor.tenant).await?;
        let number = PhoneNumber::parse(phone, Some(tenant.default_region))?;
        if self.store.remove_do_not_call(actor.tenant, &number).await? {
            Ok(())
        } else {
            Err(Error::not_found("do_not_call", number.as_e164()))
        }
    }

    /// A page of the do-not-call list in number order.
    ///
    /// # Errors
    /// Forbidden without `outbound.manage`; a bad limit.
    pub async fn do_not_call_list(&self, actor: &Actor, after: Option<String>, limit: usize) -> Result<Vec<DoNotCall>> {
        actor.require(Permission::OutboundManage)?;
        if !(1..=MAX_OUTBOUND_PAGE).contains(&limit) {
            return Err(Error::invalid("limit", format!("must be 1 to {MAX_OUTBOUND_PAGE}")));
        }
        Ok(self.store.do_not_call(actor.tenant, after, limit).await?)
    }
}
