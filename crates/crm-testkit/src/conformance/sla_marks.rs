//! Conformance: a case's SLA mark on its row (ADR 0028): the case list's SLA conditions
//! and "due next" order as [`CaseFilter::matches`] and [`CaseSort::compare`] say, and the
//! SLA timer: due timers listed, each alarm raised exactly once by racing callers and
//! again never (a restart), the timer moved only from the instant it was read at.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use crm_core::access::PrivateScope;
use crm_core::case::{Case, CaseFilter, CaseSort, CaseSortField, SortDirection};
use crm_core::event::{DomainEvent, EventKind};
use crm_core::sla::{AlarmKind, Metric, SlaAlarm, SlaCondition, SlaMark, SlaTimer};
use crm_core::time::{UuidV7Generator, next_id};

use super::cases::numbers;
use super::{Ctx, StoreFactory, page};

/// Cases with marks of every shape, minutes from `ctx.now` (ties on the deadline).
async fn marked_cases(ctx: &Ctx) -> Vec<Case> {
    let customer = ctx.customer("Marked", vec![]).await;
    let at = |m: i64| Some(ctx.now + Duration::minutes(m));
    let marks = [
        None,
        Some(SlaMark { due_at: at(60), warning_at: at(48), breach_at: at(60) }),
        Some(SlaMark { due_at: at(30), warning_at: at(24), breach_at: at(30) }),
        Some(SlaMark { due_at: at(30), warning_at: None, breach_at: at(30) }),
        Some(SlaMark { due_at: at(-10), warning_at: at(-20), breach_at: at(-10) }),
        Some(SlaMark { due_at: None, warning_at: at(-5), breach_at: None }),
        Some(SlaMark { due_at: None, warning_at: None, breach_at: at(-100) }),
        Some(SlaMark { due_at: at(600), warning_at: None, breach_at: at(-100) }),
        None,
    ];
    let mut cases = Vec::new();
    for mark in marks {
        let mut case = ctx.build_case(&customer, |_| {}).await;
        case.set_sla(mark);
        ctx.insert_case(&case).await;
        cases.push(case);
    }
    cases
}

async fn list_all(ctx: &Ctx, filter: &CaseFilter, sort: CaseSort, limit: u32) -> Vec<Case> {
    let mut all = Vec::new();
    let mut request = page(limit);
    for _ in 0..100 {
        let p = ctx.store.list_cases(ctx.tenant(), filter, &PrivateScope::All, sort, &request).await.unwrap();
        all.extend(p.items);
        match p.next {
            Some(next) => request.after = Some(next),
            None => return all,
        }
    }
    panic!("the walk ends")
}

fn reference(cases: &[Case], filter: &CaseFilter, sort: CaseSort) -> Vec<Case> {
    let mut expected: Vec<Case> = cases.iter().filter(|c| filter.matches(c, &PrivateScope::All)).cloned().collect();
    expected.sort_by(|a, b| sort.compare(a, b));
    expected
}

/// The SLA conditions at several instants and the "due next" order in both directions,
/// walked in pages, give the reference answers; a case read back keeps its mark.
pub async fn case_lists_filter_by_sla_condition_and_sort_by_due_next(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let cases = marked_cases(&ctx).await;
    let stored = ctx.store.get_case(ctx.tenant(), cases[1].id).await.unwrap().unwrap();
    assert_eq!(stored.sla(), cases[1].sla(), "the mark is kept with the case");
    for minutes in [-30, 0, 24, 30, 59, 1000] {
        for condition in [SlaCondition::Breached, SlaCondition::Warning, SlaCondition::Running] {
            let filter = CaseFilter {
                sla: Some(condition),
                at: Some(ctx.now + Duration::minutes(minutes)),
                ..Default::default()
            };
            let sort = CaseSort { field: CaseSortField::DueNext, direction: SortDirection::Asc };
            let listed = list_all(&ctx, &filter, sort, 2).await;
            assert_eq!(numbers(&listed), numbers(&reference(&cases, &filter, sort)), "{condition:?} at +{minutes}m");
        }
    }
    let breached_now = CaseFilter { sla: Some(SlaCondition::Breached), at: Some(ctx.now), ..Default::default() };
    assert_eq!(reference(&cases, &breached_now, CaseSort::default()).len(), 3, "the scene has breached cases");
    for direction in [SortDirection::Asc, SortDirection::Desc] {
        let sort = CaseSort { field: CaseSortField::DueNext, direction };
        let expected = reference(&cases, &CaseFilter::default(), sort);
        for limit in [1, 3, 20] {
            let listed = list_all(&ctx, &CaseFilter::default(), sort, limit).await;
            assert_eq!(numbers(&listed), numbers(&expected), "{sort:?} by pages of {limit}");
        }
    }
}

fn alarm(case: &Case, metric: Metric, kind: AlarmKind, started_at: DateTime<Utc>) -> SlaAlarm {
    let event = match kind {
        AlarmKind::Warning => EventKind::SlaWarning {
            case: case.id,
            metric,
            warning_at: started_at,
            due_at: None,
            assignee: case.assignee(),
            group: case.group(),
        },
        AlarmKind::Breach => EventKind::SlaBreached {
            case: case.id,
            metric,
            breached_at: started_at,
            assignee: case.assignee(),
            group: case.group(),
        },
    };
    SlaAlarm { metric, kind, started_at, event }
}

fn event_of(ctx: &Ctx, alarm: &SlaAlarm) -> DomainEvent {
    DomainEvent {
        id: next_id(&UuidV7Generator),
        tenant: ctx.tenant(),
        at: ctx.now,
        actor: None,
        kind: alarm.event.clone(),
        audit: Default::default(),
    }
}

/// Due timers are listed earliest first; racing callers firing the same case raise each
/// alarm once (one event each), a later firing (a restart) raises none, and the timer moves
/// only from the instant it was read at.
pub async fn sla_alarms_are_raised_once_by_racing_timers(factory: &dyn StoreFactory) {
    const RACERS: usize = 4;
    let ctx = Ctx::new(factory).await;
    let customer = ctx.customer("Timed", vec![]).await;
    let old = ctx.now - Duration::days(400);
    let at = |m: i64| Some(old + Duration::minutes(m));
    let mut due = Vec::new();
    for (w, b) in [(10, 20), (5, 30)] {
        let mut case = ctx.build_case(&customer, |_| {}).await;
        case.set_sla(Some(SlaMark { due_at: at(b), warning_at: at(w), breach_at: at(b) }));
        ctx.insert_case(&case).await;
        due.push(case);
    }
    let mut later = ctx.build_case(&customer, |_| {}).await;
    later.set_sla(Some(SlaMark { due_at: at(900_000), warning_at: None, breach_at: at(900_000) }));
    ctx.insert_case(&later).await;
    let read_at = old + Duration::minutes(40);
    let ours =
        |timers: Vec<SlaTimer>| -> Vec<SlaTimer> { timers.into_iter().filter(|t| t.tenant == ctx.tenant()).collect() };
    let timers = ours(ctx.store.due_sla_timers(read_at, 10_000).await.unwrap());
    assert_eq!(timers.iter().map(|t| t.case).collect::<Vec<_>>(), vec![due[1].id, due[0].id], "earliest first");
    assert_eq!(timers[1].fire_at, old + Duration::minutes(10), "the first alarm of the mark");

    let mut racers = Vec::new();
    for _ in 0..RACERS {
        let (store, ctx, cases, pair) = (ctx.store.clone(), Arc::new(ctx.clone()), due.clone(), [timers[1], timers[0]]);
        racers.push(tokio::spawn(async move {
            let mut raised = 0;
            for (case, timer) in cases.iter().zip(pair) {
                let alarms = [
                    alarm(case, Metric::FirstResponse, AlarmKind::Warning, old),
                    alarm(case, Metric::FirstResponse, AlarmKind::Breach, old),
                ];
                let events: Vec<DomainEvent> = alarms.iter().map(|a| event_of(&ctx, a)).collect();
                raised += store.fire_sla_timer(&timer, None, &alarms, &events).await.expect("fire");
            }
            raised
        }));
    }
    let mut raised = 0;
    for r in racers {
        raised += r.await.expect("a racer finished");
    }
    assert_eq!(raised, 4, "two alarms of two cases, once each");
    let mut seen = Vec::new();
    for entry in ctx.outbox().await {
        match entry.event.kind {
            EventKind::SlaWarning { case, .. } => seen.push((case, "warning")),
            EventKind::SlaBreached { case, .. } => seen.push((case, "breach")),
            _ => {}
        }
    }
    seen.sort();
    let mut expected =
        vec![(due[0].id, "breach"), (due[0].id, "warning"), (due[1].id, "breach"), (due[1].id, "warning")];
    expected.sort();
    assert_eq!(seen, expected, "one event per alarm");
    assert!(ours(ctx.store.due_sla_timers(read_at, 10_000).await.unwrap()).is_empty(), "the timers moved");

    // A restart fires again from a stale read: nothing is raised twice, the timer is kept.
    let stale = SlaTimer { tenant: ctx.tenant(), case: due[0].id, fire_at: old };
    let again = [alarm(&due[0], Metric::FirstResponse, AlarmKind::Warning, old)];
    let events = [event_of(&ctx, &again[0])];
    assert_eq!(ctx.store.fire_sla_timer(&stale, None, &again, &events).await.unwrap(), 0);
    let far = old + Duration::minutes(900_001);
    let left = ours(ctx.store.due_sla_timers(far, 10_000).await.unwrap());
    assert_eq!(left.iter().map(|t| t.case).collect::<Vec<_>>(), vec![later.id], "a stale firing moves no timer");
    // A new cycle of the metric is a new alarm.
    let next_cycle = [alarm(&due[0], Metric::NextResponse, AlarmKind::Warning, old + Duration::minutes(1))];
    let events = [event_of(&ctx, &next_cycle[0])];
    assert_eq!(ctx.store.fire_sla_timer(&left[0], None, &next_cycle, &events).await.unwrap(), 1);
    assert!(ours(ctx.store.due_sla_timers(far, 10_000).await.unwrap()).is_empty());
}
