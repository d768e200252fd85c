//! Keyed reads on PostgreSQL, combined within the process: concurrent reads of the same
//! statement that differ only in their key (the screen pop by phone or email) run as ONE
//! statement over all their keys when the reads before them are still in flight.
//!
//! Why: on PostgreSQL most of a screen pop's cost is not its lookup but the statement around
//! it: the round trip, the protocol messages, a transaction, the executor's start and end,
//! and on both sides the wake-ups and system calls. Under load, a statement over a batch of
//! keys (`unnest($n) WITH ORDINALITY` joined `LATERAL` to the one-key statement) pays those
//! once per batch: measured with pgbench on 200,000 customers, eight keys per statement
//! read 2.4 times as many cards per second as one key per statement, and the server's screen
//! pops per second went from ~8,300 to ~14,200 (ADR 0008).
//!
//! A read never waits for others to gather: up to [`ROUNDS`] statements of one shape run at
//! once (one on two cores), and reads that arrive while they all run go together in the
//! next one. A read that finds a round free leads it on its own task (no hand-off to
//! another thread); the rounds after it, for the reads that queued meanwhile, run on a task
//! of their own. A round of one key runs the plain one-key statement, so at low load every
//! read costs what it did before.

use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::Duration;

use sea_orm::sea_query::Values;
use sea_orm::sqlx::postgres::{PgArguments, PgRow};
use sea_orm::sqlx::{self, Arguments as _, PgPool, Row as _};
use sea_orm::{DbErr, RuntimeErr, Value};
use sea_query_sqlx::SqlxValues;
use tokio::sync::oneshot;

/// The SQL expression that stands for the key in a keyed statement.
pub(crate) const KEY: &str = "k.key";

/// Statements of one shape running at once: one per two cores. On the 2-core machines of
/// the benchmarks one statement at a time served the most screen pops with the shortest
/// tail (200,000 customers, 32 connections: 1 → 14,215 requests/s, p99 4.86 ms; 2 → 10,563
/// and 7.24 ms; 3 → 9,426 and 8.75 ms; 4 → 9,521 and 8.42 ms): the fewer statements run,
/// the more keys each one carries, and the database's and the server's processes do not
/// compete for the cores. Larger machines were not measured.
static ROUNDS: LazyLock<usize> =
    LazyLock::new(|| std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1)));

/// How long a read waits for its round before it takes the shape out of use and queues
/// again. A round is one indexed statement (about a millisecond); only a round whose task
/// was left behind on a stopped runtime takes this long.
const STUCK: Duration = Duration::from_secs(5);

/// Keys per statement at most.
const MAX_KEYS: usize = 64;

type Reply = oneshot::Sender<Result<Vec<PgRow>, DbErr>>;

/// A queued read: its key and where its rows go.
type Waiting = (String, Reply);

/// A shape's statements, numbered placeholders, the key or keys bound last.
#[derive(Clone)]
struct Statements {
    /// For several keys.
    combined: Arc<str>,
    /// For one key.
    single: Arc<str>,
}

/// The reads of one shape: same statement, same values but the key.
struct Shape {
    id: u64,
    /// The one-key statement, `?` placeholders, [`KEY`] for the key.
    sql: Arc<str>,
    values: Vec<Value>,
    statements: Statements,
    waiting: Vec<Waiting>,
    running: usize,
}

#[derive(Default)]
struct State {
    shapes: Vec<Shape>,
    next_id: u64,
}

impl State {
    /// One round of the shape fewer running; the shape goes with its last round (its
    /// waiters, if any, see their replies dropped and queue again).
    fn end_round(&mut self, id: u64) {
        if let Some(index) = self.shapes.iter().position(|s| s.id == id) {
            self.shapes[index].running -= 1;
            if self.shapes[index].running == 0 {
                self.shapes.swap_remove(index);
            }
        }
    }
}

/// Keyed reads combined per statement shape.
pub(crate) struct KeyedReads {
    pool: PgPool,
    state: Mutex<State>,
    statements: AtomicU64,
    keys: AtomicU64,
}

/// How many keyed reads a store combined into how many statements (PostgreSQL).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CombinedReadCounts {
    /// Statements run.
    pub statements: u64,
    /// Keys they read (each a caller's screen pop).
    pub keys: u64,
}

impl std::fmt::Debug for KeyedReads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyedReads").finish_non_exhaustive()
    }
}

/// The combined statement: the one-key statement `sql` (its `?`s numbered from 1, the
/// keys bound after its `values` values) once per key, each row with its key's position
/// from 1 (`ord`).
fn combined_sql(sql: &str, values: usize) -> String {
    format!(
        "SELECT k.ord AS ord, x.* FROM unnest(CAST(${} AS TEXT[])) WITH ORDINALITY AS k(key, ord) \
         CROSS JOIN LATERAL ({}) AS x",
        values + 1,
        crate::sql::numbered(sql)
    )
}

/// The one-key statement: `sql` with its `?`s numbered from 1 and the key bound after its
/// `values` values.
fn single_sql(sql: &str, values: usize) -> String {
    crate::sql::numbered(sql).replace(KEY, &format!("CAST(${} AS TEXT)", values + 1))
}

fn abandoned() -> DbErr {
    DbErr::Custom("the combined read was abandoned".into())
}

impl KeyedReads {
    pub(crate) fn new(pool: PgPool) -> Arc<Self> {
        Arc::new(Self { pool, state: Mutex::default(), statements: AtomicU64::new(0), keys: AtomicU64::new(0) })
    }

    pub(crate) fn counts(&self) -> CombinedReadCounts {
        CombinedReadCounts { statements: self.statements.load(Relaxed), keys: self.keys.load(Relaxed) }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The rows `sql` (with `?` placeholders for `values`, and [`KEY`] where the key goes)
    /// returns for `key`.
    ///
    /// A read whose round was dropped unanswered (the runtime that ran it stopped) is queued
    /// again; so is a read that waited [`STUCK`] for a round that never ends (its task left
    /// on a runtime that stopped), after taking its shape out of use.
    pub(crate) async fn read(
        self: &Arc<Self>,
        sql: Arc<str>,
        values: Vec<Value>,
        key: String,
    ) -> Result<Vec<PgRow>, DbErr> {
        for _ in 0..3 {
            match self.queue(&sql, &values, &key) {
                Queued::Lead(id) => {
                    if let Some(answer) = self.lead(id, key.clone()).await {
                        return answer;
                    }
                }
                Queued::Wait(id, answer) => match tokio::time::timeout(STUCK, answer).await {
                    Ok(Ok(answer)) => return answer,
                    Ok(Err(_dropped)) => {}
                    Err(_stuck) => self.forget(id),
                },
            }
        }
        Err(abandoned())
    }

    /// Takes a shape out of use: the next read of its statement starts a new one.
    fn forget(&self, id: u64) {
        self.state().shapes.retain(|s| s.id != id);
    }

    /// Leads a round when fewer than [`ROUNDS`] run, or queues the read for the next one.
    fn queue(&self, sql: &Arc<str>, values: &[Value], key: &str) -> Queued {
        let mut state = self.state();
        // Statement texts are built once per shape (one `Arc`): the pointer usually tells.
        let same_sql = |s: &Shape| Arc::ptr_eq(&s.sql, sql) || s.sql == *sql;
        let index = match state.shapes.iter().position(|s| same_sql(s) && s.values == values) {
            Some(index) => index,
            None => {
                let id = state.next_id;
                state.next_id += 1;
                let statements = Statements {
                    combined: combined_sql(sql, values.len()).into(),
                    single: single_sql(sql, values.len()).into(),
                };
                let (sql, values) = (sql.clone(), values.to_vec());
                state.shapes.push(Shape { id, sql, values, statements, waiting: Vec::new(), running: 0 });
                state.shapes.len() - 1
            }
        };
        let shape = &mut state.shapes[index];
        if shape.running < *ROUNDS {
            shape.running += 1;
            return Queued::Lead(shape.id);
        }
        let (reply, answer) = oneshot::channel();
        shape.waiting.push((key.to_owned(), reply));
        Queued::Wait(shape.id, answer)
    }

    /// The oldest reads waiting on the shape (at most `max`), with its statements and
    /// values; `None` when the shape is gone.
    fn take(&self, id: u64, max: usize) -> Option<(Statements, Vec<Value>, Vec<Waiting>)> {
        let mut state = self.state();
        let shape = state.shapes.iter_mut().find(|s| s.id == id)?;
        let take = shape.waiting.len().min(max);
        Some((shape.statements.clone(), shape.values.clone(), shape.waiting.drain(..take).collect()))
    }

    /// A round's end: `true` when reads wait for the next one (the caller leads it),
    /// otherwise the shape has one round fewer running.
    fn next_round(&self, id: u64) -> bool {
        let mut state = self.state();
        let waiting = state.shapes.iter().any(|s| s.id == id && !s.waiting.is_empty());
        if !waiting {
            state.end_round(id);
        }
        waiting
    }

    /// The leader's round, on the caller's task: its own key and the reads waiting. Reads
    /// that arrived meanwhile get a round on a task of their own, so that the caller does
    /// not serve others after its answer. `None` when the shape was taken out of use
    /// meanwhile (the read queues again).
    async fn lead(self: &Arc<Self>, id: u64, key: String) -> Option<Result<Vec<PgRow>, DbErr>> {
        let mut guard = Serving { reads: self, id, over: false };
        let Some((statements, values, batch)) = self.take(id, MAX_KEYS - 1) else {
            guard.over = true;
            return None;
        };
        let (others, replies): (Vec<String>, Vec<Reply>) = batch.into_iter().unzip();
        let keys: Vec<String> = std::iter::once(key).chain(others).collect();
        let mut per_key = self.run(&statements, values, keys).await.map_err(|e| query_error(Arc::new(e)));
        let mine = match &mut per_key {
            Ok(rows) => Ok(std::mem::take(&mut rows[0])),
            Err(e) => Err(e.clone()),
        };
        answer(per_key.map(|rows| rows.into_iter().skip(1).collect()), replies);
        guard.over = true;
        if self.next_round(id) {
            // On a task of its own: a caller that gives up must not stop the others' round.
            let reads = Arc::clone(self);
            tokio::spawn(async move { reads.serve(id).await });
        }
        Some(mine)
    }

    /// Runs rounds for whoever waits on the shape, until nobody does.
    async fn serve(&self, id: u64) {
        let mut guard = Serving { reads: self, id, over: false };
        loop {
            let Some((statements, values, batch)) = self.take(id, MAX_KEYS) else {
                guard.over = true;
                return;
            };
            if !batch.is_empty() {
                let (keys, replies): (Vec<String>, Vec<Reply>) = batch.into_iter().unzip();
                let per_key = self.run(&statements, values, keys).await.map_err(|e| query_error(Arc::new(e)));
                answer(per_key, replies);
            }
            if !self.next_round(id) {
                guard.over = true;
                return;
            }
        }
    }

    /// Runs a round's statement for `keys` (the one-key statement for one key); the rows
    /// per key, in key order.
    async fn run(
        &self,
        statements: &Statements,
        values: Vec<Value>,
        keys: Vec<String>,
    ) -> Result<Vec<Vec<PgRow>>, sqlx::Error> {
        self.statements.fetch_add(1, Relaxed);
        self.keys.fetch_add(keys.len() as u64, Relaxed);
        let count = keys.len();
        let mut arguments: PgArguments =
            sqlx::IntoArguments::<sqlx::Postgres>::into_arguments(SqlxValues(Values(values)));
        if let [key] = &keys[..] {
            arguments.add(key).map_err(sqlx::Error::Encode)?;
            // Built from the store's own SQL text; only values are bound.
            let query = sqlx::query_with(sqlx::AssertSqlSafe(Arc::clone(&statements.single)), arguments);
            return Ok(vec![query.fetch_all(&self.pool).await?]);
        }
        arguments.add(keys).map_err(sqlx::Error::Encode)?;
        let query = sqlx::query_with(sqlx::AssertSqlSafe(Arc::clone(&statements.combined)), arguments);
        let rows = query.fetch_all(&self.pool).await?;
        let mut per_key: Vec<Vec<PgRow>> = (0..count).map(|_| Vec::new()).collect();
        for row in rows {
            let ord: i64 = row.try_get("ord")?;
            let slot = usize::try_from(ord).ok().and_then(|o| o.checked_sub(1)).and_then(|i| per_key.get_mut(i));
            let slot =
                slot.ok_or_else(|| sqlx::Error::Protocol(format!("a combined read row for key {ord} of {count}")))?;
            slot.push(row);
        }
        Ok(per_key)
    }
}

/// What [`KeyedReads::queue`] made of a read.
enum Queued {
    /// Lead a round of the shape.
    Lead(u64),
    /// Wait for a round of the shape.
    Wait(u64, oneshot::Receiver<Result<Vec<PgRow>, DbErr>>),
}

/// A task serving a shape. Should it be dropped mid-round (the runtime shutting down), the
/// shape's count of running rounds goes down with it, and when none is left the shape goes
/// too: its waiters see their reply dropped and queue again instead of waiting forever.
struct Serving<'a> {
    reads: &'a KeyedReads,
    id: u64,
    over: bool,
}

impl Drop for Serving<'_> {
    fn drop(&mut self) {
        if self.over {
            return;
        }
        self.reads.state().end_round(self.id);
    }
}

/// Hands each caller its rows, or the statement's error.
fn answer(result: Result<Vec<Vec<PgRow>>, DbErr>, replies: Vec<Reply>) {
    match result {
        Ok(per_key) => {
            for (rows, reply) in per_key.into_iter().zip(replies) {
                let _ = reply.send(Ok(rows));
            }
        }
        Err(e) => {
            for reply in replies {
                let _ = reply.send(Err(e.clone()));
            }
        }
    }
}

/// A sqlx error as sea-orm's query error (what the store's error mapping reads).
pub(crate) fn query_error(e: Arc<sqlx::Error>) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(e))
}
