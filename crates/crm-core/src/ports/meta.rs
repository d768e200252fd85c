//! [`MetaStore`]: a few facts about the installation itself (whether the database was
//! initialised), shared by every replica.

use async_trait::async_trait;

use super::store::StoreResult;

/// Key/value facts about the installation.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait MetaStore: Send + Sync {
    /// The value of `key`, if set.
    ///
    /// # Errors
    /// Backend failures only.
    async fn meta(&self, key: &str) -> StoreResult<Option<String>>;

    /// Sets `key` to `value`, replacing any value.
    ///
    /// # Errors
    /// Backend failures only.
    async fn set_meta(&self, key: &str, value: &str) -> StoreResult<()>;

    /// Sets `key` to `value` unless it is set; `true` when this call set it. Of several
    /// callers at once, exactly one MUST get `true`.
    ///
    /// # Errors
    /// Backend failures only.
    async fn claim_meta(&self, key: &str, value: &str) -> StoreResult<bool>;

    /// Replaces `key`'s value with `value` (none: removes it) only while it is `expected`;
    /// `true` when this call did. Of several callers expecting one value, at most one MUST
    /// get `true`.
    ///
    /// # Errors
    /// Backend failures only.
    async fn replace_meta(&self, key: &str, expected: &str, value: Option<String>) -> StoreResult<bool>;

    /// Removes `key` (nothing happens when it is not set).
    ///
    /// # Errors
    /// Backend failures only.
    async fn delete_meta(&self, key: &str) -> StoreResult<()>;
}
