//! Strategies for cases: `NewCase`, `CasePatch`, sequences of status changes (legal walks
//! and arbitrary ones) and whole `Case` values.

use chrono::Duration;
use crm_core::access::{Actor, Role};
use crm_core::case::{
    Case, CaseContext, CaseNumber, CasePatch, CaseStatus, DescriptionFormat, DescriptionInput, NewCase, Priority,
    Severity, Visibility,
};
use crm_core::ids::{AgentId, CaseId, CustomerId, GroupId, TenantId};
use crm_core::interaction::Channel;
use proptest::prelude::*;

use super::{id, instant, words_text};
use crate::fixtures::region_fr;

fn description() -> impl Strategy<Value = DescriptionInput> {
    let text = "[A-Za-z0-9 ,.!?\n]{0,80}".prop_map(|body| DescriptionInput { format: DescriptionFormat::Text, body });
    let html = prop::sample::select(
        &[
            "<p>Hello <b>there</b></p>",
            "<p>Click <a href=\"https://example.com\">here</a></p>",
            "<script>alert(1)</script><p>kept</p>",
            "<img src=x onerror=alert(1)>",
        ][..],
    )
    .prop_map(|body| DescriptionInput { format: DescriptionFormat::Html, body: body.into() });
    prop_oneof![3 => text, 1 => html]
}

/// A valid `NewCase` for `customer` (a draft may have no subject).
pub fn new_case(customer: CustomerId) -> impl Strategy<Value = NewCase> {
    (
        any::<bool>(),
        prop::option::of(words_text(6)),
        prop::option::of(description()),
        prop::option::of(prop::sample::select(Visibility::ALL)),
        prop::option::of(prop::sample::select(Severity::ALL)),
        prop::option::of(prop::sample::select(Priority::ALL)),
        prop::option::of(id::<GroupId>()),
        prop::option::of(prop::sample::select(Channel::ALL)),
    )
        .prop_map(move |(draft, subject, description, visibility, severity, priority, group, origin_channel)| {
            let subject = match (draft, subject) {
                (_, Some(s)) => s,
                (true, None) => String::new(),
                (false, None) => "No subject given".into(),
            };
            NewCase {
                customer,
                subject,
                description,
                draft,
                visibility,
                severity,
                priority,
                assignee: None,
                group,
                origin_channel,
                custom: Default::default(),
                tags: Vec::new(),
                category: None,
                case_type: None,
                parent: None,
            }
        })
}

/// A `CasePatch` with any subset of fields; its status change may be refused by the
/// lifecycle (that is the point of patch property tests).
pub fn case_patch() -> impl Strategy<Value = CasePatch> {
    (
        prop::option::of(words_text(6)),
        prop::option::of(description()),
        prop::option::of(prop::sample::select(CaseStatus::ALL)),
        prop::option::of(prop::sample::select(Visibility::ALL)),
        prop::option::of(prop::sample::select(Severity::ALL)),
        prop::option::of(prop::sample::select(Priority::ALL)),
        prop::option::of(prop::option::of(id::<AgentId>())),
        prop::option::of(prop::option::of(id::<GroupId>())),
        prop::option::of(prop::collection::vec("[a-zA-Z ]{1,8}", 0..3)),
        prop::option::of(prop::sample::select(vec!["fixed".to_owned(), "duplicate".to_owned()])),
    )
        .prop_map(
            |(subject, description, status, visibility, severity, priority, assignee, group, tags, resolution)| {
                CasePatch {
                    subject,
                    description,
                    status,
                    visibility,
                    severity,
                    priority,
                    assignee,
                    group,
                    tags,
                    resolution,
                    ..CasePatch::default()
                }
            },
        )
}

/// Status changes the lifecycle allows, starting from `from` (each step is a legal move
/// from the previous status), at most `max` long.
pub fn case_status_walk(from: CaseStatus, max: usize) -> impl Strategy<Value = Vec<CaseStatus>> {
    prop::collection::vec(any::<prop::sample::Index>(), 0..=max).prop_map(move |choices| {
        let mut at = from;
        let mut walk = Vec::with_capacity(choices.len());
        for choice in choices {
            let next: Vec<CaseStatus> = CaseStatus::ALL.iter().copied().filter(|s| at.can_become(*s)).collect();
            if next.is_empty() {
                break;
            }
            at = *choice.get(&next);
            walk.push(at);
        }
        walk
    })
}

/// Arbitrary status changes, legal and illegal mixed.
pub fn case_status_changes(max: usize) -> impl Strategy<Value = Vec<CaseStatus>> {
    prop::collection::vec(prop::sample::select(CaseStatus::ALL), 0..=max)
}

/// A whole case built by [`NewCase::build`] and moved along a legal status walk (its
/// version counts the moves).
pub fn case() -> impl Strategy<Value = Case> {
    (id::<CustomerId>(), id::<CaseId>(), id::<TenantId>(), id::<AgentId>(), 1u64..1_000_000, instant())
        .prop_flat_map(|(customer, case_id, tenant, agent, number, now)| {
            (new_case(customer), case_status_walk(CaseStatus::Open, 6), Just((case_id, tenant, agent, number, now)))
        })
        .prop_map(|(input, walk, (case_id, tenant, agent, number, now))| {
            let actor = Actor::with_role(tenant, agent, Role::Agent);
            let ctx = CaseContext { definitions: &[], region: Some(region_fr()), now };
            let draft = input.draft;
            let mut case =
                input.build(case_id, CaseNumber::new(number), &actor, None, ctx).expect("generated cases are valid");
            if !draft {
                for (i, to) in walk.into_iter().enumerate() {
                    let at = now + Duration::minutes(i64::try_from(i).unwrap_or(0) + 1);
                    // A refused move changes nothing; a legal one bumps the version itself.
                    let _ = case.transition(to, agent, at);
                }
            }
            case
        })
}
