//! Forward-only schema migrations (sea-orm-migration). The first migration creates the whole
//! schema from `schema.sql`, written once for both backends: `{uuid}` becomes `UUID` on
//! PostgreSQL and `BLOB` on SQLite, `{text}` a `TEXT COLLATE "C"` on PostgreSQL so text
//! sorts byte-wise as on SQLite (and as Rust's `String` ordering), and `{without_rowid}`
//! makes SQLite store the lookup side tables clustered on their key. Run them with
//! [`crate::SqlStore::migrate`] or standalone with the `crm-store-sql-migrate` binary.

mod sla;

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};
use sea_orm_migration::{MigrationName, MigrationTrait, MigratorTrait, SchemaManager, async_trait};

mod m0014;

use m0014::Guidance;
mod audit;
mod m0018_knowledge;
mod m0020_console;
mod m0021_outbox_feed;
mod m0022_responses;
mod m0026_cases;
mod m0029_outbound_links;
mod m0034_roles;
mod m0035_mailbox_positions;
mod m0036_attachment_originals;
mod m0037_connectors;

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
            Box::new(SqliteChecksAsComparisons),
            Box::new(CasesByStatusInListOrder),
            Box::new(CasesByPriority),
            Box::new(ApplicationStateTables),
            Box::new(CaseAndTaskLists),
            Box::new(Administration),
            Box::new(InteractionSearchCasesMessages),
            Box::new(sla::SlaSettings),
            Box::new(crate::store::outbound::OutboundCalling),
            Box::new(Guidance),
            Box::new(Webhooks),
            Box::new(audit::AuditLog),
            Box::new(crate::store::mail::CaseMails),
            Box::new(m0018_knowledge::KnowledgeArticles),
            Box::new(crate::store::attachment::Attachments),
            Box::new(m0020_console::ConsoleSignIn),
            Box::new(m0021_outbox_feed::OutboxFeed),
            Box::new(m0022_responses::StandardResponses),
            Box::new(crate::store::inbound_mail::InboundMails),
            Box::new(sla::SlaMarks),
            Box::new(m0026_cases::CaseTagsListsParents),
            Box::new(crate::store::contacts::Contacts),
            Box::new(sla::SlaMarkGenerations),
            Box::new(m0029_outbound_links::OutboundLinks),
            Box::new(m0034_roles::TenantRoles),
            Box::new(m0035_mailbox_positions::MailboxPositions),
            Box::new(m0036_attachment_originals::AttachmentOriginals),
            Box::new(m0037_connectors::Connectors),
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

/// `m0006`: the status index of the case list ends with the list's tie-breaker (`tenant_id,
/// status, created_at, number`), so a list of one status in its default order (newest
/// first) reads that index in order and stops at its page. Without `number` the index could
/// not give the whole order: SQLite then walked `cases_by_created` and filtered the status,
/// reading every case of the tenant when the status is rare (0.45 s at 1,000,000 cases for
/// an empty `pending` list), because its statistics (one average per index column, no value
/// samples: `SqlStore::analyze`) rate every status as common.
///
/// On a SQLite database that has statistics, `cases` is analysed again: the rebuilt index
/// would otherwise have none, and SQLite takes an index without statistics for a selective
/// one (the unfiltered case list then sorted every case: 1.6 s at 1,000,000). PostgreSQL
/// keeps its statistics per column; nothing to do there.
struct CasesByStatusInListOrder;

impl MigrationName for CasesByStatusInListOrder {
    fn name(&self) -> &str {
        "m0006_cases_by_status_in_list_order"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CasesByStatusInListOrder {
    #[allow(elided_lifetimes_in_paths)] // the trait's own signature
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        conn.execute_unprepared("DROP INDEX cases_by_status").await?;
        conn.execute_unprepared("CREATE INDEX cases_by_status ON cases (tenant_id, status, created_at, number)")
            .await?;
        refresh_sqlite_statistics(conn, "cases").await
    }
}

/// `m0007`: the case list sorted by priority (`priority_rank`, then the case number) has an
/// index in that order, so its first page reads 51 entries instead of sorting every case of
/// the tenant (1.7 s at 1,000,000 cases on SQLite). Statistics as in `m0006`.
struct CasesByPriority;

impl MigrationName for CasesByPriority {
    fn name(&self) -> &str {
        "m0007_cases_by_priority"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CasesByPriority {
    #[allow(elided_lifetimes_in_paths)] // the trait's own signature
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        conn.execute_unprepared("CREATE INDEX cases_by_priority ON cases (tenant_id, priority_rank, number)").await?;
        refresh_sqlite_statistics(conn, "cases").await
    }
}

/// `m0008`: the application's own state moves into the store, behind the ports
/// `TokenStore`, `IdempotencyStore`, `LiveFeedStore` and `MetaStore` (ADR 0014): API token
/// hashes (`api_tokens`), idempotency keys (`idempotency_keys`), the live-event feed every
/// replica reads (`live_events`) and installation facts (`installation_meta`). Until now the
/// server created them itself as `crm_server_tokens`, `crm_server_idempotency`,
/// `crm_server_live_events` and `crm_server_meta`; a database that has those keeps their
/// rows (tokens stay valid, the feed's positions go on from where they were): they are
/// renamed, with the same columns.
struct ApplicationStateTables;

impl MigrationName for ApplicationStateTables {
    fn name(&self) -> &str {
        "m0008_application_state_tables"
    }
}

/// `(old name, new name, DDL of a fresh table)`; `{serial}` is the backend's
/// auto-increment key.
const APPLICATION_TABLES: [(&str, &str, &str); 4] = [
    (
        "crm_server_meta",
        "installation_meta",
        "CREATE TABLE installation_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    ),
    (
        "crm_server_tokens",
        "api_tokens",
        "CREATE TABLE api_tokens (hash TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, agent_id TEXT NOT NULL, \
         role TEXT NOT NULL, label TEXT NOT NULL, created_at TEXT NOT NULL)",
    ),
    (
        "crm_server_live_events",
        "live_events",
        "CREATE TABLE live_events (seq {serial}, tenant_id TEXT NOT NULL, agent_id TEXT NOT NULL, \
         name TEXT NOT NULL, payload TEXT NOT NULL, created_ms BIGINT NOT NULL)",
    ),
    (
        "crm_server_idempotency",
        "idempotency_keys",
        "CREATE TABLE idempotency_keys (key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, state TEXT NOT NULL, \
         status BIGINT NOT NULL, headers TEXT NOT NULL, body TEXT NOT NULL, created_ms BIGINT NOT NULL)",
    ),
];

/// Whether the database has a table named `name`.
async fn table_exists<C: ConnectionTrait>(conn: &C, name: &str) -> Result<bool, DbErr> {
    let backend = conn.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "SELECT 1 AS found FROM pg_tables WHERE schemaname = current_schema() AND tablename = $1"
        }
        _ => "SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = ?",
    };
    Ok(conn.query_one_raw(Statement::from_sql_and_values(backend, sql, [name.into()])).await?.is_some())
}

#[async_trait::async_trait]
impl MigrationTrait for ApplicationStateTables {
    #[allow(elided_lifetimes_in_paths)] // the trait's own signature
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        let serial = match conn.get_database_backend() {
            DbBackend::Postgres => "BIGSERIAL PRIMARY KEY",
            _ => "INTEGER PRIMARY KEY AUTOINCREMENT",
        };
        for (old, new, ddl) in APPLICATION_TABLES {
            if table_exists(conn, old).await? {
                conn.execute_unprepared(&format!("ALTER TABLE {old} RENAME TO {new}")).await?;
            } else {
                conn.execute_unprepared(&ddl.replace("{serial}", serial)).await?;
            }
        }
        conn.execute_unprepared("DROP INDEX IF EXISTS crm_server_live_events_created").await?;
        conn.execute_unprepared("CREATE INDEX live_events_created ON live_events (created_ms)").await?;
        conn.execute_unprepared("CREATE INDEX idempotency_keys_created ON idempotency_keys (created_ms)").await?;
        Ok(())
    }
}

/// `m0010`: administration through the API (ADM-1…ADM-3). API tokens get a public handle
/// (`id`, to list and revoke them; tokens kept from before get a fresh one), an expiry, a
/// revocation time and a last-used time (instants as nanoseconds, as elsewhere in the
/// store), and an index to list a tenant's tokens.
struct Administration;

impl MigrationName for Administration {
    fn name(&self) -> &str {
        "m0010_administration"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Administration {
    #[allow(elided_lifetimes_in_paths)] // the trait's own signature
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        let backend = conn.get_database_backend();
        for column in ["id TEXT", "expires_at BIGINT", "revoked_at BIGINT", "last_used_at BIGINT"] {
            conn.execute_unprepared(&format!("ALTER TABLE api_tokens ADD COLUMN {column}")).await?;
        }
        let kept = conn.query_all_raw(Statement::from_string(backend, "SELECT hash FROM api_tokens")).await?;
        for row in kept {
            let hash: String = row.try_get("", "hash")?;
            let sql = match backend {
                DbBackend::Postgres => "UPDATE api_tokens SET id = $1 WHERE hash = $2",
                _ => "UPDATE api_tokens SET id = ? WHERE hash = ?",
            };
            let id = uuid::Uuid::now_v7().to_string();
            conn.execute_raw(Statement::from_sql_and_values(backend, sql, [id.into(), hash.into()])).await?;
        }
        conn.execute_unprepared("CREATE UNIQUE INDEX api_tokens_id ON api_tokens (id)").await?;
        conn.execute_unprepared("CREATE INDEX api_tokens_by_tenant ON api_tokens (tenant_id)").await?;
        Ok(())
    }
}

/// `m0011`: what a contact's history is filtered by (INT-5: the interaction's `channel` and
/// its folded `search_text`, `crm_core::interaction::Interaction::search_text`), the
/// interactions linked to each local case (`interaction_cases`, INT-6, kept in step with the
/// links of the interaction's document) and the messages of a conversation
/// (`interaction_messages`, CUS-8). Existing interactions are indexed from their documents,
/// in batches.
struct InteractionSearchCasesMessages;

impl MigrationName for InteractionSearchCasesMessages {
    fn name(&self) -> &str {
        "m0011_interaction_search_cases_messages"
    }
}

/// The DDL of `m0011`.
const INTERACTION_SEARCH_CASES_MESSAGES: &str = "
ALTER TABLE interactions ADD COLUMN channel {text};
ALTER TABLE interactions ADD COLUMN search_text TEXT;
CREATE TABLE interaction_cases (
    tenant_id {uuid} NOT NULL,
    case_id {uuid} NOT NULL,
    interaction_id {uuid} NOT NULL,
    offered_at BIGINT NOT NULL,
    CONSTRAINT interaction_cases_pkey PRIMARY KEY (case_id, interaction_id)
);
CREATE INDEX interaction_cases_by_case ON interaction_cases (case_id, offered_at, interaction_id);
CREATE INDEX interaction_cases_by_interaction ON interaction_cases (interaction_id);
CREATE TABLE interaction_messages (
    id {uuid} NOT NULL,
    tenant_id {uuid} NOT NULL,
    interaction_id {uuid} NOT NULL,
    at BIGINT NOT NULL,
    search_text TEXT NOT NULL,
    doc TEXT NOT NULL,
    CONSTRAINT interaction_messages_pkey PRIMARY KEY (id),
    CONSTRAINT interaction_messages_interaction_fk FOREIGN KEY (interaction_id) REFERENCES interactions (id)
);
CREATE INDEX interaction_messages_by_interaction ON interaction_messages (interaction_id, at, id)
";

#[async_trait::async_trait]
impl MigrationTrait for InteractionSearchCasesMessages {
    #[allow(elided_lifetimes_in_paths)] // the trait's own signature
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        for sql in statements(INTERACTION_SEARCH_CASES_MESSAGES, conn.get_database_backend()) {
            conn.execute_unprepared(&sql).await?;
        }
        crate::store::interaction::index_unindexed_interactions(conn).await
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

/// `m0005`, SQLite only: the `CHECK (column IN (…))` constraints of `m0001` with three or
/// more values become `CHECK (column = … OR column = …)`, the same rule. SQLite evaluates
/// an `IN` over a list of three or more constants by building a temporary B-tree of the
/// list, once per execution of every statement that writes the row: a single-row insert
/// into `cases` (four such checks) took twice as long as with the comparisons (158 against
/// 75 ms per 10,000 rows, a stand-alone rusqlite test), a bulk load's 32-row statements
/// ~45 % longer. PostgreSQL evaluates its lists without that cost (nothing to do).
///
/// The constraints' text is rewritten in `sqlite_schema` as SQLite documents for changes
/// that leave the stored rows as they are ("Making Other Kinds Of Table Schema Changes" in
/// its `ALTER TABLE` page): in one transaction, schema editing on, the tables' SQL updated,
/// the schema version bumped so every connection reloads the schema. It takes no time on
/// any size of database; every row written under the old rule satisfies the new one.
struct SqliteChecksAsComparisons;

impl MigrationName for SqliteChecksAsComparisons {
    fn name(&self) -> &str {
        "m0005_sqlite_checks_as_comparisons"
    }
}

/// The checks `m0005` rewrites: (table, column, allowed values as SQL literals), as
/// `schema.sql` wrote them (`m0001`). Lists of two are left: SQLite compares those in line.
const LISTED_CHECKS: [(&str, &str, &[&str]); 6] = [
    ("cases", "status", &["'draft'", "'open'", "'pending'", "'on_hold'", "'closed'"]),
    ("cases", "visibility", &["'public'", "'internal'", "'private'"]),
    ("cases", "severity", &["'low'", "'medium'", "'high'", "'critical'"]),
    ("cases", "priority", &["'low'", "'normal'", "'high'", "'urgent'"]),
    ("tasks", "status", &["'planned'", "'done'", "'cancelled'"]),
    ("outbox", "status", &["'pending'", "'delivered'", "'dead'"]),
];

/// The `CHECK` clause of a column restricted to `values`: as a list (`m0001`'s) or as
/// comparisons joined by `OR` (`m0005`'s).
fn check_clause(column: &str, values: &[&str], as_list: bool) -> String {
    if as_list {
        format!("CHECK ({column} IN ({}))", values.join(", "))
    } else {
        let comparisons: Vec<String> = values.iter().map(|v| format!("{column} = {v}")).collect();
        format!("CHECK ({})", comparisons.join(" OR "))
    }
}

/// `sql` (a table's `CREATE TABLE`) with `table`'s listed checks as comparisons.
///
/// # Errors
/// When a check is not written as `m0001` wrote it: the migration then changes nothing.
fn checks_as_comparisons(table: &str, sql: &str) -> Result<String, DbErr> {
    let mut sql = sql.to_owned();
    for (_, column, values) in LISTED_CHECKS.iter().filter(|(t, _, _)| *t == table) {
        let listed = check_clause(column, values, true);
        if sql.matches(&listed).count() != 1 {
            return Err(DbErr::Migration(format!("table {table}: expected one `{listed}` in its schema")));
        }
        sql = sql.replace(&listed, &check_clause(column, values, false));
    }
    Ok(sql)
}

#[async_trait::async_trait]
impl MigrationTrait for SqliteChecksAsComparisons {
    /// In one transaction: the schema edit and the version bump land together.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    #[allow(elided_lifetimes_in_paths)] // the trait's own signature
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        if conn.get_database_backend() != DbBackend::Sqlite {
            return Ok(());
        }
        let mut tables: Vec<&str> = LISTED_CHECKS.iter().map(|(t, _, _)| *t).collect();
        tables.sort_unstable();
        tables.dedup();
        let mut rewritten = Vec::with_capacity(tables.len());
        for table in tables {
            let select = Statement::from_sql_and_values(
                DbBackend::Sqlite,
                "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?",
                [table.into()],
            );
            let row = conn
                .query_one_raw(select)
                .await?
                .ok_or_else(|| DbErr::Migration(format!("no table {table} to rewrite the checks of")))?;
            let sql: String = row.try_get("", "sql")?;
            rewritten.push((table, checks_as_comparisons(table, &sql)?));
        }
        let version = conn
            .query_one_raw(Statement::from_string(DbBackend::Sqlite, "PRAGMA schema_version"))
            .await?
            .ok_or_else(|| DbErr::Migration("no schema version".into()))?
            .try_get_by_index::<i64>(0)?;
        conn.execute_unprepared("PRAGMA writable_schema = ON").await?;
        for (table, sql) in rewritten {
            let update = Statement::from_sql_and_values(
                DbBackend::Sqlite,
                "UPDATE sqlite_schema SET sql = ? WHERE type = 'table' AND name = ?",
                [sql.into(), table.into()],
            );
            conn.execute_raw(update).await?;
        }
        conn.execute_unprepared(&format!("PRAGMA schema_version = {}", version + 1)).await?;
        conn.execute_unprepared("PRAGMA writable_schema = OFF").await?;
        Ok(())
    }
}

/// `m0009`: the lists and the soft deletion of issue 27. A customer's and a case's tasks
/// (every status) are read by schedule through their own indexes
/// (`tasks_by_customer_schedule`, `tasks_by_case_schedule`; the older ones are partial to
/// planned tasks or unordered). A case gets `deleted_at` (nanoseconds, `NULL` while live):
/// a softly deleted case keeps its row, number and history; every read of live cases
/// adds `deleted_at IS NULL`, which the existing indexes' rows answer without a new index
/// (deleted cases are few).
struct CaseAndTaskLists;

impl MigrationName for CaseAndTaskLists {
    fn name(&self) -> &str {
        "m0009_case_and_task_lists"
    }
}

/// The DDL of `m0009`, both backends.
const CASE_AND_TASK_LISTS: &str = "
ALTER TABLE cases ADD COLUMN deleted_at BIGINT;
CREATE INDEX tasks_by_customer_schedule ON tasks (customer_id, scheduled_at, id);
CREATE INDEX tasks_by_case_schedule ON tasks (case_id, scheduled_at, id) WHERE case_id IS NOT NULL";

#[async_trait::async_trait]
impl MigrationTrait for CaseAndTaskLists {
    /// In one transaction on every backend: the columns, tables and indexes land together.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    #[allow(elided_lifetimes_in_paths)] // the trait's own signature
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        for statement in statements(CASE_AND_TASK_LISTS, conn.get_database_backend()) {
            conn.execute_unprepared(&statement).await?;
        }
        refresh_sqlite_statistics(conn, "tasks").await
    }
}

/// Analyses `table` again on a SQLite database that keeps statistics of it, after a
/// migration gave it a new index (which has none until then, and SQLite takes an index
/// without statistics for a selective one); nothing on PostgreSQL or where `ANALYZE` never ran.
async fn refresh_sqlite_statistics<C: ConnectionTrait>(conn: &C, table: &'static str) -> Result<(), DbErr> {
    if conn.get_database_backend() == DbBackend::Sqlite && analysed(conn, table).await? {
        crate::sql::sqlite_analyze(conn, table).await?;
    }
    Ok(())
}

/// Whether SQLite keeps statistics of `table` (`ANALYZE` ran since it was created).
async fn analysed<C: ConnectionTrait>(conn: &C, table: &str) -> Result<bool, DbErr> {
    let stat1 = crate::sql::one(conn, "SELECT 1 AS x FROM sqlite_schema WHERE name = 'sqlite_stat1'", vec![]).await?;
    if stat1.is_none() {
        return Ok(false);
    }
    let rows =
        crate::sql::one(conn, "SELECT 1 AS x FROM sqlite_stat1 WHERE tbl = ? LIMIT 1", vec![table.into()]).await?;
    Ok(rows.is_some())
}

/// `m0015`: webhooks (EXT-3, ADR 0019). The outbox marks the events not yet fanned out to
/// webhooks (`webhook_due`, 1 for every new event; events already there are not fanned
/// out), indexed partially in fan-out order; subscriptions (`webhooks`: the document and the
/// health columns the claim reads); one delivery per subscription and event
/// (`webhook_deliveries`, unique on both: a second fan-out of an event adds nothing),
/// indexed for the claim, the per-aggregate order and the log; the attempt log
/// (`webhook_attempts`).
struct Webhooks;

impl MigrationName for Webhooks {
    fn name(&self) -> &str {
        "m0015_webhooks"
    }
}

/// The DDL of `m0015`.
const WEBHOOKS: &str = "
ALTER TABLE outbox ADD COLUMN webhook_due BIGINT NOT NULL DEFAULT 1;
UPDATE outbox SET webhook_due = 0;
CREATE INDEX outbox_webhook_due ON outbox (at, id) WHERE webhook_due = 1;
CREATE TABLE webhooks (
    id {uuid} NOT NULL,
    tenant_id {uuid} NOT NULL,
    version BIGINT NOT NULL,
    enabled BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    failures BIGINT NOT NULL,
    failing_since BIGINT,
    breaker_until BIGINT,
    disabled_at BIGINT,
    doc TEXT NOT NULL,
    CONSTRAINT webhooks_pkey PRIMARY KEY (id)
);
CREATE INDEX webhooks_by_tenant ON webhooks (tenant_id, created_at, id);
CREATE TABLE webhook_deliveries (
    id {uuid} NOT NULL,
    tenant_id {uuid} NOT NULL,
    webhook_id {uuid} NOT NULL,
    event_id {uuid} NOT NULL,
    event_type {text} NOT NULL,
    aggregate {text} NOT NULL,
    at BIGINT NOT NULL,
    status {text} NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    lease_until BIGINT,
    last_error TEXT,
    payload TEXT NOT NULL,
    CONSTRAINT webhook_deliveries_pkey PRIMARY KEY (id),
    CONSTRAINT webhook_deliveries_once UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (at, event_id) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_in_order ON webhook_deliveries (webhook_id, aggregate, at, event_id) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, at, event_id);
CREATE TABLE webhook_attempts (
    delivery_id {uuid} NOT NULL,
    number BIGINT NOT NULL,
    tenant_id {uuid} NOT NULL,
    at BIGINT NOT NULL,
    outcome {text} NOT NULL,
    status BIGINT,
    latency_ms BIGINT NOT NULL,
    excerpt TEXT NOT NULL,
    CONSTRAINT webhook_attempts_pkey PRIMARY KEY (delivery_id, number)
)
";

#[async_trait::async_trait]
impl MigrationTrait for Webhooks {
    #[allow(elided_lifetimes_in_paths)] // the trait's own signature
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        for sql in statements(WEBHOOKS, conn.get_database_backend()) {
            conn.execute_unprepared(&sql).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_check_is_in_the_initial_schema_as_a_list() {
        let schema = statements(include_str!("schema.sql"), DbBackend::Sqlite);
        for (table, column, values) in LISTED_CHECKS {
            let create = schema.iter().find(|s| s.starts_with(&format!("CREATE TABLE {table} ("))).unwrap();
            assert!(create.contains(&check_clause(column, values, true)), "{table}.{column}");
        }
    }

    #[test]
    fn a_check_not_written_as_m0001_wrote_it_stops_the_migration() {
        let sql = "CREATE TABLE tasks (status TEXT NOT NULL CHECK (status IN ('planned', 'done')))";
        assert!(checks_as_comparisons("tasks", sql).is_err());
        let sql = "CREATE TABLE tasks (status TEXT NOT NULL CHECK (status IN ('planned', 'done', 'cancelled')))";
        assert_eq!(
            checks_as_comparisons("tasks", sql).unwrap(),
            "CREATE TABLE tasks (status TEXT NOT NULL \
             CHECK (status = 'planned' OR status = 'done' OR status = 'cancelled'))"
        );
    }
}
