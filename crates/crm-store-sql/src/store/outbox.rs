//! `OutboxStore`: leased claims (`FOR UPDATE SKIP LOCKED` on PostgreSQL, the single writer on
//! SQLite), delivery outcomes, dead letters and the tenant's outbox list.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::{QueryResult, Value};
use uuid::Uuid;

use crm_core::StoreError;
use crm_core::error::Conflict;
use crm_core::event::{DomainEvent, OutboxEntry, OutboxStatus, Topic};
use crm_core::ids::{EventId, TenantId};
use crm_core::page::{Cursor, Page, PageRequest};
use crm_core::ports::{OutboxStore, StoreResult};
use crm_core::search::FeedPosition;

use super::paging::{decode_cursor, paginate};
use crate::connect::{SqlStore, finish};
use crate::error::db;
use crate::sql::{all, col, exec, from_doc, from_ts, limit, marks, one, text, ts, uid};

const ENTRY_COLUMNS: &str = "topic, status, attempts, next_attempt_at, last_error, doc";

fn status_name(s: OutboxStatus) -> &'static str {
    match s {
        OutboxStatus::Pending => "pending",
        OutboxStatus::Delivered => "delivered",
        OutboxStatus::Dead => "dead",
    }
}

fn entry_from_row(row: &QueryResult) -> StoreResult<OutboxEntry> {
    let event: DomainEvent = from_doc(row)?;
    let topic = match col::<String>(row, "topic")?.as_str() {
        "external_push" => Topic::ExternalPush,
        _ => Topic::Notification,
    };
    let status = match col::<String>(row, "status")?.as_str() {
        "delivered" => OutboxStatus::Delivered,
        "dead" => OutboxStatus::Dead,
        _ => OutboxStatus::Pending,
    };
    let attempts: i64 = col(row, "attempts")?;
    Ok(OutboxEntry {
        event,
        topic,
        status,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        next_attempt_at: from_ts(col(row, "next_attempt_at")?),
        last_error: col(row, "last_error")?,
    })
}

impl SqlStore {
    /// Refreshes PostgreSQL's planner statistics of the queue tables (`ANALYZE outbox,
    /// live_events, webhook_deliveries, webhooks`), which autovacuum would otherwise keep; nothing on SQLite. The pruner
    /// runs it through [`OutboxStore::refresh_queue_statistics`] when autovacuum is off.
    ///
    /// # Errors
    /// Backend failures.
    pub async fn analyze_queues(&self) -> StoreResult<()> {
        if self.is_postgres() {
            exec(&self.write, "ANALYZE outbox, live_events, webhook_deliveries, webhooks", vec![]).await.map_err(db)?;
        }
        Ok(())
    }
}

#[async_trait]
impl OutboxStore for SqlStore {
    async fn claim_outbox(
        &self,
        topic: Topic,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        max: u32,
    ) -> StoreResult<Vec<OutboxEntry>> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let due = format!(
            "FROM outbox WHERE topic = ? AND status = 'pending' AND next_attempt_at <= ? \
             AND (lease_until IS NULL OR lease_until <= ?) ORDER BY at, id{}",
            limit(max.into())
        );
        let now = Value::BigInt(Some(ts(now)));
        let lease = Value::BigInt(Some(ts(lease_until)));
        if self.is_postgres() {
            // One statement: lease the first due entries that no other claim holds.
            let sql = format!(
                "UPDATE outbox SET lease_until = ? WHERE id IN (SELECT id {due} FOR UPDATE SKIP LOCKED) \
                 RETURNING id, {ENTRY_COLUMNS}"
            );
            let rows = all(&self.write, &sql, vec![lease, text(topic.as_str()), now.clone(), now]).await.map_err(db)?;
            let mut entries = rows.iter().map(entry_from_row).collect::<StoreResult<Vec<_>>>()?;
            // RETURNING promises no order; `at` is the event's own time.
            entries.sort_by_key(|e| (e.event.at, e.event.id));
            return Ok(entries);
        }
        let tx = self.begin().await?;
        let result = async {
            let sql = format!("SELECT id, {ENTRY_COLUMNS} {due}");
            let rows = all(&tx, &sql, vec![text(topic.as_str()), now.clone(), now]).await.map_err(db)?;
            if rows.is_empty() {
                return Ok(Vec::new());
            }
            let ids = rows.iter().map(|r| col::<Uuid>(r, "id")).collect::<StoreResult<Vec<Uuid>>>()?;
            let mut values = vec![lease];
            values.extend(ids.iter().map(|id| uid(*id)));
            exec(&tx, &format!("UPDATE outbox SET lease_until = ? WHERE id IN ({})", marks(ids.len())), values)
                .await
                .map_err(db)?;
            rows.iter().map(entry_from_row).collect()
        }
        .await;
        finish(tx, result).await
    }

    /// On `outbox_feed (at, id)` (migration `m0021`), from the row value `(at, id)`.
    async fn events_after(&self, after: &FeedPosition, max: u32) -> StoreResult<Vec<DomainEvent>> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let sql = format!("SELECT doc FROM outbox WHERE (at, id) > (?, ?) ORDER BY at, id{}", limit(max.into()));
        let values = vec![Value::BigInt(Some(ts(after.at))), uid(after.id)];
        let rows = all(&self.read, &sql, values).await.map_err(db)?;
        rows.iter().map(from_doc).collect()
    }

    /// Tenant by tenant, each walked by time on `outbox_by_tenant` (the equality and the
    /// order keep both planners on that index, also with a generic plan), so pruning needs
    /// no index of its own on the delivery path.
    async fn prune_delivered(&self, before: DateTime<Utc>, max: u32) -> StoreResult<u64> {
        let tenants = all(&self.read, "SELECT id FROM tenants ORDER BY id", vec![]).await.map_err(db)?;
        let mut pruned = 0;
        for row in tenants {
            let left = u64::from(max).saturating_sub(pruned);
            if left == 0 {
                break;
            }
            let sql = format!(
                "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE tenant_id = ? AND at < ? \
                 AND status = 'delivered' ORDER BY at{})",
                limit(left)
            );
            let tenant: Uuid = col(&row, "id")?;
            pruned += exec(&self.write, &sql, vec![uid(tenant), Value::BigInt(Some(ts(before)))]).await.map_err(db)?;
        }
        Ok(pruned)
    }

    async fn mark_delivered(&self, id: EventId) -> StoreResult<()> {
        let n =
            exec(&self.write, "UPDATE outbox SET status = 'delivered', lease_until = NULL WHERE id = ?", vec![uid(id)])
                .await
                .map_err(db)?;
        if n == 0 { Err(StoreError::not_found("outbox entry", id)) } else { Ok(()) }
    }

    async fn mark_delivered_many(&self, ids: &[EventId]) -> StoreResult<u64> {
        let mut marked = 0;
        // Chunks stay far below every backend's parameter limit.
        for chunk in ids.chunks(500) {
            let sql = format!(
                "UPDATE outbox SET status = 'delivered', lease_until = NULL WHERE id IN ({})",
                marks(chunk.len())
            );
            marked += exec(&self.write, &sql, chunk.iter().map(|id| uid(*id)).collect()).await.map_err(db)?;
        }
        Ok(marked)
    }

    async fn mark_failed(&self, id: EventId, error: &str, retry_at: Option<DateTime<Utc>>) -> StoreResult<()> {
        let n = match retry_at {
            Some(at) => exec(
                &self.write,
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?, lease_until = NULL, status = 'pending', \
                 next_attempt_at = ? WHERE id = ?",
                vec![text(error), Value::BigInt(Some(ts(at))), uid(id)],
            )
            .await,
            None => exec(
                &self.write,
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?, lease_until = NULL, status = 'dead' WHERE id = ?",
                vec![text(error), uid(id)],
            )
            .await,
        }
        .map_err(db)?;
        if n == 0 { Err(StoreError::not_found("outbox entry", id)) } else { Ok(()) }
    }

    async fn requeue(&self, tenant: TenantId, id: EventId, now: DateTime<Utc>) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            let row = one(&tx, "SELECT status FROM outbox WHERE id = ? AND tenant_id = ?", vec![uid(id), uid(tenant)])
                .await
                .map_err(db)?;
            let Some(row) = row else { return Err(StoreError::not_found("outbox entry", id)) };
            if col::<String>(&row, "status")? != "dead" {
                return Err(Conflict::State(format!("outbox entry {id} is not dead")).into());
            }
            exec(
                &tx,
                "UPDATE outbox SET status = 'pending', next_attempt_at = ?, lease_until = NULL WHERE id = ?",
                vec![Value::BigInt(Some(ts(now))), uid(id)],
            )
            .await
            .map_err(db)?;
            Ok(())
        }
        .await;
        finish(tx, result).await
    }

    async fn refresh_queue_statistics(&self) -> StoreResult<()> {
        // Without autovacuum nothing refreshes the queue tables' statistics: PostgreSQL then
        // plans an outbox claim as a scan of every index entry the table ever had, delivered
        // ones included, and a sort (7-15 ms a claim after 41,000 creations, growing), where
        // with statistics it walks its index in claim order (about 1 ms).
        if self.autovacuum_off().await? {
            self.analyze_queues().await?;
        }
        Ok(())
    }

    async fn list_outbox(
        &self,
        tenant: TenantId,
        status: Option<OutboxStatus>,
        page: &PageRequest,
    ) -> StoreResult<Page<OutboxEntry>> {
        let cursor: Option<(DateTime<Utc>, EventId)> = page.after.as_ref().map(decode_cursor).transpose()?;
        let mut sql = format!("SELECT id, {ENTRY_COLUMNS} FROM outbox WHERE tenant_id = ?");
        let mut values = vec![uid(tenant)];
        if let Some(s) = status {
            sql.push_str(" AND status = ?");
            values.push(text(status_name(s)));
        }
        if let Some((at, id)) = cursor {
            sql.push_str(" AND (at < ? OR (at = ? AND id < ?))");
            values.extend([Value::BigInt(Some(ts(at))), Value::BigInt(Some(ts(at))), uid(id)]);
        }
        sql.push_str(" ORDER BY at DESC, id DESC");
        sql.push_str(&limit(u64::from(page.limit) + 1));
        let rows = all(&self.read, &sql, values).await.map_err(db)?;
        paginate(
            rows,
            page.limit,
            |row| {
                let e = entry_from_row(row)?;
                Ok(Cursor::encode(&(e.event.at, e.event.id)))
            },
            entry_from_row,
        )
    }
}
