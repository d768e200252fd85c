//! Tenants, agents, groups, roles and permissions (ADM-1…ADM-4), and the [`Actor`] every use
//! case receives. Permission checks and case visibility are decided here, in the core, so
//! every adapter and the server get them for free.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::customer::{EmailAddress, Region};
use crate::error::{Error, FieldError};
use crate::ids::{AgentId, GroupId, RoleId, TenantId};

pub(crate) mod role;

pub use role::{MAX_ROLE_DESCRIPTION, MAX_ROLE_NAME, NewRole, RoleInfo, RolePatch, TenantRole, name_key, role_in_use};

macro_rules! permissions {
    ($($(#[$doc:meta])* $variant:ident => $name:literal,)+) => {
        /// A permission a role grants (ADM-2). Written `area.action` on the wire.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Permission {
            $($(#[$doc])* $variant,)+
        }

        impl Permission {
            /// Every permission, in a stable order.
            pub const ALL: &'static [Permission] = &[$(Permission::$variant,)+];

            /// The wire name (`case.delete`).
            pub const fn as_str(self) -> &'static str {
                match self { $(Permission::$variant => $name,)+ }
            }
        }

        impl FromStr for Permission {
            type Err = FieldError;

            fn from_str(s: &str) -> Result<Self, FieldError> {
                match s {
                    $($name => Ok(Permission::$variant),)+
                    other => Err(FieldError::new("permissions", format!("{other:?} is not a permission"))),
                }
            }
        }
    };
}

permissions! {
    /// Read customers and their cards.
    CustomerRead => "customer.read",
    /// Create and edit customers, identities, relations and custom values.
    CustomerEdit => "customer.edit",
    /// Delete customers.
    CustomerDelete => "customer.delete",
    /// Merge customer cards and undo merges.
    CustomerMerge => "customer.merge",
    /// Read cases (private ones only when visible, see [`Actor::can_see_private`]).
    CaseRead => "case.read",
    /// Create and edit cases and follow-ups.
    CaseEdit => "case.edit",
    /// Delete cases.
    CaseDelete => "case.delete",
    /// See every private case, whoever it is assigned to (supervisors).
    CaseViewPrivate => "case.view_private",
    /// Assign cases and tasks to other agents.
    CaseAssign => "case.assign",
    /// Create and edit tasks.
    TaskEdit => "task.edit",
    /// Handle interactions: accept, note, dispose, link.
    InteractionHandle => "interaction.handle",
    /// Define custom fields.
    AdminCustomFields => "admin.custom_fields",
    /// Keep the disposition catalogue and queue settings.
    AdminDispositions => "admin.dispositions",
    /// Manage agents, groups and roles.
    AdminAgents => "admin.agents",
    /// Configure external CRM connectors.
    AdminConnectors => "admin.connectors",
    /// Change the tenant's settings (default phone region, time zone).
    AdminTenant => "admin.tenant",
    /// Design interactive scripts and alert rules (GUI-1, GUI-2; supervisors).
    GuidanceEdit => "guidance.edit",
    /// Design outbound campaigns and call lists, import their entries, keep the do-not-call list (OUT-1).
    OutboundManage => "outbound.manage",
    /// Read and export the audit log (ADM-4).
    AdminAudit => "admin.audit",
    /// Write knowledge articles and see drafts and archived ones (KNO-1).
    KnowledgeEdit => "knowledge.edit",
    /// Deliver received mail (CAS-8: the inbound hook, the IMAP poller) and edit the email
    /// rules (EML-1).
    MailInbound => "mail.inbound",
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Permission {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Permission {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The built-in roles (ADM-2). Tenants may define more; these always exist.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Handles interactions, customers, cases and tasks.
    Agent,
    /// An agent who also deletes, assigns, merges and sees private cases.
    Supervisor,
    /// Everything, including administration.
    Administrator,
}

impl Role {
    /// The permissions this role grants.
    pub fn permissions(self) -> BTreeSet<Permission> {
        use Permission::*;
        let agent = [CustomerRead, CustomerEdit, CaseRead, CaseEdit, TaskEdit, InteractionHandle];
        match self {
            Role::Agent => agent.into_iter().collect(),
            Role::Supervisor => agent
                .into_iter()
                .chain([CustomerDelete, CustomerMerge, CaseDelete, CaseViewPrivate, CaseAssign, GuidanceEdit])
                .chain([CustomerDelete, CustomerMerge, CaseDelete, CaseViewPrivate, CaseAssign, OutboundManage])
                .chain([CustomerDelete, CustomerMerge, CaseDelete, CaseViewPrivate, CaseAssign, KnowledgeEdit])
                .collect(),
            Role::Administrator => Permission::ALL.iter().copied().collect(),
        }
    }

    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Supervisor => "supervisor",
            Role::Administrator => "administrator",
        }
    }
}

impl FromStr for Role {
    type Err = FieldError;

    fn from_str(s: &str) -> Result<Self, FieldError> {
        match s {
            "agent" => Ok(Role::Agent),
            "supervisor" => Ok(Role::Supervisor),
            "administrator" | "admin" => Ok(Role::Administrator),
            other => {
                Err(FieldError::new("role", format!("{other:?} is not a role (agent, supervisor, administrator)")))
            }
        }
    }
}

/// Who is acting: the tenant, the agent, the agent's groups and permissions. Built by the
/// caller (the server from an API token) from a stored [`Agent`]; use cases trust it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    /// The tenant every read and write is confined to.
    pub tenant: TenantId,
    /// The acting agent.
    pub agent: AgentId,
    /// The agent's groups (for private-case visibility).
    pub groups: BTreeSet<GroupId>,
    /// What the agent may do.
    pub permissions: BTreeSet<Permission>,
    /// Where the request came from (the audit log's request id, address, channel, token);
    /// the default for work that is not a request.
    pub context: crate::audit::RequestContext,
}

impl Actor {
    /// An actor with a built-in role's permissions.
    pub fn with_role(tenant: TenantId, agent: AgentId, role: Role) -> Self {
        Self {
            tenant,
            agent,
            groups: BTreeSet::new(),
            permissions: role.permissions(),
            context: crate::audit::RequestContext::default(),
        }
    }

    /// The actor for a stored agent without a tenant-defined role (one with such a role
    /// gets no permission here: use [`Actor::for_agent_with`]).
    pub fn for_agent(agent: &Agent) -> Self {
        Self::for_agent_with(agent, None)
    }

    /// The actor for a stored agent and its tenant-defined role as read (see
    /// [`Agent::permissions`]).
    pub fn for_agent_with(agent: &Agent, custom: Option<&TenantRole>) -> Self {
        Self {
            tenant: agent.tenant,
            agent: agent.id,
            groups: agent.groups.clone(),
            permissions: agent.permissions(custom),
            context: crate::audit::RequestContext::default(),
        }
    }

    /// The actor an API token acts as: its agent's tenant and groups, and the permissions
    /// both the token's role and the agent's current role grant (demoting an agent takes
    /// effect on the tokens issued before). `custom` is the agent's tenant-defined role as
    /// read, when it has one ([`Agent::permissions`]). `None` when the agent is inactive or
    /// is not the token's.
    ///
    /// ```
    /// use crm_core::access::{Actor, Agent, Permission, Role};
    /// use crm_core::api_token::ApiToken;
    /// # use crm_core::ids::{AgentId, TenantId};
    /// # let tenant = TenantId::from_uuid(uuid::Uuid::from_u128(1));
    /// # let id = AgentId::from_uuid(uuid::Uuid::from_u128(2));
    /// # let agent = Agent { id, tenant, name: "Ada".into(), email: crm_core::customer::EmailAddress::parse("ada@example.com").unwrap(),
    /// #     role: Role::Agent, custom_role: None, groups: Default::default(), profile: Default::default(), active: true, version: 1 };
    /// let token = ApiToken { tenant, agent: id, role: Role::Administrator };
    /// let actor = Actor::for_token(&token, &agent, None).unwrap();
    /// assert!(!actor.can(Permission::AdminAgents), "never more than the agent's role");
    /// ```
    pub fn for_token(token: &crate::api_token::ApiToken, agent: &Agent, custom: Option<&TenantRole>) -> Option<Self> {
        if !agent.active || agent.id != token.agent || agent.tenant != token.tenant {
            return None;
        }
        Some(Self {
            tenant: agent.tenant,
            agent: agent.id,
            groups: agent.groups.clone(),
            permissions: token.role.permissions().intersection(&agent.permissions(custom)).copied().collect(),
            context: crate::audit::RequestContext::default(),
        })
    }

    /// Whether the actor holds `permission`.
    pub fn can(&self, permission: Permission) -> bool {
        self.permissions.contains(&permission)
    }

    /// `Ok` when the actor holds `permission`.
    ///
    /// # Errors
    /// [`Error::Forbidden`] naming the permission otherwise.
    pub fn require(&self, permission: Permission) -> Result<(), Error> {
        if self.can(permission) { Ok(()) } else { Err(Error::missing(permission)) }
    }

    /// Whether the actor may see a private record assigned to `assignee` and `group`
    /// (ADM-2: its assignee, its group's members and supervisors).
    pub fn can_see_private(&self, assignee: Option<AgentId>, group: Option<GroupId>) -> bool {
        self.can(Permission::CaseViewPrivate)
            || assignee == Some(self.agent)
            || group.is_some_and(|g| self.groups.contains(&g))
    }

    /// The private-case filter stores apply to lists and searches.
    pub fn private_scope(&self) -> PrivateScope {
        if self.can(Permission::CaseViewPrivate) {
            PrivateScope::All
        } else {
            PrivateScope::AssignedTo { agent: self.agent, groups: self.groups.clone() }
        }
    }
}

/// Which private cases a list may return. Stores MUST apply it in the query (not after
/// paging), so pages stay full and counts stay true.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrivateScope {
    /// All private cases.
    All,
    /// Only private cases assigned to this agent or to one of these groups.
    AssignedTo {
        /// The agent.
        agent: AgentId,
        /// The agent's groups.
        groups: BTreeSet<GroupId>,
    },
}

impl PrivateScope {
    /// Whether a private record with this assignment is inside the scope.
    pub fn admits(&self, assignee: Option<AgentId>, group: Option<GroupId>) -> bool {
        match self {
            PrivateScope::All => true,
            PrivateScope::AssignedTo { agent, groups } => {
                assignee == Some(*agent) || group.is_some_and(|g| groups.contains(&g))
            }
        }
    }
}

/// A tenant: one contact center (ADM-3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Tenant {
    /// Its id.
    pub id: TenantId,
    /// Display name.
    pub name: String,
    /// Region used to read national phone numbers (CUS-3), ISO 3166-1 alpha-2 (`FR`).
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "FR"))]
    pub default_region: Region,
    /// The contact center's time zone (for agendas and dates without a zone), IANA.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "Europe/Paris"))]
    pub time_zone: chrono_tz::Tz,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When an operator suspended it (`None`: active). Every token of a suspended tenant is
    /// refused.
    #[serde(default)]
    pub suspended_at: Option<DateTime<Utc>>,
    /// Its public slug (`acme-support`), unique across tenants: the public self-service
    /// search reads `/public/{slug}/…` (KNO-1). `None`: no public search.
    #[serde(default)]
    pub slug: Option<String>,
}

/// A tenant as the operator API shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TenantInfo {
    /// Its id.
    pub id: TenantId,
    /// Display name.
    pub name: String,
    /// Default phone region (`FR`).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub default_region: Region,
    /// IANA time zone.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub time_zone: chrono_tz::Tz,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was suspended (`null`: active).
    pub suspended_at: Option<DateTime<Utc>>,
}

impl From<&Tenant> for TenantInfo {
    fn from(t: &Tenant) -> Self {
        Self {
            id: t.id,
            name: t.name.clone(),
            default_region: t.default_region,
            time_zone: t.time_zone,
            created_at: t.created_at,
            suspended_at: t.suspended_at,
        }
    }
}

/// An agent's preferences (ADM-1, CAS-5, CAS-7).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentProfile {
    /// Default From address for notification mails.
    pub default_from: Option<EmailAddress>,
    /// Signature appended to mails.
    pub signature: Option<String>,
    /// Preferred column order of the case list.
    pub preferred_case_columns: Vec<String>,
    /// The language the agents' console speaks to this agent, a primary language tag
    /// (`fr`); `None`: the browser's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// The agent's own time zone (IANA) for the times the console shows; `None`: the
    /// tenant's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "Europe/Paris"))]
    pub time_zone: Option<chrono_tz::Tz>,
}

/// An agent (ADM-1): any person using the CRM.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Agent {
    /// Its id.
    pub id: AgentId,
    /// Its tenant.
    pub tenant: TenantId,
    /// Display name.
    pub name: String,
    /// Login / contact address, unique per tenant.
    pub email: EmailAddress,
    /// Its built-in role: what it may do unless it has a tenant-defined role.
    pub role: Role,
    /// Its tenant-defined role (ADM-2), which replaces the built-in role's permissions while
    /// it is set (`None`: the built-in role applies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_role: Option<RoleId>,
    /// The groups it belongs to.
    pub groups: BTreeSet<GroupId>,
    /// Preferences.
    pub profile: AgentProfile,
    /// Inactive agents cannot act and get no new work.
    pub active: bool,
    /// Optimistic-concurrency version.
    pub version: u64,
}

impl Agent {
    /// What the agent may do: its tenant-defined role's permissions when it has one
    /// (`custom` is that role as read; a role that is not the agent's or was not found
    /// grants nothing: fail closed), else its built-in role's.
    pub fn permissions(&self, custom: Option<&TenantRole>) -> BTreeSet<Permission> {
        match self.custom_role {
            None => self.role.permissions(),
            Some(id) => custom
                .filter(|r| r.id == id && r.tenant == self.tenant)
                .map(|r| r.permissions.clone())
                .unwrap_or_default(),
        }
    }

    /// Whether the agent administers its tenant (the built-in administrator role, no
    /// tenant-defined role in its place): what the last-administrator rule protects.
    pub fn is_administrator(&self) -> bool {
        self.active && self.role == Role::Administrator && self.custom_role.is_none()
    }
}

/// A group (team) with shared mail addresses (ADM-1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Group {
    /// Its id.
    pub id: GroupId,
    /// Its tenant.
    pub tenant: TenantId,
    /// Display name, unique per tenant.
    pub name: String,
    /// Shared mail addresses (usable as From, CAS-7).
    pub mail_addresses: Vec<EmailAddress>,
    /// Optimistic-concurrency version.
    pub version: u64,
}

/// Why a group cannot be deleted: what still uses it (`None`: nothing, it may go). Stores
/// count the members and assigned cases in the transaction of the delete and refuse with
/// this reason.
///
/// ```
/// use crm_core::access::group_in_use;
/// assert_eq!(group_in_use(0, 0), None);
/// assert_eq!(group_in_use(2, 1).as_deref(), Some("the group is in use: 2 members, 1 assigned case"));
/// ```
pub fn group_in_use(members: u64, cases: u64) -> Option<String> {
    let plural = |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut uses = Vec::new();
    if members > 0 {
        uses.push(plural(members, "member", "members"));
    }
    if cases > 0 {
        uses.push(plural(cases, "assigned case", "assigned cases"));
    }
    (!uses.is_empty()).then(|| format!("the group is in use: {}", uses.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn actor(role: Role) -> Actor {
        Actor::with_role(TenantId::from_uuid(Uuid::nil()), AgentId::from_uuid(Uuid::from_u128(1)), role)
    }

    #[test]
    fn permission_names_round_trip() {
        for p in Permission::ALL {
            assert_eq!(p.as_str().parse::<Permission>().unwrap(), *p);
        }
        assert!("case.explode".parse::<Permission>().is_err());
    }

    #[test]
    fn only_supervisors_and_admins_delete_cases() {
        assert!(!actor(Role::Agent).can(Permission::CaseDelete));
        assert!(actor(Role::Supervisor).can(Permission::CaseDelete));
        assert!(actor(Role::Administrator).can(Permission::CaseDelete));
        assert!(matches!(actor(Role::Agent).require(Permission::CaseDelete), Err(Error::Forbidden { .. })));
    }

    #[test]
    fn private_cases_are_seen_by_assignee_group_and_supervisors() {
        let mut agent = actor(Role::Agent);
        let group = GroupId::from_uuid(Uuid::from_u128(9));
        let other = AgentId::from_uuid(Uuid::from_u128(2));
        assert!(agent.can_see_private(Some(agent.agent), None));
        assert!(!agent.can_see_private(Some(other), Some(group)));
        agent.groups.insert(group);
        assert!(agent.can_see_private(Some(other), Some(group)));
        assert!(actor(Role::Supervisor).can_see_private(Some(other), None));
        assert_eq!(actor(Role::Supervisor).private_scope(), PrivateScope::All);
    }
}
