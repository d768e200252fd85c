//! Conformance: tenant-defined roles (ADM-2): stored per tenant with versions, names unique
//! per tenant without regard to case, and deleted only while no agent holds them.

use std::collections::BTreeSet;

use crm_core::StoreError;
use crm_core::access::{Agent, Permission, TenantRole};
use crm_core::error::Conflict;
use crm_core::ids::RoleId;

use super::{Ctx, StoreFactory, assert_duplicate, assert_not_found, assert_stale};

/// A role of the context's tenant named `name`.
fn role(ctx: &Ctx, name: &str, permissions: &[Permission]) -> TenantRole {
    TenantRole {
        id: ctx.id(),
        tenant: ctx.tenant(),
        name: name.into(),
        description: Some(format!("{name} role")),
        permissions: permissions.iter().copied().collect::<BTreeSet<_>>(),
        created_at: ctx.now,
        version: 1,
    }
}

/// Roles round-trip, are listed by name key then id, only the tenant's own; a name is
/// unique per tenant without regard to case (another tenant may use it); an update checks
/// the version; an insert of a taken id and an update of another tenant's role are refused.
pub async fn roles_round_trip_per_tenant_with_unique_names(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let (s, tenant) = (&ctx.store, ctx.tenant());
    let other = ctx.sibling().await;
    let auditor = role(&ctx, "Auditor", &[Permission::AdminAudit, Permission::CaseRead]);
    let lead = role(&ctx, "team lead", &[Permission::CaseAssign]);
    s.put_role(&lead, None, &[]).await.unwrap();
    s.put_role(&auditor, None, &[]).await.unwrap();
    assert_eq!(s.get_role(tenant, auditor.id).await.unwrap(), Some(auditor.clone()));
    assert_eq!(s.get_role(other.tenant(), auditor.id).await.unwrap(), None, "tenant-confined");
    let names: Vec<String> = s.list_roles(tenant).await.unwrap().into_iter().map(|r| r.name).collect();
    assert_eq!(names, ["Auditor", "team lead"]);
    assert!(s.list_roles(other.tenant()).await.unwrap().is_empty());

    assert_duplicate(s.put_role(&role(&ctx, "AUDITOR", &[Permission::CaseRead]), None, &[]).await, "name");
    s.put_role(&role(&other, "Auditor", &[Permission::CaseRead]), None, &[]).await.unwrap();
    assert_duplicate(s.put_role(&auditor, None, &[]).await, "id");

    let mut renamed = auditor.clone();
    renamed.name = "Team Lead".into();
    renamed.version = 2;
    assert_duplicate(s.put_role(&renamed, Some(1), &[]).await, "name");
    renamed.name = "Auditors".into();
    renamed.permissions.insert(Permission::CustomerRead);
    assert_stale(s.put_role(&renamed, Some(5), &[]).await);
    s.put_role(&renamed, Some(1), &[]).await.unwrap();
    assert_eq!(s.get_role(tenant, auditor.id).await.unwrap(), Some(renamed.clone()));
    assert_stale(s.put_role(&renamed, Some(1), &[]).await);

    let stolen = TenantRole { tenant: other.tenant(), version: 3, ..renamed.clone() };
    assert_not_found(s.put_role(&stolen, Some(2), &[]).await);
    assert_not_found(s.put_role(&role(&ctx, "Ghost", &[Permission::CaseRead]), Some(1), &[]).await);
    assert_eq!(s.get_role(tenant, auditor.id).await.unwrap(), Some(renamed));
}

/// A role an agent holds is not deleted, and the refusal says how many hold it; once
/// nobody holds it, it is deleted (checked against its version); another tenant's role,
/// or one gone, is not found.
pub async fn a_role_held_by_an_agent_is_not_deleted(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let (s, tenant) = (&ctx.store, ctx.tenant());
    let held = role(&ctx, "Night shift", &[Permission::CaseRead]);
    s.put_role(&held, None, &[]).await.unwrap();
    let holder = Agent { custom_role: Some(held.id), version: 2, ..ctx.t.agent.clone() };
    s.put_agent(&holder, Some(1), &[]).await.unwrap();
    assert_eq!(s.get_agent(tenant, holder.id).await.unwrap().unwrap().custom_role, Some(held.id), "stored");

    match s.delete_role(tenant, held.id, 1, &[]).await {
        Err(StoreError::Conflict(Conflict::State(reason))) => assert!(reason.contains("1 agent"), "{reason}"),
        other => panic!("expected Conflict(State), got {other:?}"),
    }
    assert!(s.get_role(tenant, held.id).await.unwrap().is_some(), "a refused delete changes nothing");

    let other = ctx.sibling().await;
    assert_not_found(s.delete_role(other.tenant(), held.id, 1, &[]).await);
    assert_stale(s.delete_role(tenant, held.id, 2, &[]).await);

    let released = Agent { custom_role: None, version: 3, ..holder };
    s.put_agent(&released, Some(2), &[]).await.unwrap();
    s.delete_role(tenant, held.id, 1, &[]).await.unwrap();
    assert_eq!(s.get_role(tenant, held.id).await.unwrap(), None);
    assert_not_found(s.delete_role(tenant, held.id, 1, &[]).await);
    assert_not_found(s.delete_role(tenant, ctx.id::<RoleId>(), 1, &[]).await);
}

/// An agent's custom role must be a role of its tenant, checked with the write; a role
/// deleted while it is being assigned is never left named by an agent: of a concurrent
/// delete and assignment, either the delete is refused (the agent holds it) or the
/// assignment is (the role is gone), never both written.
pub async fn a_role_deleted_while_assigned_is_never_left_named(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let (s, tenant) = (&ctx.store, ctx.tenant());
    let other = ctx.sibling().await;
    let foreign = role(&other, "Elsewhere", &[Permission::CaseRead]);
    s.put_role(&foreign, None, &[]).await.unwrap();
    for ghost in [foreign.id, ctx.id::<RoleId>()] {
        let named = Agent { custom_role: Some(ghost), version: 2, ..ctx.t.agent.clone() };
        match s.put_agent(&named, Some(1), &[]).await {
            Err(StoreError::InvalidReference { field, .. }) => assert_eq!(field, "custom_role"),
            other => panic!("expected InvalidReference(custom_role), got {other:?}"),
        }
    }
    assert_eq!(s.get_agent(tenant, ctx.t.agent.id).await.unwrap().unwrap().version, 1, "nothing written");

    let mut version = 1;
    for round in 0..12 {
        let r = role(&ctx, &format!("Shift {round}"), &[Permission::CaseRead]);
        s.put_role(&r, None, &[]).await.unwrap();
        let assigned = Agent { custom_role: Some(r.id), version: version + 1, ..ctx.t.agent.clone() };
        let (s1, s2) = (s.clone(), s.clone());
        let assign = tokio::spawn(async move { s1.put_agent(&assigned, Some(version), &[]).await });
        let delete = tokio::spawn(async move { s2.delete_role(tenant, r.id, 1, &[]).await });
        let (assign, delete) = (assign.await.unwrap(), delete.await.unwrap());
        let stored = s.get_agent(tenant, ctx.t.agent.id).await.unwrap().unwrap();
        let role_left = s.get_role(tenant, r.id).await.unwrap();
        match (&assign, &delete) {
            (Ok(()), Err(StoreError::Conflict(_))) => {
                assert_eq!((stored.custom_role, role_left.is_some()), (Some(r.id), true), "round {round}");
            }
            (Err(StoreError::InvalidReference { .. }), Ok(())) => {
                assert_eq!((stored.version, role_left), (version, None), "round {round}");
            }
            other => panic!("round {round}: a delete and an assignment of one role both or neither held: {other:?}"),
        }
        // Back to no custom role for the next round.
        let current = stored.version;
        let cleared = Agent { custom_role: None, version: current + 1, ..stored };
        s.put_agent(&cleared, Some(current), &[]).await.unwrap();
        version = current + 1;
    }
}
