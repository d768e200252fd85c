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
