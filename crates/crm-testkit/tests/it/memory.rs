//! Failure injection of the in-memory store: injected errors propagate and nothing is
//! half-written.

use crm_core::customer::NewCustomer;
use crm_core::error::StoreError;
use crm_core::event::EventKind;
use crm_testkit::conformance::Ctx;
use crm_testkit::{MemoryStore, StoreCounts};
use std::sync::Arc;

async fn ctx() -> (Arc<MemoryStore>, Ctx) {
    let store = Arc::new(MemoryStore::new());
    let ctx = Ctx::in_store(store.clone()).await;
    (store, ctx)
}

#[tokio::test]
async fn an_injected_write_failure_propagates_and_writes_nothing() {
    let (store, ctx) = ctx().await;
    let c = ctx.build_customer(NewCustomer { name: "Failing".into(), ..Default::default() }).await;
    let before = store.counts();
    store.fail_next_write(|| StoreError::Backend("disk full".into()));
    let events = [ctx.event(EventKind::CustomerCreated { customer: c.id })];
    assert!(matches!(ctx.store.insert_customer(&c, &events).await, Err(StoreError::Backend(_))));
    assert_eq!(store.counts(), before, "nothing was written");
    assert_eq!(ctx.store.get_customer(ctx.tenant(), c.id).await.unwrap(), None);
    // One-shot: the next write goes through.
    ctx.store.insert_customer(&c, &events).await.unwrap();
    assert_eq!(store.counts(), StoreCounts { customers: 1, outbox: 1, ..before });
    assert_eq!(store.events_of(ctx.tenant()).len(), 1);
    assert!(store.outbox_status(events[0].id).is_some());
}

#[tokio::test]
async fn failing_writes_and_reads_can_be_switched_on_and_off() {
    let (store, ctx) = ctx().await;
    store.fail_writes(true);
    assert!(matches!(ctx.store.next_case_number(ctx.tenant()).await, Err(StoreError::Unavailable(_))));
    store.fail_writes(false);
    assert_eq!(ctx.store.next_case_number(ctx.tenant()).await.unwrap().value(), 1, "the failed call drew nothing");
    store.fail_reads(true);
    assert!(matches!(ctx.store.get_tenant(ctx.tenant()).await, Err(StoreError::Unavailable(_))));
    store.fail_reads(false);
    assert!(ctx.store.get_tenant(ctx.tenant()).await.unwrap().is_some());
    assert!(format!("{store:?}").contains("MemoryStore"));
}
