//! Administration use cases (ADM-1…ADM-3, CUS-2, INT-3): tenants, agents, groups, custom
//! field definitions, the disposition catalogue and queues.

use std::collections::BTreeSet;

use chrono_tz::Tz;

use super::{Crm, check_version};
use crate::access::{Actor, Agent, AgentProfile, Group, Permission, Role, Tenant};
use crate::custom_field::{FieldDefinition, FieldDefinitionInput, FieldEntity};
use crate::customer::{EmailAddress, Region};
use crate::error::{Error, FieldError, Result, Validator};
use crate::ids::{AgentId, GroupId, TenantId};
use crate::interaction::{Disposition, DispositionInput, QueueSettings};
use crate::text::{bounded_text, required_text};
use crate::time::next_id;

/// What an operator sends to create a tenant.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTenant {
    /// Name.
    pub name: String,
    /// Default phone region (`FR`).
    pub default_region: String,
    /// IANA time zone (`Europe/Paris`).
    pub time_zone: String,
}

/// What an administrator sends to create an agent.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAgent {
    /// Name.
    pub name: String,
    /// Email, unique per tenant.
    pub email: String,
    /// Role.
    pub role: Role,
    /// Groups.
    #[serde(default)]
    pub groups: BTreeSet<GroupId>,
}

/// What an agent sends to change their profile (ADM-1).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatch {
    /// Default From (`null` clears).
    #[serde(default, with = "crate::case::double_option")]
    pub default_from: Option<Option<String>>,
    /// Signature (`null` clears).
    #[serde(default, with = "crate::case::double_option")]
    pub signature: Option<Option<String>>,
    /// Preferred case columns.
    #[serde(default)]
    pub preferred_case_columns: Option<Vec<String>>,
}

/// The case list columns an agent may choose (CAS-5).
pub const CASE_COLUMNS: &[&str] = &[
    "number",
    "subject",
    "status",
    "priority",
    "severity",
    "assignee",
    "group",
    "customer",
    "created_at",
    "updated_at",
];

impl Crm {
    /// Creates a tenant (an operator action: no actor).
    ///
    /// # Errors
    /// Bad name, region or zone.
    pub async fn create_tenant(&self, input: NewTenant) -> Result<Tenant> {
        let mut v = Validator::new();
        let name = v.check(required_text("name", &input.name, 200));
        let region = v.check(Region::parse(&input.default_region));
        let zone = v.check(
            input
                .time_zone
                .parse::<Tz>()
                .map_err(|_| FieldError::new("time_zone", format!("{:?} is not an IANA time zone", input.time_zone))),
        );
        v.finish()?;
        let (Some(name), Some(default_region), Some(time_zone)) = (name, region, zone) else {
            return Err(Error::invalid("tenant", "incomplete"));
        };
        let tenant = Tenant { id: next_id(&*self.ids), name, default_region, time_zone, created_at: self.clock.now() };
        self.store.insert_tenant(&tenant).await?;
        Ok(tenant)
    }

    /// Creates an agent in a tenant. With `actor` `None` this is an operator bootstrap (the
    /// first administrator); otherwise it needs `admin.agents`.
    ///
    /// # Errors
    /// Forbidden; bad input; `Conflict(Duplicate email)`.
    pub async fn create_agent(&self, tenant: TenantId, actor: Option<&Actor>, input: NewAgent) -> Result<Agent> {
        if let Some(actor) = actor {
            actor.require(Permission::AdminAgents)?;
            if actor.tenant != tenant {
                return Err(Error::not_found("tenant", tenant));
            }
        }
        self.tenant(tenant).await?;
        let mut v = Validator::new();
        let name = v.check(required_text("name", &input.name, 200));
        let email = v.check(EmailAddress::parse(&input.email));
        v.finish()?;
        let (Some(name), Some(email)) = (name, email) else {
            return Err(Error::invalid("agent", "incomplete"));
        };
        let agent = Agent {
            id: next_id(&*self.ids),
            tenant,
            name,
            email,
            role: input.role,
            groups: input.groups,
            profile: AgentProfile::default(),
            active: true,
            version: 1,
        };
        self.store.put_agent(&agent, None).await?;
        Ok(agent)
    }

    /// An agent of the actor's tenant.
    ///
    /// # Errors
    /// `NotFound`.
    pub async fn get_agent(&self, actor: &Actor, id: AgentId) -> Result<Agent> {
        self.store.get_agent(actor.tenant, id).await?.ok_or_else(|| Error::not_found("agent", id))
    }

    /// The agents of the actor's tenant.
    ///
    /// # Errors
    /// Store failures.
    pub async fn list_agents(&self, actor: &Actor) -> Result<Vec<Agent>> {
        Ok(self.store.list_agents(actor.tenant).await?)
    }

    /// Changes the actor's own profile (default From, signature, preferred columns).
    ///
    /// # Errors
    /// Bad values (an unknown column, a bad address); a stale version.
    pub async fn update_profile(&self, actor: &Actor, expected_version: u64, patch: ProfilePatch) -> Result<Agent> {
        let mut agent = self.get_agent(actor, actor.agent).await?;
        check_version("agent", agent.id, agent.version, expected_version)?;
        let mut v = Validator::new();
        if let Some(from) = patch.default_from {
            agent.profile.default_from = from
                .and_then(|f| v.check(EmailAddress::parse(&f).map_err(|e| FieldError::new("default_from", e.reason))));
        }
        if let Some(sig) = patch.signature {
            agent.profile.signature = sig.and_then(|s| v.check(bounded_text("signature", &s, 5_000)));
        }
        if let Some(columns) = patch.preferred_case_columns {
            for (i, c) in columns.iter().enumerate() {
                if !CASE_COLUMNS.contains(&c.as_str()) {
                    v.push(FieldError::new(
                        format!("preferred_case_columns[{i}]"),
                        format!("{c:?} is not a case column ({})", CASE_COLUMNS.join(", ")),
                    ));
                }
            }
            agent.profile.preferred_case_columns = columns;
        }
        v.finish()?;
        agent.version += 1;
        self.store.put_agent(&agent, Some(expected_version)).await?;
        Ok(agent)
    }

    /// Creates a group.
    ///
    /// # Errors
    /// Forbidden without `admin.agents`; bad input; a taken name.
    pub async fn create_group(&self, actor: &Actor, name: &str, mail_addresses: &[String]) -> Result<Group> {
        actor.require(Permission::AdminAgents)?;
        let mut v = Validator::new();
        let name = v.check(required_text("name", name, 100));
        let mails: Vec<EmailAddress> = mail_addresses
            .iter()
            .enumerate()
            .filter_map(|(i, m)| v.check(EmailAddress::parse(m).map_err(|e| e.within(&format!("mail_addresses[{i}]")))))
            .collect();
        v.finish()?;
        let group = Group {
            id: next_id(&*self.ids),
            tenant: actor.tenant,
            name: name.unwrap_or_default(),
            mail_addresses: mails,
            version: 1,
        };
        self.store.put_group(&group, None).await?;
        Ok(group)
    }

    /// The groups of the actor's tenant.
    ///
    /// # Errors
    /// Store failures.
    pub async fn list_groups(&self, actor: &Actor) -> Result<Vec<Group>> {
        Ok(self.store.list_groups(actor.tenant).await?)
    }

    /// Defines a custom field (CUS-2).
    ///
    /// # Errors
    /// Forbidden without `admin.custom_fields`; bad input; a taken key.
    pub async fn define_custom_field(&self, actor: &Actor, input: FieldDefinitionInput) -> Result<FieldDefinition> {
        actor.require(Permission::AdminCustomFields)?;
        let tenant = self.tenant(actor.tenant).await?;
        let def = FieldDefinition::build(next_id(&*self.ids), actor.tenant, input, Some(tenant.default_region))?;
        self.store.put_field_definition(&def, None).await?;
        Ok(def)
    }

    /// The custom field definitions of an entity.
    ///
    /// # Errors
    /// Store failures.
    pub async fn custom_fields(&self, actor: &Actor, entity: FieldEntity) -> Result<Vec<FieldDefinition>> {
        Ok(self.store.field_definitions(actor.tenant, entity).await?)
    }

    /// Adds or replaces a disposition code (INT-3).
    ///
    /// # Errors
    /// Forbidden without `admin.dispositions`; bad input.
    pub async fn put_disposition(&self, actor: &Actor, input: DispositionInput) -> Result<Disposition> {
        actor.require(Permission::AdminDispositions)?;
        let d = input.build(actor.tenant)?;
        self.store.put_disposition(&d).await?;
        Ok(d)
    }

    /// The disposition catalogue.
    ///
    /// # Errors
    /// Store failures.
    pub async fn dispositions(&self, actor: &Actor) -> Result<Vec<Disposition>> {
        Ok(self.store.dispositions(actor.tenant).await?)
    }

    /// Sets a queue's settings (whether it requires a disposition).
    ///
    /// # Errors
    /// Forbidden without `admin.dispositions`; a bad name.
    pub async fn put_queue(&self, actor: &Actor, name: &str, disposition_required: bool) -> Result<QueueSettings> {
        actor.require(Permission::AdminDispositions)?;
        let name = required_text("name", name, 100)?;
        let q = QueueSettings { tenant: actor.tenant, name, disposition_required };
        self.store.put_queue(&q).await?;
        Ok(q)
    }
}
