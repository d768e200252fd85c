//! INT-6 end to end through the use cases, the outbox and a fake remote: for any interleaving
//! of link, unlink, transfer, unassign and wrap-up, the activities that land remotely are
//! exactly those the rule prescribes (calls after wrap-up, digital interactions after
//! transfer or unassign, to the records linked at that moment), each exactly once.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use crm_core::external::{ExternalObject, ExternalRef, ExternalSystem};
use crm_core::ids::TenantId;
use crm_core::interaction::{Channel, Direction, InteractionAction, LinkTarget, NewInteraction};
use crm_core::ports::ExternalCrm;
use crm_core::service::{ConnectorDirectory, RetryPolicy};
use crm_testkit::FakeExternalCrm;
use proptest::prelude::*;

use crate::helpers::{Env, runtime};

struct Remotes(BTreeMap<ExternalSystem, Arc<FakeExternalCrm>>);

impl ConnectorDirectory for Remotes {
    fn connector(&self, _: TenantId, system: ExternalSystem) -> Option<Arc<dyn ExternalCrm>> {
        self.0.get(&system).map(|c| c.clone() as Arc<dyn ExternalCrm>)
    }
}

#[derive(Clone, Debug)]
enum Step {
    Link(u8),
    Unlink(u8),
    Act(InteractionAction),
}

fn reference(n: u8) -> ExternalRef {
    let system = [ExternalSystem::Salesforce, ExternalSystem::Dynamics, ExternalSystem::NetSuite][usize::from(n % 3)];
    ExternalRef { system, object: ExternalObject::Contact, id: format!("rec-{n}") }
}

fn arb_step() -> impl Strategy<Value = Step> {
    prop_oneof![
        2 => (0u8..4).prop_map(Step::Link),
        1 => (0u8..4).prop_map(Step::Unlink),
        3 => prop_oneof![
            Just(InteractionAction::Accept),
            Just(InteractionAction::Transfer { to: None }),
            Just(InteractionAction::Unassign),
            Just(InteractionAction::Hold),
            Just(InteractionAction::Resume),
            Just(InteractionAction::End),
            Just(InteractionAction::CompleteWrapUp),
        ]
        .prop_map(Step::Act),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn remote_activities_are_exactly_those_int6_prescribes(
        channel in prop_oneof![Just(Channel::Voice), Just(Channel::Chat), Just(Channel::WhatsApp), Just(Channel::Email)],
        steps in proptest::collection::vec(arb_step(), 1..30),
    ) {
        runtime().block_on(async {
            let env = Env::new().await;
            let actor = env.tenant.agent_actor();
            let remotes = Remotes(
                [ExternalSystem::Salesforce, ExternalSystem::Dynamics, ExternalSystem::NetSuite]
                    .into_iter()
                    .map(|s| (s, Arc::new(FakeExternalCrm::new(s))))
                    .collect(),
            );
            let input = NewInteraction { agent: Some(actor.agent), ..NewInteraction::new(channel, Direction::Inbound) };
            let mut inter = env.crm.create_interaction(&actor, input).await.expect("interaction");
            // The model: the records linked now, and the (push number, record) pairs expected.
            let mut linked: BTreeSet<u8> = BTreeSet::new();
            let mut expected: BTreeSet<(u32, String)> = BTreeSet::new();
            let mut pushes = 0u32;
            for step in steps {
                match step {
                    Step::Link(n) => {
                        let target = LinkTarget::External { reference: reference(n) };
                        if let Ok(i) = env.crm.link_interaction(&actor, inter.id, inter.version(), target).await {
                            inter = i;
                            linked.insert(n);
                        }
                    }
                    Step::Unlink(n) => {
                        let target = LinkTarget::External { reference: reference(n) };
                        match env.crm.unlink_interaction(&actor, inter.id, inter.version(), target).await {
                            Ok(i) => {
                                inter = i;
                                prop_assert!(linked.remove(&n));
                            }
                            Err(_) => prop_assert!(!linked.contains(&n)),
                        }
                    }
                    Step::Act(action) => {
                        if let Ok(i) = env.crm.act_on_interaction(&actor, inter.id, inter.version(), action).await {
                            inter = i;
                            let triggers = if channel.is_call() {
                                action == InteractionAction::CompleteWrapUp
                            } else {
                                matches!(action, InteractionAction::Transfer { .. } | InteractionAction::Unassign)
                            };
                            if triggers && !linked.is_empty() {
                                pushes += 1;
                                expected.extend(linked.iter().map(|n| (pushes, reference(*n).id)));
                            }
                        }
                    }
                }
            }
            // Deliver everything, twice over: the second round must find nothing to do.
            for _ in 0..2 {
                env.crm.deliver_external_pushes(&remotes, &RetryPolicy::default(), Duration::from_secs(60), 100).await.expect("deliver");
            }
            let mut landed: BTreeSet<(u32, String)> = BTreeSet::new();
            let mut count = 0;
            for remote in remotes.0.values() {
                for a in remote.activities() {
                    count += 1;
                    let key = a.external_key.split('@').next().unwrap_or_default().to_owned();
                    let ordinal = match key.rsplit_once('-') {
                        Some((_, n)) if n.len() < 6 => n.parse().unwrap_or(1),
                        _ => 1,
                    };
                    landed.insert((ordinal, a.target.id.clone()));
                }
            }
            prop_assert_eq!(count, landed.len(), "no activity twice");
            prop_assert_eq!(landed, expected);
            Ok(())
        })?;
    }
}
