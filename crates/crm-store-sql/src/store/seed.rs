//! Benchmark-only store code, compiled with the `bench` feature: batched bulk seeding
//! (`SqlStore::bulk_seed`, no history and no outbox events; on a SQLite file through
//! `crate::bulk`, ADR 0006) and the screen pop as ONE hand-written statement through the
//! sqlx that sea-orm re-exports (`SqlStore::raw_screen_pop`, to measure the ORM path's
//! overhead). The server needs neither at run time: its demo seed goes through the use
//! cases; only `crm-server bench-seed` and the store benchmark call them.

use std::collections::{BTreeSet, HashSet};

use sea_orm::sqlx::{self, Row as _};
use sea_orm::{DbBackend, Value};

use crm_core::StoreError;
use crm_core::case::Case;
use crm_core::customer::{Customer, IdentityKey};
use crm_core::ids::{CustomerId, TenantId};
use crm_core::ports::StoreResult;

use super::case::{CASE_COLUMN_COUNT, CASE_COLUMNS, case_values};
use super::customer::{CUSTOMER_COLUMNS, SideRows, chunked_inserts, customer_values};
use super::names;
use super::sequence::raise_account_counters;
use crate::bulk::{self, BulkTarget};
use crate::connect::{SqlStore, finish};
use crate::error::{map_db, map_rusqlite};
use crate::inline::sqlite_value;
use crate::sql::{exec, marks, text, uid};

/// The screen pop in one statement: the most recently contacted live customer holding the
/// key, and its open cases, most recently updated first.
const RAW_SCREEN_POP: &str = "WITH hit AS (SELECT c.id, c.doc FROM customer_identities i \
     JOIN customers c ON c.id = i.customer_id \
     WHERE i.tenant_id = ? AND i.key = ? AND c.tenant_id = ? AND c.status = 'active' \
     ORDER BY (c.last_contact_at IS NULL), c.last_contact_at DESC, c.id LIMIT 1) \
     SELECT hit.doc AS customer_doc, k.doc AS case_doc FROM hit LEFT JOIN cases k ON k.customer_id = hit.id \
     AND (k.status = 'open' OR k.status = 'pending' OR k.status = 'on_hold') AND k.tenant_id = ? \
     ORDER BY k.updated_at DESC, k.number DESC";

/// [`RAW_SCREEN_POP`] with PostgreSQL's numbered placeholders.
const RAW_SCREEN_POP_PG: &str = "WITH hit AS (SELECT c.id, c.doc FROM customer_identities i \
     JOIN customers c ON c.id = i.customer_id \
     WHERE i.tenant_id = $1 AND i.key = $2 AND c.tenant_id = $3 AND c.status = 'active' \
     ORDER BY (c.last_contact_at IS NULL), c.last_contact_at DESC, c.id LIMIT 1) \
     SELECT hit.doc AS customer_doc, k.doc AS case_doc FROM hit LEFT JOIN cases k ON k.customer_id = hit.id \
     AND (k.status = 'open' OR k.status = 'pending' OR k.status = 'on_hold') AND k.tenant_id = $4 \
     ORDER BY k.updated_at DESC, k.number DESC";

/// How many records [`SqlStore::bulk_seed`] writes per slice.
const SEED_SLICE: usize = 800;

/// A slice of the records of a bulk seed.
enum SeedSlice<'a> {
    /// Customers, and on SQLite the `name_key` of the first (the others' follow it).
    Customers {
        customers: &'a [Customer],
        backend: DbBackend,
        first_name_key: i64,
    },
    Cases(&'a [Case]),
}

/// One table's rows of a slice.
struct SeedTable {
    /// `table (columns)`.
    target: String,
    /// Values per row.
    cols: usize,
    /// `cols` values per row, rows one after the other.
    values: Vec<Value>,
    /// Rows per statement on the SQLite bulk path (`crate::bulk`).
    rows_per_statement: usize,
}

impl SeedTable {
    fn new(target: String, cols: usize, values: Vec<Value>) -> Self {
        Self { target, cols, values, rows_per_statement: 1 }
    }

    /// The rows as SQLite bulk-load rows: single-row insert text, SQLite values.
    fn into_sqlite(self) -> StoreResult<bulk::Rows> {
        let Self { target, cols, values, rows_per_statement } = self;
        let values = values
            .into_iter()
            .map(sqlite_value)
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| StoreError::Backend(format!("a value of {target} that SQLite cannot bind").into()))?;
        let sql = format!("INSERT INTO {target} VALUES ({})", marks(cols));
        Ok(bulk::Rows { sql, cols, values, rows_per_statement })
    }
}

impl SeedSlice<'_> {
    /// The rows of the slice per table.
    fn tables(self) -> StoreResult<Vec<SeedTable>> {
        match self {
            Self::Customers { customers, backend, first_name_key } => {
                let fts = names::in_fts(backend);
                let cols = if fts { 11 } else { 10 };
                let mut rows: Vec<Value> = Vec::with_capacity(customers.len() * cols);
                let mut fts_rows: Vec<Value> = Vec::new();
                let mut side = SideRows::new(backend);
                for (c, key) in customers.iter().zip(first_name_key..) {
                    rows.extend(customer_values(c)?);
                    if fts {
                        rows.push(Value::BigInt(Some(key)));
                        let [words, codes] = names::fts_columns(c);
                        fts_rows.extend([Value::BigInt(Some(key)), text(words), text(codes)]);
                    }
                    side.add(c);
                }
                let target = if fts {
                    format!("customers ({CUSTOMER_COLUMNS}, name_key)")
                } else {
                    format!("customers ({CUSTOMER_COLUMNS})")
                };
                // The side tables' rows go one per statement on the SQLite bulk path
                // (several per statement measured no faster).
                let mut out = vec![SeedTable::new(target, cols, rows)];
                if fts {
                    out.push(SeedTable::new("customer_names (rowid, words, codes)".into(), 3, fts_rows));
                }
                out.extend(side.tables().map(|(target, cols, values)| SeedTable::new(target.to_owned(), cols, values)));
                Ok(out)
            }
            Self::Cases(cases) => {
                let mut rows: Vec<Value> = Vec::with_capacity(cases.len() * 17);
                for c in cases {
                    rows.extend(case_values(c)?);
                }
                // A case row keeps nine B-trees and a foreign key: on the SQLite bulk path
                // 32 rows per statement measured a third less time per row.
                let table = SeedTable {
                    rows_per_statement: 32,
                    ..SeedTable::new(format!("cases ({CASE_COLUMNS})"), CASE_COLUMN_COUNT, rows)
                };
                Ok(vec![table])
            }
        }
    }

    /// The slice as multi-row insert statements.
    fn statements(self) -> StoreResult<Vec<(String, Vec<Value>)>> {
        let tables = self.tables()?;
        Ok(tables.into_iter().flat_map(|t| chunked_inserts(&t.target, t.cols, t.values)).collect())
    }

    /// The slice as rows for a SQLite bulk load.
    fn sqlite_rows(self) -> StoreResult<Vec<bulk::Rows>> {
        let tables = self.tables()?;
        tables.into_iter().filter(|t| !t.values.is_empty()).map(SeedTable::into_sqlite).collect()
    }
}

/// The records of a bulk seed in slices: customers first, then cases. On SQLite the
/// customers get the `name_key`s after `last_name_key`, in order.
fn slices<'a>(
    backend: DbBackend,
    last_name_key: i64,
    customers: &'a [Customer],
    cases: &'a [Case],
) -> impl Iterator<Item = SeedSlice<'a>> {
    (last_name_key + 1..)
        .step_by(SEED_SLICE)
        .zip(customers.chunks(SEED_SLICE))
        .map(move |(first_name_key, customers)| SeedSlice::Customers { customers, backend, first_name_key })
        .chain(cases.chunks(SEED_SLICE).map(SeedSlice::Cases))
}

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
    ///
    /// The rows are written in slices of 800 records, and the statements of the
    /// next slice (documents serialised, identity keys and name terms worked out) are built
    /// while the current slice's run on another thread (sqlx's connection thread, or on a
    /// SQLite file the bulk loader's, ADR 0006), so both cores work.
    pub async fn bulk_seed(&self, customers: &[Customer], cases: &[Case]) -> StoreResult<()> {
        if let Some(target) = &self.bulk {
            self.bulk_seed_file(target, customers, cases).await?;
            // Generated numbers go past the loaded ones (`AC-000006`).
            return raise_account_counters(&self.write, customers).await;
        }
        let tx = self.begin().await?;
        let result = async {
            let last_name_key = if names::in_fts(self.backend) {
                let row = crate::sql::one(&tx, names::LAST_NAME_KEY, vec![]).await.map_err(crate::error::db)?;
                row.as_ref().map(|r| crate::sql::col::<i64>(r, "k")).transpose()?.unwrap_or(0)
            } else {
                0
            };
            let mut slices = slices(self.backend, last_name_key, customers, cases);
            let mut next = slices.next().map(SeedSlice::statements).transpose()?;
            while let Some(statements) = next.take() {
                let following = slices.next();
                // `join!` polls the inserts first: they hand the statement to the
                // connection's thread and wait, and the next slice is built meanwhile.
                let (done, built) = futures::join!(
                    async {
                        for (sql, values) in statements {
                            // Every reference of a seeded row is its customer.
                            exec(&tx, &sql, values).await.map_err(|e| map_db(e, "customer"))?;
                        }
                        Ok::<(), StoreError>(())
                    },
                    async { following.map(SeedSlice::statements).transpose() }
                );
                done?;
                next = built?;
            }
            raise_account_counters(&tx, customers).await
        }
        .await;
        finish(tx, result).await
    }

    /// [`SqlStore::bulk_seed`] on a SQLite file: the rows go to a loading thread of their
    /// own (`crate::bulk`, ADR 0006) while the next slice is built, and the store's single
    /// write connection is held meanwhile so that its other writers wait for the load.
    async fn bulk_seed_file(&self, target: &BulkTarget, customers: &[Customer], cases: &[Case]) -> StoreResult<()> {
        let mut turn = self
            .write
            .get_sqlite_connection_pool()
            .acquire()
            .await
            .map_err(|e| StoreError::Unavailable(Box::new(e)))?;
        // No other writer can take a name key while the turn is held.
        let last_name_key: i64 =
            sqlx::query_scalar(names::LAST_NAME_KEY).fetch_one(&mut *turn).await.map_err(backend)?;
        let (tx, rx) = tokio::sync::mpsc::channel(2);
        let (path, busy_timeout) = (target.path.clone(), target.busy_timeout);
        let loader = tokio::task::spawn_blocking(move || bulk::load(&path, busy_timeout, rx));
        let sent = async {
            // The loader checks no foreign keys: side rows follow the customer they are built
            // from, and so do cases of the load's own customers; the others' customers must
            // exist already.
            let loaded: HashSet<CustomerId> = customers.iter().map(|c| c.id).collect();
            let elsewhere: BTreeSet<CustomerId> =
                cases.iter().map(|c| c.customer()).filter(|id| !loaded.contains(id)).collect();
            if !elsewhere.is_empty() {
                let values = elsewhere
                    .into_iter()
                    .map(|id| sqlite_value(uid(id)))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| StoreError::Backend("a customer id that SQLite cannot bind".into()))?;
                let rows = bulk::Exists { sql: "SELECT 1 FROM customers WHERE id = ?".into(), cols: 1, values };
                if tx.send(bulk::Message::Require(rows)).await.is_err() {
                    return Ok(());
                }
            }
            for slice in slices(DbBackend::Sqlite, last_name_key, customers, cases) {
                if tx.send(bulk::Message::Rows(slice.sqlite_rows()?)).await.is_err() {
                    // The loader stopped on an error: its answer says which.
                    return Ok(());
                }
            }
            // Only an explicit commit commits: a failure above drops the sender and the
            // load is rolled back.
            let _ = tx.send(bulk::Message::Commit).await;
            Ok::<(), StoreError>(())
        }
        .await;
        drop(tx);
        let loaded = loader.await.map_err(backend)?;
        sent?;
        match loaded {
            Ok(true) => Ok(()),
            Ok(false) => Err(StoreError::Backend("the bulk load stopped before its commit".into())),
            Err(e) => Err(map_rusqlite(e, "customer")),
        }
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
        let limit = crate::sql::limit(open_cases.into());
        let rows: Vec<(String, Option<String>)> = match self.backend {
            DbBackend::Postgres => {
                let rows = sqlx::query(sqlx::AssertSqlSafe(format!("{RAW_SCREEN_POP_PG}{limit}")))
                    .bind(t)
                    .bind(key.as_str())
                    .bind(t)
                    .bind(t)
                    .fetch_all(self.read.get_postgres_connection_pool())
                    .await
                    .map_err(|e| StoreError::Unavailable(Box::new(e)))?;
                rows.iter()
                    .map(|r| Ok((r.try_get(0).map_err(backend)?, r.try_get(1).map_err(backend)?)))
                    .collect::<StoreResult<_>>()?
            }
            _ => {
                let rows = sqlx::query(sqlx::AssertSqlSafe(format!("{RAW_SCREEN_POP}{limit}")))
                    .bind(t)
                    .bind(key.as_str())
                    .bind(t)
                    .bind(t)
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
}
