//! Administration use cases on the in-memory store (ADM-1, ADM-2).

use std::collections::BTreeSet;

use crm_core::access::Role;
use crm_core::service::AgentPatch;
use crm_core::{Error, error::Conflict};

use crate::helpers::Env;

#[tokio::test]
async fn an_admin_changes_an_agents_role_and_groups_but_not_their_own_role() {
    let env = Env::new().await;
    let admin = env.tenant.admin_actor();
    let agent = env.tenant.agent.clone();
    let patch = AgentPatch { role: Some(Role::Supervisor), groups: Some(BTreeSet::new()), ..AgentPatch::default() };
    let updated = env.crm.update_agent(&admin, agent.id, agent.version, patch.clone()).await.unwrap();
    assert_eq!((updated.role, updated.version), (Role::Supervisor, agent.version + 1));
    assert!(updated.groups.is_empty());
    let stale = env.crm.update_agent(&admin, agent.id, agent.version, patch).await;
    assert!(matches!(stale, Err(Error::Conflict(Conflict::StaleVersion { .. }))), "{stale:?}");

    let me = env.tenant.admin.clone();
    let demote = AgentPatch { role: Some(Role::Agent), ..AgentPatch::default() };
    let err = env.crm.update_agent(&admin, me.id, me.version, demote).await;
    assert!(matches!(&err, Err(Error::Validation(v)) if v.errors()[0].field == "role"), "{err:?}");

    let unknown = AgentPatch {
        groups: Some(BTreeSet::from([crm_core::ids::GroupId::from_uuid(uuid::Uuid::nil())])),
        ..AgentPatch::default()
    };
    let err = env.crm.update_agent(&admin, updated.id, updated.version, unknown).await;
    assert!(matches!(&err, Err(Error::Validation(v)) if v.errors()[0].field == "groups"), "{err:?}");

    let by_agent = env.crm.update_agent(&env.tenant.agent_actor(), me.id, me.version, AgentPatch::default()).await;
    assert!(matches!(by_agent, Err(Error::Forbidden { .. })));
}

/// A tenant role (ADM-2) replaces its holder's built-in permissions; nobody grants through a
/// role what they do not hold themself (creating, editing or giving it); the last built-in
/// administrator keeps administration; a held role is not deleted, a built-in one never.
#[tokio::test]
async fn a_tenant_role_grants_its_permissions_and_never_more_than_its_grantor_holds() {
    use crm_core::access::{Actor, NewRole, Permission, RolePatch};
    use crm_core::service::RoleRef;

    let env = Env::new().await;
    let admin = env.tenant.admin_actor();
    let new = |name: &str, permissions: &[&str]| NewRole {
        name: name.into(),
        description: None,
        permissions: permissions.iter().map(|p| (*p).to_owned()).collect(),
    };
    let lead =
        env.crm.create_role(&admin, new("Team lead", &["admin.agents", "case.read", "case.assign"])).await.unwrap();
    let agent = env.tenant.agent.clone();
    let patch = AgentPatch { custom_role: Some(Some(lead.id)), ..AgentPatch::default() };
    let holder = env.crm.update_agent(&admin, agent.id, agent.version, patch).await.unwrap();
    assert_eq!(holder.custom_role, Some(lead.id));
    let role = env.crm.agent_role(&holder).await.unwrap();
    let acting = Actor::for_agent_with(&holder, role.as_ref());
    assert!(acting.can(Permission::CaseAssign) && !acting.can(Permission::CustomerRead), "{:?}", acting.permissions);

    // The team lead administers agents, but grants nothing it lacks.
    let err = env.crm.create_role(&acting, new("Auditor", &["admin.audit"])).await;
    assert!(matches!(err, Err(Error::Forbidden { permission: Some(Permission::AdminAudit), .. })), "{err:?}");
    let auditor = env.crm.create_role(&admin, new("Auditor", &["admin.audit"])).await.unwrap();
    let sup = env.tenant.supervisor.clone();
    let give = AgentPatch { custom_role: Some(Some(auditor.id)), ..AgentPatch::default() };
    let err = env.crm.update_agent(&acting, sup.id, sup.version, give).await;
    assert!(matches!(err, Err(Error::Forbidden { permission: Some(Permission::AdminAudit), .. })), "{err:?}");
    let widen = RolePatch { permissions: Some(vec!["admin.audit".into()]), ..RolePatch::default() };
    let err = env.crm.update_role(&acting, RoleRef::Tenant(lead.id), lead.version, widen).await;
    assert!(matches!(err, Err(Error::Forbidden { .. })), "{err:?}");

    // The tenant's only built-in administrator cannot give themself a role.
    let me = env.tenant.admin.clone();
    let mine = AgentPatch { custom_role: Some(Some(auditor.id)), ..AgentPatch::default() };
    let err = env.crm.update_agent(&admin, me.id, me.version, mine).await;
    assert!(matches!(&err, Err(Error::Validation(v)) if v.errors()[0].field == "role"), "{err:?}");

    // Held: not deleted; built-in: never changed.
    let err = env.crm.delete_role(&admin, RoleRef::Tenant(lead.id), lead.version).await;
    assert!(matches!(&err, Err(Error::Conflict(Conflict::State(r))) if r.contains("1 agent")), "{err:?}");
    let err = env.crm.delete_role(&admin, RoleRef::BuiltIn(Role::Agent), 1).await;
    assert!(matches!(err, Err(Error::Conflict(Conflict::State(_)))), "{err:?}");
    env.crm.delete_role(&admin, RoleRef::Tenant(auditor.id), auditor.version).await.unwrap();
    let listed = env.crm.list_roles(&admin).await.unwrap();
    let names: Vec<&str> = listed.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["agent", "supervisor", "administrator", "Team lead"]);

    // The operator's CLI gives roles by name, and a built-in role back.
    let by_name = env.crm.set_agent_role_as_operator(env.tenant.tenant.id, sup.id, "team LEAD").await.unwrap();
    assert_eq!(by_name.custom_role, Some(lead.id));
    let back = env.crm.set_agent_role_as_operator(env.tenant.tenant.id, sup.id, "supervisor").await.unwrap();
    assert_eq!((back.custom_role, back.role), (None, Role::Supervisor));
}
