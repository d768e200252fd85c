//! `SlaStore`: the SLA settings of each tenant in `sla_settings` (`m0012`), one row per
//! tenant, kind and name, the document in `doc`; a scope is unique per tenant and kind
//! (a unique index; `NULL` scopes never clash). Writes check name, version and scope in
//! their transaction, so the error names the field whichever backend answers.
//!
//! The SLA timer (`m0024`, ADR 0028): the cases whose `sla_fire_at` is due, and the alarms
//! raised, once each by the primary key of `sla_alarms`, with their events.

use async_trait::async_trait;
use sea_orm::{QueryResult, Value};

use chrono::{DateTime, Utc};
use crm_core::StoreError;
use crm_core::event::DomainEvent;
use crm_core::ids::{CaseId, TenantId};
use crm_core::ports::{SlaStore, StoreResult};
use crm_core::sla::alarm::metric_name;
use crm_core::sla::{CaseRemark, RemarkRequest, SlaAlarm, SlaSetting, SlaSettingKind, SlaTimer};

use super::case::remark_case_in;
use super::write_events;
use crate::connect::{SqlStore, finish};
use crate::error::db;
use crate::sql::{all, col, exec, from_ts, int, limit, one, parse_doc, text, to_doc, ts, ts_opt, uid};

const COLUMNS: &str = "tenant_id, kind, name, scope, version, doc";

/// Records a re-mark request in the settings write's transaction (ADR 0032).
async fn record_remark<C: sea_orm::ConnectionTrait>(c: &C, remark: Option<RemarkRequest>) -> StoreResult<()> {
    if let Some(r) = &remark {
        let sql = "INSERT INTO installation_meta (key, value) VALUES (?, ?) \
                   ON CONFLICT (key) DO UPDATE SET value = excluded.value";
        exec(c, sql, vec![text(r.key.as_str()), text(r.token.as_str())]).await.map_err(db)?;
    }
    Ok(())
}

fn decode(row: &QueryResult, tenant: TenantId, kind: SlaSettingKind) -> StoreResult<SlaSetting> {
    let version: i64 = col(row, "version")?;
    let doc: String = col(row, "doc")?;
    Ok(SlaSetting {
        tenant,
        kind,
        name: col(row, "name")?,
        scope: col(row, "scope")?,
        version: u64::try_from(version).unwrap_or(0),
        body: parse_doc(&doc)?,
    })
}

#[async_trait]
impl SlaStore for SqlStore {
    async fn sla_settings(&self, tenant: TenantId, kind: SlaSettingKind) -> StoreResult<Vec<SlaSetting>> {
        let sql = format!("SELECT {COLUMNS} FROM sla_settings WHERE tenant_id = ? AND kind = ? ORDER BY name");
        let rows = all(&self.read, &sql, vec![uid(tenant), text(kind.as_str())]).await.map_err(db)?;
        rows.iter().map(|r| decode(r, tenant, kind)).collect()
    }

    async fn get_sla_setting(
        &self,
        tenant: TenantId,
        kind: SlaSettingKind,
        name: &str,
    ) -> StoreResult<Option<SlaSetting>> {
        let sql = format!("SELECT {COLUMNS} FROM sla_settings WHERE tenant_id = ? AND kind = ? AND name = ?");
        let row = one(&self.read, &sql, vec![uid(tenant), text(kind.as_str()), text(name)]).await.map_err(db)?;
        row.as_ref().map(|r| decode(r, tenant, kind)).transpose()
    }

    async fn put_sla_setting(
        &self,
        setting: &SlaSetting,
        expected_version: Option<u64>,
        remark: Option<RemarkRequest>,
    ) -> StoreResult<()> {
        let tenant = uid(setting.tenant);
        let kind = text(setting.kind.as_str());
        let name = text(setting.name.as_str());
        let scope = Value::String(setting.scope.clone());
        let doc = text(to_doc(&setting.body)?);
        let tx = self.begin().await?;
        let result = async {
            let stored = one(
                &tx,
                "SELECT version FROM sla_settings WHERE tenant_id = ? AND kind = ? AND name = ?",
                vec![tenant.clone(), kind.clone(), name.clone()],
            )
            .await
            .map_err(db)?;
            let stored: Option<i64> = stored.map(|r| col(&r, "version")).transpose()?;
            match (stored, expected_version) {
                (Some(_), None) => return Err(StoreError::duplicate("name", setting.name.clone())),
                (None, Some(_)) => return Err(StoreError::not_found("sla_setting", &setting.name)),
                (Some(v), Some(e)) if u64::try_from(v).ok() != Some(e) => {
                    return Err(StoreError::stale("sla_setting", &setting.name, e));
                }
                _ => {}
            }
            if let Some(s) = &setting.scope {
                let taken = one(
                    &tx,
                    "SELECT name FROM sla_settings WHERE tenant_id = ? AND kind = ? AND scope = ? AND name <> ?",
                    vec![tenant.clone(), kind.clone(), text(s.as_str()), name.clone()],
                )
                .await
                .map_err(db)?;
                if taken.is_some() {
                    return Err(StoreError::duplicate("scope", s.clone()));
                }
            }
            if let Some(e) = expected_version {
                exec(
                    &tx,
                    "UPDATE sla_settings SET scope = ?, version = ?, doc = ? \
                     WHERE tenant_id = ? AND kind = ? AND name = ? AND version = ?",
                    vec![scope, int(setting.version), doc, tenant, kind, name, int(e)],
                )
                .await
                .map_err(db)?;
            } else {
                exec(
                    &tx,
                    &format!("INSERT INTO sla_settings ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)"),
                    vec![tenant, kind, name, scope, int(setting.version), doc],
                )
                .await
                .map_err(db)?;
            }
            record_remark(&tx, remark).await
        }
        .await;
        finish(tx, result).await
    }

    async fn delete_sla_setting(
        &self,
        tenant: TenantId,
        kind: SlaSettingKind,
        name: &str,
        expected_version: u64,
        remark: Option<RemarkRequest>,
    ) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            let key = vec![uid(tenant), text(kind.as_str()), text(name)];
            let stored =
                one(&tx, "SELECT version FROM sla_settings WHERE tenant_id = ? AND kind = ? AND name = ?", key.clone())
                    .await
                    .map_err(db)?;
            let stored: i64 = stored
                .map(|r| col(&r, "version"))
                .transpose()?
                .ok_or_else(|| StoreError::not_found("sla_setting", name))?;
            if u64::try_from(stored).ok() != Some(expected_version) {
                return Err(StoreError::stale("sla_setting", name, expected_version));
            }
            exec(&tx, "DELETE FROM sla_settings WHERE tenant_id = ? AND kind = ? AND name = ?", key)
                .await
                .map_err(db)?;
            record_remark(&tx, remark).await
        }
        .await;
        finish(tx, result).await
    }

    async fn remark_case(&self, remark: &CaseRemark) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = remark_case_in(&tx, remark).await;
        finish(tx, result).await
    }

    async fn due_sla_timers(&self, now: DateTime<Utc>, max: u32) -> StoreResult<Vec<SlaTimer>> {
        let sql = format!(
            "SELECT tenant_id, id, sla_fire_at FROM cases WHERE sla_fire_at IS NOT NULL AND sla_fire_at <= ? \
             ORDER BY sla_fire_at, id{}",
            limit(max.into())
        );
        let rows = all(&self.read, &sql, vec![Value::BigInt(Some(ts(now)))]).await.map_err(db)?;
        rows.iter()
            .map(|r| {
                Ok(SlaTimer {
                    tenant: TenantId::from_uuid(col(r, "tenant_id")?),
                    case: CaseId::from_uuid(col(r, "id")?),
                    fire_at: from_ts(col(r, "sla_fire_at")?),
                })
            })
            .collect()
    }

    async fn fire_sla_timer(
        &self,
        timer: &SlaTimer,
        next: Option<DateTime<Utc>>,
        alarms: &[SlaAlarm],
        events: &[DomainEvent],
    ) -> StoreResult<u32> {
        let tx = self.begin().await?;
        let result = async {
            let mut raised = Vec::new();
            for (alarm, event) in alarms.iter().zip(events) {
                // the key makes the alarm once: a racing caller's insert waits for ours
                // (PostgreSQL) or runs after it (SQLite's single writer) and does nothing
                let inserted = exec(
                    &tx,
                    "INSERT INTO sla_alarms (case_id, metric, kind, started_at, tenant_id, fired_at) \
                     VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (case_id, metric, kind, started_at) DO NOTHING",
                    vec![
                        uid(timer.case),
                        text(metric_name(alarm.metric)),
                        text(alarm.kind.as_str()),
                        Value::BigInt(Some(ts(alarm.started_at))),
                        uid(timer.tenant),
                        Value::BigInt(Some(ts(event.at))),
                    ],
                )
                .await
                .map_err(db)?;
                if inserted == 1 {
                    raised.push(event.clone());
                }
            }
            write_events(&tx, &raised).await?;
            exec(
                &tx,
                "UPDATE cases SET sla_fire_at = ? WHERE id = ? AND tenant_id = ? AND sla_fire_at = ?",
                vec![ts_opt(next), uid(timer.case), uid(timer.tenant), Value::BigInt(Some(ts(timer.fire_at)))],
            )
            .await
            .map_err(db)?;
            Ok(u32::try_from(raised.len()).unwrap_or(u32::MAX))
        }
        .await;
        finish(tx, result).await
    }
}
