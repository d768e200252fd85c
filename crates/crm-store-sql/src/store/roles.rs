//! `RoleStore` (ADM-2): the tenant-defined roles (`tenant_roles`, migration `m0034`).

use async_trait::async_trait;

use crm_core::StoreError;
use crm_core::access::{TenantRole, role_in_use};
use crm_core::error::Conflict;
use crm_core::event::DomainEvent;
use crm_core::ids::{RoleId, TenantId};
use crm_core::ports::{RoleStore, StoreResult};

use super::directory::{DirectoryRow, check_put, put_row};
use super::write_events;
use crate::connect::{SqlStore, finish};
use crate::error::db;
use crate::sql::{all, col, exec, from_doc, int, one, text, to_doc, uid};

#[async_trait]
impl RoleStore for SqlStore {
    async fn put_role(
        &self,
        role: &TenantRole,
        expected_version: Option<u64>,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        put_row(
            self,
            DirectoryRow {
                table: "tenant_roles",
                entity: "role",
                id: role.id.as_uuid(),
                tenant: role.tenant.as_uuid(),
                columns: &["name_key", "version", "doc"],
                values: vec![text(role.name_key()), int(role.version), text(to_doc(role)?)],
            },
            expected_version,
            |field| match field {
                "name" => Some(role.name.clone()),
                "id" => Some(role.id.to_string()),
                _ => None,
            },
            events,
        )
        .await
    }

    async fn get_role(&self, tenant: TenantId, id: RoleId) -> StoreResult<Option<TenantRole>> {
        let row =
            one(&self.read, "SELECT doc FROM tenant_roles WHERE id = ? AND tenant_id = ?", vec![uid(id), uid(tenant)])
                .await
                .map_err(db)?;
        row.as_ref().map(from_doc).transpose()
    }

    async fn list_roles(&self, tenant: TenantId) -> StoreResult<Vec<TenantRole>> {
        let rows = all(
            &self.read,
            "SELECT doc FROM tenant_roles WHERE tenant_id = ? ORDER BY name_key, id",
            vec![uid(tenant)],
        )
        .await
        .map_err(db)?;
        rows.iter().map(from_doc).collect()
    }

    async fn delete_role(
        &self,
        tenant: TenantId,
        id: RoleId,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            check_put(&tx, "tenant_roles", "role", id.as_uuid(), tenant.as_uuid(), Some(expected_version)).await?;
            // Lock the role (PostgreSQL) so two deletes or a delete and an edit serialise.
            if self.backend == sea_orm::DbBackend::Postgres {
                exec(&tx, "SELECT 1 FROM tenant_roles WHERE id = ? FOR UPDATE", vec![uid(id)]).await.map_err(db)?;
            }
            // Holders name the role in their document (`"custom_role":"<id>"`).
            let row = one(
                &tx,
                "SELECT COUNT(*) AS n FROM agents WHERE tenant_id = ? AND doc LIKE ?",
                vec![uid(tenant), text(format!("%\"custom_role\":\"{id}\"%"))],
            )
            .await
            .map_err(db)?;
            let holders = row.as_ref().map(|r| col::<i64>(r, "n")).transpose()?.unwrap_or(0);
            if let Some(reason) = role_in_use(u64::try_from(holders).unwrap_or(0)) {
                return Err(StoreError::Conflict(Conflict::State(reason)));
            }
            exec(&tx, "DELETE FROM tenant_roles WHERE id = ? AND tenant_id = ?", vec![uid(id), uid(tenant)])
                .await
                .map_err(db)?;
            write_events(&tx, events).await
        }
        .await;
        finish(tx, result).await
    }
}
