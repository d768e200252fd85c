//! Per-tenant counters (account numbers, case numbers): a row of the `sequences` table
//! bumped by one upsert, atomic on both backends (PostgreSQL locks the row for the upsert,
//! SQLite has a single writer, and its write queue draws for several callers at once).

use sea_orm::QueryResult;

use crm_core::StoreError;
use crm_core::ids::TenantId;
use crm_core::ports::StoreResult;

use crate::connect::SqlStore;
use crate::error::db;
use crate::sql::{col, one, text, uid};

/// The counters there are (the `sequences.name` check constraint lists the same).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Counter {
    Account,
    Case,
}

impl Counter {
    fn as_str(self) -> &'static str {
        match self {
            Self::Account => "account",
            Self::Case => "case",
        }
    }
}

fn value_of(row: Option<QueryResult>) -> StoreResult<u64> {
    let row = row.ok_or_else(|| StoreError::Backend("the counter statement returned no row".into()))?;
    let value: i64 = col(&row, "value")?;
    u64::try_from(value).map_err(|e| StoreError::Backend(Box::new(e)))
}

impl SqlStore {
    /// The counter's next value for the tenant (from 1): unique and increasing under
    /// concurrent callers, also across server replicas; values may be skipped.
    pub(crate) async fn next_sequence(&self, tenant: TenantId, counter: Counter) -> StoreResult<u64> {
        if let Some(queue) = &self.queue {
            return queue.draw(tenant.as_uuid(), counter.as_str()).await.map_err(db);
        }
        let sql = "INSERT INTO sequences (tenant_id, name, value) VALUES (?, ?, 1) \
                   ON CONFLICT (tenant_id, name) DO UPDATE SET value = sequences.value + 1 RETURNING value";
        value_of(one(&self.write, sql, vec![uid(tenant), text(counter.as_str())]).await.map_err(db)?)
    }
}
