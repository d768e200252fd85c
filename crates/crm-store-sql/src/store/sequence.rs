//! Per-tenant counters (account numbers, case numbers): a row of the `sequences` table
//! bumped by one upsert, atomic on both backends (PostgreSQL locks the row for the upsert,
//! SQLite has a single writer). Concurrent callers of one process share upserts: SQLite's
//! write queue and PostgreSQL's draw rounds (`crate::draws`) draw for several at once.

use crm_core::StoreError;
use crm_core::ids::TenantId;
use crm_core::ports::StoreResult;

use crate::connect::SqlStore;
use crate::error::db;

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

impl SqlStore {
    /// The counter's next value for the tenant (from 1): unique and increasing under
    /// concurrent callers, also across server replicas; values may be skipped.
    pub(crate) async fn next_sequence(&self, tenant: TenantId, counter: Counter) -> StoreResult<u64> {
        if let Some(queue) = &self.queue {
            return queue.draw(tenant.as_uuid(), counter.as_str()).await.map_err(db);
        }
        match &self.draws {
            Some(draws) => draws.draw(tenant.as_uuid(), counter.as_str()).await.map_err(db),
            None => Err(StoreError::Backend("this store has no counter path".into())),
        }
    }
}
