//! A ready world in one call: a tenant (region FR, time zone Europe/Paris) with a support
//! group, an administrator, a supervisor and an agent, stored in a store, with their
//! [`Actor`]s.
//!
//! ```
//! # tokio_test_block_on(async {
//! use crm_testkit::fixtures::World;
//!
//! let world = World::new().await;
//! assert_eq!(world.tenant.default_region.code(), "FR");
//! # });
//! # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
//! # }
//! ```

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use crm_core::access::{Actor, Agent, AgentProfile, Group, Role, Tenant};
use crm_core::customer::{EmailAddress, Region};
use crm_core::ids::{AgentId, GroupId, TenantId};
use crm_core::ports::{Store, StoreResult};
use crm_core::time::{Clock, IdGenerator, next_id};

use crate::{ManualClock, MemoryStore, SequentialIds};

/// The fixtures' tenant time zone.
pub const PARIS: chrono_tz::Tz = chrono_tz::Europe::Paris;

/// The region France, for reading national phone numbers.
pub fn region_fr() -> Region {
    Region::parse("FR").expect("FR is a known region")
}

/// A tenant and its people, stored.
#[derive(Clone, Debug)]
pub struct SeededTenant {
    /// The tenant (FR, Europe/Paris).
    pub tenant: Tenant,
    /// The "Support" group; the supervisor and the agent belong to it.
    pub group: Group,
    /// An administrator.
    pub admin: Agent,
    /// A supervisor, member of [`Self::group`].
    pub supervisor: Agent,
    /// An agent, member of [`Self::group`].
    pub agent: Agent,
}

impl SeededTenant {
    /// Creates and stores a fresh tenant with its group and agents in `store`, drawing ids
    /// from `ids`.
    ///
    /// # Errors
    /// Whatever the store refuses.
    pub async fn create(store: &dyn Store, ids: &dyn IdGenerator, now: DateTime<Utc>) -> StoreResult<Self> {
        let tenant_id: TenantId = next_id(ids);
        let tenant = Tenant {
            id: tenant_id,
            name: format!("Centre d'appels {}", &tenant_id.to_string()[..8]),
            default_region: region_fr(),
            time_zone: PARIS,
            created_at: now,
            suspended_at: None,
            slug: None,
        };
        store.insert_tenant(&tenant).await?;
        let group_id: GroupId = next_id(ids);
        let group = Group {
            id: group_id,
            tenant: tenant_id,
            name: "Support".into(),
            mail_addresses: vec![email("support@centre.example.com")],
            version: 1,
        };
        store.put_group(&group, None, &[]).await?;
        let person = |name: &str, mail: &str, role: Role, groups: BTreeSet<GroupId>| Agent {
            id: next_id(ids),
            tenant: tenant_id,
            name: name.into(),
            email: email(mail),
            role,
            custom_role: None,
            groups,
            profile: AgentProfile {
                default_from: Some(email(mail)),
                signature: Some(format!("-- \n{name}")),
                preferred_case_columns: Vec::new(),
                ..AgentProfile::default()
            },
            active: true,
            version: 1,
        };
        let admin = person("Alice Admin", "alice.admin@centre.example.com", Role::Administrator, BTreeSet::new());
        let supervisor =
            person("Sophie Superviseur", "sophie.sup@centre.example.com", Role::Supervisor, BTreeSet::from([group_id]));
        let agent = person("Bruno Agent", "bruno.agent@centre.example.com", Role::Agent, BTreeSet::from([group_id]));
        for a in [&admin, &supervisor, &agent] {
            store.put_agent(a, None, &[]).await?;
        }
        Ok(Self { tenant, group, admin, supervisor, agent })
    }

    /// The tenant's id.
    pub fn id(&self) -> TenantId {
        self.tenant.id
    }

    /// The administrator acting.
    pub fn admin_actor(&self) -> Actor {
        Actor::for_agent(&self.admin)
    }

    /// The supervisor acting.
    pub fn supervisor_actor(&self) -> Actor {
        Actor::for_agent(&self.supervisor)
    }

    /// The agent acting.
    pub fn agent_actor(&self) -> Actor {
        Actor::for_agent(&self.agent)
    }

    /// Another agent of the tenant, in no group, stored (to test private visibility and
    /// reassignment).
    ///
    /// # Errors
    /// Whatever the store refuses.
    pub async fn add_agent(
        &self,
        store: &dyn Store,
        ids: &dyn IdGenerator,
        name: &str,
        role: Role,
    ) -> StoreResult<Agent> {
        let id: AgentId = next_id(ids);
        let agent = Agent {
            id,
            tenant: self.tenant.id,
            name: name.into(),
            email: email(&format!("agent-{}@centre.example.com", id.as_uuid().simple())),
            role,
            custom_role: None,
            groups: BTreeSet::new(),
            profile: AgentProfile::default(),
            active: true,
            version: 1,
        };
        store.put_agent(&agent, None, &[]).await?;
        Ok(agent)
    }
}

fn email(s: &str) -> EmailAddress {
    EmailAddress::parse(s).expect("fixture addresses are valid")
}

/// A [`MemoryStore`], a [`ManualClock`] at [`crate::fakes::default_start`], [`SequentialIds`]
/// and a [`SeededTenant`] in the store.
#[derive(Clone, Debug)]
pub struct World {
    /// The store (also usable as `Arc<dyn Store>` with [`World::dyn_store`]).
    pub store: Arc<MemoryStore>,
    /// The clock.
    pub clock: Arc<ManualClock>,
    /// The id generator.
    pub ids: Arc<SequentialIds>,
    /// The tenant.
    pub tenant: Tenant,
    /// The seeded tenant with its group and agents.
    pub seeded: SeededTenant,
    /// The administrator acting.
    pub admin: Actor,
    /// The supervisor acting.
    pub supervisor: Actor,
    /// The agent acting.
    pub agent: Actor,
}

impl World {
    /// A fresh world.
    ///
    /// # Panics
    /// Never in practice: the memory store accepts the seed.
    pub async fn new() -> Self {
        let store = Arc::new(MemoryStore::new());
        let clock = Arc::new(ManualClock::default());
        let ids = Arc::new(SequentialIds::new());
        let seeded = SeededTenant::create(&*store, &*ids, clock.now()).await.expect("the memory store takes the seed");
        Self {
            admin: seeded.admin_actor(),
            supervisor: seeded.supervisor_actor(),
            agent: seeded.agent_actor(),
            tenant: seeded.tenant.clone(),
            seeded,
            store,
            clock,
            ids,
        }
    }

    /// The store as the port object use cases take.
    pub fn dyn_store(&self) -> Arc<dyn Store> {
        self.store.clone()
    }

    /// The clock as the port object use cases take.
    pub fn dyn_clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    /// The id generator as the port object use cases take.
    pub fn dyn_ids(&self) -> Arc<dyn IdGenerator> {
        self.ids.clone()
    }
}
