//! Interactions (INT): channels, the state machine, notes, dispositions, links and the INT-6
//! push rule.

mod channel;
mod disposition;
mod lifecycle;
mod model;
#[cfg(test)]
mod proptests;

pub use channel::{Channel, Direction};
pub use disposition::{Disposition, DispositionInput, QueueSettings};
pub use lifecycle::{InteractionAction, InteractionState};
pub use model::{
    Counterpart, Interaction, InteractionLink, InteractionNote, InteractionRecord, InteractionSummary, LinkTarget,
    MAX_CONTEXT_ENTRIES, NewInteraction, TranscriptMessage, action_pushes,
};
