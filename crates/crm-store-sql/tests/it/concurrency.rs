//! Concurrent writers: optimistic concurrency on one case loses no update, and concurrent
//! case creators get unique, increasing numbers (SQLite through the single writer,
//! PostgreSQL through row locks).

use std::collections::BTreeSet;
use std::sync::Arc;

use crm_core::StoreError;
use crm_core::case::{CaseContext, CasePatch, history};
use crm_core::error::Conflict;
use crm_core::event::EventKind;
use crm_core::ports::Store;

use crate::helpers::{Backend, store};
use crate::world::World;

const WRITERS: usize = 8;
const UPDATES_PER_WRITER: usize = 5;

/// 8 writers each apply 5 subject changes to one case, re-reading after every stale
/// version: every accepted update is in the history exactly once, the final version counts
/// them all, and every refusal was a `StaleVersion`.
async fn no_lost_update(store: Arc<dyn Store>) {
    let w = World::new(&*store).await;
    let customer = w.customer("Concurrent", vec![]).await;
    let case = w.case(&customer).await;
    let (tenant, id, agent, now) = (w.t.tenant.id, case.id, w.t.agent.id, w.now);
    let mut handles = Vec::new();
    for writer in 0..WRITERS {
        let store = store.clone();
        handles.push(tokio::spawn(async move {
            let (mut accepted, mut stale) = (Vec::new(), 0usize);
            while accepted.len() < UPDATES_PER_WRITER {
                let current = store.get_case(tenant, id).await.unwrap().unwrap();
                let mut next = current.clone();
                let subject = format!("writer {writer} update {}", accepted.len());
                let patch = CasePatch { subject: Some(subject), ..CasePatch::default() };
                patch.apply(&mut next, agent, CaseContext { definitions: &[], region: None, now }).unwrap();
                let entries =
                    history::diff(&current.field_map(), &next.field_map(), tenant, id, next.version(), agent, now);
                let event = crm_core::event::DomainEvent {
                    id: crm_core::time::next_id(&crm_core::time::UuidV7Generator),
                    tenant,
                    at: now,
                    actor: Some(agent),
                    kind: EventKind::CaseUpdated { case: id, fields: vec!["subject".into()] },
                    audit: Default::default(),
                };
                match store.update_case(&next, current.version(), &entries, &[event]).await {
                    Ok(()) => accepted.push((next.version(), next.subject().to_owned())),
                    Err(StoreError::Conflict(Conflict::StaleVersion { .. })) => stale += 1,
                    Err(other) => panic!("a concurrent update failed with {other:?}"),
                }
            }
            (accepted, stale)
        }));
    }
    let mut accepted = Vec::new();
    for h in handles {
        let (mine, _stale) = h.await.unwrap();
        accepted.extend(mine);
    }
    accepted.sort();
    let total = WRITERS * UPDATES_PER_WRITER;
    assert_eq!(accepted.len(), total);
    let versions: BTreeSet<u64> = accepted.iter().map(|(v, _)| *v).collect();
    assert_eq!(versions.len(), total, "no version was accepted twice");
    let final_case = store.get_case(tenant, id).await.unwrap().unwrap();
    assert_eq!(final_case.version(), 1 + total as u64);
    let changes: Vec<(u64, String)> = store
        .case_history(tenant, id)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.version > 1)
        .map(|e| (e.version, e.new.as_str().unwrap_or_default().to_owned()))
        .collect();
    assert_eq!(changes, accepted, "the history holds exactly the accepted updates");
    assert_eq!(final_case.subject(), accepted.last().unwrap().1);
}

/// 8 creators each draw a number and insert a case 25 times: numbers are unique, each
/// creator's are increasing, and every case is stored under its number.
async fn concurrent_creators_get_unique_increasing_numbers(store: Arc<dyn Store>) {
    let w = World::new(&*store).await;
    let customer = w.customer("Numbers", vec![]).await;
    let mut handles = Vec::new();
    for _ in 0..WRITERS {
        let store = store.clone();
        let (customer, t) = (customer.clone(), w.t.clone());
        handles.push(tokio::spawn(async move {
            let w = World { store: &*store, t, now: chrono::DateTime::from_timestamp(1_790_000_000, 0).unwrap() };
            let mut numbers = Vec::new();
            for _ in 0..25 {
                numbers.push(w.case(&customer).await.number.value());
            }
            numbers
        }));
    }
    let mut all = BTreeSet::new();
    for h in handles {
        let numbers = h.await.unwrap();
        assert!(numbers.windows(2).all(|p| p[0] < p[1]), "increasing per creator: {numbers:?}");
        for n in numbers {
            assert!(all.insert(n), "case number {n} was handed out twice");
        }
    }
    assert_eq!(all.len(), WRITERS * 25);
}

/// 24 case creations at once, every fourth reusing a number already taken: on SQLite the
/// write queue commits the ones that arrive together in one transaction, and a refused
/// case must not take the others down with it, nor leave a row of its own.
async fn concurrent_creations_fail_one_by_one(store: Arc<dyn Store>) {
    let w = World::new(&*store).await;
    let customer = w.customer("Together", vec![]).await;
    let taken = w.case(&customer).await;
    let mut cases = Vec::new();
    for i in 0..24 {
        let mut case = w.build_case(&customer).await;
        if i % 4 == 3 {
            case.number = taken.number;
        }
        cases.push(case);
    }
    let mut handles = Vec::new();
    for case in cases.clone() {
        let store = store.clone();
        let history = w.creation_history(&case);
        let event = w.event(EventKind::CaseCreated {
            case: case.id,
            number: case.number,
            customer: case.customer(),
            assignee: case.assignee(),
        });
        handles.push(tokio::spawn(async move { store.insert_case(&case, &history, &[event]).await }));
    }
    let tenant = w.t.tenant.id;
    for (i, (case, handle)) in cases.iter().zip(handles).enumerate() {
        let result = handle.await.unwrap();
        let stored = store.get_case(tenant, case.id).await.unwrap();
        if i % 4 == 3 {
            match result {
                Err(StoreError::Conflict(Conflict::Duplicate { field, .. })) => assert_eq!(field, "number"),
                other => panic!("case {i} reused a number and got {other:?}"),
            }
            assert_eq!(stored, None, "case {i} left a row");
            assert!(store.case_history(tenant, case.id).await.unwrap().is_empty(), "case {i} left history");
        } else {
            result.unwrap_or_else(|e| panic!("case {i} was refused: {e:?}"));
            assert_eq!(stored.as_ref(), Some(case));
            assert!(!store.case_history(tenant, case.id).await.unwrap().is_empty());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_concurrent_creations_fail_one_by_one() {
    concurrent_creations_fail_one_by_one(Arc::new(store(Backend::SqliteFile).await)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_memory_concurrent_creations_fail_one_by_one() {
    concurrent_creations_fail_one_by_one(Arc::new(store(Backend::SqliteMemory).await)).await;
}

#[cfg(crm_pg)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_concurrent_creations_fail_one_by_one() {
    concurrent_creations_fail_one_by_one(Arc::new(store(Backend::Postgres).await)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_concurrent_case_updates_lose_nothing() {
    no_lost_update(Arc::new(store(Backend::SqliteFile).await)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_concurrent_case_creators_get_unique_numbers() {
    concurrent_creators_get_unique_increasing_numbers(Arc::new(store(Backend::SqliteFile).await)).await;
}

#[cfg(crm_pg)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_concurrent_case_updates_lose_nothing() {
    no_lost_update(Arc::new(store(Backend::Postgres).await)).await;
}

#[cfg(crm_pg)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_concurrent_case_creators_get_unique_numbers() {
    concurrent_creators_get_unique_increasing_numbers(Arc::new(store(Backend::Postgres).await)).await;
}

/// Two stores on one PostgreSQL database (two server replicas), 32 callers on each drawing
/// ten case numbers, and callers that give up while waiting: no number is handed out twice,
/// each caller's numbers increase, and drawing still works afterwards.
#[cfg(crm_pg)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_draws_of_two_replicas_never_collide() {
    use crm_core::ports::CaseStore as _;
    let replicas = [Arc::new(store(Backend::Postgres).await), Arc::new(store(Backend::Postgres).await)];
    let w = World::new(&*replicas[0]).await;
    let tenant = w.t.tenant.id;
    let mut handles = Vec::new();
    for i in 0..64 {
        let store = replicas[i % 2].clone();
        handles.push(tokio::spawn(async move {
            let mut numbers = Vec::new();
            for _ in 0..10 {
                numbers.push(store.next_case_number(tenant).await.unwrap().value());
            }
            numbers
        }));
    }
    for _ in 0..8 {
        let store = replicas[0].clone();
        tokio::spawn(async move { store.next_case_number(tenant).await }).abort();
    }
    let mut all = BTreeSet::new();
    for h in handles {
        let numbers = h.await.unwrap();
        assert!(numbers.windows(2).all(|p| p[0] < p[1]), "increasing per caller: {numbers:?}");
        for n in numbers {
            assert!(all.insert(n), "case number {n} was handed out twice");
        }
    }
    assert_eq!(all.len(), 640);
    let after = replicas[1].next_case_number(tenant).await.unwrap().value();
    assert!(after > *all.last().unwrap(), "a later draw ({after}) follows every earlier one");
}

/// A runtime that stops while a draw round is in flight (its task dropped) leaves no
/// queue behind that nobody serves: a later draw, on another runtime, answers.
#[cfg(crm_pg)]
#[test]
fn postgres_draws_answer_after_a_runtime_stopped_mid_round() {
    use crm_core::ports::CaseStore as _;
    let first = tokio::runtime::Runtime::new().unwrap();
    let (store, tenant) = first.block_on(async {
        let store = Arc::new(store(Backend::Postgres).await);
        let tenant = World::new(&*store).await.t.tenant.id;
        (store, tenant)
    });
    first.block_on(async {
        for _ in 0..64 {
            let store = store.clone();
            tokio::spawn(async move { store.next_case_number(tenant).await });
        }
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    });
    first.shutdown_background();
    let second = tokio::runtime::Runtime::new().unwrap();
    let answer = second.block_on(async {
        tokio::time::timeout(std::time::Duration::from_secs(10), store.next_case_number(tenant)).await
    });
    assert!(answer.is_ok(), "a draw after the first runtime stopped waited forever");
}

/// The SQLite write queue's task runs on the runtime that opened the store. When that
/// runtime stops, writes from another runtime still go through (a new task serves them)
/// instead of failing with "the SQLite write queue has stopped" from then on.
#[test]
fn sqlite_writes_go_on_after_the_runtime_that_opened_the_store_stopped() {
    use crm_core::ports::{CaseStore as _, CustomerStore as _};
    let first = tokio::runtime::Runtime::new().unwrap();
    let (store, t) = first.block_on(async {
        let store = Arc::new(store(Backend::SqliteFile).await);
        let t = World::new(&*store).await.t;
        (store, t)
    });
    // Shut down in the background: the first writes below may still reach the old task
    // while its runtime drops it (they are sent again, having not started).
    first.shutdown_background();
    let second = tokio::runtime::Runtime::new().unwrap();
    second.block_on(async {
        let w = World { store: &*store, t, now: chrono::DateTime::from_timestamp(1_790_000_000, 0).unwrap() };
        let customer = w.customer("After the first runtime", vec![]).await;
        let first_number = store.next_case_number(w.t.tenant.id).await.expect("a counter draw on the new runtime");
        let case = w.case(&customer).await;
        assert!(case.number.value() > first_number.value());
        let stored = store.get_case(w.t.tenant.id, case.id).await.unwrap().expect("the case was written");
        assert_eq!(stored.number, case.number);
        assert_eq!(store.get_customer(w.t.tenant.id, customer.id).await.unwrap().unwrap().id, customer.id);
    });
}
