//! Custom field definitions (CUS-2): define, list, change, retire and delete, with every
//! change checked against the values records already carry.

use super::{Crm, check_version};
use crate::access::{Actor, Permission};
use crate::custom_field::{FieldDefinition, FieldDefinitionChange, FieldDefinitionInput, FieldEntity, UsageCheck};
use crate::error::{Error, Result};
use crate::event::EventKind;
use crate::ids::FieldDefinitionId;
use crate::time::next_id;

/// Records read per page when a change is checked against stored values.
const USAGE_PAGE: usize = 1_000;

impl Crm {
    /// Defines a custom field (CUS-2).
    ///
    /// # Errors
    /// Forbidden without `admin.custom_fields`; bad input; a taken key.
    pub async fn define_custom_field(&self, actor: &Actor, input: FieldDefinitionInput) -> Result<FieldDefinition> {
        actor.require(Permission::AdminCustomFields)?;
        let tenant = self.tenant(actor.tenant).await?;
        let def = FieldDefinition::build(next_id(&*self.ids), actor.tenant, input, Some(tenant.default_region))?;
        let kind = EventKind::CustomFieldWritten { custom_field: def.id, version: def.version };
        let event = self.event_with_changes(actor, kind, None, Some(&def));
        self.store.put_field_definition(&def, None, &[event]).await?;
        Ok(def)
    }

    /// The custom field definitions of an entity, by key: the ones a form shows, or with
    /// `include_retired` the retired ones too (they carry `retired`).
    ///
    /// # Errors
    /// Store failures.
    pub async fn custom_fields(
        &self,
        actor: &Actor,
        entity: FieldEntity,
        include_retired: bool,
    ) -> Result<Vec<FieldDefinition>> {
        let mut fields = self.store.field_definitions(actor.tenant, entity).await?;
        fields.retain(|f| include_retired || !f.retired);
        Ok(fields)
    }

    /// One definition.
    ///
    /// # Errors
    /// `NotFound` when the tenant has no such definition.
    pub async fn custom_field(&self, actor: &Actor, id: FieldDefinitionId) -> Result<FieldDefinition> {
        self.store.field_definition(actor.tenant, id).await?.ok_or_else(|| Error::not_found("custom_field", id))
    }

    /// Changes version `expected_version` of a definition: label, help text, choices,
    /// required flag, default, retirement. A change that would make stored records invalid
    /// (a dropped choice they carry, a required value they lack) is refused, naming them.
    ///
    /// # Errors
    /// Forbidden without `admin.custom_fields`; `NotFound`; `StaleVersion`; bad input; the
    /// records the change would break, on `choices` or `required`.
    pub async fn change_custom_field(
        &self,
        actor: &Actor,
        id: FieldDefinitionId,
        expected_version: u64,
        change: FieldDefinitionChange,
    ) -> Result<FieldDefinition> {
        actor.require(Permission::AdminCustomFields)?;
        let current = self.custom_field(actor, id).await?;
        let expected_version = check_version("custom_field", id, current.version, expected_version)?;
        let region = Some(self.tenant(actor.tenant).await?.default_region);
        let next = current.change(change, region)?;
        if current.needs_usage_check(&next) {
            let mut check = UsageCheck::new(&next, region);
            let mut after = None;
            loop {
                let page =
                    self.store.custom_value_page(actor.tenant, next.entity, &next.key, after, USAGE_PAGE).await?;
                page.iter().for_each(|record| check.visit(record));
                match page.last() {
                    Some(last) if page.len() == USAGE_PAGE => after = Some(last.record),
                    _ => break,
                }
            }
            check.finish(next.entity.records())?;
        }
        let kind = if next.retired && !current.retired {
            EventKind::CustomFieldRetired { custom_field: id, version: next.version }
        } else {
            EventKind::CustomFieldWritten { custom_field: id, version: next.version }
        };
        let event = self.event_with_changes(actor, kind, Some(&current), Some(&next));
        self.store.put_field_definition(&next, Some(expected_version), &[event]).await?;
        Ok(next)
    }

    /// Deletes version `expected_version` of a definition no record carries a value for
    /// (retire it to keep the values).
    ///
    /// # Errors
    /// Forbidden without `admin.custom_fields`; `NotFound`; `StaleVersion`; a conflict
    /// counting the records that carry a value.
    pub async fn delete_custom_field(&self, actor: &Actor, id: FieldDefinitionId, expected_version: u64) -> Result<()> {
        actor.require(Permission::AdminCustomFields)?;
        let current = self.custom_field(actor, id).await?;
        let expected_version = check_version("custom_field", id, current.version, expected_version)?;
        let event =
            self.event_with_changes(actor, EventKind::CustomFieldDeleted { custom_field: id }, Some(&current), None);
        self.store.delete_field_definition(actor.tenant, id, expected_version, &[event]).await?;
        Ok(())
    }
}
