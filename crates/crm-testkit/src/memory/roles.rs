//! [`RoleStore`] for [`MemoryStore`]: the tenant-defined roles (ADM-2).

use async_trait::async_trait;
use crm_core::access::{TenantRole, role_in_use};
use crm_core::error::{Conflict, StoreError};
use crm_core::event::DomainEvent;
use crm_core::ids::{RoleId, TenantId};
use crm_core::ports::{RoleStore, StoreResult};

use super::MemoryStore;
use super::directory::check_put;

#[async_trait]
impl RoleStore for MemoryStore {
    async fn put_role(
        &self,
        role: &TenantRole,
        expected_version: Option<u64>,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let mut state = self.write()?;
        let stored = state.roles.get(&role.id).map(|r| (r.tenant, r.version));
        check_put("role", role.id, stored, role.tenant, expected_version)?;
        let key = role.name_key();
        if state.roles.values().any(|r| r.tenant == role.tenant && r.id != role.id && r.name_key() == key) {
            return Err(StoreError::duplicate("name", role.name.clone()));
        }
        let rows = state.stage_events(events)?;
        state.roles.insert(role.id, role.clone());
        state.commit_events(rows);
        Ok(())
    }

    async fn get_role(&self, tenant: TenantId, id: RoleId) -> StoreResult<Option<TenantRole>> {
        Ok(self.read()?.roles.get(&id).filter(|r| r.tenant == tenant).cloned())
    }

    async fn list_roles(&self, tenant: TenantId) -> StoreResult<Vec<TenantRole>> {
        let mut found: Vec<TenantRole> = self.read()?.roles.values().filter(|r| r.tenant == tenant).cloned().collect();
        found.sort_by_key(|r| (r.name_key(), r.id));
        Ok(found)
    }

    async fn delete_role(
        &self,
        tenant: TenantId,
        id: RoleId,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let mut state = self.write()?;
        let stored = state.roles.get(&id).map(|r| (r.tenant, r.version));
        check_put("role", id, stored, tenant, Some(expected_version))?;
        let holders = state.agents.values().filter(|a| a.tenant == tenant && a.custom_role == Some(id)).count();
        if let Some(reason) = role_in_use(holders as u64) {
            return Err(StoreError::Conflict(Conflict::State(reason)));
        }
        let rows = state.stage_events(events)?;
        state.roles.remove(&id);
        state.commit_events(rows);
        Ok(())
    }
}
