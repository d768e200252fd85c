//! `DirectoryStore`: tenants, agents, groups, custom field definitions, dispositions and
//! queue settings.

use async_trait::async_trait;
use sea_orm::{ConnectionTrait, Value};
use uuid::Uuid;

use crm_core::StoreError;
use crm_core::access::{Agent, Group, Tenant};
use crm_core::custom_field::{FieldDefinition, FieldEntity};
use crm_core::customer::Customer;
use crm_core::event::DomainEvent;
use crm_core::ids::{AgentId, CustomerId, GroupId, TenantId};
use crm_core::interaction::{Disposition, QueueSettings};
use crm_core::ports::{ContextStore, DirectoryStore, StoreResult};

use super::write_events;
use crate::connect::{SqlStore, finish};
use crate::error::{db, with_value};
use crate::sql::{all, col, exec, from_doc, int, one, text, to_doc, uid};

/// Checks an insert-or-replace against the stored row: `expected` `None` inserts (the id
/// must be free), `Some(v)` replaces version `v` of a row of the same tenant.
pub(super) async fn check_put<C: ConnectionTrait>(
    c: &C,
    table: &str,
    entity: &'static str,
    id: Uuid,
    tenant: Uuid,
    expected: Option<u64>,
) -> StoreResult<()> {
    let row =
        one(c, &format!("SELECT tenant_id, version FROM {table} WHERE id = ?"), vec![uid(id)]).await.map_err(db)?;
    let stored = match row {
        Some(r) => Some((col::<Uuid>(&r, "tenant_id")?, col::<i64>(&r, "version")?)),
        None => None,
    };
    match (expected, stored) {
        (None, Some(_)) => Err(StoreError::duplicate("id", id.to_string())),
        (None, None) => Ok(()),
        (Some(_), None) => Err(StoreError::not_found(entity, id)),
        (Some(_), Some((t, _))) if t != tenant => Err(StoreError::not_found(entity, id)),
        (Some(expected), Some((_, version))) if u64::try_from(version).ok() != Some(expected) => {
            Err(StoreError::stale(entity, id, expected))
        }
        (Some(_), Some(_)) => Ok(()),
    }
}

/// One directory row to insert or replace.
pub(super) struct DirectoryRow<'a> {
    pub(super) table: &'static str,
    pub(super) entity: &'static str,
    pub(super) id: Uuid,
    pub(super) tenant: Uuid,
    pub(super) columns: &'a [&'a str],
    pub(super) values: Vec<Value>,
}

/// Inserts or replaces one directory row inside a write transaction, with `events` (and
/// the write's audit entry).
pub(super) async fn put_row(
    store: &SqlStore,
    row: DirectoryRow<'_>,
    expected: Option<u64>,
    value_of: impl Fn(&str) -> Option<String> + Send,
    events: &[DomainEvent],
) -> StoreResult<()> {
    let tx = store.begin().await?;
    let result = async {
        put_row_in(&tx, row, expected, value_of).await?;
        write_events(&tx, events).await
    }
    .await;
    finish(tx, result).await
}

/// Inserts or replaces one directory row in the caller's transaction.
async fn put_row_in<C: ConnectionTrait>(
    c: &C,
    row: DirectoryRow<'_>,
    expected: Option<u64>,
    value_of: impl Fn(&str) -> Option<String> + Send,
) -> StoreResult<()> {
    let DirectoryRow { table, entity, id, tenant, columns, values } = row;
    check_put(c, table, entity, id, tenant, expected).await?;
    let sql = if expected.is_none() {
        let names = columns.join(", ");
        format!("INSERT INTO {table} (id, tenant_id, {names}) VALUES (?, ?, {})", crate::sql::marks(columns.len()))
    } else {
        let sets: Vec<String> = columns.iter().map(|c| format!("{c} = ?")).collect();
        format!("UPDATE {table} SET {} WHERE id = ? AND tenant_id = ?", sets.join(", "))
    };
    let values = if expected.is_none() {
        let mut v = vec![uid(id), uid(tenant)];
        v.extend(values);
        v
    } else {
        let mut v = values;
        v.extend([uid(id), uid(tenant)]);
        v
    };
    exec(c, &sql, values).await.map_err(|e| with_value(db(e), &value_of))?;
    Ok(())
}

/// Checks in the write's transaction that `role` is a role of `tenant`, holding it (on
/// PostgreSQL, `FOR SHARE`) until the transaction ends: a delete of the role waits for the
/// agent's write and then sees its holder, or wins first and the agent's write is refused.
async fn check_role_held<C: ConnectionTrait>(
    store: &SqlStore,
    c: &C,
    tenant: TenantId,
    role: crm_core::ids::RoleId,
) -> StoreResult<()> {
    let lock = if store.backend == sea_orm::DbBackend::Postgres { " FOR SHARE" } else { "" };
    let sql = format!("SELECT 1 AS found FROM tenant_roles WHERE id = ? AND tenant_id = ?{lock}");
    if one(c, &sql, vec![uid(role), uid(tenant)]).await.map_err(db)?.is_none() {
        return Err(StoreError::InvalidReference {
            field: "custom_role".into(),
            reason: format!("no role {role} in the tenant (deleted meanwhile?)"),
        });
    }
    Ok(())
}

/// Inserts or replaces an agent's row in the caller's transaction.
async fn put_agent_row<C: ConnectionTrait>(c: &C, agent: &Agent, expected_version: Option<u64>) -> StoreResult<()> {
    put_row_in(
        c,
        DirectoryRow {
            table: "agents",
            entity: "agent",
            id: agent.id.as_uuid(),
            tenant: agent.tenant.as_uuid(),
            columns: &["email_key", "name", "version", "doc"],
            values: vec![text(agent.email.key()), text(agent.name.as_str()), int(agent.version), text(to_doc(agent)?)],
        },
        expected_version,
        |field| match field {
            "email" => Some(agent.email.to_string()),
            "id" => Some(agent.id.to_string()),
            _ => None,
        },
    )
    .await
}

#[async_trait]
impl DirectoryStore for SqlStore {
    async fn insert_tenant(&self, tenant: &Tenant) -> StoreResult<()> {
        exec(
            &self.write,
            "INSERT INTO tenants (id, doc, slug) VALUES (?, ?, ?)",
            vec![uid(tenant.id), text(to_doc(tenant)?), Value::String(tenant.slug.clone())],
        )
        .await
        .map_err(|e| {
            with_value(db(e), |field| match field {
                "slug" => tenant.slug.clone(),
                _ => Some(tenant.id.to_string()),
            })
        })?;
        Ok(())
    }

    async fn get_tenant(&self, id: TenantId) -> StoreResult<Option<Tenant>> {
        let row = one(&self.read, "SELECT doc FROM tenants WHERE id = ?", vec![uid(id)]).await.map_err(db)?;
        row.as_ref().map(from_doc).transpose()
    }

    async fn list_tenants(&self) -> StoreResult<Vec<Tenant>> {
        let rows = all(&self.read, "SELECT doc FROM tenants", vec![]).await.map_err(db)?;
        let mut found = rows.iter().map(from_doc).collect::<StoreResult<Vec<Tenant>>>()?;
        // The name lives in the document: ordered here.
        found.sort_by(|a, b| (&a.name, a.id).cmp(&(&b.name, b.id)));
        Ok(found)
    }

    async fn update_tenant(&self, tenant: &Tenant, events: &[DomainEvent]) -> StoreResult<()> {
        let sql = "UPDATE tenants SET doc = ?, slug = ? WHERE id = ?";
        let values = vec![text(to_doc(tenant)?), Value::String(tenant.slug.clone()), uid(tenant.id)];
        let tx = self.begin().await?;
        let result = async {
            let n = exec(&tx, sql, values).await.map_err(|e| with_value(db(e), |_| tenant.slug.clone()))?;
            if n == 0 {
                return Err(StoreError::not_found("tenant", tenant.id));
            }
            write_events(&tx, events).await
        }
        .await;
        finish(tx, result).await
    }

    async fn tenant_by_slug(&self, slug: &str) -> StoreResult<Option<Tenant>> {
        let row = one(&self.read, "SELECT doc FROM tenants WHERE slug = ?", vec![text(slug)]).await.map_err(db)?;
        row.as_ref().map(from_doc).transpose()
    }

    async fn put_agent(&self, agent: &Agent, expected_version: Option<u64>, events: &[DomainEvent]) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            if let Some(role) = agent.custom_role {
                check_role_held(self, &tx, agent.tenant, role).await?;
            }
            put_agent_row(&tx, agent, expected_version).await?;
            write_events(&tx, events).await
        }
        .await;
        finish(tx, result).await
    }

    async fn get_agent(&self, tenant: TenantId, id: AgentId) -> StoreResult<Option<Agent>> {
        let row = one(&self.read, "SELECT doc FROM agents WHERE id = ? AND tenant_id = ?", vec![uid(id), uid(tenant)])
            .await
            .map_err(db)?;
        row.as_ref().map(from_doc).transpose()
    }

    async fn list_agents(&self, tenant: TenantId) -> StoreResult<Vec<Agent>> {
        let rows = all(&self.read, "SELECT doc FROM agents WHERE tenant_id = ? ORDER BY name, id", vec![uid(tenant)])
            .await
            .map_err(db)?;
        rows.iter().map(from_doc).collect()
    }

    async fn put_group(&self, group: &Group, expected_version: Option<u64>, events: &[DomainEvent]) -> StoreResult<()> {
        put_row(
            self,
            DirectoryRow {
                table: "agent_groups",
                entity: "group",
                id: group.id.as_uuid(),
                tenant: group.tenant.as_uuid(),
                columns: &["name", "version", "doc"],
                values: vec![text(group.name.as_str()), int(group.version), text(to_doc(group)?)],
            },
            expected_version,
            |field| match field {
                "name" => Some(group.name.clone()),
                "id" => Some(group.id.to_string()),
                _ => None,
            },
            events,
        )
        .await
    }

    async fn list_groups(&self, tenant: TenantId) -> StoreResult<Vec<Group>> {
        let rows =
            all(&self.read, "SELECT doc FROM agent_groups WHERE tenant_id = ? ORDER BY name, id", vec![uid(tenant)])
                .await
                .map_err(db)?;
        rows.iter().map(from_doc).collect()
    }

    async fn get_group(&self, tenant: TenantId, id: GroupId) -> StoreResult<Option<Group>> {
        let sql = "SELECT doc FROM agent_groups WHERE id = ? AND tenant_id = ?";
        let row = one(&self.read, sql, vec![uid(id), uid(tenant)]).await.map_err(db)?;
        row.as_ref().map(from_doc).transpose()
    }

    async fn delete_group(
        &self,
        tenant: TenantId,
        id: GroupId,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            check_put(&tx, "agent_groups", "group", id.as_uuid(), tenant.as_uuid(), Some(expected_version)).await?;
            // Members are listed in the agents' documents (as the group's id, a string no
            // other value can contain); cases carry the group in a column.
            let uses = "SELECT \
                (SELECT COUNT(*) FROM agents WHERE tenant_id = ? AND doc LIKE ?) AS members, \
                (SELECT COUNT(*) FROM cases WHERE tenant_id = ? AND group_id = ?) AS cases";
            let values = vec![uid(tenant), text(format!("%\"{id}\"%")), uid(tenant), uid(id)];
            let row = one(&tx, uses, values).await.map_err(db)?;
            let count = |name: &str| -> StoreResult<u64> {
                let n = row.as_ref().map(|r| col::<i64>(r, name)).transpose()?.unwrap_or(0);
                Ok(u64::try_from(n).unwrap_or(0))
            };
            if let Some(reason) = crm_core::access::group_in_use(count("members")?, count("cases")?) {
                return Err(StoreError::Conflict(crm_core::error::Conflict::State(reason)));
            }
            exec(&tx, "DELETE FROM agent_groups WHERE id = ? AND tenant_id = ?", vec![uid(id), uid(tenant)])
                .await
                .map_err(db)?;
            write_events(&tx, events).await
        }
        .await;
        finish(tx, result).await
    }

    async fn put_field_definition(
        &self,
        definition: &FieldDefinition,
        expected_version: Option<u64>,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        put_row(
            self,
            DirectoryRow {
                table: "field_definitions",
                entity: "field_definition",
                id: definition.id.as_uuid(),
                tenant: definition.tenant.as_uuid(),
                columns: &["entity", "key", "version", "doc"],
                values: vec![
                    text(definition.entity.as_str()),
                    text(definition.key.as_str()),
                    int(definition.version),
                    text(to_doc(definition)?),
                ],
            },
            expected_version,
            |field| match field {
                "key" => Some(definition.key.to_string()),
                "id" => Some(definition.id.to_string()),
                _ => None,
            },
            events,
        )
        .await
    }

    async fn field_definitions(&self, tenant: TenantId, entity: FieldEntity) -> StoreResult<Vec<FieldDefinition>> {
        let rows = all(
            &self.read,
            "SELECT doc FROM field_definitions WHERE tenant_id = ? AND entity = ? ORDER BY key",
            vec![uid(tenant), text(entity.as_str())],
        )
        .await
        .map_err(db)?;
        rows.iter().map(from_doc).collect()
    }

    async fn put_disposition(&self, disposition: &Disposition, events: &[DomainEvent]) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            exec(
                &tx,
                "INSERT INTO dispositions (tenant_id, code, group_name, doc) VALUES (?, ?, ?, ?) \
             ON CONFLICT (tenant_id, code) DO UPDATE SET group_name = excluded.group_name, doc = excluded.doc",
                vec![
                    uid(disposition.tenant),
                    text(disposition.code.as_str()),
                    Value::String(disposition.group.clone()),
                    text(to_doc(disposition)?),
                ],
            )
            .await
            .map_err(db)?;
            write_events(&tx, events).await
        }
        .await;
        finish(tx, result).await
    }

    async fn dispositions(&self, tenant: TenantId) -> StoreResult<Vec<Disposition>> {
        // Ungrouped codes first (as `None` sorts before any group), then by group and code.
        let rows = all(
            &self.read,
            "SELECT doc FROM dispositions WHERE tenant_id = ? ORDER BY (group_name IS NOT NULL), group_name, code",
            vec![uid(tenant)],
        )
        .await
        .map_err(db)?;
        rows.iter().map(from_doc).collect()
    }

    async fn put_queue(&self, queue: &QueueSettings, events: &[DomainEvent]) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            exec(
                &tx,
                "INSERT INTO queues (tenant_id, name, doc) VALUES (?, ?, ?) \
                 ON CONFLICT (tenant_id, name) DO UPDATE SET doc = excluded.doc",
                vec![uid(queue.tenant), text(queue.name.as_str()), text(to_doc(queue)?)],
            )
            .await
            .map_err(db)?;
            write_events(&tx, events).await
        }
        .await;
        finish(tx, result).await
    }

    async fn get_queue(&self, tenant: TenantId, name: &str) -> StoreResult<Option<QueueSettings>> {
        let row =
            one(&self.read, "SELECT doc FROM queues WHERE tenant_id = ? AND name = ?", vec![uid(tenant), text(name)])
                .await
                .map_err(db)?;
        row.as_ref().map(from_doc).transpose()
    }

    async fn list_queues(&self, tenant: TenantId) -> StoreResult<Vec<QueueSettings>> {
        let rows = all(&self.read, "SELECT doc FROM queues WHERE tenant_id = ? ORDER BY name", vec![uid(tenant)])
            .await
            .map_err(db)?;
        rows.iter().map(from_doc).collect()
    }
}

/// The customer and the definitions as ONE statement (`part` 0: the customer, 1: the
/// definitions, put back in key order after reading: a `UNION ALL` promises no order).
#[async_trait]
impl ContextStore for SqlStore {
    async fn customer_with_definitions(
        &self,
        tenant: TenantId,
        customer: CustomerId,
        entity: FieldEntity,
    ) -> StoreResult<(Option<Customer>, Vec<FieldDefinition>)> {
        let rows = all(
            &self.read,
            "SELECT CAST(0 AS BIGINT) AS part, doc FROM customers WHERE id = ? AND tenant_id = ? \
             UNION ALL SELECT 1, doc FROM field_definitions WHERE tenant_id = ? AND entity = ?",
            vec![uid(customer), uid(tenant), uid(tenant), text(entity.as_str())],
        )
        .await
        .map_err(db)?;
        let mut found = None;
        let mut definitions = Vec::new();
        for row in &rows {
            match col::<i64>(row, "part")? {
                0 => found = Some(from_doc::<Customer>(row)?),
                _ => definitions.push(from_doc::<FieldDefinition>(row)?),
            }
        }
        definitions.sort_by(|a, b| a.key.cmp(&b.key));
        Ok((found, definitions))
    }
}
