//! Group commit on SQLite: the hot writes (a new case with its history and events, a
//! counter draw) queue for ONE task that owns the turn on the single write connection and
//! serves everything waiting in one go.
//!
//! SQLite has one writer, and every round trip to its connection thread is time all other
//! writers wait (a hand-off to the thread and back, and the caller's task being scheduled
//! again). Served one by one, 32 concurrent case creations cost two round trips each;
//! served together they cost two per batch:
//!
//! - **Counter draws** of one tenant and counter become one upsert that adds the number of
//!   draws and returns the last value; the callers get consecutive values in the order they
//!   queued (so values stay unique and increasing).
//! - **Inserts** of several callers run as one transaction,
//!   `BEGIN IMMEDIATE; …; COMMIT`, in one execution. When it fails (one caller's row breaks
//!   a constraint), it is rolled back and each caller's inserts run again in a transaction
//!   of their own, so each caller gets its own answer and no caller's rows depend on
//!   another's.
//!
//! A connection that cannot roll back is closed, never handed back with a transaction open.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::{Arc, Mutex, PoisonError};

use sea_orm::sea_query::Values;
use sea_orm::sqlx::{self, Row as _, SqlitePool, pool::PoolConnection, sqlite::Sqlite};
use sea_orm::{DbErr, RuntimeErr, Value};
use sea_query_sqlx::SqlxValues;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::draws::{DRAW_MANY, Reply, answer, draw_arguments, first_drawn};

/// Statements with their values.
pub(crate) type Statements = Vec<(String, Vec<Value>)>;

/// How many queued jobs one round serves at most.
const ROUND: usize = 64;

enum Job {
    Insert { parts: Statements, reply: oneshot::Sender<Result<(), DbErr>>, started: Started },
    Draw { tenant: Uuid, counter: &'static str, reply: Reply, started: Started },
}

/// Set by the queue's task when it starts on a job's statements. A job whose reply is
/// dropped unanswered and unstarted (its task went with its runtime first) never ran, and
/// is sent again.
type Started = Arc<AtomicBool>;

/// How many times a job is sent at most (again each time it was dropped unstarted).
const SENDS: usize = 5;

/// The queue in front of the write connection; cheap to clone.
///
/// Its task runs on the tokio runtime that was current when it started. When that runtime
/// stops (an embedder that opened the store in a runtime of its own and goes on in
/// another, a test runtime per test), the task is gone with it: the next write starts a
/// new one on the caller's runtime instead of failing from then on.
#[derive(Clone, Debug)]
pub(crate) struct WriteQueue {
    pool: SqlitePool,
    jobs: Arc<Mutex<mpsc::UnboundedSender<Job>>>,
}

fn sqlx_err(e: sqlx::Error) -> DbErr {
    DbErr::Exec(RuntimeErr::SqlxError(Arc::new(e)))
}

fn stopped() -> DbErr {
    DbErr::Custom("the SQLite write queue has stopped".into())
}

impl WriteQueue {
    /// Starts the queue's task on the current tokio runtime; it ends when the last
    /// [`WriteQueue`] is dropped.
    ///
    /// # Panics
    /// Outside a tokio runtime (the store connects inside one).
    pub(crate) fn start(pool: SqlitePool) -> Self {
        let jobs = spawn_server(pool.clone());
        Self { pool, jobs: Arc::new(Mutex::new(jobs)) }
    }

    /// Runs the statements as one transaction (with others' when they queue together).
    pub(crate) async fn insert(&self, parts: Statements) -> Result<(), DbErr> {
        self.submit(|reply, started| Job::Insert { parts: parts.clone(), reply, started }).await
    }

    /// The counter's next value for the tenant.
    pub(crate) async fn draw(&self, tenant: Uuid, counter: &'static str) -> Result<u64, DbErr> {
        self.submit(|reply, started| Job::Draw { tenant, counter, reply, started }).await
    }

    /// Queues the job `make` builds and waits for its answer; builds and sends it again
    /// when it was dropped unstarted.
    async fn submit<T>(&self, make: impl Fn(oneshot::Sender<Result<T, DbErr>>, Started) -> Job) -> Result<T, DbErr> {
        for _ in 0..SENDS {
            let (reply, answer) = oneshot::channel();
            let started = Started::default();
            self.send(make(reply, started.clone()))?;
            match answer.await {
                Ok(done) => return done,
                Err(_) if !started.load(SeqCst) => tokio::task::yield_now().await,
                Err(_) => break,
            }
        }
        Err(stopped())
    }

    /// Queues a job, first starting a new task on the caller's runtime when the queue's
    /// task has gone (its runtime stopped: its receiver was dropped with it). A job that
    /// its task had started when it went is answered with [`stopped`]: whether its
    /// statements ran is unknown.
    fn send(&self, job: Job) -> Result<(), DbErr> {
        let mut jobs = self.jobs.lock().unwrap_or_else(PoisonError::into_inner);
        let Err(mpsc::error::SendError(job)) = jobs.send(job) else { return Ok(()) };
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(stopped());
        }
        tracing::debug!("the SQLite write queue's task had stopped with its runtime: starting a new one");
        *jobs = spawn_server(self.pool.clone());
        jobs.send(job).map_err(|_| stopped())
    }
}

/// Starts a queue's task on the current runtime; it ends when the sender is dropped.
fn spawn_server(pool: SqlitePool) -> mpsc::UnboundedSender<Job> {
    let (jobs, rx) = mpsc::unbounded_channel();
    tokio::spawn(serve(pool, rx));
    jobs
}

async fn serve(pool: SqlitePool, mut rx: mpsc::UnboundedReceiver<Job>) {
    let mut jobs = Vec::with_capacity(ROUND);
    while rx.recv_many(&mut jobs, ROUND).await > 0 {
        let mut draws: BTreeMap<(Uuid, &'static str), Vec<Reply>> = BTreeMap::new();
        let mut inserts = Vec::new();
        for job in jobs.drain(..) {
            match job {
                Job::Insert { parts, reply, started } => {
                    started.store(true, SeqCst);
                    inserts.push((parts, reply));
                }
                Job::Draw { tenant, counter, reply, started } => {
                    started.store(true, SeqCst);
                    draws.entry((tenant, counter)).or_default().push(reply);
                }
            }
        }
        let mut conn = match pool.acquire().await {
            Ok(conn) => conn,
            Err(e) => {
                let e = Arc::new(e);
                for (_, reply) in inserts {
                    let _ = reply.send(Err(DbErr::Conn(RuntimeErr::SqlxError(e.clone()))));
                }
                for reply in draws.into_values().flatten() {
                    let _ = reply.send(Err(DbErr::Conn(RuntimeErr::SqlxError(e.clone()))));
                }
                continue;
            }
        };
        for ((tenant, counter), replies) in draws {
            answer(draw_many(&mut conn, tenant, counter, replies.len()).await, replies);
        }
        if inserts.len() == 1 {
            let (parts, reply) = inserts.remove(0);
            let _ = reply.send(transaction(&mut conn, parts).await);
        } else if !inserts.is_empty() {
            let all: Statements = inserts.iter().flat_map(|(parts, _)| parts.iter().cloned()).collect();
            if transaction(&mut conn, all).await.is_ok() {
                for (_, reply) in inserts {
                    let _ = reply.send(Ok(()));
                }
            } else {
                for (parts, reply) in inserts {
                    let _ = reply.send(transaction(&mut conn, parts).await);
                }
            }
        }
    }
}

/// Adds `n` to the counter; returns the first of the `n` values drawn.
async fn draw_many(
    conn: &mut PoolConnection<Sqlite>,
    tenant: Uuid,
    counter: &str,
    n: usize,
) -> Result<u64, sqlx::Error> {
    let n = i64::try_from(n).unwrap_or(i64::MAX);
    let query = sqlx::query_with(DRAW_MANY, draw_arguments(tenant, counter, n));
    let last: i64 = query.fetch_one(&mut **conn).await?.try_get("value")?;
    first_drawn(last, n)
}

/// `BEGIN IMMEDIATE; …; COMMIT` as one execution; rolled back on failure.
async fn transaction(conn: &mut PoolConnection<Sqlite>, parts: Statements) -> Result<(), DbErr> {
    let mut sql = String::from("BEGIN IMMEDIATE");
    let mut values = Vec::new();
    for (part, part_values) in parts {
        sql.push_str("; ");
        sql.push_str(&part);
        values.extend(part_values);
    }
    sql.push_str("; COMMIT");
    let query = sqlx::query_with(sqlx::AssertSqlSafe(sql.as_str()), SqlxValues(Values(values)));
    let Err(error) = query.execute(&mut **conn).await else { return Ok(()) };
    match sqlx::query("ROLLBACK").execute(&mut **conn).await {
        Ok(_) => {}
        // `BEGIN` itself failed (a lock held by another process past the busy timeout).
        Err(sqlx::Error::Database(e)) if e.message().contains("no transaction is active") => {}
        Err(rollback) => {
            tracing::error!(%rollback, "closing a SQLite write connection that could not roll back");
            conn.close_on_drop();
        }
    }
    Err(sqlx_err(error))
}
