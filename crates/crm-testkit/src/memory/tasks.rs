//! [`TaskStore`] for [`MemoryStore`]: tasks, agendas and the exactly-once reminder claim.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_core::error::StoreError;
use crm_core::event::DomainEvent;
use crm_core::ids::{AgentId, CustomerId, EventId, TaskId, TenantId};
use crm_core::page::{Page, PageRequest};
use crm_core::ports::{StoreResult, TaskOwner, TaskPosition, TaskStore};
use crm_core::task::{Task, TaskStatus, reminder_event};

use super::{MemoryStore, check_version, decode_cursor, invalid_reference, limit, paginate};

/// `tasks` (any order) after the cursor of `page`, by schedule, as one page.
fn page_by_schedule(mut tasks: Vec<&Task>, page: &PageRequest) -> StoreResult<Page<Task>> {
    let cursor: Option<TaskPosition> = decode_cursor(page)?;
    tasks.retain(|t| cursor.is_none_or(|c| (t.scheduled_at(), t.id) > c));
    tasks.sort_by_key(|t| (t.scheduled_at(), t.id));
    Ok(paginate(tasks, page, |t: &Task| (t.scheduled_at(), t.id)))
}

#[async_trait]
impl TaskStore for MemoryStore {
    async fn insert_task(&self, task: &Task, events: &[DomainEvent]) -> StoreResult<()> {
        let mut state = self.write()?;
        if !state.customer_exists(task.tenant, task.customer()) {
            return Err(invalid_reference("customer", format_args!("customer {}", task.customer())));
        }
        if let Some(case) = task.case().filter(|c| !state.case_exists(task.tenant, *c)) {
            return Err(invalid_reference("case", format_args!("case {case}")));
        }
        if state.tasks.contains_key(&task.id) {
            return Err(StoreError::duplicate("id", task.id.to_string()));
        }
        let rows = state.stage_events(events)?;
        state.tasks.insert(task.id, task.clone());
        state.commit_events(rows);
        Ok(())
    }

    async fn update_task(&self, task: &Task, expected_version: u64, events: &[DomainEvent]) -> StoreResult<()> {
        let mut state = self.write()?;
        let stored = state
            .tasks
            .get(&task.id)
            .filter(|t| t.tenant == task.tenant)
            .ok_or_else(|| StoreError::not_found("task", task.id))?;
        check_version("task", task.id, stored.version(), expected_version)?;
        if !state.customer_exists(task.tenant, task.customer()) {
            return Err(invalid_reference("customer", format_args!("customer {}", task.customer())));
        }
        if let Some(case) = task.case().filter(|c| !state.case_exists(task.tenant, *c)) {
            return Err(invalid_reference("case", format_args!("case {case}")));
        }
        let rows = state.stage_events(events)?;
        state.tasks.insert(task.id, task.clone());
        state.commit_events(rows);
        Ok(())
    }

    async fn get_task(&self, tenant: TenantId, id: TaskId) -> StoreResult<Option<Task>> {
        let state = self.read()?;
        Ok(state.tasks.get(&id).filter(|t| t.tenant == tenant).cloned())
    }

    async fn delete_task(
        &self,
        tenant: TenantId,
        id: TaskId,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let mut state = self.write()?;
        let stored =
            state.tasks.get(&id).filter(|t| t.tenant == tenant).ok_or_else(|| StoreError::not_found("task", id))?;
        check_version("task", id, stored.version(), expected_version)?;
        let rows = state.stage_events(events)?;
        state.tasks.remove(&id);
        state.commit_events(rows);
        Ok(())
    }

    async fn tasks_of(&self, tenant: TenantId, of: TaskOwner, page: &PageRequest) -> StoreResult<Page<Task>> {
        let state = self.read()?;
        let found: Vec<&Task> = state
            .tasks
            .values()
            .filter(|t| t.tenant == tenant)
            .filter(|t| match of {
                TaskOwner::Customer(c) => t.customer() == c,
                TaskOwner::Case(c) => t.case() == Some(c),
            })
            .collect();
        page_by_schedule(found, page)
    }

    async fn planned_tasks_of_agent(
        &self,
        tenant: TenantId,
        agent: AgentId,
        until: Option<DateTime<Utc>>,
        page: &PageRequest,
    ) -> StoreResult<Page<Task>> {
        let state = self.read()?;
        let found: Vec<&Task> = state
            .tasks
            .values()
            .filter(|t| t.tenant == tenant && t.assignee() == agent && t.status() == TaskStatus::Planned)
            .filter(|t| until.is_none_or(|u| t.scheduled_at() < u))
            .collect();
        page_by_schedule(found, page)
    }

    async fn planned_tasks_of_customer(
        &self,
        tenant: TenantId,
        customer: CustomerId,
        limit_: u32,
    ) -> StoreResult<Vec<Task>> {
        let state = self.read()?;
        let mut found: Vec<&Task> = state
            .tasks
            .values()
            .filter(|t| t.tenant == tenant && t.customer() == customer && t.status() == TaskStatus::Planned)
            .collect();
        found.sort_by_key(|t| (t.scheduled_at(), t.id));
        Ok(found.into_iter().take(limit(limit_)).cloned().collect())
    }

    async fn claim_due_reminders(&self, now: DateTime<Utc>, event_ids: &[EventId]) -> StoreResult<Vec<Task>> {
        let mut state = self.write()?;
        let mut due: Vec<(DateTime<Utc>, TaskId)> = state
            .tasks
            .values()
            .filter(|t| t.reminder_due(now))
            .filter_map(|t| t.reminder_at().map(|at| (at, t.id)))
            .collect();
        due.sort();
        due.truncate(event_ids.len());
        let mut claimed = Vec::with_capacity(due.len());
        let mut events = Vec::with_capacity(due.len());
        for ((_, id), event_id) in due.iter().zip(event_ids) {
            if let Some(task) = state.tasks.get(id) {
                let mut task = task.clone();
                task.mark_reminder_sent(now);
                events.push(reminder_event(&task, *event_id, now));
                claimed.push(task);
            }
        }
        let rows = state.stage_events(&events)?;
        for task in &claimed {
            state.tasks.insert(task.id, task.clone());
        }
        state.commit_events(rows);
        Ok(claimed)
    }
}
