//! [`TokenStore`]: the hashes of API tokens, what each grants and its life (expiry,
//! revocation, last use).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::store::StoreResult;
use crate::api_token::TokenRecord;
use crate::event::DomainEvent;
use crate::ids::{TenantId, TokenId};

/// API tokens, kept as hashes of the secret (the secret itself is never stored).
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// Stores a token's hash with its record, and writes `events` in the same transaction
    /// (the events never carry the hash).
    ///
    /// # Errors
    /// MUST fail with `Conflict(Duplicate)` on field `hash` when the hash is stored already,
    /// changing nothing (no event written).
    async fn insert_token(&self, hash: &str, token: &TokenRecord, events: &[DomainEvent]) -> StoreResult<()>;

    /// The token with this hash, revoked and expired ones included; `None` for an unknown
    /// hash.
    ///
    /// # Errors
    /// Backend failures only.
    async fn find_token(&self, hash: &str) -> StoreResult<Option<TokenRecord>>;

    /// The tenant's tokens, revoked and expired ones included, newest first (then by id).
    ///
    /// # Errors
    /// Backend failures only.
    async fn list_tokens(&self, tenant: TenantId) -> StoreResult<Vec<TokenRecord>>;

    /// Marks a token of the tenant revoked at `at`, and returns it as stored now. A token
    /// revoked already keeps its first revocation time. `events` are written in the same
    /// transaction only when this call revoked the token (a second revocation changes
    /// nothing, so it writes no event and no audit entry).
    ///
    /// # Errors
    /// MUST return `NotFound` for a token that is not the tenant's.
    async fn revoke_token(
        &self,
        tenant: TenantId,
        id: TokenId,
        at: DateTime<Utc>,
        events: &[DomainEvent],
    ) -> StoreResult<TokenRecord>;

    /// Records a use of the token with this hash at `at`, unless a use at or after
    /// `not_before` is recorded already (so several replicas write it once per period).
    /// An unknown hash changes nothing.
    ///
    /// # Errors
    /// Backend failures only.
    async fn touch_token(&self, hash: &str, at: DateTime<Utc>, not_before: DateTime<Utc>) -> StoreResult<()>;
}
