//! [`TokenStore`]: the hashes of API tokens and what each grants.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::store::StoreResult;
use crate::api_token::ApiToken;

/// API tokens, kept as hashes of the secret (the secret itself is never stored).
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// Stores a token's hash with what it grants, a label and when it was made.
    ///
    /// # Errors
    /// MUST fail with `Conflict(Duplicate)` on field `hash` when the hash is stored already,
    /// changing nothing.
    async fn insert_token(
        &self,
        hash: &str,
        token: &ApiToken,
        label: &str,
        created_at: DateTime<Utc>,
    ) -> StoreResult<()>;

    /// What the token with this hash grants; `None` for an unknown hash.
    ///
    /// # Errors
    /// Backend failures only.
    async fn find_token(&self, hash: &str) -> StoreResult<Option<ApiToken>>;
}
