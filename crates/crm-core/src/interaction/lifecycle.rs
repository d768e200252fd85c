//! The interaction state machine (INT-2).
//!
//! ```text
//! Offered ─accept─► Active ─end─► WrapUp ─complete─► Closed
//!   │ decline          │ hold ⇄ resume (Held)
//!   ▼                  │ consult ⇄ resume (Consulting) ─conference─► Conferenced
//! Declined             │ conference ⇄ resume (Conferenced)
//!   abandon ─► Closed  └ transfer / unassign ─► Offered (to the new agent / the queue)
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::AgentId;

/// Where an interaction is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum InteractionState {
    /// Ringing / waiting for an agent.
    Offered,
    /// Refused by the agent it was offered to.
    Declined,
    /// Connected.
    Active,
    /// On hold.
    Held,
    /// The agent consults another party.
    Consulting,
    /// Several parties connected.
    Conferenced,
    /// Ended; the agent is finishing notes and disposition.
    WrapUp,
    /// Done.
    Closed,
}

impl InteractionState {
    /// Every state.
    pub const ALL: &'static [InteractionState] = &[
        InteractionState::Offered,
        InteractionState::Declined,
        InteractionState::Active,
        InteractionState::Held,
        InteractionState::Consulting,
        InteractionState::Conferenced,
        InteractionState::WrapUp,
        InteractionState::Closed,
    ];

    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            InteractionState::Offered => "offered",
            InteractionState::Declined => "declined",
            InteractionState::Active => "active",
            InteractionState::Held => "held",
            InteractionState::Consulting => "consulting",
            InteractionState::Conferenced => "conferenced",
            InteractionState::WrapUp => "wrap_up",
            InteractionState::Closed => "closed",
        }
    }

    /// Whether nothing more can happen.
    pub fn is_terminal(self) -> bool {
        matches!(self, InteractionState::Closed | InteractionState::Declined)
    }

    /// Whether the customer is connected to an agent (talk time runs).
    pub fn is_connected(self) -> bool {
        matches!(self, InteractionState::Active | InteractionState::Consulting | InteractionState::Conferenced)
    }

    /// Whether a disposition may be set (INT-3: on an active or finished interaction).
    pub fn accepts_disposition(self) -> bool {
        !matches!(self, InteractionState::Offered | InteractionState::Declined)
    }
}

impl fmt::Display for InteractionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something an agent or the routing does to an interaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum InteractionAction {
    /// Take an offered interaction.
    Accept,
    /// Refuse an offered interaction.
    Decline,
    /// The customer left before anyone answered.
    Abandon,
    /// Put on hold.
    Hold,
    /// Back to a one-to-one conversation.
    Resume,
    /// Start a consultation.
    Consult,
    /// Join everybody.
    Conference,
    /// Hand over to another agent (`None`: back to the queue).
    Transfer {
        /// The new agent.
        to: Option<AgentId>,
    },
    /// Give a digital interaction back to its queue.
    Unassign,
    /// Hang up / end the conversation.
    End,
    /// Finish wrap-up.
    CompleteWrapUp,
}

impl InteractionAction {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            InteractionAction::Accept => "accept",
            InteractionAction::Decline => "decline",
            InteractionAction::Abandon => "abandon",
            InteractionAction::Hold => "hold",
            InteractionAction::Resume => "resume",
            InteractionAction::Consult => "consult",
            InteractionAction::Conference => "conference",
            InteractionAction::Transfer { .. } => "transfer",
            InteractionAction::Unassign => "unassign",
            InteractionAction::End => "end",
            InteractionAction::CompleteWrapUp => "complete_wrap_up",
        }
    }

    /// The state `action` leads to from `from`, or `None` when the machine forbids it.
    ///
    /// ```
    /// use crm_core::interaction::{InteractionAction, InteractionState};
    ///
    /// assert_eq!(InteractionAction::Accept.target(InteractionState::Offered), Some(InteractionState::Active));
    /// assert_eq!(InteractionAction::Hold.target(InteractionState::Offered), None);
    /// ```
    pub fn target(self, from: InteractionState) -> Option<InteractionState> {
        use InteractionAction as A;
        use InteractionState as S;
        Some(match (from, self) {
            (S::Offered, A::Accept) => S::Active,
            (S::Offered, A::Decline) => S::Declined,
            (S::Offered, A::Abandon) => S::Closed,
            (S::Active, A::Hold) => S::Held,
            (S::Active, A::Consult) => S::Consulting,
            (S::Active | S::Consulting, A::Conference) => S::Conferenced,
            (S::Held | S::Consulting | S::Conferenced, A::Resume) => S::Active,
            (S::Active | S::Held | S::Consulting, A::Transfer { .. }) => S::Offered,
            (S::Active | S::Held, A::Unassign) => S::Offered,
            (S::Active | S::Held | S::Conferenced, A::End) => S::WrapUp,
            (S::WrapUp, A::CompleteWrapUp) => S::Closed,
            _ => return None,
        })
    }
}

impl fmt::Display for InteractionAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
