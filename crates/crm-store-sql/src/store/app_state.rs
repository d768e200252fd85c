//! The application-state ports: API tokens (`api_tokens`), idempotency keys
//! (`idempotency_keys`), the live feed (`live_events`) and installation facts
//! (`installation_meta`), migration `m0008` (the tokens' life, `m0010`). Writes go through the store's write path (on
//! SQLite its single write connection, so they queue with the store's own writes instead
//! of contending for the file lock). Instants are kept as milliseconds, as the server's
//! tables these come from kept them.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::{QueryResult, Value};

use crm_core::StoreError;
use crm_core::api_token::{ApiToken, TokenRecord};
use crm_core::error::Conflict;
use crm_core::event::DomainEvent;
use crm_core::idempotency::{IdempotencyClaim, KeptResponse};
use crm_core::ids::{AgentId, TenantId, TokenId};
use crm_core::live::{LiveEvent, NewLiveEvent};
use crm_core::ports::{IdempotencyStore, LiveFeedStore, MetaStore, StoreResult, TokenStore};

use crate::connect::SqlStore;
use crate::error::db;
use crate::sql::{all, col, exec, from_ts, limit, one, row_marks, text, ts, ts_opt};

fn ms(t: DateTime<Utc>) -> Value {
    Value::BigInt(Some(t.timestamp_millis()))
}

fn seq_value(seq: u64) -> Value {
    Value::BigInt(Some(i64::try_from(seq).unwrap_or(i64::MAX)))
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Backend(format!("corrupt {what}").into())
}

const TOKEN_COLUMNS: &str = "id, tenant_id, agent_id, role, label, created_at, expires_at, revoked_at, last_used_at";

fn token_from_row(row: &QueryResult) -> StoreResult<TokenRecord> {
    let instant =
        |name: &str| -> StoreResult<Option<DateTime<Utc>>> { Ok(col::<Option<i64>>(row, name)?.map(from_ts)) };
    Ok(TokenRecord {
        id: col::<String>(row, "id")?.parse().map_err(|_| corrupt("token id"))?,
        grant: ApiToken {
            tenant: col::<String>(row, "tenant_id")?.parse().map_err(|_| corrupt("token tenant"))?,
            agent: col::<String>(row, "agent_id")?.parse().map_err(|_| corrupt("token agent"))?,
            role: col::<String>(row, "role")?.parse().map_err(|_| corrupt("token role"))?,
        },
        label: col(row, "label")?,
        created_at: DateTime::parse_from_rfc3339(&col::<String>(row, "created_at")?)
            .map_err(|_| corrupt("token creation time"))?
            .with_timezone(&Utc),
        expires_at: instant("expires_at")?,
        revoked_at: instant("revoked_at")?,
        last_used_at: instant("last_used_at")?,
    })
}

#[async_trait]
impl TokenStore for SqlStore {
    async fn insert_token(&self, hash: &str, token: &TokenRecord, events: &[DomainEvent]) -> StoreResult<()> {
        let sql = format!("INSERT INTO api_tokens (hash, {TOKEN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        let values = vec![
            text(hash),
            text(token.id.to_string()),
            text(token.grant.tenant.to_string()),
            text(token.grant.agent.to_string()),
            text(token.grant.role.as_str()),
            text(&token.label),
            text(token.created_at.to_rfc3339()),
            ts_opt(token.expires_at),
            ts_opt(token.revoked_at),
            ts_opt(token.last_used_at),
        ];
        let tx = self.begin().await?;
        let result = async {
            match exec(&tx, &sql, values).await.map_err(db) {
                Err(StoreError::Conflict(Conflict::Duplicate { .. })) => Err(StoreError::duplicate("hash", hash)),
                other => other.map(|_| ()),
            }?;
            super::write_events(&tx, events).await
        }
        .await;
        crate::connect::finish(tx, result).await
    }

    async fn find_token(&self, hash: &str) -> StoreResult<Option<TokenRecord>> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE hash = ?");
        let row = one(&self.read, &sql, vec![text(hash)]).await.map_err(db)?;
        row.as_ref().map(token_from_row).transpose()
    }

    async fn list_tokens(&self, tenant: TenantId) -> StoreResult<Vec<TokenRecord>> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE tenant_id = ?");
        let rows = all(&self.read, &sql, vec![text(tenant.to_string())]).await.map_err(db)?;
        let mut found = rows.iter().map(token_from_row).collect::<StoreResult<Vec<_>>>()?;
        // Creation times are RFC 3339 text: ordered here, as instants.
        found.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.id.cmp(&b.id)));
        Ok(found)
    }

    async fn revoke_token(
        &self,
        tenant: TenantId,
        id: TokenId,
        at: DateTime<Utc>,
        events: &[DomainEvent],
    ) -> StoreResult<TokenRecord> {
        let tx = self.begin().await?;
        let result = async {
            // Only a token not revoked yet changes (and writes the events): a second
            // revocation keeps the first time and is no write to audit.
            let sql = "UPDATE api_tokens SET revoked_at = ? WHERE tenant_id = ? AND id = ? AND revoked_at IS NULL";
            let values = vec![Value::BigInt(Some(ts(at))), text(tenant.to_string()), text(id.to_string())];
            if exec(&tx, sql, values).await.map_err(db)? > 0 {
                super::write_events(&tx, events).await?;
            }
            // Read in the transaction: on SQLite a reader could see the row from before.
            let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE tenant_id = ? AND id = ?");
            let row = one(&tx, &sql, vec![text(tenant.to_string()), text(id.to_string())]).await.map_err(db)?;
            row.as_ref().map(token_from_row).transpose()?.ok_or_else(|| StoreError::not_found("token", id))
        }
        .await;
        crate::connect::finish(tx, result).await
    }

    async fn touch_token(&self, hash: &str, at: DateTime<Utc>, not_before: DateTime<Utc>) -> StoreResult<()> {
        let sql = "UPDATE api_tokens SET last_used_at = ? \
                   WHERE hash = ? AND (last_used_at IS NULL OR last_used_at < ?)";
        let values = vec![Value::BigInt(Some(ts(at))), text(hash), Value::BigInt(Some(ts(not_before)))];
        exec(&self.write, sql, values).await.map_err(db)?;
        Ok(())
    }
}

/// How many times a claim goes round when the key it found is released before it is read.
const CLAIM_ROUNDS: usize = 8;

#[async_trait]
impl IdempotencyStore for SqlStore {
    async fn claim_idempotency(
        &self,
        key: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
        stale_before: DateTime<Utc>,
    ) -> StoreResult<IdempotencyClaim> {
        // Each step is one atomic statement, and each decides only what it saw: a new key
        // is inserted by exactly one caller (primary key), an abandoned one taken over by
        // exactly one (the update re-checks its claim time), and what is left is read.
        for _ in 0..CLAIM_ROUNDS {
            let insert = "INSERT INTO idempotency_keys (key, fingerprint, state, status, headers, body, created_ms) \
                          VALUES (?, ?, 'running', 0, '', '', ?) ON CONFLICT (key) DO NOTHING";
            if exec(&self.write, insert, vec![text(key), text(fingerprint), ms(now)]).await.map_err(db)? == 1 {
                return Ok(IdempotencyClaim::Claimed { retaken: false });
            }
            let retake = "UPDATE idempotency_keys SET created_ms = ? \
                          WHERE key = ? AND fingerprint = ? AND state = 'running' AND created_ms < ?";
            let values = vec![ms(now), text(key), text(fingerprint), ms(stale_before)];
            if exec(&self.write, retake, values).await.map_err(db)? == 1 {
                return Ok(IdempotencyClaim::Claimed { retaken: true });
            }
            let read = "SELECT fingerprint, state, status, headers, body FROM idempotency_keys WHERE key = ?";
            // Read on the write path: on SQLite a reader could see the database from before
            // the write that just conflicted.
            let Some(row) = one(&self.write, read, vec![text(key)]).await.map_err(db)? else {
                continue; // released meanwhile: claim again
            };
            if col::<String>(&row, "fingerprint")? != fingerprint {
                return Ok(IdempotencyClaim::Mismatch);
            }
            if col::<String>(&row, "state")? != "done" {
                return Ok(IdempotencyClaim::InProgress);
            }
            return Ok(IdempotencyClaim::Done(kept_response(&row)?));
        }
        Ok(IdempotencyClaim::InProgress)
    }

    async fn finish_idempotency(&self, key: &str, response: &KeptResponse) -> StoreResult<()> {
        let headers = serde_json::to_string(&response.headers).map_err(|e| StoreError::Backend(Box::new(e)))?;
        let sql = "UPDATE idempotency_keys SET state = 'done', status = ?, headers = ?, body = ? WHERE key = ?";
        let values =
            vec![Value::BigInt(Some(i64::from(response.status))), text(headers), text(&response.body), text(key)];
        exec(&self.write, sql, values).await.map_err(db)?;
        Ok(())
    }

    async fn release_idempotency(&self, key: &str) -> StoreResult<()> {
        exec(&self.write, "DELETE FROM idempotency_keys WHERE key = ?", vec![text(key)]).await.map_err(db)?;
        Ok(())
    }

    async fn prune_idempotency(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        exec(&self.write, "DELETE FROM idempotency_keys WHERE created_ms < ?", vec![ms(before)]).await.map_err(db)
    }
}

fn kept_response(row: &QueryResult) -> StoreResult<KeptResponse> {
    let status: i64 = col(row, "status")?;
    let headers: String = col(row, "headers")?;
    let headers: BTreeMap<String, String> = if headers.is_empty() {
        BTreeMap::new()
    } else {
        serde_json::from_str(&headers).map_err(|_| corrupt("kept headers"))?
    };
    Ok(KeptResponse {
        status: u16::try_from(status).map_err(|_| corrupt("kept status"))?,
        headers,
        body: col(row, "body")?,
    })
}

/// Rows per feed insert.
const FEED_CHUNK: usize = 200;

fn live_from_row(row: &QueryResult) -> StoreResult<LiveEvent> {
    let seq: i64 = col(row, "seq")?;
    Ok(LiveEvent {
        seq: u64::try_from(seq).map_err(|_| corrupt("feed position"))?,
        tenant: col::<String>(row, "tenant_id")?.parse().map_err(|_| corrupt("feed tenant"))?,
        agent: col::<String>(row, "agent_id")?.parse().map_err(|_| corrupt("feed agent"))?,
        name: col(row, "name")?,
        payload: col(row, "payload")?,
    })
}

const LIVE_COLUMNS: &str = "seq, tenant_id, agent_id, name, payload";

#[async_trait]
impl LiveFeedStore for SqlStore {
    async fn append_live(&self, events: &[NewLiveEvent], now: DateTime<Utc>) -> StoreResult<()> {
        if events.is_empty() {
            return Ok(());
        }
        let write = |chunk: &[NewLiveEvent]| {
            let sql = format!(
                "INSERT INTO live_events (tenant_id, agent_id, name, payload, created_ms) VALUES {}",
                row_marks(chunk.len(), 5)
            );
            let mut values = Vec::with_capacity(chunk.len() * 5);
            for e in chunk {
                values.extend([
                    text(e.tenant.to_string()),
                    text(e.agent.to_string()),
                    text(&e.name),
                    text(&e.payload),
                    ms(now),
                ]);
            }
            (sql, values)
        };
        if events.len() <= FEED_CHUNK {
            let (sql, values) = write(events);
            exec(&self.write, &sql, values).await.map_err(db)?;
            return Ok(());
        }
        // All or none: several statements in one transaction.
        let tx = self.begin().await?;
        let mut result = Ok(());
        for chunk in events.chunks(FEED_CHUNK) {
            let (sql, values) = write(chunk);
            if let Err(e) = exec(&tx, &sql, values).await {
                result = Err(db(e));
                break;
            }
        }
        crate::connect::finish(tx, result).await
    }

    async fn live_head(&self) -> StoreResult<u64> {
        let row = one(&self.read, "SELECT COALESCE(MAX(seq), 0) AS head FROM live_events", vec![]).await.map_err(db)?;
        let head: i64 = row.map(|r| col(&r, "head")).transpose()?.unwrap_or(0);
        Ok(u64::try_from(head).unwrap_or(0))
    }

    async fn live_after(&self, after: u64, limit_: u32) -> StoreResult<Vec<LiveEvent>> {
        let sql = format!("SELECT {LIVE_COLUMNS} FROM live_events WHERE seq > ? ORDER BY seq{}", limit(limit_.into()));
        let rows = all(&self.read, &sql, vec![seq_value(after)]).await.map_err(db)?;
        rows.iter().map(live_from_row).collect()
    }

    async fn live_for_agent_after(
        &self,
        tenant: TenantId,
        agent: AgentId,
        after: u64,
        limit_: u32,
    ) -> StoreResult<Vec<LiveEvent>> {
        let sql = format!(
            "SELECT {LIVE_COLUMNS} FROM live_events WHERE seq > ? AND tenant_id = ? AND agent_id = ? ORDER BY seq{}",
            limit(limit_.into())
        );
        let values = vec![seq_value(after), text(tenant.to_string()), text(agent.to_string())];
        let rows = all(&self.read, &sql, values).await.map_err(db)?;
        rows.iter().map(live_from_row).collect()
    }

    async fn prune_live(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        exec(&self.write, "DELETE FROM live_events WHERE created_ms < ?", vec![ms(before)]).await.map_err(db)
    }
}

#[async_trait]
impl MetaStore for SqlStore {
    async fn meta(&self, key: &str) -> StoreResult<Option<String>> {
        let row = one(&self.read, "SELECT value FROM installation_meta WHERE key = ?", vec![text(key)]).await;
        row.map_err(db)?.map(|r| col(&r, "value")).transpose()
    }

    async fn set_meta(&self, key: &str, value: &str) -> StoreResult<()> {
        let sql = "INSERT INTO installation_meta (key, value) VALUES (?, ?) \
                   ON CONFLICT (key) DO UPDATE SET value = excluded.value";
        exec(&self.write, sql, vec![text(key), text(value)]).await.map_err(db)?;
        Ok(())
    }

    async fn claim_meta(&self, key: &str, value: &str) -> StoreResult<bool> {
        let sql = "INSERT INTO installation_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING";
        Ok(exec(&self.write, sql, vec![text(key), text(value)]).await.map_err(db)? == 1)
    }

    async fn replace_meta(&self, key: &str, expected: &str, value: Option<String>) -> StoreResult<bool> {
        let touched = match value {
            Some(v) => {
                let sql = "UPDATE installation_meta SET value = ? WHERE key = ? AND value = ?";
                exec(&self.write, sql, vec![text(v), text(key), text(expected)]).await
            }
            None => {
                let sql = "DELETE FROM installation_meta WHERE key = ? AND value = ?";
                exec(&self.write, sql, vec![text(key), text(expected)]).await
            }
        };
        Ok(touched.map_err(db)? == 1)
    }

    async fn delete_meta(&self, key: &str) -> StoreResult<()> {
        exec(&self.write, "DELETE FROM installation_meta WHERE key = ?", vec![text(key)]).await.map_err(db)?;
        Ok(())
    }
}
