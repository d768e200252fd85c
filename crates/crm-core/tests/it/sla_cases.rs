//! A case's SLA through the use cases, on the memory store with the manual clock (issue 33):
//! business hours in Paris, a breach at the right instant, a pending status pausing the
//! resolution clock, and a replaced policy recomputing from the history.

use chrono::{DateTime, Utc};
use crm_core::case::{CasePatch, CaseStatus, NewCase};
use crm_core::customer::NewCustomer;
use crm_core::sla::{
    CalendarSpec, DayOfWeek, MetricStatus, NewSlaCalendar, NewSlaPolicy, OpenHours, PolicySpec, SlaPolicyBody,
    TargetRule, TimeBasis,
};
use crm_core::time::Clock;

use crate::helpers::Env;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn policy(resolution_secs: u32) -> PolicySpec {
    PolicySpec {
        basis: TimeBasis::Business,
        pause_statuses: vec![CaseStatus::Pending],
        warning_percent: Some(50),
        targets: vec![TargetRule {
            first_response_secs: Some(2 * 3600),
            resolution_secs: Some(resolution_secs),
            ..TargetRule::default()
        }],
    }
}

#[tokio::test]
async fn a_cases_sla_follows_business_hours_pauses_and_policy_changes() {
    let env = Env::new().await;
    let admin = env.tenant.admin_actor();
    let weekdays =
        [DayOfWeek::Monday, DayOfWeek::Tuesday, DayOfWeek::Wednesday, DayOfWeek::Thursday, DayOfWeek::Friday];
    let hours = weekdays.map(|day| OpenHours { day, from: "09:00".into(), until: "17:00".into() }).to_vec();
    let spec = CalendarSpec { time_zone: "Europe/Paris".into(), hours, holidays: vec![], exceptions: vec![] };
    env.crm
        .create_sla_calendar(&admin, NewSlaCalendar { name: "paris".into(), calendar: spec })
        .await
        .expect("calendar");
    let input =
        NewSlaPolicy { name: "standard".into(), group: None, calendar: "paris".into(), policy: policy(16 * 3600) };
    env.crm.create_sla_policy(&admin, input).await.expect("policy");

    // Monday 2026-11-23, 10:00 in Paris (09:00 UTC).
    assert_eq!(env.clock.now(), at("2026-11-23T09:00:00Z"));
    let customer = env
        .crm
        .create_customer(&admin, NewCustomer { name: "Ada Waiting".into(), ..NewCustomer::default() })
        .await
        .expect("customer");
    let new = serde_json::from_value::<NewCase>(serde_json::json!({"customer": customer.id, "subject": "Broken"}));
    let case = env.crm.create_case(&admin, new.expect("new case")).await.expect("case");
    let sla = env.crm.case_sla(&admin, case.id).await.expect("sla");
    let state = sla.state.expect("under the tenant's policy");
    let first = state.first_response.expect("first response");
    assert_eq!((first.status, first.due_at), (MetricStatus::Running, Some(at("2026-11-23T11:00:00Z"))));
    assert_eq!(first.warning_at, Some(at("2026-11-23T10:00:00Z")));

    // 16:30 Paris: the first response breached at 12:00; resolution has 6.5 business hours.
    env.clock.set(at("2026-11-23T15:30:00Z"));
    let state = env.crm.case_sla(&admin, case.id).await.expect("sla").state.expect("state");
    let first = state.first_response.expect("first response");
    assert_eq!((first.status, first.breached_at), (MetricStatus::Breached, Some(at("2026-11-23T11:00:00Z"))));
    let resolution = state.resolution.expect("resolution");
    assert_eq!((resolution.elapsed_secs, resolution.status), (6 * 3600 + 1800, MetricStatus::Running));
    // 9.5 h left: half an hour on Monday, 8 on Tuesday, one on Wednesday.
    assert_eq!(resolution.due_at, Some(at("2026-11-25T09:00:00Z")));

    // Pending from 16:30 Monday to 12:00 Tuesday: paused for 3.5 business hours.
    let patch = |status| CasePatch { status: Some(status), ..CasePatch::default() };
    let case = env.crm.update_case(&admin, case.id, case.version(), patch(CaseStatus::Pending)).await.expect("pending");
    env.clock.set(at("2026-11-24T11:00:00Z"));
    let state = env.crm.case_sla(&admin, case.id).await.expect("sla").state.expect("state");
    let resolution = state.resolution.expect("resolution");
    assert_eq!((resolution.status, resolution.due_at), (MetricStatus::Paused, None));
    assert_eq!((resolution.elapsed_secs, resolution.paused_secs), (6 * 3600 + 1800, 3 * 3600 + 1800));
    let case = env.crm.update_case(&admin, case.id, case.version(), patch(CaseStatus::Open)).await.expect("open");
    env.clock.advance(chrono::Duration::hours(1));
    let state = env.crm.case_sla(&admin, case.id).await.expect("sla").state.expect("state");
    let resolution = state.resolution.expect("resolution");
    assert_eq!(resolution.elapsed_secs, 7 * 3600 + 1800);
    // 8.5 h left from Tuesday 13:00: four on Tuesday, 4.5 on Wednesday.
    assert_eq!(resolution.due_at, Some(at("2026-11-25T12:30:00Z")));

    // A 4-hour resolution target, from now on: recomputed from the history, it breached on
    // Monday at 14:00 Paris, and the paused time is kept.
    let stored = env.crm.sla_policy(&admin, "standard").await.expect("policy");
    let body = SlaPolicyBody { group: None, calendar: "paris".into(), policy: policy(4 * 3600) };
    env.crm.replace_sla_policy(&admin, "standard", stored.version, body).await.expect("replaced");
    let state = env.crm.case_sla(&admin, case.id).await.expect("sla").state.expect("state");
    let resolution = state.resolution.expect("resolution");
    assert_eq!((resolution.status, resolution.breached_at), (MetricStatus::Breached, Some(at("2026-11-23T13:00:00Z"))));
    assert_eq!(resolution.paused_secs, 3 * 3600 + 1800);
}
