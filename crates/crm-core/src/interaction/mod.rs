//! Interactions (INT): channels, the state machine, notes, dispositions, links and the INT-6
//! push rule.

mod channel;
mod disposition;
mod history;
mod lifecycle;
mod message;
mod model;
#[cfg(test)]
mod proptests;

pub use channel::{Channel, Direction};
pub use disposition::{Disposition, DispositionInput, QueueSettings};
pub use history::{InteractionFilter, MAX_HISTORY_QUERY, search_text};
pub use lifecycle::{InteractionAction, InteractionState};
pub use message::{AttachmentRef, InteractionMessage, MAX_ATTACHMENTS, MAX_MESSAGE_BODY, NewMessage};
pub use model::{
    Counterpart, Interaction, InteractionLink, InteractionNote, InteractionRecord, InteractionSummary, LinkTarget,
    MAX_CONTEXT_ENTRIES, NewInteraction, TranscriptMessage, action_pushes,
};
