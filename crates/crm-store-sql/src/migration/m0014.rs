//! `m0014`, in a file of its own (the migration list stays in `migration.rs`).

use sea_orm::{ConnectionTrait, DbErr};
use sea_orm_migration::{MigrationName, MigrationTrait, SchemaManager, async_trait};

use super::statements;

/// `m0014`: guidance (GUI-1, GUI-2): scripts (the draft being edited, its version, the
/// latest published version number), their immutable published versions, the runs of a
/// script in an interaction (path and answers in `doc`), and each tenant's alert rules as
/// one versioned set. The screen pop's alert counts read existing tables
/// (`crates/crm-store-sql/src/store/guidance.rs`), through existing indexes.
pub(super) struct Guidance;

impl MigrationName for Guidance {
    fn name(&self) -> &str {
        "m0014_guidance"
    }
}

/// The DDL of `m0014`, both backends.
const GUIDANCE: &str = "
CREATE TABLE scripts (
    id {uuid} NOT NULL,
    tenant_id {uuid} NOT NULL,
    name {text} NOT NULL,
    version BIGINT NOT NULL,
    doc TEXT NOT NULL,
    CONSTRAINT scripts_pkey PRIMARY KEY (id)
);
CREATE INDEX scripts_by_name ON scripts (tenant_id, name, id);
CREATE TABLE script_versions (
    script_id {uuid} NOT NULL,
    version BIGINT NOT NULL,
    tenant_id {uuid} NOT NULL,
    doc TEXT NOT NULL,
    CONSTRAINT script_versions_pkey PRIMARY KEY (script_id, version),
    CONSTRAINT script_versions_script_fk FOREIGN KEY (script_id) REFERENCES scripts (id)
);
CREATE TABLE script_runs (
    id {uuid} NOT NULL,
    tenant_id {uuid} NOT NULL,
    interaction_id {uuid} NOT NULL,
    started_at BIGINT NOT NULL,
    version BIGINT NOT NULL,
    doc TEXT NOT NULL,
    CONSTRAINT script_runs_pkey PRIMARY KEY (id),
    CONSTRAINT script_runs_interaction_fk FOREIGN KEY (interaction_id) REFERENCES interactions (id)
);
CREATE INDEX script_runs_by_interaction ON script_runs (interaction_id, started_at, id);
CREATE TABLE alert_rule_sets (
    tenant_id {uuid} NOT NULL,
    version BIGINT NOT NULL,
    doc TEXT NOT NULL,
    CONSTRAINT alert_rule_sets_pkey PRIMARY KEY (tenant_id)
)
";

#[async_trait::async_trait]
impl MigrationTrait for Guidance {
    #[allow(elided_lifetimes_in_paths)] // the trait's own signature
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        for sql in statements(GUIDANCE, conn.get_database_backend()) {
            conn.execute_unprepared(&sql).await?;
        }
        Ok(())
    }
}
