//! `m0034`: tenant-defined roles (ADM-2). Each role is its row's `doc`; `name_key` (the
//! lower-case name) is unique in the tenant. Agents name their role in their own document
//! (`custom_role`), as they name their groups: the delete of a role counts its holders there.

use sea_orm::{ConnectionTrait, DbErr};
use sea_orm_migration::{MigrationName, MigrationTrait, SchemaManager};

use super::statements;

/// The migration.
pub(super) struct TenantRoles;

impl MigrationName for TenantRoles {
    fn name(&self) -> &str {
        "m0034_tenant_roles"
    }
}

/// The DDL of `m0034`, both backends.
const TENANT_ROLES: &str = "
CREATE TABLE tenant_roles (
    id {uuid} NOT NULL,
    tenant_id {uuid} NOT NULL,
    name_key {text} NOT NULL,
    version BIGINT NOT NULL,
    doc TEXT NOT NULL,
    CONSTRAINT tenant_roles_pkey PRIMARY KEY (id),
    CONSTRAINT tenant_roles_name_key UNIQUE (tenant_id, name_key)
)";

#[async_trait::async_trait]
impl MigrationTrait for TenantRoles {
    /// In one transaction on every backend.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    #[allow(elided_lifetimes_in_paths)] // the trait's own signature
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        for statement in statements(TENANT_ROLES, conn.get_database_backend()) {
            conn.execute_unprepared(&statement).await?;
        }
        Ok(())
    }
}
