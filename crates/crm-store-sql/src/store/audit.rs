//! [`AuditStore`] on SQL (ADM-4). A write's pending entry is one more `INSERT` of the
//! write's own statement list ([`audit_statement`], next to the outbox's); chaining moves
//! pending entries into `audit_log` under the tenant's `audit_heads` row (locked `FOR
//! UPDATE` on PostgreSQL; SQLite has one writer), so chains never fork whatever the number
//! of replicas. `audit_log` rows are only ever inserted, and deleted by retention.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, Value};
use uuid::Uuid;

use crm_core::StoreError;
use crm_core::audit::{AuditEntry, AuditFilter, AuditRecord, AuditTarget, ChainHead, chain};
use crm_core::event::DomainEvent;
use crm_core::ids::{AgentId, EventId, TenantId};
use crm_core::page::{Cursor, Page, PageRequest};
use crm_core::ports::{AuditStore, StoreResult};

use crate::connect::{SqlStore, finish};
use crate::error::db;
use crate::sql::{all, col, exec, from_ts, int, limit, marks, one, parse_doc, row_marks, text, to_doc, ts, uid};

/// Benchmarks only: whether writes write their pending audit entry (to measure its cost).
#[cfg(feature = "bench")]
static AUDIT_WRITES: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// Benchmarks only: turns the audit entry of every write off (`false`) or back on, to
/// measure what it costs. Never for production: writes would go unaudited.
#[cfg(feature = "bench")]
pub fn set_audit_writes(on: bool) {
    AUDIT_WRITES.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// The statement writing the pending audit entry of a write whose events are `events`;
/// `None` when there are none.
pub(crate) fn audit_statement(events: &[DomainEvent]) -> StoreResult<Option<(String, Vec<Value>)>> {
    #[cfg(feature = "bench")]
    if !AUDIT_WRITES.load(std::sync::atomic::Ordering::Relaxed) {
        return Ok(None);
    }
    let Some(entry) = AuditEntry::of_write(events) else {
        return Ok(None);
    };
    let sql = "INSERT INTO audit_pending (id, tenant_id, at, doc) VALUES (?, ?, ?, ?)".to_owned();
    Ok(Some((sql, vec![uid(entry.id), uid(entry.tenant), Value::BigInt(Some(ts(entry.at))), text(to_doc(&entry)?)])))
}

/// Columns of `audit_log` read back.
const RECORD_COLUMNS: &str = "seq, id, at, actor_id, action, target_kind, target_id, doc, prev_hash, hash";

/// Rows per `INSERT` into `audit_log` (11 values each).
const INSERT_ROWS: usize = 80;

/// A chained entry from its row: the columns win over the document's copies, so a change
/// to either is a change the hash finds.
fn record_from_row(tenant: TenantId, row: &sea_orm::QueryResult) -> StoreResult<AuditRecord> {
    let doc: String = col(row, "doc")?;
    let mut entry: AuditEntry = parse_doc(&doc)?;
    entry.tenant = tenant;
    entry.id = EventId::from_uuid(col::<Uuid>(row, "id")?);
    entry.at = from_ts(col(row, "at")?);
    entry.actor.agent = col::<Option<Uuid>>(row, "actor_id")?.map(AgentId::from_uuid);
    entry.action = col(row, "action")?;
    entry.target = AuditTarget { kind: col(row, "target_kind")?, id: col(row, "target_id")? };
    Ok(AuditRecord {
        seq: u64::try_from(col::<i64>(row, "seq")?).unwrap_or(0),
        entry,
        prev_hash: col(row, "prev_hash")?,
        hash: col(row, "hash")?,
    })
}

fn head_from_row(tenant: TenantId, row: &sea_orm::QueryResult) -> StoreResult<ChainHead> {
    let n = |name| col::<i64>(row, name).map(|v| u64::try_from(v).unwrap_or(0));
    Ok(ChainHead {
        tenant,
        seq: n("seq")?,
        hash: col(row, "hash")?,
        anchor_seq: n("anchor_seq")?,
        anchor_hash: col(row, "anchor_hash")?,
    })
}

/// The head of `tenant`'s chain, created empty when missing, locked for the transaction.
async fn lock_head<C: ConnectionTrait>(c: &C, tenant: TenantId) -> StoreResult<ChainHead> {
    let empty = ChainHead::empty(tenant);
    exec(
        c,
        "INSERT INTO audit_heads (tenant_id, seq, hash, anchor_seq, anchor_hash) VALUES (?, ?, ?, ?, ?) \
         ON CONFLICT (tenant_id) DO NOTHING",
        vec![
            uid(tenant),
            int(empty.seq),
            text(empty.hash.clone()),
            int(empty.anchor_seq),
            text(empty.anchor_hash.clone()),
        ],
    )
    .await
    .map_err(db)?;
    let lock = if c.get_database_backend() == DbBackend::Postgres { " FOR UPDATE" } else { "" };
    let sql = format!("SELECT seq, hash, anchor_seq, anchor_hash FROM audit_heads WHERE tenant_id = ?{lock}");
    let row = one(c, &sql, vec![uid(tenant)]).await.map_err(db)?;
    row.map_or(Ok(empty), |r| head_from_row(tenant, &r))
}

/// Appends `records` to `audit_log`.
async fn insert_records<C: ConnectionTrait>(c: &C, records: &[AuditRecord]) -> StoreResult<()> {
    for rows in records.chunks(INSERT_ROWS) {
        let mut values = Vec::with_capacity(rows.len() * 11);
        for r in rows {
            let e = &r.entry;
            values.extend([
                uid(e.tenant),
                int(r.seq),
                uid(e.id),
                Value::BigInt(Some(ts(e.at))),
                Value::Uuid(e.actor.agent.map(|a| a.as_uuid())),
                text(e.action.clone()),
                text(e.target.kind.clone()),
                text(e.target.id.clone()),
                text(to_doc(e)?),
                text(r.prev_hash.clone()),
                text(r.hash.clone()),
            ]);
        }
        let sql = format!("INSERT INTO audit_log (tenant_id, {RECORD_COLUMNS}) VALUES {}", row_marks(rows.len(), 11));
        exec(c, &sql, values).await.map_err(db)?;
    }
    Ok(())
}

impl SqlStore {
    /// Chains up to `max` pending entries of `tenant` in one transaction; how many.
    async fn chain_tenant(&self, tenant: TenantId, max: u32) -> StoreResult<u32> {
        let tx = self.begin().await?;
        let result = async {
            let head = lock_head(&tx, tenant).await?;
            let sql =
                format!("SELECT id, doc FROM audit_pending WHERE tenant_id = ? ORDER BY at, id{}", limit(max.into()));
            let rows = all(&tx, &sql, vec![uid(tenant)]).await.map_err(db)?;
            if rows.is_empty() {
                return Ok(0);
            }
            let mut ids = Vec::with_capacity(rows.len());
            let mut pending = Vec::with_capacity(rows.len());
            for row in &rows {
                ids.push(uid(col::<Uuid>(row, "id")?));
                pending.push(parse_doc::<AuditEntry>(&col::<String>(row, "doc")?)?);
            }
            let (records, head) = chain(&head, pending);
            insert_records(&tx, &records).await?;
            for chunk in ids.chunks(500) {
                let sql = format!("DELETE FROM audit_pending WHERE id IN ({})", marks(chunk.len()));
                exec(&tx, &sql, chunk.to_vec()).await.map_err(db)?;
            }
            exec(
                &tx,
                "UPDATE audit_heads SET seq = ?, hash = ? WHERE tenant_id = ?",
                vec![int(head.seq), text(head.hash), uid(tenant)],
            )
            .await
            .map_err(db)?;
            Ok(u32::try_from(records.len()).unwrap_or(u32::MAX))
        }
        .await;
        finish(tx, result).await
    }

    /// Removes up to `max` of `tenant`'s oldest entries written before `before`.
    async fn prune_tenant(&self, tenant: TenantId, before: DateTime<Utc>, max: u32) -> StoreResult<u64> {
        let tx = self.begin().await?;
        let result = async {
            let head = lock_head(&tx, tenant).await?;
            let sql = format!("SELECT seq, at FROM audit_log WHERE tenant_id = ? ORDER BY seq{}", limit(max.into()));
            let rows = all(&tx, &sql, vec![uid(tenant)]).await.map_err(db)?;
            let mut last = None;
            let mut n = 0;
            for row in &rows {
                if from_ts(col(row, "at")?) >= before {
                    break;
                }
                last = Some(col::<i64>(row, "seq")?);
                n += 1;
            }
            let Some(last) = last else { return Ok(0) };
            exec(
                &tx,
                "DELETE FROM audit_log WHERE tenant_id = ? AND seq <= ?",
                vec![uid(tenant), Value::BigInt(Some(last))],
            )
            .await
            .map_err(db)?;
            let first = one(
                &tx,
                "SELECT seq, prev_hash FROM audit_log WHERE tenant_id = ? ORDER BY seq LIMIT 1",
                vec![uid(tenant)],
            )
            .await
            .map_err(db)?;
            let first = match first {
                Some(r) => Some((u64::try_from(col::<i64>(&r, "seq")?).unwrap_or(0), col::<String>(&r, "prev_hash")?)),
                None => None,
            };
            let head = head.pruned_to(first.as_ref().map(|(s, h)| (*s, h.as_str())));
            exec(
                &tx,
                "UPDATE audit_heads SET anchor_seq = ?, anchor_hash = ? WHERE tenant_id = ?",
                vec![int(head.anchor_seq), text(head.anchor_hash), uid(tenant)],
            )
            .await
            .map_err(db)?;
            Ok(n)
        }
        .await;
        finish(tx, result).await
    }
}

#[async_trait::async_trait]
impl AuditStore for SqlStore {
    async fn chain_audit(&self, max: u32) -> StoreResult<u32> {
        let rows = all(&self.read, "SELECT DISTINCT tenant_id FROM audit_pending", vec![]).await.map_err(db)?;
        let mut done = 0;
        for row in &rows {
            if done >= max {
                break;
            }
            let tenant = TenantId::from_uuid(col::<Uuid>(row, "tenant_id")?);
            done += self.chain_tenant(tenant, max - done).await?;
        }
        Ok(done)
    }

    async fn audit_head(&self, tenant: TenantId) -> StoreResult<Option<ChainHead>> {
        let sql = "SELECT seq, hash, anchor_seq, anchor_hash FROM audit_heads WHERE tenant_id = ?";
        let row = one(&self.read, sql, vec![uid(tenant)]).await.map_err(db)?;
        row.map(|r| head_from_row(tenant, &r)).transpose()
    }

    async fn audit_tenants(&self) -> StoreResult<Vec<TenantId>> {
        let rows = all(&self.read, "SELECT tenant_id FROM audit_heads ORDER BY tenant_id", vec![]).await.map_err(db)?;
        rows.iter().map(|r| col::<Uuid>(r, "tenant_id").map(TenantId::from_uuid)).collect()
    }

    async fn audit_page(
        &self,
        tenant: TenantId,
        filter: &AuditFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<AuditRecord>> {
        let after: u64 = match &page.after {
            Some(c) => {
                c.decode().map_err(|e| StoreError::InvalidReference { field: "cursor".into(), reason: e.reason })?
            }
            None => 0,
        };
        let mut sql = format!("SELECT {RECORD_COLUMNS} FROM audit_log WHERE tenant_id = ? AND seq > ?");
        let mut values = vec![uid(tenant), int(after)];
        if let Some(a) = filter.actor {
            sql.push_str(" AND actor_id = ?");
            values.push(uid(a));
        }
        for (column, v) in
            [("target_kind", &filter.target_kind), ("target_id", &filter.target_id), ("action", &filter.action)]
        {
            if let Some(v) = v {
                sql.push_str(&format!(" AND {column} = ?"));
                values.push(text(v.clone()));
            }
        }
        if let Some(from) = filter.from {
            sql.push_str(" AND at >= ?");
            values.push(Value::BigInt(Some(ts(from))));
        }
        if let Some(to) = filter.to {
            sql.push_str(" AND at < ?");
            values.push(Value::BigInt(Some(ts(to))));
        }
        sql.push_str(&format!(" ORDER BY seq{}", limit(u64::from(page.limit) + 1)));
        let rows = all(&self.read, &sql, values).await.map_err(db)?;
        let mut items = rows.iter().map(|r| record_from_row(tenant, r)).collect::<StoreResult<Vec<_>>>()?;
        let more = items.len() > usize::try_from(page.limit).unwrap_or(usize::MAX);
        items.truncate(usize::try_from(page.limit).unwrap_or(usize::MAX));
        let next = if more { items.last().map(|r| Cursor::encode(&r.seq)) } else { None };
        Ok(Page { items, next })
    }

    async fn prune_audit(&self, before: DateTime<Utc>, max: u32) -> StoreResult<u64> {
        let mut removed = 0;
        for tenant in self.audit_tenants().await? {
            removed += self.prune_tenant(tenant, before, max).await?;
        }
        Ok(removed)
    }
}
