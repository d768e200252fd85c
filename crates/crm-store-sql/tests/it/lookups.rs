//! Screen pops on PostgreSQL that arrive together are read together (`crate::lookups`,
//! ADR 0008): each caller still gets exactly its own customers and cards, whatever the
//! other keys and scopes in the same statement.

#![cfg(crm_pg)]

use std::collections::BTreeSet;
use std::sync::Arc;

use crm_core::access::PrivateScope;
use crm_core::case::{Case, CaseRecord, Visibility};
use crm_core::customer::{IdentityKey, PhoneNumber};
use crm_core::ids::{AgentId, CaseId, CustomerId, TenantId};
use crm_core::ports::{CardLimits, CardStore as _, CaseStore as _};
use crm_store_sql::SqlStore;

use crate::helpers::{Backend, store};
use crate::world::{World, phone};

/// What a screen pop returned: per customer, its id and its open cases' ids.
type Found = Vec<(CustomerId, Vec<CaseId>)>;

async fn pop(store: &SqlStore, tenant: TenantId, number: &str, scope: &PrivateScope) -> Found {
    let key = IdentityKey::phone(&PhoneNumber::parse(number, None).unwrap());
    let cards = store.cards_by_identity(tenant, &key, 10, scope, CardLimits::CARD).await.unwrap();
    cards.into_iter().map(|(c, parts)| (c.id, parts.open_cases.iter().map(|k| k.id).collect())).collect()
}

fn number(i: usize) -> String {
    format!("+3361000{i:04}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_screen_pops_read_together_each_get_their_own_cards() {
    let store = Arc::new(store(Backend::Postgres).await);
    let w = World::new(&*store).await;
    let tenant = w.t.tenant.id;
    // 24 customers with a number of their own, customer i with i % 3 cases; the case of
    // every fourth customer is private (no assignee). Two more share one number.
    let mut expected_all = Vec::new();
    let mut expected_scoped = Vec::new();
    for i in 0..24 {
        let c = w.customer(&format!("Client {i}"), vec![phone(&number(i))]).await;
        let mut all = BTreeSet::new();
        let mut visible = BTreeSet::new();
        for k in 0..i % 3 {
            let mut case = w.build_case(&c).await;
            if i % 4 == 0 && k == 0 {
                case = Case::restore(CaseRecord { visibility: Visibility::Private, ..case.into_record() });
            } else {
                visible.insert(case.id);
            }
            all.insert(case.id);
            store.insert_case(&case, &w.creation_history(&case), &[]).await.unwrap();
        }
        expected_all.push(all);
        expected_scoped.push(visible);
    }
    let shared = [w.customer("Shared A", vec![phone("+33699999999")]).await.id, {
        w.customer("Shared B", vec![phone("+33699999999")]).await.id
    }];
    let other_agent = PrivateScope::AssignedTo { agent: AgentId::from_uuid(uuid::Uuid::now_v7()), groups: [].into() };

    let before = store.combined_reads().unwrap();
    let mut calls = Vec::new();
    for round in 0..4 {
        for i in 0..26 {
            let store = store.clone();
            let scope = if (i + round) % 2 == 0 { PrivateScope::All } else { other_agent.clone() };
            // 24 customers, the shared number, a number nobody has.
            let n = match i {
                24 => "+33699999999".to_owned(),
                25 => "+33688888888".to_owned(),
                _ => number(i),
            };
            calls.push(tokio::spawn(async move { (i, scope.clone(), pop(&store, tenant, &n, &scope).await) }));
        }
    }
    for call in calls {
        let (i, scope, found) = call.await.unwrap();
        match i {
            24 => {
                let ids: BTreeSet<CustomerId> = found.iter().map(|(c, _)| *c).collect();
                assert_eq!(ids, shared.into_iter().collect(), "both holders of the shared number");
            }
            25 => assert!(found.is_empty(), "nobody has this number: {found:?}"),
            _ => {
                assert_eq!(found.len(), 1, "customer {i}: {found:?}");
                let cases: BTreeSet<CaseId> = found[0].1.iter().copied().collect();
                let expected = if scope == PrivateScope::All { &expected_all[i] } else { &expected_scoped[i] };
                assert_eq!(&cases, expected, "customer {i}, scope {scope:?}");
            }
        }
    }
    let after = store.combined_reads().unwrap();
    let (statements, keys) = (after.statements - before.statements, after.keys - before.keys);
    assert_eq!(keys, 104, "every screen pop went through the combined reads");
    assert!(statements < keys, "104 screen pops at once share statements: {statements} statements");
}

/// A runtime that stops while combined reads are in flight (their task dropped, or left
/// pending) leaves nothing behind that blocks others: every later screen pop on another
/// runtime answers (an error when it joined the dying runtime's round or drew a connection
/// that runtime drove), and the store reads the card again once those are gone.
#[test]
fn postgres_screen_pops_answer_after_a_runtime_stopped_mid_read() {
    let first = tokio::runtime::Runtime::new().unwrap();
    let (store, tenant) = first.block_on(async {
        let store = Arc::new(store(Backend::Postgres).await);
        let tenant = {
            let w = World::new(&*store).await;
            w.customer("Someone", vec![phone(&number(1))]).await;
            w.t.tenant.id
        };
        (store, tenant)
    });
    let key = IdentityKey::phone(&PhoneNumber::parse(&number(1), None).unwrap());
    first.block_on(async {
        for _ in 0..64 {
            let (store, key) = (store.clone(), key.clone());
            tokio::spawn(async move {
                store.cards_by_identity(tenant, &key, 10, &PrivateScope::All, CardLimits::CARD).await
            });
        }
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    });
    first.shutdown_background();
    let second = tokio::runtime::Runtime::new().unwrap();
    second.block_on(async {
        let wait = std::time::Duration::from_secs(15);
        let read = store.cards_by_identity(tenant, &key, 10, &PrivateScope::All, CardLimits::CARD);
        tokio::time::timeout(wait, read)
            .await
            .expect("a screen pop after the first runtime stopped waited forever")
            .ok();
        // Connections the dying runtime drove fail once each ("being shutdown") and leave the
        // pool; none hangs, and the store reads the card again before the pool is used up.
        let mut failures = Vec::new();
        let cards = loop {
            let read = store.cards_by_identity(tenant, &key, 10, &PrivateScope::All, CardLimits::CARD);
            match tokio::time::timeout(wait, read).await.expect("a later screen pop waited forever") {
                Ok(cards) => break cards,
                Err(error) => failures.push(error),
            }
            assert!(failures.len() <= 32, "the store did not recover: {failures:?}");
        };
        assert_eq!(cards.len(), 1);
    });
}
