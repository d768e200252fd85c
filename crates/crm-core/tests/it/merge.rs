//! For any two customers, `undo(merge(a, b))` restores both exactly, and `merge` loses no
//! identity, case, task, interaction or note (CUS-6).

use std::collections::{BTreeMap, BTreeSet};

use crm_core::Error;
use crm_core::access::Actor;
use crm_core::case::{CaseFilter, CaseSort};
use crm_core::customer::{ConflictRule, Customer, CustomerRecord, CustomerStatus, IdentityKey, NewCustomer};
use crm_core::ids::{CaseId, CustomerId, InteractionId, TaskId};
use crm_core::interaction::{Channel, Direction, NewInteraction};
use crm_core::page::PageRequest;
use crm_core::ports::TaskStore;
use crm_core::task::{NewTask, ScheduleInput, TaskKind};
use proptest::prelude::*;

use crate::helpers::{Env, arb_identities, runtime};

/// Everything attached to one card.
#[derive(Debug, Default, PartialEq, Eq)]
struct Children {
    cases: BTreeSet<CaseId>,
    tasks: BTreeSet<TaskId>,
    interactions: BTreeMap<InteractionId, usize>,
}

async fn children(env: &Env, actor: &Actor, id: CustomerId) -> Children {
    let filter = CaseFilter { customer: Some(id), ..CaseFilter::default() };
    let page = PageRequest::new(Some(200), None).expect("page");
    let cases = env.crm.list_cases(actor, &filter, CaseSort::default(), &page).await.expect("cases");
    let tasks = env.store.planned_tasks_of_customer(actor.tenant, id, 200).await.expect("tasks");
    let inter = env.crm.interaction_history(actor, id, &Default::default(), &page).await.expect("interactions");
    Children {
        cases: cases.items.iter().map(|c| c.id).collect(),
        tasks: tasks.iter().map(|t| t.id).collect(),
        interactions: inter.items.iter().map(|i| (i.id, i.notes().len())).collect(),
    }
}

async fn populate(env: &Env, actor: &Actor, c: &Customer, cases: usize, tasks: usize, calls: usize) {
    for i in 0..cases {
        let input = crm_core::case::NewCase {
            draft: i % 2 == 1,
            ..crm_core::case::NewCase::open(c.id, format!("case {i} of {}", c.name()))
        };
        env.crm.create_case(actor, input).await.expect("case");
    }
    for i in 0..tasks {
        let input = NewTask {
            kind: TaskKind::Call,
            subject: format!("call back {i}"),
            notes: String::new(),
            customer: c.id,
            case: None,
            assignee: None,
            scheduled: ScheduleInput { at: "2031-05-01T10:00".into(), time_zone: None },
            duration_minutes: None,
            reminder_minutes: Some(10),
        };
        env.crm.create_task(actor, input).await.expect("task");
    }
    for i in 0..calls {
        let input = NewInteraction {
            channel: Channel::Voice,
            direction: Direction::Inbound,
            customer: Some(c.id),
            address: None,
            contact_name: Some(c.name().to_owned()),
            internal_agent: None,
            agent: Some(actor.agent),
            queue: None,
            context: Default::default(),
            transcript: Vec::new(),
        };
        let mut inter = env.crm.create_interaction(actor, input).await.expect("interaction");
        for n in 0..=i {
            inter = env
                .crm
                .add_interaction_note(actor, inter.id, inter.version(), &format!("note {n}"))
                .await
                .expect("note");
        }
    }
}

/// A card without what a write legitimately changes.
fn comparable(c: &Customer) -> Customer {
    Customer::restore(CustomerRecord {
        version: 0,
        updated_at: c.created_at,
        last_contact_at: None,
        ..c.clone().into_record()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn undo_of_merge_restores_both_cards_and_merge_loses_nothing(
        a_ids in arb_identities(),
        b_ids in arb_identities(),
        a_name in "[A-Z][a-z]{2,8} [A-Z][a-z]{2,8}",
        b_name in "[A-Z][a-z]{2,8} [A-Z][a-z]{2,8}",
        (a_cases, a_tasks, a_calls) in (0usize..3, 0usize..3, 0usize..3),
        (b_cases, b_tasks, b_calls) in (0usize..3, 0usize..3, 0usize..3),
        keep_source in any::<bool>(),
    ) {
        runtime().block_on(async {
            let env = Env::new().await;
            let actor = env.supervisor();
            let make = |name: String, identities| NewCustomer { name, identities, ..NewCustomer::default() };
            let (a, b) = match (
                env.crm.create_customer(&actor, make(a_name, a_ids)).await,
                env.crm.create_customer(&actor, make(b_name, b_ids)).await,
            ) {
                (Ok(a), Ok(b)) => (a, b),
                (Err(Error::Validation(_)), _) | (_, Err(Error::Validation(_))) => return Err(TestCaseError::reject("input repeats an identity or uses an unallocated number")),
                (a, b) => return Err(TestCaseError::fail(format!("{a:?} {b:?}"))),
            };
            populate(&env, &actor, &a, a_cases, a_tasks, a_calls).await;
            populate(&env, &actor, &b, b_cases, b_tasks, b_calls).await;
            let (a, b) = (env.crm.get_customer(&actor, a.id).await.unwrap(), env.crm.get_customer(&actor, b.id).await.unwrap());
            let (a_children, b_children) = (children(&env, &actor, a.id).await, children(&env, &actor, b.id).await);

            let rule = if keep_source { ConflictRule::KeepSource } else { ConflictRule::KeepTarget };
            let record = env.crm.merge_customers(&actor, a.id, b.id, rule).await.expect("merge");

            // Nothing is lost: every identity, case, task, interaction and note is on the target.
            let target = env.crm.get_customer(&actor, a.id).await.unwrap();
            let keys: BTreeSet<IdentityKey> = target.identity_keys().into_iter().collect();
            for k in a.identity_keys().into_iter().chain(b.identity_keys()) {
                prop_assert!(keys.contains(&k), "identity {} lost", k);
            }
            let merged = children(&env, &actor, a.id).await;
            prop_assert_eq!(&merged.cases, &a_children.cases.union(&b_children.cases).copied().collect());
            prop_assert_eq!(&merged.tasks, &a_children.tasks.union(&b_children.tasks).copied().collect());
            let mut all_interactions = a_children.interactions.clone();
            all_interactions.extend(b_children.interactions.clone());
            prop_assert_eq!(&merged.interactions, &all_interactions);
            prop_assert_eq!(children(&env, &actor, b.id).await, Children::default());
            let tomb = env.crm.get_customer(&actor, b.id).await.unwrap();
            prop_assert_eq!(tomb.status(), &CustomerStatus::Merged { into: a.id, merge: record.id });
            prop_assert_eq!(record.moved.cases.len(), b_children.cases.len());

            // Undo restores both cards exactly and gives every child back to its card.
            let (ra, rb) = env.crm.undo_merge(&actor, record.id).await.expect("undo");
            let (sa, sb) = (env.crm.get_customer(&actor, a.id).await.unwrap(), env.crm.get_customer(&actor, b.id).await.unwrap());
            prop_assert_eq!(&sa, &ra);
            prop_assert_eq!(&sb, &rb);
            prop_assert_eq!(comparable(&sa), comparable(&a));
            prop_assert_eq!(comparable(&sb), comparable(&b));
            prop_assert!(sa.version() > target.version() && sb.version() > tomb.version(), "versions keep increasing");
            prop_assert_eq!(children(&env, &actor, a.id).await, a_children);
            prop_assert_eq!(children(&env, &actor, b.id).await, b_children);
            // A second undo is refused.
            let again = env.crm.undo_merge(&actor, record.id).await;
            prop_assert!(matches!(again, Err(Error::Conflict(_))), "{:?}", again);
            Ok(())
        })?;
    }
}
