//! [`ConsoleStore`]: the agents' console sign-in state: password hashes and server-side
//! sessions (issue 32, migration `m0020`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::store::StoreResult;
use crate::console::{Credential, Session};
use crate::event::DomainEvent;
use crate::ids::{AgentId, TenantId};

/// Agents' password hashes and the console's sessions, kept under the hash of their id
/// (the id itself is never stored).
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait ConsoleStore: Send + Sync {
    /// Stores (or replaces) the password hash of an agent of the tenant, set at `at`, and
    /// writes `events` in the same transaction (they never carry the hash).
    ///
    /// # Errors
    /// MUST return `NotFound` when the tenant has no such agent, changing nothing (no
    /// event written).
    async fn set_password_hash(
        &self,
        tenant: TenantId,
        agent: AgentId,
        hash: &str,
        at: DateTime<Utc>,
        events: &[DomainEvent],
    ) -> StoreResult<()>;

    /// The password hashes of the agents whose address has this key ([`EmailAddress::key`]),
    /// in every tenant; an agent without a password has none.
    ///
    /// [`EmailAddress::key`]: crate::customer::EmailAddress::key
    ///
    /// # Errors
    /// Backend failures only.
    async fn credentials_by_email(&self, email_key: &str) -> StoreResult<Vec<Credential>>;

    /// Stores a new session under the hash of its id.
    ///
    /// # Errors
    /// MUST fail with `Conflict(Duplicate)` on field `hash` when the hash is stored already,
    /// changing nothing.
    async fn insert_session(&self, hash: &str, session: &Session) -> StoreResult<()>;

    /// The session with this hash, expired or not; `None` for an unknown hash.
    ///
    /// # Errors
    /// Backend failures only.
    async fn find_session(&self, hash: &str) -> StoreResult<Option<Session>>;

    /// Moves the session's last use to `at` (never back). An unknown hash changes nothing.
    ///
    /// # Errors
    /// Backend failures only.
    async fn touch_session(&self, hash: &str, at: DateTime<Utc>) -> StoreResult<()>;

    /// Deletes the session with this hash; whether there was one.
    ///
    /// # Errors
    /// Backend failures only.
    async fn delete_session(&self, hash: &str) -> StoreResult<bool>;

    /// Deletes every session of an agent of the tenant (its password changed); how many.
    ///
    /// # Errors
    /// Backend failures only.
    async fn delete_agent_sessions(&self, tenant: TenantId, agent: AgentId) -> StoreResult<u64>;

    /// Deletes the sessions that expire at or before `now` or were last used at or before
    /// `idle_before`; how many.
    ///
    /// # Errors
    /// Backend failures only.
    async fn prune_sessions(&self, now: DateTime<Utc>, idle_before: DateTime<Utc>) -> StoreResult<u64>;
}
