//! The port implementations, one module per port, and what they share: writing events to
//! the outbox inside the caller's transaction, and telling a stale version from a missing
//! record after a guarded `UPDATE` touched no row.

mod app_state;
pub(crate) mod attachment;
pub(crate) mod audit;
mod card;
mod case;
mod case_catalogue;
mod connectors;
mod console;
pub(crate) mod contacts;
mod custom_fields;
mod customer;
mod diagnostics;
mod directory;
mod guidance;
pub(crate) mod inbound_mail;
pub(crate) mod interaction;
mod knowledge;
pub(crate) mod mail;
mod mailbox;
mod names;
pub(crate) mod outbound;
mod outbox;
mod paging;
mod responses;
mod roles;
#[cfg(feature = "bench")]
mod seed;
mod sequence;
mod sla;
mod task;
mod webhooks;

use sea_orm::{ConnectionTrait, DbBackend, Value};
use uuid::Uuid;

use crm_core::StoreError;
use crm_core::event::DomainEvent;
use crm_core::ports::StoreResult;

use crate::connect::SqlStore;
use crate::error::{db, map_db};
use crate::sql::{col, exec, one, row_marks, text, to_doc, ts, uid};

/// The statements writing `events` to the outbox (pending, due at their own time or at
/// [`crm_core::event::EventKind::first_attempt_at`]) and the
/// write's pending audit entry (ADM-4, [`audit::audit_statement`]); none when there are no
/// events. Every write with events runs them in its transaction, so every such write is
/// audited with no code of its own.
pub(crate) fn events_statement(events: &[DomainEvent]) -> StoreResult<Vec<(String, Vec<Value>)>> {
    let mut parts: Vec<(String, Vec<Value>)> = outbox_statement(events)?.into_iter().collect();
    parts.extend(audit::audit_statement(events)?);
    Ok(parts)
}

/// The statement writing `events` to the outbox; `None` when there are none.
fn outbox_statement(events: &[DomainEvent]) -> StoreResult<Option<(String, Vec<Value>)>> {
    if events.is_empty() {
        return Ok(None);
    }
    let mut values: Vec<Value> = Vec::with_capacity(events.len() * 8);
    for e in events {
        values.extend([
            uid(e.id),
            uid(e.tenant),
            text(e.kind.topic().as_str()),
            text("pending"),
            Value::BigInt(Some(0)),
            Value::BigInt(Some(ts(e.at))),
            Value::BigInt(Some(ts(e.kind.first_attempt_at(e.at)))),
            text(to_doc(e)?),
        ]);
    }
    let sql = format!(
        "INSERT INTO outbox (id, tenant_id, topic, status, attempts, at, next_attempt_at, doc) VALUES {}",
        row_marks(events.len(), 8)
    );
    Ok(Some((sql, values)))
}

/// Writes `events` to the outbox, and the write's audit entry, in the caller's transaction.
pub(crate) async fn write_events<C: ConnectionTrait>(c: &C, events: &[DomainEvent]) -> StoreResult<()> {
    for (sql, values) in events_statement(events)? {
        exec(c, &sql, values).await.map_err(db)?;
    }
    Ok(())
}

/// Runs several `INSERT`s in the caller's transaction in one round trip: on PostgreSQL as
/// ONE statement (data-modifying CTEs), on SQLite as one execution of several statements
/// (sqlx binds the values across them in order). On SQLite the single write connection is
/// held for the whole transaction, so every round trip saved is time other writers wait
/// less.
pub(crate) async fn insert_together<C: ConnectionTrait>(
    c: &C,
    parts: Vec<(String, Vec<Value>)>,
    fk_field: &str,
) -> StoreResult<()> {
    if parts.is_empty() {
        return Ok(());
    }
    if c.get_database_backend() == DbBackend::Postgres && parts.len() > 1 {
        let last = parts.len() - 1;
        let mut sql = String::from("WITH ");
        let mut values = Vec::new();
        for (i, (part, part_values)) in parts.into_iter().enumerate() {
            if i == last {
                sql.push(' ');
                sql.push_str(&part);
            } else {
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!("w{i} AS ({part})"));
            }
            values.extend(part_values);
        }
        exec(c, &sql, values).await.map_err(|e| map_db(e, fk_field))?;
    } else {
        let mut sql = String::new();
        let mut values = Vec::new();
        for (part, part_values) in parts {
            if !sql.is_empty() {
                sql.push_str("; ");
            }
            sql.push_str(&part);
            values.extend(part_values);
        }
        exec(c, &sql, values).await.map_err(|e| map_db(e, fk_field))?;
    }
    Ok(())
}

/// PostgreSQL only: `parts` (each `INSERT INTO … VALUES …`) as ONE statement that writes
/// its rows only when `condition` (an SQL condition with its values) holds: the first part
/// inserts its rows `WHERE condition` and returns them, the others insert theirs only when
/// the first one wrote. `Ok(false)` when the condition did not hold (nothing written).
/// This folds a reference check into the insert: one round trip instead of two.
pub(crate) async fn insert_together_if<C: ConnectionTrait>(
    c: &C,
    parts: Vec<(String, Vec<Value>)>,
    condition: (&str, Vec<Value>),
    fk_field: &str,
) -> StoreResult<bool> {
    let mut sql = String::from("WITH ");
    let mut values = Vec::new();
    let mut condition = Some(condition);
    for (i, (part, part_values)) in parts.into_iter().enumerate() {
        let (head, rows) = part
            .split_once(" VALUES ")
            .ok_or_else(|| StoreError::Backend(format!("not an INSERT … VALUES statement: {part}").into()))?;
        values.extend(part_values);
        let guard = match condition.take() {
            Some((cond, cond_values)) => {
                values.extend(cond_values);
                format!("{cond} RETURNING 1")
            }
            None => "EXISTS (SELECT 1 FROM w0)".to_owned(),
        };
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!("w{i} AS ({head} SELECT * FROM (VALUES {rows}) AS v WHERE {guard})"));
    }
    sql.push_str(" SELECT COUNT(*) AS written FROM w0");
    let row = one(c, &sql, values).await.map_err(|e| map_db(e, fk_field))?;
    let written: i64 = row.map(|r| col(&r, "written")).transpose()?.unwrap_or(0);
    Ok(written > 0)
}

impl SqlStore {
    /// Runs `parts` (inserts with no decision between them) as ONE transaction in one round
    /// trip. PostgreSQL: one statement of data-modifying CTEs ([`insert_together`]), atomic
    /// by itself, so no `BEGIN` and `COMMIT`. SQLite: through the write queue
    /// ([`crate::writer`]), `BEGIN IMMEDIATE; …; COMMIT` in one execution, together with
    /// the inserts of other callers waiting at the same time.
    pub(crate) async fn insert_atomically(&self, parts: Vec<(String, Vec<Value>)>, fk_field: &str) -> StoreResult<()> {
        match &self.queue {
            Some(queue) if !parts.is_empty() => queue.insert(parts).await.map_err(|e| map_db(e, fk_field)),
            _ => insert_together(&self.write, parts, fk_field).await,
        }
    }
}

/// Writes a tenant's one versioned document in `table` (a rule set: alert rules, mail rules):
/// inserted when `expected_version` is 0 and none is stored yet, else updated only where the
/// stored version is `expected_version`; `StaleVersion` on `entity` otherwise.
pub(crate) async fn put_tenant_document(
    store: &SqlStore,
    table: &str,
    entity: &'static str,
    tenant: crm_core::ids::TenantId,
    version: u64,
    doc: String,
    expected_version: u64,
) -> StoreResult<()> {
    let tx = store.begin().await?;
    let result = async {
        let n = if expected_version == 0 {
            let present = one(&tx, &format!("SELECT 1 AS one FROM {table} WHERE tenant_id = ?"), vec![uid(tenant)])
                .await
                .map_err(db)?
                .is_some();
            if present {
                0
            } else {
                let sql = format!("INSERT INTO {table} (tenant_id, version, doc) VALUES (?, ?, ?)");
                exec(&tx, &sql, vec![uid(tenant), crate::sql::int(version), text(doc)]).await.map_err(db)?
            }
        } else {
            let sql = format!("UPDATE {table} SET version = ?, doc = ? WHERE tenant_id = ? AND version = ?");
            let values = vec![crate::sql::int(version), text(doc), uid(tenant), crate::sql::int(expected_version)];
            exec(&tx, &sql, values).await.map_err(db)?
        };
        if n == 0 {
            return Err(StoreError::stale(entity, tenant, expected_version));
        }
        Ok(())
    }
    .await;
    crate::connect::finish(tx, result).await
}

/// After a version-guarded update or delete of `table` touched nothing: `NotFound` when the
/// row is absent from the tenant, `StaleVersion` otherwise.
pub(crate) async fn stale_or_missing<C: ConnectionTrait>(
    c: &C,
    table: &str,
    entity: &'static str,
    tenant: Uuid,
    id: Uuid,
    expected: u64,
) -> StoreError {
    match exists(c, table, tenant, id).await {
        Ok(true) => StoreError::stale(entity, id, expected),
        Ok(false) => StoreError::not_found(entity, id),
        Err(e) => e,
    }
}

/// Whether `table` holds the row `id` in `tenant`.
pub(crate) async fn exists<C: ConnectionTrait>(c: &C, table: &str, tenant: Uuid, id: Uuid) -> StoreResult<bool> {
    let sql = format!("SELECT 1 AS one FROM {table} WHERE id = ? AND tenant_id = ?");
    Ok(one(c, &sql, vec![uid(id), uid(tenant)]).await.map_err(db)?.is_some())
}

/// `InvalidReference { field }` unless `table` holds `id` in `tenant`.
pub(crate) async fn require<C: ConnectionTrait>(
    c: &C,
    table: &str,
    field: &str,
    tenant: Uuid,
    id: Uuid,
) -> StoreResult<()> {
    if exists(c, table, tenant, id).await? {
        Ok(())
    } else {
        Err(StoreError::InvalidReference { field: field.to_owned(), reason: format!("{id} does not exist") })
    }
}
