//! Conformance: optimistic concurrency, all-or-nothing writes, and sequences under
//! concurrent callers.

use std::collections::BTreeSet;

use crm_core::case::{Case, CaseRecord};
use crm_core::customer::{Customer, CustomerRecord};
use crm_core::event::EventKind;
use crm_core::interaction::{Interaction, InteractionRecord};
use crm_core::ports::Store;
use crm_core::task::{Task, TaskRecord};
use std::sync::Arc;

use super::{Ctx, StoreFactory, assert_stale};

/// Every update that takes an expected version refuses a stale one, changing nothing and
/// writing no event.
pub async fn stale_version_is_refused_with_conflict(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let s = &ctx.store;
    let tenant = ctx.tenant();

    // Customers.
    let created = ctx.customer("Concurrent", vec![]).await;
    let c = Customer::restore(CustomerRecord { name: "First writer".into(), version: 2, ..created.into_record() });
    s.update_customer(&c, 1, &[]).await.unwrap();
    let loser = Customer::restore(CustomerRecord { name: "Second writer".into(), ..c.clone().into_record() });
    let event = ctx.event(EventKind::CustomerUpdated { customer: c.id, fields: vec!["name".into()] });
    assert_stale(s.update_customer(&loser, 1, std::slice::from_ref(&event)).await);
    assert_stale(s.delete_customer(tenant, c.id, 1, std::slice::from_ref(&event)).await);
    assert_eq!(s.get_customer(tenant, c.id).await.unwrap(), Some(c.clone()), "the customer is unchanged");
    assert!(!ctx.has_event(event.id).await, "a refused write writes no event");

    // Cases, with their history.
    let case = ctx.case(&c, |_| {}).await;
    let history = s.case_history(tenant, case.id).await.unwrap();
    let stale = Case::restore(CaseRecord { subject: "Lost update".into(), version: 2, ..case.clone().into_record() });
    let entries = crm_core::case::history::diff(
        &case.field_map(),
        &stale.field_map(),
        tenant,
        case.id,
        2,
        ctx.t.agent.id,
        ctx.now,
    );
    assert_stale(s.update_case(&stale, 7, &entries, std::slice::from_ref(&event)).await);
    assert_eq!(s.get_case(tenant, case.id).await.unwrap(), Some(case.clone()), "the case is unchanged");
    assert_eq!(s.case_history(tenant, case.id).await.unwrap(), history, "no history was appended");

    // Tasks.
    let task = ctx.task(&c, 60, |_| {}).await;
    let stale = Task::restore(TaskRecord { subject: "Lost".into(), version: 2, ..task.clone().into_record() });
    assert_stale(s.update_task(&stale, 2, std::slice::from_ref(&event)).await);
    assert_eq!(s.get_task(tenant, task.id).await.unwrap(), Some(task));

    // Interactions.
    let interaction = ctx.interaction(Some(&c)).await;
    let stale = Interaction::restore(InteractionRecord {
        disposition: Some("lost".into()),
        version: 3,
        ..interaction.clone().into_record()
    });
    assert_stale(s.update_interaction(&stale, 2, std::slice::from_ref(&event)).await);
    assert_eq!(s.get_interaction(tenant, interaction.id).await.unwrap(), Some(interaction));

    // Directory records.
    let mut agent = ctx.t.agent.clone();
    agent.name = "Renamed".into();
    agent.version = 3;
    assert_stale(s.put_agent(&agent, Some(2), &[]).await);
    assert_eq!(s.get_agent(tenant, agent.id).await.unwrap(), Some(ctx.t.agent.clone()));
    let mut group = ctx.t.group.clone();
    group.name = "Renamed".into();
    group.version = 3;
    assert_stale(s.put_group(&group, Some(2), &[]).await);
    assert_eq!(s.list_groups(tenant).await.unwrap(), vec![ctx.t.group.clone()]);

    assert!(!ctx.has_event(event.id).await, "no refused write wrote its event");
}

/// A write whose events cannot be written (an event id already in the outbox) is refused
/// as a whole: the record is not written either.
pub async fn failed_write_changes_nothing(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let s = &ctx.store;
    let tenant = ctx.tenant();
    let existing = ctx.customer("Existing", vec![]).await;
    let taken = ctx.outbox().await.first().map(|e| e.event.clone()).expect("the creation event");

    let fresh =
        ctx.build_customer(crm_core::customer::NewCustomer { name: "Fresh".into(), ..Default::default() }).await;
    let mut reused = taken.clone();
    reused.kind = EventKind::CustomerCreated { customer: fresh.id };
    assert!(s.insert_customer(&fresh, std::slice::from_ref(&reused)).await.is_err());
    assert_eq!(s.get_customer(tenant, fresh.id).await.unwrap(), None, "the customer was not written");

    let case = ctx.case(&existing, |_| {}).await;
    let history = s.case_history(tenant, case.id).await.unwrap();
    let changed = Case::restore(CaseRecord { subject: "Changed".into(), version: 2, ..case.clone().into_record() });
    assert!(s.update_case(&changed, 1, &[], std::slice::from_ref(&reused)).await.is_err());
    assert_eq!(s.get_case(tenant, case.id).await.unwrap(), Some(case.clone()), "the case was not written");
    assert_eq!(s.case_history(tenant, case.id).await.unwrap(), history);

    // Two events with one id in one batch.
    let other =
        ctx.build_customer(crm_core::customer::NewCustomer { name: "Other".into(), ..Default::default() }).await;
    let e = ctx.event(EventKind::CustomerCreated { customer: other.id });
    assert!(s.insert_customer(&other, &[e.clone(), e.clone()]).await.is_err());
    assert_eq!(s.get_customer(tenant, other.id).await.unwrap(), None);
    assert!(!ctx.has_event(e.id).await);
}

const CALLERS: usize = 8;
const CALLS_PER_CALLER: usize = 25;

/// Runs `CALLERS` concurrent tasks each drawing `CALLS_PER_CALLER` values and checks each
/// caller saw increasing values and nobody saw a value twice.
async fn check_sequence<F, Fut>(store: Arc<dyn Store>, draw: F)
where
    F: Fn(Arc<dyn Store>) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = u64> + Send,
{
    let mut handles = Vec::new();
    for _ in 0..CALLERS {
        let store = store.clone();
        let draw = draw.clone();
        handles.push(tokio::spawn(async move {
            let mut seen = Vec::with_capacity(CALLS_PER_CALLER);
            for _ in 0..CALLS_PER_CALLER {
                seen.push(draw(store.clone()).await);
            }
            seen
        }));
    }
    let mut all = BTreeSet::new();
    for handle in handles {
        let seen = handle.await.expect("a caller finished");
        assert!(seen.windows(2).all(|w| w[0] < w[1]), "one caller sees increasing values: {seen:?}");
        for v in seen {
            assert!(v >= 1, "values start at 1");
            assert!(all.insert(v), "value {v} was handed out twice");
        }
    }
    assert_eq!(all.len(), CALLERS * CALLS_PER_CALLER);
}

/// Account-number sequence values are never repeated, also under 8 concurrent callers.
pub async fn account_sequence_is_unique_and_increasing_under_concurrency(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let tenant = ctx.tenant();
    check_sequence(ctx.store.clone(), move |s: Arc<dyn Store>| async move {
        s.next_account_sequence(tenant).await.expect("next account sequence")
    })
    .await;
    let after = ctx.store.next_account_sequence(tenant).await.unwrap();
    assert!(after > (CALLERS * CALLS_PER_CALLER) as u64 - 1, "the sequence moved past every value handed out");
}

/// Case numbers are never repeated, also under 8 concurrent callers, and a number drawn
/// later is larger.
pub async fn case_numbers_are_unique_and_increasing_under_concurrency(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let tenant = ctx.tenant();
    check_sequence(ctx.store.clone(), move |s: Arc<dyn Store>| async move {
        s.next_case_number(tenant).await.expect("next case number").value()
    })
    .await;
    // Another tenant's numbers do not collide with ours: both can hold CS-000001.
    let other = ctx.sibling().await;
    let customer = other.customer("Autre", vec![]).await;
    let case = other.case(&customer, |_| {}).await;
    assert_eq!(other.store.get_case_by_number(other.tenant(), case.number).await.unwrap(), Some(case));
}
