//! Conformance: the audit log (ADM-4). Every write with events leaves exactly one entry,
//! written with it or not at all; chains verify, page in order, filter by the reference
//! semantics, survive retention from their anchor, and never fork under concurrent writers
//! and chainers.

use std::sync::Arc;

use chrono::Duration;
use crm_core::audit::{AuditFilter, AuditRecord, ChainHead, ChainVerifier};
use crm_core::event::EventKind;
use crm_core::ids::TenantId;
use crm_core::page::PageRequest;
use crm_core::ports::Store;

use super::{Ctx, StoreFactory, assert_duplicate, page};

/// Chains everything pending (every tenant's: the database may be shared).
async fn chain_all(store: &dyn Store) {
    while store.chain_audit(500).await.unwrap() >= 500 {}
}

/// Every chained entry of `tenant` passing `filter`, page by page of `limit`.
async fn entries(store: &dyn Store, tenant: TenantId, filter: &AuditFilter, limit: u32) -> Vec<AuditRecord> {
    let mut all = Vec::new();
    let mut request = page(limit);
    loop {
        let got = store.audit_page(tenant, filter, &request).await.unwrap();
        assert!(got.items.len() <= limit as usize);
        all.extend(got.items);
        match got.next {
            Some(next) => request = PageRequest { after: Some(next), ..request },
            None => return all,
        }
    }
}

/// Verifies `tenant`'s whole chain; the head and the number of entries checked.
async fn verify(store: &dyn Store, tenant: TenantId) -> (ChainHead, u64) {
    let head = store.audit_head(tenant).await.unwrap().expect("a chain head");
    let mut v = ChainVerifier::new(&head);
    for r in entries(store, tenant, &AuditFilter::default(), 200).await {
        v.push(&r).unwrap_or_else(|b| panic!("the chain breaks at {b}"));
    }
    let n = v.finish(&head).unwrap_or_else(|b| panic!("the chain breaks at {b}"));
    (head, n)
}

/// Each write with events is one entry (its first event's id and name, its target), in
/// writing order; a refused write leaves none; a write without events leaves none; the
/// chain verifies and is the tenant's own.
pub async fn every_write_with_events_leaves_one_chained_audit_entry(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let other = ctx.sibling().await;
    let s = &*ctx.store;
    let customer = ctx.customer("Audité", vec![]).await;
    // A refused write (the same card again) writes no entry.
    let again = [ctx.event(EventKind::CustomerCreated { customer: customer.id })];
    assert_duplicate(s.insert_customer(&customer, &again).await, "id");
    let case = ctx.case(&customer, |_| {}).await;
    let task = ctx.task(&customer, 30, |_| {}).await;
    let deleted = ctx.event(EventKind::TaskDeleted { task: task.id, assignee: task.assignee() });
    s.delete_task(ctx.tenant(), task.id, task.version(), std::slice::from_ref(&deleted)).await.unwrap();
    other.customer("Autre", vec![]).await;
    chain_all(s).await;

    let got = entries(s, ctx.tenant(), &AuditFilter::default(), 2).await;
    let actions: Vec<&str> = got.iter().map(|r| r.entry.action.as_str()).collect();
    assert_eq!(actions, ["customer_created", "case_created", "task_created", "task_deleted"]);
    assert_eq!(got.iter().map(|r| r.seq).collect::<Vec<_>>(), [1, 2, 3, 4]);
    assert_eq!(got[1].entry.target.id, case.id.to_string());
    assert_eq!(got[3].entry.id, deleted.id);
    assert_eq!(got[3].entry.actor.agent, Some(ctx.t.agent.id));
    assert!(got.iter().all(|r| r.entry.tenant == ctx.tenant()));
    assert_eq!(verify(s, ctx.tenant()).await.1, 4);
    assert_eq!(verify(s, other.tenant()).await.1, 1);
    assert!(s.audit_tenants().await.unwrap().contains(&ctx.tenant()));
}

/// Filters follow [`AuditFilter::matches`]; a filtered walk sees each match once, in order.
pub async fn audit_pages_filter_by_actor_target_action_and_time(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let s = &*ctx.store;
    let a = ctx.customer("A", vec![]).await;
    let b = ctx.customer("B", vec![]).await;
    ctx.case(&a, |_| {}).await;
    ctx.case(&b, |_| {}).await;
    ctx.case(&a, |_| {}).await;
    chain_all(s).await;
    let all = entries(s, ctx.tenant(), &AuditFilter::default(), 200).await;
    assert_eq!(all.len(), 5);
    let filters = [
        AuditFilter { action: Some("case_created".into()), ..AuditFilter::default() },
        AuditFilter {
            target_kind: Some("customer".into()),
            target_id: Some(a.id.to_string()),
            ..AuditFilter::default()
        },
        AuditFilter { actor: Some(ctx.t.agent.id), ..AuditFilter::default() },
        AuditFilter { actor: Some(ctx.t.supervisor.id), ..AuditFilter::default() },
        AuditFilter { from: Some(ctx.now), to: Some(ctx.now + Duration::seconds(1)), ..AuditFilter::default() },
        AuditFilter { to: Some(ctx.now), ..AuditFilter::default() },
    ];
    for f in filters {
        let want: Vec<&AuditRecord> = all.iter().filter(|r| f.matches(r)).collect();
        let got = entries(s, ctx.tenant(), &f, 1).await;
        assert_eq!(got.iter().collect::<Vec<_>>(), want, "filter {f:?}");
    }
}

/// Retention removes only a prefix of old entries; the head's anchor moves with it and the
/// chain verifies from there, and goes on growing after it.
pub async fn audit_retention_removes_a_prefix_and_the_chain_verifies_from_its_anchor(factory: &dyn StoreFactory) {
    let mut ctx = Ctx::new(factory).await;
    // Dated 400 days back: the prune below cannot reach other tests' entries.
    let start = ctx.now - Duration::days(400);
    let s = ctx.store.clone();
    let mut at = |minutes| {
        ctx.now = start + Duration::minutes(minutes);
        ctx.clone()
    };
    for m in [0, 1, 2, 10, 11] {
        at(m).customer(&format!("Old {m}"), vec![]).await;
    }
    let ctx = at(0);
    chain_all(&*s).await;
    let (before, n) = verify(&*s, ctx.tenant()).await;
    assert_eq!((before.seq, n), (5, 5));

    // Up to 2 per tenant and round, among those before minute 5: first 2, then 1.
    let cutoff = start + Duration::minutes(5);
    s.prune_audit(cutoff, 2).await.unwrap();
    s.prune_audit(cutoff, 2).await.unwrap();
    let kept = entries(&*s, ctx.tenant(), &AuditFilter::default(), 200).await;
    assert_eq!(kept.iter().map(|r| r.seq).collect::<Vec<_>>(), [4, 5]);
    let (head, n) = verify(&*s, ctx.tenant()).await;
    assert_eq!((head.anchor_seq, head.anchor_hash.as_str(), n), (4, kept[0].prev_hash.as_str(), 2));

    // Everything old goes; the next write continues the chain.
    s.prune_audit(start + Duration::minutes(20), 100).await.unwrap();
    assert!(entries(&*s, ctx.tenant(), &AuditFilter::default(), 200).await.is_empty());
    assert_eq!(verify(&*s, ctx.tenant()).await.1, 0);
    ctx.customer("New", vec![]).await;
    chain_all(&*s).await;
    let (head, n) = verify(&*s, ctx.tenant()).await;
    assert_eq!((head.seq, head.anchor_seq, n), (6, 6, 1));
}

/// Writers and several chainers at once (replicas): one chain, every entry once, no fork.
pub async fn concurrent_writers_and_chainers_build_one_chain(factory: &dyn StoreFactory) {
    let ctx = Arc::new(Ctx::new(factory).await);
    let mut tasks = Vec::new();
    for w in 0..4 {
        let ctx = ctx.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..10 {
                ctx.customer(&format!("Writer {w} #{i}"), vec![]).await;
            }
        }));
    }
    for _ in 0..3 {
        let store = ctx.store.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..20 {
                store.chain_audit(7).await.unwrap();
                tokio::task::yield_now().await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    chain_all(&*ctx.store).await;
    let got = entries(&*ctx.store, ctx.tenant(), &AuditFilter::default(), 200).await;
    assert_eq!(got.iter().map(|r| r.seq).collect::<Vec<_>>(), (1..=40).collect::<Vec<u64>>());
    let mut ids: Vec<_> = got.iter().map(|r| r.entry.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 40);
    assert_eq!(verify(&*ctx.store, ctx.tenant()).await.1, 40);
}
