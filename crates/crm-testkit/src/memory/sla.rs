//! [`SlaStore`] for [`MemoryStore`]: the SLA settings of each tenant, by kind and name;
//! the SLA timers of the cases and the alarms raised (ADR 0028).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_core::error::StoreError;
use crm_core::event::DomainEvent;
use crm_core::ids::{CaseId, TenantId};
use crm_core::ports::{SlaStore, StoreResult};
use crm_core::sla::{AlarmKind, CaseRemark, Metric, RemarkRequest, SlaAlarm, SlaSetting, SlaSettingKind, SlaTimer};

use super::{MemoryStore, check_version};

#[async_trait]
impl SlaStore for MemoryStore {
    async fn sla_settings(&self, tenant: TenantId, kind: SlaSettingKind) -> StoreResult<Vec<SlaSetting>> {
        let state = self.read()?;
        Ok(state
            .sla
            .range((tenant, kind, String::new())..)
            .take_while(|((t, k, _), _)| *t == tenant && *k == kind)
            .map(|(_, s)| s.clone())
            .collect())
    }

    async fn get_sla_setting(
        &self,
        tenant: TenantId,
        kind: SlaSettingKind,
        name: &str,
    ) -> StoreResult<Option<SlaSetting>> {
        Ok(self.read()?.sla.get(&(tenant, kind, name.to_owned())).cloned())
    }

    async fn put_sla_setting(
        &self,
        setting: &SlaSetting,
        expected_version: Option<u64>,
        remark: Option<RemarkRequest>,
    ) -> StoreResult<()> {
        let mut state = self.write()?;
        let key = (setting.tenant, setting.kind, setting.name.clone());
        match (state.sla.get(&key), expected_version) {
            (Some(_), None) => return Err(StoreError::duplicate("name", setting.name.clone())),
            (None, Some(_)) => return Err(StoreError::not_found("sla_setting", &setting.name)),
            (Some(stored), Some(expected)) => check_version("sla_setting", &setting.name, stored.version, expected)?,
            (None, None) => {}
        }
        if let Some(scope) = &setting.scope
            && state.sla.iter().any(|((t, k, n), s)| {
                *t == setting.tenant && *k == setting.kind && *n != setting.name && s.scope.as_ref() == Some(scope)
            })
        {
            return Err(StoreError::duplicate("scope", scope.clone()));
        }
        state.sla.insert(key, setting.clone());
        if let Some(r) = remark {
            state.meta.insert(r.key, r.token);
        }
        Ok(())
    }

    async fn delete_sla_setting(
        &self,
        tenant: TenantId,
        kind: SlaSettingKind,
        name: &str,
        expected_version: u64,
        remark: Option<RemarkRequest>,
    ) -> StoreResult<()> {
        let mut state = self.write()?;
        let key = (tenant, kind, name.to_owned());
        let stored = state.sla.get(&key).ok_or_else(|| StoreError::not_found("sla_setting", name))?;
        check_version("sla_setting", name, stored.version, expected_version)?;
        state.sla.remove(&key);
        if let Some(r) = remark {
            state.meta.insert(r.key, r.token);
        }
        Ok(())
    }

    async fn remark_case(&self, remark: &CaseRemark) -> StoreResult<()> {
        let mut state = self.write()?;
        state.check_remark(remark)?;
        state.put_case(remark.case(), &[]);
        Ok(())
    }

    async fn due_sla_timers(&self, now: DateTime<Utc>, limit: u32) -> StoreResult<Vec<SlaTimer>> {
        let state = self.read()?;
        let mut due: Vec<SlaTimer> = state
            .sla_timers
            .iter()
            .filter(|(_, (_, at))| *at <= now)
            .map(|(case, (tenant, at))| SlaTimer { tenant: *tenant, case: *case, fire_at: *at })
            .collect();
        due.sort_by_key(|t| (t.fire_at, t.case));
        due.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(due)
    }

    async fn fire_sla_timer(
        &self,
        timer: &SlaTimer,
        next: Option<DateTime<Utc>>,
        alarms: &[SlaAlarm],
        events: &[DomainEvent],
    ) -> StoreResult<u32> {
        let mut state = self.write()?;
        let fresh: Vec<(AlarmKey, DomainEvent)> = alarms
            .iter()
            .zip(events)
            .map(|(a, e)| ((timer.case, a.metric, a.kind, a.started_at), e.clone()))
            .filter(|(key, _)| !state.sla_alarms.contains(key))
            .collect();
        let raised: Vec<DomainEvent> = fresh.iter().map(|(_, e)| e.clone()).collect();
        let rows = state.stage_events(&raised)?;
        state.sla_alarms.extend(fresh.into_iter().map(|(key, _)| key));
        state.commit_events(rows);
        if state.sla_timers.get(&timer.case).is_some_and(|(_, at)| *at == timer.fire_at) {
            match next {
                Some(at) => state.sla_timers.insert(timer.case, (timer.tenant, at)),
                None => state.sla_timers.remove(&timer.case),
            };
        }
        Ok(u32::try_from(raised.len()).unwrap_or(u32::MAX))
    }
}

/// The key of an SLA alarm: raised once.
pub(crate) type AlarmKey = (CaseId, Metric, AlarmKind, DateTime<Utc>);
