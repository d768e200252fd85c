//! `FieldValueStore`: one custom field definition, the values records carry (read from
//! their `doc`), and the delete of a definition no record uses.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::Deserialize;
use uuid::Uuid;

use crm_core::StoreError;
use crm_core::custom_field::{FieldDefinition, FieldEntity, FieldKey, FieldUse, FieldValue, in_use};
use crm_core::event::DomainEvent;
use crm_core::ids::{FieldDefinitionId, TenantId};
use crm_core::ports::{FieldValueStore, StoreResult};

use crate::connect::{SqlStore, finish};
use crate::error::db;
use crate::sql::{all, col, exec, from_doc, int, limit, one, parse_doc, text, uid};

/// The custom values of a customer or case `doc` (the rest is skipped).
#[derive(Deserialize)]
struct CustomOf {
    #[serde(default)]
    custom: BTreeMap<String, FieldValue>,
}

/// Counts the live records of a definition's entity carrying a value for its key. Customers
/// through their `customer_custom_values` rows; cases through their `doc` (JSON functions of
/// each backend; the key is `[a-z0-9_]` only, so it is safe in a JSON path).
async fn carrying<C: sea_orm::ConnectionTrait>(c: &C, definition: &FieldDefinition) -> StoreResult<u64> {
    let tenant = uid(definition.tenant);
    let key = definition.key.as_str();
    let row = match definition.entity {
        FieldEntity::Customer => {
            one(
                c,
                "SELECT COUNT(*) AS n FROM customer_custom_values v JOIN customers c ON c.id = v.customer_id \
                 WHERE v.tenant_id = ? AND v.key = ? AND c.status = 'active'",
                vec![tenant, text(key)],
            )
            .await
        }
        FieldEntity::Case if c.get_database_backend() == sea_orm::DbBackend::Postgres => {
            one(
                c,
                "SELECT COUNT(*) AS n FROM cases WHERE tenant_id = ? AND jsonb_exists(doc::jsonb -> 'custom', ?)",
                vec![tenant, text(key)],
            )
            .await
        }
        FieldEntity::Case => {
            one(
                c,
                "SELECT COUNT(*) AS n FROM cases WHERE tenant_id = ? AND json_extract(doc, ?) IS NOT NULL",
                vec![tenant, text(format!("$.custom.{key}"))],
            )
            .await
        }
    }
    .map_err(db)?;
    let n: i64 = row.map(|r| col(&r, "n")).transpose()?.unwrap_or(0);
    Ok(u64::try_from(n).unwrap_or(0))
}

#[async_trait]
impl FieldValueStore for SqlStore {
    async fn field_definition(&self, tenant: TenantId, id: FieldDefinitionId) -> StoreResult<Option<FieldDefinition>> {
        let row = one(
            &self.read,
            "SELECT doc FROM field_definitions WHERE id = ? AND tenant_id = ?",
            vec![uid(id), uid(tenant)],
        )
        .await
        .map_err(db)?;
        row.as_ref().map(from_doc).transpose()
    }

    async fn custom_value_page(
        &self,
        tenant: TenantId,
        entity: FieldEntity,
        key: &FieldKey,
        after: Option<Uuid>,
        limit_to: usize,
    ) -> StoreResult<Vec<FieldUse>> {
        let (table, complete, live) = match entity {
            FieldEntity::Customer => ("customers", "1", " AND status = 'active'"),
            FieldEntity::Case => ("cases", "CASE WHEN status = 'draft' THEN 0 ELSE 1 END", ""),
        };
        let mut values = vec![uid(tenant)];
        let after_sql = after.map_or("", |a| {
            values.push(uid(a));
            " AND id > ?"
        });
        let sql = format!(
            "SELECT id, {complete} AS complete, doc FROM {table} WHERE tenant_id = ?{live}{after_sql} ORDER BY id{}",
            limit(limit_to as u64)
        );
        let rows = all(&self.read, &sql, values).await.map_err(db)?;
        rows.iter()
            .map(|r| {
                let doc: String = col(r, "doc")?;
                let mut custom = parse_doc::<CustomOf>(&doc)?.custom;
                let complete: i32 = col(r, "complete")?;
                Ok(FieldUse { record: col(r, "id")?, value: custom.remove(key.as_str()), complete: complete == 1 })
            })
            .collect()
    }

    async fn delete_field_definition(
        &self,
        tenant: TenantId,
        id: FieldDefinitionId,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            let row = one(
                &tx,
                "SELECT doc FROM field_definitions WHERE id = ? AND tenant_id = ?",
                vec![uid(id), uid(tenant)],
            )
            .await
            .map_err(db)?;
            let definition: FieldDefinition =
                row.as_ref().map(from_doc).transpose()?.ok_or_else(|| StoreError::not_found("custom_field", id))?;
            if definition.version != expected_version {
                return Err(StoreError::stale("custom_field", id, expected_version));
            }
            let n = carrying(&tx, &definition).await?;
            if n > 0 {
                return Err(in_use(&definition, n));
            }
            exec(
                &tx,
                "DELETE FROM field_definitions WHERE id = ? AND version = ?",
                vec![uid(id), int(expected_version)],
            )
            .await
            .map_err(db)?;
            super::write_events(&tx, events).await
        }
        .await;
        finish(tx, result).await
    }
}
