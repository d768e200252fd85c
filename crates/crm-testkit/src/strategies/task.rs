//! Strategies for tasks: `NewTask` (instants and local times in several zones, reminders)
//! and whole `Task` values.

use chrono::Duration;
use crm_core::ids::{AgentId, CaseId, CustomerId, TaskId, TenantId};
use crm_core::task::{NewTask, ScheduleInput, Task, TaskKind, TaskPatch, TaskStatus};
use proptest::prelude::*;

use super::{id, instant, words_text};
use crate::fixtures::PARIS;

const KINDS: &[TaskKind] = &[TaskKind::Call, TaskKind::Email, TaskKind::Meeting, TaskKind::Chat, TaskKind::Other];

fn schedule() -> impl Strategy<Value = ScheduleInput> {
    let rfc3339 = instant().prop_map(|t| ScheduleInput { at: t.to_rfc3339(), time_zone: None });
    let local = (
        instant(),
        prop::option::of(prop::sample::select(&["Europe/Paris", "America/New_York", "Asia/Tokyo", "UTC"][..])),
    )
        .prop_map(|(t, zone)| ScheduleInput {
            at: t.naive_utc().format("%Y-%m-%dT%H:%M").to_string(),
            time_zone: zone.map(str::to_owned),
        });
    prop_oneof![rfc3339, local].prop_filter("a time that exists in its zone", |s| s.resolve(PARIS).is_ok())
}

/// A valid `NewTask` for `customer`, optionally on `case`.
pub fn new_task(customer: CustomerId, case: Option<CaseId>) -> impl Strategy<Value = NewTask> {
    (
        prop::sample::select(KINDS),
        words_text(5),
        "[A-Za-z0-9 .,\n]{0,60}",
        prop::option::of(id::<AgentId>()),
        schedule(),
        prop::option::of(5u32..=240),
        prop::option::of(0u32..=24 * 60),
    )
        .prop_map(move |(kind, subject, notes, assignee, scheduled, duration_minutes, reminder_minutes)| NewTask {
            kind,
            subject,
            notes,
            customer,
            case,
            assignee,
            scheduled,
            duration_minutes,
            reminder_minutes,
        })
}

/// A whole task built by [`NewTask::build`], possibly done, cancelled or already reminded.
pub fn task() -> impl Strategy<Value = Task> {
    (id::<CustomerId>(), prop::option::of(id::<CaseId>()))
        .prop_flat_map(|(customer, case)| {
            (
                new_task(customer, case),
                id::<TaskId>(),
                id::<TenantId>(),
                id::<AgentId>(),
                instant(),
                prop::sample::select(&[TaskStatus::Planned, TaskStatus::Done, TaskStatus::Cancelled][..]),
                any::<bool>(),
            )
        })
        .prop_map(|(input, id, tenant, creator, now, status, reminded)| {
            let mut task = input.build(id, tenant, creator, PARIS, now).expect("generated tasks are valid");
            if reminded && task.reminder_at().is_some() {
                task.mark_reminder_sent(now + Duration::minutes(1));
            }
            if status != TaskStatus::Planned {
                let close = TaskPatch { status: Some(status), ..TaskPatch::default() };
                close.apply(&mut task, PARIS, now + Duration::minutes(2)).expect("a status change is valid");
            }
            task
        })
}
