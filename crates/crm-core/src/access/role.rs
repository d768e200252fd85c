//! Tenant-defined roles (ADM-2): a named set of the existing [`Permission`]s that an
//! administrator defines and assigns to agents ([`Agent::custom_role`]). The three built-in
//! [`Role`]s stay as they are: they are listed beside the tenant's roles, never stored,
//! edited nor deleted. A role in use by an agent cannot be deleted, and nobody grants
//! through a role a permission they do not hold themself.
//!
//! [`Agent::custom_role`]: super::Agent::custom_role

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Actor, Permission, Role};
use crate::error::{Error, FieldError, Validator};
use crate::ids::{RoleId, TenantId};
use crate::text::{bounded_text, required_text};

/// The longest role name, in characters.
pub const MAX_ROLE_NAME: usize = 100;

/// The longest role description, in characters.
pub const MAX_ROLE_DESCRIPTION: usize = 500;

/// A tenant-defined role: a named set of permissions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TenantRole {
    /// Its id.
    pub id: RoleId,
    /// Its tenant.
    pub tenant: TenantId,
    /// Display name, unique per tenant (compared without case), never a built-in role's.
    pub name: String,
    /// What it is for.
    pub description: Option<String>,
    /// What it grants.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub permissions: BTreeSet<Permission>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// Optimistic-concurrency version.
    pub version: u64,
}

impl TenantRole {
    /// The key its name is unique by in its tenant (lower case).
    pub fn name_key(&self) -> String {
        name_key(&self.name)
    }
}

/// The key a role name is unique by (lower case, trimmed).
pub fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// A role as the API lists it: a built-in one (its wire name as id, no version) or one of
/// the tenant's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoleInfo {
    /// `agent`, `supervisor`, `administrator` for the built-in roles, else the role's id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// What it is for.
    pub description: Option<String>,
    /// What it grants.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub permissions: BTreeSet<Permission>,
    /// Whether it is a built-in role (never edited nor deleted).
    pub built_in: bool,
    /// The version to send in `If-Match` (`null` for a built-in role).
    pub version: Option<u64>,
}

impl From<Role> for RoleInfo {
    fn from(role: Role) -> Self {
        let description = match role {
            Role::Agent => "Handles interactions, customers, cases and tasks.",
            Role::Supervisor => "An agent who also deletes, assigns, merges and sees private cases.",
            Role::Administrator => "Everything, including administration.",
        };
        Self {
            id: role.as_str().to_owned(),
            name: role.as_str().to_owned(),
            description: Some(description.to_owned()),
            permissions: role.permissions(),
            built_in: true,
            version: None,
        }
    }
}

impl From<&TenantRole> for RoleInfo {
    fn from(role: &TenantRole) -> Self {
        Self {
            id: role.id.to_string(),
            name: role.name.clone(),
            description: role.description.clone(),
            permissions: role.permissions.clone(),
            built_in: false,
            version: Some(role.version),
        }
    }
}

/// What an administrator sends to create a role.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewRole {
    /// Name, unique per tenant, not a built-in role's.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::required_text))]
    pub name: String,
    /// What it is for.
    #[serde(default)]
    pub description: Option<String>,
    /// What it grants (`customer.read`, …): at least one, each held by the caller.
    pub permissions: Vec<String>,
}

/// What an administrator sends to change a role (absent fields are kept).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RolePatch {
    /// New name.
    #[serde(default)]
    pub name: Option<String>,
    /// New description (`null` clears).
    #[serde(default, with = "crate::case::double_option")]
    pub description: Option<Option<String>>,
    /// New permissions (the whole set).
    #[serde(default)]
    pub permissions: Option<Vec<String>>,
}

/// Why a role cannot be deleted: the agents that hold it (`None`: nobody, it may go).
/// Stores count them in the transaction of the delete and refuse with this reason.
///
/// ```
/// use crm_core::access::role_in_use;
/// assert_eq!(role_in_use(0), None);
/// assert_eq!(role_in_use(1).as_deref(), Some("the role is in use: 1 agent holds it"));
/// assert_eq!(role_in_use(3).as_deref(), Some("the role is in use: 3 agents hold it"));
/// ```
pub fn role_in_use(agents: u64) -> Option<String> {
    match agents {
        0 => None,
        1 => Some("the role is in use: 1 agent holds it".to_owned()),
        n => Some(format!("the role is in use: {n} agents hold it")),
    }
}

/// A checked role name: required, at most [`MAX_ROLE_NAME`] characters, not a built-in
/// role's name (nor `admin`).
pub(crate) fn check_name(name: &str) -> Result<String, FieldError> {
    let name = required_text("name", name, MAX_ROLE_NAME)?;
    if name_key(&name).parse::<Role>().is_ok() {
        return Err(FieldError::new("name", format!("{name:?} is the name of a built-in role")));
    }
    Ok(name)
}

/// A checked description (`None` for a blank one).
pub(crate) fn check_description(description: Option<&str>) -> Result<Option<String>, FieldError> {
    match description.map(str::trim).filter(|d| !d.is_empty()) {
        None => Ok(None),
        Some(d) => bounded_text("description", d, MAX_ROLE_DESCRIPTION).map(Some),
    }
}

/// The permissions of a role as written, checked: each a permission (named by its index),
/// at least one, and each held by `actor` (nobody grants more than they have).
///
/// # Errors
/// `Validation` naming `permissions[i]` or `permissions`; `Forbidden` naming the first
/// permission the actor lacks.
pub(crate) fn check_permissions(
    actor: &Actor,
    written: &[String],
    v: &mut Validator,
) -> Result<BTreeSet<Permission>, Error> {
    let mut set = BTreeSet::new();
    for (i, name) in written.iter().enumerate() {
        let parsed = name.trim().parse::<Permission>();
        if let Some(p) = v.check(parsed.map_err(|e| FieldError::new(format!("permissions[{i}]"), e.reason))) {
            set.insert(p);
        }
    }
    if written.is_empty() {
        v.push(FieldError::new("permissions", "a role grants at least one permission"));
    }
    if let Some(missing) = set.iter().find(|p| !actor.can(**p)) {
        return Err(Error::Forbidden {
            permission: Some(*missing),
            reason: format!("a role cannot grant {missing}, which you do not hold"),
        });
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn actor(role: Role) -> Actor {
        Actor::with_role(TenantId::from_uuid(Uuid::nil()), crate::ids::AgentId::from_uuid(Uuid::from_u128(1)), role)
    }

    #[test]
    fn built_in_names_are_reserved() {
        for name in ["agent", "Supervisor", " ADMINISTRATOR ", "admin"] {
            assert_eq!(check_name(name).unwrap_err().field, "name", "{name}");
        }
        assert_eq!(check_name("  Team lead ").unwrap(), "Team lead");
        assert!(check_name("").is_err());
        assert!(check_name(&"x".repeat(MAX_ROLE_NAME + 1)).is_err());
    }

    #[test]
    fn permissions_are_named_checked_and_never_more_than_the_callers() {
        let mut v = Validator::new();
        let set =
            check_permissions(&actor(Role::Administrator), &["case.read".into(), "case.read".into()], &mut v).unwrap();
        assert!(v.finish().is_ok());
        assert_eq!(set, BTreeSet::from([Permission::CaseRead]));

        let mut v = Validator::new();
        check_permissions(&actor(Role::Administrator), &["case.read".into(), "case.fly".into()], &mut v).unwrap();
        let errors = v.finish().unwrap_err();
        assert_eq!(errors.errors()[0].field, "permissions[1]");

        let mut v = Validator::new();
        check_permissions(&actor(Role::Administrator), &[], &mut v).unwrap();
        assert!(v.finish().is_err(), "an empty role is refused");

        let mut v = Validator::new();
        let refused = check_permissions(&actor(Role::Supervisor), &["admin.audit".into()], &mut v).unwrap_err();
        assert!(matches!(refused, Error::Forbidden { permission: Some(Permission::AdminAudit), .. }), "{refused:?}");
    }

    #[test]
    fn a_custom_role_replaces_the_built_in_one_and_fails_closed() {
        let tenant = TenantId::from_uuid(Uuid::nil());
        let role = TenantRole {
            id: RoleId::from_uuid(Uuid::from_u128(7)),
            tenant,
            name: "Auditor".into(),
            description: None,
            permissions: BTreeSet::from([Permission::AdminAudit, Permission::CaseRead]),
            created_at: DateTime::<Utc>::UNIX_EPOCH,
            version: 1,
        };
        let mut agent = super::super::Agent {
            id: crate::ids::AgentId::from_uuid(Uuid::from_u128(1)),
            tenant,
            name: "Ada".into(),
            email: crate::customer::EmailAddress::parse("ada@example.com").unwrap(),
            role: Role::Agent,
            custom_role: None,
            groups: BTreeSet::new(),
            profile: Default::default(),
            active: true,
            version: 1,
        };
        assert_eq!(agent.permissions(None), Role::Agent.permissions());
        agent.custom_role = Some(role.id);
        assert_eq!(agent.permissions(Some(&role)), role.permissions);
        assert!(agent.permissions(None).is_empty(), "a role not found grants nothing");
        let other = TenantRole { id: RoleId::from_uuid(Uuid::from_u128(8)), ..role.clone() };
        assert!(agent.permissions(Some(&other)).is_empty(), "another role grants nothing");
        let token = crate::api_token::ApiToken { tenant, agent: agent.id, role: Role::Supervisor };
        let actor = Actor::for_token(&token, &agent, Some(&role)).unwrap();
        assert_eq!(actor.permissions, BTreeSet::from([Permission::CaseRead]), "never more than the token's role");
    }
}
