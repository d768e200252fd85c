//! The console's sign-in state (issue 32, migration `m0020`): agents' password hashes
//! (`agent_passwords`) and sessions (`console_sessions`, under the hash of their id).
//! Writes go through the store's write path.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::{QueryResult, Value};
use uuid::Uuid;

use crm_core::StoreError;
use crm_core::console::{Credential, Session};
use crm_core::error::Conflict;
use crm_core::event::DomainEvent;
use crm_core::ids::{AgentId, TenantId};
use crm_core::ports::{ConsoleStore, StoreResult};

use crate::connect::{SqlStore, finish};
use crate::error::db;
use crate::sql::{all, col, exec, from_ts, one, text, ts, uid};

const SESSION_COLUMNS: &str = "tenant_id, agent_id, csrf, created_at, last_seen_at, expires_at";

fn at(t: DateTime<Utc>) -> Value {
    Value::BigInt(Some(ts(t)))
}

fn session_from_row(row: &QueryResult) -> StoreResult<Session> {
    Ok(Session {
        tenant: TenantId::from_uuid(col::<Uuid>(row, "tenant_id")?),
        agent: AgentId::from_uuid(col::<Uuid>(row, "agent_id")?),
        csrf: col(row, "csrf")?,
        created_at: from_ts(col(row, "created_at")?),
        last_seen_at: from_ts(col(row, "last_seen_at")?),
        expires_at: from_ts(col(row, "expires_at")?),
    })
}

#[async_trait]
impl ConsoleStore for SqlStore {
    async fn set_password_hash(
        &self,
        tenant: TenantId,
        agent: AgentId,
        hash: &str,
        at_: DateTime<Utc>,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        // One statement: the agent's row decides, so a password is never kept for an
        // agent of another tenant.
        let sql = "INSERT INTO agent_passwords (agent_id, tenant_id, hash, updated_at) \
                   SELECT id, tenant_id, ?, ? FROM agents WHERE id = ? AND tenant_id = ? \
                   ON CONFLICT (agent_id) DO UPDATE SET hash = excluded.hash, updated_at = excluded.updated_at";
        let values = vec![text(hash), at(at_), uid(agent), uid(tenant)];
        let tx = self.begin().await?;
        let result = async {
            if exec(&tx, sql, values).await.map_err(db)? == 0 {
                return Err(StoreError::not_found("agent", agent));
            }
            super::write_events(&tx, events).await
        }
        .await;
        finish(tx, result).await
    }

    async fn credentials_by_email(&self, email_key: &str) -> StoreResult<Vec<Credential>> {
        let sql = "SELECT p.tenant_id, p.agent_id, p.hash FROM agents a \
                   JOIN agent_passwords p ON p.agent_id = a.id AND p.tenant_id = a.tenant_id \
                   WHERE a.email_key = ? ORDER BY p.tenant_id, p.agent_id";
        let rows = all(&self.read, sql, vec![text(email_key)]).await.map_err(db)?;
        rows.iter()
            .map(|row| {
                Ok(Credential {
                    tenant: TenantId::from_uuid(col::<Uuid>(row, "tenant_id")?),
                    agent: AgentId::from_uuid(col::<Uuid>(row, "agent_id")?),
                    hash: col(row, "hash")?,
                })
            })
            .collect()
    }

    async fn insert_session(&self, hash: &str, session: &Session) -> StoreResult<()> {
        let sql = format!("INSERT INTO console_sessions (hash, {SESSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)");
        let values = vec![
            text(hash),
            uid(session.tenant),
            uid(session.agent),
            text(&session.csrf),
            at(session.created_at),
            at(session.last_seen_at),
            at(session.expires_at),
        ];
        match exec(&self.write, &sql, values).await.map_err(db) {
            Err(StoreError::Conflict(Conflict::Duplicate { .. })) => Err(StoreError::duplicate("hash", hash)),
            other => other.map(|_| ()),
        }
    }

    async fn find_session(&self, hash: &str) -> StoreResult<Option<Session>> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM console_sessions WHERE hash = ?");
        // On the write path: a session opened a moment ago is read back at once (on SQLite
        // a reader could see the file from before).
        let row = one(&self.write, &sql, vec![text(hash)]).await.map_err(db)?;
        row.as_ref().map(session_from_row).transpose()
    }

    async fn touch_session(&self, hash: &str, at_: DateTime<Utc>) -> StoreResult<()> {
        let sql = "UPDATE console_sessions SET last_seen_at = ? WHERE hash = ? AND last_seen_at < ?";
        exec(&self.write, sql, vec![at(at_), text(hash), at(at_)]).await.map_err(db)?;
        Ok(())
    }

    async fn delete_session(&self, hash: &str) -> StoreResult<bool> {
        let sql = "DELETE FROM console_sessions WHERE hash = ?";
        Ok(exec(&self.write, sql, vec![text(hash)]).await.map_err(db)? > 0)
    }

    async fn delete_agent_sessions(&self, tenant: TenantId, agent: AgentId) -> StoreResult<u64> {
        let sql = "DELETE FROM console_sessions WHERE tenant_id = ? AND agent_id = ?";
        exec(&self.write, sql, vec![uid(tenant), uid(agent)]).await.map_err(db)
    }

    async fn prune_sessions(&self, now: DateTime<Utc>, idle_before: DateTime<Utc>) -> StoreResult<u64> {
        let sql = "DELETE FROM console_sessions WHERE expires_at <= ? OR last_seen_at <= ?";
        exec(&self.write, sql, vec![at(now), at(idle_before)]).await.map_err(db)
    }
}
