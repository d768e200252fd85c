//! Task use cases (TSK-1): create, read, change, delete, and the tasks of a customer or a
//! case.

use super::{Crm, check_version};
use crate::access::{Actor, Permission};
use crate::error::{Error, Result};
use crate::event::EventKind;
use crate::ids::{CaseId, CustomerId, TaskId};
use crate::page::{Page, PageRequest};
use crate::ports::TaskOwner;
use crate::task::{NewTask, Task, TaskPatch};
use crate::time::next_id;

impl Crm {
    /// Creates a task; its reminder instant is computed from the schedule (TSK-2).
    ///
    /// # Errors
    /// Forbidden without `task.edit` (and `case.assign` to give it to someone else); bad
    /// values; a missing customer, case or assignee.
    pub async fn create_task(&self, actor: &Actor, input: NewTask) -> Result<Task> {
        actor.require(Permission::TaskEdit)?;
        if input.assignee.is_some_and(|a| a != actor.agent) {
            actor.require(Permission::CaseAssign)?;
        }
        let customer = self.load_customer(actor, input.customer).await?;
        if customer.is_merged() {
            return Err(Error::invalid("customer", "was merged into another card; use that one"));
        }
        if let Some(case) = input.case {
            let c =
                self.get_case(actor, case).await.map_err(|_| Error::invalid("case", "is not a case you can see"))?;
            if c.customer() != input.customer {
                return Err(Error::invalid("case", "belongs to another customer"));
            }
        }
        if let Some(a) = input.assignee {
            self.ensure_agent(actor, a, "assignee").await?;
        }
        let tenant = self.tenant(actor.tenant).await?;
        let task = input.build(next_id(&*self.ids), actor.tenant, actor.agent, tenant.time_zone, self.clock.now())?;
        let events = [self.event(actor, EventKind::TaskCreated { task: task.id, assignee: task.assignee() })];
        self.store.insert_task(&task, &events).await?;
        Ok(task)
    }

    /// A task.
    ///
    /// # Errors
    /// Forbidden without `customer.read`; `NotFound`.
    pub async fn get_task(&self, actor: &Actor, id: TaskId) -> Result<Task> {
        actor.require(Permission::CustomerRead)?;
        self.store.get_task(actor.tenant, id).await?.ok_or_else(|| Error::not_found("task", id))
    }

    /// Changes a task (reschedule, complete, cancel, reassign).
    ///
    /// # Errors
    /// Forbidden; `NotFound`; bad values; a stale version.
    pub async fn update_task(
        &self,
        actor: &Actor,
        id: TaskId,
        expected_version: u64,
        patch: TaskPatch,
    ) -> Result<Task> {
        actor.require(Permission::TaskEdit)?;
        let mut task = self.get_task(actor, id).await?;
        let expected_version = check_version("task", id, task.version(), expected_version)?;
        if patch.assignee.is_some_and(|a| a != actor.agent) {
            actor.require(Permission::CaseAssign)?;
            if let Some(a) = patch.assignee {
                self.ensure_agent(actor, a, "assignee").await?;
            }
        }
        let tenant = self.tenant(actor.tenant).await?;
        let before = task.clone();
        patch.apply(&mut task, tenant.time_zone, self.clock.now())?;
        if task.version() == expected_version {
            return Ok(task);
        }
        let kind = EventKind::TaskUpdated { task: id, assignee: task.assignee() };
        let events = [self.event_with_changes(actor, kind, Some(&before), Some(&task))];
        self.store.update_task(&task, expected_version, &events).await?;
        Ok(task)
    }

    /// Deletes a task (needs `task.edit`; a task of someone else also `case.assign`).
    ///
    /// # Errors
    /// Forbidden; `NotFound`; a stale version.
    pub async fn delete_task(&self, actor: &Actor, id: TaskId, expected_version: u64) -> Result<()> {
        actor.require(Permission::TaskEdit)?;
        let task = self.get_task(actor, id).await?;
        if task.assignee() != actor.agent {
            actor.require(Permission::CaseAssign)?;
        }
        let expected_version = check_version("task", id, task.version(), expected_version)?;
        let events = [self.event(actor, EventKind::TaskDeleted { task: id, assignee: task.assignee() })];
        self.store.delete_task(actor.tenant, id, expected_version, &events).await?;
        Ok(())
    }

    /// A customer's tasks, every status, by scheduled time (TSK-1).
    ///
    /// # Errors
    /// Forbidden without `customer.read`; `NotFound` for an unknown customer; a bad cursor.
    pub async fn tasks_of_customer(
        &self,
        actor: &Actor,
        customer: CustomerId,
        page: &PageRequest,
    ) -> Result<Page<Task>> {
        actor.require(Permission::CustomerRead)?;
        self.load_customer(actor, customer).await?;
        Ok(self.store.tasks_of(actor.tenant, TaskOwner::Customer(customer), page).await?)
    }

    /// A case's tasks, every status, by scheduled time (TSK-1).
    ///
    /// # Errors
    /// As [`Crm::get_case`]; a bad cursor.
    pub async fn tasks_of_case(&self, actor: &Actor, case: CaseId, page: &PageRequest) -> Result<Page<Task>> {
        self.get_case(actor, case).await?;
        Ok(self.store.tasks_of(actor.tenant, TaskOwner::Case(case), page).await?)
    }
}
