//! Property tests of the SLA clock on random calendars (zones with and without daylight
//! saving, overnight shifts, holidays, exceptions) and random case histories: business time
//! is monotonic and additive in wall time, a pause never takes back time already counted,
//! a due instant is the end of an open business second, and the history folded one event at
//! a time (the folded clock stored and reloaded between events) equals the whole replay.

use chrono::{DateTime, NaiveDate, Utc};
use proptest::prelude::*;

use super::calendar::DAY;
use super::timeline::Timeline;
use super::*;
use crate::case::{CaseStatus, Priority};

const ZONES: [&str; 6] =
    ["Europe/Paris", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "UTC", "Australia/Lord_Howe"];
const DAYS: [DayOfWeek; 7] = [
    DayOfWeek::Monday,
    DayOfWeek::Tuesday,
    DayOfWeek::Wednesday,
    DayOfWeek::Thursday,
    DayOfWeek::Friday,
    DayOfWeek::Saturday,
    DayOfWeek::Sunday,
];
/// 2026-01-01T00:00:00Z.
const START: i64 = 1_767_225_600;
const QUARTER: i64 = 900;

fn clock_time(quarters: i64) -> String {
    let q = quarters.rem_euclid(96);
    format!("{:02}:{:02}", q / 4, (q % 4) * 15)
}

/// Weekly hours from increasing cut points (in quarter hours of the week): disjoint by
/// construction; intervals longer than a day are cut into pieces, some crossing midnight.
fn arb_hours() -> impl Strategy<Value = Vec<OpenHours>> {
    proptest::collection::btree_set(0i64..672, 2..12).prop_map(|cuts| {
        let cuts: Vec<i64> = cuts.into_iter().collect();
        let mut hours = Vec::new();
        for pair in cuts.chunks_exact(2) {
            let (mut a, b) = (pair[0], pair[1]);
            while a < b {
                let end = b.min(a + 95);
                let day = usize::try_from(a / 96).unwrap_or(0);
                hours.push(OpenHours { day: DAYS[day], from: clock_time(a), until: clock_time(end) });
                a = end;
            }
        }
        hours
    })
}

fn arb_calendar() -> impl Strategy<Value = BusinessCalendar> {
    let date = (0i64..730)
        .prop_map(|d| NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or(NaiveDate::MIN) + chrono::Duration::days(d));
    (
        proptest::sample::select(ZONES.to_vec()),
        arb_hours(),
        proptest::collection::vec((date.clone(), 0i64..5, any::<bool>()), 0..4),
        proptest::collection::btree_map(date, proptest::option::of((0i64..96, 1i64..95)), 0..4),
    )
        .prop_filter_map("a valid calendar", |(zone, hours, holidays, exceptions)| {
            let spec = CalendarSpec {
                time_zone: zone.to_owned(),
                hours,
                holidays: holidays
                    .into_iter()
                    .map(|(date, len, yearly)| Holiday {
                        date,
                        until: Some(date + chrono::Duration::days(len)),
                        yearly,
                        name: None,
                    })
                    .collect(),
                exceptions: exceptions
                    .into_iter()
                    .map(|(date, span)| DayException {
                        date,
                        hours: span
                            .map(|(a, len)| TimeSpan { from: clock_time(a), until: clock_time(a + len) })
                            .into_iter()
                            .collect(),
                    })
                    .collect(),
            };
            BusinessCalendar::new(spec).ok()
        })
}

fn book(calendar: &BusinessCalendar) -> PolicyBook {
    let rule = |p: Priority, f: u32, n: u32, r: u32| TargetRule {
        priority: Some(p),
        first_response_secs: Some(f),
        next_response_secs: Some(n),
        resolution_secs: Some(r),
        ..TargetRule::default()
    };
    let targets = vec![
        rule(Priority::Urgent, 1800, 900, 4 * 3600),
        rule(Priority::High, 3600, 1800, 8 * 3600),
        rule(Priority::Normal, 4 * 3600, 3600, 24 * 3600),
        rule(Priority::Low, 8 * 3600, 4 * 3600, 72 * 3600),
    ];
    let policy = |basis, pause| {
        SlaPolicy::new(PolicySpec {
            basis,
            pause_statuses: vec![pause],
            warning_percent: Some(80),
            targets: targets.clone(),
        })
    };
    let mut book = PolicyBook::new();
    for (name, p) in [
        ("a", policy(TimeBasis::Business, CaseStatus::Pending)),
        ("b", policy(TimeBasis::Calendar, CaseStatus::OnHold)),
    ] {
        if let Ok(p) = p {
            book.insert(name, p, calendar.clone());
        }
    }
    book
}

fn at(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap_or_default()
}

fn arb_kind() -> impl Strategy<Value = SlaEventKind> {
    let statuses = vec![CaseStatus::Open, CaseStatus::Pending, CaseStatus::OnHold, CaseStatus::Closed];
    prop_oneof![
        3 => proptest::sample::select(statuses).prop_map(|status| SlaEventKind::StatusChanged { status }),
        3 => Just(SlaEventKind::AgentReplied),
        3 => Just(SlaEventKind::CustomerReplied),
        1 => proptest::sample::select(Priority::ALL.to_vec()).prop_map(|priority| SlaEventKind::PriorityChanged { priority }),
        1 => proptest::sample::select(vec!["a", "b"]).prop_map(|p| SlaEventKind::PolicyChanged { policy: p.to_owned() }),
    ]
}

/// A history: a creation in 2026, then events at most three days apart (often at once).
fn arb_history() -> impl Strategy<Value = Vec<SlaEvent>> {
    (
        0i64..365 * DAY,
        proptest::sample::select(Priority::ALL.to_vec()),
        proptest::sample::select(vec!["a", "b"]),
        proptest::collection::vec((prop_oneof![Just(0i64), 0i64..3 * DAY], arb_kind()), 0..25),
    )
        .prop_map(|(created, priority, policy, rest)| {
            let mut t = START + created;
            let mut history = vec![SlaEvent {
                at: at(t),
                kind: SlaEventKind::Created {
                    policy: policy.to_owned(),
                    status: CaseStatus::Open,
                    priority,
                    tier: None,
                    fields: Default::default(),
                },
            }];
            for (gap, kind) in rest {
                t += gap;
                history.push(SlaEvent { at: at(t), kind });
            }
            history
        })
}

fn metrics(state: &SlaState) -> [Option<&MetricState>; 3] {
    [state.first_response.as_ref(), state.next_response.as_ref(), state.resolution.as_ref()]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn business_time_is_monotonic_and_additive_in_wall_time(
        calendar in arb_calendar(),
        from in 0i64..365 * DAY,
        a in 0i64..20 * DAY,
        b in 0i64..20 * DAY,
    ) {
        let (t0, t1, t2) = (START + from, START + from + a.min(b), START + from + a.max(b));
        let mut timeline = Timeline::new(&calendar);
        let (x, y, xy) = (timeline.between(t0, t1), timeline.between(t1, t2), timeline.between(t0, t2));
        prop_assert!(x <= xy, "more wall time, no less business time");
        prop_assert_eq!(x + y, xy, "business time adds up");
        prop_assert!(xy <= t2 - t0, "never more than wall time");
        // a fresh timeline started later agrees
        prop_assert_eq!(Timeline::new(&calendar).between(t1, t2), y);
    }

    #[test]
    fn the_instant_n_business_seconds_later_is_the_end_of_an_open_second(
        calendar in arb_calendar(),
        from in 0i64..365 * DAY,
        quarters in 1i64..400,
        extra in 0i64..QUARTER,
    ) {
        let t0 = START + from;
        let amount = quarters * QUARTER + extra;
        let mut timeline = Timeline::new(&calendar);
        if let Some(due) = timeline.add(t0, amount) {
            prop_assert_eq!(timeline.between(t0, due), amount);
            prop_assert_eq!(Timeline::new(&calendar).between(due - 1, due), 1, "the second before the due instant is open");
            prop_assert_eq!(Timeline::new(&calendar).between(t0, due - 1), amount - 1);
        }
    }

    #[test]
    fn the_state_is_monotonic_in_wall_time_and_due_instants_are_in_business_hours(
        calendar in arb_calendar(),
        history in arb_history(),
        later in proptest::collection::vec(0i64..5 * DAY, 1..5),
    ) {
        let book = book(&calendar);
        let last = history.last().map_or(0, |e| e.at.timestamp());
        let mut previous: Option<SlaState> = None;
        let mut now = last;
        for step in later {
            now += step;
            let state = sla_state(&book, &history, at(now)).map_err(|e| TestCaseError::fail(e.to_string()))?;
            if let Some(before) = &previous {
                for (old, new) in metrics(before).into_iter().zip(metrics(&state)) {
                    if let (Some(old), Some(new)) = (old, new) {
                        prop_assert!(new.elapsed_secs >= old.elapsed_secs, "elapsed went back");
                        prop_assert!(new.paused_secs >= old.paused_secs, "paused went back");
                        prop_assert!(old.breached_at.is_none() || new.breached_at == old.breached_at, "a breach is final");
                    }
                }
            }
            let (policy, _) = book.get(&state.policy).ok_or_else(|| TestCaseError::fail("policy"))?;
            for m in metrics(&state).into_iter().flatten() {
                if m.status == MetricStatus::Running && policy.basis() == TimeBasis::Business {
                    let due = m.due_at.ok_or_else(|| TestCaseError::fail("running without due"))?.timestamp();
                    prop_assert_eq!(Timeline::new(&calendar).between(due - 1, due), 1, "due inside business hours");
                    prop_assert_eq!(Timeline::new(&calendar).between(now, due), m.target_secs - m.elapsed_secs);
                }
                prop_assert!(m.status != MetricStatus::Breached || m.breached_at.is_some());
            }
            previous = Some(state);
        }
    }

    #[test]
    fn pausing_never_takes_back_time_already_counted(
        calendar in arb_calendar(),
        history in arb_history(),
        pause_after in 0i64..2 * DAY,
        look_after in 0i64..4 * DAY,
    ) {
        let book = book(&calendar);
        let last = history.last().map_or(0, |e| e.at.timestamp());
        let t = last + pause_after;
        let before = sla_state(&book, &history, at(t)).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut paused = history;
        // whichever policy is in force, both pause statuses are tried
        for status in [CaseStatus::Pending, CaseStatus::OnHold] {
            paused.push(SlaEvent { at: at(t), kind: SlaEventKind::StatusChanged { status } });
            let at_pause = sla_state(&book, &paused, at(t)).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let after = sla_state(&book, &paused, at(t + look_after)).map_err(|e| TestCaseError::fail(e.to_string()))?;
            for ((b, p), a) in metrics(&before).into_iter().zip(metrics(&at_pause)).zip(metrics(&after)) {
                if let (Some(b), Some(p), Some(a)) = (b, p, a) {
                    prop_assert!(p.elapsed_secs >= b.elapsed_secs, "the pause took back counted time");
                    prop_assert!(a.elapsed_secs >= p.elapsed_secs);
                }
            }
        }
    }

    #[test]
    fn folding_event_by_event_equals_the_whole_replay(
        calendar in arb_calendar(),
        history in arb_history(),
        after in 0i64..3 * DAY,
    ) {
        let book = book(&calendar);
        let now = at(history.last().map_or(0, |e| e.at.timestamp()) + after);
        let whole = sla_state(&book, &history, now).map_err(|e| TestCaseError::fail(e.to_string()))?;
        // a store keeps the folded clock between events: a fresh engine and a reloaded clock each time
        let mut stored = serde_json::to_string(&SlaClock::start(&mut SlaEngine::new(&book), &history[0]).map_err(|e| TestCaseError::fail(e.to_string()))?)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        for (i, event) in history.iter().enumerate().skip(1) {
            let mut clock: SlaClock = serde_json::from_str(&stored).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let mut engine = SlaEngine::new(&book);
            clock.apply(&mut engine, event).map_err(|e| TestCaseError::fail(e.to_string()))?;
            // the state after each prefix equals the replay of that prefix
            let prefix = sla_state(&book, &history[..=i], event.at).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(clock.state(&mut SlaEngine::new(&book), event.at).ok(), Some(prefix));
            stored = serde_json::to_string(&clock).map_err(|e| TestCaseError::fail(e.to_string()))?;
        }
        let clock: SlaClock = serde_json::from_str(&stored).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(clock.state(&mut SlaEngine::new(&book), now).ok(), Some(whole));
    }

    #[test]
    fn the_mark_does_not_depend_on_when_it_is_computed(
        calendar in arb_calendar(),
        history in arb_history(),
        written in 0i64..2 * DAY,
        later in proptest::collection::vec(0i64..20 * DAY, 1..6),
    ) {
        // a store writes the mark when the case is written (at or after its last event) and
        // reads "breached", "warning" and "due next" from it at any later instant
        let book = book(&calendar);
        let last = history.last().map_or(0, |e| e.at.timestamp());
        let fail = |e: crate::error::FieldError| TestCaseError::fail(e.to_string());
        let stored = SlaMark::of(&sla_state(&book, &history, at(last + written)).map_err(fail)?);
        for gap in later {
            let now = at(last + written + gap);
            let state = sla_state(&book, &history, now).map_err(fail)?;
            prop_assert_eq!(SlaMark::of(&state), stored);
            prop_assert_eq!(stored.condition_at(now), SlaCondition::of_state(&state, now));
        }
    }
}
