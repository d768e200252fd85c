//! [`GuidanceStore`] for [`MemoryStore`]: scripts and their published versions, script
//! runs (written with their events), alert rules and a customer's activity counts.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_core::case::{Severity, Visibility};
use crm_core::error::StoreError;
use crm_core::event::DomainEvent;
use crm_core::guidance::{AlertRuleSet, CustomerActivity, Script, ScriptVersion, StoredScriptRun};
use crm_core::ids::{CallListEntryId, CustomerId, InteractionId, ScriptId, ScriptRunId, TenantId};
use crm_core::page::{Page, PageRequest};
use crm_core::ports::{GuidanceStore, StoreResult};
use crm_core::task::TaskStatus;

use super::{MemoryStore, check_version, decode_cursor, paginate};

#[async_trait]
impl GuidanceStore for MemoryStore {
    async fn insert_script(&self, tenant: TenantId, script: &Script) -> StoreResult<()> {
        let mut state = self.write()?;
        if state.scripts.contains_key(&script.id) {
            return Err(StoreError::duplicate("id", script.id.to_string()));
        }
        state.scripts.insert(script.id, (tenant, script.clone()));
        Ok(())
    }

    async fn get_script(&self, tenant: TenantId, id: ScriptId) -> StoreResult<Option<Script>> {
        Ok(self.read()?.scripts.get(&id).filter(|(t, _)| *t == tenant).map(|(_, s)| s.clone()))
    }

    async fn list_scripts(&self, tenant: TenantId) -> StoreResult<Vec<Script>> {
        let mut scripts: Vec<Script> =
            self.read()?.scripts.values().filter(|(t, _)| *t == tenant).map(|(_, s)| s.clone()).collect();
        scripts.sort_by(|a, b| (&a.draft.name, a.id).cmp(&(&b.draft.name, b.id)));
        Ok(scripts)
    }

    async fn scripts_page(&self, tenant: TenantId, page: &PageRequest) -> StoreResult<Page<Script>> {
        let cursor: Option<(String, ScriptId)> = decode_cursor(page)?;
        let state = self.read()?;
        let mut found: Vec<&Script> = state
            .scripts
            .values()
            .filter(|(t, s)| *t == tenant && cursor.as_ref().is_none_or(|(n, id)| (&s.draft.name, s.id) > (n, *id)))
            .map(|(_, s)| s)
            .collect();
        found.sort_by(|a, b| (&a.draft.name, a.id).cmp(&(&b.draft.name, b.id)));
        Ok(paginate(found, page, |s: &Script| (s.draft.name.clone(), s.id)))
    }

    async fn update_script(&self, tenant: TenantId, script: &Script, expected_version: u64) -> StoreResult<()> {
        let mut state = self.write()?;
        let stored = match state.scripts.get(&script.id) {
            Some((t, s)) if *t == tenant => s,
            _ => return Err(StoreError::not_found("script", script.id)),
        };
        check_version("script", script.id, stored.version, expected_version)?;
        state.scripts.insert(script.id, (tenant, script.clone()));
        Ok(())
    }

    async fn publish_script(
        &self,
        tenant: TenantId,
        script: &Script,
        expected_version: u64,
        published: &ScriptVersion,
    ) -> StoreResult<()> {
        let mut state = self.write()?;
        let stored = match state.scripts.get(&script.id) {
            Some((t, s)) if *t == tenant => s,
            _ => return Err(StoreError::not_found("script", script.id)),
        };
        check_version("script", script.id, stored.version, expected_version)?;
        let key = (published.script, published.version);
        if state.script_versions.contains_key(&key) {
            return Err(StoreError::duplicate("version", published.version.to_string()));
        }
        state.script_versions.insert(key, (tenant, published.clone()));
        state.scripts.insert(script.id, (tenant, script.clone()));
        Ok(())
    }

    async fn script_versions(&self, tenant: TenantId, id: ScriptId) -> StoreResult<Vec<ScriptVersion>> {
        Ok(self
            .read()?
            .script_versions
            .range((id, 0)..=(id, u32::MAX))
            .filter(|(_, (t, _))| *t == tenant)
            .map(|(_, (_, v))| v.clone())
            .collect())
    }

    async fn script_version(&self, tenant: TenantId, id: ScriptId, version: u32) -> StoreResult<Option<ScriptVersion>> {
        Ok(self.read()?.script_versions.get(&(id, version)).filter(|(t, _)| *t == tenant).map(|(_, v)| v.clone()))
    }

    async fn insert_script_run(&self, run: &StoredScriptRun, events: &[DomainEvent]) -> StoreResult<()> {
        let mut state = self.write()?;
        if state.interactions.get(&run.interaction).is_none_or(|i| i.tenant != run.tenant) {
            return Err(StoreError::InvalidReference {
                field: "interaction".to_owned(),
                reason: format!("{} does not exist", run.interaction),
            });
        }
        if state.script_runs.contains_key(&run.id) {
            return Err(StoreError::duplicate("id", run.id.to_string()));
        }
        let rows = state.stage_events(events)?;
        state.script_runs.insert(run.id, run.clone());
        state.commit_events(rows);
        Ok(())
    }

    async fn update_script_run(
        &self,
        run: &StoredScriptRun,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let mut state = self.write()?;
        let stored = match state.script_runs.get(&run.id) {
            Some(r) if r.tenant == run.tenant => r,
            _ => return Err(StoreError::not_found("script_run", run.id)),
        };
        check_version("script_run", run.id, stored.version, expected_version)?;
        let rows = state.stage_events(events)?;
        state.script_runs.insert(run.id, run.clone());
        state.commit_events(rows);
        Ok(())
    }

    async fn get_script_run(&self, tenant: TenantId, id: ScriptRunId) -> StoreResult<Option<StoredScriptRun>> {
        Ok(self.read()?.script_runs.get(&id).filter(|r| r.tenant == tenant).cloned())
    }

    async fn script_runs_of(&self, tenant: TenantId, interaction: InteractionId) -> StoreResult<Vec<StoredScriptRun>> {
        let mut runs: Vec<StoredScriptRun> = self
            .read()?
            .script_runs
            .values()
            .filter(|r| r.tenant == tenant && r.interaction == interaction)
            .cloned()
            .collect();
        runs.sort_by_key(|r| (r.started_at, r.id));
        Ok(runs)
    }

    async fn script_runs_of_entry(
        &self,
        tenant: TenantId,
        entry: CallListEntryId,
    ) -> StoreResult<Vec<StoredScriptRun>> {
        let mut runs: Vec<StoredScriptRun> = self
            .read()?
            .script_runs
            .values()
            .filter(|r| r.tenant == tenant && r.entry == Some(entry))
            .cloned()
            .collect();
        runs.sort_by_key(|r| (r.started_at, r.id));
        Ok(runs)
    }

    async fn alert_rules(&self, tenant: TenantId) -> StoreResult<Option<AlertRuleSet>> {
        Ok(self.read()?.alert_rules.get(&tenant).cloned())
    }

    async fn put_alert_rules(&self, tenant: TenantId, set: &AlertRuleSet, expected_version: u64) -> StoreResult<()> {
        let mut state = self.write()?;
        let stored = state.alert_rules.get(&tenant).map_or(0, |s| s.version);
        check_version("alert_rules", tenant, stored, expected_version)?;
        state.alert_rules.insert(tenant, set.clone());
        Ok(())
    }

    async fn customer_activity(
        &self,
        tenant: TenantId,
        customer: CustomerId,
        now: DateTime<Utc>,
    ) -> StoreResult<CustomerActivity> {
        let state = self.read()?;
        let open_critical_cases = count(state.cases.values().filter(|c| {
            c.tenant == tenant
                && c.customer() == customer
                && c.severity() == Severity::Critical
                && c.status().is_open()
                && !c.is_deleted()
                && c.visibility() != Visibility::Private
        }));
        let breached_cases = count(state.cases.values().filter(|c| {
            c.tenant == tenant
                && c.customer() == customer
                && c.sla().and_then(|m| m.breach_at).is_some_and(|b| b <= now)
                && c.status().is_open()
                && !c.is_deleted()
                && c.visibility() != Visibility::Private
        }));
        let overdue_tasks = count(state.tasks.values().filter(|t| {
            t.tenant == tenant
                && t.customer() == customer
                && t.status() == TaskStatus::Planned
                && t.scheduled_at() < now
        }));
        let open_campaign_entries = u32::try_from(state.outbound.open_entries_of(tenant, customer)).unwrap_or(u32::MAX);
        let mut activity = CustomerActivity {
            open_critical_cases,
            overdue_tasks,
            breached_cases,
            open_campaign_entries,
            ..CustomerActivity::default()
        };
        for i in state.interactions.values().filter(|i| i.tenant == tenant && i.customer() == Some(customer)) {
            activity.count_contact(i.offered_at, now);
        }
        Ok(activity)
    }
}

fn count<T>(items: impl Iterator<Item = T>) -> u32 {
    u32::try_from(items.count()).unwrap_or(u32::MAX)
}
