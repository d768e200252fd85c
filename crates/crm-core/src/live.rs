//! Live events (EXT-2, TSK-2, EXT-3): what an agent's event stream receives, and who a
//! domain event concerns.
//!
//! A live event is one event for one agent, appended to a feed that every replica of the
//! server reads after its own cursor ([`crate::ports::LiveFeedStore`]); the feed outlives a
//! replica's restart, so a stream can resume from the last position it saw. Domain events
//! reach the feed through the notification worker
//! ([`crate::service::Crm::deliver_notifications`]); a screen pop is appended directly
//! ([`crate::service::Crm::incoming_call`]).

use serde::{Deserialize, Serialize};

use crate::event::{DomainEvent, EventKind};
use crate::ids::{AgentId, CaseId, GroupId, TenantId};

/// A live event to append to the feed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewLiveEvent {
    /// Tenant.
    pub tenant: TenantId,
    /// The agent whose streams receive it.
    pub agent: AgentId,
    /// The event's name on the stream (`screen_pop`, `task_reminder_due`, `case_assigned` …).
    pub name: String,
    /// Its JSON payload, as sent.
    pub payload: String,
}

/// A live event as the feed holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveEvent {
    /// Position in the feed: increasing in the order the feed assigned them (a row whose
    /// position was drawn first may become visible after a later one: readers re-read a
    /// small window behind their cursor).
    pub seq: u64,
    /// Tenant.
    pub tenant: TenantId,
    /// The agent whose streams receive it.
    pub agent: AgentId,
    /// The event's name on the stream.
    pub name: String,
    /// Its JSON payload.
    pub payload: String,
}

/// Who a domain event concerns, as far as the event itself tells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Addressees {
    /// These agents (maybe none).
    Agents(Vec<AgentId>),
    /// The current assignee of this case (read when the event is delivered).
    CaseAssignee(CaseId),
    /// The current assignee of this case and the members of this group (an SLA warning or
    /// breach of a case in a group).
    CaseGroup(CaseId, GroupId),
}

impl Addressees {
    /// The rule: a task's events go to its assignee; a case's assignment and creation to
    /// the assignee (a case created unassigned concerns nobody yet: its later assignment
    /// raises `CaseAssigned`); a case's other changes and follow-ups to the case's current
    /// assignee; an interaction's events (a conversation's new messages too) to its agent. Other events concern no agent's
    /// stream.
    ///
    /// ```
    /// use crm_core::event::EventKind;
    /// use crm_core::ids::{AgentId, TaskId};
    /// use crm_core::live::Addressees;
    ///
    /// let assignee = AgentId::from_uuid(uuid::Uuid::from_u128(7));
    /// let kind = EventKind::TaskCreated { task: TaskId::from_uuid(uuid::Uuid::from_u128(1)), assignee };
    /// assert_eq!(Addressees::of(&kind), Addressees::Agents(vec![assignee]));
    /// ```
    pub fn of(kind: &EventKind) -> Self {
        match kind {
            EventKind::TaskCreated { assignee, .. }
            | EventKind::TaskUpdated { assignee, .. }
            | EventKind::TaskDeleted { assignee, .. }
            | EventKind::TaskReminderDue { assignee, .. } => Self::Agents(vec![*assignee]),
            EventKind::CaseAssigned { assignee, .. } | EventKind::CaseCreated { assignee, .. } => {
                Self::Agents(assignee.iter().copied().collect())
            }
            EventKind::CaseUpdated { case, .. }
            | EventKind::FollowUpAdded { case, .. }
            | EventKind::MailReceived { case, .. } => Self::CaseAssignee(*case),
            EventKind::SlaWarning { case, assignee, group, .. }
            | EventKind::SlaBreached { case, assignee, group, .. } => match (assignee, group) {
                (_, Some(g)) => Self::CaseGroup(*case, *g),
                _ => Self::CaseAssignee(*case),
            },
            EventKind::InteractionCreated { agent, .. }
            | EventKind::InteractionStateChanged { agent, .. }
            | EventKind::MessageAdded { agent, .. } => Self::Agents(agent.iter().copied().collect()),
            EventKind::ScriptRunFinished { agent, .. } => Self::Agents(vec![*agent]),
            _ => Self::Agents(Vec::new()),
        }
    }
}

/// The live event of `event` for `agent`: named after the event's kind, its payload the
/// event as JSON.
pub fn live_event_of(event: &DomainEvent, agent: AgentId, payload: &str) -> NewLiveEvent {
    NewLiveEvent { tenant: event.tenant, agent, name: event.kind.name().to_owned(), payload: payload.to_owned() }
}

/// An incoming call from the telephony system (EXT-2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct IncomingCall {
    /// The caller's number, in any written form.
    pub phone: String,
    /// The agent the call is offered to (default: the caller of this API).
    #[serde(default)]
    pub agent: Option<AgentId>,
    /// The queue it came through.
    #[serde(default)]
    pub queue: Option<String>,
    /// IVR key/values.
    #[serde(default)]
    pub context: std::collections::BTreeMap<String, String>,
}

/// What an incoming call pushes to the agent's stream as `screen_pop`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScreenPop {
    /// The interaction recorded for the call (offered to the agent).
    pub interaction: crate::interaction::Interaction,
    /// The customer cards the number matches, most recently contacted first; for a number
    /// that matched nobody, the card just created for it.
    pub cards: Vec<crate::customer::CustomerCard>,
    /// Whether the caller was unknown and got a new card with this call (CUS-6).
    pub new_card: bool,
}

/// The name of a screen pop on the agent's stream.
pub const SCREEN_POP: &str = "screen_pop";
