//! [`IdempotencyStore`]: the keys of idempotent requests and the responses they gave,
//! shared by every replica on one database.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::store::StoreResult;
use crate::idempotency::{IdempotencyClaim, KeptResponse};

/// Keys of idempotent requests. A key is claimed before its request runs, then either
/// finished with the response or released (the request may then be retried).
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Claims `key` for a request with `fingerprint`, in one atomic step:
    /// - an unknown key MUST be stored as running since `now` and answer
    ///   `Claimed { retaken: false }`;
    /// - a known key with another fingerprint MUST answer `Mismatch`, changing nothing;
    /// - a finished key MUST answer `Done` with the kept response;
    /// - a key running since before `stale_before` MUST be taken over (running since `now`)
    ///   and answer `Claimed { retaken: true }`; of several callers taking over the same key
    ///   at once exactly one gets `Claimed`, the others `InProgress`;
    /// - a key running since `stale_before` or later MUST answer `InProgress`.
    ///
    /// Of several callers claiming one unknown key at once, exactly one gets `Claimed`.
    ///
    /// # Errors
    /// Backend failures only.
    async fn claim_idempotency(
        &self,
        key: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
        stale_before: DateTime<Utc>,
    ) -> StoreResult<IdempotencyClaim>;

    /// Keeps the response of a claimed key: later claims with its fingerprint answer `Done`
    /// with it. Nothing happens for an unknown key.
    ///
    /// # Errors
    /// Backend failures only.
    async fn finish_idempotency(&self, key: &str, response: &KeptResponse) -> StoreResult<()>;

    /// Forgets a key (its request failed on our side and may be retried). Nothing happens
    /// for an unknown key.
    ///
    /// # Errors
    /// Backend failures only.
    async fn release_idempotency(&self, key: &str) -> StoreResult<()>;

    /// Forgets every key claimed before `before`, finished or not; returns how many.
    ///
    /// # Errors
    /// Backend failures only.
    async fn prune_idempotency(&self, before: DateTime<Utc>) -> StoreResult<u64>;
}
