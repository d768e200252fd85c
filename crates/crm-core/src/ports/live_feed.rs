//! [`LiveFeedStore`]: the feed of live events every replica reads, so an event raised on
//! one replica reaches an agent connected to another.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::store::StoreResult;
use crate::ids::{AgentId, TenantId};
use crate::live::{LiveEvent, NewLiveEvent};

/// An append-only feed of live events, numbered in the order it assigns.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait LiveFeedStore: Send + Sync {
    /// Appends `events` (all or none), each with a position above every position assigned
    /// before, dated `now` for pruning.
    ///
    /// # Errors
    /// Backend failures only.
    async fn append_live(&self, events: &[NewLiveEvent], now: DateTime<Utc>) -> StoreResult<()>;

    /// The highest position assigned so far (0 for an empty feed).
    ///
    /// # Errors
    /// Backend failures only.
    async fn live_head(&self) -> StoreResult<u64>;

    /// Up to `limit` events of every tenant after position `after`, in position order.
    ///
    /// # Errors
    /// Backend failures only.
    async fn live_after(&self, after: u64, limit: u32) -> StoreResult<Vec<LiveEvent>>;

    /// Up to `limit` events of one agent after position `after`, in position order (to
    /// resume a stream). MUST NOT return another tenant's or agent's events.
    ///
    /// # Errors
    /// Backend failures only.
    async fn live_for_agent_after(
        &self,
        tenant: TenantId,
        agent: AgentId,
        after: u64,
        limit: u32,
    ) -> StoreResult<Vec<LiveEvent>>;

    /// Drops the events appended before `before`; returns how many. Positions are never
    /// reused: events appended later still come after the head.
    ///
    /// # Errors
    /// Backend failures only.
    async fn prune_live(&self, before: DateTime<Utc>) -> StoreResult<u64>;
}
