//! The SLA clock's speed (issue 33): the state of a case with 1,000 events on a calendar
//! holding ten years of holidays and exceptions must take < 100 µs.
//!
//! `cargo bench -p crm-core --bench sla`

use std::hint::black_box;

use chrono::{DateTime, NaiveDate, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use crm_core::case::{CaseStatus, Priority};
use crm_core::sla::{
    BusinessCalendar, CalendarSpec, DayException, DayOfWeek, Holiday, OpenHours, PolicyBook, PolicySpec, SlaClock,
    SlaEngine, SlaEvent, SlaEventKind, SlaPolicy, TargetRule, TimeBasis, TimeSpan, sla_state,
};

const WEEKDAYS: [DayOfWeek; 5] =
    [DayOfWeek::Monday, DayOfWeek::Tuesday, DayOfWeek::Wednesday, DayOfWeek::Thursday, DayOfWeek::Friday];

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a real date")
}

/// Paris, weekdays with a lunch break and Saturday mornings; yearly holidays, ten years of
/// one-off closures (ten a year) and exceptions (five a year).
fn calendar() -> BusinessCalendar {
    let mut hours = Vec::new();
    for day in WEEKDAYS {
        hours.push(OpenHours { day, from: "09:00".into(), until: "12:00".into() });
        hours.push(OpenHours { day, from: "13:00".into(), until: "18:00".into() });
    }
    hours.push(OpenHours { day: DayOfWeek::Saturday, from: "10:00".into(), until: "14:00".into() });
    let mut holidays: Vec<Holiday> = [(1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25)]
        .into_iter()
        .map(|(m, d)| Holiday { date: date(2026, m, d), until: None, yearly: true, name: None })
        .collect();
    let mut exceptions = Vec::new();
    for year in 2026..2036 {
        for k in 0..10u32 {
            holidays.push(Holiday { date: date(year, 1 + k, 3 + k), until: None, yearly: false, name: None });
        }
        for k in 0..5u32 {
            exceptions.push(DayException {
                date: date(year, 2 + 2 * k, 20),
                hours: vec![
                    TimeSpan { from: "08:00".into(), until: "11:00".into() },
                    TimeSpan { from: "20:00".into(), until: "02:00".into() },
                ],
            });
        }
    }
    BusinessCalendar::new(CalendarSpec { time_zone: "Europe/Paris".into(), hours, holidays, exceptions })
        .expect("a valid calendar")
}

fn book() -> PolicyBook {
    let rule = |p: Priority, f: u32, n: u32, r: u32| TargetRule {
        priority: Some(p),
        first_response_secs: Some(f),
        next_response_secs: Some(n),
        resolution_secs: Some(r),
        ..TargetRule::default()
    };
    let policy = SlaPolicy::new(PolicySpec {
        basis: TimeBasis::Business,
        pause_statuses: vec![CaseStatus::Pending, CaseStatus::OnHold],
        warning_percent: Some(80),
        targets: vec![
            rule(Priority::Urgent, 1800, 900, 4 * 3600),
            rule(Priority::High, 3600, 1800, 8 * 3600),
            rule(Priority::Normal, 4 * 3600, 3600, 40 * 3600),
            rule(Priority::Low, 8 * 3600, 4 * 3600, 200 * 3600),
        ],
    })
    .expect("a valid policy");
    let mut book = PolicyBook::new();
    let calendar = calendar();
    book.insert("standard", policy.clone(), calendar.clone());
    book.insert("other", policy, calendar);
    book
}

/// A case with 1,000 events, one every 2h17m (about 95 days): replies both ways, pauses,
/// priority and policy changes, a close and a reopen now and then.
fn history() -> Vec<SlaEvent> {
    let start = "2026-03-02T08:00:00Z".parse::<DateTime<Utc>>().expect("an instant");
    let mut events = vec![SlaEvent {
        at: start,
        kind: SlaEventKind::Created {
            policy: "standard".into(),
            status: CaseStatus::Open,
            priority: Priority::Normal,
            tier: None,
            fields: Default::default(),
        },
    }];
    for i in 1..1000 {
        let kind = match i % 12 {
            0 | 4 | 8 => SlaEventKind::CustomerReplied,
            1 | 5 | 9 => SlaEventKind::AgentReplied,
            2 => SlaEventKind::StatusChanged { status: CaseStatus::Pending },
            3 | 11 => SlaEventKind::StatusChanged { status: CaseStatus::Open },
            6 => SlaEventKind::PriorityChanged { priority: Priority::ALL[i % 4] },
            7 => SlaEventKind::PolicyChanged { policy: if i % 24 == 7 { "other".into() } else { "standard".into() } },
            _ => SlaEventKind::StatusChanged { status: CaseStatus::Closed },
        };
        events.push(SlaEvent { at: start + chrono::Duration::minutes(137 * i as i64), kind });
    }
    events
}

fn bench(c: &mut Criterion) {
    let book = book();
    let history = history();
    let now = history.last().expect("events").at + chrono::Duration::hours(1);
    c.bench_function("sla_state, 1000 events, 10-year calendar", |b| {
        b.iter(|| sla_state(black_box(&book), black_box(&history), now).expect("a state"));
    });
    let two = vec![history[0].clone(), history[999].clone()];
    c.bench_function("sla_state, 2 events 95 days apart", |b| {
        b.iter(|| sla_state(black_box(&book), black_box(&two), now).expect("a state"));
    });
    // what a store holding the folded clock pays for one more event and the state after it
    let mut engine = SlaEngine::new(&book);
    let mut clock = SlaClock::start(&mut engine, &history[0]).expect("a clock");
    for e in &history[1..999] {
        clock.apply(&mut engine, e).expect("applied");
    }
    c.bench_function("one more event on a stored clock, then its state", |b| {
        b.iter(|| {
            let mut engine = SlaEngine::new(&book);
            let mut clock = clock.clone();
            clock.apply(&mut engine, black_box(&history[999])).expect("applied");
            clock.state(&mut engine, now).expect("a state")
        });
    });
    c.bench_function("calendar validation, 10 years of holidays", |b| b.iter(calendar));
}

criterion_group!(benches, bench);
criterion_main!(benches);
