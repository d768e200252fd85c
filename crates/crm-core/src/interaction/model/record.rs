//! The way a store rebuilds an interaction: [`InteractionRecord`], plain data, and
//! [`Interaction::restore`].

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Counterpart, Interaction, InteractionLink, InteractionNote, TranscriptMessage};
use crate::external::PendingExternalCreate;
use crate::ids::{AgentId, CustomerId, InteractionId, TenantId};
use crate::interaction::{Channel, Direction, InteractionState};

/// An interaction as a store keeps it: every field public, no rule checked. The way back
/// in is [`Interaction::restore`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InteractionRecord {
    /// Its id.
    pub id: InteractionId,
    /// Its tenant.
    pub tenant: TenantId,
    /// Channel.
    pub channel: Channel,
    /// Direction.
    pub direction: Direction,
    /// The customer card it belongs to.
    pub customer: Option<CustomerId>,
    /// Who the agent talks to.
    pub counterpart: Counterpart,
    /// The handling agent (none while queued).
    pub agent: Option<AgentId>,
    /// Queue.
    pub queue: Option<String>,
    /// State.
    pub state: InteractionState,
    /// Offered.
    pub offered_at: DateTime<Utc>,
    /// First accepted.
    pub accepted_at: Option<DateTime<Utc>>,
    /// Ended (hang-up, abandon, decline).
    pub ended_at: Option<DateTime<Utc>>,
    /// Wrap-up completed.
    pub wrap_up_done_at: Option<DateTime<Utc>>,
    /// Seconds spent connected (active, consulting, conferenced).
    pub talk_seconds: u32,
    /// Since when the current connected stretch runs.
    pub connected_since: Option<DateTime<Utc>>,
    /// Key/values from the IVR or chat bot.
    pub context: BTreeMap<String, String>,
    /// Transcript of a digital conversation.
    pub transcript: Vec<TranscriptMessage>,
    /// Notes.
    pub notes: Vec<InteractionNote>,
    /// Disposition code.
    pub disposition: Option<String>,
    /// Whether wrap-up needs a disposition (from the queue, INT-3).
    pub disposition_required: bool,
    /// Linked records.
    pub links: Vec<InteractionLink>,
    /// How many activity pushes it produced (keys them, INT-6).
    pub pushes: u32,
    /// Creates in external CRMs asked for and not yet linked (INT-7).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub external_creates: Vec<PendingExternalCreate>,
    /// Optimistic-concurrency version.
    pub version: u64,
}

impl From<InteractionRecord> for Interaction {
    fn from(r: InteractionRecord) -> Self {
        Interaction::restore(r)
    }
}

impl From<Interaction> for InteractionRecord {
    fn from(i: Interaction) -> Self {
        i.into_record()
    }
}

impl Interaction {
    /// Rebuilds an interaction from storage. For stores (and tests that need an interaction
    /// in a given state): it trusts its input and checks no rule.
    pub fn restore(r: InteractionRecord) -> Self {
        Self {
            id: r.id,
            tenant: r.tenant,
            channel: r.channel,
            direction: r.direction,
            customer: r.customer,
            counterpart: r.counterpart,
            agent: r.agent,
            queue: r.queue,
            state: r.state,
            offered_at: r.offered_at,
            accepted_at: r.accepted_at,
            ended_at: r.ended_at,
            wrap_up_done_at: r.wrap_up_done_at,
            talk_seconds: r.talk_seconds,
            connected_since: r.connected_since,
            context: r.context,
            transcript: r.transcript,
            notes: r.notes,
            disposition: r.disposition,
            disposition_required: r.disposition_required,
            links: r.links,
            pushes: r.pushes,
            external_creates: r.external_creates,
            version: r.version,
        }
    }

    /// The interaction as plain data.
    pub fn into_record(self) -> InteractionRecord {
        InteractionRecord {
            id: self.id,
            tenant: self.tenant,
            channel: self.channel,
            direction: self.direction,
            customer: self.customer,
            counterpart: self.counterpart,
            agent: self.agent,
            queue: self.queue,
            state: self.state,
            offered_at: self.offered_at,
            accepted_at: self.accepted_at,
            ended_at: self.ended_at,
            wrap_up_done_at: self.wrap_up_done_at,
            talk_seconds: self.talk_seconds,
            connected_since: self.connected_since,
            context: self.context,
            transcript: self.transcript,
            notes: self.notes,
            disposition: self.disposition,
            disposition_required: self.disposition_required,
            links: self.links,
            pushes: self.pushes,
            external_creates: self.external_creates,
            version: self.version,
        }
    }
}
