//! [`ConnectorStore`]: the tenants' connectors to external CRMs configured through the API
//! (ADM-3, EXT-1). The core never reads a connector's secrets: the server seals the whole
//! configuration with its own key before it reaches the store, and keeps beside it the
//! settings as administrators see them (every secret redacted).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::store::StoreResult;
use crate::event::DomainEvent;
use crate::external::ExternalSystem;
use crate::ids::TenantId;

/// A tenant's connector to one external CRM, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredConnector {
    /// The tenant it serves.
    pub tenant: TenantId,
    /// The product.
    pub system: ExternalSystem,
    /// The settings as administrators see them: every secret replaced by `[redacted]`.
    pub settings: serde_json::Value,
    /// The whole configuration, secrets included, sealed (encrypted and authenticated) by
    /// the server: opaque text to the core and the store.
    pub sealed: String,
    /// Optimistic-concurrency version (1 when created).
    pub version: u64,
    /// When it was last written.
    pub updated_at: DateTime<Utc>,
}

/// The connectors configured through the API, for every tenant.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait ConnectorStore: Send + Sync {
    /// Inserts the tenant's connector to `connector.system` (`expected_version` `None`) or
    /// replaces version `expected_version` of it, and writes `events` in the same
    /// transaction.
    ///
    /// # Errors
    /// MUST return `Conflict(Duplicate)` on field `system` for an insert when the tenant
    /// already has one for that product, `NotFound` for an update of one it does not have,
    /// and `StaleVersion` when the stored version is not `expected_version`; nothing (no
    /// event) is written then.
    async fn put_connector(
        &self,
        connector: &StoredConnector,
        expected_version: Option<u64>,
        events: &[DomainEvent],
    ) -> StoreResult<()>;

    /// Deletes the tenant's connector to `system` at `expected_version` and writes `events`
    /// in the same transaction.
    ///
    /// # Errors
    /// MUST return `NotFound` (also for another tenant's) and `StaleVersion`; nothing is
    /// deleted (no event written) then.
    async fn delete_connector(
        &self,
        tenant: TenantId,
        system: ExternalSystem,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()>;

    /// Every tenant's connectors, by tenant then product (each replica reads them to build
    /// and refresh its own).
    ///
    /// # Errors
    /// Backend failures only.
    async fn all_connectors(&self) -> StoreResult<Vec<StoredConnector>>;
}
