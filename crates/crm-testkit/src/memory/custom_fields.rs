//! [`FieldValueStore`] for [`MemoryStore`]: one definition, the values records carry, and
//! the delete of a definition no record uses.

use async_trait::async_trait;
use crm_core::case::CaseStatus;
use crm_core::custom_field::{FieldDefinition, FieldEntity, FieldKey, FieldUse, in_use};
use crm_core::error::StoreError;
use crm_core::event::DomainEvent;
use crm_core::ids::{FieldDefinitionId, TenantId};
use crm_core::ports::{FieldValueStore, StoreResult};
use uuid::Uuid;

use super::{MemoryStore, State, check_version};

/// Every live record of `entity` in `tenant` with its value of `key`, in id order.
fn uses(state: &State, tenant: TenantId, entity: FieldEntity, key: &FieldKey) -> Vec<FieldUse> {
    let mut found: Vec<FieldUse> = match entity {
        FieldEntity::Customer => state
            .customers
            .values()
            .filter(|c| c.tenant == tenant && !c.is_merged())
            .map(|c| FieldUse { record: c.id.as_uuid(), value: c.custom().get(key).cloned(), complete: true })
            .collect(),
        FieldEntity::Case => state
            .cases
            .values()
            .filter(|c| c.tenant == tenant)
            .map(|c| FieldUse {
                record: c.id.as_uuid(),
                value: c.custom().get(key).cloned(),
                complete: c.status() != CaseStatus::Draft,
            })
            .collect(),
    };
    found.sort_by_key(|u| u.record);
    found
}

#[async_trait]
impl FieldValueStore for MemoryStore {
    async fn field_definition(&self, tenant: TenantId, id: FieldDefinitionId) -> StoreResult<Option<FieldDefinition>> {
        Ok(self.read()?.field_definitions.get(&id).filter(|d| d.tenant == tenant).cloned())
    }

    async fn custom_value_page(
        &self,
        tenant: TenantId,
        entity: FieldEntity,
        key: &FieldKey,
        after: Option<Uuid>,
        limit: usize,
    ) -> StoreResult<Vec<FieldUse>> {
        let state = self.read()?;
        let mut page = uses(&state, tenant, entity, key);
        page.retain(|u| after.is_none_or(|a| u.record > a));
        page.truncate(limit);
        Ok(page)
    }

    async fn delete_field_definition(
        &self,
        tenant: TenantId,
        id: FieldDefinitionId,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let mut state = self.write()?;
        let definition = state
            .field_definitions
            .get(&id)
            .filter(|d| d.tenant == tenant)
            .cloned()
            .ok_or_else(|| StoreError::not_found("custom_field", id))?;
        check_version("custom_field", id, definition.version, expected_version)?;
        let carrying =
            uses(&state, tenant, definition.entity, &definition.key).iter().filter(|u| u.value.is_some()).count();
        if carrying > 0 {
            return Err(in_use(&definition, carrying as u64));
        }
        let rows = state.stage_events(events)?;
        state.field_definitions.remove(&id);
        state.commit_events(rows);
        Ok(())
    }
}
