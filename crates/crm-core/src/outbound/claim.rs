//! [`EntryClaim`]: the reference rule for handing out the next entry (preview dialling),
//! which every store's claim implements (ADR 0017).

use std::cmp::Ordering;

use chrono::{DateTime, Duration, Utc};

use super::entry::{CallListEntry, EntryState};
use super::list::CallList;
use crate::ids::{AgentId, CallListId, TenantId};

/// One agent asking for the next entry of a list at `now`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryClaim {
    /// Tenant.
    pub tenant: TenantId,
    /// List.
    pub list: CallListId,
    /// The agent asking.
    pub agent: AgentId,
    /// Now.
    pub now: DateTime<Utc>,
    /// The lease the claimed entry gets (also its new due time).
    pub lease_until: DateTime<Utc>,
    /// Entries with this many attempts are not handed out.
    pub max_attempts: u32,
    /// The zones whose local time is inside the list's calling window at `now`.
    pub open_zones: Vec<String>,
}

impl EntryClaim {
    /// The claim of `agent` on `list` at `now`.
    pub fn new(list: &CallList, agent: AgentId, now: DateTime<Utc>) -> Self {
        Self {
            tenant: list.tenant,
            list: list.id,
            agent,
            now,
            lease_until: now + Duration::seconds(list.lease_seconds.into()),
            max_attempts: list.max_attempts,
            open_zones: list.open_zones(now),
        }
    }

    /// Whether `entry` may be handed to the agent now; `on_dnc` tells whether its number is
    /// on the tenant's do-not-call list. An entry is eligible when it is the list's, open, due
    /// (its retry or callback time has come and no lease runs), not reserved for another
    /// agent's callback, below the maximum attempts, in a zone open now, and not on the
    /// do-not-call list.
    pub fn allows(&self, entry: &CallListEntry, on_dnc: bool) -> bool {
        entry.tenant == self.tenant
            && entry.list == self.list
            && entry.state() == EntryState::Open
            && entry.due_at() <= self.now
            && entry.reserved_for().is_none_or(|a| a == self.agent)
            && entry.attempts() < self.max_attempts
            && self.open_zones.contains(&entry.zone)
            && !on_dnc
    }
}

/// The order entries are handed out in: higher priority first, then the earliest due, then
/// by id.
pub fn claim_order(a: &CallListEntry, b: &CallListEntry) -> Ordering {
    b.priority.cmp(&a.priority).then(a.due_at().cmp(&b.due_at())).then(a.id.cmp(&b.id))
}
