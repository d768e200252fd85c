//! Counter draws on PostgreSQL, combined within the process: callers that want the same
//! counter while a draw of it is in flight wait for the next draw, which adds their number
//! at once and hands out consecutive values in the order they asked.
//!
//! Why: a draw is an upsert of one row, and PostgreSQL holds that row's lock until the
//! draw commits (its WAL flush included), so concurrent creators of one tenant queue on it
//! one by one, each paying a statement, a lock wait and a commit. Combined, a burst of N
//! creations costs one draw per round instead of N. Values stay unique and increasing,
//! also across server replicas (each draw reserves its range under the row lock); a value
//! whose caller went away before taking it is skipped, as any failed creation skips one.
//! SQLite gets the same from its write queue (`crate::writer`, ADR 0004).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use sea_orm::sea_query::Values;
use sea_orm::sqlx::{self, PgPool, Row as _};
use sea_orm::{DbErr, RuntimeErr, Value};
use sea_query_sqlx::SqlxValues;
use tokio::sync::oneshot;
use uuid::Uuid;

/// Where a counter draw's value goes (also the SQLite write queue's draws).
pub(crate) type Reply = oneshot::Sender<Result<u64, DbErr>>;
type Key = (Uuid, &'static str);

/// A round's upsert, shared with the SQLite write queue: adds the round's number of draws
/// (the third value) to the counter and returns its new value. `?` placeholders.
pub(crate) const DRAW_MANY: &str = "INSERT INTO sequences (tenant_id, name, value) VALUES (?, ?, ?) \
     ON CONFLICT (tenant_id, name) DO UPDATE SET value = sequences.value + excluded.value RETURNING value";

/// [`DRAW_MANY`] with PostgreSQL's numbered placeholders.
static DRAW_MANY_PG: LazyLock<String> = LazyLock::new(|| crate::sql::numbered(DRAW_MANY));

/// The values of [`DRAW_MANY`] for `n` draws.
pub(crate) fn draw_arguments(tenant: Uuid, counter: &str, n: i64) -> SqlxValues {
    SqlxValues(Values(vec![Value::Uuid(Some(tenant)), Value::String(Some(counter.to_owned())), Value::BigInt(Some(n))]))
}

/// The first of the `n` values a round drew, from the counter's value after it.
pub(crate) fn first_drawn(last: i64, n: i64) -> Result<u64, sqlx::Error> {
    u64::try_from(last - n + 1).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

/// Hands a round's values out in the order the callers asked, or its error to each.
pub(crate) fn answer(drawn: Result<u64, sqlx::Error>, replies: Vec<Reply>) {
    match drawn {
        Ok(first) => {
            for (value, reply) in (first..).zip(replies) {
                let _ = reply.send(Ok(value));
            }
        }
        Err(e) => {
            let e = Arc::new(e);
            for reply in replies {
                let _ = reply.send(Err(DbErr::Exec(RuntimeErr::SqlxError(e.clone()))));
            }
        }
    }
}

/// The draws waiting per counter; a key is present while a round for it runs.
#[derive(Debug)]
pub(crate) struct Draws {
    pool: PgPool,
    waiting: Mutex<HashMap<Key, Vec<Reply>>>,
}

fn stopped() -> DbErr {
    DbErr::Custom("the counter draw was abandoned".into())
}

impl Draws {
    pub(crate) fn new(pool: PgPool) -> Arc<Self> {
        Arc::new(Self { pool, waiting: Mutex::default() })
    }

    /// The counter's next value for the tenant (from 1).
    pub(crate) async fn draw(self: &Arc<Self>, tenant: Uuid, counter: &'static str) -> Result<u64, DbErr> {
        let (reply, answer) = oneshot::channel();
        let lead = {
            let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
            match waiting.get_mut(&(tenant, counter)) {
                Some(queue) => {
                    queue.push(reply);
                    false
                }
                None => {
                    waiting.insert((tenant, counter), vec![reply]);
                    true
                }
            }
        };
        if lead {
            // On a task of its own: a caller that gives up must not stop the others' round.
            let draws = Arc::clone(self);
            tokio::spawn(async move { draws.serve(tenant, counter).await });
        }
        answer.await.map_err(|_| stopped())?
    }

    /// Draws for whoever waits on the counter, round after round, until nobody does.
    async fn serve(&self, tenant: Uuid, counter: &'static str) {
        let mut round = Round { draws: self, key: (tenant, counter), over: false };
        loop {
            let replies = {
                let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
                match waiting.get_mut(&(tenant, counter)) {
                    Some(queue) if !queue.is_empty() => std::mem::take(queue),
                    _ => {
                        waiting.remove(&(tenant, counter));
                        round.over = true;
                        return;
                    }
                }
            };
            answer(draw_many(&self.pool, tenant, counter, replies.len()).await, replies);
        }
    }
}

/// A running round. Should its task be dropped before the round is over (the runtime shutting
/// down), the counter's queue goes with it: its waiters get an error instead of waiting
/// forever, and the next caller leads a new round.
struct Round<'a> {
    draws: &'a Draws,
    key: Key,
    over: bool,
}

impl Drop for Round<'_> {
    fn drop(&mut self) {
        if !self.over {
            self.draws.waiting.lock().unwrap_or_else(PoisonError::into_inner).remove(&self.key);
        }
    }
}

/// Adds `n` to the counter; returns the first of the `n` values drawn.
async fn draw_many(pool: &PgPool, tenant: Uuid, counter: &str, n: usize) -> Result<u64, sqlx::Error> {
    let n = i64::try_from(n).unwrap_or(i64::MAX);
    let query = sqlx::query_with(DRAW_MANY_PG.as_str(), draw_arguments(tenant, counter, n));
    let last: i64 = query.fetch_one(pool).await?.try_get("value")?;
    first_drawn(last, n)
}
