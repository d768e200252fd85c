//! The server's own tables, next to the store's in the same database: API tokens, the
//! live-event feed shared by replicas, and a little metadata (whether the database was
//! initialised). The store ports have none of these, so the server keeps them in the same
//! database on the store's own connections ([`SqlStore::connections`]): on SQLite its
//! writes queue on the store's single write path instead of contending for the file lock.
//!
//! Tables (created with `CREATE TABLE IF NOT EXISTS`, forward-only like the store's):
//! - `crm_server_tokens`: SHA-256 of each API token → tenant, agent, role.
//! - `crm_server_live_events`: events addressed to one agent, numbered by `seq`; every
//!   replica polls it with its own cursor and pushes new rows to its SSE clients, so an
//!   event raised on one replica reaches an agent connected to another.
//! - `crm_server_idempotency`: responses of creates sent with `Idempotency-Key`, shared by
//!   replicas (see [`crate::idempotency`]).
//! - `crm_server_meta`: key/value.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, Value};

use crm_core::StoreError;
use crm_core::access::Role;
use crm_core::ids::{AgentId, TenantId};
use crm_store_sql::SqlStore;

/// A token row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRecord {
    /// The tenant the token acts in.
    pub tenant: TenantId,
    /// The agent it acts as.
    pub agent: AgentId,
    /// The role it grants.
    pub role: Role,
}

/// A live event to append to the feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewLive<'a> {
    /// Tenant.
    pub tenant: TenantId,
    /// Addressee.
    pub agent: AgentId,
    /// The SSE event name.
    pub name: &'a str,
    /// The JSON payload.
    pub payload: String,
}

/// A live event as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveRow {
    /// Position in the feed.
    pub seq: i64,
    /// Tenant.
    pub tenant: String,
    /// Addressee.
    pub agent: String,
    /// The SSE event name.
    pub name: String,
    /// The JSON payload.
    pub payload: String,
}

/// A kept idempotent request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdempotencyRow {
    /// Still running since `created_ms`.
    Running {
        /// Hash of method, path and body.
        fingerprint: String,
        /// When it started.
        created_ms: i64,
    },
    /// Finished with this response.
    Done {
        /// Hash of method, path and body.
        fingerprint: String,
        /// HTTP status.
        status: u16,
        /// Kept headers as a JSON object.
        headers: String,
        /// The body.
        body: String,
    },
}

/// The server's connection and its tables.
#[derive(Clone, Debug)]
pub struct ServerDb {
    /// Reads (SQLite's read-only pool; the one pool on PostgreSQL).
    read: DatabaseConnection,
    /// Writes (SQLite's single writer; the one pool on PostgreSQL).
    write: DatabaseConnection,
    backend: DbBackend,
    /// The store these connections belong to (for its counters).
    store: SqlStore,
}

fn backend_err(e: sea_orm::DbErr) -> StoreError {
    match e {
        sea_orm::DbErr::Conn(_) | sea_orm::DbErr::ConnectionAcquire(_) => StoreError::Unavailable(Box::new(e)),
        other => StoreError::Backend(Box::new(other)),
    }
}

impl ServerDb {
    /// The server's tables on the store's connections.
    pub fn sharing(store: &SqlStore) -> Self {
        let (read, write) = store.connections();
        let backend = write.get_database_backend();
        Self { read, write, backend, store: store.clone() }
    }

    /// Whether this is a PostgreSQL server with autovacuum off (its queue tables then only
    /// shrink when someone runs `VACUUM`).
    ///
    /// # Errors
    /// Backend failures.
    pub async fn autovacuum_off(&self) -> Result<bool, StoreError> {
        if self.backend != DbBackend::Postgres {
            return Ok(false);
        }
        let row = self.read.query_one_raw(self.stmt("SELECT current_setting('autovacuum') AS on_off", vec![])).await;
        let value = row.map_err(backend_err)?.map(|r| r.try_get::<String>("", "on_off")).transpose();
        Ok(value.map_err(backend_err)?.is_some_and(|v| v == "off"))
    }

    /// Refreshes PostgreSQL's planner statistics of the queue tables (`ANALYZE outbox,
    /// crm_server_live_events`), which autovacuum would otherwise keep; nothing on SQLite.
    /// The server's pruner runs it every minute when autovacuum is off.
    ///
    /// # Errors
    /// Backend failures.
    pub async fn analyze_queues(&self) -> Result<(), StoreError> {
        if self.backend != DbBackend::Postgres {
            return Ok(());
        }
        self.write.execute_unprepared("ANALYZE outbox, crm_server_live_events").await.map_err(backend_err)?;
        Ok(())
    }

    /// How the store's inline SQLite reads went (`None` off SQLite files).
    pub fn inline_reads(&self) -> Option<crm_store_sql::InlineReadCounts> {
        self.store.inline_reads()
    }

    /// How the store's combined PostgreSQL screen pops went (`None` on SQLite).
    pub fn combined_reads(&self) -> Option<crm_store_sql::CombinedReadCounts> {
        self.store.combined_reads()
    }

    /// How full the database connection pools are.
    pub fn pool_gauges(&self) -> Vec<crm_store_sql::PoolGauge> {
        self.store.pool_gauges()
    }

    /// Creates the server's tables when missing.
    ///
    /// # Errors
    /// Backend failures.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let serial = match self.backend {
            DbBackend::Postgres => "BIGSERIAL PRIMARY KEY",
            _ => "INTEGER PRIMARY KEY AUTOINCREMENT",
        };
        let ddl = [
            "CREATE TABLE IF NOT EXISTS crm_server_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)".to_owned(),
            "CREATE TABLE IF NOT EXISTS crm_server_tokens (hash TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, \
             agent_id TEXT NOT NULL, role TEXT NOT NULL, label TEXT NOT NULL, created_at TEXT NOT NULL)"
                .to_owned(),
            format!(
                "CREATE TABLE IF NOT EXISTS crm_server_live_events (seq {serial}, tenant_id TEXT NOT NULL, \
                 agent_id TEXT NOT NULL, name TEXT NOT NULL, payload TEXT NOT NULL, created_ms BIGINT NOT NULL)"
            ),
            "CREATE INDEX IF NOT EXISTS crm_server_live_events_created ON crm_server_live_events (created_ms)"
                .to_owned(),
            "CREATE TABLE IF NOT EXISTS crm_server_idempotency (key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, \
             state TEXT NOT NULL, status BIGINT NOT NULL, headers TEXT NOT NULL, body TEXT NOT NULL, \
             created_ms BIGINT NOT NULL)"
                .to_owned(),
        ];
        for sql in ddl {
            self.write.execute_unprepared(&sql).await.map_err(backend_err)?;
        }
        Ok(())
    }

    /// On PostgreSQL, a transaction holding an advisory lock that serialises migrations
    /// across replicas starting together (released when the transaction ends); `None` on
    /// SQLite.
    ///
    /// # Errors
    /// Backend failures.
    pub async fn migration_lock(&self) -> Result<Option<sea_orm::DatabaseTransaction>, StoreError> {
        if self.backend != DbBackend::Postgres {
            return Ok(None);
        }
        let tx = sea_orm::TransactionTrait::begin(&self.write).await.map_err(backend_err)?;
        tx.execute_unprepared("SELECT pg_advisory_xact_lock(7315046)").await.map_err(backend_err)?;
        Ok(Some(tx))
    }

    /// `?` placeholders become `$1, $2…` on PostgreSQL.
    fn stmt(&self, sql: &str, values: Vec<Value>) -> Statement {
        let sql = match self.backend {
            DbBackend::Postgres => {
                let mut out = String::with_capacity(sql.len() + 8);
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
            _ => sql.to_owned(),
        };
        Statement::from_sql_and_values(self.backend, sql, values)
    }

    /// Checks the database answers.
    ///
    /// # Errors
    /// `Unavailable` when it does not.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.read.ping().await.map_err(|e| StoreError::Unavailable(Box::new(e)))
    }

    /// A metadata value.
    ///
    /// # Errors
    /// Backend failures.
    pub async fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        let row = self
            .read
            .query_one_raw(self.stmt("SELECT value FROM crm_server_meta WHERE key = ?", vec![key.into()]))
            .await
            .map_err(backend_err)?;
        row.map(|r| r.try_get::<String>("", "value")).transpose().map_err(backend_err)
    }

    /// Sets a metadata value.
    ///
    /// # Errors
    /// Backend failures.
    pub async fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        let sql = "INSERT INTO crm_server_meta (key, value) VALUES (?, ?) \
                   ON CONFLICT (key) DO UPDATE SET value = excluded.value";
        self.write.execute_raw(self.stmt(sql, vec![key.into(), value.into()])).await.map_err(backend_err)?;
        Ok(())
    }

    /// Sets a metadata value unless the key exists; `true` when this call set it (so one
    /// replica among several starting together wins).
    ///
    /// # Errors
    /// Backend failures.
    pub async fn claim_meta(&self, key: &str, value: &str) -> Result<bool, StoreError> {
        let sql = "INSERT INTO crm_server_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING";
        let r = self.write.execute_raw(self.stmt(sql, vec![key.into(), value.into()])).await.map_err(backend_err)?;
        Ok(r.rows_affected() == 1)
    }

    /// Removes a metadata key.
    ///
    /// # Errors
    /// Backend failures.
    pub async fn delete_meta(&self, key: &str) -> Result<(), StoreError> {
        let sql = "DELETE FROM crm_server_meta WHERE key = ?";
        self.write.execute_raw(self.stmt(sql, vec![key.into()])).await.map_err(backend_err)?;
        Ok(())
    }

    /// Stores a token hash.
    ///
    /// # Errors
    /// Backend failures.
    pub async fn insert_token(
        &self,
        hash: &str,
        record: &TokenRecord,
        label: &str,
        created_at: &str,
    ) -> Result<(), StoreError> {
        let sql = "INSERT INTO crm_server_tokens (hash, tenant_id, agent_id, role, label, created_at) \
                   VALUES (?, ?, ?, ?, ?, ?)";
        let values = vec![
            hash.into(),
            record.tenant.to_string().into(),
            record.agent.to_string().into(),
            record.role.as_str().into(),
            label.into(),
            created_at.into(),
        ];
        self.write.execute_raw(self.stmt(sql, values)).await.map_err(backend_err)?;
        Ok(())
    }

    /// The token with this hash.
    ///
    /// # Errors
    /// Backend failures.
    pub async fn find_token(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        let sql = "SELECT tenant_id, agent_id, role FROM crm_server_tokens WHERE hash = ?";
        let Some(row) = self.read.query_one_raw(self.stmt(sql, vec![hash.into()])).await.map_err(backend_err)? else {
            return Ok(None);
        };
        let tenant: String = row.try_get("", "tenant_id").map_err(backend_err)?;
        let agent: String = row.try_get("", "agent_id").map_err(backend_err)?;
        let role: String = row.try_get("", "role").map_err(backend_err)?;
        let corrupt = |what: &str| StoreError::Backend(format!("corrupt token row: {what}").into());
        Ok(Some(TokenRecord {
            tenant: tenant.parse().map_err(|_| corrupt("tenant"))?,
            agent: agent.parse().map_err(|_| corrupt("agent"))?,
            role: role.parse().map_err(|_| corrupt("role"))?,
        }))
    }

    /// Appends a live event for one agent.
    ///
    /// # Errors
    /// Backend failures.
    pub async fn push_live(
        &self,
        tenant: TenantId,
        agent: AgentId,
        name: &str,
        payload: &str,
        created_ms: i64,
    ) -> Result<(), StoreError> {
        self.push_live_many(&[NewLive { tenant, agent, name, payload: payload.to_owned() }], created_ms).await
    }

    /// Appends several live events at once (one statement per 200 events).
    ///
    /// # Errors
    /// Backend failures.
    pub async fn push_live_many(&self, events: &[NewLive<'_>], created_ms: i64) -> Result<(), StoreError> {
        for chunk in events.chunks(200) {
            let mut sql = String::from(
                "INSERT INTO crm_server_live_events (tenant_id, agent_id, name, payload, created_ms) VALUES ",
            );
            let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 5);
            for (i, e) in chunk.iter().enumerate() {
                sql.push_str(if i == 0 { "(?, ?, ?, ?, ?)" } else { ", (?, ?, ?, ?, ?)" });
                values.extend([
                    e.tenant.to_string().into(),
                    e.agent.to_string().into(),
                    e.name.into(),
                    e.payload.as_str().into(),
                    created_ms.into(),
                ]);
            }
            self.write.execute_raw(self.stmt(&sql, values)).await.map_err(backend_err)?;
        }
        Ok(())
    }

    /// The highest `seq` so far (0 for an empty feed).
    ///
    /// # Errors
    /// Backend failures.
    pub async fn live_head(&self) -> Result<i64, StoreError> {
        let sql = "SELECT COALESCE(MAX(seq), 0) AS head FROM crm_server_live_events";
        let row = self.read.query_one_raw(self.stmt(sql, vec![])).await.map_err(backend_err)?;
        Ok(row.map(|r| r.try_get::<i64>("", "head")).transpose().map_err(backend_err)?.unwrap_or(0))
    }

    /// Live events after `seq`, oldest first.
    ///
    /// # Errors
    /// Backend failures.
    pub async fn live_after(&self, seq: i64, limit: u32) -> Result<Vec<LiveRow>, StoreError> {
        let sql = "SELECT seq, tenant_id, agent_id, name, payload FROM crm_server_live_events \
                   WHERE seq > ? ORDER BY seq LIMIT ?";
        let rows = self
            .read
            .query_all_raw(self.stmt(sql, vec![seq.into(), i64::from(limit).into()]))
            .await
            .map_err(backend_err)?;
        rows.into_iter()
            .map(|r| {
                Ok(LiveRow {
                    seq: r.try_get("", "seq").map_err(backend_err)?,
                    tenant: r.try_get("", "tenant_id").map_err(backend_err)?,
                    agent: r.try_get("", "agent_id").map_err(backend_err)?,
                    name: r.try_get("", "name").map_err(backend_err)?,
                    payload: r.try_get("", "payload").map_err(backend_err)?,
                })
            })
            .collect()
    }

    /// One agent's live events after `seq`, oldest first (to resume a stream).
    ///
    /// # Errors
    /// Backend failures.
    pub async fn live_for_agent_after(
        &self,
        tenant: TenantId,
        agent: AgentId,
        seq: i64,
        limit: u32,
    ) -> Result<Vec<LiveRow>, StoreError> {
        let sql = "SELECT seq, tenant_id, agent_id, name, payload FROM crm_server_live_events \
                   WHERE seq > ? AND tenant_id = ? AND agent_id = ? ORDER BY seq LIMIT ?";
        let values = vec![seq.into(), tenant.to_string().into(), agent.to_string().into(), i64::from(limit).into()];
        let rows = self.read.query_all_raw(self.stmt(sql, values)).await.map_err(backend_err)?;
        rows.into_iter()
            .map(|r| {
                Ok(LiveRow {
                    seq: r.try_get("", "seq").map_err(backend_err)?,
                    tenant: r.try_get("", "tenant_id").map_err(backend_err)?,
                    agent: r.try_get("", "agent_id").map_err(backend_err)?,
                    name: r.try_get("", "name").map_err(backend_err)?,
                    payload: r.try_get("", "payload").map_err(backend_err)?,
                })
            })
            .collect()
    }

    /// Drops live events older than `before_ms`.
    ///
    /// # Errors
    /// Backend failures.
    pub async fn prune_live(&self, before_ms: i64) -> Result<(), StoreError> {
        let sql = "DELETE FROM crm_server_live_events WHERE created_ms < ?";
        self.write.execute_raw(self.stmt(sql, vec![before_ms.into()])).await.map_err(backend_err)?;
        Ok(())
    }

    /// Claims an idempotency key for a new request; `false` when the key is known.
    ///
    /// # Errors
    /// Backend failures.
    pub async fn claim_idempotency(&self, key: &str, fingerprint: &str, now_ms: i64) -> Result<bool, StoreError> {
        let sql = "INSERT INTO crm_server_idempotency (key, fingerprint, state, status, headers, body, created_ms) \
                   VALUES (?, ?, 'running', 0, '', '', ?) ON CONFLICT (key) DO NOTHING";
        let r = self
            .write
            .execute_raw(self.stmt(sql, vec![key.into(), fingerprint.into(), now_ms.into()]))
            .await
            .map_err(backend_err)?;
        Ok(r.rows_affected() == 1)
    }

    /// Takes over a key whose request has been running since `since_ms` (its replica died);
    /// `false` when someone else did first.
    ///
    /// # Errors
    /// Backend failures.
    pub async fn retake_idempotency(&self, key: &str, since_ms: i64, now_ms: i64) -> Result<bool, StoreError> {
        let sql = "UPDATE crm_server_idempotency SET created_ms = ? \
                   WHERE key = ? AND state = 'running' AND created_ms = ?";
        let r = self
            .write
            .execute_raw(self.stmt(sql, vec![now_ms.into(), key.into(), since_ms.into()]))
            .await
            .map_err(backend_err)?;
        Ok(r.rows_affected() == 1)
    }

    /// The kept request of a key.
    ///
    /// # Errors
    /// Backend failures.
    pub async fn idempotency(&self, key: &str) -> Result<Option<IdempotencyRow>, StoreError> {
        let sql = "SELECT fingerprint, state, status, headers, body, created_ms FROM crm_server_idempotency \
                   WHERE key = ?";
        let Some(r) = self.read.query_one_raw(self.stmt(sql, vec![key.into()])).await.map_err(backend_err)? else {
            return Ok(None);
        };
        let fingerprint: String = r.try_get("", "fingerprint").map_err(backend_err)?;
        let state: String = r.try_get("", "state").map_err(backend_err)?;
        if state == "running" {
            let created_ms: i64 = r.try_get("", "created_ms").map_err(backend_err)?;
            return Ok(Some(IdempotencyRow::Running { fingerprint, created_ms }));
        }
        let status: i64 = r.try_get("", "status").map_err(backend_err)?;
        Ok(Some(IdempotencyRow::Done {
            fingerprint,
            status: u16::try_from(status).unwrap_or(500),
            headers: r.try_get("", "headers").map_err(backend_err)?,
            body: r.try_get("", "body").map_err(backend_err)?,
        }))
    }

    /// Records the response of a claimed key.
    ///
    /// # Errors
    /// Backend failures.
    pub async fn finish_idempotency(
        &self,
        key: &str,
        status: u16,
        headers: &str,
        body: &str,
    ) -> Result<(), StoreError> {
        let sql = "UPDATE crm_server_idempotency SET state = 'done', status = ?, headers = ?, body = ? WHERE key = ?";
        let values = vec![i64::from(status).into(), headers.into(), body.into(), key.into()];
        self.write.execute_raw(self.stmt(sql, values)).await.map_err(backend_err)?;
        Ok(())
    }

    /// Forgets a key (its request failed on our side and may be retried).
    ///
    /// # Errors
    /// Backend failures.
    pub async fn release_idempotency(&self, key: &str) -> Result<(), StoreError> {
        let sql = "DELETE FROM crm_server_idempotency WHERE key = ?";
        self.write.execute_raw(self.stmt(sql, vec![key.into()])).await.map_err(backend_err)?;
        Ok(())
    }

    /// Forgets keys older than `before_ms`.
    ///
    /// # Errors
    /// Backend failures.
    pub async fn prune_idempotency(&self, before_ms: i64) -> Result<(), StoreError> {
        let sql = "DELETE FROM crm_server_idempotency WHERE created_ms < ?";
        self.write.execute_raw(self.stmt(sql, vec![before_ms.into()])).await.map_err(backend_err)?;
        Ok(())
    }

    /// Closes the pools, which are the store's too: only when the server stops.
    pub async fn close(self) {
        let _ = self.read.close_by_ref().await;
        let _ = self.write.close_by_ref().await;
    }
}
