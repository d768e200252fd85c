//! `TaskStore`: tasks, agendas and the exactly-once reminder claim (`FOR UPDATE SKIP LOCKED`
//! on PostgreSQL; the single `BEGIN IMMEDIATE` writer on SQLite).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, Value};

use crm_core::error::StoreError;
use crm_core::event::DomainEvent;
use crm_core::ids::{AgentId, CustomerId, EventId, TaskId, TenantId};
use crm_core::page::{Page, PageRequest};
use crm_core::ports::{StoreResult, TaskOwner, TaskStore};
use crm_core::task::{Task, TaskStatus, reminder_event};

use super::paging::oldest_first;
use super::{exists, require, stale_or_missing, write_events};
use crate::connect::{SqlStore, finish};
use crate::error::{db, map_db, with_value};
use crate::sql::{all, exec, from_doc, int, limit, marks, one, text, to_doc, ts, ts_opt, uid};

fn status(s: TaskStatus) -> &'static str {
    match s {
        TaskStatus::Planned => "planned",
        TaskStatus::Done => "done",
        TaskStatus::Cancelled => "cancelled",
    }
}

/// The `tasks` table as read for one customer's planned tasks. On SQLite it names the
/// `tasks_planned_by_customer` index: the planner otherwise weighs it against
/// `tasks_planned_by_agent`, whose `tenant_id = ?` the statement also satisfies, and the
/// choice follows SQLite's version and the statistics (SQLite 3.40 picked the agent index
/// on the benchmark's database, then walked the tenant's whole agenda for one customer's
/// tasks; the bundled 3.51 picks the customer index).
pub(crate) fn planned_tasks_of_a_customer(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Sqlite => "tasks INDEXED BY tasks_planned_by_customer",
        _ => "tasks",
    }
}

/// The mutable column values of a task row, in `SET` order.
fn task_set_values(t: &Task) -> StoreResult<Vec<Value>> {
    Ok(vec![
        uid(t.customer()),
        Value::Uuid(t.case().map(|c| c.as_uuid())),
        uid(t.assignee()),
        text(status(t.status())),
        Value::BigInt(Some(ts(t.scheduled_at()))),
        ts_opt(t.reminder_at()),
        ts_opt(t.reminder_sent_at()),
        int(t.version()),
        text(to_doc(t)?),
    ])
}

async fn replace_task<C: ConnectionTrait>(c: &C, task: &Task, expected: u64) -> StoreResult<()> {
    let sql = "UPDATE tasks SET customer_id = ?, case_id = ?, assignee_id = ?, status = ?, scheduled_at = ?, \
               reminder_at = ?, reminder_sent_at = ?, version = ?, doc = ? WHERE id = ? AND tenant_id = ? AND version = ?";
    let mut values = task_set_values(task)?;
    values.extend([uid(task.id), uid(task.tenant), int(expected)]);
    if exec(c, sql, values).await.map_err(|e| map_db(e, "customer"))? == 0 {
        return Err(stale_or_missing(c, "tasks", "task", task.tenant.as_uuid(), task.id.as_uuid(), expected).await);
    }
    Ok(())
}

fn tasks_from_rows(rows: &[sea_orm::QueryResult]) -> StoreResult<Vec<Task>> {
    rows.iter().map(from_doc).collect()
}

impl SqlStore {
    /// One page of `select` (a `SELECT doc FROM tasks WHERE …` without order) by schedule:
    /// the keyset condition after the page's cursor, `scheduled_at, id` order, one row more
    /// than the page to tell whether another follows.
    async fn tasks_by_schedule(&self, sql: String, values: Vec<Value>, page: &PageRequest) -> StoreResult<Page<Task>> {
        oldest_first(&self.read, sql, values, "scheduled_at", page, |t: &Task| (t.scheduled_at(), t.id)).await
    }
}

#[async_trait]
impl TaskStore for SqlStore {
    async fn insert_task(&self, task: &Task, events: &[DomainEvent]) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            let tenant = task.tenant.as_uuid();
            require(&tx, "customers", "customer", tenant, task.customer().as_uuid()).await?;
            if let Some(case) = task.case() {
                require(&tx, "cases", "case", tenant, case.as_uuid()).await?;
            }
            let sql = format!(
                "INSERT INTO tasks (customer_id, case_id, assignee_id, status, scheduled_at, reminder_at, \
                 reminder_sent_at, version, doc, id, tenant_id) VALUES ({})",
                marks(11)
            );
            let mut values = task_set_values(task)?;
            values.extend([uid(task.id), uid(task.tenant)]);
            exec(&tx, &sql, values)
                .await
                .map_err(|e| with_value(map_db(e, "customer"), |_| Some(task.id.to_string())))?;
            write_events(&tx, events).await
        }
        .await;
        finish(tx, result).await
    }

    async fn update_task(&self, task: &Task, expected_version: u64, events: &[DomainEvent]) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            // A task of another tenant is absent; then name a missing reference before the
            // write, since SQLite's foreign-key errors do not say which one failed.
            let tenant = task.tenant.as_uuid();
            if !exists(&tx, "tasks", tenant, task.id.as_uuid()).await? {
                return Err(StoreError::not_found("task", task.id));
            }
            require(&tx, "customers", "customer", tenant, task.customer().as_uuid()).await?;
            if let Some(case) = task.case() {
                require(&tx, "cases", "case", tenant, case.as_uuid()).await?;
            }
            replace_task(&tx, task, expected_version).await?;
            write_events(&tx, events).await
        }
        .await;
        finish(tx, result).await
    }

    async fn get_task(&self, tenant: TenantId, id: TaskId) -> StoreResult<Option<Task>> {
        let row = one(&self.read, "SELECT doc FROM tasks WHERE id = ? AND tenant_id = ?", vec![uid(id), uid(tenant)])
            .await
            .map_err(db)?;
        row.as_ref().map(from_doc).transpose()
    }

    async fn delete_task(
        &self,
        tenant: TenantId,
        id: TaskId,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            let n = exec(
                &tx,
                "DELETE FROM tasks WHERE id = ? AND tenant_id = ? AND version = ?",
                vec![uid(id), uid(tenant), int(expected_version)],
            )
            .await
            .map_err(db)?;
            if n == 0 {
                return Err(
                    stale_or_missing(&tx, "tasks", "task", tenant.as_uuid(), id.as_uuid(), expected_version).await
                );
            }
            write_events(&tx, events).await
        }
        .await;
        finish(tx, result).await
    }

    async fn tasks_of(&self, tenant: TenantId, of: TaskOwner, page: &PageRequest) -> StoreResult<Page<Task>> {
        // `tasks_by_customer_schedule` and `tasks_by_case_schedule` (m0009) give the order.
        let (column, owner) = match of {
            TaskOwner::Customer(c) => ("customer_id", uid(c)),
            TaskOwner::Case(c) => ("case_id", uid(c)),
        };
        let sql = format!("SELECT doc FROM tasks WHERE {column} = ? AND tenant_id = ?");
        self.tasks_by_schedule(sql, vec![owner, uid(tenant)], page).await
    }

    async fn planned_tasks_of_agent(
        &self,
        tenant: TenantId,
        agent: AgentId,
        until: Option<DateTime<Utc>>,
        page: &PageRequest,
    ) -> StoreResult<Page<Task>> {
        let mut sql =
            String::from("SELECT doc FROM tasks WHERE tenant_id = ? AND assignee_id = ? AND status = 'planned'");
        let mut values = vec![uid(tenant), uid(agent)];
        if let Some(until) = until {
            sql.push_str(" AND scheduled_at < ?");
            values.push(Value::BigInt(Some(ts(until))));
        }
        self.tasks_by_schedule(sql, values, page).await
    }

    async fn planned_tasks_of_customer(
        &self,
        tenant: TenantId,
        customer: CustomerId,
        max: u32,
    ) -> StoreResult<Vec<Task>> {
        let sql = format!(
            "SELECT doc FROM {} WHERE customer_id = ? AND status = 'planned' AND tenant_id = ? \
             ORDER BY scheduled_at, id{}",
            planned_tasks_of_a_customer(self.backend),
            limit(max.into())
        );
        let rows = all(&self.read, &sql, vec![uid(customer), uid(tenant)]).await.map_err(db)?;
        tasks_from_rows(&rows)
    }

    async fn claim_due_reminders(&self, now: DateTime<Utc>, event_ids: &[EventId]) -> StoreResult<Vec<Task>> {
        if event_ids.is_empty() {
            return Ok(Vec::new());
        }
        let tx = self.begin().await?;
        let result = async {
            let lock = if self.is_postgres() { " FOR UPDATE SKIP LOCKED" } else { "" };
            let len = u64::try_from(event_ids.len()).unwrap_or(u64::MAX);
            let sql = format!(
                "SELECT id, version, doc FROM tasks WHERE reminder_sent_at IS NULL AND reminder_at IS NOT NULL \
                 AND reminder_at <= ? ORDER BY reminder_at, id{}{lock}",
                limit(len)
            );
            let rows = all(&tx, &sql, vec![Value::BigInt(Some(ts(now)))]).await.map_err(db)?;
            let mut claimed = Vec::with_capacity(rows.len());
            let mut events = Vec::with_capacity(rows.len());
            for (row, event_id) in rows.iter().zip(event_ids) {
                let mut task: Task = from_doc(row)?;
                let expected = task.version();
                task.mark_reminder_sent(now);
                replace_task(&tx, &task, expected).await?;
                events.push(reminder_event(&task, *event_id, now));
                claimed.push(task);
            }
            write_events(&tx, &events).await?;
            Ok(claimed)
        }
        .await;
        finish(tx, result).await
    }
}
