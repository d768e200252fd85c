//! Bulk loads into a SQLite file on a thread of their own, through rusqlite (ADR 0006).
//!
//! A bulk seed writes millions of rows. Through sqlx each multi-row statement's values are
//! converted twice (sea-query values, then sqlx arguments) and every statement is handed to
//! the connection's thread and back. Here the rows are converted once, to SQLite values,
//! and sent to ONE blocking thread that runs prepared single-row inserts in one
//! transaction, while the caller prepares the next slice. The caller holds the store's
//! single write connection for the whole load, so the store's other writers queue behind
//! the load instead of meeting a locked database.
//!
//! The transaction commits only when the caller says so ([`Message::Commit`]): a caller
//! that fails or is dropped half-way leaves nothing written.
//!
//! The loading connection checks no foreign keys: the caller sends rows whose references
//! hold by construction, and asks for the others to be checked ([`Message::Require`]).
//!
//! Checkpoints (copying committed pages from the WAL into the database file) do not run on
//! the loading thread: its connection turns SQLite's automatic checkpoint off, and a
//! [`Checkpointer`] thread with a connection of its own checkpoints meanwhile and once
//! after the load, so the copy of one load's pages overlaps the next load's inserts on the
//! other core. On the loading thread the checkpoints of a 10,000-customer load cost about
//! a quarter of its time. A load starts once the WAL is checkpointed to its end, so that
//! its frames overwrite the last load's instead of lengthening the file.

use std::path::{Path, PathBuf};
use std::sync::mpsc::RecvTimeoutError;
use std::time::Duration;

use rusqlite::types::Value as SqliteValue;
use rusqlite::{Connection, OpenFlags};
use tokio::sync::mpsc::Receiver;

/// The SQLite file bulk loads write into.
#[derive(Debug)]
pub(crate) struct BulkTarget {
    pub(crate) path: PathBuf,
    /// How long the load waits for a lock held by another process.
    pub(crate) busy_timeout: Duration,
}

/// One table's rows: a single-row `INSERT` and the flat values of its rows.
pub(crate) struct Rows {
    /// `INSERT INTO t (…) VALUES (?, …)`.
    pub(crate) sql: String,
    /// Values per row (the statement's placeholders).
    pub(crate) cols: usize,
    /// `cols` values per row, rows one after the other.
    pub(crate) values: Vec<SqliteValue>,
    /// Rows per executed statement (`sql` repeated as a multi-row insert). An insert opens
    /// a cursor on the table and on each of its indexes and checks its foreign keys: for a
    /// table with many indexes, doing that once for several rows is measurably cheaper.
    pub(crate) rows_per_statement: usize,
}

/// Rows a load refers to and does not write: the load fails unless each exists.
pub(crate) struct Exists {
    /// `SELECT 1 FROM t WHERE …` with `cols` placeholders.
    pub(crate) sql: String,
    /// Values per row.
    pub(crate) cols: usize,
    /// `cols` values per row, rows one after the other.
    pub(crate) values: Vec<SqliteValue>,
}

/// What the loading thread is told.
pub(crate) enum Message {
    /// Fail with SQLite's own foreign-key error unless these rows exist.
    Require(Exists),
    /// Insert these rows.
    Rows(Vec<Rows>),
    /// Everything is sent: commit.
    Commit,
}

/// Page cache of the loading connection: secondary indexes take random inserts, and pages
/// that stay cached are not read back from the OS. The connection closes after the load.
const CACHE_KIB: i64 = 64 * 1024;

/// Runs a load into the SQLite file at `path`: every row received, in one transaction.
/// `Ok(true)` once committed, `Ok(false)` when the sender went away before
/// [`Message::Commit`] (rolled back).
///
/// # Errors
/// The first SQLite error; the transaction is rolled back.
pub(crate) fn load(path: &Path, busy_timeout: Duration, mut rx: Receiver<Message>) -> rusqlite::Result<bool> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(busy_timeout)?;
    // The store's own connection settings, but for foreign keys: the caller sends rows
    // whose references hold by construction (a customer's side rows follow the customer,
    // built from it) or that it asks to check ([`Message::Require`]). The check SQLite
    // would make is a lookup per row, 7 of every 8 of them for side rows of a customer
    // just written: without them the inserts of a load took ~10 % less time (ADR 0006).
    conn.execute_batch(&format!(
        "PRAGMA foreign_keys = OFF; PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY; \
         PRAGMA mmap_size = 0; PRAGMA cache_size = -{CACHE_KIB};"
    ))?;
    // Checkpoints are the checkpointer's (whatever happens to the load, it checkpoints once
    // more when it is dropped at the end of this function, then ends). Without a thread
    // for it, SQLite checkpoints on this one as usual.
    let checkpointer = Checkpointer::start(path, busy_timeout)?;
    if checkpointer.is_some() {
        conn.execute_batch("PRAGMA wal_autocheckpoint = 0")?;
    }
    settle_wal(&conn, busy_timeout.min(SETTLE_AT_MOST))?;
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let outcome = (|| {
        while let Some(message) = rx.blocking_recv() {
            match message {
                Message::Require(rows) => require(&conn, &rows)?,
                Message::Rows(tables) => {
                    for table in tables {
                        insert(&conn, &table)?;
                    }
                }
                Message::Commit => {
                    conn.execute_batch("COMMIT")?;
                    return Ok(true);
                }
            }
        }
        Ok(false)
    })();
    if !matches!(outcome, Ok(true)) {
        // Closing the connection would roll back too; say it.
        let _ = conn.execute_batch("ROLLBACK");
    }
    outcome
}

/// How long a load waits at most for another checkpoint (the last load's final one) to end.
const SETTLE_AT_MOST: Duration = Duration::from_secs(2);

/// How long a load waits at most for readers that keep the WAL from being checkpointed to
/// its end: a read that started before the last commit holds the frames after it.
const READERS_AT_MOST: Duration = Duration::from_millis(50);

/// Waits until every frame of the WAL is checkpointed (checkpointing what is left, unless
/// another checkpoint runs, such as the last load's final one), for at most `wait`.
///
/// A write transaction that starts on a fully checkpointed WAL writes it again from its
/// beginning; otherwise it appends. Back-to-back loads started while the previous load's
/// frames were still being copied, so the WAL only grew: 417 MB after 200,000 customers,
/// gigabytes at a million, each new frame extending the file (the kernel zeroes every new
/// page of it) and lengthening every later checkpoint's and reader's search of the WAL.
/// The wait gives up after [`READERS_AT_MOST`] when a reader keeps an older snapshot (the
/// load then appends to the WAL, as before): it could be an export that reads for minutes.
fn settle_wal(conn: &Connection, wait: Duration) -> rusqlite::Result<()> {
    let start = std::time::Instant::now();
    loop {
        // (busy, frames in the WAL, frames checkpointed); busy with -1s while another
        // checkpoint runs; -1s when the database is not in WAL mode.
        let (busy, frames, copied): (i64, i64, i64) =
            conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        let waited = start.elapsed();
        let done = busy == 0 && frames == copied;
        let held_by_readers = busy == 0 && waited >= READERS_AT_MOST.min(wait);
        if done || held_by_readers || waited >= wait {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// How often the checkpointer checkpoints during a load.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(50);

/// A thread that checkpoints the WAL (`PASSIVE`: it never blocks writers or readers, and
/// copies what is committed) while a load runs, and once more when dropped, then ends.
struct Checkpointer {
    /// Dropped to say the load is over.
    _over: std::sync::mpsc::Sender<()>,
}

impl Checkpointer {
    /// `None` when no thread could be started.
    fn start(path: &Path, busy_timeout: Duration) -> rusqlite::Result<Option<Self>> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags)?;
        conn.busy_timeout(busy_timeout)?;
        let (over, wait) = std::sync::mpsc::channel::<()>();
        let spawned = std::thread::Builder::new().name("crm-checkpoint".into()).spawn(move || {
            loop {
                let last = !matches!(wait.recv_timeout(CHECKPOINT_EVERY), Err(RecvTimeoutError::Timeout));
                // A checkpoint that cannot run now (another one runs, a lock) is retried
                // by the next one, or by SQLite's automatic checkpoint on the store's
                // own writes.
                if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                    tracing::debug!(error = %e, "bulk load checkpoint");
                }
                if last {
                    return;
                }
            }
        });
        match spawned {
            Ok(_) => Ok(Some(Self { _over: over })),
            Err(e) => {
                tracing::warn!(error = %e, "no checkpoint thread for a bulk load; it checkpoints as it goes");
                Ok(None)
            }
        }
    }
}

/// Fails with SQLite's foreign-key error unless every row of `rows` exists.
fn require(conn: &Connection, rows: &Exists) -> rusqlite::Result<()> {
    let mut statement = conn.prepare_cached(&rows.sql)?;
    for row in rows.values.chunks_exact(rows.cols) {
        if !statement.exists(rusqlite::params_from_iter(row))? {
            return Err(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY),
                Some("FOREIGN KEY constraint failed".into()),
            ));
        }
    }
    Ok(())
}

fn insert(conn: &Connection, table: &Rows) -> rusqlite::Result<()> {
    let per_statement = table.rows_per_statement.max(1);
    let mut chunks = table.values.chunks_exact(table.cols * per_statement);
    if per_statement > 1 {
        let row = format!(", ({})", vec!["?"; table.cols].join(", "));
        let mut statement = conn.prepare_cached(&format!("{}{}", table.sql, row.repeat(per_statement - 1)))?;
        for rows in chunks.by_ref() {
            statement.execute(rusqlite::params_from_iter(rows))?;
        }
    }
    let rest = if per_statement > 1 { chunks.remainder() } else { &table.values[..] };
    let mut statement = conn.prepare_cached(&table.sql)?;
    for row in rest.chunks_exact(table.cols) {
        statement.execute(rusqlite::params_from_iter(row))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The busy timeout of the loads here, as the store sets one. With none, a load that
    /// meets a lock held for a moment by the previous load's checkpointer (still running
    /// its last checkpoint, or closing the last connection, which checkpoints and removes
    /// the WAL under an exclusive lock) fails at once with "database is locked": seen once
    /// in CI, not reproduced in 25 runs under load.
    const WAIT: Duration = Duration::from_secs(5);

    /// A fresh database file with an empty table `t`; keep the directory alive.
    fn database() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.db");
        let c = Connection::open(&path).unwrap();
        c.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL);").unwrap();
        (dir, path)
    }

    fn rows(keys: &[i64]) -> Message {
        let values = keys.iter().flat_map(|k| [SqliteValue::Integer(*k), SqliteValue::Text(format!("v{k}"))]).collect();
        Message::Rows(vec![Rows {
            sql: "INSERT INTO t (k, v) VALUES (?, ?)".into(),
            cols: 2,
            values,
            rows_per_statement: 2,
        }])
    }

    fn count(path: &Path) -> i64 {
        Connection::open(path).unwrap().query_row("SELECT count(*) FROM t", [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn commits_only_when_told() {
        let (_dir, path) = database();

        let (tx, rx) = tokio::sync::mpsc::channel(4);
        tx.try_send(rows(&[1, 2])).unwrap();
        tx.try_send(rows(&[3])).unwrap();
        drop(tx);
        assert!(!load(&path, WAIT, rx).unwrap(), "no commit message: rolled back");
        assert_eq!(count(&path), 0);

        let (tx, rx) = tokio::sync::mpsc::channel(4);
        tx.try_send(rows(&[1, 2, 3, 4, 5])).unwrap();
        tx.try_send(rows(&[6])).unwrap();
        tx.try_send(Message::Commit).unwrap();
        assert!(load(&path, WAIT, rx).unwrap());
        assert_eq!(count(&path), 6);
    }

    #[test]
    fn an_error_rolls_the_whole_load_back() {
        let (_dir, path) = database();
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        tx.try_send(rows(&[1, 2])).unwrap();
        tx.try_send(rows(&[2])).unwrap();
        tx.try_send(Message::Commit).unwrap();
        let e = load(&path, WAIT, rx).unwrap_err();
        assert_eq!(e.sqlite_error_code(), Some(rusqlite::ErrorCode::ConstraintViolation));
        assert_eq!(count(&path), 0);
    }

    fn require(keys: &[i64]) -> Message {
        Message::Require(Exists {
            sql: "SELECT 1 FROM t WHERE k = ?".into(),
            cols: 1,
            values: keys.iter().map(|k| SqliteValue::Integer(*k)).collect(),
        })
    }

    #[test]
    fn a_required_row_that_is_missing_fails_the_load_as_a_foreign_key_would() {
        let (_dir, path) = database();
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        tx.try_send(rows(&[1, 2])).unwrap();
        tx.try_send(Message::Commit).unwrap();
        assert!(load(&path, WAIT, rx).unwrap());

        // Rows of an earlier load and of this one are there.
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        tx.try_send(rows(&[3])).unwrap();
        tx.try_send(require(&[1, 3])).unwrap();
        tx.try_send(Message::Commit).unwrap();
        assert!(load(&path, WAIT, rx).unwrap());
        assert_eq!(count(&path), 3);

        let (tx, rx) = tokio::sync::mpsc::channel(4);
        tx.try_send(rows(&[4])).unwrap();
        tx.try_send(require(&[2, 5])).unwrap();
        tx.try_send(Message::Commit).unwrap();
        let e = load(&path, WAIT, rx).unwrap_err();
        assert!(
            matches!(&e, rusqlite::Error::SqliteFailure(f, _) if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY),
            "{e:?}"
        );
        assert!(matches!(
            crate::error::map_rusqlite(e, "customer"),
            crm_core::StoreError::InvalidReference { field, .. } if field == "customer"
        ));
        assert_eq!(count(&path), 3, "the failed load wrote nothing");
    }

    #[test]
    fn the_loads_pages_reach_the_database_file_through_the_checkpointer() {
        let (_dir, path) = database();
        // Another connection stays open, so that no connection closing last checkpoints.
        let keep = Connection::open(&path).unwrap();
        keep.query_row("SELECT count(*) FROM t", [], |r| r.get::<_, i64>(0)).unwrap();
        let before = std::fs::metadata(&path).unwrap().len();
        let values = (0..2_000).flat_map(|k| [SqliteValue::Integer(k), SqliteValue::Text("x".repeat(1_000))]).collect();
        let rows = Rows { sql: "INSERT INTO t (k, v) VALUES (?, ?)".into(), cols: 2, values, rows_per_statement: 1 };
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        tx.try_send(Message::Rows(vec![rows])).unwrap();
        tx.try_send(Message::Commit).unwrap();
        assert!(load(&path, WAIT, rx).unwrap());
        // The loading connection does not checkpoint: its checkpointer does, after the load.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::fs::metadata(&path).unwrap().len() < before + 2_000_000 {
            assert!(std::time::Instant::now() < deadline, "the load's pages never reached the database file");
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(count(&path), 2_000);
    }

    #[test]
    fn back_to_back_loads_write_the_wal_over_instead_of_growing_it() {
        let (_dir, path) = database();
        // Another connection stays open, so that no connection closing last checkpoints.
        let keep = Connection::open(&path).unwrap();
        keep.query_row("SELECT count(*) FROM t", [], |r| r.get::<_, i64>(0)).unwrap();
        let wal = || std::fs::metadata(path.with_extension("db-wal")).map_or(0, |m| m.len());
        let mut sizes = Vec::new();
        for load_no in 0..6_i64 {
            let values = (0..2_000)
                .flat_map(|k| [SqliteValue::Integer(load_no * 2_000 + k), SqliteValue::Text("x".repeat(1_000))])
                .collect();
            let rows =
                Rows { sql: "INSERT INTO t (k, v) VALUES (?, ?)".into(), cols: 2, values, rows_per_statement: 1 };
            let (tx, rx) = tokio::sync::mpsc::channel(4);
            tx.try_send(Message::Rows(vec![rows])).unwrap();
            tx.try_send(Message::Commit).unwrap();
            assert!(load(&path, WAIT, rx).unwrap());
            sizes.push(wal());
        }
        assert_eq!(count(&path), 12_000);
        // Each load's ~2 MB of frames start over at the WAL's beginning: the file keeps
        // the size of one load (appended, six loads would make it six times as large).
        assert!(sizes[0] > 2_000_000, "{sizes:?}");
        assert!(sizes[5] < sizes[0] * 3 / 2, "the WAL grew load after load: {sizes:?}");
    }

    #[test]
    fn a_reader_holding_an_old_snapshot_delays_a_load_only_briefly() {
        let (_dir, path) = database();
        let one_load = |first: i64| {
            let (tx, rx) = tokio::sync::mpsc::channel(4);
            tx.try_send(rows(&[first, first + 1])).unwrap();
            tx.try_send(Message::Commit).unwrap();
            assert!(load(&path, WAIT, rx).unwrap());
        };
        one_load(1);
        // A read that started before the next load's commit: its snapshot keeps the WAL's
        // later frames from being checkpointed until it ends.
        let reader = Connection::open(&path).unwrap();
        reader.execute_batch("BEGIN").unwrap();
        assert_eq!(reader.query_row("SELECT count(*) FROM t", [], |r| r.get::<_, i64>(0)).unwrap(), 2);
        one_load(3);
        let started = std::time::Instant::now();
        one_load(5);
        assert!(started.elapsed() < Duration::from_secs(1), "the load waited {:?} for the reader", started.elapsed());
        assert_eq!(reader.query_row("SELECT count(*) FROM t", [], |r| r.get::<_, i64>(0)).unwrap(), 2);
        reader.execute_batch("COMMIT").unwrap();
        assert_eq!(count(&path), 6);
    }
}
