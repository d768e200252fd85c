//! SQLite reads on the calling thread, for the hot read of the screen pop (ADR 0005).
//!
//! sqlx runs every SQLite connection on a thread of its own and hands each statement and
//! each row between that thread and the async task. For the screen pop's one statement the
//! hand-offs cost several times SQLite's own work (measured: ~190 µs of CPU per card
//! through sqlx against ~40 µs for the same statement run where it is called). So on a
//! SQLite file the store keeps a few extra read-only connections, opened with `rusqlite`
//! on the same bundled SQLite library, and runs its hottest reads on them directly: a
//! statement that reads a few cached pages finishes in tens of microseconds, less than a
//! hand-off to another thread.
//!
//! The fast path never decides an outcome on its own: a value it cannot bind, a busy
//! database (these connections do not wait for locks) or any other SQLite error makes it
//! answer `None`, and the caller reads through the sqlx pool as before, with that pool's
//! busy timeout and error mapping. In-memory databases (one connection holds the whole
//! database) have no fast path.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rusqlite::types::Value as SqliteValue;
use rusqlite::{Connection, OpenFlags, Row};
use sea_orm::Value;

/// Connections kept open between reads; more may be opened for a burst (one per thread
/// reading at the same moment: the runtime's workers, so a few), and those beyond this
/// count are closed after their read.
const IDLE: usize = 4;

/// Prepared statements kept per connection (the card's text varies with the caller's
/// private scope).
const STATEMENTS: usize = 64;

/// Read-only SQLite connections used on the caller's thread.
pub(crate) struct InlineReads {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    /// Reads answered here.
    served: AtomicU64,
    /// Reads this path could not answer (they went through the pool).
    fell_back: AtomicU64,
}

/// How the inline reads of a SQLite store went, for metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InlineReadCounts {
    /// Reads answered on the caller's thread.
    pub served: u64,
    /// Reads that went through the pool instead (a value it could not bind, a busy
    /// database, any SQLite error).
    pub fell_back: u64,
}

impl std::fmt::Debug for InlineReads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InlineReads").field("path", &self.path).finish_non_exhaustive()
    }
}

impl InlineReads {
    /// Fast reads of the SQLite file at `path` (connections are opened on first use).
    pub(crate) fn new(path: &Path) -> Self {
        Self {
            path: path.to_owned(),
            idle: Mutex::new(Vec::new()),
            served: AtomicU64::new(0),
            fell_back: AtomicU64::new(0),
        }
    }

    /// Runs the query `sql` with `values` and maps every row with `map`; `None` when this
    /// path cannot answer (the caller then reads through the pool).
    pub(crate) fn query<T>(
        &self,
        sql: &str,
        values: &[Value],
        map: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Option<Vec<T>> {
        let out = self.try_query(sql, values, map);
        let counter = if out.is_some() { &self.served } else { &self.fell_back };
        counter.fetch_add(1, Ordering::Relaxed);
        out
    }

    /// How the reads went so far.
    pub(crate) fn counts(&self) -> InlineReadCounts {
        InlineReadCounts {
            served: self.served.load(Ordering::Relaxed),
            fell_back: self.fell_back.load(Ordering::Relaxed),
        }
    }

    fn try_query<T>(
        &self,
        sql: &str,
        values: &[Value],
        mut map: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Option<Vec<T>> {
        let params = values.iter().map(bindable).collect::<Option<Vec<SqliteValue>>>()?;
        let conn = self.take()?;
        let result = (|| {
            let mut statement = conn.prepare_cached(sql)?;
            let mut rows = statement.query(rusqlite::params_from_iter(params))?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                out.push(map(row)?);
            }
            Ok::<_, rusqlite::Error>(out)
        })();
        match result {
            Ok(out) => {
                self.give_back(conn);
                Some(out)
            }
            Err(e) => {
                // The connection is closed, not reused: whatever state the error left it in
                // goes with it.
                tracing::debug!(error = %e, "inline SQLite read fell back to the pool");
                None
            }
        }
    }

    fn take(&self) -> Option<Connection> {
        if let Some(conn) = self.idle.lock().ok().and_then(|mut idle| idle.pop()) {
            return Some(conn);
        }
        match self.open() {
            Ok(conn) => Some(conn),
            Err(e) => {
                tracing::debug!(error = %e, path = %self.path.display(), "cannot open an inline SQLite reader");
                None
            }
        }
    }

    fn give_back(&self, conn: Connection) {
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < IDLE
        {
            idle.push(conn);
        }
    }

    /// A read-only connection with the pool's settings (no memory map, temporary B-trees
    /// in memory) and no busy wait.
    fn open(&self) -> rusqlite::Result<Connection> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.path, flags)?;
        conn.busy_timeout(Duration::ZERO)?;
        // SQLite's default 2 MiB page cache: a 16 MiB one measured slower (8.4-8.7k against
        // 9.4-9.6k screen pops/s at 200,000 customers) and costs memory.
        conn.execute_batch("PRAGMA mmap_size = 0; PRAGMA temp_store = MEMORY;")?;
        conn.set_prepared_statement_cache_capacity(STATEMENTS);
        Ok(conn)
    }
}

/// A bound value as SQLite stores it through sqlx (uuids as 16-byte blobs), or `None` for
/// a kind this path does not bind.
fn bindable(value: &Value) -> Option<SqliteValue> {
    sqlite_value(value.clone())
}

/// [`bindable`] for a value the caller gives away (strings are moved, not copied).
pub(crate) fn sqlite_value(value: Value) -> Option<SqliteValue> {
    Some(match value {
        Value::Uuid(Some(u)) => SqliteValue::Blob(u.as_bytes().to_vec()),
        Value::String(Some(s)) => SqliteValue::Text(s),
        Value::BigInt(Some(n)) => SqliteValue::Integer(n),
        Value::Int(Some(n)) => SqliteValue::Integer(n.into()),
        Value::Bool(Some(b)) => SqliteValue::Integer(b.into()),
        Value::Uuid(None) | Value::String(None) | Value::BigInt(None) | Value::Int(None) | Value::Bool(None) => {
            SqliteValue::Null
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binds_the_kinds_the_store_uses_and_refuses_others() {
        let id = uuid::Uuid::now_v7();
        assert_eq!(bindable(&Value::Uuid(Some(id))), Some(SqliteValue::Blob(id.as_bytes().to_vec())));
        assert_eq!(bindable(&Value::String(Some("k".into()))), Some(SqliteValue::Text("k".into())));
        assert_eq!(bindable(&Value::BigInt(Some(-3))), Some(SqliteValue::Integer(-3)));
        assert_eq!(bindable(&Value::Bool(Some(true))), Some(SqliteValue::Integer(1)));
        assert_eq!(bindable(&Value::String(None)), Some(SqliteValue::Null));
        assert_eq!(bindable(&Value::Double(Some(1.5))), None);
    }

    #[test]
    fn a_missing_file_falls_back_instead_of_failing() {
        let reads = InlineReads::new(Path::new("/nonexistent/dir/crm.db"));
        assert!(reads.query("SELECT 1", &[], |r| r.get::<_, i64>(0)).is_none());
        assert_eq!(reads.counts(), InlineReadCounts { served: 0, fell_back: 1 });
    }

    #[test]
    fn reads_rows_and_keeps_the_connection() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let setup = Connection::open(&path).unwrap();
        setup.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (k BLOB, v TEXT); ").unwrap();
        let id = uuid::Uuid::now_v7();
        setup.execute("INSERT INTO t VALUES (?1, 'x')", [id.as_bytes().to_vec()]).unwrap();
        let reads = InlineReads::new(&path);
        for _ in 0..3 {
            let rows = reads
                .query("SELECT v FROM t WHERE k = ?", &[Value::Uuid(Some(id))], |r| r.get::<_, String>(0))
                .unwrap();
            assert_eq!(rows, vec!["x".to_owned()]);
        }
        assert_eq!(reads.idle.lock().unwrap().len(), 1);

        // A write through this path is refused (read-only) and reported as a fall-back.
        assert!(reads.query("INSERT INTO t VALUES (NULL, 'y') RETURNING v", &[], |r| r.get::<_, String>(0)).is_none());
        assert_eq!(reads.counts(), InlineReadCounts { served: 3, fell_back: 1 });
    }
}
