//! Administration use cases (ADM-1…ADM-3, INT-3): tenants, agents, groups, the disposition
//! catalogue and queues (custom field definitions are in `custom_fields`).

use std::collections::BTreeSet;

use chrono_tz::Tz;

use super::{Crm, changed_fields, check_version};
use crate::access::{Actor, Agent, AgentProfile, Group, Permission, Role, Tenant};
use crate::customer::{EmailAddress, Region};
use crate::error::{Error, FieldError, Result, Validator};
use crate::event::{EventKind, OutboxEntry, OutboxStatus};
use crate::ids::{AgentId, EventId, GroupId, TenantId};
use crate::interaction::{Disposition, DispositionInput, QueueSettings};
use crate::page::{Page, PageRequest};
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewAgent {
    /// Name.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::required_text))]
    pub name: String,
    /// Email, unique per tenant.
    #[cfg_attr(feature = "openapi", schema(format = Email))]
    pub email: String,
    /// Role.
    pub role: Role,
    /// Groups.
    #[serde(default)]
    pub groups: BTreeSet<GroupId>,
}

/// What an agent sends to change their profile (ADM-1).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProfilePatch {
    /// Default From (`null` clears).
    #[cfg_attr(feature = "openapi", schema(format = Email))]
    #[serde(default, with = "crate::case::double_option")]
    pub default_from: Option<Option<String>>,
    /// Signature (`null` clears).
    #[serde(default, with = "crate::case::double_option")]
    pub signature: Option<Option<String>>,
    /// Preferred case columns.
    #[serde(default)]
    pub preferred_case_columns: Option<Vec<String>>,
    /// The console's language for the agent, a primary language tag (`fr`; `null`: the
    /// browser's).
    #[serde(default, with = "crate::case::double_option")]
    pub language: Option<Option<String>>,
    /// The agent's time zone, IANA (`Europe/Paris`; `null`: the tenant's).
    #[serde(default, with = "crate::case::double_option")]
    pub time_zone: Option<Option<String>>,
}

/// A primary language tag as an agent's preference: 2 or 3 ASCII letters, lower-cased
/// (`FR` is `fr`).
fn language_tag(input: &str) -> std::result::Result<String, FieldError> {
    let tag = input.trim().to_ascii_lowercase();
    if (2..=3).contains(&tag.len()) && tag.chars().all(|c| c.is_ascii_lowercase()) {
        Ok(tag)
    } else {
        Err(FieldError::new("language", format!("{input:?} is not a language tag (en, fr)")))
    }
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

/// What an administrator sends to change an agent (role, groups, active, name).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AgentPatch {
    /// New name.
    #[serde(default)]
    pub name: Option<String>,
    /// New built-in role.
    #[serde(default)]
    pub role: Option<Role>,
    /// A tenant-defined role (ADM-2) whose permissions replace the built-in role's
    /// (`null` clears it: the built-in role applies again).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::ids::RoleId>, nullable))]
    #[serde(default, with = "crate::case::double_option")]
    pub custom_role: Option<Option<crate::ids::RoleId>>,
    /// New groups (the whole set).
    #[serde(default)]
    pub groups: Option<BTreeSet<GroupId>>,
    /// Activate or deactivate.
    #[serde(default)]
    pub active: Option<bool>,
}

/// A new agent's checked name and address.
fn checked_agent(input: &NewAgent) -> Result<(String, EmailAddress)> {
    let mut v = Validator::new();
    let name = v.check(required_text("name", &input.name, 200));
    let email = v.check(EmailAddress::parse(&input.email));
    v.finish()?;
    match (name, email) {
        (Some(name), Some(email)) => Ok((name, email)),
        _ => Err(Error::invalid("agent", "incomplete")),
    }
}

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
        let tenant = Tenant {
            id: next_id(&*self.ids),
            name,
            default_region,
            time_zone,
            created_at: self.clock.now(),
            suspended_at: None,
            slug: None,
        };
        self.store.insert_tenant(&tenant).await?;
        Ok(tenant)
    }

    /// Creates a tenant with its first agent (an operator action: no actor). Both inputs
    /// are checked before anything is written.
    ///
    /// # Errors
    /// Bad input in either (the agent's fields named as for [`Crm::create_agent`]).
    pub async fn create_tenant_with_admin(&self, tenant: NewTenant, admin: NewAgent) -> Result<(Tenant, Agent)> {
        checked_agent(&admin)?;
        let tenant = self.create_tenant(tenant).await?;
        let admin = self.create_agent(tenant.id, None, admin).await?;
        Ok((tenant, admin))
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
        let (name, email) = checked_agent(&input)?;
        let agent = Agent {
            id: next_id(&*self.ids),
            tenant,
            name,
            email,
            role: input.role,
            custom_role: None,
            groups: input.groups,
            profile: AgentProfile::default(),
            active: true,
            version: 1,
        };
        let event = self.admin_event(tenant, actor, EventKind::AgentCreated { agent: agent.id }, None, Some(&agent));
        self.store.put_agent(&agent, None, &[event]).await?;
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

    /// Changes an agent's name, role, groups or active flag (ADM-1, ADM-2). An administrator
    /// cannot demote or deactivate themself, nor the tenant's last other active
    /// administrator, so a tenant never loses its last way in by accident.
    ///
    /// # Errors
    /// Forbidden without `admin.agents`; `NotFound`; an unknown group; a stale version.
    pub async fn update_agent(
        &self,
        actor: &Actor,
        id: AgentId,
        expected_version: u64,
        patch: AgentPatch,
    ) -> Result<Agent> {
        actor.require(Permission::AdminAgents)?;
        let mut agent = self.get_agent(actor, id).await?;
        let before = agent.clone();
        let expected_version = check_version("agent", id, agent.version, expected_version)?;
        let mut v = Validator::new();
        if let Some(name) = patch.name.as_deref() {
            agent.name = v.check(required_text("name", name, 200)).unwrap_or_default();
        }
        let gets_custom_role = matches!(patch.custom_role, Some(Some(_)));
        if id == actor.agent
            && (patch.role.is_some_and(|r| r != Role::Administrator) || patch.active == Some(false) || gets_custom_role)
        {
            v.push(FieldError::new("role", "administrators cannot demote or deactivate themselves"));
        }
        let loses_admin = agent.is_administrator()
            && (patch.role.is_some_and(|r| r != Role::Administrator)
                || patch.active == Some(false)
                || gets_custom_role);
        if loses_admin && id != actor.agent {
            let admins = self.store.list_agents(actor.tenant).await?;
            if !admins.iter().any(|a| a.id != id && a.is_administrator()) {
                v.push(FieldError::new("role", "the tenant's last active administrator cannot lose administration"));
            }
        }
        if let Some(Some(role)) = patch.custom_role {
            self.check_role_grant(actor, role, &mut v).await?;
        }
        if let Some(groups) = patch.groups {
            let known: BTreeSet<GroupId> = self.store.list_groups(actor.tenant).await?.iter().map(|g| g.id).collect();
            for g in groups.difference(&known) {
                v.push(FieldError::new("groups", format!("{g} is not a group of this tenant")));
            }
            agent.groups = groups;
        }
        v.finish()?;
        if let Some(role) = patch.role {
            agent.role = role;
        }
        if let Some(custom_role) = patch.custom_role {
            agent.custom_role = custom_role;
        }
        if let Some(active) = patch.active {
            agent.active = active;
        }
        agent.version = expected_version + 1;
        let kind = EventKind::AgentUpdated { agent: id, fields: changed_fields(&before, &agent) };
        let event = self.event_with_changes(actor, kind, Some(&before), Some(&agent));
        self.store.put_agent(&agent, Some(expected_version), &[event]).await?;
        Ok(agent)
    }

    /// The tenant's outbox entries with a status, newest first: what was pushed, what waits,
    /// what is dead (EXT-1). `interaction` keeps the pushes of that interaction only, among
    /// the entries of the page read: a page may then hold fewer items than its limit (even
    /// none) while it has a next one.
    ///
    /// # Errors
    /// Forbidden without `admin.connectors`; a bad cursor.
    pub async fn list_outbox(
        &self,
        actor: &Actor,
        status: Option<OutboxStatus>,
        interaction: Option<crate::ids::InteractionId>,
        page: &PageRequest,
    ) -> Result<Page<OutboxEntry>> {
        actor.require(Permission::AdminConnectors)?;
        let mut found = self.store.list_outbox(actor.tenant, status, page).await?;
        if let Some(interaction) = interaction {
            found.items.retain(|e| e.pushed_interaction() == Some(interaction));
        }
        Ok(found)
    }

    /// Puts a dead outbox entry back in the queue (the retry action).
    ///
    /// # Errors
    /// Forbidden without `admin.connectors`; `NotFound`; a conflict unless the entry is dead.
    pub async fn requeue_outbox(&self, actor: &Actor, id: EventId) -> Result<()> {
        actor.require(Permission::AdminConnectors)?;
        Ok(self.store.requeue(actor.tenant, id, self.clock.now()).await?)
    }

    /// Changes the actor's own profile (default From, signature, preferred columns, the
    /// console's language and time zone).
    ///
    /// # Errors
    /// Bad values (an unknown column, a bad address); a stale version.
    pub async fn update_profile(&self, actor: &Actor, expected_version: u64, patch: ProfilePatch) -> Result<Agent> {
        let mut agent = self.get_agent(actor, actor.agent).await?;
        let before = agent.clone();
        let expected_version = check_version("agent", agent.id, agent.version, expected_version)?;
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
        if let Some(language) = patch.language {
            agent.profile.language = language.and_then(|l| v.check(language_tag(&l)));
        }
        if let Some(zone) = patch.time_zone {
            agent.profile.time_zone = zone.and_then(|z| {
                v.check(z.trim().parse::<Tz>().map_err(|_| {
                    FieldError::new("time_zone", format!("{z:?} is not an IANA time zone (Europe/Paris)"))
                }))
            });
        }
        v.finish()?;
        agent.version = expected_version + 1;
        let kind = EventKind::AgentUpdated { agent: agent.id, fields: changed_fields(&before, &agent) };
        let event = self.event_with_changes(actor, kind, Some(&before), Some(&agent));
        self.store.put_agent(&agent, Some(expected_version), &[event]).await?;
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
        let event = self.event_with_changes(actor, EventKind::GroupCreated { group: group.id }, None, Some(&group));
        self.store.put_group(&group, None, &[event]).await?;
        Ok(group)
    }

    /// The groups of the actor's tenant.
    ///
    /// # Errors
    /// Store failures.
    pub async fn list_groups(&self, actor: &Actor) -> Result<Vec<Group>> {
        Ok(self.store.list_groups(actor.tenant).await?)
    }

    /// Adds or replaces a disposition code (INT-3).
    ///
    /// # Errors
    /// Forbidden without `admin.dispositions`; bad input.
    pub async fn put_disposition(&self, actor: &Actor, input: DispositionInput) -> Result<Disposition> {
        actor.require(Permission::AdminDispositions)?;
        let d = input.build(actor.tenant)?;
        let before = self.store.dispositions(actor.tenant).await?.into_iter().find(|s| s.code == d.code);
        let event = self.event_with_changes(
            actor,
            EventKind::DispositionWritten { code: d.code.clone() },
            before.as_ref(),
            Some(&d),
        );
        self.store.put_disposition(&d, &[event]).await?;
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
        let before = self.store.get_queue(actor.tenant, &q.name).await?;
        let event = self.event_with_changes(
            actor,
            EventKind::QueueWritten { queue: q.name.clone() },
            before.as_ref(),
            Some(&q),
        );
        self.store.put_queue(&q, &[event]).await?;
        Ok(q)
    }
}
