//! ADM-4 as a property: any sequence of use-case writes (some refused, some changing
//! nothing) leaves exactly one audit entry per write that changed something, carrying that
//! call's request, and none for the others; the tenant's chain verifies.

use crm_core::access::Actor;
use crm_core::audit::{AuditFilter, Channel, RequestContext};
use crm_core::case::{CasePatch, NewCase};
use crm_core::customer::{CustomerPatch, NewCustomer};
use crm_core::ids::{CaseId, CustomerId};
use crm_core::page::PageRequest;
use proptest::prelude::*;

use crate::helpers::{Env, runtime};

#[derive(Clone, Debug)]
enum Op {
    CreateCustomer(String),
    RenameCustomer(usize, String),
    DeleteCustomer(usize),
    CreateCase(usize, String),
    UpdateCase(usize, String),
    DeleteCase(usize),
}

fn arb_name() -> impl Strategy<Value = String> {
    // Empty and blank names are refused; a repeated name is a write that changes nothing.
    prop_oneof![Just(String::new()), Just("  ".to_owned()), "[A-C][a-c]{0,2}"]
}

fn arb_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        arb_name().prop_map(Op::CreateCustomer),
        (0usize..8, arb_name()).prop_map(|(i, n)| Op::RenameCustomer(i, n)),
        (0usize..8).prop_map(Op::DeleteCustomer),
        (0usize..8, arb_name()).prop_map(|(i, s)| Op::CreateCase(i, s)),
        (0usize..8, arb_name()).prop_map(|(i, s)| Op::UpdateCase(i, s)),
        (0usize..8).prop_map(Op::DeleteCase),
    ]
}

fn new_case(customer: CustomerId, subject: String) -> NewCase {
    NewCase {
        customer,
        subject,
        description: None,
        draft: false,
        visibility: None,
        severity: None,
        priority: None,
        assignee: None,
        group: None,
        origin_channel: None,
        custom: Default::default(),
        tags: Vec::new(),
        category: None,
        case_type: None,
        parent: None,
    }
}

/// Runs `op` as `actor`; whether it succeeded.
async fn run(env: &Env, actor: &Actor, op: Op, customers: &mut Vec<CustomerId>, cases: &mut Vec<CaseId>) -> bool {
    let crm = &env.crm;
    let pick = |ids: &[CustomerId], i: usize| ids.get(i % ids.len().max(1)).copied();
    match op {
        Op::CreateCustomer(name) => {
            match crm.create_customer(actor, NewCustomer { name, ..NewCustomer::default() }).await {
                Ok(c) => {
                    customers.push(c.id);
                    true
                }
                Err(_) => false,
            }
        }
        Op::RenameCustomer(i, name) => match pick(customers, i) {
            Some(id) => {
                let patch = CustomerPatch { name: Some(name), ..CustomerPatch::default() };
                crm.update_customer(actor, id, crm_core::service::ANY_VERSION, patch).await.is_ok()
            }
            None => false,
        },
        Op::DeleteCustomer(i) => match pick(customers, i) {
            Some(id) => {
                let ok = crm.delete_customer(actor, id, crm_core::service::ANY_VERSION).await.is_ok();
                if ok {
                    customers.retain(|c| *c != id);
                }
                ok
            }
            None => false,
        },
        Op::CreateCase(i, subject) => match pick(customers, i) {
            Some(customer) => match crm.create_case(actor, new_case(customer, subject)).await {
                Ok(c) => {
                    cases.push(c.id);
                    true
                }
                Err(_) => false,
            },
            None => false,
        },
        Op::UpdateCase(i, subject) => match cases.get(i % cases.len().max(1)).copied() {
            Some(id) => {
                let patch = CasePatch { subject: Some(subject), ..CasePatch::default() };
                crm.update_case(actor, id, crm_core::service::ANY_VERSION, patch).await.is_ok()
            }
            None => false,
        },
        Op::DeleteCase(i) => match cases.get(i % cases.len().max(1)).copied() {
            Some(id) => crm.delete_case(actor, id, crm_core::service::ANY_VERSION).await.is_ok(),
            None => false,
        },
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn every_write_leaves_exactly_one_audit_entry_and_the_chain_verifies(ops in proptest::collection::vec(arb_op(), 1..25)) {
        runtime().block_on(async {
            let env = Env::new().await;
            let tenant = env.tenant.tenant.id;
            let (mut customers, mut cases) = (Vec::new(), Vec::new());
            let mut expected = Vec::new();
            for (n, op) in ops.into_iter().enumerate() {
                let mut actor = env.supervisor();
                actor.context = RequestContext {
                    request_id: Some(format!("req-{n}")),
                    source_ip: Some("192.0.2.7".into()),
                    channel: Channel::Console,
                    token: None,
                };
                let events_before = env.store.events_of(tenant).len();
                let ok = run(&env, &actor, op.clone(), &mut customers, &mut cases).await;
                let wrote = env.store.events_of(tenant).len() > events_before;
                prop_assert!(ok || !wrote, "a refused write wrote events: {:?}", op);
                if wrote {
                    expected.push(format!("req-{n}"));
                }
            }
            let page = PageRequest { limit: 200, after: None };
            let admin = env.tenant.admin_actor();
            let entries = env.crm.audit_log(&admin, &AuditFilter::default(), &page).await.unwrap().items;
            let got: Vec<String> = entries.iter().filter_map(|r| r.entry.request_id.clone()).collect();
            prop_assert_eq!(got, expected, "one entry per write, in order, with its own request");
            prop_assert!(entries.iter().all(|r| r.entry.channel == Channel::Console
                && r.entry.source_ip.as_deref() == Some("192.0.2.7")
                && r.entry.actor.agent == Some(env.tenant.supervisor.id)));
            // Renames and case edits name their changed fields with the values.
            for r in entries.iter().filter(|r| r.entry.action == "customer_updated") {
                prop_assert!(r.entry.changes.iter().any(|c| c.field == "name"), "{:?}", r.entry.changes);
            }
            let report = env.crm.verify_audit(tenant, &mut |_| {}).await.unwrap();
            prop_assert_eq!(report.broken, None);
            prop_assert_eq!(report.checked, entries.len() as u64);
            Ok(())
        })?;
    }
}

#[tokio::test]
async fn the_audit_log_is_for_administrators_and_refuses_an_empty_time_range() {
    let env = Env::new().await;
    let page = PageRequest { limit: 10, after: None };
    let err = env.crm.audit_log(&env.supervisor(), &AuditFilter::default(), &page).await.unwrap_err();
    assert!(matches!(err, crm_core::Error::Forbidden { .. }), "{err:?}");
    let now = crm_core::time::Clock::now(&*env.clock);
    let empty = AuditFilter { from: Some(now), to: Some(now), ..AuditFilter::default() };
    let err = env.crm.audit_log(&env.tenant.admin_actor(), &empty, &page).await.unwrap_err();
    assert!(err.to_string().contains("to"), "{err}");
}
