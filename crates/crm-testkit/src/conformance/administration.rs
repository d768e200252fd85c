//! Conformance: administration through the API (ADM-1…ADM-3): groups deleted only when
//! nothing uses them, queues listed, tenants listed and replaced.

use crm_core::StoreError;
use crm_core::access::{Group, Tenant};
use crm_core::error::Conflict;
use crm_core::ids::{GroupId, TenantId};
use crm_core::interaction::QueueSettings;

use super::{Ctx, StoreFactory, assert_not_found, assert_stale};

/// The reason of a `Conflict(State)`, or a panic.
fn state_reason<T: std::fmt::Debug>(result: Result<T, StoreError>) -> String {
    match result {
        Err(StoreError::Conflict(Conflict::State(reason))) => reason,
        other => panic!("expected Conflict(State), got {other:?}"),
    }
}

/// A group with members or assigned cases is not deleted, and the refusal says what uses
/// it; an unused group is deleted (checked against its version); another tenant's group is
/// not found.
pub async fn a_group_in_use_is_not_deleted(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let (s, tenant) = (&ctx.store, ctx.tenant());
    let support = ctx.t.group.id;
    let reason = state_reason(s.delete_group(tenant, support, 1, &[]).await);
    assert!(reason.contains("2 members"), "{reason}");
    assert!(s.get_group(tenant, support).await.unwrap().is_some(), "a refused delete changes nothing");

    let cases_only = Group { id: ctx.id(), tenant, name: "Escalations".into(), mail_addresses: vec![], version: 1 };
    s.put_group(&cases_only, None, &[]).await.unwrap();
    let customer = ctx.customer("Grace Group", vec![]).await;
    ctx.case(&customer, |c| c.group = Some(cases_only.id)).await;
    let reason = state_reason(s.delete_group(tenant, cases_only.id, 1, &[]).await);
    assert!(reason.contains("1 assigned case") && !reason.contains("member"), "{reason}");

    let unused = Group { id: ctx.id(), tenant, name: "Unused".into(), mail_addresses: vec![], version: 1 };
    s.put_group(&unused, None, &[]).await.unwrap();
    let other = ctx.sibling().await;
    assert_not_found(s.delete_group(other.tenant(), unused.id, 1, &[]).await);
    assert_stale(s.delete_group(tenant, unused.id, 2, &[]).await);
    assert_eq!(s.get_group(tenant, unused.id).await.unwrap(), Some(unused.clone()));
    assert_eq!(s.get_group(other.tenant(), unused.id).await.unwrap(), None);
    s.delete_group(tenant, unused.id, 1, &[]).await.unwrap();
    assert_eq!(s.get_group(tenant, unused.id).await.unwrap(), None);
    assert!(s.list_groups(tenant).await.unwrap().iter().all(|g| g.id != unused.id));
    assert_not_found(s.delete_group(tenant, unused.id, 1, &[]).await);
    assert_not_found(s.delete_group(tenant, ctx.id::<GroupId>(), 1, &[]).await);
}

/// A tenant's queues are listed by name, and only its own.
pub async fn queues_are_listed_by_name_per_tenant(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let other = ctx.sibling().await;
    let s = &ctx.store;
    let queue = |t: TenantId, name: &str, required| QueueSettings {
        tenant: t,
        name: name.into(),
        disposition_required: required,
    };
    s.put_queue(&queue(ctx.tenant(), "sales", false), &[]).await.unwrap();
    s.put_queue(&queue(ctx.tenant(), "billing", true), &[]).await.unwrap();
    s.put_queue(&queue(other.tenant(), "theirs", true), &[]).await.unwrap();
    assert_eq!(
        s.list_queues(ctx.tenant()).await.unwrap(),
        vec![queue(ctx.tenant(), "billing", true), queue(ctx.tenant(), "sales", false)]
    );
    assert_eq!(s.list_queues(other.tenant()).await.unwrap(), vec![queue(other.tenant(), "theirs", true)]);
}

/// Tenants are listed by name and replaced whole (a suspension included); replacing an
/// unknown tenant is `NotFound` and writes nothing.
pub async fn tenants_are_listed_and_replaced(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let other = ctx.sibling().await;
    let s = &ctx.store;
    let listed = s.list_tenants().await.unwrap();
    let ours: Vec<&Tenant> = listed.iter().filter(|t| t.id == ctx.tenant() || t.id == other.tenant()).collect();
    assert_eq!(ours.len(), 2);
    let names: Vec<&String> = listed.iter().map(|t| &t.name).collect();
    assert!(names.windows(2).all(|w| w[0] <= w[1]), "by name: {names:?}");

    let changed = Tenant { name: "Renamed".into(), suspended_at: Some(ctx.now), ..ctx.t.tenant.clone() };
    s.update_tenant(&changed, &[]).await.unwrap();
    assert_eq!(s.get_tenant(ctx.tenant()).await.unwrap(), Some(changed.clone()));
    assert_eq!(s.get_tenant(other.tenant()).await.unwrap(), Some(other.t.tenant.clone()), "the other is untouched");
    let resumed = Tenant { suspended_at: None, ..changed };
    s.update_tenant(&resumed, &[]).await.unwrap();
    assert_eq!(s.get_tenant(ctx.tenant()).await.unwrap(), Some(resumed));
    let ghost = Tenant { id: ctx.id(), ..ctx.t.tenant.clone() };
    assert_not_found(s.update_tenant(&ghost, &[]).await);
    assert_eq!(s.get_tenant(ghost.id).await.unwrap(), None);
}
