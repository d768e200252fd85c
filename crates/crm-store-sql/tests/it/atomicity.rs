//! A failure in the middle of a write leaves nothing half-written: the injected failure is
//! an outbox insert that violates the event-id key after the aggregate rows were written.

use crm_core::customer::{ConflictRule, MergePlan, MergeRecord};
use crm_core::event::EventKind;
use crm_core::page::PageRequest;
use crm_core::ports::Store;

use crate::helpers::{Backend, store};
use crate::world::{World, phone};

async fn failed_writes_leave_nothing(store: &dyn Store) {
    let w = World::new(store).await;
    let tenant = w.t.tenant.id;
    let outbox_len = || async { store.list_outbox(tenant, None, &PageRequest::first()).await.unwrap().items.len() };

    // A customer insert whose two events share an id.
    let fresh = w.build_customer("Fresh", vec![phone("+33 1 98 76 54 32")]).await;
    let e = w.event(EventKind::CustomerCreated { customer: fresh.id });
    let before = outbox_len().await;
    assert!(store.insert_customer(&fresh, &[e.clone(), e.clone()]).await.is_err());
    assert_eq!(store.get_customer(tenant, fresh.id).await.unwrap(), None);
    let key = fresh.identity_keys().remove(0);
    assert!(store.find_by_identity(tenant, &key, 5).await.unwrap().is_empty(), "no identity row was left");
    assert_eq!(outbox_len().await, before);

    // A merge whose event id is taken: no card, case, relation or record changed.
    let target = w.customer("Target", vec![]).await;
    let source = w.customer("Source", vec![phone("+33 1 11 22 33 44")]).await;
    let case = w.case(&source).await;
    let plan = MergePlan::build(w.id(), &target, &source, ConflictRule::KeepTarget, w.now).unwrap();
    let record = MergeRecord {
        id: plan.id,
        tenant,
        target: target.id,
        source: source.id,
        rule: plan.rule,
        conflicts: plan.conflicts.clone(),
        target_before: target.clone(),
        source_before: source.clone(),
        target_version_after: plan.target.version(),
        moved: Default::default(),
        merged_by: w.t.agent.id,
        merged_at: w.now,
        undone_at: None,
        undone_by: None,
    };
    let taken = store.list_outbox(tenant, None, &PageRequest::first()).await.unwrap().items[0].event.clone();
    let before = outbox_len().await;
    assert!(store.merge_customers(&plan, &record, &[taken]).await.is_err());
    assert_eq!(store.get_customer(tenant, target.id).await.unwrap(), Some(target.clone()));
    assert_eq!(store.get_customer(tenant, source.id).await.unwrap(), Some(source.clone()));
    assert_eq!(store.get_case(tenant, case.id).await.unwrap(), Some(case.clone()), "the case did not move");
    assert_eq!(store.get_merge(tenant, plan.id).await.unwrap(), None);
    assert_eq!(outbox_len().await, before);

    // The same merge with a fresh event goes through.
    let ok = w.event(EventKind::CustomersMerged { merge: plan.id, target: target.id, source: source.id });
    let moved = store.merge_customers(&plan, &record, &[ok]).await.unwrap();
    assert_eq!(moved.cases, vec![case.id]);
    assert_eq!(store.get_case(tenant, case.id).await.unwrap().unwrap().customer(), target.id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_failed_writes_leave_nothing() {
    failed_writes_leave_nothing(&store(Backend::SqliteFile).await).await;
}

#[cfg(crm_pg)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_failed_writes_leave_nothing() {
    failed_writes_leave_nothing(&store(Backend::Postgres).await).await;
}
