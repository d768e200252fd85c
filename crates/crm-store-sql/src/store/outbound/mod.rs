//! `OutboundStore`: campaigns, call lists, entries, the do-not-call list, and the
//! next-contact claim: ONE `UPDATE … WHERE id = (SELECT … LIMIT 1) RETURNING` on both
//! backends, the inner select `FOR UPDATE SKIP LOCKED` on PostgreSQL (concurrent claimers
//! skip each other's row instead of waiting), a single statement of the single writer on
//! SQLite (ADR 0004, 0017).

mod schema;

pub(crate) use schema::OutboundCalling;

use std::collections::BTreeSet;

use async_trait::async_trait;
use sea_orm::{QueryResult, Value};
use uuid::Uuid;

use crm_core::customer::PhoneNumber;
use crm_core::error::StoreError;
use crm_core::event::DomainEvent;
use crm_core::ids::{AgentId, CallListEntryId, CallListId, CampaignId, TenantId};
use crm_core::outbound::{CallList, CallListEntry, Campaign, Closing, DoNotCall, EntryClaim, Lease, Progress};
use crm_core::ports::{OutboundStore, StoreResult};

use super::{require, stale_or_missing, write_events};
use crate::connect::{SqlStore, finish};
use crate::error::{db, map_db};
use crate::sql::{
    all, col, exec, from_doc, from_ts, int, limit, marks, one, parse_doc, row_marks, text, to_doc, ts, ts_opt, uid,
};

/// Columns of an entry row read back, the claim columns with the document.
const ENTRY_COLUMNS: &str = "doc, due_at, lease_agent, lease_until, version";

fn closing(c: Option<Closing>) -> Value {
    Value::String(c.map(|c| {
        match c {
            Closing::Success => "success",
            Closing::Failure => "failure",
            Closing::Unreachable => "unreachable",
            Closing::MaxAttempts => "max_attempts",
        }
        .to_owned()
    }))
}

/// An entry from its row: the document with the claim columns laid over it.
fn entry_of(row: &QueryResult) -> StoreResult<CallListEntry> {
    let entry: CallListEntry = from_doc(row)?;
    let due_at: i64 = col(row, "due_at")?;
    let agent: Option<Uuid> = col(row, "lease_agent")?;
    let until: Option<i64> = col(row, "lease_until")?;
    let version: i64 = col(row, "version")?;
    let lease = agent.zip(until).map(|(a, u)| Lease { agent: AgentId::from_uuid(a), until: from_ts(u) });
    Ok(entry.with_claim_state(from_ts(due_at), lease, u64::try_from(version).unwrap_or_default()))
}

/// The column values of an entry, in [`ENTRY_INSERT`] order up to `doc`.
fn entry_values(e: &CallListEntry) -> StoreResult<Vec<Value>> {
    Ok(vec![
        uid(e.customer),
        text(e.phone.as_e164()),
        text(e.zone.as_str()),
        Value::Int(Some(e.priority)),
        text(e.state().as_str()),
        closing(e.closing()),
        Value::Int(Some(i32::from(e.reached()))),
        Value::BigInt(Some(i64::from(e.attempts()))),
        Value::BigInt(Some(ts(e.due_at()))),
        Value::Uuid(e.reserved_for().map(|a| a.as_uuid())),
        Value::Uuid(e.lease().map(|l| l.agent.as_uuid())),
        ts_opt(e.lease().map(|l| l.until)),
        int(e.version()),
        text(to_doc(e)?),
    ])
}

const ENTRY_INSERT: &str = "INSERT INTO call_list_entries (customer_id, phone, zone, priority, state, closing, reached, \
     attempts, due_at, reserved_for, lease_agent, lease_until, version, doc, id, tenant_id, list_id) VALUES ";

/// A list from its row: the document and the store's `zones`.
fn list_of(row: &QueryResult) -> StoreResult<CallList> {
    let mut list: CallList = from_doc(row)?;
    let zones: String = col(row, "zones")?;
    list.zones = parse_doc(&zones)?;
    Ok(list)
}

/// Rows per `INSERT` of an import (17 values each: below SQLite's 32,766 and PostgreSQL's
/// 65,535 bound parameters).
const ENTRIES_PER_STATEMENT: usize = 1000;

#[async_trait]
impl OutboundStore for SqlStore {
    async fn insert_campaign(&self, c: &Campaign) -> StoreResult<()> {
        let sql = format!("INSERT INTO campaigns (id, tenant_id, created_at, version, doc) VALUES ({})", marks(5));
        let values =
            vec![uid(c.id), uid(c.tenant), Value::BigInt(Some(ts(c.created_at))), int(c.version()), text(to_doc(c)?)];
        exec(&self.write, &sql, values).await.map_err(|e| map_db(e, "campaign"))?;
        Ok(())
    }

    async fn update_campaign(&self, c: &Campaign, expected_version: u64) -> StoreResult<()> {
        let n = exec(
            &self.write,
            "UPDATE campaigns SET version = ?, doc = ? WHERE id = ? AND tenant_id = ? AND version = ?",
            vec![int(c.version()), text(to_doc(c)?), uid(c.id), uid(c.tenant), int(expected_version)],
        )
        .await
        .map_err(db)?;
        if n == 0 {
            return Err(stale_or_missing(
                &self.read,
                "campaigns",
                "campaign",
                c.tenant.as_uuid(),
                c.id.as_uuid(),
                expected_version,
            )
            .await);
        }
        Ok(())
    }

    async fn get_campaign(&self, tenant: TenantId, id: CampaignId) -> StoreResult<Option<Campaign>> {
        let row =
            one(&self.read, "SELECT doc FROM campaigns WHERE id = ? AND tenant_id = ?", vec![uid(id), uid(tenant)])
                .await
                .map_err(db)?;
        row.as_ref().map(from_doc).transpose()
    }

    async fn campaigns(&self, tenant: TenantId) -> StoreResult<Vec<Campaign>> {
        let rows =
            all(&self.read, "SELECT doc FROM campaigns WHERE tenant_id = ? ORDER BY created_at, id", vec![uid(tenant)])
                .await
                .map_err(db)?;
        rows.iter().map(from_doc).collect()
    }

    async fn insert_call_list(&self, l: &CallList) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            require(&tx, "campaigns", "campaign", l.tenant.as_uuid(), l.campaign.as_uuid()).await?;
            let sql = format!(
                "INSERT INTO call_lists (id, tenant_id, campaign_id, created_at, version, zones, doc, active) \
                 VALUES ({})",
                marks(8)
            );
            let values = vec![
                uid(l.id),
                uid(l.tenant),
                uid(l.campaign),
                Value::BigInt(Some(ts(l.created_at))),
                int(l.version()),
                text("[]"),
                text(to_doc(l)?),
                Value::Int(Some(i32::from(l.active))),
            ];
            exec(&tx, &sql, values).await.map_err(|e| map_db(e, "campaign"))?;
            Ok(())
        }
        .await;
        finish(tx, result).await
    }

    async fn update_call_list(&self, l: &CallList, expected_version: u64) -> StoreResult<()> {
        let n = exec(
            &self.write,
            "UPDATE call_lists SET version = ?, doc = ?, active = ? WHERE id = ? AND tenant_id = ? AND version = ?",
            vec![
                int(l.version()),
                text(to_doc(l)?),
                Value::Int(Some(i32::from(l.active))),
                uid(l.id),
                uid(l.tenant),
                int(expected_version),
            ],
        )
        .await
        .map_err(db)?;
        if n == 0 {
            return Err(stale_or_missing(
                &self.read,
                "call_lists",
                "call_list",
                l.tenant.as_uuid(),
                l.id.as_uuid(),
                expected_version,
            )
            .await);
        }
        Ok(())
    }

    async fn get_call_list(&self, tenant: TenantId, id: CallListId) -> StoreResult<Option<CallList>> {
        let row = one(
            &self.read,
            "SELECT doc, zones FROM call_lists WHERE id = ? AND tenant_id = ?",
            vec![uid(id), uid(tenant)],
        )
        .await
        .map_err(db)?;
        row.as_ref().map(list_of).transpose()
    }

    async fn call_lists(&self, tenant: TenantId, campaign: CampaignId) -> StoreResult<Vec<CallList>> {
        let rows = all(
            &self.read,
            "SELECT doc, zones FROM call_lists WHERE campaign_id = ? AND tenant_id = ? ORDER BY created_at, id",
            vec![uid(campaign), uid(tenant)],
        )
        .await
        .map_err(db)?;
        rows.iter().map(list_of).collect()
    }

    async fn insert_entries(&self, tenant: TenantId, list: CallListId, entries: &[CallListEntry]) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            // The list row is locked (PostgreSQL) or the single writer held (SQLite) while its
            // zones are merged, so concurrent imports into one list do not lose zones.
            let lock = if self.is_postgres() { " FOR UPDATE" } else { "" };
            let row = one(
                &tx,
                &format!("SELECT zones FROM call_lists WHERE id = ? AND tenant_id = ?{lock}"),
                vec![uid(list), uid(tenant)],
            )
            .await
            .map_err(db)?
            .ok_or_else(|| StoreError::not_found("call_list", list))?;
            let mut zones: BTreeSet<String> = parse_doc(&col::<String>(&row, "zones")?)?;
            for chunk in entries.chunks(ENTRIES_PER_STATEMENT) {
                let mut values = Vec::with_capacity(chunk.len() * 17);
                for e in chunk {
                    if e.tenant != tenant || e.list != list {
                        return Err(StoreError::InvalidReference {
                            field: "list".into(),
                            reason: format!("{} is another list's entry", e.id),
                        });
                    }
                    values.extend(entry_values(e)?);
                    values.extend([uid(e.id), uid(tenant), uid(list)]);
                    zones.insert(e.zone.clone());
                }
                let sql = format!("{ENTRY_INSERT}{}", row_marks(chunk.len(), 17));
                exec(&tx, &sql, values).await.map_err(|e| map_db(e, "customer"))?;
            }
            exec(&tx, "UPDATE call_lists SET zones = ? WHERE id = ?", vec![text(to_doc(&zones)?), uid(list)])
                .await
                .map_err(db)?;
            Ok(())
        }
        .await;
        finish(tx, result).await
    }

    async fn get_entry(&self, tenant: TenantId, id: CallListEntryId) -> StoreResult<Option<CallListEntry>> {
        let sql = format!("SELECT {ENTRY_COLUMNS} FROM call_list_entries WHERE id = ? AND tenant_id = ?");
        let row = one(&self.read, &sql, vec![uid(id), uid(tenant)]).await.map_err(db)?;
        row.as_ref().map(entry_of).transpose()
    }

    async fn entries(
        &self,
        tenant: TenantId,
        list: CallListId,
        after: Option<CallListEntryId>,
        max: usize,
    ) -> StoreResult<Vec<CallListEntry>> {
        let mut sql = format!("SELECT {ENTRY_COLUMNS} FROM call_list_entries WHERE list_id = ? AND tenant_id = ?");
        let mut values = vec![uid(list), uid(tenant)];
        if let Some(a) = after {
            sql.push_str(" AND id > ?");
            values.push(uid(a));
        }
        sql.push_str(&format!(" ORDER BY id{}", limit(u64::try_from(max).unwrap_or(u64::MAX))));
        let rows = all(&self.read, &sql, values).await.map_err(db)?;
        rows.iter().map(entry_of).collect()
    }

    async fn claim_next_entry(&self, claim: &EntryClaim) -> StoreResult<Option<CallListEntry>> {
        if claim.open_zones.is_empty() {
            return Ok(None);
        }
        let lock = if self.is_postgres() { " FOR UPDATE SKIP LOCKED" } else { "" };
        let sql = format!(
            "UPDATE call_list_entries SET lease_agent = ?, lease_until = ?, due_at = ?, version = version + 1 \
             WHERE id = (SELECT e.id FROM call_list_entries e WHERE e.list_id = ? AND e.tenant_id = ? \
             AND e.state = 'open' AND e.due_at <= ? AND (e.reserved_for IS NULL OR e.reserved_for = ?) \
             AND e.attempts < ? AND e.zone IN ({}) \
             AND NOT EXISTS (SELECT 1 FROM do_not_call d WHERE d.tenant_id = e.tenant_id AND d.phone = e.phone) \
             ORDER BY e.priority DESC, e.due_at, e.id LIMIT 1{lock}) RETURNING {ENTRY_COLUMNS}",
            marks(claim.open_zones.len())
        );
        let until = Value::BigInt(Some(ts(claim.lease_until)));
        let mut values = vec![
            uid(claim.agent),
            until.clone(),
            until,
            uid(claim.list),
            uid(claim.tenant),
            Value::BigInt(Some(ts(claim.now))),
            uid(claim.agent),
            Value::BigInt(Some(i64::from(claim.max_attempts))),
        ];
        values.extend(claim.open_zones.iter().map(|z| text(z.as_str())));
        let row = one(&self.write, &sql, values).await.map_err(db)?;
        row.as_ref().map(entry_of).transpose()
    }

    async fn update_entry(&self, e: &CallListEntry, expected_version: u64, events: &[DomainEvent]) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            let sql = "UPDATE call_list_entries SET customer_id = ?, phone = ?, zone = ?, priority = ?, state = ?, \
                       closing = ?, reached = ?, attempts = ?, due_at = ?, reserved_for = ?, lease_agent = ?, \
                       lease_until = ?, version = ?, doc = ? WHERE id = ? AND tenant_id = ? AND version = ?";
            let mut values = entry_values(e)?;
            values.extend([uid(e.id), uid(e.tenant), int(expected_version)]);
            if exec(&tx, sql, values).await.map_err(|err| map_db(err, "customer"))? == 0 {
                let (tenant, id) = (e.tenant.as_uuid(), e.id.as_uuid());
                return Err(stale_or_missing(
                    &tx,
                    "call_list_entries",
                    "call_list_entry",
                    tenant,
                    id,
                    expected_version,
                )
                .await);
            }
            write_events(&tx, events).await
        }
        .await;
        finish(tx, result).await
    }

    async fn list_progress(&self, tenant: TenantId, list: CallListId) -> StoreResult<Progress> {
        let row = one(
            &self.read,
            "SELECT COUNT(*) AS total, \
             COALESCE(SUM(CASE WHEN state = 'closed' THEN 1 ELSE 0 END), 0) AS done, \
             COALESCE(SUM(reached), 0) AS reachable, \
             COALESCE(SUM(CASE WHEN closing = 'success' THEN 1 ELSE 0 END), 0) AS succeeded \
             FROM call_list_entries WHERE list_id = ? AND tenant_id = ?",
            vec![uid(list), uid(tenant)],
        )
        .await
        .map_err(db)?;
        let Some(row) = row else { return Ok(Progress::default()) };
        let n = |name: &str| -> StoreResult<u64> { Ok(u64::try_from(col::<i64>(&row, name)?).unwrap_or_default()) };
        Ok(Progress::from_counts(n("total")?, n("done")?, n("reachable")?, n("succeeded")?))
    }

    async fn add_do_not_call(&self, tenant: TenantId, entry: &DoNotCall) -> StoreResult<()> {
        exec(
            &self.write,
            "INSERT INTO do_not_call (tenant_id, phone, doc) VALUES (?, ?, ?) ON CONFLICT (tenant_id, phone) DO NOTHING",
            vec![uid(tenant), text(entry.phone.as_e164()), text(to_doc(entry)?)],
        )
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn remove_do_not_call(&self, tenant: TenantId, phone: &PhoneNumber) -> StoreResult<bool> {
        let n = exec(
            &self.write,
            "DELETE FROM do_not_call WHERE tenant_id = ? AND phone = ?",
            vec![uid(tenant), text(phone.as_e164())],
        )
        .await
        .map_err(db)?;
        Ok(n > 0)
    }

    async fn do_not_call(&self, tenant: TenantId, after: Option<String>, max: usize) -> StoreResult<Vec<DoNotCall>> {
        let sql = format!(
            "SELECT doc FROM do_not_call WHERE tenant_id = ? AND phone > ? ORDER BY phone{}",
            limit(u64::try_from(max).unwrap_or(u64::MAX))
        );
        let rows = all(&self.read, &sql, vec![uid(tenant), text(after.unwrap_or_default())]).await.map_err(db)?;
        rows.iter().map(from_doc).collect()
    }
}

macro_rules! outbound_uuids {
    ($($t:ident),+) => {$(
        impl crate::sql::AsUuid for $t {
            fn uuid(&self) -> Uuid {
                self.as_uuid()
            }
        }
    )+};
}

outbound_uuids!(CampaignId, CallListId, CallListEntryId);
