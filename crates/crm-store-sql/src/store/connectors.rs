//! `ConnectorStore` (ADM-3, EXT-1): connectors configured through the API (`connectors`,
//! migration `m0037`), one row per tenant and product. Writes are guarded in their
//! statement: an insert that meets a row, or an update or delete of another version,
//! changes nothing and says why.

use async_trait::async_trait;

use crm_core::StoreError;
use crm_core::error::Conflict;
use crm_core::event::DomainEvent;
use crm_core::external::ExternalSystem;
use crm_core::ids::TenantId;
use crm_core::ports::{ConnectorStore, StoreResult, StoredConnector};

use super::write_events;
use crate::connect::{SqlStore, finish};
use crate::error::db;
use crate::sql::{all, exec, from_doc, int, one, text, to_doc, uid};

/// Why a guarded write of the connector to `system` changed nothing: none stored, or
/// another version.
async fn refusal<C: sea_orm::ConnectionTrait>(
    c: &C,
    tenant: TenantId,
    system: ExternalSystem,
    expected: u64,
) -> StoreResult<StoreError> {
    let row = one(
        c,
        "SELECT version FROM connectors WHERE tenant_id = ? AND system = ?",
        vec![uid(tenant), text(system.as_str())],
    )
    .await
    .map_err(db)?;
    Ok(match row {
        None => StoreError::not_found("connector", system),
        Some(_) => {
            StoreError::Conflict(Conflict::StaleVersion { entity: "connector", id: system.to_string(), expected })
        }
    })
}

#[async_trait]
impl ConnectorStore for SqlStore {
    async fn put_connector(
        &self,
        connector: &StoredConnector,
        expected_version: Option<u64>,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let (tenant, system) = (connector.tenant, connector.system);
        let doc = to_doc(connector)?;
        let tx = self.begin().await?;
        let result = async {
            match expected_version {
                None => {
                    let n = exec(
                        &tx,
                        "INSERT INTO connectors (tenant_id, system, version, doc) VALUES (?, ?, ?, ?) \
                         ON CONFLICT (tenant_id, system) DO NOTHING",
                        vec![uid(tenant), text(system.as_str()), int(connector.version), text(doc)],
                    )
                    .await
                    .map_err(db)?;
                    if n == 0 {
                        return Err(StoreError::duplicate("system", system.to_string()));
                    }
                }
                Some(expected) => {
                    let n = exec(
                        &tx,
                        "UPDATE connectors SET version = ?, doc = ? WHERE tenant_id = ? AND system = ? AND version = ?",
                        vec![int(connector.version), text(doc), uid(tenant), text(system.as_str()), int(expected)],
                    )
                    .await
                    .map_err(db)?;
                    if n == 0 {
                        return Err(refusal(&tx, tenant, system, expected).await?);
                    }
                }
            }
            write_events(&tx, events).await
        }
        .await;
        finish(tx, result).await
    }

    async fn delete_connector(
        &self,
        tenant: TenantId,
        system: ExternalSystem,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            let n = exec(
                &tx,
                "DELETE FROM connectors WHERE tenant_id = ? AND system = ? AND version = ?",
                vec![uid(tenant), text(system.as_str()), int(expected_version)],
            )
            .await
            .map_err(db)?;
            if n == 0 {
                return Err(refusal(&tx, tenant, system, expected_version).await?);
            }
            write_events(&tx, events).await
        }
        .await;
        finish(tx, result).await
    }

    async fn all_connectors(&self) -> StoreResult<Vec<StoredConnector>> {
        let rows =
            all(&self.read, "SELECT doc FROM connectors ORDER BY tenant_id, system", vec![]).await.map_err(db)?;
        let mut found = rows.iter().map(from_doc).collect::<StoreResult<Vec<StoredConnector>>>()?;
        // The order of the memory store: by tenant, then product (not its name).
        found.sort_by_key(|c| (c.tenant, c.system));
        Ok(found)
    }
}
