//! Replies refresh a case's SLA mark in the transaction that writes them (issue 33, ADR
//! 0032): an agent's mail (`notify`), a customer's mail (`receive_mail`) and an agent's
//! follow-up each leave the stored mark equal to the clock's, so the case list's SLA filter
//! and "due next" order are right at once, with no later case write; a reply moves no
//! case version.

use chrono::{DateTime, Duration, Utc};
use crm_core::access::Actor;
use crm_core::case::{Case, CaseFilter, CasePatch, CaseSort, CaseSortField, Priority, SortDirection};
use crm_core::follow_up::{FollowUpKind, NewFollowUp};
use crm_core::mail::NotifyRequest;
use crm_core::page::PageRequest;
use crm_core::sla::{
    CalendarSpec, DayOfWeek, NewSlaCalendar, NewSlaPolicy, OpenHours, PolicySpec, SlaCondition, SlaMark, TargetRule,
    TimeBasis,
};
use crm_core::time::Clock;

use crate::helpers::Env;
use crate::inbound::{customer_case, env, mail};

async fn policy(env: &Env, admin: &Actor) {
    // Calendar time: every second counts, whatever the open hours.
    let days = [DayOfWeek::Monday, DayOfWeek::Tuesday, DayOfWeek::Wednesday, DayOfWeek::Thursday, DayOfWeek::Friday];
    let hours = days.map(|day| OpenHours { day, from: "09:00".into(), until: "17:00".into() }).to_vec();
    let spec = CalendarSpec { time_zone: "UTC".into(), hours, holidays: vec![], exceptions: vec![] };
    env.crm.create_sla_calendar(admin, NewSlaCalendar { name: "always".into(), calendar: spec }).await.expect("cal");
    let policy = PolicySpec {
        basis: TimeBasis::Calendar,
        pause_statuses: vec![],
        warning_percent: None,
        targets: vec![TargetRule {
            first_response_secs: Some(2 * 3600),
            next_response_secs: Some(3600),
            ..TargetRule::default()
        }],
    };
    let input = NewSlaPolicy { name: "standard".into(), group: None, calendar: "always".into(), policy };
    env.crm.create_sla_policy(admin, input).await.expect("policy");
}

/// The stored case, its mark checked against the clock's state now.
async fn stored_as_the_clock_says(env: &Env, admin: &Actor, case: &Case) -> Case {
    let stored = env.crm.get_case(admin, case.id).await.expect("case");
    let state = env.crm.case_sla(admin, case.id).await.expect("sla").state.expect("a policy applies");
    let clock = Some(SlaMark::of(&state)).filter(|m| !m.is_empty());
    assert_eq!(stored.sla().copied(), clock, "the stored mark is the clock's, with no later write");
    stored
}

async fn listed(env: &Env, admin: &Actor, condition: SlaCondition) -> usize {
    let filter = CaseFilter { sla: Some(condition), ..CaseFilter::default() };
    let sort = CaseSort { field: CaseSortField::DueNext, direction: SortDirection::Asc };
    let page = env.crm.list_cases(admin, &filter, sort, &PageRequest { limit: 10, after: None }).await;
    page.expect("list").items.len()
}

fn due(case: &Case) -> Option<DateTime<Utc>> {
    case.sla().and_then(|m| m.due_at)
}

#[tokio::test]
async fn every_reply_path_refreshes_the_mark_in_its_own_write() {
    let env = env().await;
    let admin = env.tenant.admin_actor();
    policy(&env, &admin).await;
    let start = env.clock.now();
    let case = customer_case(&env).await;
    assert_eq!(due(&case), Some(start + Duration::hours(2)), "first response due");

    // The agent's mail meets the first response: nothing left to count.
    env.clock.set(start + Duration::minutes(30));
    let request = NotifyRequest { html: "<p>On it</p>".into(), ..NotifyRequest::default() };
    let sent = env.crm.notify(&admin, case.id, request).await.expect("sent");
    let case = stored_as_the_clock_says(&env, &admin, &case).await;
    assert_eq!(due(&case), None, "first response met");
    assert_eq!(listed(&env, &admin, SlaCondition::Running).await, 0);

    // The customer answers by mail: a next-response cycle, due an hour later.
    env.clock.set(start + Duration::hours(1));
    let reply = mail(
        "jane@customer.example",
        "Re: Router",
        "r1@customer.example",
        &format!("In-Reply-To: {}\r\n", sent.message_id),
    );
    let got = env.crm.receive_mail(&admin, reply.as_bytes()).await.expect("received");
    assert_eq!(got.mail.case, case.id);
    let case = stored_as_the_clock_says(&env, &admin, &case).await;
    assert_eq!(due(&case), Some(start + Duration::hours(2)), "next response due");
    assert_eq!(listed(&env, &admin, SlaCondition::Running).await, 1);

    // An agent's outbound follow-up meets it; a note does not count.
    env.clock.set(start + Duration::minutes(70));
    let note = NewFollowUp { kind: Some(FollowUpKind::Note), body: "checking".into(), visibility: None };
    env.crm.add_follow_up(&admin, case.id, note).await.expect("note");
    let case = stored_as_the_clock_says(&env, &admin, &case).await;
    assert_eq!(due(&case), Some(start + Duration::hours(2)), "a note is no reply");
    let answer = NewFollowUp { kind: Some(FollowUpKind::OutboundEmail), body: "fixed".into(), visibility: None };
    env.crm.add_follow_up(&admin, case.id, answer).await.expect("answer");
    let case = stored_as_the_clock_says(&env, &admin, &case).await;
    assert_eq!(due(&case), None, "next response met");

    // A second customer mail opens another cycle; the timer finds it without a case write.
    env.clock.set(start + Duration::hours(3));
    let again = mail("jane@customer.example", "more", "r2@customer.example", "References: <r1@customer.example>\r\n");
    env.crm.receive_mail(&admin, again.as_bytes()).await.expect("received");
    let case = stored_as_the_clock_says(&env, &admin, &case).await;
    assert_eq!(due(&case), Some(start + Duration::hours(4)));
    env.clock.set(start + Duration::hours(4) + Duration::seconds(1));
    assert_eq!(listed(&env, &admin, SlaCondition::Breached).await, 1, "breached, read from the row");
    assert_eq!(env.crm.fire_sla_timers(10).await.expect("round").done, 1, "the breach, once");

    // A reply moves the mark generation, not the version: an edit at the version read
    // before the replies still holds, and keeps the mark.
    let patch = CasePatch { priority: Some(Priority::High), ..CasePatch::default() };
    let edited = env.crm.update_case(&admin, case.id, case.version(), patch).await.expect("edited");
    assert_eq!(edited.sla_gen(), case.sla_gen(), "an edit keeps the generation");
    stored_as_the_clock_says(&env, &admin, &edited).await;
}
