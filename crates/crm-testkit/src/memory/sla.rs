//! [`SlaStore`] for [`MemoryStore`]: the SLA settings of each tenant, by kind and name.

use async_trait::async_trait;
use crm_core::error::StoreError;
use crm_core::ids::TenantId;
use crm_core::ports::{SlaStore, StoreResult};
use crm_core::sla::{SlaSetting, SlaSettingKind};

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

    async fn put_sla_setting(&self, setting: &SlaSetting, expected_version: Option<u64>) -> StoreResult<()> {
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
        Ok(())
    }

    async fn delete_sla_setting(
        &self,
        tenant: TenantId,
        kind: SlaSettingKind,
        name: &str,
        expected_version: u64,
    ) -> StoreResult<()> {
        let mut state = self.write()?;
        let key = (tenant, kind, name.to_owned());
        let stored = state.sla.get(&key).ok_or_else(|| StoreError::not_found("sla_setting", name))?;
        check_version("sla_setting", name, stored.version, expected_version)?;
        state.sla.remove(&key);
        Ok(())
    }
}
