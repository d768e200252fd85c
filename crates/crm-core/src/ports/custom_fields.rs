//! [`FieldValueStore`]: what changing or deleting a custom field definition needs from the
//! store (CUS-2): one definition by id, the values records carry, and a delete that checks,
//! in its own transaction, that no record carries a value.

use async_trait::async_trait;
use uuid::Uuid;

use super::store::StoreResult;
use crate::custom_field::{FieldDefinition, FieldEntity, FieldKey, FieldUse};
use crate::event::DomainEvent;
use crate::ids::{FieldDefinitionId, TenantId};

/// The values of custom fields across records.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait FieldValueStore: Send + Sync {
    /// The definition `id` of `tenant`, if it exists there.
    ///
    /// # Errors
    /// Backend failures only.
    async fn field_definition(&self, tenant: TenantId, id: FieldDefinitionId) -> StoreResult<Option<FieldDefinition>>;

    /// Up to `limit` live records of `entity` in `tenant` (customers not merged away, every
    /// case), in id order after `after`, each with its value of `key` (`None` when it has
    /// none) and whether it must be complete (a case in draft need not). Walking the pages
    /// MUST visit every such record exactly once.
    ///
    /// # Errors
    /// Backend failures only.
    async fn custom_value_page(
        &self,
        tenant: TenantId,
        entity: FieldEntity,
        key: &FieldKey,
        after: Option<Uuid>,
        limit: usize,
    ) -> StoreResult<Vec<FieldUse>>;

    /// Deletes version `expected_version` of the definition `id`, and writes `events` in
    /// the same transaction.
    ///
    /// # Errors
    /// `NotFound` when `tenant` has no such definition; `StaleVersion`; a `Conflict::State`
    /// when a record of its entity carries a value for its key, checked in the same
    /// transaction as the delete (a value written concurrently is never orphaned); no
    /// event is written then.
    async fn delete_field_definition(
        &self,
        tenant: TenantId,
        id: FieldDefinitionId,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()>;
}
