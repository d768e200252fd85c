//! [`OutboxStore`]: the outbox of domain events, read by the delivery workers (the
//! notification and external-push rounds, the pruner).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::store::StoreResult;
use crate::error::StoreError;
use crate::event::{DomainEvent, OutboxEntry, OutboxStatus, Topic};
use crate::ids::{EventId, TenantId};
use crate::page::{Page, PageRequest};
use crate::search::FeedPosition;

/// The outbox of domain events, read by delivery workers.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Claims up to `limit` pending entries of `topic` whose next attempt is due at `now`,
    /// oldest first, leasing each until `lease_until` (a claimed entry is not returned to
    /// another caller before then, so several workers never deliver one entry at once).
    async fn claim_outbox(
        &self,
        topic: Topic,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<OutboxEntry>>;

    /// Marks an entry delivered.
    ///
    /// # Errors
    /// `NotFound`.
    async fn mark_delivered(&self, id: EventId) -> StoreResult<()>;

    /// Marks every listed entry delivered, as [`OutboxStore::mark_delivered`] would one by
    /// one, and returns how many it found; ids not in the outbox are skipped. The default
    /// calls `mark_delivered` per id; an adapter may do it in one statement (a delivery
    /// worker's round then costs one write, not one per event).
    ///
    /// # Errors
    /// Backend failures only.
    async fn mark_delivered_many(&self, ids: &[EventId]) -> StoreResult<u64> {
        let mut marked = 0;
        for id in ids {
            match self.mark_delivered(*id).await {
                Ok(()) => marked += 1,
                Err(StoreError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(marked)
    }

    /// Deletes up to `max` delivered entries whose event happened before `before` (the
    /// retention of the delivery log); returns how many. Which ones go when more than `max`
    /// qualify is the adapter's choice (a caller repeats until fewer than `max` went).
    /// Pending and dead entries are kept whatever their age.
    ///
    /// # Errors
    /// Backend failures only.
    async fn prune_delivered(&self, before: DateTime<Utc>, max: u32) -> StoreResult<u64>;

    /// Records a failed attempt: `attempts + 1`, the error, and either a next attempt at
    /// `retry_at` (status pending) or, when `retry_at` is `None`, the dead-letter state.
    ///
    /// # Errors
    /// `NotFound`.
    async fn mark_failed(&self, id: EventId, error: &str, retry_at: Option<DateTime<Utc>>) -> StoreResult<()>;

    /// Puts a dead entry back to pending, due at `now` (the API's retry action).
    ///
    /// # Errors
    /// `NotFound` (also for another tenant's entry); `Conflict(State)` unless dead.
    async fn requeue(&self, tenant: TenantId, id: EventId, now: DateTime<Utc>) -> StoreResult<()>;

    /// Refreshes what the backend needs to keep claiming and pruning fast after many
    /// entries came and went (planner statistics where nothing refreshes them on its own).
    /// The pruner calls it after each prune that emptied its backlog. The default does
    /// nothing.
    ///
    /// # Errors
    /// Backend failures only.
    async fn refresh_queue_statistics(&self) -> StoreResult<()> {
        Ok(())
    }

    /// The change feed each replica's search index follows: up to `limit` events of every
    /// tenant, topic and status after `after`, in the order (time, id). Entries pruned by
    /// [`OutboxStore::prune_delivered`] are gone from it (an index further behind rebuilds).
    ///
    /// # Errors
    /// Backend failures only.
    async fn events_after(&self, after: &FeedPosition, limit: u32) -> StoreResult<Vec<DomainEvent>>;

    /// A tenant's entries with a status, newest first, paginated.
    async fn list_outbox(
        &self,
        tenant: TenantId,
        status: Option<OutboxStatus>,
        page: &PageRequest,
    ) -> StoreResult<Page<OutboxEntry>>;
}
