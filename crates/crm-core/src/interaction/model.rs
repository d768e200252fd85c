//! The interaction aggregate (INT-1, INT-3…INT-6).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Channel, Direction, InteractionAction, InteractionState};
use crate::error::{FieldError, TransitionError, ValidationErrors, Validator};
use crate::external::{ActivityPush, ExternalRef, PendingExternalCreate};
use crate::ids::{AgentId, CaseId, CustomerId, InteractionId, LeadId, NoteId, TenantId};
use crate::text::{bounded_text, required_text};

mod external_creates;
mod record;

pub use record::InteractionRecord;

/// The most context entries an interaction carries.
pub const MAX_CONTEXT_ENTRIES: usize = 100;

/// Who the agent talks to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Counterpart {
    /// A customer contact: the address they used (phone, email, handle) and a name.
    Contact {
        /// The address as the channel gave it (`+33123456789`, `jane@example.com`).
        address: Option<String>,
        /// Their name, when known.
        name: Option<String>,
    },
    /// Another agent (an internal call or consultation).
    Agent {
        /// The agent.
        agent: AgentId,
    },
}

/// A note on an interaction (INT-4).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InteractionNote {
    /// Its id.
    pub id: NoteId,
    /// Author.
    pub author: AgentId,
    /// When.
    pub at: DateTime<Utc>,
    /// Text.
    pub text: String,
}

/// A message of a digital conversation's transcript.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TranscriptMessage {
    /// When.
    pub at: DateTime<Utc>,
    /// `customer`, `agent` or `bot`.
    pub from: String,
    /// Text.
    pub text: String,
}

/// A record an interaction is linked to (INT-6).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LinkTarget {
    /// A local customer.
    Customer {
        /// Id.
        id: CustomerId,
    },
    /// A local case.
    Case {
        /// Id.
        id: CaseId,
    },
    /// A lead (INT-7).
    Lead {
        /// Id.
        id: LeadId,
    },
    /// A record in an external CRM.
    External {
        /// Reference.
        reference: ExternalRef,
    },
}

/// A link of an interaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InteractionLink {
    /// The record.
    pub target: LinkTarget,
    /// Who linked it.
    pub linked_by: AgentId,
    /// When.
    pub linked_at: DateTime<Utc>,
}

/// An interaction.
///
/// The facts fixed when it is offered (id, tenant, channel, direction, offer time) are
/// public; everything else is private and changes only through its methods, which keep the
/// state machine's invariants and bump the version once per change. Stores rebuild it with
/// [`Interaction::restore`] (serde does too).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(from = "InteractionRecord")]
pub struct Interaction {
    /// Its id.
    pub id: InteractionId,
    /// Its tenant.
    pub tenant: TenantId,
    /// Channel.
    pub channel: Channel,
    /// Direction.
    pub direction: Direction,
    /// The customer card it belongs to.
    customer: Option<CustomerId>,
    /// Who the agent talks to.
    counterpart: Counterpart,
    /// The handling agent (none while queued).
    agent: Option<AgentId>,
    /// Queue.
    queue: Option<String>,
    /// State.
    state: InteractionState,
    /// Offered.
    pub offered_at: DateTime<Utc>,
    /// First accepted.
    accepted_at: Option<DateTime<Utc>>,
    /// Ended (hang-up, abandon, decline).
    ended_at: Option<DateTime<Utc>>,
    /// Wrap-up completed.
    wrap_up_done_at: Option<DateTime<Utc>>,
    /// Seconds spent connected (active, consulting, conferenced).
    talk_seconds: u32,
    /// Since when the current connected stretch runs.
    connected_since: Option<DateTime<Utc>>,
    /// Key/values from the IVR or chat bot.
    context: BTreeMap<String, String>,
    /// Transcript of a digital conversation.
    transcript: Vec<TranscriptMessage>,
    /// Notes.
    notes: Vec<InteractionNote>,
    /// Disposition code.
    disposition: Option<String>,
    /// Whether wrap-up needs a disposition (from the queue, INT-3).
    disposition_required: bool,
    /// Linked records.
    links: Vec<InteractionLink>,
    /// How many activity pushes it produced (keys them, INT-6).
    pushes: u32,
    /// Creates in external CRMs asked for and not yet linked (INT-7).
    external_creates: Vec<PendingExternalCreate>,
    /// Optimistic-concurrency version.
    version: u64,
}

impl Interaction {
    /// The customer card it belongs to.
    pub fn customer(&self) -> Option<CustomerId> {
        self.customer
    }

    /// Who the agent talks to.
    pub fn counterpart(&self) -> &Counterpart {
        &self.counterpart
    }

    /// The handling agent (none while queued).
    pub fn agent(&self) -> Option<AgentId> {
        self.agent
    }

    /// Queue.
    pub fn queue(&self) -> Option<&str> {
        self.queue.as_deref()
    }

    /// State.
    pub fn state(&self) -> InteractionState {
        self.state
    }

    /// First accepted.
    pub fn accepted_at(&self) -> Option<DateTime<Utc>> {
        self.accepted_at
    }

    /// Ended (hang-up, abandon, decline).
    pub fn ended_at(&self) -> Option<DateTime<Utc>> {
        self.ended_at
    }

    /// Wrap-up completed.
    pub fn wrap_up_done_at(&self) -> Option<DateTime<Utc>> {
        self.wrap_up_done_at
    }

    /// Seconds spent connected (active, consulting, conferenced).
    pub fn talk_seconds(&self) -> u32 {
        self.talk_seconds
    }

    /// Since when the current connected stretch runs.
    pub fn connected_since(&self) -> Option<DateTime<Utc>> {
        self.connected_since
    }

    /// Key/values from the IVR or chat bot.
    pub fn context(&self) -> &BTreeMap<String, String> {
        &self.context
    }

    /// Transcript of a digital conversation.
    pub fn transcript(&self) -> &[TranscriptMessage] {
        &self.transcript
    }

    /// Notes.
    pub fn notes(&self) -> &[InteractionNote] {
        &self.notes
    }

    /// Disposition code.
    pub fn disposition(&self) -> Option<&str> {
        self.disposition.as_deref()
    }

    /// Whether wrap-up needs a disposition (from the queue, INT-3).
    pub fn disposition_required(&self) -> bool {
        self.disposition_required
    }

    /// Linked records.
    pub fn links(&self) -> &[InteractionLink] {
        &self.links
    }

    /// How many activity pushes it produced (keys them, INT-6).
    pub fn pushes(&self) -> u32 {
        self.pushes
    }

    /// Creates in external CRMs asked for and not yet linked (INT-7): pending ones, and
    /// refused ones with the remote's reason.
    pub fn external_creates(&self) -> &[PendingExternalCreate] {
        &self.external_creates
    }

    /// Optimistic-concurrency version.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The one place the version moves: one change, one version.
    fn next_version(&mut self) {
        self.version += 1;
    }
}

/// An interaction as the customer card and history lists show it (INT-5).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InteractionSummary {
    /// Id.
    pub id: InteractionId,
    /// Channel.
    pub channel: Channel,
    /// Direction.
    pub direction: Direction,
    /// State.
    pub state: InteractionState,
    /// Agent.
    pub agent: Option<AgentId>,
    /// Offered.
    pub offered_at: DateTime<Utc>,
    /// Ended.
    pub ended_at: Option<DateTime<Utc>>,
    /// Disposition.
    pub disposition: Option<String>,
}

impl From<&Interaction> for InteractionSummary {
    fn from(i: &Interaction) -> Self {
        Self {
            id: i.id,
            channel: i.channel,
            direction: i.direction,
            state: i.state,
            agent: i.agent,
            offered_at: i.offered_at,
            ended_at: i.ended_at,
            disposition: i.disposition.clone(),
        }
    }
}

/// Whether `action` on a `channel` interaction triggers the INT-6 push: calls after
/// wrap-up, digital interactions after transfer or unassign.
pub fn action_pushes(channel: Channel, action: InteractionAction) -> bool {
    match action {
        InteractionAction::CompleteWrapUp => channel.is_call(),
        InteractionAction::Transfer { .. } | InteractionAction::Unassign => !channel.is_call(),
        _ => false,
    }
}

impl Interaction {
    fn refuse(&self, to: impl ToString, reason: Option<&str>) -> TransitionError {
        TransitionError {
            entity: "interaction",
            from: self.state.to_string(),
            to: to.to_string(),
            reason: reason.map(str::to_owned),
        }
    }

    /// Applies `action`, done by agent `by` at `now`, as one change (next version), returning
    /// the activity pushes it triggers (INT-6), one per linked external record. Accepting an
    /// unassigned interaction assigns it to `by`.
    ///
    /// # Errors
    /// [`TransitionError`] when the state machine forbids it, when a call is unassigned, or
    /// when wrap-up completes without a required disposition; the interaction is untouched
    /// then.
    pub fn apply(
        &mut self,
        action: InteractionAction,
        by: AgentId,
        now: DateTime<Utc>,
    ) -> Result<Vec<ActivityPush>, TransitionError> {
        let Some(to) = action.target(self.state) else {
            return Err(self.refuse(action, None));
        };
        if action == InteractionAction::Unassign && self.channel.is_call() {
            return Err(self.refuse(action, Some("only digital interactions can be unassigned")));
        }
        if action == InteractionAction::CompleteWrapUp && self.disposition_required && self.disposition.is_none() {
            return Err(self.refuse(action, Some("this queue requires a disposition before wrap-up completes")));
        }
        // Talk time: close the running connected stretch, open a new one.
        if let Some(since) = self.connected_since.take() {
            let secs = (now - since).num_seconds().clamp(0, i64::from(u32::MAX));
            self.talk_seconds = self.talk_seconds.saturating_add(u32::try_from(secs).unwrap_or(u32::MAX));
        }
        if to.is_connected() {
            self.connected_since = Some(now);
        }
        match action {
            InteractionAction::Accept if self.accepted_at.is_none() => self.accepted_at = Some(now),
            InteractionAction::Decline | InteractionAction::Abandon | InteractionAction::End => {
                self.ended_at = Some(now)
            }
            InteractionAction::CompleteWrapUp => self.wrap_up_done_at = Some(now),
            InteractionAction::Transfer { to } => self.agent = to,
            InteractionAction::Unassign => self.agent = None,
            _ => {}
        }
        if action == InteractionAction::Accept && self.agent.is_none() {
            self.agent = Some(by);
        }
        self.state = to;
        self.next_version();
        if !action_pushes(self.channel, action) {
            return Ok(Vec::new());
        }
        let externals: Vec<ExternalRef> = self
            .links
            .iter()
            .filter_map(|l| match &l.target {
                LinkTarget::External { reference } => Some(reference.clone()),
                _ => None,
            })
            .collect();
        if externals.is_empty() {
            return Ok(Vec::new());
        }
        self.pushes += 1;
        let key = if self.pushes == 1 { self.id.to_string() } else { format!("{}-{}", self.id, self.pushes) };
        Ok(externals.into_iter().map(|target| self.activity(target, &key, now)).collect())
    }

    fn activity(&self, target: ExternalRef, key: &str, now: DateTime<Utc>) -> ActivityPush {
        let contact_name = match &self.counterpart {
            Counterpart::Contact { name, .. } => name.clone(),
            Counterpart::Agent { .. } => None,
        };
        let label = contact_name.clone().unwrap_or_else(|| "unknown contact".into());
        let kind = if self.channel.is_call() { "Call" } else { "Conversation" };
        let end = self.ended_at.unwrap_or(now);
        ActivityPush {
            external_key: format!("{key}@{}:{}", target.system, target.id),
            interaction: self.id,
            subject: format!("{kind}: {label}"),
            channel: self.channel,
            direction: self.direction,
            contact_name,
            started_at: self.offered_at,
            duration_seconds: u32::try_from((end - self.offered_at).num_seconds().max(0)).ok(),
            disposition: self.disposition.clone(),
            notes: self.notes.iter().map(|n| n.text.as_str()).collect::<Vec<_>>().join("\n\n"),
            target,
        }
    }

    /// Sets the disposition code (already checked against the catalogue), as one change.
    ///
    /// # Errors
    /// [`TransitionError`] while offered or declined.
    pub fn set_disposition(&mut self, code: String) -> Result<(), TransitionError> {
        if !self.state.accepts_disposition() {
            return Err(self.refuse("disposition", Some("set a disposition on an active or finished interaction")));
        }
        self.disposition = Some(code);
        self.next_version();
        Ok(())
    }

    /// Adds a note, as one change.
    ///
    /// # Errors
    /// A [`FieldError`] on `text` when empty or over 10,000 characters.
    pub fn add_note(
        &mut self,
        id: NoteId,
        author: AgentId,
        text: &str,
        at: DateTime<Utc>,
    ) -> Result<&InteractionNote, FieldError> {
        let text = required_text("text", text, 10_000)?;
        self.next_version();
        self.notes.push(InteractionNote { id, author, at, text });
        Ok(self.notes.last().expect("just pushed"))
    }

    /// Links a record; linking one already linked does nothing. Returns whether it changed
    /// (then it is one change: the next version).
    ///
    /// # Errors
    /// [`TransitionError`] on a declined interaction.
    pub fn link(&mut self, target: LinkTarget, by: AgentId, at: DateTime<Utc>) -> Result<bool, TransitionError> {
        self.link_all([target], by, at)
    }

    /// Links several records as one change (one version for all); those already linked are
    /// skipped. Returns whether anything changed.
    ///
    /// # Errors
    /// [`TransitionError`] on a declined interaction; nothing is linked then.
    pub fn link_all(
        &mut self,
        targets: impl IntoIterator<Item = LinkTarget>,
        by: AgentId,
        at: DateTime<Utc>,
    ) -> Result<bool, TransitionError> {
        if self.state == InteractionState::Declined {
            return Err(self.refuse("link", Some("a declined interaction cannot be linked")));
        }
        let mut changed = false;
        for target in targets {
            if self.links.iter().any(|l| l.target == target) {
                continue;
            }
            if let LinkTarget::Customer { id } = &target {
                self.customer.get_or_insert(*id);
            }
            self.links.push(InteractionLink { target, linked_by: by, linked_at: at });
            changed = true;
        }
        if changed {
            self.next_version();
        }
        Ok(changed)
    }

    /// Unlinks a record; nothing more is pushed to it. Returns whether it was linked (then
    /// it is one change: the next version).
    pub fn unlink(&mut self, target: &LinkTarget) -> bool {
        let before = self.links.len();
        self.links.retain(|l| l.target != *target);
        let changed = before != self.links.len();
        if changed {
            self.next_version();
        }
        changed
    }

    /// Re-points the interaction at another customer card (the merge of two cards and its
    /// undo, CUS-6): the next version, so a holder of the old record reloads it.
    pub fn move_to_customer(&mut self, to: CustomerId) {
        self.customer = Some(to);
        self.next_version();
    }
}

/// What a caller (telephony, chat routing, an agent) sends to record a new interaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewInteraction {
    /// Channel.
    pub channel: Channel,
    /// Direction.
    pub direction: Direction,
    /// The customer card, when known.
    #[serde(default)]
    pub customer: Option<CustomerId>,
    /// The contact's address (caller number, sender address, handle).
    #[serde(default)]
    pub address: Option<String>,
    /// The contact's name.
    #[serde(default)]
    pub contact_name: Option<String>,
    /// An internal counterpart instead of a contact.
    #[serde(default)]
    pub internal_agent: Option<AgentId>,
    /// The agent it is offered to.
    #[serde(default)]
    pub agent: Option<AgentId>,
    /// Queue.
    #[serde(default)]
    pub queue: Option<String>,
    /// IVR / bot key-values.
    #[serde(default)]
    pub context: BTreeMap<String, String>,
    /// Transcript so far (digital channels).
    #[serde(default)]
    pub transcript: Vec<TranscriptMessage>,
}

impl NewInteraction {
    /// An interaction on `channel` in `direction`, every other field empty.
    pub fn new(channel: Channel, direction: Direction) -> Self {
        Self {
            channel,
            direction,
            customer: None,
            address: None,
            contact_name: None,
            internal_agent: None,
            agent: None,
            queue: None,
            context: BTreeMap::new(),
            transcript: Vec::new(),
        }
    }

    /// Validates into an offered interaction.
    ///
    /// # Errors
    /// Every refused value.
    pub fn build(
        self,
        id: InteractionId,
        tenant: TenantId,
        disposition_required: bool,
        now: DateTime<Utc>,
    ) -> Result<Interaction, ValidationErrors> {
        let mut v = Validator::new();
        let address = self.address.as_deref().and_then(|a| v.check(bounded_text("address", a.trim(), 320)));
        let name = self.contact_name.as_deref().and_then(|n| v.check(bounded_text("contact_name", n.trim(), 200)));
        let queue = self.queue.as_deref().and_then(|q| v.check(required_text("queue", q, 100)));
        if self.context.len() > MAX_CONTEXT_ENTRIES {
            v.push(FieldError::new("context", format!("at most {MAX_CONTEXT_ENTRIES} entries")));
        }
        for (k, val) in &self.context {
            let _ = v
                .check(required_text("context", k, 100).map_err(|e| FieldError::new(format!("context.{k}"), e.reason)));
            let _ = v.check(bounded_text(&format!("context.{k}"), val, 2_000));
        }
        if self.transcript.len() > 5_000 {
            v.push(FieldError::new("transcript", "at most 5000 messages"));
        }
        v.finish()?;
        let counterpart = match self.internal_agent {
            Some(agent) => Counterpart::Agent { agent },
            None => Counterpart::Contact {
                address: address.filter(|a| !a.is_empty()),
                name: name.filter(|n| !n.is_empty()),
            },
        };
        Ok(Interaction {
            id,
            tenant,
            channel: self.channel,
            direction: self.direction,
            customer: self.customer,
            counterpart,
            agent: self.agent,
            queue,
            state: InteractionState::Offered,
            offered_at: now,
            accepted_at: None,
            ended_at: None,
            wrap_up_done_at: None,
            talk_seconds: 0,
            connected_since: None,
            context: self.context,
            transcript: self.transcript,
            notes: Vec::new(),
            disposition: None,
            disposition_required,
            links: Vec::new(),
            pushes: 0,
            external_creates: Vec::new(),
            version: 1,
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use uuid::Uuid;

    use super::*;

    fn offered(agent: Option<AgentId>) -> Interaction {
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap();
        NewInteraction { agent, ..NewInteraction::new(Channel::Chat, Direction::Inbound) }
            .build(InteractionId::from_uuid(Uuid::from_u128(1)), TenantId::from_uuid(Uuid::from_u128(2)), false, now)
            .unwrap()
    }

    #[test]
    fn accepting_an_unassigned_interaction_assigns_it_to_whoever_accepts() {
        let (me, other) = (AgentId::from_uuid(Uuid::from_u128(7)), AgentId::from_uuid(Uuid::from_u128(8)));
        let mut queued = offered(None);
        queued.apply(InteractionAction::Accept, me, queued.offered_at).unwrap();
        assert_eq!((queued.agent(), queued.version()), (Some(me), 2));
        let mut offered_to_other = offered(Some(other));
        offered_to_other.apply(InteractionAction::Accept, me, offered_to_other.offered_at).unwrap();
        assert_eq!(offered_to_other.agent(), Some(other), "an assigned interaction keeps its agent");
    }

    #[test]
    fn linking_several_records_at_once_is_one_version_and_relinking_none() {
        let me = AgentId::from_uuid(Uuid::from_u128(7));
        let mut inter = offered(Some(me));
        let (case, customer) = (CaseId::from_uuid(Uuid::from_u128(3)), CustomerId::from_uuid(Uuid::from_u128(4)));
        let targets = [LinkTarget::Case { id: case }, LinkTarget::Customer { id: customer }];
        assert!(inter.link_all(targets.clone(), me, inter.offered_at).unwrap());
        assert_eq!((inter.version(), inter.customer(), inter.links().len()), (2, Some(customer), 2));
        assert!(!inter.link_all(targets, me, inter.offered_at).unwrap());
        assert!(!inter.unlink(&LinkTarget::Case { id: CaseId::from_uuid(Uuid::from_u128(5)) }));
        assert_eq!(inter.version(), 2, "no change, no version");
    }
}
