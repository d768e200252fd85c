//! Property tests of the interaction aggregate: random action sequences never reach an
//! illegal state, and the activity pushes are exactly those INT-6 prescribes (calls after
//! wrap-up, digital interactions after transfer or unassign, only to records still linked).

use std::collections::BTreeSet;

use chrono::{Duration, TimeZone, Utc};
use proptest::prelude::*;
use uuid::Uuid;

use super::{
    Channel, Direction, Interaction, InteractionAction, InteractionState, LinkTarget, NewInteraction, action_pushes,
};
use crate::external::{ExternalObject, ExternalRef, ExternalSystem};
use crate::ids::{AgentId, InteractionId, TenantId};

#[derive(Clone, Debug)]
enum Step {
    Act(InteractionAction),
    Link(u8),
    Unlink(u8),
    Note,
    Dispose,
}

fn external(n: u8) -> LinkTarget {
    let system = [ExternalSystem::Salesforce, ExternalSystem::Dynamics, ExternalSystem::NetSuite][usize::from(n % 3)];
    LinkTarget::External { reference: ExternalRef { system, object: ExternalObject::Contact, id: format!("rec-{n}") } }
}

fn arb_action() -> impl Strategy<Value = InteractionAction> {
    prop_oneof![
        Just(InteractionAction::Accept),
        Just(InteractionAction::Decline),
        Just(InteractionAction::Abandon),
        Just(InteractionAction::Hold),
        Just(InteractionAction::Resume),
        Just(InteractionAction::Consult),
        Just(InteractionAction::Conference),
        proptest::option::of((0u128..3).prop_map(|n| AgentId::from_uuid(Uuid::from_u128(50 + n))))
            .prop_map(|to| InteractionAction::Transfer { to }),
        Just(InteractionAction::Unassign),
        Just(InteractionAction::End),
        Just(InteractionAction::CompleteWrapUp),
    ]
}

fn arb_step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => arb_action().prop_map(Step::Act),
        1 => (0u8..4).prop_map(Step::Link),
        1 => (0u8..4).prop_map(Step::Unlink),
        1 => Just(Step::Note),
        1 => Just(Step::Dispose),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn pushes_are_exactly_those_int6_prescribes(
        channel in proptest::sample::select(Channel::ALL.to_vec()),
        required in any::<bool>(),
        steps in proptest::collection::vec(arb_step(), 0..40),
    ) {
        let t0 = Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).unwrap();
        let agent = AgentId::from_uuid(Uuid::from_u128(7));
        let mut inter: Interaction = NewInteraction {
            channel,
            direction: Direction::Inbound,
            customer: None,
            address: Some("+33123456789".into()),
            contact_name: Some("Jeanne".into()),
            internal_agent: None,
            agent: Some(agent),
            queue: None,
            context: Default::default(),
            transcript: Vec::new(),
        }
        .build(InteractionId::from_uuid(Uuid::from_u128(3)), TenantId::from_uuid(Uuid::nil()), required, t0)
        .unwrap();
        let mut linked: BTreeSet<LinkTarget> = BTreeSet::new();
        let mut keys = BTreeSet::new();
        let mut talk = 0;
        for (i, step) in steps.into_iter().enumerate() {
            let now = t0 + Duration::seconds(i64::try_from(i).unwrap() * 30);
            let before = inter.clone();
            match step {
                Step::Act(action) => match inter.apply(action, agent, now) {
                    Ok(pushes) => {
                        prop_assert_eq!(Some(inter.state()), action.target(before.state()));
                        prop_assert!(!before.state().is_terminal());
                        let expected: BTreeSet<LinkTarget> =
                            if action_pushes(channel, action) { linked.clone() } else { BTreeSet::new() };
                        let sent: BTreeSet<LinkTarget> =
                            pushes.iter().map(|p| LinkTarget::External { reference: p.target.clone() }).collect();
                        prop_assert_eq!(sent, expected);
                        for p in &pushes {
                            prop_assert!(keys.insert(p.external_key.clone()), "push keys are never reused");
                            prop_assert_eq!(p.disposition.as_deref(), inter.disposition());
                        }
                    }
                    Err(_) => {
                        prop_assert_eq!(&inter, &before, "a refused action changes nothing");
                        let allowed = action.target(before.state()).is_some();
                        let unassigning_a_call = action == InteractionAction::Unassign && channel.is_call();
                        let missing_disposition =
                            action == InteractionAction::CompleteWrapUp && required && before.disposition().is_none();
                        prop_assert!(!allowed || unassigning_a_call || missing_disposition);
                    }
                },
                Step::Link(n) => {
                    if inter.link(external(n), agent, now).is_ok() {
                        linked.insert(external(n));
                    } else {
                        prop_assert_eq!(inter.state(), InteractionState::Declined);
                    }
                }
                Step::Unlink(n) => {
                    prop_assert_eq!(inter.unlink(&external(n)), linked.remove(&external(n)));
                }
                Step::Note => {
                    let id = crate::ids::NoteId::from_uuid(Uuid::from_u128(1000 + u128::try_from(i).unwrap()));
                    inter.add_note(id, agent, "called back", now).unwrap();
                }
                Step::Dispose => {
                    prop_assert_eq!(inter.set_disposition("resolved".into()).is_ok(), inter.state().accepts_disposition());
                }
            }
            prop_assert!(inter == before || inter.version() == before.version() + 1, "one change, one version");
            prop_assert!(inter.talk_seconds() >= talk, "talk time never decreases");
            talk = inter.talk_seconds();
            prop_assert_eq!(inter.connected_since().is_some(), inter.state().is_connected());
            if inter.state() == InteractionState::Closed && before.state() == InteractionState::WrapUp && required {
                prop_assert!(inter.disposition().is_some());
            }
        }
        let json = serde_json::to_string(&inter).unwrap();
        prop_assert_eq!(serde_json::from_str::<Interaction>(&json).unwrap(), inter);
    }
}
