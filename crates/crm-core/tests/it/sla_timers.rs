//! The SLA mark and timer through the use cases, on the memory store with the manual clock
//! (issue 33, ADR 0028): the case list's SLA conditions follow the clock, a warning and a
//! breach are raised once each at their instants by racing rounds, a pause reschedules the
//! breach, and a round after a "restart" raises nothing again.

use chrono::{DateTime, Utc};
use crm_core::case::{CaseFilter, CasePatch, CaseSort, CaseSortField, CaseStatus, NewCase, SortDirection};
use crm_core::customer::NewCustomer;
use crm_core::event::EventKind;
use crm_core::page::PageRequest;
use crm_core::sla::{
    CalendarSpec, DayOfWeek, Metric, NewSlaCalendar, NewSlaPolicy, OpenHours, PolicySpec, SlaCondition, SlaPolicyBody,
    TargetRule, TimeBasis,
};
use crm_core::time::Clock;

use crate::helpers::Env;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// (kind, metric) of the SLA events written so far.
fn alarms(env: &Env) -> Vec<(&'static str, Metric)> {
    env.store
        .events_of(env.tenant.id())
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::SlaWarning { metric, .. } => Some(("warning", metric)),
            EventKind::SlaBreached { metric, .. } => Some(("breach", metric)),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn warnings_and_breaches_are_raised_once_at_their_instants_and_follow_pauses() {
    let env = Env::new().await;
    let admin = env.tenant.admin_actor();
    let weekdays =
        [DayOfWeek::Monday, DayOfWeek::Tuesday, DayOfWeek::Wednesday, DayOfWeek::Thursday, DayOfWeek::Friday];
    let hours = weekdays.map(|day| OpenHours { day, from: "09:00".into(), until: "17:00".into() }).to_vec();
    let spec = CalendarSpec { time_zone: "Europe/Paris".into(), hours, holidays: vec![], exceptions: vec![] };
    env.crm.create_sla_calendar(&admin, NewSlaCalendar { name: "paris".into(), calendar: spec }).await.expect("cal");
    let policy = PolicySpec {
        basis: TimeBasis::Business,
        pause_statuses: vec![CaseStatus::Pending],
        warning_percent: Some(50),
        targets: vec![TargetRule { first_response_secs: Some(2 * 3600), ..TargetRule::default() }],
    };
    let input = NewSlaPolicy { name: "standard".into(), group: None, calendar: "paris".into(), policy };
    env.crm.create_sla_policy(&admin, input).await.expect("policy");

    // Monday 2026-11-23, 10:00 in Paris: first response due at 12:00, warning at 11:00.
    assert_eq!(env.clock.now(), at("2026-11-23T09:00:00Z"));
    let customer = env
        .crm
        .create_customer(&admin, NewCustomer { name: "Ada Timed".into(), ..NewCustomer::default() })
        .await
        .expect("customer");
    let new = serde_json::from_value::<NewCase>(serde_json::json!({"customer": customer.id, "subject": "Broken"}));
    let case = env.crm.create_case(&admin, new.expect("new case")).await.expect("case");
    let mark = *case.sla().expect("marked at creation");
    assert_eq!((mark.due_at, mark.warning_at), (Some(at("2026-11-23T11:00:00Z")), Some(at("2026-11-23T10:00:00Z"))));
    let listed = |condition| {
        let crm = env.crm.clone();
        let admin = admin.clone();
        async move {
            let filter = CaseFilter { sla: Some(condition), ..CaseFilter::default() };
            let sort = CaseSort { field: CaseSortField::DueNext, direction: SortDirection::Asc };
            let page = crm.list_cases(&admin, &filter, sort, &PageRequest { limit: 10, after: None }).await;
            page.expect("list").items.len()
        }
    };
    assert_eq!(listed(SlaCondition::Running).await, 1);
    assert_eq!(env.crm.fire_sla_timers(10).await.expect("round").done, 0, "nothing due yet");

    // 11:00:30 Paris: the warning, once, whatever the rounds racing.
    env.clock.set(at("2026-11-23T10:00:30Z"));
    assert_eq!((listed(SlaCondition::Warning).await, listed(SlaCondition::Running).await), (1, 0));
    let (a, b) = tokio::join!(env.crm.fire_sla_timers(10), env.crm.fire_sla_timers(10));
    assert_eq!(a.expect("round").done + b.expect("round").done, 1);
    assert_eq!(alarms(&env), [("warning", Metric::FirstResponse)]);

    // Pending from 11:30 to 12:30 Paris: paused, so no breach at 12:00.
    let patch = |status| CasePatch { status: Some(status), ..CasePatch::default() };
    env.clock.set(at("2026-11-23T10:30:00Z"));
    let case = env.crm.update_case(&admin, case.id, case.version(), patch(CaseStatus::Pending)).await.expect("pending");
    assert_eq!(case.sla().and_then(|m| m.due_at), None, "a paused case has no deadline");
    env.clock.set(at("2026-11-23T11:30:00Z"));
    env.crm.fire_sla_timers(10).await.expect("round");
    assert_eq!(alarms(&env).len(), 1, "no breach while paused");
    assert_eq!(listed(SlaCondition::Breached).await, 0);
    let case = env.crm.update_case(&admin, case.id, case.version(), patch(CaseStatus::Open)).await.expect("open");
    // 90 minutes counted before the pause: due 30 minutes after the resume.
    assert_eq!(case.sla().and_then(|m| m.due_at), Some(at("2026-11-23T12:00:00Z")), "rescheduled");

    env.clock.set(at("2026-11-23T12:00:01Z"));
    assert_eq!(env.crm.fire_sla_timers(10).await.expect("round").done, 1);
    // a restarted worker (a fresh round) raises nothing twice
    assert_eq!(env.crm.fire_sla_timers(10).await.expect("round").done, 0);
    assert_eq!(alarms(&env), [("warning", Metric::FirstResponse), ("breach", Metric::FirstResponse)]);
    assert_eq!(listed(SlaCondition::Breached).await, 1);

    // A longer target (a replaced policy): the round re-marks the stored cases from their
    // history, as the clock replays them.
    let other = serde_json::from_value::<NewCase>(serde_json::json!({"customer": customer.id, "subject": "Later"}));
    let other = env.crm.create_case(&admin, other.expect("new case")).await.expect("case");
    let longer = PolicySpec {
        basis: TimeBasis::Business,
        pause_statuses: vec![CaseStatus::Pending],
        warning_percent: None,
        targets: vec![TargetRule { first_response_secs: Some(4 * 3600), ..TargetRule::default() }],
    };
    let body = SlaPolicyBody { group: None, calendar: "paris".into(), policy: longer };
    env.crm.replace_sla_policy(&admin, "standard", 1, body).await.expect("replaced");
    assert_eq!(env.crm.get_case(&admin, other.id).await.expect("case").sla(), other.sla(), "not re-marked yet");
    let report = env.crm.remark_sla_cases(1).await.expect("round");
    assert!(report.more, "a page of one, two cases");
    while env.crm.remark_sla_cases(1).await.expect("round").more {}
    // replayed under the settings in force now (ADR 0016): 4 business hours, one paused
    let stored = env.crm.get_case(&admin, case.id).await.expect("case");
    assert_eq!(stored.sla().and_then(|m| m.breach_at), Some(at("2026-11-23T14:00:00Z")));
    // its breach was raised already: the same alarm is not raised again at 14:00
    env.clock.set(at("2026-11-23T14:00:01Z"));
    env.crm.fire_sla_timers(10).await.expect("round");
    assert_eq!(alarms(&env).len(), 2, "one breach per metric cycle");
    let remarked = env.crm.get_case(&admin, other.id).await.expect("case");
    let replayed = env.crm.case_sla(&admin, other.id).await.expect("sla").state.expect("state");
    let first = replayed.first_response.expect("first response");
    assert_ne!(remarked.sla(), other.sla(), "the new target moved the deadline");
    assert_eq!(remarked.sla().and_then(|m| m.due_at), first.due_at, "the mark is the clock's");
    assert_eq!(remarked.sla().and_then(|m| m.warning_at), None, "no warning share any more");
    assert_eq!(env.crm.remark_sla_cases(10).await.expect("round").claimed, 0, "nothing pending");
}
