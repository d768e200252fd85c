//! `GuidanceStore`: scripts (`scripts`, `script_versions`), script runs (`script_runs`,
//! written with their events, with the call-list entry they were started for), alert rule
//! sets (`alert_rule_sets`), all as JSON documents with the columns they are looked up by
//! (migrations `m0014`, `m0029`), and the screen pop's alert counts: ONE statement over
//! `cases`, `tasks`, `interactions` and `call_list_entries`, each through its index by
//! customer.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use sea_orm::Value;

use crm_core::StoreError;
use crm_core::alert::ContactCounts;
use crm_core::event::DomainEvent;
use crm_core::guidance::{AlertRuleSet, CustomerActivity, Script, ScriptVersion, StoredScriptRun};
use crm_core::ids::{CallListEntryId, CustomerId, InteractionId, ScriptId, ScriptRunId, TenantId};
use crm_core::page::{Cursor, Page, PageRequest};
use crm_core::ports::{GuidanceStore, StoreResult};

use super::paging::{decode_cursor, paginate};
use super::{require, stale_or_missing, write_events};
use crate::connect::{SqlStore, finish};
use crate::error::db;
use crate::sql::{all, col, exec, from_doc, int, limit, one, text, to_doc, ts, uid};

/// The counts of [`CustomerActivity`], one sub-select each; the values are bound in order
/// by [`activity_values`].
const ACTIVITY: &str = "SELECT \
    (SELECT COUNT(*) FROM cases WHERE customer_id = ? AND tenant_id = ? AND severity = 'critical' \
        AND status IN ('open', 'pending', 'on_hold') AND deleted_at IS NULL AND visibility <> 'private') AS critical, \
    (SELECT COUNT(*) FROM cases WHERE customer_id = ? AND tenant_id = ? AND sla_breach_at <= ? \
        AND status IN ('open', 'pending', 'on_hold') AND deleted_at IS NULL AND visibility <> 'private') AS breached, \
    (SELECT COUNT(*) FROM tasks WHERE customer_id = ? AND tenant_id = ? AND status = 'planned' \
        AND scheduled_at < ?) AS overdue, \
    (SELECT COUNT(*) FROM interactions WHERE customer_id = ? AND tenant_id = ? AND offered_at >= ?) AS last_30, \
    (SELECT COUNT(*) FROM interactions WHERE customer_id = ? AND tenant_id = ? AND offered_at >= ?) AS last_7, \
    (SELECT COUNT(*) FROM interactions WHERE customer_id = ? AND tenant_id = ? AND offered_at >= ?) AS last_1, \
    (SELECT COUNT(*) FROM call_list_entries e JOIN call_lists l ON l.id = e.list_id \
        WHERE e.customer_id = ? AND e.tenant_id = ? AND e.state = 'open' AND l.active = 1) AS open_entries";

fn activity_values(tenant: TenantId, customer: CustomerId, now: DateTime<Utc>) -> Vec<Value> {
    let mut values = Vec::with_capacity(19);
    let pair = || [uid(customer), uid(tenant)];
    values.extend(pair());
    values.extend(pair());
    values.push(Value::BigInt(Some(ts(now))));
    values.extend(pair());
    values.push(Value::BigInt(Some(ts(now))));
    for days in [30, 7, 1] {
        values.extend(pair());
        values.push(Value::BigInt(Some(ts(now - Duration::days(days)))));
    }
    values.extend(pair());
    values
}

fn count(row: &sea_orm::QueryResult, name: &str) -> StoreResult<u32> {
    let n: i64 = col(row, name)?;
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

#[async_trait]
impl GuidanceStore for SqlStore {
    async fn insert_script(&self, tenant: TenantId, script: &Script) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            if one(&tx, "SELECT 1 AS one FROM scripts WHERE id = ?", vec![uid(script.id)]).await.map_err(db)?.is_some()
            {
                return Err(StoreError::duplicate("id", script.id.to_string()));
            }
            exec(
                &tx,
                "INSERT INTO scripts (id, tenant_id, name, version, doc) VALUES (?, ?, ?, ?, ?)",
                vec![uid(script.id), uid(tenant), text(&script.draft.name), int(script.version), text(to_doc(script)?)],
            )
            .await
            .map_err(db)?;
            Ok(())
        }
        .await;
        finish(tx, result).await
    }

    async fn get_script(&self, tenant: TenantId, id: ScriptId) -> StoreResult<Option<Script>> {
        let row = one(&self.read, "SELECT doc FROM scripts WHERE id = ? AND tenant_id = ?", vec![uid(id), uid(tenant)])
            .await
            .map_err(db)?;
        row.as_ref().map(from_doc).transpose()
    }

    async fn list_scripts(&self, tenant: TenantId) -> StoreResult<Vec<Script>> {
        let rows = all(&self.read, "SELECT doc FROM scripts WHERE tenant_id = ? ORDER BY name, id", vec![uid(tenant)])
            .await
            .map_err(db)?;
        rows.iter().map(from_doc).collect()
    }

    async fn scripts_page(&self, tenant: TenantId, page: &PageRequest) -> StoreResult<Page<Script>> {
        let cursor: Option<(String, ScriptId)> = page.after.as_ref().map(decode_cursor).transpose()?;
        let mut sql = "SELECT doc, name, id FROM scripts WHERE tenant_id = ?".to_owned();
        let mut values = vec![uid(tenant)];
        if let Some((name, id)) = cursor {
            sql.push_str(" AND (name > ? OR (name = ? AND id > ?))");
            values.extend([text(&name), text(&name), uid(id)]);
        }
        sql.push_str(" ORDER BY name, id");
        sql.push_str(&limit(u64::from(page.limit) + 1));
        let rows = all(&self.read, &sql, values).await.map_err(db)?;
        paginate(
            rows,
            page.limit,
            |row| {
                let name: String = col(row, "name")?;
                let id: uuid::Uuid = col(row, "id")?;
                Ok(Cursor::encode(&(name, ScriptId::from_uuid(id))))
            },
            from_doc,
        )
    }

    async fn update_script(&self, tenant: TenantId, script: &Script, expected_version: u64) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = update_script_row(&tx, tenant, script, expected_version).await;
        finish(tx, result).await
    }

    async fn publish_script(
        &self,
        tenant: TenantId,
        script: &Script,
        expected_version: u64,
        published: &ScriptVersion,
    ) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            update_script_row(&tx, tenant, script, expected_version).await?;
            let taken = one(
                &tx,
                "SELECT 1 AS one FROM script_versions WHERE script_id = ? AND version = ?",
                vec![uid(published.script), int(u64::from(published.version))],
            )
            .await
            .map_err(db)?;
            if taken.is_some() {
                return Err(StoreError::duplicate("version", published.version.to_string()));
            }
            exec(
                &tx,
                "INSERT INTO script_versions (script_id, version, tenant_id, doc) VALUES (?, ?, ?, ?)",
                vec![uid(published.script), int(u64::from(published.version)), uid(tenant), text(to_doc(published)?)],
            )
            .await
            .map_err(db)?;
            Ok(())
        }
        .await;
        finish(tx, result).await
    }

    async fn script_versions(&self, tenant: TenantId, id: ScriptId) -> StoreResult<Vec<ScriptVersion>> {
        let rows = all(
            &self.read,
            "SELECT doc FROM script_versions WHERE script_id = ? AND tenant_id = ? ORDER BY version",
            vec![uid(id), uid(tenant)],
        )
        .await
        .map_err(db)?;
        rows.iter().map(from_doc).collect()
    }

    async fn script_version(&self, tenant: TenantId, id: ScriptId, version: u32) -> StoreResult<Option<ScriptVersion>> {
        let row = one(
            &self.read,
            "SELECT doc FROM script_versions WHERE script_id = ? AND version = ? AND tenant_id = ?",
            vec![uid(id), int(u64::from(version)), uid(tenant)],
        )
        .await
        .map_err(db)?;
        row.as_ref().map(from_doc).transpose()
    }

    async fn insert_script_run(&self, run: &StoredScriptRun, events: &[DomainEvent]) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            require(&tx, "interactions", "interaction", run.tenant.as_uuid(), run.interaction.as_uuid()).await?;
            if one(&tx, "SELECT 1 AS one FROM script_runs WHERE id = ?", vec![uid(run.id)]).await.map_err(db)?.is_some()
            {
                return Err(StoreError::duplicate("id", run.id.to_string()));
            }
            exec(
                &tx,
                "INSERT INTO script_runs (id, tenant_id, interaction_id, started_at, version, doc, entry_id) \
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
                vec![
                    uid(run.id),
                    uid(run.tenant),
                    uid(run.interaction),
                    Value::BigInt(Some(ts(run.started_at))),
                    int(run.version),
                    text(to_doc(run)?),
                    Value::Uuid(run.entry.map(|e| e.as_uuid())),
                ],
            )
            .await
            .map_err(db)?;
            write_events(&tx, events).await
        }
        .await;
        finish(tx, result).await
    }

    async fn update_script_run(
        &self,
        run: &StoredScriptRun,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            let n = exec(
                &tx,
                "UPDATE script_runs SET version = ?, doc = ? WHERE id = ? AND tenant_id = ? AND version = ?",
                vec![int(run.version), text(to_doc(run)?), uid(run.id), uid(run.tenant), int(expected_version)],
            )
            .await
            .map_err(db)?;
            if n == 0 {
                let (tenant, id) = (run.tenant.as_uuid(), run.id.as_uuid());
                return Err(stale_or_missing(&tx, "script_runs", "script_run", tenant, id, expected_version).await);
            }
            write_events(&tx, events).await
        }
        .await;
        finish(tx, result).await
    }

    async fn get_script_run(&self, tenant: TenantId, id: ScriptRunId) -> StoreResult<Option<StoredScriptRun>> {
        let row =
            one(&self.read, "SELECT doc FROM script_runs WHERE id = ? AND tenant_id = ?", vec![uid(id), uid(tenant)])
                .await
                .map_err(db)?;
        row.as_ref().map(from_doc).transpose()
    }

    async fn script_runs_of(&self, tenant: TenantId, interaction: InteractionId) -> StoreResult<Vec<StoredScriptRun>> {
        let rows = all(
            &self.read,
            "SELECT doc FROM script_runs WHERE interaction_id = ? AND tenant_id = ? ORDER BY started_at, id",
            vec![uid(interaction), uid(tenant)],
        )
        .await
        .map_err(db)?;
        rows.iter().map(from_doc).collect()
    }

    async fn script_runs_of_entry(
        &self,
        tenant: TenantId,
        entry: CallListEntryId,
    ) -> StoreResult<Vec<StoredScriptRun>> {
        let rows = all(
            &self.read,
            "SELECT doc FROM script_runs WHERE entry_id = ? AND tenant_id = ? ORDER BY started_at, id",
            vec![uid(entry), uid(tenant)],
        )
        .await
        .map_err(db)?;
        rows.iter().map(from_doc).collect()
    }

    async fn alert_rules(&self, tenant: TenantId) -> StoreResult<Option<AlertRuleSet>> {
        let row = one(&self.read, "SELECT doc FROM alert_rule_sets WHERE tenant_id = ?", vec![uid(tenant)])
            .await
            .map_err(db)?;
        row.as_ref().map(from_doc).transpose()
    }

    async fn put_alert_rules(&self, tenant: TenantId, set: &AlertRuleSet, expected_version: u64) -> StoreResult<()> {
        let doc = to_doc(set)?;
        super::put_tenant_document(self, "alert_rule_sets", "alert_rules", tenant, set.version, doc, expected_version)
            .await
    }

    async fn customer_activity(
        &self,
        tenant: TenantId,
        customer: CustomerId,
        now: DateTime<Utc>,
    ) -> StoreResult<CustomerActivity> {
        let row = one(&self.read, ACTIVITY, activity_values(tenant, customer, now)).await.map_err(db)?;
        let Some(row) = row else { return Ok(CustomerActivity::default()) };
        Ok(CustomerActivity {
            open_critical_cases: count(&row, "critical")?,
            overdue_tasks: count(&row, "overdue")?,
            breached_cases: count(&row, "breached")?,
            contacts: ContactCounts {
                last_1_day: count(&row, "last_1")?,
                last_7_days: count(&row, "last_7")?,
                last_30_days: count(&row, "last_30")?,
            },
            open_campaign_entries: count(&row, "open_entries")?,
        })
    }
}

/// The guarded update of a script's row.
async fn update_script_row<C: sea_orm::ConnectionTrait>(
    c: &C,
    tenant: TenantId,
    script: &Script,
    expected_version: u64,
) -> StoreResult<()> {
    let n = exec(
        c,
        "UPDATE scripts SET name = ?, version = ?, doc = ? WHERE id = ? AND tenant_id = ? AND version = ?",
        vec![
            text(&script.draft.name),
            int(script.version),
            text(to_doc(script)?),
            uid(script.id),
            uid(tenant),
            int(expected_version),
        ],
    )
    .await
    .map_err(db)?;
    if n == 0 {
        return Err(
            stale_or_missing(c, "scripts", "script", tenant.as_uuid(), script.id.as_uuid(), expected_version).await
        );
    }
    Ok(())
}
