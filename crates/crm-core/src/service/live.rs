//! Live event use cases (EXT-2, TSK-2): the screen pop of an incoming call, delivering the
//! outbox's notifications to the agents they concern, and reading the feed.

use std::collections::BTreeSet;
use std::time::Duration;

use super::Crm;
use super::workers::RoundReport;
use crate::access::{Actor, Permission};
use crate::customer::LookupKey;
use crate::error::{Error, Result, StoreError};
use crate::event::Topic;
use crate::ids::{AgentId, EventId};
use crate::interaction::{Channel, Direction, NewInteraction};
use crate::live::{Addressees, IncomingCall, LiveEvent, NewLiveEvent, SCREEN_POP, ScreenPop, live_event_of};
use crate::time::span;

impl Crm {
    /// An incoming call (EXT-2): records an inbound voice interaction offered to the agent
    /// (the actor unless the call names another, which takes `case.assign`), looks the
    /// caller up, and appends the cards to the agent's live feed as `screen_pop`. A number
    /// that matches nobody gets a new card with the interaction, in one transaction (CUS-6;
    /// when the actor may create customers), and the pop shows it as new.
    ///
    /// # Errors
    /// Forbidden without `interaction.handle` and `customer.read` (and `case.assign` for
    /// another agent); `Validation` on `agent` for an agent not of the tenant and on `phone`
    /// for a value that cannot be a phone number.
    pub async fn incoming_call(&self, actor: &Actor, call: IncomingCall) -> Result<ScreenPop> {
        let agent = call.agent.unwrap_or(actor.agent);
        if agent != actor.agent {
            actor.require(Permission::CaseAssign)?;
            self.ensure_agent(actor, agent, "agent").await?;
        }
        let cards = self.lookup_cards(actor, &LookupKey::Phone(call.phone.clone())).await?;
        let input = NewInteraction {
            channel: Channel::Voice,
            direction: Direction::Inbound,
            customer: cards.first().map(|c| c.customer.id),
            address: Some(call.phone),
            contact_name: cards.first().map(|c| c.customer.name().to_owned()),
            internal_agent: None,
            agent: Some(agent),
            queue: call.queue,
            context: call.context,
            transcript: Vec::new(),
        };
        let known = !cards.is_empty();
        let interaction = self.create_interaction(actor, input).await?;
        // An unknown caller got a card with the interaction (CUS-6): pop it, marked new.
        let new_card = !known && interaction.customer().is_some();
        let cards = match interaction.customer() {
            Some(id) if new_card => vec![self.customer_card(actor, id).await?],
            _ => cards,
        };
        let mut cards = cards;
        self.attach_alerts(actor, &mut cards, Some((Channel::Voice, Direction::Inbound))).await?;
        let pop = ScreenPop { interaction, cards, new_card };
        let payload = to_json(&pop)?;
        let live = NewLiveEvent { tenant: actor.tenant, agent, name: SCREEN_POP.to_owned(), payload };
        self.store.append_live(&[live], self.clock.now()).await?;
        Ok(pop)
    }

    /// The feed's highest position now (a reader starting now skips what is older).
    ///
    /// # Errors
    /// Store failures.
    pub async fn live_head(&self) -> Result<u64> {
        Ok(self.store.live_head().await?)
    }

    /// Up to `limit` live events of every tenant after `after`, for a replica's fan-out to
    /// its streams (a trusted caller: it sends each event only to its agent's streams).
    ///
    /// # Errors
    /// Store failures.
    pub async fn live_after(&self, after: u64, limit: u32) -> Result<Vec<LiveEvent>> {
        Ok(self.store.live_after(after, limit).await?)
    }

    /// The actor's own live events after `after` (a stream resuming), oldest first.
    ///
    /// # Errors
    /// Store failures.
    pub async fn my_live_events(&self, actor: &Actor, after: u64, limit: u32) -> Result<Vec<LiveEvent>> {
        Ok(self.store.live_for_agent_after(actor.tenant, actor.agent, after, limit).await?)
    }

    /// One round of notification delivery: claims up to `limit` due notifications (leased
    /// for `lease`), appends one live event per agent each concerns ([`Addressees`]), and
    /// marks them delivered. The whole round costs two writes whatever its size. When the
    /// feed refuses the append, every claimed entry is retried after `retry_in`.
    ///
    /// # Errors
    /// Store failures other than the feed's (the claimed entries then come back when their
    /// lease ends).
    pub async fn deliver_notifications(&self, lease: Duration, limit: u32, retry_in: Duration) -> Result<RoundReport> {
        let now = self.clock.now();
        let entries = self.store.claim_outbox(Topic::Notification, now, now + span(lease), limit).await?;
        let mut live = Vec::new();
        for entry in &entries {
            let event = &entry.event;
            let agents = self.addressees(event).await?;
            if agents.is_empty() {
                continue;
            }
            let payload = to_json(event)?;
            live.extend(agents.into_iter().map(|agent| live_event_of(event, agent, &payload)));
        }
        // The changes that move a customer's alert facts re-evaluate the alerts of the
        // interactions open with that customer (GUI-2).
        let events: Vec<&crate::event::DomainEvent> = entries.iter().map(|e| &e.event).collect();
        live.extend(self.live_alerts(&events).await?);
        let ids: Vec<EventId> = entries.iter().map(|e| e.event.id).collect();
        let mut report =
            RoundReport { claimed: count(ids.len()), more: ids.len() >= limit as usize, ..RoundReport::default() };
        match self.store.append_live(&live, now).await {
            Ok(()) => {
                report.done = u32::try_from(self.store.mark_delivered_many(&ids).await?).unwrap_or(u32::MAX);
            }
            Err(e) => {
                let retry = now + span(retry_in);
                for id in &ids {
                    self.store.mark_failed(*id, &e.to_string(), Some(retry)).await?;
                }
                report.retried = count(ids.len());
                report.more = false;
                report.failure = Some(e.to_string());
            }
        }
        Ok(report)
    }

    /// A case's current assignee, if any (none for a case gone since).
    async fn case_assignee(&self, tenant: crate::ids::TenantId, case: crate::ids::CaseId) -> Result<Vec<AgentId>> {
        Ok(self.store.get_case(tenant, case).await?.and_then(|c| c.assignee()).into_iter().collect())
    }

    /// The agents an event concerns now ([`Addressees::of`], with the case's current
    /// assignee read from the store).
    async fn addressees(&self, event: &crate::event::DomainEvent) -> Result<Vec<AgentId>> {
        let agents = match Addressees::of(&event.kind) {
            Addressees::Agents(agents) => agents,
            Addressees::CaseAssignee(case) => self.case_assignee(event.tenant, case).await?,
            Addressees::CaseGroup(case, group) => {
                let mut agents = self.case_assignee(event.tenant, case).await?;
                let members = self.store.list_agents(event.tenant).await?;
                agents.extend(members.into_iter().filter(|a| a.groups.contains(&group)).map(|a| a.id));
                agents
            }
        };
        Ok(agents.into_iter().collect::<BTreeSet<_>>().into_iter().collect())
    }
}

/// A payload as JSON (the domain's types always serialise; a failure is reported as the
/// store's, where the payload was going).
pub(super) fn to_json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::Store(StoreError::Backend(Box::new(e))))
}

/// A count for a report.
fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
