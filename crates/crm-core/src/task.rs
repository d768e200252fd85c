//! Tasks with reminders (TSK-1…TSK-3). A task is scheduled at a wall-clock time in a time
//! zone; the domain turns it into an instant (refusing times a daylight-saving change
//! skips, taking the earlier of two for times it repeats) and computes the reminder
//! instant, `offset` before it.

use chrono::{DateTime, Duration, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::error::{FieldError, ValidationErrors, Validator};
use crate::ids::{AgentId, CaseId, CustomerId, TaskId, TenantId};
use crate::text::{bounded_text, required_text};

mod record;
mod snooze;

pub use record::TaskRecord;
pub use snooze::MAX_SNOOZE_MINUTES;

/// The longest reminder offset: one week.
pub const MAX_REMINDER_MINUTES: u32 = 7 * 24 * 60;

/// What kind of work a task is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// Call the customer.
    Call,
    /// Write to the customer.
    Email,
    /// Meet.
    Meeting,
    /// Chat.
    Chat,
    /// Anything else.
    Other,
}

/// A task's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// To do.
    Planned,
    /// Done.
    Done,
    /// Cancelled.
    Cancelled,
}

/// A task.
///
/// The facts fixed at creation (id, tenant, kind, creator, creation time) are public;
/// everything else is private and changes only through [`TaskPatch::apply`] and the
/// methods below, which keep the reminder derived from the schedule and bump the version
/// once per change. Stores rebuild it with [`Task::restore`] (serde does too).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(from = "TaskRecord")]
pub struct Task {
    /// Its id.
    pub id: TaskId,
    /// Its tenant.
    pub tenant: TenantId,
    /// Kind.
    pub kind: TaskKind,
    /// Subject.
    subject: String,
    /// Notes.
    notes: String,
    /// The customer.
    customer: CustomerId,
    /// The case, optionally.
    case: Option<CaseId>,
    /// Who must do it.
    assignee: AgentId,
    /// When, as an instant.
    scheduled_at: DateTime<Utc>,
    /// The zone it was scheduled in (for display and agendas).
    #[cfg_attr(feature = "openapi", schema(value_type = String, examples("Europe/Paris")))]
    time_zone: Tz,
    /// Expected duration in minutes.
    duration_minutes: u32,
    /// Status.
    status: TaskStatus,
    /// Minutes before `scheduled_at` the reminder fires; `None` for no reminder.
    reminder_minutes: Option<u32>,
    /// When the reminder fires (derived: `scheduled_at - reminder_minutes`, only while
    /// planned).
    reminder_at: Option<DateTime<Utc>>,
    /// When the reminder was delivered; set once (TSK-2).
    reminder_sent_at: Option<DateTime<Utc>>,
    /// Who created it.
    pub created_by: AgentId,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    updated_at: DateTime<Utc>,
    /// Optimistic-concurrency version.
    version: u64,
}

/// Turns a wall-clock time in `zone` into an instant.
///
/// ```
/// use chrono::NaiveDate;
/// use crm_core::task::local_to_instant;
///
/// let local = NaiveDate::from_ymd_opt(2026, 7, 1).unwrap().and_hms_opt(14, 0, 0).unwrap();
/// let at = local_to_instant(local, chrono_tz::Europe::Paris).unwrap();
/// assert_eq!(at.to_rfc3339(), "2026-07-01T12:00:00+00:00");
/// ```
///
/// # Errors
/// A [`FieldError`] on `scheduled_at` when the time does not exist in that zone (skipped by
/// a daylight-saving change).
pub fn local_to_instant(local: NaiveDateTime, zone: Tz) -> Result<DateTime<Utc>, FieldError> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
        // A repeated hour (clocks going back): the earlier instant, as calendars do.
        LocalResult::Ambiguous(earlier, _) => Ok(earlier.with_timezone(&Utc)),
        LocalResult::None => {
            Err(FieldError::new("scheduled_at", format!("{local} does not exist in {zone} (daylight-saving change)")))
        }
    }
}

/// The outbox event announcing a task's reminder (TSK-2), written by the store when it
/// claims the reminder.
pub fn reminder_event(task: &Task, id: crate::ids::EventId, now: DateTime<Utc>) -> crate::event::DomainEvent {
    crate::event::DomainEvent {
        id,
        tenant: task.tenant,
        at: now,
        actor: None,
        kind: crate::event::EventKind::TaskReminderDue {
            task: task.id,
            assignee: task.assignee,
            scheduled_at: task.scheduled_at,
            subject: task.subject.clone(),
        },
        audit: crate::audit::EventAudit::default(),
    }
}

/// Where a planned task stands for its assignee's agenda (TSK-3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgendaBucket {
    /// Its time has passed.
    Overdue,
    /// Its reminder time (or the last 15 minutes before it, without reminder) has come.
    Due,
    /// Later.
    Upcoming,
}

impl Task {
    /// Subject.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// Notes.
    pub fn notes(&self) -> &str {
        &self.notes
    }

    /// The customer.
    pub fn customer(&self) -> CustomerId {
        self.customer
    }

    /// The case, optionally.
    pub fn case(&self) -> Option<CaseId> {
        self.case
    }

    /// Who must do it.
    pub fn assignee(&self) -> AgentId {
        self.assignee
    }

    /// When, as an instant.
    pub fn scheduled_at(&self) -> DateTime<Utc> {
        self.scheduled_at
    }

    /// The zone it was scheduled in (for display and agendas).
    pub fn time_zone(&self) -> Tz {
        self.time_zone
    }

    /// Expected duration in minutes.
    pub fn duration_minutes(&self) -> u32 {
        self.duration_minutes
    }

    /// Status.
    pub fn status(&self) -> TaskStatus {
        self.status
    }

    /// Minutes before `scheduled_at` the reminder fires; `None` for no reminder.
    pub fn reminder_minutes(&self) -> Option<u32> {
        self.reminder_minutes
    }

    /// When the reminder fires (derived from the schedule, only while planned).
    pub fn reminder_at(&self) -> Option<DateTime<Utc>> {
        self.reminder_at
    }

    /// When the reminder was delivered; set once (TSK-2).
    pub fn reminder_sent_at(&self) -> Option<DateTime<Utc>> {
        self.reminder_sent_at
    }

    /// Last changed.
    pub fn updated_at(&self) -> DateTime<Utc> {
        self.updated_at
    }

    /// Optimistic-concurrency version.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The one place the version moves: one change, one version.
    fn next_version(&mut self) {
        self.version += 1;
    }

    /// An edit: the next version, changed `now`.
    fn touch(&mut self, now: DateTime<Utc>) {
        self.updated_at = now;
        self.next_version();
    }

    /// Records that the reminder was delivered at `now` (TSK-2), as one change. Not an edit
    /// of the task: `updated_at` stays.
    pub fn mark_reminder_sent(&mut self, now: DateTime<Utc>) {
        self.reminder_sent_at = Some(now);
        self.next_version();
    }

    /// Clears the case the task pointed at (the case was deleted), as one change.
    pub fn detach_from_case(&mut self) {
        self.case = None;
        self.next_version();
    }

    /// Re-points the task at another customer (the merge of two cards and its undo,
    /// CUS-6): the next version, so a holder of the old record reloads it.
    pub fn move_to_customer(&mut self, to: CustomerId) {
        self.customer = to;
        self.next_version();
    }

    /// Recomputes the reminder instant from the schedule, offset and status.
    fn refresh_reminder(&mut self) {
        self.reminder_at = match (self.status, self.reminder_minutes) {
            (TaskStatus::Planned, Some(m)) => Some(self.scheduled_at - Duration::minutes(i64::from(m))),
            _ => None,
        };
    }

    /// Whether the reminder should fire at `now` and has not yet.
    pub fn reminder_due(&self, now: DateTime<Utc>) -> bool {
        self.reminder_sent_at.is_none() && self.reminder_at.is_some_and(|t| t <= now)
    }

    /// Where the task stands at `now`; `None` unless planned.
    pub fn agenda_bucket(&self, now: DateTime<Utc>) -> Option<AgendaBucket> {
        if self.status != TaskStatus::Planned {
            return None;
        }
        let due_from = self.reminder_at.unwrap_or(self.scheduled_at - Duration::minutes(15));
        Some(if self.scheduled_at < now {
            AgendaBucket::Overdue
        } else if due_from <= now {
            AgendaBucket::Due
        } else {
            AgendaBucket::Upcoming
        })
    }
}

/// A schedule as a caller writes it: a local time and a zone, or an instant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ScheduleInput {
    /// `2026-11-23T14:30:00` (local, with `time_zone`) or RFC 3339 with an offset.
    pub at: String,
    /// IANA zone (`Europe/Paris`); defaults to the tenant's.
    #[serde(default)]
    pub time_zone: Option<String>,
}

impl ScheduleInput {
    /// Resolves to an instant and a zone.
    ///
    /// # Errors
    /// Unknown zone, unreadable time, or a time skipped by daylight saving.
    pub fn resolve(&self, tenant_zone: Tz) -> Result<(DateTime<Utc>, Tz), FieldError> {
        let zone = match self.time_zone.as_deref() {
            Some(z) => {
                z.parse::<Tz>().map_err(|_| FieldError::new("time_zone", format!("{z:?} is not an IANA time zone")))?
            }
            None => tenant_zone,
        };
        let at = self.at.trim();
        if let Ok(t) = DateTime::parse_from_rfc3339(at) {
            return Ok((t.with_timezone(&Utc), zone));
        }
        let local = NaiveDateTime::parse_from_str(at, "%Y-%m-%dT%H:%M:%S")
            .or_else(|_| NaiveDateTime::parse_from_str(at, "%Y-%m-%dT%H:%M"))
            .map_err(|_| FieldError::new("scheduled_at", format!("{at:?} is not a date-time (2026-11-23T14:30)")))?;
        Ok((local_to_instant(local, zone)?, zone))
    }
}

/// What a caller sends to create a task.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewTask {
    /// Kind.
    pub kind: TaskKind,
    /// Subject.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::required_text))]
    pub subject: String,
    /// Notes.
    #[serde(default)]
    pub notes: String,
    /// The customer.
    pub customer: CustomerId,
    /// The case.
    #[serde(default)]
    pub case: Option<CaseId>,
    /// Assignee (default: the creator).
    #[serde(default)]
    pub assignee: Option<AgentId>,
    /// When.
    pub scheduled: ScheduleInput,
    /// Duration in minutes (default 15).
    #[serde(default)]
    pub duration_minutes: Option<u32>,
    /// Reminder offset in minutes.
    #[serde(default)]
    pub reminder_minutes: Option<u32>,
}

fn check_minutes(v: &mut Validator, field: &str, m: Option<u32>, max: u32) {
    if let Some(m) = m.filter(|m| *m > max) {
        v.push(FieldError::new(field, format!("must be at most {max} minutes, got {m}")));
    }
}

impl NewTask {
    /// Validates into a task.
    ///
    /// # Errors
    /// Every refused value.
    pub fn build(
        self,
        id: TaskId,
        tenant: TenantId,
        creator: AgentId,
        tenant_zone: Tz,
        now: DateTime<Utc>,
    ) -> Result<Task, ValidationErrors> {
        let mut v = Validator::new();
        let subject = v.check(required_text("subject", &self.subject, 255)).unwrap_or_default();
        let notes = v.check(bounded_text("notes", &self.notes, 10_000)).unwrap_or_default();
        let schedule = v.check(self.scheduled.resolve(tenant_zone).map_err(|e| e.within("scheduled")));
        check_minutes(&mut v, "duration_minutes", self.duration_minutes, 24 * 60);
        check_minutes(&mut v, "reminder_minutes", self.reminder_minutes, MAX_REMINDER_MINUTES);
        v.finish()?;
        let (scheduled_at, time_zone) = schedule.unwrap_or((now, tenant_zone));
        let mut task = Task {
            id,
            tenant,
            kind: self.kind,
            subject,
            notes,
            customer: self.customer,
            case: self.case,
            assignee: self.assignee.unwrap_or(creator),
            scheduled_at,
            time_zone,
            duration_minutes: self.duration_minutes.unwrap_or(15),
            status: TaskStatus::Planned,
            reminder_minutes: self.reminder_minutes,
            reminder_at: None,
            reminder_sent_at: None,
            created_by: creator,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        task.refresh_reminder();
        Ok(task)
    }
}

/// What a caller sends to change a task.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TaskPatch {
    /// New subject.
    #[serde(default)]
    pub subject: Option<String>,
    /// New notes.
    #[serde(default)]
    pub notes: Option<String>,
    /// New assignee.
    #[serde(default)]
    pub assignee: Option<AgentId>,
    /// New schedule (re-arms the reminder).
    #[serde(default)]
    pub scheduled: Option<ScheduleInput>,
    /// New duration.
    #[serde(default)]
    pub duration_minutes: Option<u32>,
    /// New reminder offset (`null` removes the reminder).
    #[serde(default, with = "crate::case::double_option")]
    pub reminder_minutes: Option<Option<u32>>,
    /// New status.
    #[serde(default)]
    pub status: Option<TaskStatus>,
}

impl TaskPatch {
    /// Applies the patch. A new schedule or offset re-arms the reminder. A patch that
    /// changes anything is one change: the next version.
    ///
    /// # Errors
    /// Every refused value; `task` is untouched then.
    pub fn apply(&self, task: &mut Task, tenant_zone: Tz, now: DateTime<Utc>) -> Result<(), ValidationErrors> {
        let mut v = Validator::new();
        let mut next = task.clone();
        if let Some(s) = &self.subject {
            next.subject = v.check(required_text("subject", s, 255)).unwrap_or_default();
        }
        if let Some(n) = &self.notes {
            next.notes = v.check(bounded_text("notes", n, 10_000)).unwrap_or_default();
        }
        if let Some(a) = self.assignee {
            next.assignee = a;
        }
        check_minutes(&mut v, "duration_minutes", self.duration_minutes, 24 * 60);
        check_minutes(&mut v, "reminder_minutes", self.reminder_minutes.flatten(), MAX_REMINDER_MINUTES);
        if let Some(d) = self.duration_minutes {
            next.duration_minutes = d;
        }
        let mut rearm = false;
        if let Some(s) = &self.scheduled
            && let Some((at, zone)) = v.check(s.resolve(tenant_zone).map_err(|e| e.within("scheduled")))
        {
            rearm |= at != next.scheduled_at;
            next.scheduled_at = at;
            next.time_zone = zone;
        }
        if let Some(r) = self.reminder_minutes {
            rearm |= r != next.reminder_minutes;
            next.reminder_minutes = r;
        }
        if let Some(s) = self.status {
            next.status = s;
        }
        v.finish()?;
        if rearm {
            next.reminder_sent_at = None;
        }
        next.refresh_reminder();
        if next != *task {
            next.touch(now);
        }
        *task = next;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn local(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, mo, d).unwrap().and_hms_opt(h, mi, 0).unwrap()
    }

    #[test]
    fn paris_summer_and_winter_times_map_to_the_right_instants() {
        let paris: Tz = "Europe/Paris".parse().unwrap();
        assert_eq!(
            local_to_instant(local(2026, 7, 1, 14, 0), paris).unwrap().to_rfc3339(),
            "2026-07-01T12:00:00+00:00"
        );
        assert_eq!(
            local_to_instant(local(2026, 12, 1, 14, 0), paris).unwrap().to_rfc3339(),
            "2026-12-01T13:00:00+00:00"
        );
    }

    #[test]
    fn a_skipped_hour_is_refused_and_a_repeated_one_takes_the_earlier_instant() {
        let paris: Tz = "Europe/Paris".parse().unwrap();
        // 2026-03-29 02:30 does not exist in Paris; 2026-10-25 02:30 happens twice.
        assert_eq!(local_to_instant(local(2026, 3, 29, 2, 30), paris).unwrap_err().field, "scheduled_at");
        assert_eq!(
            local_to_instant(local(2026, 10, 25, 2, 30), paris).unwrap().to_rfc3339(),
            "2026-10-25T00:30:00+00:00"
        );
    }

    #[test]
    fn schedule_input_takes_offsets_or_zones() {
        let utc: Tz = "UTC".parse().unwrap();
        let (at, zone) =
            ScheduleInput { at: "2026-11-23T15:00:00+01:00".into(), time_zone: None }.resolve(utc).unwrap();
        assert_eq!(at.to_rfc3339(), "2026-11-23T14:00:00+00:00");
        assert_eq!(zone, utc);
        let (at, _) = ScheduleInput { at: "2026-11-23T15:00".into(), time_zone: Some("America/New_York".into()) }
            .resolve(utc)
            .unwrap();
        assert_eq!(at.to_rfc3339(), "2026-11-23T20:00:00+00:00");
        assert!(ScheduleInput { at: "x".into(), time_zone: None }.resolve(utc).is_err());
        assert!(
            ScheduleInput { at: "2026-11-23T15:00".into(), time_zone: Some("Mars/Base".into()) }.resolve(utc).is_err()
        );
    }

    fn planned_task() -> Task {
        let paris: Tz = "Europe/Paris".parse().unwrap();
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap();
        let id = |n: u128| uuid::Uuid::from_u128(n);
        NewTask {
            kind: TaskKind::Call,
            subject: "Call back".into(),
            notes: String::new(),
            customer: CustomerId::from_uuid(id(1)),
            case: Some(CaseId::from_uuid(id(2))),
            assignee: None,
            scheduled: ScheduleInput { at: "2026-01-02T10:00".into(), time_zone: None },
            duration_minutes: None,
            reminder_minutes: Some(15),
        }
        .build(TaskId::from_uuid(id(3)), TenantId::from_uuid(id(4)), AgentId::from_uuid(id(5)), paris, now)
        .unwrap()
    }

    #[test]
    fn store_side_changes_each_take_one_version_and_leave_updated_at() {
        let task = planned_task();
        let later = task.created_at + Duration::hours(1);
        type Change = fn(&mut Task, DateTime<Utc>);
        let changes: [(&str, Change); 3] = [
            ("reminder sent", |t, at| t.mark_reminder_sent(at)),
            ("case detached", |t, _| t.detach_from_case()),
            ("customer moved", |t, _| t.move_to_customer(CustomerId::from_uuid(uuid::Uuid::from_u128(9)))),
        ];
        for (what, change) in changes {
            let mut changed = task.clone();
            change(&mut changed, later);
            assert_eq!(changed.version(), task.version() + 1, "{what}");
            assert_eq!(changed.updated_at(), task.updated_at(), "{what}");
        }
    }

    #[test]
    fn a_patch_is_one_version_and_an_empty_one_none() {
        let mut task = planned_task();
        let zone = task.time_zone();
        let later = task.created_at + Duration::hours(1);
        TaskPatch::default().apply(&mut task, zone, later).unwrap();
        assert_eq!(task.version(), 1, "nothing changed");
        let done = TaskPatch { status: Some(TaskStatus::Done), notes: Some("done".into()), ..TaskPatch::default() };
        done.apply(&mut task, zone, later).unwrap();
        assert_eq!((task.version(), task.updated_at(), task.reminder_at()), (2, later, None));
    }
}
