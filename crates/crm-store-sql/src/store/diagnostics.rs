//! Diagnostics that are not part of the store ports: refreshing the planner's statistics
//! after a large load (`SqlStore::analyze`) and the query plans of the hot statements
//! (`SqlStore::explain_*`), which `tests/it/plans.rs` checks for the indexes they use.

use sea_orm::{ConnectionTrait, DbBackend, Value};

use crm_core::StoreError;
use crm_core::access::PrivateScope;
use crm_core::case::{CaseFilter, CaseSort};
use crm_core::customer::IdentityKey;
use crm_core::ids::TenantId;
use crm_core::ports::{CardLimits, StoreResult};

use super::customer::find_by_identity_sql;
use crate::connect::{SqlStore, finish};
use crate::sql::uid;

fn backend(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Backend(Box::new(e))
}

impl SqlStore {
    /// Refreshes the planner's statistics (`ANALYZE`), worth running after a bulk load.
    ///
    /// On PostgreSQL it runs `VACUUM (ANALYZE)`: the vacuum also marks the loaded pages
    /// all-visible, so that index-only scans (the identity lookup's) skip the table, and
    /// sets the rows' hint bits, which the first read of each loaded row would otherwise
    /// set, dirtying its page (reads that write). Autovacuum does the same some time after
    /// a load, where it is on.
    ///
    /// On SQLite it keeps only the per-index row estimates (`sqlite_stat1`) and drops the
    /// value samples (`sqlite_stat4`): with samples, SQLite re-plans every statement whose
    /// bound values might change the plan at each execution (a parse and a plan per
    /// lookup, several times the lookup itself), and the store's statements are plain
    /// index lookups that the row estimates plan well. The throw-away index at the end
    /// changes the schema, so every open connection reloads the statistics.
    ///
    /// # Errors
    /// `Backend` or `Unavailable` when a statement fails.
    pub async fn analyze(&self) -> StoreResult<()> {
        if self.backend == DbBackend::Postgres {
            self.write.execute_unprepared("VACUUM (ANALYZE)").await.map_err(crate::error::db)?;
            return Ok(());
        }
        crate::sql::sqlite_analyze(&self.write, "").await.map_err(crate::error::db)
    }

    /// The query plan of the identity lookup behind `find_by_identity`, as the backend
    /// prints it: `EXPLAIN QUERY PLAN` rows on SQLite, `EXPLAIN (FORMAT JSON)` on PostgreSQL
    /// with sequential scans disabled for that one transaction (so a small test table
    /// still shows which index the lookup can use).
    ///
    /// # Errors
    /// `Backend` when the backend refuses the statement.
    pub async fn explain_identity_lookup(&self, tenant: TenantId, key: &IdentityKey) -> StoreResult<String> {
        let values = vec![uid(tenant), Value::String(Some(key.as_str().to_owned())), uid(tenant)];
        self.explain(&find_by_identity_sql("c.doc", "?", 20), values).await
    }

    /// The query plan of the screen pop's one statement behind `cards_by_identity` (the
    /// lookup and the first card), printed as [`SqlStore::explain_identity_lookup`] does.
    ///
    /// # Errors
    /// `Backend` when the backend refuses the statement.
    pub async fn explain_screen_pop(&self, tenant: TenantId, key: &IdentityKey) -> StoreResult<String> {
        let (sql, values) = super::card::cards_by_identity_statement(
            self.backend,
            tenant,
            key,
            10,
            &PrivateScope::All,
            CardLimits::CARD,
        );
        self.explain(&sql, values).await
    }

    /// The query plan of the first page of the case list (`list_cases`, every case visible)
    /// with `filter` and `sort`, printed as [`SqlStore::explain_identity_lookup`] does.
    ///
    /// # Errors
    /// `Backend` when the backend refuses the statement.
    pub async fn explain_case_list(
        &self,
        tenant: TenantId,
        filter: &CaseFilter,
        sort: CaseSort,
    ) -> StoreResult<String> {
        let (sql, values) = super::case::case_list_statement(tenant, filter, &PrivateScope::All, sort, None, 50);
        self.explain(&sql, values).await
    }

    async fn explain(&self, sql: &str, values: Vec<Value>) -> StoreResult<String> {
        match self.backend {
            DbBackend::Postgres => {
                let tx = self.begin().await?;
                let result = async {
                    tx.execute_unprepared("SET LOCAL enable_seqscan = off").await.map_err(crate::error::db)?;
                    let sql = format!("EXPLAIN (FORMAT JSON) {sql}");
                    let rows = crate::sql::all(&tx, &sql, values).await.map_err(crate::error::db)?;
                    let mut plan = String::new();
                    for row in rows {
                        let json: serde_json::Value = row.try_get_by_index(0).map_err(backend)?;
                        plan.push_str(&json.to_string());
                    }
                    Ok::<String, StoreError>(plan)
                }
                .await;
                // Only a read happened; rolling back also resets the setting.
                let plan = result?;
                finish(tx, Ok(())).await?;
                Ok(plan)
            }
            _ => {
                let sql = format!("EXPLAIN QUERY PLAN {sql}");
                let rows = crate::sql::all(&self.read, &sql, values).await.map_err(crate::error::db)?;
                let mut plan = String::new();
                for row in rows {
                    let detail: String = row.try_get("", "detail").map_err(backend)?;
                    plan.push_str(&detail);
                    plan.push('\n');
                }
                Ok(plan)
            }
        }
    }
}
