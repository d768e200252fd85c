//! [`SlaStore`]: the SLA settings of a tenant (issue 33): business calendars and SLA
//! policies, kept as named, versioned documents the core reads and validates
//! ([`crate::sla::SlaSetting`]). The store only enforces what needs a transaction: unique
//! names, one policy per scope, and versions.

use async_trait::async_trait;

use super::store::StoreResult;
use crate::ids::TenantId;
use crate::sla::{SlaSetting, SlaSettingKind};

/// The SLA settings of each tenant.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait SlaStore: Send + Sync {
    /// Every setting of `kind` in `tenant`, by name.
    ///
    /// # Errors
    /// Backend failures only.
    async fn sla_settings(&self, tenant: TenantId, kind: SlaSettingKind) -> StoreResult<Vec<SlaSetting>>;

    /// The setting of `kind` named `name` in `tenant`.
    ///
    /// # Errors
    /// Backend failures only.
    async fn get_sla_setting(
        &self,
        tenant: TenantId,
        kind: SlaSettingKind,
        name: &str,
    ) -> StoreResult<Option<SlaSetting>>;

    /// Inserts the setting (`expected_version` none) or replaces version `expected_version`
    /// of it, atomically.
    ///
    /// # Errors
    /// Inserting: `Conflict::Duplicate` on `name` when the tenant has a setting of this kind
    /// by that name. Replacing: `NotFound` when it has none; `StaleVersion`. Both:
    /// `Conflict::Duplicate` on `scope` when another setting of this kind of the tenant has
    /// the same scope (a scope is unique per tenant and kind; none is never a clash).
    /// Nothing is written on error.
    async fn put_sla_setting(&self, setting: &SlaSetting, expected_version: Option<u64>) -> StoreResult<()>;

    /// Deletes version `expected_version` of the setting.
    ///
    /// # Errors
    /// `NotFound`; `StaleVersion`.
    async fn delete_sla_setting(
        &self,
        tenant: TenantId,
        kind: SlaSettingKind,
        name: &str,
        expected_version: u64,
    ) -> StoreResult<()>;
}
