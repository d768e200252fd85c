//! `m0016`: the audit log (ADM-4): entries written with each write (`audit_pending`), the
//! chained, append-only log (`audit_log`, one chain per tenant, indexed by what it is
//! filtered on) and each chain's head and anchor (`audit_heads`).

use sea_orm::{ConnectionTrait, DbErr};
use sea_orm_migration::{MigrationName, MigrationTrait, SchemaManager};

use super::statements;

/// `m0016`: the audit log.
pub(super) struct AuditLog;

impl MigrationName for AuditLog {
    fn name(&self) -> &str {
        "m0016_audit_log"
    }
}

/// The DDL of `m0016`.
const AUDIT_LOG: &str = "
CREATE TABLE audit_pending (
    id {uuid} NOT NULL,
    tenant_id {uuid} NOT NULL,
    at BIGINT NOT NULL,
    doc TEXT NOT NULL,
    CONSTRAINT audit_pending_pkey PRIMARY KEY (id)
);
CREATE INDEX audit_pending_in_order ON audit_pending (tenant_id, at, id);
CREATE TABLE audit_log (
    tenant_id {uuid} NOT NULL,
    seq BIGINT NOT NULL,
    id {uuid} NOT NULL,
    at BIGINT NOT NULL,
    actor_id {uuid},
    action {text} NOT NULL,
    target_kind {text} NOT NULL,
    target_id {text} NOT NULL,
    doc TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    CONSTRAINT audit_log_pkey PRIMARY KEY (tenant_id, seq)
);
CREATE INDEX audit_log_by_actor ON audit_log (tenant_id, actor_id, seq);
CREATE INDEX audit_log_by_target ON audit_log (tenant_id, target_kind, target_id, seq);
CREATE INDEX audit_log_by_action ON audit_log (tenant_id, action, seq);
CREATE INDEX audit_log_by_time ON audit_log (tenant_id, at);
CREATE TABLE audit_heads (
    tenant_id {uuid} NOT NULL,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL,
    anchor_seq BIGINT NOT NULL,
    anchor_hash TEXT NOT NULL,
    CONSTRAINT audit_heads_pkey PRIMARY KEY (tenant_id)
)
";

#[async_trait::async_trait]
impl MigrationTrait for AuditLog {
    #[allow(elided_lifetimes_in_paths)] // the trait's own signature
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        for sql in statements(AUDIT_LOG, conn.get_database_backend()) {
            conn.execute_unprepared(&sql).await?;
        }
        Ok(())
    }
}
