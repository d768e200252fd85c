//! Conformance: tasks, agendas and the exactly-once reminder claim (TSK-1…TSK-3).

use std::collections::{BTreeMap, BTreeSet};

use chrono::Duration;
use crm_core::event::EventKind;
use crm_core::ids::{CaseId, CustomerId, EventId, TaskId};
use crm_core::task::{Task, TaskPatch, TaskRecord, TaskStatus};
use crm_core::time::{UuidV7Generator, next_id};

use crm_core::page::PageRequest;
use crm_core::ports::TaskOwner;

use super::{Ctx, StoreFactory, assert_duplicate, assert_invalid_reference, assert_not_found, assert_stale, page};

fn subjects(tasks: &[Task]) -> Vec<String> {
    tasks.iter().map(|t| t.subject().to_owned()).collect()
}

/// Tasks round-trip, need their customer and case, and agendas list planned tasks soonest
/// first.
pub async fn task_round_trips_and_agendas_are_soonest_first(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let (s, tenant) = (&ctx.store, ctx.tenant());
    let customer = ctx.customer("Client", vec![]).await;
    let other = ctx.customer("Autre", vec![]).await;
    let case = ctx.case(&customer, |_| {}).await;
    let named = |subject: &'static str| move |t: &mut crm_core::task::NewTask| t.subject = subject.into();
    let t120 = ctx
        .task(&customer, 120, |t| {
            t.subject = "in 120".into();
            t.case = Some(case.id);
        })
        .await;
    let t30 = ctx.task(&customer, 30, named("in 30")).await;
    let t60 = ctx
        .task(&customer, 60, |t| {
            t.subject = "in 60 (supervisor)".into();
            t.assignee = Some(ctx.t.supervisor.id);
        })
        .await;
    let mut done = ctx.build_task(&customer, 10, named("done in 10"));
    let complete = TaskPatch { status: Some(TaskStatus::Done), ..TaskPatch::default() };
    let zone = done.time_zone();
    complete.apply(&mut done, zone, ctx.now).unwrap();
    s.insert_task(&done, &[]).await.unwrap();
    let t45 = ctx.task(&other, 45, named("in 45 (other customer)")).await;
    assert_eq!(s.get_task(tenant, t120.id).await.unwrap(), Some(t120.clone()));

    let mut orphan = ctx.build_task(&customer, 5, named("orphan"));
    orphan.move_to_customer(ctx.id::<CustomerId>());
    assert_invalid_reference(s.insert_task(&orphan, &[]).await, "customer");
    let orphan = ctx.build_task(&customer, 5, named("orphan"));
    let orphan = Task::restore(TaskRecord { case: Some(ctx.id::<CaseId>()), ..orphan.into_record() });
    assert_invalid_reference(s.insert_task(&orphan, &[]).await, "case");
    assert_eq!(s.get_task(tenant, orphan.id).await.unwrap(), None);
    let mut same_id = ctx.build_task(&customer, 5, named("same id"));
    same_id.id = t30.id;
    assert_duplicate(s.insert_task(&same_id, &[]).await, "id");

    let mut updated = t120.clone();
    let notes = TaskPatch { notes: Some("Bring the contract".into()), ..TaskPatch::default() };
    let zone = updated.time_zone();
    notes.apply(&mut updated, zone, ctx.now).unwrap();
    assert_eq!(updated.version(), 2);
    let event = ctx.event(EventKind::TaskUpdated { task: updated.id, assignee: updated.assignee() });
    s.update_task(&updated, 1, std::slice::from_ref(&event)).await.unwrap();
    assert_eq!(s.get_task(tenant, t120.id).await.unwrap(), Some(updated.clone()));
    assert!(ctx.has_event(event.id).await);
    let mut unknown = updated.clone();
    unknown.id = ctx.id::<TaskId>();
    assert_not_found(s.update_task(&unknown, 1, &[]).await);

    let agent = ctx.t.agent.id;
    let agenda = |until, limit| async move { s.planned_tasks_of_agent(tenant, agent, until, &page(limit)).await };
    let listed = agenda(None, 10).await.unwrap();
    assert_eq!(subjects(&listed.items), subjects(&[t30.clone(), t45.clone(), updated.clone()]));
    assert_eq!(listed.next, None);
    let until = Some(ctx.now + Duration::minutes(60));
    let listed = agenda(until, 10).await.unwrap();
    assert_eq!(subjects(&listed.items), subjects(&[t30.clone(), t45.clone()]));
    let until = Some(t45.scheduled_at());
    let listed = agenda(until, 10).await.unwrap();
    assert_eq!(subjects(&listed.items), subjects(std::slice::from_ref(&t30)), "until is exclusive");
    let listed = agenda(None, 1).await.unwrap();
    assert_eq!(subjects(&listed.items), subjects(std::slice::from_ref(&t30)));
    assert!(listed.next.is_some(), "a full page has a next cursor");
    let pending = s.planned_tasks_of_customer(tenant, customer.id, 10).await.unwrap();
    assert_eq!(subjects(&pending), subjects(&[t30.clone(), t60.clone(), updated.clone()]));
    let pending = s.planned_tasks_of_customer(tenant, customer.id, 2).await.unwrap();
    assert_eq!(subjects(&pending), subjects(&[t30, t60]));
}

/// Every page of a task list, following the cursors.
async fn walk<F, Fut>(limit: u32, read: F) -> Vec<Task>
where
    F: Fn(PageRequest) -> Fut,
    Fut: std::future::Future<Output = crm_core::ports::StoreResult<crm_core::page::Page<Task>>>,
{
    let mut all = Vec::new();
    let mut request = page(limit);
    loop {
        let got = read(request.clone()).await.expect("a page of tasks");
        assert!(got.items.len() <= usize::try_from(limit).unwrap_or(usize::MAX));
        all.extend(got.items);
        match got.next {
            Some(next) => request.after = Some(next),
            None => return all,
        }
    }
}

/// Tasks of a customer and of a case list every status by schedule, page by page; an
/// agent's agenda pages past any size (no hidden cap); a task is deleted with its events,
/// guarded by its version; a cursor of another shape is refused.
pub async fn tasks_are_listed_by_owner_paged_and_deleted(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let (s, tenant) = (&ctx.store, ctx.tenant());
    let customer = ctx.customer("Liste", vec![]).await;
    let other = ctx.customer("Autre liste", vec![]).await;
    let case = ctx.case(&customer, |_| {}).await;
    let mut mine = Vec::new();
    for i in 0..7_i64 {
        mine.push(
            ctx.task(&customer, 10 * i, |t| {
                t.subject = format!("task {i}");
                t.case = (i % 2 == 0).then_some(case.id);
            })
            .await,
        );
    }
    // Two tasks at the same instant: the id breaks the tie.
    let twin = ctx.task(&customer, 10, |t| t.subject = "twin of task 1".into()).await;
    mine.push(twin);
    let mut done = ctx.build_task(&customer, 15, |t| t.subject = "done".into());
    let zone = done.time_zone();
    TaskPatch { status: Some(TaskStatus::Done), ..TaskPatch::default() }.apply(&mut done, zone, ctx.now).unwrap();
    s.insert_task(&done, &[]).await.unwrap();
    mine.push(done.clone());
    ctx.task(&other, 5, |t| t.subject = "another customer's".into()).await;
    mine.sort_by_key(|t| (t.scheduled_at(), t.id));

    for limit in [1, 2, 3, 50] {
        let listed =
            walk(limit, |p| async move { s.tasks_of(tenant, TaskOwner::Customer(customer.id), &p).await }).await;
        assert_eq!(listed, mine, "customer's tasks by {limit}");
    }
    let of_case: Vec<Task> = mine.iter().filter(|t| t.case() == Some(case.id)).cloned().collect();
    let listed = walk(2, |p| async move { s.tasks_of(tenant, TaskOwner::Case(case.id), &p).await }).await;
    assert_eq!(listed, of_case);
    let planned: Vec<Task> = mine.iter().filter(|t| t.status() == TaskStatus::Planned).cloned().collect();
    let agent = ctx.t.agent.id;
    let listed = walk(2, |p| async move { s.planned_tasks_of_agent(tenant, agent, None, &p).await }).await;
    assert_eq!(listed.iter().filter(|t| t.customer() == customer.id).cloned().collect::<Vec<_>>(), planned);

    let bad = PageRequest { limit: 2, after: Some(crm_core::page::Cursor::from_string("7b7d".into())) };
    assert_invalid_reference(s.tasks_of(tenant, TaskOwner::Customer(customer.id), &bad).await, "cursor");
    assert_invalid_reference(s.planned_tasks_of_agent(tenant, agent, None, &bad).await, "cursor");

    let gone = &mine[0];
    assert_stale(s.delete_task(tenant, gone.id, gone.version() + 1, &[]).await);
    assert!(s.get_task(tenant, gone.id).await.unwrap().is_some(), "a stale delete changes nothing");
    let event = ctx.event(EventKind::TaskDeleted { task: gone.id, assignee: gone.assignee() });
    s.delete_task(tenant, gone.id, gone.version(), std::slice::from_ref(&event)).await.unwrap();
    assert_eq!(s.get_task(tenant, gone.id).await.unwrap(), None);
    assert!(ctx.has_event(event.id).await);
    assert_not_found(s.delete_task(tenant, gone.id, gone.version(), &[]).await);
    let listed = walk(50, |p| async move { s.tasks_of(tenant, TaskOwner::Customer(customer.id), &p).await }).await;
    assert_eq!(listed, mine[1..].to_vec());
}

const CLAIMERS: usize = 8;
const DUE_TASKS: usize = 30;

/// Due reminders are claimed exactly once even by 8 concurrent claimers: each claimed task
/// is marked sent (version bumped) and gets exactly one `task_reminder_due` event; tasks not
/// due, already sent or not planned are left alone.
pub async fn due_reminders_are_claimed_exactly_once_by_concurrent_claimers(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let (s, tenant) = (&ctx.store, ctx.tenant());
    let customer = ctx.customer("Rappel", vec![]).await;
    // Reminders due long ago, claimed at a `now` long ago: our claimers cannot reach other
    // tests' tasks sharing the database, and tasks we must not claim are either never due
    // (sent, cancelled) or due only in ten years.
    const DAY: i64 = 24 * 60;
    let claim_at = ctx.now - Duration::days(399);
    let mut due = Vec::new();
    for i in 0..DUE_TASKS {
        let minutes = -400 * DAY + i64::try_from(i).unwrap_or(0) * 7;
        due.push(
            ctx.task(&customer, minutes, |t| {
                t.subject = format!("due {i}");
                t.reminder_minutes = Some(15);
            })
            .await,
        );
    }
    let later = ctx
        .task(&customer, 3650 * DAY, |t| {
            t.subject = "not due yet".into();
            t.reminder_minutes = Some(10);
        })
        .await;
    let mut sent = ctx.build_task(&customer, -400 * DAY, |t| {
        t.subject = "already reminded".into();
        t.reminder_minutes = Some(10);
    });
    sent.mark_reminder_sent(ctx.now - Duration::days(401));
    s.insert_task(&sent, &[]).await.unwrap();
    let mut cancelled = ctx.build_task(&customer, -400 * DAY, |t| {
        t.subject = "cancelled".into();
        t.reminder_minutes = Some(10);
    });
    let cancel = TaskPatch { status: Some(TaskStatus::Cancelled), ..TaskPatch::default() };
    let zone = cancelled.time_zone();
    cancel.apply(&mut cancelled, zone, ctx.now).unwrap();
    s.insert_task(&cancelled, &[]).await.unwrap();

    let mut claimers = Vec::new();
    for _ in 0..CLAIMERS {
        let store = s.clone();
        claimers.push(tokio::spawn(async move {
            let mut claimed = Vec::new();
            loop {
                let ids: Vec<EventId> = (0..3).map(|_| next_id(&UuidV7Generator)).collect();
                let batch = store.claim_due_reminders(claim_at, &ids).await.expect("claim reminders");
                assert!(batch.len() <= ids.len(), "at most one task per event id");
                if batch.is_empty() {
                    return claimed;
                }
                let times: Vec<_> = batch.iter().map(|t| t.reminder_at()).collect();
                assert!(times.windows(2).all(|w| w[0] <= w[1]), "soonest reminder first within a batch");
                claimed.extend(batch);
            }
        }));
    }
    let mut ours = Vec::new();
    for claimer in claimers {
        ours.extend(claimer.await.expect("a claimer finished").into_iter().filter(|t| t.tenant == tenant));
    }
    let mut seen = BTreeSet::new();
    for task in &ours {
        assert!(seen.insert(task.id), "task {} ({}) was claimed twice", task.id, task.subject());
        assert!(task.reminder_sent_at().is_some(), "a claimed task comes back marked sent");
    }
    let due_ids: BTreeSet<TaskId> = due.iter().map(|t| t.id).collect();
    assert!(seen.is_subset(&due_ids), "only due tasks are claimed");
    for task in &due {
        let stored = s.get_task(tenant, task.id).await.unwrap().unwrap();
        assert!(stored.reminder_sent_at().is_some(), "{} was claimed", task.subject());
        assert_eq!(stored.version(), task.version() + 1, "claiming bumps the version");
        if let Some(returned) = ours.iter().find(|t| t.id == task.id) {
            assert_eq!(returned, &stored, "claimed tasks are returned as stored");
        }
    }
    for untouched in [&later, &sent, &cancelled] {
        assert_eq!(
            s.get_task(tenant, untouched.id).await.unwrap().as_ref(),
            Some(untouched),
            "{}",
            untouched.subject()
        );
    }
    let mut reminders: BTreeMap<TaskId, usize> = BTreeMap::new();
    for entry in ctx.outbox().await {
        if let EventKind::TaskReminderDue { task, assignee, scheduled_at, .. } = entry.event.kind {
            *reminders.entry(task).or_default() += 1;
            let original = due.iter().find(|t| t.id == task).expect("a reminder for a due task");
            assert_eq!((assignee, scheduled_at), (original.assignee(), original.scheduled_at()));
            assert_eq!(entry.event.actor, None, "reminders are system work");
        }
    }
    assert_eq!(reminders.len(), DUE_TASKS, "one reminder event per due task");
    assert!(reminders.values().all(|n| *n == 1), "exactly one reminder event per task: {reminders:?}");
    // Nothing is left to claim for us.
    let leftovers = s.claim_due_reminders(claim_at, &[ctx.id(), ctx.id(), ctx.id()]).await.unwrap();
    assert!(leftovers.iter().all(|t| t.tenant != tenant));
}
