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

/// `m0024_sla_marks`: a case's SLA instants on its row (ADR 0028) for the case list's
/// "due next" order and SLA conditions, the timer of its warnings and breaches, and the
/// alarms raised (one row each: the key that makes each event exactly once).
pub(super) struct SlaMarks;

impl MigrationName for SlaMarks {
    fn name(&self) -> &str {
        "m0024_sla_marks"
    }
}

/// The DDL of `m0024`, both backends. `sla_due_key` is the next deadline in nanoseconds, or
/// the largest `BIGINT` when there is none (so it is never `NULL`, which the two backends
/// sort differently); `sla_fire_at` is the timer's next instant.
const SLA_MARKS: &str = "
ALTER TABLE cases ADD COLUMN sla_due_key BIGINT NOT NULL DEFAULT 9223372036854775807;
ALTER TABLE cases ADD COLUMN sla_warning_at BIGINT;
ALTER TABLE cases ADD COLUMN sla_breach_at BIGINT;
ALTER TABLE cases ADD COLUMN sla_fire_at BIGINT;
CREATE INDEX cases_by_sla_due ON cases (tenant_id, sla_due_key, number);
CREATE INDEX cases_by_sla_fire ON cases (sla_fire_at) WHERE sla_fire_at IS NOT NULL;
CREATE TABLE sla_alarms (
    case_id {uuid} NOT NULL,
    metric {text} NOT NULL,
    kind {text} NOT NULL,
    started_at BIGINT NOT NULL,
    tenant_id {uuid} NOT NULL,
    fired_at BIGINT NOT NULL,
    PRIMARY KEY (case_id, metric, kind, started_at)
){without_rowid}";

#[async_trait::async_trait]
impl MigrationTrait for SlaMarks {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    #[allow(elided_lifetimes_in_paths)] // the trait's own signature
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        for statement in statements(SLA_MARKS, conn.get_database_backend()) {
            conn.execute_unprepared(&statement).await?;
        }
        Ok(())
    }
}

/// `m0028_sla_mark_generation`: how many times a case's mark was written apart from an edit
/// of it (ADR 0032), the compare-and-set guard, with the version, of every write of the row:
/// a reply's re-mark, the `sla-remark` and `sla-timers` rounds and case edits never
/// overwrite a newer mark with an older one.
pub(super) struct SlaMarkGenerations;

impl MigrationName for SlaMarkGenerations {
    fn name(&self) -> &str {
        "m0028_sla_mark_generation"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for SlaMarkGenerations {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    #[allow(elided_lifetimes_in_paths)] // the trait's own signature
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        conn.execute_unprepared("ALTER TABLE cases ADD COLUMN sla_gen BIGINT NOT NULL DEFAULT 0").await?;
        Ok(())
    }
}
