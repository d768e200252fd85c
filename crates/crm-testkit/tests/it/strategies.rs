//! The strategies generate what they promise: parsable phones with the stated E.164, valid
//! commands, legal status walks, and values that survive a serde round trip.

use std::collections::BTreeSet;

use crm_core::case::{Case, CaseStatus};
use crm_core::customer::{AccountNumber, Customer, CustomerContext, EmailAddress, PhoneNumber};
use crm_core::ids::{CustomerId, TenantId};
use crm_core::interaction::Interaction;
use crm_core::task::Task;
use crm_testkit::fixtures::{PARIS, region_fr};
use crm_testkit::strategies::{
    self, InteractionStep, case, case_status_walk, customer, email_address, identity_inputs, interaction,
    interaction_steps, new_case, new_customer, new_task, phone_number, task,
};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use uuid::Uuid;

fn round_trip<T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug>(value: &T) {
    let json = serde_json::to_string(value).expect("serialisable");
    let back: T = serde_json::from_str(&json).expect("deserialisable");
    assert_eq!(&back, value, "{json}");
}

proptest! {
    #[test]
    fn written_phones_normalise_to_the_stated_e164(p in phone_number()) {
        let parsed = PhoneNumber::parse(&p.written, Some(p.region)).unwrap();
        prop_assert_eq!(parsed.as_e164(), p.e164.as_str());
        if p.is_international() {
            let anywhere = PhoneNumber::parse(&p.written, None).unwrap();
            prop_assert_eq!(anywhere.as_e164(), p.e164.as_str());
        }
    }

    #[test]
    fn written_emails_match_their_key(e in email_address()) {
        let parsed = EmailAddress::parse(&e.written).unwrap();
        prop_assert_eq!(parsed.as_str(), e.written.as_str());
        prop_assert_eq!(parsed.key(), e.key);
    }

    #[test]
    fn identity_inputs_parse_to_distinct_keys(inputs in identity_inputs(6)) {
        let keys: BTreeSet<_> = inputs.iter().map(|i| i.parse(Some(region_fr())).unwrap().key()).collect();
        prop_assert_eq!(keys.len(), inputs.len());
    }

    #[test]
    fn new_customers_build(input in new_customer()) {
        let ctx = CustomerContext { region: Some(region_fr()), definitions: &[], now: crm_testkit::fakes::default_start() };
        let id = CustomerId::from_uuid(Uuid::from_u128(1));
        let tenant = TenantId::from_uuid(Uuid::from_u128(2));
        prop_assert!(input.build(id, tenant, None, Some(AccountNumber::generated(1)), ctx).is_ok());
    }

    #[test]
    fn new_cases_and_tasks_are_valid(input in new_case(CustomerId::from_uuid(Uuid::nil())), t in new_task(CustomerId::from_uuid(Uuid::nil()), None)) {
        prop_assert!(input.draft || !input.subject.trim().is_empty());
        prop_assert!(t.scheduled.resolve(PARIS).is_ok());
    }

    #[test]
    fn status_walks_are_legal(walk in case_status_walk(CaseStatus::Open, 10)) {
        let mut at = CaseStatus::Open;
        for s in walk {
            prop_assert!(at.can_become(s), "{} -> {}", at, s);
            at = s;
        }
    }

    #[test]
    fn customers_survive_serde(c in customer()) {
        round_trip::<Customer>(&c);
    }

    #[test]
    fn cases_survive_serde(c in case()) {
        round_trip::<Case>(&c);
    }

    #[test]
    fn tasks_survive_serde(t in task()) {
        round_trip::<Task>(&t);
    }

    #[test]
    fn interactions_survive_serde(i in interaction()) {
        round_trip::<Interaction>(&i);
    }

    #[test]
    fn pushes_only_reach_records_linked_at_the_time(input in strategies::new_interaction(None), steps in interaction_steps(40)) {
        use crm_core::interaction::LinkTarget;
        let agent = crm_core::ids::AgentId::from_uuid(Uuid::from_u128(7));
        let start = crm_testkit::fakes::default_start();
        let mut i = input.build(crm_core::ids::InteractionId::from_uuid(Uuid::from_u128(9)), TenantId::from_uuid(Uuid::nil()), false, start).unwrap();
        let mut now = start;
        for step in &steps {
            let before = i.clone();
            match step.apply(&mut i, agent, &mut now) {
                Ok(pushes) => {
                    for push in pushes {
                        let linked = i.links().iter().any(|l| l.target == LinkTarget::External { reference: push.target.clone() });
                        prop_assert!(linked, "{:?} pushed to an unlinked record", step);
                    }
                }
                Err(_) => prop_assert_eq!(&i, &before, "a refused step changes nothing"),
            }
        }
    }
}

#[test]
fn unlinked_external_records_receive_no_more_pushes() {
    use crm_core::external::{ExternalObject, ExternalRef, ExternalSystem};
    use crm_core::interaction::{Channel, Direction, InteractionAction, LinkTarget, NewInteraction};
    let agent = crm_core::ids::AgentId::from_uuid(Uuid::from_u128(7));
    let mut now = crm_testkit::fakes::default_start();
    let mut i = NewInteraction {
        channel: Channel::Chat,
        direction: Direction::Inbound,
        customer: None,
        address: None,
        contact_name: Some("Jeanne".into()),
        internal_agent: None,
        agent: Some(agent),
        queue: None,
        context: Default::default(),
        transcript: Vec::new(),
    }
    .build(crm_core::ids::InteractionId::from_uuid(Uuid::from_u128(9)), TenantId::from_uuid(Uuid::nil()), false, now)
    .unwrap();
    let sf = LinkTarget::External {
        reference: ExternalRef {
            system: ExternalSystem::Salesforce,
            object: ExternalObject::Contact,
            id: "003".into(),
        },
    };
    let steps = [
        InteractionStep::Act(InteractionAction::Accept),
        InteractionStep::Link(sf.clone()),
        InteractionStep::Act(InteractionAction::Transfer { to: None }),
        InteractionStep::Act(InteractionAction::Accept),
        InteractionStep::Unlink(sf),
        InteractionStep::Act(InteractionAction::Unassign),
    ];
    let pushes: Vec<usize> = steps.iter().map(|s| s.apply(&mut i, agent, &mut now).unwrap().len()).collect();
    assert_eq!(pushes, [0, 0, 1, 0, 0, 0]);
}

#[test]
fn the_strategy_module_exports_ids_and_instants() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let id: CustomerId = strategies::id().new_tree(&mut runner).unwrap().current();
    let at = strategies::instant().new_tree(&mut runner).unwrap().current();
    assert_ne!(id.as_uuid(), Uuid::nil());
    assert!((at - crm_testkit::fakes::default_start()).num_days().abs() <= 731);
}
