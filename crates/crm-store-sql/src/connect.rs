//! Connecting: `sqlite://path?mode=rwc`, `sqlite::memory:` and `postgres://…` URLs.
//!
//! SQLite runs in WAL mode with `foreign_keys=ON`, a busy timeout and `synchronous=NORMAL`.
//! Writes go through ONE path: a pool of a single connection whose transactions start with
//! `BEGIN IMMEDIATE`, so concurrent writers queue for that connection instead of failing
//! with "database is locked"; the hot writes (new cases, counter draws) reach it through
//! the write queue (`crate::writer`), which serves concurrent callers together. Reads use a
//! separate pool of several read-only connections; the screen pop reads on a few more,
//! on the caller's thread (`crate::inline`, ADR 0005). An in-memory database lives in one
//! connection, so reads and writes share it.
//! PostgreSQL uses one pool; its row locks (`FOR UPDATE SKIP LOCKED`, upserts on the
//! sequence row) keep concurrent writers correct, and the process's concurrent counter
//! draws are combined into one upsert (`crate::draws`).

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sea_orm::sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sea_orm::sqlx::{ConnectOptions as _, Connection as _, PgPool, SqlitePool};
use sea_orm::{
    DatabaseConnection, DatabaseTransaction, DbBackend, SqliteTransactionMode, SqlxPostgresConnector,
    SqlxSqliteConnector, TransactionOptions, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;

use crm_core::StoreError;
use crm_core::ports::StoreResult;

#[cfg(feature = "bench")]
use crate::bulk::BulkTarget;
use crate::draws::Draws;
use crate::error::db;
use crate::inline::{InlineReadCounts, InlineReads};
use crate::lookups::{CombinedReadCounts, KeyedReads};
use crate::migration::Migrator;
use crate::writer::WriteQueue;

/// Pool settings. The defaults suit a single server process.
#[derive(Clone, Debug)]
pub struct SqlStoreOptions {
    /// Read connections (SQLite file) or all connections (PostgreSQL).
    pub max_connections: u32,
    /// How long a SQLite statement waits for a lock held by another process.
    pub busy_timeout: Duration,
    /// How long a caller waits for a free connection before `Unavailable`.
    pub acquire_timeout: Duration,
}

/// How long a PostgreSQL connection may sit idle in the pool before it is pinged on its
/// way out.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(30);

impl Default for SqlStoreOptions {
    fn default() -> Self {
        Self { max_connections: 8, busy_timeout: Duration::from_secs(5), acquire_timeout: Duration::from_secs(30) }
    }
}

/// The SQL store: implements every store port of `crm-core`. Cheap to clone (pools are
/// shared).
#[derive(Clone, Debug)]
pub struct SqlStore {
    pub(crate) read: DatabaseConnection,
    pub(crate) write: DatabaseConnection,
    pub(crate) backend: DbBackend,
    /// SQLite: group commit of the hot writes on the write connection.
    pub(crate) queue: Option<WriteQueue>,
    /// SQLite file: the screen pop's reads on the caller's thread (ADR 0005).
    pub(crate) inline: Option<Arc<InlineReads>>,
    /// SQLite file: where bulk loads write through their own connection (ADR 0006).
    #[cfg(feature = "bench")]
    pub(crate) bulk: Option<Arc<BulkTarget>>,
    /// PostgreSQL: counter draws combined within the process (`crate::draws`).
    pub(crate) draws: Option<Arc<Draws>>,
    /// PostgreSQL: concurrent screen pops combined into one statement (`crate::lookups`).
    pub(crate) lookups: Option<Arc<KeyedReads>>,
    /// The connection pools, named, for [`SqlStore::pool_gauges`].
    pools: Vec<(&'static str, Pool)>,
}

/// A pool of either backend.
#[derive(Clone, Debug)]
enum Pool {
    Postgres(PgPool),
    Sqlite(SqlitePool),
}

/// How full a connection pool is (see [`SqlStore::pool_gauges`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolGauge {
    /// `main` (PostgreSQL, in-memory SQLite), or `read` and `write` (SQLite file).
    pub pool: &'static str,
    /// The most connections it opens.
    pub max: u32,
    /// Connections open now.
    pub open: u32,
    /// Of those, the idle ones (the others run a statement or wait in a transaction).
    pub idle: u32,
}

impl Pool {
    fn gauge(&self, pool: &'static str) -> PoolGauge {
        let (max, open, idle) = match self {
            Self::Postgres(p) => (p.options().get_max_connections(), p.size(), p.num_idle()),
            Self::Sqlite(p) => (p.options().get_max_connections(), p.size(), p.num_idle()),
        };
        PoolGauge { pool, max, open, idle: u32::try_from(idle).unwrap_or(u32::MAX) }
    }
}

fn unavailable(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Unavailable(Box::new(e))
}

impl SqlStore {
    /// Connects to a database; run [`SqlStore::migrate`] before first use.
    ///
    /// # Errors
    /// `Backend` for an unsupported or malformed URL; `Unavailable` when the database
    /// cannot be reached or opened.
    pub async fn connect(url: &str, options: SqlStoreOptions) -> StoreResult<Self> {
        if url.starts_with("sqlite:") {
            Self::connect_sqlite(url, &options).await
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url).map_err(|e| StoreError::Backend(Box::new(e)))?;
            let opts = opts.disable_statement_logging();
            let pool = PgPoolOptions::new()
                .max_connections(options.max_connections.max(1))
                .acquire_timeout(options.acquire_timeout)
                // sqlx pings every connection it hands out by default: a second round trip
                // per statement, which cost the screen pop a third of its throughput. Only a
                // connection that sat idle long enough for the server or a firewall to have
                // dropped it is checked; a connection that broke in use fails its statement
                // and is discarded.
                .test_before_acquire(false)
                .before_acquire(|conn, meta| {
                    Box::pin(async move {
                        if meta.idle_for < IDLE_BEFORE_PING {
                            return Ok(true);
                        }
                        Ok(conn.ping().await.is_ok())
                    })
                })
                .connect_with(opts)
                .await
                .map_err(unavailable)?;
            let draws = Some(Draws::new(pool.clone()));
            let lookups = Some(KeyedReads::new(pool.clone()));
            let pools = vec![("main", Pool::Postgres(pool.clone()))];
            let conn = SqlxPostgresConnector::from_sqlx_postgres_pool(pool);
            Ok(Self {
                read: conn.clone(),
                write: conn,
                backend: DbBackend::Postgres,
                queue: None,
                inline: None,
                #[cfg(feature = "bench")]
                bulk: None,
                draws,
                lookups,
                pools,
            })
        } else {
            Err(StoreError::Backend(format!("unsupported database url scheme in {:?}", scheme(url)).into()))
        }
    }

    async fn connect_sqlite(url: &str, options: &SqlStoreOptions) -> StoreResult<Self> {
        let memory = url.contains(":memory:") || url.contains("mode=memory");
        let base = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Backend(Box::new(e)))?
            .foreign_keys(true)
            .busy_timeout(options.busy_timeout)
            .synchronous(SqliteSynchronous::Normal)
            // Statement journals of multi-row inserts stay in memory. No memory map: SQLite
            // unmaps a reader's whole map whenever it sees the database changed, so under
            // writes every read paid for `munmap`, TLB shoot-downs and page faults, and the
            // writer's map counted hundreds of MB in the server's RSS (ADR 0004).
            // Connections read through the OS page cache.
            .pragma("temp_store", "MEMORY")
            .pragma("mmap_size", "0")
            .disable_statement_logging();
        if memory {
            // One connection holds the whole database: never let the pool close it.
            let pool = SqlitePoolOptions::new()
                .test_before_acquire(false)
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .acquire_timeout(options.acquire_timeout)
                .connect_with(base)
                .await
                .map_err(unavailable)?;
            let queue = Some(WriteQueue::start(pool.clone()));
            let pools = vec![("main", Pool::Sqlite(pool.clone()))];
            let conn = SqlxSqliteConnector::from_sqlx_sqlite_pool(pool);
            return Ok(Self {
                read: conn.clone(),
                write: conn,
                backend: DbBackend::Sqlite,
                queue,
                inline: None,
                #[cfg(feature = "bench")]
                bulk: None,
                draws: None,
                lookups: None,
                pools,
            });
        }
        // No ping before handing a connection out: it would be a round trip to the
        // connection's thread for an in-process database that cannot hang up.
        let write_pool = SqlitePoolOptions::new()
            .test_before_acquire(false)
            .max_connections(1)
            .acquire_timeout(options.acquire_timeout)
            // The writer's page cache: 16 MiB. Bulk loads into a file have their own
            // connection (`crate::bulk`); for the server's case creations on 1M customers
            // 16 MiB wrote as fast as 32 (4,789-4,860 against 4,790-4,888/s, three
            // interleaved pairs) with a peak RSS 17-20 MB lower, and 8 MiB ~3 % slower.
            .connect_with(base.clone().journal_mode(SqliteJournalMode::Wal).pragma("cache_size", "-16384"))
            .await
            .map_err(unavailable)?;
        let inline = Some(Arc::new(InlineReads::new(base.get_filename())));
        #[cfg(feature = "bench")]
        let bulk =
            Some(Arc::new(BulkTarget { path: base.get_filename().to_owned(), busy_timeout: options.busy_timeout }));
        let read_pool = SqlitePoolOptions::new()
            .test_before_acquire(false)
            .max_connections(options.max_connections.max(1))
            .acquire_timeout(options.acquire_timeout)
            .connect_with(base.create_if_missing(false).read_only(true))
            .await
            .map_err(unavailable)?;
        let pools = vec![("read", Pool::Sqlite(read_pool.clone())), ("write", Pool::Sqlite(write_pool.clone()))];
        Ok(Self {
            read: SqlxSqliteConnector::from_sqlx_sqlite_pool(read_pool),
            queue: Some(WriteQueue::start(write_pool.clone())),
            write: SqlxSqliteConnector::from_sqlx_sqlite_pool(write_pool),
            backend: DbBackend::Sqlite,
            inline,
            #[cfg(feature = "bench")]
            bulk,
            draws: None,
            lookups: None,
            pools,
        })
    }

    /// Applies pending migrations (forward only).
    ///
    /// # Errors
    /// `Backend` when a migration fails; `Unavailable` when the database is unreachable.
    ///
    /// On PostgreSQL, replicas starting together take turns: the migrations run while this
    /// process holds an advisory lock (released with the transaction that took it), so the
    /// second replica finds them applied. A PostgreSQL running with autovacuum off is
    /// warned about: its queue tables then only shrink when someone runs `VACUUM`.
    pub async fn migrate(&self) -> StoreResult<()> {
        if !self.is_postgres() {
            return Migrator::up(&self.write, None).await.map_err(db);
        }
        let lock = sea_orm::TransactionTrait::begin(&self.write).await.map_err(db)?;
        sea_orm::ConnectionTrait::execute_unprepared(&lock, "SELECT pg_advisory_xact_lock(7315046)")
            .await
            .map_err(db)?;
        let migrated = Migrator::up(&self.write, None).await.map_err(db);
        crate::connect::finish(lock, migrated).await?;
        if self.autovacuum_off().await? {
            tracing::warn!(
                "PostgreSQL runs with autovacuum off: run VACUUM on outbox, live_events and sequences regularly, \
                 or their dead rows pile up and slow every claim and poll (the server's pruner runs ANALYZE on \
                 outbox and live_events every minute, so their claims and polls keep using their indexes)"
            );
        }
        Ok(())
    }

    /// Whether this is a PostgreSQL server with autovacuum off.
    pub(crate) async fn autovacuum_off(&self) -> StoreResult<bool> {
        if !self.is_postgres() {
            return Ok(false);
        }
        let row = crate::sql::one(&self.read, "SELECT current_setting('autovacuum') AS on_off", vec![]).await;
        let value: Option<String> = row.map_err(db)?.map(|r| crate::sql::col(&r, "on_off")).transpose()?;
        Ok(value.is_some_and(|v| v == "off"))
    }

    /// Checks the database answers.
    ///
    /// # Errors
    /// `Unavailable` when it does not.
    pub async fn ping(&self) -> StoreResult<()> {
        self.read.ping().await.map_err(|e| StoreError::Unavailable(Box::new(e)))
    }

    /// The store's connections, `(read, write)`, for diagnostics such as query plans (the
    /// plan and migration tests use them). The application's own state has ports of its
    /// own: nothing outside this crate writes SQL.
    pub fn connections(&self) -> (DatabaseConnection, DatabaseConnection) {
        (self.read.clone(), self.write.clone())
    }

    /// How the screen pop's reads on the caller's thread went (ADR 0005); `None` where the
    /// store has no such path (PostgreSQL, in-memory SQLite).
    pub fn inline_reads(&self) -> Option<InlineReadCounts> {
        self.inline.as_ref().map(|i| i.counts())
    }

    /// How many screen pops were combined into how many statements (`crate::lookups`,
    /// ADR 0008); `None` on SQLite.
    pub fn combined_reads(&self) -> Option<CombinedReadCounts> {
        self.lookups.as_ref().map(|l| l.counts())
    }

    /// How full each connection pool is now (for metrics): the `main` pool on PostgreSQL
    /// and in-memory SQLite; `read` and `write` on a SQLite file, whose screen pops read on
    /// connections of their own besides (ADR 0005).
    pub fn pool_gauges(&self) -> Vec<PoolGauge> {
        self.pools.iter().map(|(name, pool)| pool.gauge(name)).collect()
    }

    /// Whether this store runs on PostgreSQL (otherwise SQLite).
    pub fn is_postgres(&self) -> bool {
        self.backend == DbBackend::Postgres
    }

    /// Starts a write transaction on the single write path (`BEGIN IMMEDIATE` on SQLite).
    pub(crate) async fn begin(&self) -> StoreResult<DatabaseTransaction> {
        let options = TransactionOptions {
            sqlite_transaction_mode: (self.backend == DbBackend::Sqlite).then_some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        };
        self.write.begin_with_options(options).await.map_err(db)
    }

    /// Closes the pools.
    ///
    /// # Errors
    /// `Backend` when closing fails.
    pub async fn close(self) -> StoreResult<()> {
        self.read.close_by_ref().await.map_err(db)?;
        self.write.close_by_ref().await.map_err(db)
    }
}

/// Commits on success, rolls back on failure.
pub(crate) async fn finish<T>(tx: DatabaseTransaction, result: StoreResult<T>) -> StoreResult<T> {
    match result {
        Ok(v) => {
            tx.commit().await.map_err(db)?;
            Ok(v)
        }
        Err(e) => {
            // The error that made us roll back is the one worth reporting.
            let _ = tx.rollback().await;
            Err(e)
        }
    }
}

fn scheme(url: &str) -> &str {
    url.split(':').next().unwrap_or(url)
}
