//! The way a store rebuilds a task: [`TaskRecord`], plain data, and [`Task::restore`].

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::{Task, TaskKind, TaskStatus};
use crate::ids::{AgentId, CaseId, CustomerId, TaskId, TenantId};

/// A task as a store keeps it: every field public, no rule checked. The way back in is
/// [`Task::restore`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskRecord {
    /// Its id.
    pub id: TaskId,
    /// Its tenant.
    pub tenant: TenantId,
    /// Kind.
    pub kind: TaskKind,
    /// Subject.
    pub subject: String,
    /// Notes.
    pub notes: String,
    /// The customer.
    pub customer: CustomerId,
    /// The case, optionally.
    pub case: Option<CaseId>,
    /// Who must do it.
    pub assignee: AgentId,
    /// When, as an instant.
    pub scheduled_at: DateTime<Utc>,
    /// The zone it was scheduled in (for display and agendas).
    pub time_zone: Tz,
    /// Expected duration in minutes.
    pub duration_minutes: u32,
    /// Status.
    pub status: TaskStatus,
    /// Minutes before `scheduled_at` the reminder fires; `None` for no reminder.
    pub reminder_minutes: Option<u32>,
    /// When the reminder fires (derived: `scheduled_at - reminder_minutes`, only while
    /// planned).
    pub reminder_at: Option<DateTime<Utc>>,
    /// When the reminder was delivered; set once (TSK-2).
    pub reminder_sent_at: Option<DateTime<Utc>>,
    /// Who created it.
    pub created_by: AgentId,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// Optimistic-concurrency version.
    pub version: u64,
}

impl From<TaskRecord> for Task {
    fn from(r: TaskRecord) -> Self {
        Task::restore(r)
    }
}

impl From<Task> for TaskRecord {
    fn from(t: Task) -> Self {
        t.into_record()
    }
}

impl Task {
    /// Rebuilds a task from storage. For stores (and tests that need a task in a given
    /// state): it trusts its input and checks no rule.
    pub fn restore(r: TaskRecord) -> Self {
        Self {
            id: r.id,
            tenant: r.tenant,
            kind: r.kind,
            subject: r.subject,
            notes: r.notes,
            customer: r.customer,
            case: r.case,
            assignee: r.assignee,
            scheduled_at: r.scheduled_at,
            time_zone: r.time_zone,
            duration_minutes: r.duration_minutes,
            status: r.status,
            reminder_minutes: r.reminder_minutes,
            reminder_at: r.reminder_at,
            reminder_sent_at: r.reminder_sent_at,
            created_by: r.created_by,
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        }
    }

    /// The task as plain data.
    pub fn into_record(self) -> TaskRecord {
        TaskRecord {
            id: self.id,
            tenant: self.tenant,
            kind: self.kind,
            subject: self.subject,
            notes: self.notes,
            customer: self.customer,
            case: self.case,
            assignee: self.assignee,
            scheduled_at: self.scheduled_at,
            time_zone: self.time_zone,
            duration_minutes: self.duration_minutes,
            status: self.status,
            reminder_minutes: self.reminder_minutes,
            reminder_at: self.reminder_at,
            reminder_sent_at: self.reminder_sent_at,
            created_by: self.created_by,
            created_at: self.created_at,
            updated_at: self.updated_at,
            version: self.version,
        }
    }
}
