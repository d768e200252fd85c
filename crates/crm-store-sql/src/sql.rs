//! Small helpers over sea-orm's raw statements: one SQL text with `?` placeholders for both
//! backends (numbered `$n` for PostgreSQL), value conversions (ids, instants as UTC
//! nanoseconds, versions) and row decoding.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, QueryResult, Statement, TryGetable, Value};
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crm_core::StoreError;

/// Rewrites `?` placeholders to `$1, $2, …` for PostgreSQL. The SQL of this crate never holds
/// a `?` inside a literal, so a plain scan is enough.
pub(crate) fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// Builds a statement for `backend` from SQL written with `?` placeholders.
pub(crate) fn stmt(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = if backend == DbBackend::Postgres { numbered(sql) } else { sql.to_owned() };
    Statement::from_sql_and_values(backend, sql, values)
}

/// Executes a statement, returning the number of affected rows.
pub(crate) async fn exec<C: ConnectionTrait>(c: &C, sql: &str, values: Vec<Value>) -> Result<u64, DbErr> {
    let backend = c.get_database_backend();
    Ok(c.execute_raw(stmt(backend, sql, values)).await?.rows_affected())
}

/// Runs a query, returning every row.
pub(crate) async fn all<C: ConnectionTrait>(c: &C, sql: &str, values: Vec<Value>) -> Result<Vec<QueryResult>, DbErr> {
    let backend = c.get_database_backend();
    c.query_all_raw(stmt(backend, sql, values)).await
}

/// Runs a query, returning the first row.
pub(crate) async fn one<C: ConnectionTrait>(
    c: &C,
    sql: &str,
    values: Vec<Value>,
) -> Result<Option<QueryResult>, DbErr> {
    let backend = c.get_database_backend();
    c.query_one_raw(stmt(backend, sql, values)).await
}

/// ` LIMIT n`, written into the SQL rather than bound: SQLite plans a `LIMIT ?` with the
/// bound value, so it re-prepares (parses and plans again) such a statement at every
/// execution; an integer literal cannot inject anything.
pub(crate) fn limit(n: u64) -> String {
    format!(" LIMIT {n}")
}

/// `?, ?, ?` for `n` values.
pub(crate) fn marks(n: usize) -> String {
    let mut s = String::with_capacity(n * 3);
    for i in 0..n {
        if i > 0 {
            s.push_str(", ");
        }
        s.push('?');
    }
    s
}

/// `(?, ?), (?, ?)` for `rows` rows of `cols` values.
pub(crate) fn row_marks(rows: usize, cols: usize) -> String {
    let one = format!("({})", marks(cols));
    let mut s = String::with_capacity(rows * (one.len() + 2));
    for i in 0..rows {
        if i > 0 {
            s.push_str(", ");
        }
        s.push_str(&one);
    }
    s
}

/// An instant as UTC nanoseconds since the epoch (exact, sortable on both backends).
pub(crate) fn ts(t: DateTime<Utc>) -> i64 {
    t.timestamp_nanos_opt().unwrap_or(if t.timestamp() < 0 { i64::MIN } else { i64::MAX })
}

/// An optional instant as a bound value.
pub(crate) fn ts_opt(t: Option<DateTime<Utc>>) -> Value {
    Value::BigInt(t.map(ts))
}

/// Reads back an instant stored by [`ts`].
pub(crate) fn from_ts(nanos: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_nanos(nanos)
}

/// A version or count as a bound value.
pub(crate) fn int(v: u64) -> Value {
    Value::BigInt(Some(i64::try_from(v).unwrap_or(i64::MAX)))
}

/// Anything held in a uuid column: the core's id newtypes and raw uuids.
pub(crate) trait AsUuid {
    /// The raw uuid.
    fn uuid(&self) -> Uuid;
}

impl AsUuid for Uuid {
    fn uuid(&self) -> Uuid {
        *self
    }
}

macro_rules! as_uuid {
    ($($t:ident),+) => {$(
        impl AsUuid for crm_core::ids::$t {
            fn uuid(&self) -> Uuid {
                self.as_uuid()
            }
        }
    )+};
}

as_uuid!(
    TenantId,
    AgentId,
    GroupId,
    CustomerId,
    RelationId,
    CaseId,
    FollowUpId,
    TaskId,
    InteractionId,
    MessageId,
    MergeId,
    EventId,
    FieldDefinitionId,
    ScriptId,
    ScriptRunId,
    ArticleId,
    ResponseId,
    ResponseFolderId,
    OrganisationId,
    LeadId,
    RoleId
);

/// A uuid as a bound value.
pub(crate) fn uid(u: impl AsUuid) -> Value {
    Value::Uuid(Some(u.uuid()))
}

/// A string as a bound value.
pub(crate) fn text(s: impl Into<String>) -> Value {
    Value::String(Some(s.into()))
}

/// A column of a row.
pub(crate) fn col<T: TryGetable>(row: &QueryResult, name: &str) -> Result<T, StoreError> {
    row.try_get::<T>("", name).map_err(|e| StoreError::Backend(Box::new(e)))
}

/// Serialises an aggregate into its `doc` column.
pub(crate) fn to_doc<T: Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Backend(Box::new(e)))
}

/// Reads an aggregate back from its `doc` column.
pub(crate) fn from_doc<T: DeserializeOwned>(row: &QueryResult) -> Result<T, StoreError> {
    let doc: String = col(row, "doc")?;
    parse_doc(&doc)
}

/// Deserialises an aggregate from the text of its `doc` column.
pub(crate) fn parse_doc<T: DeserializeOwned>(doc: &str) -> Result<T, StoreError> {
    serde_json::from_str(doc).map_err(|e| StoreError::Backend(Box::new(e)))
}

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
pub(crate) fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// SQLite's `ANALYZE` of `target` (a table or index the store names, never a value; the
/// whole database when empty), then the value samples dropped and every connection made to
/// reload the statistics, as [`crate::SqlStore::analyze`] describes. Also run by migrations
/// that rebuild an index of an analysed database (a new index has no statistics row until
/// then).
pub(crate) async fn sqlite_analyze<C: ConnectionTrait>(c: &C, target: &'static str) -> Result<(), sea_orm::DbErr> {
    c.execute_unprepared(&format!("ANALYZE {target}")).await?;
    // A SQLite built without STAT4 has no such table.
    let sampled = one(c, "SELECT 1 AS x FROM sqlite_schema WHERE name = 'sqlite_stat4'", vec![]).await?.is_some();
    let mut statements = vec!["CREATE INDEX crm_reload_statistics ON tenants (id)", "DROP INDEX crm_reload_statistics"];
    if sampled {
        statements.insert(0, "DELETE FROM sqlite_stat4");
    }
    for sql in statements {
        c.execute_unprepared(sql).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_for_postgres() {
        assert_eq!(numbered("a = ? AND b IN (?, ?)"), "a = $1 AND b IN ($2, $3)");
        assert_eq!(row_marks(2, 2), "(?, ?), (?, ?)");
        assert_eq!(like_escape("a_b%c\\"), "a\\_b\\%c\\\\");
    }

    #[test]
    fn instants_round_trip_through_nanoseconds() {
        let t = DateTime::parse_from_rfc3339("2026-11-23T10:00:00.123456789Z").unwrap().with_timezone(&Utc);
        assert_eq!(from_ts(ts(t)), t);
    }
}
