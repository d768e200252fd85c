//! `m0029`: outbound calling tied to alerts and scripts (OUT-1, GUI-1, GUI-2).
//!
//! - `call_lists.active`: whether a list hands out entries, a column beside its document
//!   (filled from the documents), so the screen pop's one aggregate statement can ask
//!   whether a customer has an open entry in an active list.
//! - `call_list_entries_open_by_customer`: the open entries of a customer (partial index),
//!   which that sub-select reads (`crates/crm-store-sql/src/store/guidance.rs`).
//! - `script_runs.entry_id`: the call-list entry a run was started for, with the index the
//!   entry's script history is read through.

use sea_orm::{ConnectionTrait, DbBackend, DbErr};
use sea_orm_migration::{MigrationName, MigrationTrait, SchemaManager};

use super::statements;

/// The migration.
pub(super) struct OutboundLinks;

impl MigrationName for OutboundLinks {
    fn name(&self) -> &str {
        "m0029_outbound_links"
    }
}

/// The DDL of `m0029`, both backends.
const OUTBOUND_LINKS: &str = "
ALTER TABLE call_lists ADD COLUMN active INTEGER NOT NULL DEFAULT 1;
CREATE INDEX call_list_entries_open_by_customer ON call_list_entries (customer_id, list_id) WHERE state = 'open';
ALTER TABLE script_runs ADD COLUMN entry_id {uuid};
CREATE INDEX script_runs_by_entry ON script_runs (entry_id, started_at, id) WHERE entry_id IS NOT NULL
";

#[async_trait::async_trait]
impl MigrationTrait for OutboundLinks {
    #[allow(elided_lifetimes_in_paths)] // the trait's own signature
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        let backend = conn.get_database_backend();
        for sql in statements(OUTBOUND_LINKS, backend) {
            conn.execute_unprepared(&sql).await?;
        }
        // The lists paused before this migration: their documents say so.
        let paused = match backend {
            DbBackend::Postgres => "UPDATE call_lists SET active = 0 WHERE (doc::jsonb ->> 'active') = 'false'",
            _ => "UPDATE call_lists SET active = 0 WHERE json_extract(doc, '$.active') = 0",
        };
        conn.execute_unprepared(paused).await?;
        Ok(())
    }
}
