//! Snoozing a task's reminder (TSK-2 in the agents' console): "remind me again in N
//! minutes". The schedule stays when the task is still later than that, and the reminder
//! offset moves so the reminder comes back N minutes from now; a task whose time would pass
//! before then (an overdue one, say) moves to that instant with its reminder at the time
//! itself. Either way the reminder is re-armed: it fires once more.

use chrono::{DateTime, Duration, Utc};

use super::{MAX_REMINDER_MINUTES, ScheduleInput, Task, TaskPatch};
use crate::error::FieldError;

/// The longest snooze: one day.
pub const MAX_SNOOZE_MINUTES: u32 = 24 * 60;

impl TaskPatch {
    /// The patch that brings `task`'s reminder back `minutes` from `now`.
    ///
    /// ```
    /// use chrono::{Duration, TimeZone, Utc};
    /// use crm_core::task::{NewTask, ScheduleInput, TaskKind, TaskPatch};
    /// # let id = |n: u128| uuid::Uuid::from_u128(n);
    /// let now = Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap();
    /// let mut task = NewTask {
    ///     kind: TaskKind::Call, subject: "Call back".into(), notes: String::new(),
    ///     customer: crm_core::ids::CustomerId::from_uuid(id(1)), case: None, assignee: None,
    ///     scheduled: ScheduleInput { at: "2026-01-01T10:00:00Z".into(), time_zone: None },
    ///     duration_minutes: None, reminder_minutes: Some(60),
    /// }
    /// .build(crm_core::ids::TaskId::from_uuid(id(2)), crm_core::ids::TenantId::from_uuid(id(3)),
    ///        crm_core::ids::AgentId::from_uuid(id(4)), chrono_tz::UTC, now)
    /// .unwrap();
    /// // The reminder fired at 9:00; snoozed 15 minutes, it comes back at 9:15, the call stays at 10:00.
    /// TaskPatch::snooze(&task, 15, now).unwrap().apply(&mut task, chrono_tz::UTC, now).unwrap();
    /// assert_eq!(task.reminder_at(), Some(now + Duration::minutes(15)));
    /// assert_eq!(task.scheduled_at(), now + Duration::hours(1));
    /// ```
    ///
    /// # Errors
    /// A [`FieldError`] on `minutes` outside 1…[`MAX_SNOOZE_MINUTES`].
    pub fn snooze(task: &Task, minutes: u32, now: DateTime<Utc>) -> Result<TaskPatch, FieldError> {
        if minutes == 0 || minutes > MAX_SNOOZE_MINUTES {
            return Err(FieldError::new(
                "minutes",
                format!("must be between 1 and {MAX_SNOOZE_MINUTES} minutes, got {minutes}"),
            ));
        }
        let back_at = now + Duration::minutes(i64::from(minutes));
        if back_at < task.scheduled_at() {
            let before = (task.scheduled_at() - back_at).num_minutes();
            let offset = u32::try_from(before).unwrap_or(MAX_REMINDER_MINUTES).min(MAX_REMINDER_MINUTES);
            return Ok(TaskPatch { reminder_minutes: Some(Some(offset)), ..TaskPatch::default() });
        }
        let at = back_at.to_rfc3339();
        let scheduled = ScheduleInput { at, time_zone: Some(task.time_zone().name().to_owned()) };
        Ok(TaskPatch { scheduled: Some(scheduled), reminder_minutes: Some(Some(0)), ..TaskPatch::default() })
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::ids::{AgentId, CustomerId, TaskId, TenantId};
    use crate::task::{NewTask, TaskKind};

    fn task_at(at: &str, reminder: Option<u32>, now: DateTime<Utc>) -> Task {
        let id = |n: u128| uuid::Uuid::from_u128(n);
        NewTask {
            kind: TaskKind::Call,
            subject: "Call back".into(),
            notes: String::new(),
            customer: CustomerId::from_uuid(id(1)),
            case: None,
            assignee: None,
            scheduled: ScheduleInput { at: at.into(), time_zone: Some("Europe/Paris".into()) },
            duration_minutes: None,
            reminder_minutes: reminder,
        }
        .build(TaskId::from_uuid(id(2)), TenantId::from_uuid(id(3)), AgentId::from_uuid(id(4)), chrono_tz::UTC, now)
        .unwrap()
    }

    #[test]
    fn an_overdue_task_moves_to_the_snooze_and_reminds_once_more() {
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap();
        let mut task = task_at("2026-01-01T08:00:00Z", Some(10), now);
        task.mark_reminder_sent(now);
        TaskPatch::snooze(&task, 30, now).unwrap().apply(&mut task, chrono_tz::UTC, now).unwrap();
        let back = now + Duration::minutes(30);
        assert_eq!((task.scheduled_at(), task.reminder_at(), task.reminder_sent_at()), (back, Some(back), None));
        assert_eq!(task.time_zone().name(), "Europe/Paris", "the task keeps its zone");
        assert!(!task.reminder_due(now) && task.reminder_due(back));
    }

    #[test]
    fn a_later_task_keeps_its_time_and_moves_its_reminder() {
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap();
        let mut task = task_at("2026-01-01T12:00:00Z", None, now);
        TaskPatch::snooze(&task, 60, now).unwrap().apply(&mut task, chrono_tz::UTC, now).unwrap();
        assert_eq!(task.scheduled_at(), Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap());
        assert_eq!(task.reminder_at(), Some(now + Duration::hours(1)));
    }

    #[test]
    fn a_snooze_outside_a_day_is_refused_naming_minutes() {
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap();
        let task = task_at("2026-01-01T12:00:00Z", None, now);
        for m in [0, MAX_SNOOZE_MINUTES + 1] {
            assert_eq!(TaskPatch::snooze(&task, m, now).unwrap_err().field, "minutes");
        }
    }
}
