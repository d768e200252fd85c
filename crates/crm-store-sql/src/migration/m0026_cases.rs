//! `m0026`: the case fields of issue 27 (CAS-1, CAS-2). A case gets its category, type,
//! resolution code and parent as columns (the list filters read `cases_by_category` and
//! `cases_by_type` in the list's default order, the delete of a list entry counts its uses
//! through those and `cases_by_resolution`, the children of a case are read through
//! `cases_by_parent`; all partial to the rows that have a value, so cases without one cost
//! no index entry); its tags are rows of `case_tags` (clustered on the case on SQLite;
//! the tag filter reads `case_tags_by_tag`); the tenant's lists are `case_list_entries`.
//! The status check admits `resolved`: PostgreSQL replaces the constraint, SQLite rewrites
//! the table's SQL as `m0005` does (every stored row satisfies the wider rule).

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};
use sea_orm_migration::{MigrationName, MigrationTrait, SchemaManager};

use super::{check_clause, refresh_sqlite_statistics, statements};

/// The migration.
pub(super) struct CaseTagsListsParents;

impl MigrationName for CaseTagsListsParents {
    fn name(&self) -> &str {
        "m0026_case_tags_lists_parents"
    }
}

/// The DDL of `m0026`, both backends.
const CASE_TAGS_LISTS_PARENTS: &str = "
ALTER TABLE cases ADD COLUMN category {text};
ALTER TABLE cases ADD COLUMN case_type {text};
ALTER TABLE cases ADD COLUMN resolution {text};
ALTER TABLE cases ADD COLUMN parent_id {uuid};
CREATE INDEX cases_by_category ON cases (tenant_id, category, created_at, number) WHERE category IS NOT NULL;
CREATE INDEX cases_by_type ON cases (tenant_id, case_type, created_at, number) WHERE case_type IS NOT NULL;
CREATE INDEX cases_by_resolution ON cases (tenant_id, resolution) WHERE resolution IS NOT NULL;
CREATE INDEX cases_by_parent ON cases (parent_id, number) WHERE parent_id IS NOT NULL;
CREATE TABLE case_tags (
    tenant_id {uuid} NOT NULL,
    case_id {uuid} NOT NULL,
    tag {text} NOT NULL,
    CONSTRAINT case_tags_pkey PRIMARY KEY (case_id, tag)
){without_rowid};
CREATE INDEX case_tags_by_tag ON case_tags (tenant_id, tag, case_id);
CREATE TABLE case_list_entries (
    tenant_id {uuid} NOT NULL,
    kind {text} NOT NULL,
    entry_key {text} NOT NULL,
    doc TEXT NOT NULL,
    CONSTRAINT case_list_entries_pkey PRIMARY KEY (tenant_id, kind, entry_key)
)";

/// The statuses before and after `m0026`, as SQL literals.
const OLD_STATUSES: &[&str] = &["'draft'", "'open'", "'pending'", "'on_hold'", "'closed'"];
const NEW_STATUSES: &[&str] = &["'draft'", "'open'", "'pending'", "'on_hold'", "'closed'", "'resolved'"];

#[async_trait::async_trait]
impl MigrationTrait for CaseTagsListsParents {
    /// In one transaction on every backend: the columns, tables, indexes and the wider
    /// status check land together.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    #[allow(elided_lifetimes_in_paths)] // the trait's own signature
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        let backend = conn.get_database_backend();
        for statement in statements(CASE_TAGS_LISTS_PARENTS, backend) {
            conn.execute_unprepared(&statement).await?;
        }
        if backend == DbBackend::Postgres {
            conn.execute_unprepared(&format!(
                "ALTER TABLE cases DROP CONSTRAINT cases_status_check, ADD CONSTRAINT cases_status_check {}",
                check_clause("status", NEW_STATUSES, true)
            ))
            .await?;
            return Ok(());
        }
        widen_sqlite_status_check(conn).await?;
        refresh_sqlite_statistics(conn, "cases").await
    }
}

/// Rewrites the `cases` table's SQL with `resolved` among the statuses (`m0005`'s way).
async fn widen_sqlite_status_check<C: ConnectionTrait>(conn: &C) -> Result<(), DbErr> {
    let select = Statement::from_string(
        DbBackend::Sqlite,
        "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'cases'",
    );
    let row = conn.query_one_raw(select).await?.ok_or_else(|| DbErr::Migration("no table cases".into()))?;
    let sql: String = row.try_get("", "sql")?;
    let old = check_clause("status", OLD_STATUSES, false);
    if sql.matches(&old).count() != 1 {
        return Err(DbErr::Migration(format!("table cases: expected one `{old}` in its schema")));
    }
    let sql = sql.replace(&old, &check_clause("status", NEW_STATUSES, false));
    let version = conn
        .query_one_raw(Statement::from_string(DbBackend::Sqlite, "PRAGMA schema_version"))
        .await?
        .ok_or_else(|| DbErr::Migration("no schema version".into()))?
        .try_get_by_index::<i64>(0)?;
    conn.execute_unprepared("PRAGMA writable_schema = ON").await?;
    let update = Statement::from_sql_and_values(
        DbBackend::Sqlite,
        "UPDATE sqlite_schema SET sql = ? WHERE type = 'table' AND name = 'cases'",
        [sql.into()],
    );
    conn.execute_raw(update).await?;
    conn.execute_unprepared(&format!("PRAGMA schema_version = {}", version + 1)).await?;
    conn.execute_unprepared("PRAGMA writable_schema = OFF").await?;
    Ok(())
}
