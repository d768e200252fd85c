//! `WebhookStore` (EXT-3, ADR 0019): subscriptions (`webhooks`: the document plus the
//! health columns the claim reads), the fan-out marks (`outbox.webhook_due`, indexed
//! partially), deliveries (`webhook_deliveries`, one per subscription and event) and the
//! attempt log (`webhook_attempts`). One SQL text for both backends.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, QueryResult, Value};
use uuid::Uuid;

use crm_core::StoreError;
use crm_core::event::DomainEvent;
use crm_core::ids::{DeliveryId, EventId, TenantId, WebhookId};
use crm_core::ports::{StoreResult, WebhookStore};
use crm_core::webhook::{Delivery, DeliveryAttempt, DeliveryStatus, EndpointHealth, Replay, Subscription};

use super::write_events;
use crate::connect::{SqlStore, finish};
use crate::error::{db, map_db};
use crate::sql::{
    all, col, exec, from_ts, int, limit, marks, one, parse_doc, row_marks, text, to_doc, ts, ts_opt, uid,
};

const WEBHOOK_COLUMNS: &str = "w.doc AS w_doc, w.version AS w_version, w.enabled AS w_enabled, \
     w.failures AS w_failures, w.failing_since AS w_failing_since, w.breaker_until AS w_breaker_until, \
     w.disabled_at AS w_disabled_at";
const DELIVERY_COLUMNS: &str = "d.id, d.tenant_id, d.webhook_id, d.event_id, d.event_type, d.aggregate, d.at, \
     d.status, d.attempts, d.next_attempt_at, d.last_error, d.payload";
/// Rows per multi-row `INSERT` (far below both backends' parameter limits).
const CHUNK: usize = 400;

fn opt_ts(row: &QueryResult, name: &str) -> StoreResult<Option<DateTime<Utc>>> {
    Ok(col::<Option<i64>>(row, name)?.map(from_ts))
}

fn webhook_from_row(row: &QueryResult) -> StoreResult<Subscription> {
    let mut w: Subscription = parse_doc(&col::<String>(row, "w_doc")?)?;
    w.version = u64::try_from(col::<i64>(row, "w_version")?).unwrap_or_default();
    w.enabled = col::<i64>(row, "w_enabled")? != 0;
    w.health = EndpointHealth {
        failures: u32::try_from(col::<i64>(row, "w_failures")?).unwrap_or(u32::MAX),
        failing_since: opt_ts(row, "w_failing_since")?,
        breaker_until: opt_ts(row, "w_breaker_until")?,
        disabled_at: opt_ts(row, "w_disabled_at")?,
    };
    Ok(w)
}

fn delivery_from_row(row: &QueryResult) -> StoreResult<Delivery> {
    let status = col::<String>(row, "status")?;
    Ok(Delivery {
        id: DeliveryId::from_uuid(col::<Uuid>(row, "id")?),
        tenant: TenantId::from_uuid(col::<Uuid>(row, "tenant_id")?),
        webhook: WebhookId::from_uuid(col::<Uuid>(row, "webhook_id")?),
        event: EventId::from_uuid(col::<Uuid>(row, "event_id")?),
        event_type: col(row, "event_type")?,
        aggregate: col(row, "aggregate")?,
        at: from_ts(col(row, "at")?),
        status: DeliveryStatus::parse(&status).unwrap_or(DeliveryStatus::Pending),
        attempts: u32::try_from(col::<i64>(row, "attempts")?).unwrap_or(u32::MAX),
        next_attempt_at: from_ts(col(row, "next_attempt_at")?),
        last_error: col(row, "last_error")?,
        payload: col(row, "payload")?,
    })
}

fn attempt_from_row(row: &QueryResult) -> StoreResult<DeliveryAttempt> {
    let outcome: String = col(row, "outcome")?;
    Ok(DeliveryAttempt {
        delivery: DeliveryId::from_uuid(col::<Uuid>(row, "delivery_id")?),
        number: u32::try_from(col::<i64>(row, "number")?).unwrap_or(u32::MAX),
        at: from_ts(col(row, "at")?),
        outcome: serde_json::from_value(serde_json::Value::String(outcome))
            .map_err(|e| StoreError::Backend(Box::new(e)))?,
        status: col::<Option<i64>>(row, "status")?.and_then(|s| u16::try_from(s).ok()),
        latency_ms: u64::try_from(col::<i64>(row, "latency_ms")?).unwrap_or_default(),
        excerpt: col(row, "excerpt")?,
    })
}

/// The health columns' values, in `failures, failing_since, breaker_until, disabled_at` order.
fn health_values(h: &EndpointHealth) -> [Value; 4] {
    [int(u64::from(h.failures)), ts_opt(h.failing_since), ts_opt(h.breaker_until), ts_opt(h.disabled_at)]
}

async fn insert_attempts<C: ConnectionTrait>(c: &C, tenant_of: &[(TenantId, &DeliveryAttempt)]) -> StoreResult<()> {
    for chunk in tenant_of.chunks(CHUNK) {
        let mut values = Vec::with_capacity(chunk.len() * 8);
        for (tenant, a) in chunk {
            values.extend([
                uid(a.delivery.as_uuid()),
                int(u64::from(a.number)),
                uid(*tenant),
                Value::BigInt(Some(ts(a.at))),
                text(a.outcome.as_str()),
                Value::BigInt(a.status.map(i64::from)),
                int(a.latency_ms),
                text(a.excerpt.clone()),
            ]);
        }
        let sql = format!(
            "INSERT INTO webhook_attempts (delivery_id, number, tenant_id, at, outcome, status, latency_ms, excerpt) \
             VALUES {} ON CONFLICT (delivery_id, number) DO NOTHING",
            row_marks(chunk.len(), 8)
        );
        exec(c, &sql, values).await.map_err(db)?;
    }
    Ok(())
}

/// The deliveries' new state, their leases released: one `UPDATE … FROM (VALUES …)` per
/// chunk (the columns of a `VALUES` list are `column1`, `column2` … on both backends).
async fn update_deliveries<C: ConnectionTrait>(c: &C, results: &[(Delivery, DeliveryAttempt)]) -> StoreResult<()> {
    for chunk in results.chunks(CHUNK) {
        let mut values = Vec::with_capacity(chunk.len() * 5);
        for (d, _) in chunk {
            values.extend([
                uid(d.id.as_uuid()),
                text(d.status.as_str()),
                int(u64::from(d.attempts)),
                Value::BigInt(Some(ts(d.next_attempt_at))),
                Value::String(d.last_error.clone()),
            ]);
        }
        let sql = format!(
            "UPDATE webhook_deliveries SET status = v.column2, attempts = v.column3, next_attempt_at = v.column4, \
             last_error = v.column5, lease_until = NULL FROM (VALUES {}) AS v WHERE webhook_deliveries.id = v.column1",
            row_marks(chunk.len(), 5)
        );
        exec(c, &sql, values).await.map_err(db)?;
    }
    Ok(())
}

/// The subscriptions' new health (a gone subscription matches no row): one statement.
async fn update_health<C: ConnectionTrait>(c: &C, health: &[(TenantId, WebhookId, EndpointHealth)]) -> StoreResult<()> {
    for chunk in health.chunks(CHUNK) {
        let mut values = Vec::with_capacity(chunk.len() * 6);
        for (tenant, id, h) in chunk {
            values.extend([uid(id.as_uuid()), uid(*tenant)]);
            values.extend(health_values(h));
        }
        let sql = format!(
            "UPDATE webhooks SET failures = v.column3, failing_since = v.column4, breaker_until = v.column5, \
             disabled_at = v.column6 FROM (VALUES {}) AS v WHERE webhooks.id = v.column1 AND webhooks.tenant_id = v.column2",
            row_marks(chunk.len(), 6)
        );
        exec(c, &sql, values).await.map_err(db)?;
    }
    Ok(())
}

#[async_trait]
impl WebhookStore for SqlStore {
    async fn insert_webhook(&self, w: &Subscription) -> StoreResult<()> {
        let mut values = vec![
            uid(w.id.as_uuid()),
            uid(w.tenant),
            int(w.version),
            int(u64::from(w.enabled)),
            Value::BigInt(Some(ts(w.created_at))),
        ];
        values.extend(health_values(&w.health));
        values.push(text(to_doc(w)?));
        let sql = "INSERT INTO webhooks (id, tenant_id, version, enabled, created_at, failures, failing_since, \
                   breaker_until, disabled_at, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
        exec(&self.write, sql, values).await.map_err(|e| map_db(e, "id"))?;
        Ok(())
    }

    async fn update_webhook(&self, w: &Subscription, expected_version: u64) -> StoreResult<()> {
        let mut values = vec![int(w.version), int(u64::from(w.enabled))];
        values.extend(health_values(&w.health));
        values.extend([text(to_doc(w)?), uid(w.id.as_uuid()), uid(w.tenant), int(expected_version)]);
        let sql = "UPDATE webhooks SET version = ?, enabled = ?, failures = ?, failing_since = ?, breaker_until = ?, \
                   disabled_at = ?, doc = ? WHERE id = ? AND tenant_id = ? AND version = ?";
        if exec(&self.write, sql, values).await.map_err(db)? == 1 {
            return Ok(());
        }
        match self.get_webhook(w.tenant, w.id).await? {
            Some(_) => Err(StoreError::stale("webhook", w.id, expected_version)),
            None => Err(StoreError::not_found("webhook", w.id)),
        }
    }

    async fn delete_webhook(&self, tenant: TenantId, id: WebhookId) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            let n = exec(&tx, "DELETE FROM webhooks WHERE id = ? AND tenant_id = ?", vec![uid(id.as_uuid()), uid(tenant)])
                .await
                .map_err(db)?;
            if n == 0 {
                return Err(StoreError::not_found("webhook", id));
            }
            exec(
                &tx,
                "DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM webhook_deliveries WHERE webhook_id = ?)",
                vec![uid(id.as_uuid())],
            )
            .await
            .map_err(db)?;
            exec(&tx, "DELETE FROM webhook_deliveries WHERE webhook_id = ?", vec![uid(id.as_uuid())]).await.map_err(db)?;
            Ok(())
        }
        .await;
        finish(tx, result).await
    }

    async fn get_webhook(&self, tenant: TenantId, id: WebhookId) -> StoreResult<Option<Subscription>> {
        let sql = format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks w WHERE w.id = ? AND w.tenant_id = ?");
        one(&self.read, &sql, vec![uid(id.as_uuid()), uid(tenant)])
            .await
            .map_err(db)?
            .as_ref()
            .map(webhook_from_row)
            .transpose()
    }

    async fn webhooks_of(&self, tenant: TenantId) -> StoreResult<Vec<Subscription>> {
        let sql = format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks w WHERE w.tenant_id = ? ORDER BY w.created_at, w.id");
        all(&self.read, &sql, vec![uid(tenant)]).await.map_err(db)?.iter().map(webhook_from_row).collect()
    }

    async fn webhook_events_due(&self, max: u32) -> StoreResult<Vec<DomainEvent>> {
        let sql = format!("SELECT doc FROM outbox WHERE webhook_due = 1 ORDER BY at, id{}", limit(max.into()));
        all(&self.read, &sql, vec![]).await.map_err(db)?.iter().map(|r| parse_doc(&col::<String>(r, "doc")?)).collect()
    }

    async fn fan_out(&self, handled: &[EventId], deliveries: &[Delivery]) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            for chunk in deliveries.chunks(CHUNK) {
                let mut values = Vec::with_capacity(chunk.len() * 11);
                for d in chunk {
                    values.extend([
                        uid(d.id.as_uuid()),
                        uid(d.tenant),
                        uid(d.webhook.as_uuid()),
                        uid(d.event),
                        text(d.event_type.clone()),
                        text(d.aggregate.clone()),
                        Value::BigInt(Some(ts(d.at))),
                        text(d.status.as_str()),
                        int(u64::from(d.attempts)),
                        Value::BigInt(Some(ts(d.next_attempt_at))),
                        text(d.payload.clone()),
                    ]);
                }
                let sql = format!(
                    "INSERT INTO webhook_deliveries (id, tenant_id, webhook_id, event_id, event_type, aggregate, at, \
                     status, attempts, next_attempt_at, payload) VALUES {} ON CONFLICT (webhook_id, event_id) DO NOTHING",
                    row_marks(chunk.len(), 11)
                );
                exec(&tx, &sql, values).await.map_err(db)?;
            }
            for chunk in handled.chunks(CHUNK) {
                let sql = format!("UPDATE outbox SET webhook_due = 0 WHERE id IN ({})", marks(chunk.len()));
                exec(&tx, &sql, chunk.iter().map(|id| uid(*id)).collect()).await.map_err(db)?;
            }
            Ok(())
        }
        .await;
        finish(tx, result).await
    }

    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        max: u32,
    ) -> StoreResult<Vec<(Delivery, Subscription)>> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let now = Value::BigInt(Some(ts(now)));
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS}, {WEBHOOK_COLUMNS} FROM webhook_deliveries d \
             JOIN webhooks w ON w.id = d.webhook_id \
             WHERE d.status = 'pending' AND d.next_attempt_at <= ? AND (d.lease_until IS NULL OR d.lease_until <= ?) \
             AND w.enabled = 1 AND w.disabled_at IS NULL AND (w.breaker_until IS NULL OR w.breaker_until <= ?) \
             AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e WHERE e.webhook_id = d.webhook_id \
               AND e.aggregate = d.aggregate AND e.status = 'pending' \
               AND (e.at < d.at OR (e.at = d.at AND e.event_id < d.event_id))) \
             ORDER BY d.at, d.event_id{}",
            limit(max.into())
        );
        let tx = self.begin().await?;
        let result = async {
            if self.is_postgres() {
                // The claim must walk `webhook_deliveries_due` in claim order and stop at the
                // limit. On statistics that do not know the pending set (a table never
                // analysed, or analysed before a burst) PostgreSQL plans instead a walk over
                // every pending delivery of every subscription and a sort: 470 ms a claim at
                // 60,000 pending, against 2 ms this way. For this transaction only.
                let off = "SELECT set_config('enable_sort', 'off', true) AS a, \
                           set_config('enable_bitmapscan', 'off', true) AS b";
                all(&tx, off, vec![]).await.map_err(db)?;
            }
            let rows = all(&tx, &sql, vec![now.clone(), now.clone(), now.clone()]).await.map_err(db)?;
            if rows.is_empty() {
                return Ok(Vec::new());
            }
            let found = rows
                .iter()
                .map(|r| Ok((delivery_from_row(r)?, webhook_from_row(r)?)))
                .collect::<StoreResult<Vec<(Delivery, Subscription)>>>()?;
            // Lease what no other claimer leased meanwhile (PostgreSQL: the row lock makes a
            // concurrent claimer's update see the new lease and skip the row).
            let mut values = vec![Value::BigInt(Some(ts(lease_until)))];
            values.extend(found.iter().map(|(d, _)| uid(d.id.as_uuid())));
            values.push(now);
            let update = format!(
                "UPDATE webhook_deliveries SET lease_until = ? WHERE id IN ({}) \
                 AND (lease_until IS NULL OR lease_until <= ?) RETURNING id",
                marks(found.len())
            );
            let leased: std::collections::HashSet<Uuid> = all(&tx, &update, values)
                .await
                .map_err(db)?
                .iter()
                .map(|r| col::<Uuid>(r, "id"))
                .collect::<StoreResult<_>>()?;
            Ok(found.into_iter().filter(|(d, _)| leased.contains(&d.id.as_uuid())).collect())
        }
        .await;
        finish(tx, result).await
    }

    async fn record_attempts(
        &self,
        results: &[(Delivery, DeliveryAttempt)],
        health: &[(TenantId, WebhookId, EndpointHealth)],
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            update_deliveries(&tx, results).await?;
            let attempts: Vec<(TenantId, &DeliveryAttempt)> = results.iter().map(|(d, a)| (d.tenant, a)).collect();
            insert_attempts(&tx, &attempts).await?;
            update_health(&tx, health).await?;
            write_events(&tx, events).await
        }
        .await;
        finish(tx, result).await
    }

    async fn deliveries_of(
        &self,
        tenant: TenantId,
        webhook: WebhookId,
        status: Option<DeliveryStatus>,
        before: Option<DateTime<Utc>>,
        max: u32,
    ) -> StoreResult<Vec<Delivery>> {
        let mut sql =
            format!("SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d WHERE d.webhook_id = ? AND d.tenant_id = ?");
        let mut values = vec![uid(webhook.as_uuid()), uid(tenant)];
        if let Some(s) = status {
            sql.push_str(" AND d.status = ?");
            values.push(text(s.as_str()));
        }
        if let Some(b) = before {
            sql.push_str(" AND d.at < ?");
            values.push(Value::BigInt(Some(ts(b))));
        }
        sql.push_str(&format!(" ORDER BY d.at DESC, d.event_id DESC{}", limit(max.into())));
        all(&self.read, &sql, values).await.map_err(db)?.iter().map(delivery_from_row).collect()
    }

    async fn get_delivery(&self, tenant: TenantId, id: DeliveryId) -> StoreResult<Option<Delivery>> {
        let sql = format!("SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d WHERE d.id = ? AND d.tenant_id = ?");
        one(&self.read, &sql, vec![uid(id.as_uuid()), uid(tenant)])
            .await
            .map_err(db)?
            .as_ref()
            .map(delivery_from_row)
            .transpose()
    }

    async fn attempts_of(&self, tenant: TenantId, delivery: DeliveryId) -> StoreResult<Vec<DeliveryAttempt>> {
        let sql = "SELECT delivery_id, number, at, outcome, status, latency_ms, excerpt FROM webhook_attempts \
                   WHERE delivery_id = ? AND tenant_id = ? ORDER BY number";
        all(&self.read, sql, vec![uid(delivery.as_uuid()), uid(tenant)])
            .await
            .map_err(db)?
            .iter()
            .map(attempt_from_row)
            .collect()
    }

    async fn replay_deliveries(
        &self,
        tenant: TenantId,
        webhook: WebhookId,
        replay: &Replay,
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        if self.get_webhook(tenant, webhook).await?.is_none() {
            return Err(StoreError::not_found("webhook", webhook));
        }
        let mut sql = String::from(
            "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ?, lease_until = NULL \
             WHERE webhook_id = ? AND tenant_id = ?",
        );
        let mut values = vec![Value::BigInt(Some(ts(now))), uid(webhook.as_uuid()), uid(tenant)];
        match replay {
            Replay::Delivery(id) => {
                sql.push_str(" AND id = ?");
                values.push(uid(id.as_uuid()));
            }
            Replay::Range { from, to } => {
                sql.push_str(" AND status = 'dead' AND at >= ? AND at < ?");
                values.extend([Value::BigInt(Some(ts(*from))), Value::BigInt(Some(ts(*to)))]);
            }
            Replay::AllFailed => sql.push_str(" AND status = 'dead'"),
        }
        let n = exec(&self.write, &sql, values).await.map_err(db)?;
        if n == 0 && matches!(replay, Replay::Delivery(_)) {
            return Err(StoreError::Conflict(crm_core::error::Conflict::State("no such delivery".into())));
        }
        Ok(n)
    }
}
