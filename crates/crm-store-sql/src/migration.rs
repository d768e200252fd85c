//! Forward-only schema migrations (sea-orm-migration). The first migration creates the whole
//! schema from `schema.sql`, written once for both backends: `{uuid}` becomes `UUID` on
//! PostgreSQL and `BLOB` on SQLite, `{text}` a `TEXT COLLATE "C"` on PostgreSQL so text
//! sorts byte-wise as on SQLite (and as Rust's `String` ordering), and `{without_rowid}`
//! makes SQLite store the lookup side tables clustered on their key. Run them with
//! [`crate::SqlStore::migrate`] or standalone with the `crm-store-sql-migrate` binary.

use sea_orm::{ConnectionTrait, DbBackend, DbErr};
use sea_orm_migration::{MigrationName, MigrationTrait, MigratorTrait, SchemaManager, async_trait};

/// Every migration of the store, in order.
#[derive(Debug)]
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(InitialSchema),
            Box::new(OutboxPendingInClaimOrder),
            Box::new(CaseHistoryOneRowPerChange),
            Box::new(SqliteNameSearchInFts5),
        ]
    }
}

/// The DDL of a schema file for `backend`, split into statements.
pub(crate) fn statements(ddl: &str, backend: DbBackend) -> Vec<String> {
    let (uuid, text, without_rowid) = match backend {
        DbBackend::Postgres => ("UUID", "TEXT COLLATE \"C\"", ""),
        _ => ("BLOB", "TEXT", " WITHOUT ROWID"),
    };
    ddl.replace("{uuid}", uuid)
        .replace("{text}", text)
        .replace("{without_rowid}", without_rowid)
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `m0001`: every table, constraint and index.
struct InitialSchema;

impl MigrationName for InitialSchema {
    fn name(&self) -> &str {
        "m0001_initial_schema"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for InitialSchema {
    #[allow(elided_lifetimes_in_paths)] // the trait's own signature
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        for sql in statements(include_str!("schema.sql"), conn.get_database_backend()) {
            conn.execute_unprepared(&sql).await?;
        }
        Ok(())
    }
}

/// `m0002`: the pending outbox entries indexed in the order they are claimed (`at, id`), so
/// a claim reads the first due entries in order and stops at its limit. The first index
/// (`topic, next_attempt_at, at`) made PostgreSQL collect every due entry, then sort: with
/// the dead index entries of delivered rows not yet vacuumed, a claim visited ~100,000 of
/// them (22 ms) to find 40; an ordered index scan also marks dead entries as it passes.
struct OutboxPendingInClaimOrder;

impl MigrationName for OutboxPendingInClaimOrder {
    fn name(&self) -> &str {
        "m0002_outbox_pending_in_claim_order"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for OutboxPendingInClaimOrder {
    #[allow(elided_lifetimes_in_paths)] // the trait's own signature
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        conn.execute_unprepared("DROP INDEX outbox_pending").await?;
        conn.execute_unprepared("CREATE INDEX outbox_pending ON outbox (topic, at, id) WHERE status = 'pending'")
            .await?;
        Ok(())
    }
}

/// `m0003`: a case's history as one row per change (`case_changes`: the fields one creation
/// or update set, as a JSON array) instead of one row per field (`case_history`), which it
/// replaces, existing history included. A creation wrote ~8 history rows with their index
/// entries; PostgreSQL did ~35 % more creations per second with one (ADR 0010).
struct CaseHistoryOneRowPerChange;

impl MigrationName for CaseHistoryOneRowPerChange {
    fn name(&self) -> &str {
        "m0003_case_history_one_row_per_change"
    }
}

/// The DDL and data move of `m0003`; `{changes}` is the backend's JSON aggregate.
const CASE_CHANGES: &str = "CREATE TABLE case_changes (
    tenant_id {uuid} NOT NULL,
    case_id {uuid} NOT NULL,
    seq BIGINT NOT NULL,
    version BIGINT NOT NULL,
    at BIGINT NOT NULL,
    actor_id {uuid} NOT NULL,
    changes TEXT NOT NULL,
    CONSTRAINT case_changes_pkey PRIMARY KEY (case_id, seq),
    CONSTRAINT case_changes_case_fk FOREIGN KEY (case_id) REFERENCES cases (id) ON DELETE CASCADE
);
INSERT INTO case_changes (tenant_id, case_id, seq, version, at, actor_id, changes)
    SELECT tenant_id, case_id, ROW_NUMBER() OVER (PARTITION BY case_id ORDER BY MIN(seq)), version, at, actor_id,
        {changes}
    FROM case_history GROUP BY tenant_id, case_id, version, at, actor_id;
DROP TABLE case_history";

#[async_trait::async_trait]
impl MigrationTrait for CaseHistoryOneRowPerChange {
    /// In one transaction on every backend: the table, its rows and the old table's drop
    /// land together or not at all (SQLite, too, runs DDL in transactions).
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    #[allow(elided_lifetimes_in_paths)] // the trait's own signature
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        let backend = conn.get_database_backend();
        // The fields of one change in the order the store reads them (by name), each as
        // `{"field": …, "old": …, "new": …}` with the stored JSON values as they are.
        let changes = match backend {
            DbBackend::Postgres => {
                "json_agg(json_build_object('field', field, 'old', old_value::json, 'new', new_value::json) \
                 ORDER BY field, seq)::text"
            }
            _ => {
                "json_group_array(json_object('field', field, 'old', json(old_value), 'new', json(new_value)) \
                 ORDER BY field, seq)"
            }
        };
        for sql in statements(&CASE_CHANGES.replace("{changes}", changes), backend) {
            conn.execute_unprepared(&sql).await?;
        }
        Ok(())
    }
}

/// `m0004`, SQLite only: name search moves from the `customer_name_terms` rows to ONE FTS5
/// row per customer in `customer_names`, keyed by a new `customers.name_key` (ADR 0012). The
/// rows are built from the terms already stored (their words and codes), then the terms'
/// table goes. PostgreSQL keeps its terms (nothing to do).
struct SqliteNameSearchInFts5;

impl MigrationName for SqliteNameSearchInFts5 {
    fn name(&self) -> &str {
        "m0004_sqlite_name_search_in_fts5"
    }
}

/// The FTS5 table of SQLite's name search (`crate::store::names` says why so).
pub(crate) const CUSTOMER_NAMES_FTS: &str = "CREATE VIRTUAL TABLE customer_names USING fts5(words, codes, \
     content='', contentless_delete=1, tokenize='ascii', detail=column)";

/// The rest of `m0004` after [`CUSTOMER_NAMES_FTS`].
const NAME_KEYS: &str = "ALTER TABLE customers ADD COLUMN name_key INTEGER;
UPDATE customers SET name_key = rowid;
CREATE UNIQUE INDEX customers_by_name_key ON customers (name_key);
INSERT INTO customer_names (rowid, words, codes)
    SELECT c.name_key,
        coalesce((SELECT group_concat(t.term, ' ') FROM customer_name_terms t WHERE t.customer_id = c.id AND t.kind = 'w'), ''),
        coalesce((SELECT group_concat(t.term, ' ') FROM customer_name_terms t WHERE t.customer_id = c.id AND t.kind = 'p'), '')
    FROM customers c;
DROP TABLE customer_name_terms";

#[async_trait::async_trait]
impl MigrationTrait for SqliteNameSearchInFts5 {
    /// In one transaction: the column, the keys, the rows and the terms' drop land together.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    #[allow(elided_lifetimes_in_paths)] // the trait's own signature
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        if conn.get_database_backend() != DbBackend::Sqlite {
            return Ok(());
        }
        conn.execute_unprepared(CUSTOMER_NAMES_FTS).await?;
        for sql in statements(NAME_KEYS, DbBackend::Sqlite) {
            conn.execute_unprepared(&sql).await?;
        }
        Ok(())
    }
}
