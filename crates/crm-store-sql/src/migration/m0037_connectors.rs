//! `m0037`: connectors to external CRMs configured through the API (ADM-3, EXT-1; ADR 0042):
//! one row per tenant and product, its `doc` holding the redacted settings and the sealed
//! configuration (the store never sees a secret in clear).

use sea_orm::{ConnectionTrait, DbErr};
use sea_orm_migration::{MigrationName, MigrationTrait, SchemaManager};

use super::statements;

/// The migration.
pub(super) struct Connectors;

impl MigrationName for Connectors {
    fn name(&self) -> &str {
        "m0037_connectors"
    }
}

/// The DDL of `m0037`, both backends.
const CONNECTORS: &str = "
CREATE TABLE connectors (
    tenant_id {uuid} NOT NULL,
    system {text} NOT NULL,
    version BIGINT NOT NULL,
    doc TEXT NOT NULL,
    CONSTRAINT connectors_pkey PRIMARY KEY (tenant_id, system)
){without_rowid}";

#[async_trait::async_trait]
impl MigrationTrait for Connectors {
    /// In one transaction on every backend.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    #[allow(elided_lifetimes_in_paths)] // the trait's own signature
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        for statement in statements(CONNECTORS, conn.get_database_backend()) {
            conn.execute_unprepared(&statement).await?;
        }
        Ok(())
    }
}
