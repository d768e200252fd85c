//! [`DirectoryStore`] for [`MemoryStore`]: tenants, agents, groups, custom field
//! definitions, dispositions and queues.

use async_trait::async_trait;
use crm_core::access::{Agent, Group, Tenant};
use crm_core::custom_field::{FieldDefinition, FieldEntity};
use crm_core::error::StoreError;
use crm_core::event::DomainEvent;
use crm_core::ids::{AgentId, GroupId, TenantId};
use crm_core::interaction::{Disposition, QueueSettings};
use crm_core::ports::{DirectoryStore, StoreResult};

use super::{MemoryStore, check_version};

/// Checks an insert (`expected` `None`: the id must be free) or an update (`expected`
/// `Some`: the record must exist in the tenant at that version).
pub(super) fn check_put(
    entity: &'static str,
    id: impl std::fmt::Display,
    stored: Option<(TenantId, u64)>,
    tenant: TenantId,
    expected: Option<u64>,
) -> StoreResult<()> {
    match (expected, stored) {
        (None, Some(_)) => Err(StoreError::duplicate("id", id.to_string())),
        (None, None) => Ok(()),
        (Some(_), None) => Err(StoreError::not_found(entity, id)),
        (Some(_), Some((t, _))) if t != tenant => Err(StoreError::not_found(entity, id)),
        (Some(expected), Some((_, version))) => check_version(entity, id, version, expected),
    }
}

/// Refuses a slug another tenant has.
fn check_slug(state: &super::State, tenant: &Tenant) -> StoreResult<()> {
    if let Some(slug) = &tenant.slug
        && state.tenants.values().any(|t| t.id != tenant.id && t.slug.as_ref() == Some(slug))
    {
        return Err(StoreError::duplicate("slug", slug.clone()));
    }
    Ok(())
}

#[async_trait]
impl DirectoryStore for MemoryStore {
    async fn insert_tenant(&self, tenant: &Tenant) -> StoreResult<()> {
        let mut state = self.write()?;
        if state.tenants.contains_key(&tenant.id) {
            return Err(StoreError::duplicate("id", tenant.id.to_string()));
        }
        check_slug(&state, tenant)?;
        state.tenants.insert(tenant.id, tenant.clone());
        Ok(())
    }

    async fn get_tenant(&self, id: TenantId) -> StoreResult<Option<Tenant>> {
        Ok(self.read()?.tenants.get(&id).cloned())
    }

    async fn list_tenants(&self) -> StoreResult<Vec<Tenant>> {
        let state = self.read()?;
        let mut found: Vec<Tenant> = state.tenants.values().cloned().collect();
        found.sort_by(|a, b| (&a.name, a.id).cmp(&(&b.name, b.id)));
        Ok(found)
    }

    async fn update_tenant(&self, tenant: &Tenant, events: &[DomainEvent]) -> StoreResult<()> {
        let mut state = self.write()?;
        check_slug(&state, tenant)?;
        if !state.tenants.contains_key(&tenant.id) {
            return Err(StoreError::not_found("tenant", tenant.id));
        }
        let rows = state.stage_events(events)?;
        state.tenants.insert(tenant.id, tenant.clone());
        state.commit_events(rows);
        Ok(())
    }

    async fn tenant_by_slug(&self, slug: &str) -> StoreResult<Option<Tenant>> {
        Ok(self.read()?.tenants.values().find(|t| t.slug.as_deref() == Some(slug)).cloned())
    }

    async fn put_agent(&self, agent: &Agent, expected_version: Option<u64>, events: &[DomainEvent]) -> StoreResult<()> {
        let mut state = self.write()?;
        let stored = state.agents.get(&agent.id).map(|a| (a.tenant, a.version));
        check_put("agent", agent.id, stored, agent.tenant, expected_version)?;
        let key = agent.email.key();
        if state.agents.values().any(|a| a.tenant == agent.tenant && a.id != agent.id && a.email.key() == key) {
            return Err(StoreError::duplicate("email", agent.email.as_str()));
        }
        if let Some(role) = agent.custom_role
            && state.roles.get(&role).is_none_or(|r| r.tenant != agent.tenant)
        {
            return Err(StoreError::InvalidReference {
                field: "custom_role".into(),
                reason: format!("no role {role} in the tenant (deleted meanwhile?)"),
            });
        }
        let rows = state.stage_events(events)?;
        state.agents.insert(agent.id, agent.clone());
        state.commit_events(rows);
        Ok(())
    }

    async fn get_agent(&self, tenant: TenantId, id: AgentId) -> StoreResult<Option<Agent>> {
        Ok(self.read()?.agents.get(&id).filter(|a| a.tenant == tenant).cloned())
    }

    async fn list_agents(&self, tenant: TenantId) -> StoreResult<Vec<Agent>> {
        let state = self.read()?;
        let mut found: Vec<&Agent> = state.agents.values().filter(|a| a.tenant == tenant).collect();
        found.sort_by(|a, b| (&a.name, a.id).cmp(&(&b.name, b.id)));
        Ok(found.into_iter().cloned().collect())
    }

    async fn put_group(&self, group: &Group, expected_version: Option<u64>, events: &[DomainEvent]) -> StoreResult<()> {
        let mut state = self.write()?;
        let stored = state.groups.get(&group.id).map(|g| (g.tenant, g.version));
        check_put("group", group.id, stored, group.tenant, expected_version)?;
        if state.groups.values().any(|g| g.tenant == group.tenant && g.id != group.id && g.name == group.name) {
            return Err(StoreError::duplicate("name", group.name.clone()));
        }
        let rows = state.stage_events(events)?;
        state.groups.insert(group.id, group.clone());
        state.commit_events(rows);
        Ok(())
    }

    async fn list_groups(&self, tenant: TenantId) -> StoreResult<Vec<Group>> {
        let state = self.read()?;
        let mut found: Vec<&Group> = state.groups.values().filter(|g| g.tenant == tenant).collect();
        found.sort_by(|a, b| (&a.name, a.id).cmp(&(&b.name, b.id)));
        Ok(found.into_iter().cloned().collect())
    }

    async fn get_group(&self, tenant: TenantId, id: GroupId) -> StoreResult<Option<Group>> {
        Ok(self.read()?.groups.get(&id).filter(|g| g.tenant == tenant).cloned())
    }

    async fn delete_group(
        &self,
        tenant: TenantId,
        id: GroupId,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let mut state = self.write()?;
        let stored = state.groups.get(&id).filter(|g| g.tenant == tenant).map(|g| (g.tenant, g.version));
        check_put("group", id, stored, tenant, Some(expected_version))?;
        let members = state.agents.values().filter(|a| a.tenant == tenant && a.groups.contains(&id)).count();
        let cases = state.cases.values().filter(|c| c.tenant == tenant && c.group() == Some(id)).count();
        if let Some(reason) = crm_core::access::group_in_use(members as u64, cases as u64) {
            return Err(StoreError::Conflict(crm_core::error::Conflict::State(reason)));
        }
        let rows = state.stage_events(events)?;
        state.groups.remove(&id);
        state.commit_events(rows);
        Ok(())
    }

    async fn put_field_definition(
        &self,
        definition: &FieldDefinition,
        expected_version: Option<u64>,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let mut state = self.write()?;
        let stored = state.field_definitions.get(&definition.id).map(|d| (d.tenant, d.version));
        check_put("field_definition", definition.id, stored, definition.tenant, expected_version)?;
        let taken = state.field_definitions.values().any(|d| {
            d.tenant == definition.tenant
                && d.entity == definition.entity
                && d.id != definition.id
                && d.key == definition.key
        });
        if taken {
            return Err(StoreError::duplicate("key", definition.key.as_str()));
        }
        let rows = state.stage_events(events)?;
        state.field_definitions.insert(definition.id, definition.clone());
        state.commit_events(rows);
        Ok(())
    }

    async fn field_definitions(&self, tenant: TenantId, entity: FieldEntity) -> StoreResult<Vec<FieldDefinition>> {
        let state = self.read()?;
        let mut found: Vec<&FieldDefinition> =
            state.field_definitions.values().filter(|d| d.tenant == tenant && d.entity == entity).collect();
        found.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(found.into_iter().cloned().collect())
    }

    async fn put_disposition(&self, disposition: &Disposition, events: &[DomainEvent]) -> StoreResult<()> {
        let mut state = self.write()?;
        let rows = state.stage_events(events)?;
        state.dispositions.insert((disposition.tenant, disposition.code.clone()), disposition.clone());
        state.commit_events(rows);
        Ok(())
    }

    async fn dispositions(&self, tenant: TenantId) -> StoreResult<Vec<Disposition>> {
        let state = self.read()?;
        let mut found: Vec<&Disposition> = state.dispositions.values().filter(|d| d.tenant == tenant).collect();
        // Ungrouped codes first (`None` sorts before any group), then by code.
        found.sort_by(|a, b| (&a.group, &a.code).cmp(&(&b.group, &b.code)));
        Ok(found.into_iter().cloned().collect())
    }

    async fn put_queue(&self, queue: &QueueSettings, events: &[DomainEvent]) -> StoreResult<()> {
        let mut state = self.write()?;
        let rows = state.stage_events(events)?;
        state.queues.insert((queue.tenant, queue.name.clone()), queue.clone());
        state.commit_events(rows);
        Ok(())
    }

    async fn get_queue(&self, tenant: TenantId, name: &str) -> StoreResult<Option<QueueSettings>> {
        Ok(self.read()?.queues.get(&(tenant, name.to_owned())).cloned())
    }

    async fn list_queues(&self, tenant: TenantId) -> StoreResult<Vec<QueueSettings>> {
        let state = self.read()?;
        let mut found: Vec<QueueSettings> = state.queues.values().filter(|q| q.tenant == tenant).cloned().collect();
        found.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(found)
    }
}
