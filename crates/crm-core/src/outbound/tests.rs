//! Tests of the outbound rules: outcomes, the calling window, and properties of the claim
//! rule (never outside the window, never a do-not-call number, never one entry to two agents
//! while its lease runs).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;
use serde_json::json;
use uuid::Uuid;

use super::*;
use crate::ids::{AgentId, CallListEntryId, CallListId, CampaignId, TenantId};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 29, 0, 0, 0).single().expect("a time")
}

fn agent(n: u128) -> AgentId {
    AgentId::from_uuid(Uuid::from_u128(n))
}

fn list(window: CallingWindow, zones: &[&str]) -> CallList {
    let mut l = NewCallList {
        name: "List".into(),
        active: None,
        assignment: Assignment::default(),
        script: None,
        window: Some(window),
        max_attempts: Some(3),
        lease_seconds: Some(600),
        outcomes: None,
    }
    .build(
        CallListId::from_uuid(Uuid::from_u128(1)),
        TenantId::from_uuid(Uuid::from_u128(9)),
        CampaignId::from_uuid(Uuid::from_u128(2)),
        t0(),
    )
    .expect("a list");
    l.zones = zones.iter().map(|z| (*z).to_owned()).collect();
    l
}

fn campaign() -> Campaign {
    NewCampaign {
        name: "Spring".into(),
        purpose: CampaignPurpose::Survey,
        starts_at: None,
        ends_at: None,
        qualification: vec![QualificationField {
            key: "budget".into(),
            label: "Budget".into(),
            kind: QualificationKind::Number,
            options: vec![],
        }],
    }
    .build(CampaignId::from_uuid(Uuid::from_u128(2)), TenantId::from_uuid(Uuid::from_u128(9)), t0())
    .expect("a campaign")
}

#[allow(clippy::too_many_arguments)]
fn entry(
    n: u128,
    zone: &str,
    phone: &str,
    priority: i32,
    due: DateTime<Utc>,
    attempts: u32,
    reserved: Option<AgentId>,
    closed: bool,
) -> CallListEntry {
    serde_json::from_value(json!({
        "id": Uuid::from_u128(100 + n), "tenant": Uuid::from_u128(9), "list": Uuid::from_u128(1),
        "customer": Uuid::from_u128(500 + n), "phone": phone, "zone": zone, "priority": priority,
        "created_at": t0(), "state": if closed { "closed" } else { "open" }, "attempts": attempts,
        "due_at": due, "reserved_for": reserved, "version": 1,
    }))
    .expect("an entry")
}

fn window(from: u32, until: u32) -> CallingWindow {
    CallingWindow {
        from: NaiveTime::from_hms_opt(from, 0, 0).expect("a time"),
        until: NaiveTime::from_hms_opt(until, 0, 0).expect("a time"),
    }
}

#[test]
fn the_window_is_local_to_the_zone_and_may_wrap_midnight() {
    let w = window(9, 20);
    let at = |h| Utc.with_ymd_and_hms(2026, 6, 1, h, 30, 0).single().expect("a time");
    assert!(w.is_open("Europe/Berlin", at(8))); // 10:30 in Berlin (summer)
    assert!(!w.is_open("America/New_York", at(8))); // 04:30 in New York
    assert!(!w.is_open("Europe/Berlin", at(18))); // 20:30
    assert!(!w.is_open("Not/AZone", at(10)));
    let night = window(22, 6);
    assert!(night.is_open("UTC", at(23)) && night.is_open("UTC", at(2)) && !night.is_open("UTC", at(12)));
}

#[test]
fn the_zone_comes_from_the_numbers_region() {
    let de = crate::customer::PhoneNumber::parse("+49 30 1234567", None).expect("a number");
    assert_eq!(zone_of_number(&de), Some(Tz::Europe__Berlin));
    let us = crate::customer::PhoneNumber::parse("+1 212 555 0100", None).expect("a number");
    assert_eq!(zone_of_number(&us), Some(Tz::America__New_York));
}

#[test]
fn outcomes_retry_call_back_and_close() {
    let l = list(window(0, 23), &["UTC"]);
    let c = campaign();
    let a = agent(1);
    let mut e = entry(1, "UTC", "+4930123456", 0, t0(), 0, None, false);
    // Not handed out yet: refused.
    let input = |code: &str| OutcomeInput {
        disposition: code.into(),
        callback_at: None,
        same_agent: false,
        answers: BTreeMap::new(),
    };
    assert!(e.record_outcome(&l, &c, a, input("busy"), t0()).is_err());
    e.lease_to(a, t0() + Duration::minutes(10));
    assert!(e.clone().record_outcome(&l, &c, agent(2), input("busy"), t0()).is_err(), "another agent's lease");
    let err = e.clone().record_outcome(&l, &c, a, input("nope"), t0()).expect_err("unknown code");
    assert!(err.to_string().contains("disposition"), "{err}");
    let err = e.clone().record_outcome(&l, &c, a, input("callback"), t0()).expect_err("no time");
    assert!(err.to_string().contains("callback_at"), "{err}");
    let mut bad = input("success");
    bad.answers.insert("budget".into(), json!("lots"));
    bad.answers.insert("colour".into(), json!("red"));
    let err = e.clone().record_outcome(&l, &c, a, bad, t0()).expect_err("bad answers");
    assert!(err.to_string().contains("answers.budget") && err.to_string().contains("answers.colour"), "{err}");

    let r = e.record_outcome(&l, &c, a, input("busy"), t0()).expect("a retry");
    assert_eq!((r.entry.attempts(), r.entry.due_at(), r.entry.lease()), (1, t0() + Duration::minutes(15), None));
    let back = t0() + Duration::days(1);
    e.lease_to(a, t0() + Duration::minutes(30));
    let cb = OutcomeInput {
        disposition: "callback".into(),
        callback_at: Some(back),
        same_agent: true,
        answers: BTreeMap::new(),
    };
    let r = e.record_outcome(&l, &c, a, cb, t0()).expect("a callback");
    assert_eq!((r.entry.due_at(), r.entry.reserved_for(), r.entry.reached()), (back, Some(a), true));
    e.lease_to(a, back + Duration::minutes(10));
    let r = e.record_outcome(&l, &c, a, input("no_answer"), back).expect("the third attempt");
    assert_eq!((r.entry.state(), r.entry.closing()), (EntryState::Closed, Some(Closing::MaxAttempts)));
    let p = Progress::of([&r.entry]);
    assert_eq!((p.done, p.pending, p.reachable, p.succeeded), (1, 0, 1, 0));

    // The default `do_not_call` code closes the entry and says the number goes on the list.
    let mut e = entry(2, "UTC", "+4930123457", 0, t0(), 0, None, false);
    e.lease_to(a, t0() + Duration::minutes(10));
    let r = e.record_outcome(&l, &c, a, input("do_not_call"), t0()).expect("do not call");
    assert_eq!((r.entry.state(), r.entry.closing(), r.do_not_call), (EntryState::Closed, Some(Closing::Failure), true));
    assert!(!l.outcomes.iter().any(|o| o.do_not_call && o.code != "do_not_call"), "one such default code");
}

/// The reference claim a memory store does: the first eligible entry in claim order.
fn pick<'a>(claim: &EntryClaim, entries: &'a [CallListEntry], dnc: &BTreeSet<String>) -> Option<&'a CallListEntry> {
    entries.iter().filter(|e| claim.allows(e, dnc.contains(e.phone.as_e164()))).min_by(|a, b| claim_order(a, b))
}

const ZONES: &[&str] =
    &["Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney", "UTC", "America/Los_Angeles"];
const PHONES: &[&str] =
    &["+4930123456", "+12125550100", "+81312345678", "+61212345678", "+33123456789", "+442071234567"];

/// A generated entry: zone, phone, priority, due offset (minutes), attempts, reserved-for agent, closed.
type RawEntry = (usize, usize, i32, i64, u32, Option<u8>, bool);

fn arb_entries() -> impl Strategy<Value = Vec<RawEntry>> {
    prop::collection::vec(
        (0..ZONES.len(), 0..PHONES.len(), 0..3i32, -600..600i64, 0..4u32, prop::option::of(0..3u8), any::<bool>()),
        0..40,
    )
}

proptest! {
    #[test]
    fn a_claim_never_calls_outside_the_window_nor_a_dnc_number(
        raw in arb_entries(),
        from in 0u32..24, until in 0u32..24,
        minutes in 0i64..(60 * 24 * 366),
        dnc in prop::collection::btree_set(0..PHONES.len(), 0..3),
        who in 0u8..3,
    ) {
        prop_assume!(from != until);
        let now = t0() + Duration::minutes(minutes);
        let l = list(window(from, until), ZONES);
        let entries: Vec<CallListEntry> = raw.iter().enumerate().map(|(i, (z, p, prio, due, att, res, closed))| {
            entry(i as u128, ZONES[*z], PHONES[*p], *prio, now + Duration::minutes(*due), *att, res.map(|r| agent(u128::from(r))), *closed)
        }).collect();
        let dnc: BTreeSet<String> = dnc.iter().map(|i| PHONES[*i].to_owned()).collect();
        let claim = EntryClaim::new(&l, agent(u128::from(who)), now);
        if let Some(e) = pick(&claim, &entries, &dnc) {
            // An independent check of the window: the local hour in the entry's zone.
            let tz: Tz = e.zone.parse().expect("a zone");
            let local = now.with_timezone(&tz).time();
            let h = local.hour();
            let inside = if from < until { from <= h && h < until } else { h >= from || h < until };
            prop_assert!(inside, "{} at {} local {}", e.zone, now, local);
            prop_assert!(!dnc.contains(e.phone.as_e164()));
            prop_assert!(e.due_at() <= now && e.attempts() < l.max_attempts && e.state() == EntryState::Open);
            prop_assert!(e.reserved_for().is_none_or(|a| a == agent(u128::from(who))));
            // The pick is first in claim order among the eligible.
            for other in &entries {
                if claim.allows(other, dnc.contains(other.phone.as_e164())) {
                    prop_assert!(claim_order(e, other) != std::cmp::Ordering::Greater);
                }
            }
        } else {
            for other in &entries {
                prop_assert!(!claim.allows(other, dnc.contains(other.phone.as_e164())));
            }
        }
    }

    #[test]
    fn a_leased_entry_goes_to_nobody_else_until_its_lease_ends(
        raw in arb_entries(),
        agents in prop::collection::vec(0u8..16, 1..60),
        step in 0i64..120,
    ) {
        let l = list(window(0, 23), ZONES);
        let mut now = t0() + Duration::hours(12);
        let mut entries: Vec<CallListEntry> = raw.iter().enumerate().map(|(i, (z, p, prio, due, att, _, closed))| {
            entry(i as u128, ZONES[*z], PHONES[*p], *prio, now + Duration::minutes(*due), *att, None, *closed)
        }).collect();
        let mut holders: BTreeMap<CallListEntryId, (AgentId, DateTime<Utc>)> = BTreeMap::new();
        for a in agents {
            let claim = EntryClaim::new(&l, agent(u128::from(a)), now);
            let chosen = pick(&claim, &entries, &BTreeSet::new()).map(|e| e.id);
            if let Some(id) = chosen {
                if let Some((holder, until)) = holders.get(&id) {
                    prop_assert!(*until <= now, "{id} still leased to {holder}");
                }
                let e = entries.iter_mut().find(|e| e.id == id).expect("the entry");
                e.lease_to(claim.agent, claim.lease_until);
                holders.insert(id, (claim.agent, claim.lease_until));
            }
            now += Duration::seconds(step);
        }
    }
}
