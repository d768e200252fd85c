//! `m0012`: the SLA settings of issue 33 (business calendars and policies), one row per
//! tenant, kind and name; a scope (a policy's group, or the tenant) unique per tenant and
//! kind.

use sea_orm::{ConnectionTrait, DbErr};
use sea_orm_migration::{MigrationName, MigrationTrait, SchemaManager, async_trait};

use super::statements;

/// `m0012_sla_settings`.
pub(super) struct SlaSettings;

impl MigrationName for SlaSettings {
    fn name(&self) -> &str {
        "m0012_sla_settings"
    }
}

/// The DDL of `m0012`, both backends.
const SLA_SETTINGS: &str = "
CREATE TABLE sla_settings (
    tenant_id {uuid} NOT NULL,
    kind {text} NOT NULL,
    name {text} NOT NULL,
    scope {text},
    version BIGINT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (tenant_id, kind, name)
){without_rowid};
CREATE UNIQUE INDEX sla_settings_scope_key ON sla_settings (tenant_id, kind, scope)";

#[async_trait::async_trait]
impl MigrationTrait for SlaSettings {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    #[allow(elided_lifetimes_in_paths)] // the trait's own signature
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        for statement in statements(SLA_SETTINGS, conn.get_database_backend()) {
            conn.execute_unprepared(&statement).await?;
        }
        Ok(())
    }
}
