//! Interaction use cases (INT-1…INT-7, CUS-8).

use super::{Crm, check_version};
use crate::access::{Actor, Permission};
use crate::customer::{AccountNumber, Customer, CustomerStatus, EmailAddress, Identity, PhoneNumber};
use crate::error::{Error, Result};
use crate::event::EventKind;
use crate::follow_up::{FollowUp, FollowUpKind};
use crate::ids::{CaseId, CustomerId, InteractionId, NoteId};
use crate::interaction::{
    Channel, Direction, Interaction, InteractionAction, InteractionFilter, LinkTarget, NewInteraction, action_pushes,
};
use crate::page::{Page, PageRequest};
use crate::ports::CardWrite;
use crate::time::next_id;

impl Crm {
    pub(super) async fn load_interaction(&self, actor: &Actor, id: InteractionId) -> Result<Interaction> {
        self.store.get_interaction(actor.tenant, id).await?.ok_or_else(|| Error::not_found("interaction", id))
    }

    /// The one way an interaction changes: load it (confined to the actor's tenant), check
    /// the caller's version, apply `change`, and write the result with the events `change`
    /// returns, in one store call. `Ok(None)` from `change` means nothing changed: no write.
    async fn change_interaction(
        &self,
        actor: &Actor,
        id: InteractionId,
        expected_version: u64,
        change: impl FnOnce(&mut Interaction) -> Result<Option<Vec<EventKind>>>,
    ) -> Result<Interaction> {
        actor.require(Permission::InteractionHandle)?;
        let mut inter = self.load_interaction(actor, id).await?;
        let expected_version = check_version("interaction", id, inter.version(), expected_version)?;
        let Some(kinds) = change(&mut inter)? else {
            return Ok(inter);
        };
        debug_assert_eq!(inter.version(), expected_version + 1, "one change, one version");
        let events: Vec<_> = kinds.into_iter().map(|kind| self.event(actor, kind)).collect();
        self.store.update_interaction(&inter, expected_version, &events).await?;
        Ok(inter)
    }

    /// The identity an address on a channel stands for, when it parses.
    pub(super) fn identity_of(
        &self,
        channel: Channel,
        address: &str,
        region: crate::customer::Region,
    ) -> Option<Identity> {
        match channel {
            Channel::Voice | Channel::Sms | Channel::Fax => {
                PhoneNumber::parse(address, Some(region)).ok().map(|number| Identity::Phone { number, label: None })
            }
            Channel::Email => EmailAddress::parse(address).ok().map(|address| Identity::Email { address, label: None }),
            other => Some(Identity::Handle { channel: other, handle: address.trim().to_owned(), label: None })
                .filter(|_| !address.trim().is_empty()),
        }
    }

    /// Records a new interaction (INT-1), offered to its agent or queue. The customer card
    /// is found from the contact's address when not given; an inbound digital contact from
    /// an unknown address (a call's number included) gets a new card (CUS-6, EXT-2); the
    /// card's last contact time and identities are updated (CUS-8). The card's creation or
    /// update and the interaction are written in one transaction.
    ///
    /// # Errors
    /// Forbidden without `interaction.handle`; bad values; a missing customer.
    pub async fn create_interaction(&self, actor: &Actor, input: NewInteraction) -> Result<Interaction> {
        actor.require(Permission::InteractionHandle)?;
        let tenant = self.tenant(actor.tenant).await?;
        let now = self.clock.now();
        // Validate before any read, so bad input costs no store round trip.
        input.clone().build(next_id(&*self.ids), actor.tenant, false, now)?;
        let required = match input.queue.as_deref() {
            Some(q) => self.store.get_queue(actor.tenant, q.trim()).await?.is_some_and(|q| q.disposition_required),
            None => false,
        };
        let identity = input.address.as_deref().and_then(|a| self.identity_of(input.channel, a, tenant.default_region));
        let inbound = input.direction == Direction::Inbound;
        let mut input = input;
        let mut card: Option<Customer> = match input.customer {
            Some(id) => Some(self.load_customer(actor, id).await?),
            None => match &identity {
                Some(identity) => {
                    self.store.find_by_identity(actor.tenant, &identity.key(), 1).await?.into_iter().next()
                }
                None => None,
            },
        };
        if let Some(c) = &card
            && let CustomerStatus::Merged { into, .. } = *c.status()
        {
            card = Some(self.load_customer(actor, into).await?);
        }
        let mut card_write = None;
        let mut events = Vec::new();
        if card.is_none() && inbound {
            if let (Some(identity), true) = (identity.clone(), actor.can(Permission::CustomerEdit)) {
                let seq = self.store.next_account_sequence(actor.tenant).await?;
                let name = input.contact_name.clone().unwrap_or_else(|| input.address.clone().unwrap_or_default());
                let name = crate::text::required_text("contact_name", &name, 200)?;
                let account = AccountNumber::generated(seq);
                let new =
                    Customer::first_contact(next_id(&*self.ids), actor, account, name, identity, input.channel, now);
                events.push(self.event(actor, EventKind::CustomerCreated { customer: new.id }));
                card = Some(new.clone());
                card_write = Some(CardWrite::Created(new));
            }
        } else if let (Some(c), true) = (card.as_mut(), inbound) {
            let expected_version = c.version();
            if c.record_contact(identity, now) {
                events.push(self.event(
                    actor,
                    EventKind::CustomerUpdated { customer: c.id, fields: vec!["last_contact_at".into()] },
                ));
                card_write = Some(CardWrite::Updated { customer: c.clone(), expected_version });
            }
        }
        input.customer = card.map(|c| c.id);
        let interaction = input.build(next_id(&*self.ids), actor.tenant, required, now)?;
        events.push(self.event(
            actor,
            EventKind::InteractionCreated {
                interaction: interaction.id,
                agent: interaction.agent(),
                customer: interaction.customer(),
            },
        ));
        // The card and the interaction together: a failure leaves neither (CUS-6).
        match &card_write {
            Some(write) => self.store.insert_interaction_with_card(&interaction, write, &events).await?,
            None => self.store.insert_interaction(&interaction, &events).await?,
        }
        Ok(interaction)
    }

    /// An interaction.
    ///
    /// # Errors
    /// Forbidden without `interaction.handle`; `NotFound`.
    pub async fn get_interaction(&self, actor: &Actor, id: InteractionId) -> Result<Interaction> {
        actor.require(Permission::InteractionHandle)?;
        self.load_interaction(actor, id).await
    }

    /// Applies a lifecycle action (INT-2); pushes to linked external records are queued in
    /// the outbox in the same transaction (INT-6). Accepting an unassigned interaction
    /// assigns it to the actor.
    ///
    /// # Errors
    /// Forbidden; `NotFound`; an illegal transition (also a missing required disposition);
    /// a stale version.
    pub async fn act_on_interaction(
        &self,
        actor: &Actor,
        id: InteractionId,
        expected_version: u64,
        action: InteractionAction,
    ) -> Result<Interaction> {
        if let InteractionAction::Transfer { to: Some(to) } = action {
            self.ensure_agent(actor, to, "to").await?;
        }
        actor.require(Permission::InteractionHandle)?;
        let now = self.clock.now();
        let mut inter = self.load_interaction(actor, id).await?;
        let expected_version = check_version("interaction", id, inter.version(), expected_version)?;
        let pushes = inter.apply(action, actor.agent, now)?;
        // INT-6 for local cases: the summary goes to the linked cases that still exist, in
        // the state change's transaction (exactly once: the version guards the change).
        let mut cases = Vec::new();
        if action_pushes(inter.channel, action) {
            for case in inter.linked_cases() {
                if self.store.get_case(actor.tenant, case).await?.is_some() {
                    cases.push(case);
                }
            }
        }
        let follow_ups = inter.summary_follow_ups(action, &cases, || next_id(&*self.ids), now);
        let state = EventKind::InteractionStateChanged { interaction: id, state: inter.state(), agent: inter.agent() };
        let kinds = std::iter::once(state)
            .chain(pushes.into_iter().map(|push| EventKind::ActivityPushRequested { push }))
            .chain(follow_ups.iter().map(|f| EventKind::FollowUpAdded { case: f.case, follow_up: f.id }));
        let events: Vec<_> = kinds.map(|kind| self.event(actor, kind)).collect();
        if follow_ups.is_empty() {
            self.store.update_interaction(&inter, expected_version, &events).await?;
            return Ok(inter);
        }
        // A call summary is a reply: its cases are re-marked in the same transaction (ADR
        // 0032), made again when one of them moved meanwhile (not when the interaction did).
        for attempt in 1..=super::sla_marks::REMARK_ATTEMPTS {
            let mut remarks = Vec::new();
            for case in &cases {
                if let Some(read) = self.store.get_case(actor.tenant, *case).await? {
                    remarks.extend(self.remark_for_replies(&read, &follow_ups).await?);
                }
            }
            let written =
                self.store.update_interaction_with_follow_ups(&inter, expected_version, &follow_ups, &remarks, &events);
            match written.await {
                Err(e) if !remarks.is_empty() && super::sla_marks::is_stale(&e) => {
                    let stored = self.store.get_interaction(actor.tenant, id).await?;
                    if attempt == super::sla_marks::REMARK_ATTEMPTS
                        || stored.is_none_or(|i| i.version() != expected_version)
                    {
                        return Err(e.into());
                    }
                }
                other => return other.map(|()| inter).map_err(Into::into),
            }
        }
        Ok(inter)
    }

    /// The interactions linked to a case (INT-6), newest first, cursor-paged.
    ///
    /// # Errors
    /// Forbidden without `case.read`; `NotFound` for a case the actor cannot see; a bad
    /// cursor.
    pub async fn case_interactions(
        &self,
        actor: &Actor,
        case: CaseId,
        page: &PageRequest,
    ) -> Result<Page<Interaction>> {
        self.get_case(actor, case).await?;
        Ok(self.store.interactions_of_case(actor.tenant, case, page).await?)
    }

    /// Sets the disposition (INT-3) from the tenant's catalogue.
    ///
    /// # Errors
    /// Forbidden; `NotFound`; an unknown or retired code; an offered or declined
    /// interaction; a stale version.
    pub async fn set_disposition(
        &self,
        actor: &Actor,
        id: InteractionId,
        expected_version: u64,
        code: &str,
    ) -> Result<Interaction> {
        actor.require(Permission::InteractionHandle)?;
        let catalogue = self.store.dispositions(actor.tenant).await?;
        if !catalogue.iter().any(|d| d.code == code && d.active) {
            return Err(Error::invalid("disposition", format!("{code:?} is not an active disposition code")));
        }
        self.change_interaction(actor, id, expected_version, |inter| {
            inter.set_disposition(code.to_owned())?;
            Ok(Some(Vec::new()))
        })
        .await
    }

    /// Adds a note (INT-4).
    ///
    /// # Errors
    /// Forbidden; `NotFound`; an empty or oversized note; a stale version.
    pub async fn add_interaction_note(
        &self,
        actor: &Actor,
        id: InteractionId,
        expected_version: u64,
        text: &str,
    ) -> Result<Interaction> {
        let (note, now) = (next_id(&*self.ids), self.clock.now());
        self.change_interaction(actor, id, expected_version, |inter| {
            inter.add_note(note, actor.agent, text, now)?;
            Ok(Some(Vec::new()))
        })
        .await
    }

    /// Copies an interaction note into a case as a follow-up (INT-4).
    ///
    /// # Errors
    /// Forbidden; a missing interaction, note or case.
    pub async fn copy_note_to_case(
        &self,
        actor: &Actor,
        id: InteractionId,
        note: NoteId,
        case: CaseId,
    ) -> Result<FollowUp> {
        actor.require(Permission::InteractionHandle)?;
        actor.require(Permission::CaseEdit)?;
        let inter = self.load_interaction(actor, id).await?;
        let note = inter.notes().iter().find(|n| n.id == note).ok_or_else(|| Error::not_found("note", note))?;
        self.get_case(actor, case).await?;
        let follow_up = FollowUp {
            id: next_id(&*self.ids),
            tenant: actor.tenant,
            case,
            kind: FollowUpKind::InteractionNote,
            author: Some(actor.agent),
            at: self.clock.now(),
            body: note.text.clone(),
            visibility: crate::case::Visibility::Internal,
            interaction: Some(id),
        };
        let events = [self.event(actor, EventKind::FollowUpAdded { case, follow_up: follow_up.id })];
        self.store.insert_follow_up(&follow_up, &[], &events).await?; // a note: no reply
        Ok(follow_up)
    }

    /// Links a local or external record (INT-6). Local targets must exist and be visible.
    ///
    /// # Errors
    /// Forbidden; `NotFound`; a missing target; a declined interaction; a stale version.
    pub async fn link_interaction(
        &self,
        actor: &Actor,
        id: InteractionId,
        expected_version: u64,
        target: LinkTarget,
    ) -> Result<Interaction> {
        actor.require(Permission::InteractionHandle)?;
        match &target {
            LinkTarget::Lead { id: lead } => {
                // The lead records the interaction too: both in one write (INT-7).
                return self.link_lead(actor, *lead, id, expected_version).await;
            }
            LinkTarget::Customer { id } => {
                self.load_customer(actor, *id).await.map_err(|_| Error::invalid("target", "is not a customer"))?;
            }
            LinkTarget::Case { id } => {
                self.get_case(actor, *id).await.map_err(|_| Error::invalid("target", "is not a case you can see"))?;
            }
            LinkTarget::External { reference } => {
                if reference.id.trim().is_empty() || reference.id.len() > 255 {
                    return Err(Error::invalid("target.reference.id", "must be 1 to 255 characters"));
                }
            }
        }
        let now = self.clock.now();
        self.change_interaction(actor, id, expected_version, |inter| {
            Ok(inter
                .link(target.clone(), actor.agent, now)?
                .then(|| vec![EventKind::InteractionLinked { interaction: id, target }]))
        })
        .await
    }

    /// Unlinks a record; nothing more is pushed to it (INT-6).
    ///
    /// # Errors
    /// Forbidden; `NotFound` (also when the record was not linked); a stale version.
    pub async fn unlink_interaction(
        &self,
        actor: &Actor,
        id: InteractionId,
        expected_version: u64,
        target: LinkTarget,
    ) -> Result<Interaction> {
        self.change_interaction(actor, id, expected_version, |inter| {
            if !inter.unlink(&target) {
                return Err(Error::not_found("link", format!("{target:?}")));
            }
            Ok(Some(vec![EventKind::InteractionUnlinked { interaction: id, target }]))
        })
        .await
    }

    /// A customer's interactions across channels, newest first (INT-5), only those passing
    /// `filter` (a channel, a text in notes, contact, context, transcript or messages).
    ///
    /// # Errors
    /// Forbidden without `customer.read`; a bad cursor; `NotFound` for a customer the
    /// tenant does not have, as [`Crm::get_customer`] answers (not an empty page).
    pub async fn interaction_history(
        &self,
        actor: &Actor,
        customer: CustomerId,
        filter: &InteractionFilter,
        page: &PageRequest,
    ) -> Result<Page<Interaction>> {
        actor.require(Permission::CustomerRead)?;
        let (_, history) = futures::try_join!(self.load_customer(actor, customer), async {
            Ok(if *filter == InteractionFilter::default() {
                self.store.interactions_of_customer(actor.tenant, customer, page).await?
            } else {
                self.store.search_interactions_of_customer(actor.tenant, customer, filter, page).await?
            })
        })?;
        Ok(history)
    }
}
