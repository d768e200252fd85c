//! Benchmark and diagnostics helpers that are not part of the store ports: batched bulk
//! seeding, the screen-pop lookup as ONE hand-written statement through the sqlx that
//! sea-orm re-exports (to measure the ORM path's overhead), and the query plan of the
//! identity lookup (to check it uses an index).

use sea_orm::sqlx::{self, Row as _};
use sea_orm::{ConnectionTrait, DbBackend, Value};

use crm_core::StoreError;
use crm_core::case::Case;
use crm_core::customer::{Customer, IdentityKey};
use crm_core::ids::TenantId;
use crm_core::ports::StoreResult;

use super::case::{CASE_COLUMNS, case_values};
use super::customer::{CUSTOMER_COLUMNS, FIND_BY_IDENTITY, SideRows, customer_values, insert_chunked};
use crate::connect::{SqlStore, finish};
use crate::sql::uid;

/// The screen pop in one statement: the most recently contacted live customer holding the
/// key, and its open cases, most recently updated first.
const RAW_SCREEN_POP: &str = "WITH hit AS (SELECT c.id, c.doc FROM customer_identities i \
     JOIN customers c ON c.id = i.customer_id \
     WHERE i.tenant_id = ? AND i.key = ? AND c.tenant_id = ? AND c.status = 'active' \
     ORDER BY (c.last_contact_at IS NULL), c.last_contact_at DESC, c.id LIMIT 1) \
     SELECT hit.doc AS customer_doc, k.doc AS case_doc FROM hit LEFT JOIN cases k ON k.customer_id = hit.id \
     AND k.status IN ('open', 'pending', 'on_hold') AND k.tenant_id = ? \
     ORDER BY k.updated_at DESC, k.number DESC LIMIT ?";

/// [`RAW_SCREEN_POP`] with PostgreSQL's numbered placeholders (sqlx wants static SQL).
const RAW_SCREEN_POP_PG: &str = "WITH hit AS (SELECT c.id, c.doc FROM customer_identities i \
     JOIN customers c ON c.id = i.customer_id \
     WHERE i.tenant_id = $1 AND i.key = $2 AND c.tenant_id = $3 AND c.status = 'active' \
     ORDER BY (c.last_contact_at IS NULL), c.last_contact_at DESC, c.id LIMIT 1) \
     SELECT hit.doc AS customer_doc, k.doc AS case_doc FROM hit LEFT JOIN cases k ON k.customer_id = hit.id \
     AND k.status IN ('open', 'pending', 'on_hold') AND k.tenant_id = $4 \
     ORDER BY k.updated_at DESC, k.number DESC LIMIT $5";

fn backend(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Backend(Box::new(e))
}

fn decode<T: serde::de::DeserializeOwned>(json: &str) -> StoreResult<T> {
    serde_json::from_str(json).map_err(backend)
}

impl SqlStore {
    /// Inserts many customers (with their identity, name and custom-value rows) and cases in
    /// one transaction, with multi-row inserts and no outbox events or history: for
    /// benchmarks and imports, not part of the store ports.
    ///
    /// # Errors
    /// As the port writes: `Duplicate`, `InvalidReference`, `Unavailable`, `Backend`.
    pub async fn bulk_seed(&self, customers: &[Customer], cases: &[Case]) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            let mut rows: Vec<Value> = Vec::with_capacity(customers.len() * 10);
            let mut side = SideRows::default();
            for c in customers {
                rows.extend(customer_values(c)?);
                side.add(c);
            }
            insert_chunked(&tx, &format!("customers ({CUSTOMER_COLUMNS})"), 10, rows).await?;
            side.insert(&tx).await?;
            let mut rows: Vec<Value> = Vec::with_capacity(cases.len() * 17);
            for c in cases {
                rows.extend(case_values(c)?);
            }
            insert_chunked(&tx, &format!("cases ({CASE_COLUMNS})"), 17, rows).await
        }
        .await;
        finish(tx, result).await
    }

    /// Refreshes the planner's statistics (`ANALYZE`), worth running after a bulk load.
    ///
    /// # Errors
    /// `Backend` or `Unavailable` when the statement fails.
    pub async fn analyze(&self) -> StoreResult<()> {
        self.write.execute_unprepared("ANALYZE").await.map_err(crate::error::db)?;
        Ok(())
    }

    /// The screen pop (the first live customer holding `key` and up to `open_cases` of its
    /// open cases) as ONE hand-written SQL statement through sqlx, bypassing sea-orm: the
    /// benchmark compares it with `find_by_identity` + `open_cases_of`.
    ///
    /// # Errors
    /// `Backend` or `Unavailable` when the query fails.
    pub async fn raw_screen_pop(
        &self,
        tenant: TenantId,
        key: &IdentityKey,
        open_cases: u32,
    ) -> StoreResult<Option<(Customer, Vec<Case>)>> {
        let t = tenant.as_uuid();
        let limit = i64::from(open_cases);
        let rows: Vec<(String, Option<String>)> = match self.backend {
            DbBackend::Postgres => {
                let rows = sqlx::query(RAW_SCREEN_POP_PG)
                    .bind(t)
                    .bind(key.as_str())
                    .bind(t)
                    .bind(t)
                    .bind(limit)
                    .fetch_all(self.read.get_postgres_connection_pool())
                    .await
                    .map_err(|e| StoreError::Unavailable(Box::new(e)))?;
                rows.iter()
                    .map(|r| Ok((r.try_get(0).map_err(backend)?, r.try_get(1).map_err(backend)?)))
                    .collect::<StoreResult<_>>()?
            }
            _ => {
                let rows = sqlx::query(RAW_SCREEN_POP)
                    .bind(t)
                    .bind(key.as_str())
                    .bind(t)
                    .bind(t)
                    .bind(limit)
                    .fetch_all(self.read.get_sqlite_connection_pool())
                    .await
                    .map_err(|e| StoreError::Unavailable(Box::new(e)))?;
                rows.iter()
                    .map(|r| Ok((r.try_get(0).map_err(backend)?, r.try_get(1).map_err(backend)?)))
                    .collect::<StoreResult<_>>()?
            }
        };
        let Some((first, _)) = rows.first() else { return Ok(None) };
        let customer: Customer = decode(first)?;
        let cases = rows.iter().filter_map(|(_, c)| c.as_deref()).map(decode).collect::<StoreResult<Vec<Case>>>()?;
        Ok(Some((customer, cases)))
    }

    /// The query plan of the identity lookup behind `find_by_identity`, as the backend
    /// prints it: `EXPLAIN QUERY PLAN` rows on SQLite, `EXPLAIN (FORMAT JSON)` on PostgreSQL
    /// with sequential scans disabled for that one transaction (so a small test table
    /// still shows which index the lookup can use).
    ///
    /// # Errors
    /// `Backend` when the backend refuses the statement.
    pub async fn explain_identity_lookup(&self, tenant: TenantId, key: &IdentityKey) -> StoreResult<String> {
        let values =
            vec![uid(tenant), Value::String(Some(key.as_str().to_owned())), uid(tenant), Value::BigInt(Some(20))];
        match self.backend {
            DbBackend::Postgres => {
                let tx = self.begin().await?;
                let result = async {
                    tx.execute_unprepared("SET LOCAL enable_seqscan = off").await.map_err(crate::error::db)?;
                    let sql = format!("EXPLAIN (FORMAT JSON) {FIND_BY_IDENTITY}");
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
                let sql = format!("EXPLAIN QUERY PLAN {FIND_BY_IDENTITY}");
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
