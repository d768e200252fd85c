//! Property tests of the case aggregate: random edit sequences never reach an illegal state,
//! and the history (diffs of field maps) always replays to the current case.

use chrono::{Duration, TimeZone, Utc};
use proptest::prelude::*;
use uuid::Uuid;

use super::history::{FieldMap, diff, replay};
use super::{Case, CaseContext, CaseNumber, CasePatch, CaseStatus, NewCase, Priority, Severity, Visibility};
use crate::access::{Actor, Role};
use crate::ids::{AgentId, CaseId, CustomerId, TenantId};

fn actor() -> Actor {
    Actor::with_role(TenantId::from_uuid(Uuid::from_u128(1)), AgentId::from_uuid(Uuid::from_u128(2)), Role::Supervisor)
}

fn agent(n: u8) -> AgentId {
    AgentId::from_uuid(Uuid::from_u128(100 + u128::from(n)))
}

fn arb_patch() -> impl Strategy<Value = CasePatch> {
    (
        proptest::option::of(prop_oneof![Just(String::new()), "[a-z ]{1,20}"]),
        proptest::option::of(proptest::sample::select(CaseStatus::ALL.to_vec())),
        proptest::option::of(proptest::sample::select(Priority::ALL.to_vec())),
        proptest::option::of(proptest::sample::select(Severity::ALL.to_vec())),
        proptest::option::of(proptest::sample::select(Visibility::ALL.to_vec())),
        proptest::option::of(proptest::option::of((0u8..3).prop_map(agent))),
    )
        .prop_map(|(subject, status, priority, severity, visibility, assignee)| CasePatch {
            subject,
            status,
            priority,
            severity,
            visibility,
            assignee,
            ..CasePatch::default()
        })
}

fn check_invariants(case: &Case) -> Result<(), TestCaseError> {
    if case.status() == CaseStatus::Open {
        prop_assert!(case.assignee().is_some(), "an open case has an assignee");
    }
    prop_assert_eq!(case.status() == CaseStatus::Closed, case.closed_at().is_some(), "closed_at iff closed");
    if case.status() != CaseStatus::Draft {
        prop_assert!(!case.subject().trim().is_empty(), "only drafts lack a subject");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_edits_keep_cases_legal_and_history_replays(
        draft in any::<bool>(),
        subject in prop_oneof![Just(String::new()), "[a-z]{1,12}"],
        patches in proptest::collection::vec(arb_patch(), 0..25),
    ) {
        let actor = actor();
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let ctx = |i: i64| CaseContext { definitions: &[], region: None, now: t0 + Duration::minutes(i) };
        let input = NewCase { draft, ..NewCase::open(CustomerId::from_uuid(Uuid::from_u128(9)), subject.clone()) };
        let built = input.build(CaseId::from_uuid(Uuid::from_u128(5)), CaseNumber::new(1), &actor, None, ctx(0));
        // Only an open case without a subject is refused at creation.
        prop_assert_eq!(built.is_err(), !draft && subject.is_empty());
        let Ok(mut case) = built else { return Ok(()) };
        check_invariants(&case)?;
        let mut history = diff(&FieldMap::new(), &case.field_map(), case.tenant, case.id, 1, actor.agent, t0);
        for (i, patch) in patches.iter().enumerate() {
            let before = case.clone();
            let step = i64::try_from(i).unwrap() + 1;
            match patch.apply(&mut case, actor.agent, ctx(step)) {
                Ok(()) => {
                    if let Some(to) = patch.status.filter(|s| *s != before.status()) {
                        prop_assert!(before.status().can_become(to), "{} -> {} was allowed", before.status(), to);
                    }
                    let entries = diff(&before.field_map(), &case.field_map(), case.tenant, case.id, case.version(), actor.agent, ctx(step).now);
                    // A patch that changes a tracked field is exactly one new version.
                    let bumped = if entries.is_empty() { 0 } else { 1 };
                    prop_assert_eq!(case.version(), before.version() + bumped, "one change, one version");
                    history.extend(entries);
                }
                Err(_) => prop_assert_eq!(&case, &before, "a refused patch changes nothing"),
            }
            check_invariants(&case)?;
            prop_assert_eq!(replay(&history), case.field_map());
        }
        let json = serde_json::to_string(&case).unwrap();
        prop_assert_eq!(serde_json::from_str::<Case>(&json).unwrap(), case);
    }
}
