//! [`RoleStore`]: the tenant-defined roles (ADM-2).

use async_trait::async_trait;

use super::store::StoreResult;
use crate::access::TenantRole;
use crate::event::DomainEvent;
use crate::ids::{RoleId, TenantId};

/// A tenant's own roles (the built-in ones are never stored).
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait RoleStore: Send + Sync {
    /// Inserts a role (`expected_version` `None`) or replaces version `expected_version`
    /// of a role of the same tenant, and writes `events` in the same transaction.
    ///
    /// # Errors
    /// MUST return `Conflict(Duplicate)` on field `name` when another role of the tenant has
    /// the same name without regard to case ([`TenantRole::name_key`]), `Duplicate` on `id`
    /// for an insert of a taken id, `NotFound` for an update of a role the tenant does not
    /// have, and `StaleVersion` when the stored version is not `expected_version`; nothing
    /// (no event) is written then.
    async fn put_role(
        &self,
        role: &TenantRole,
        expected_version: Option<u64>,
        events: &[DomainEvent],
    ) -> StoreResult<()>;

    /// A role of the tenant (`None` for another tenant's).
    ///
    /// # Errors
    /// Backend failures only.
    async fn get_role(&self, tenant: TenantId, id: RoleId) -> StoreResult<Option<TenantRole>>;

    /// The tenant's roles, by name key then id. MUST return no other tenant's role.
    ///
    /// # Errors
    /// Backend failures only.
    async fn list_roles(&self, tenant: TenantId) -> StoreResult<Vec<TenantRole>>;

    /// Deletes a role of the tenant that no agent holds, atomically with the check, and
    /// writes `events` in the same transaction.
    ///
    /// # Errors
    /// MUST return `NotFound` (another tenant's role too), `StaleVersion` when the stored
    /// version is not `expected_version`, and `Conflict(State)` with
    /// [`crate::access::role_in_use`]'s reason while an agent of the tenant holds it
    /// (counted in the transaction of the delete); nothing is deleted (no event written)
    /// then.
    async fn delete_role(
        &self,
        tenant: TenantId,
        id: RoleId,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()>;
}
