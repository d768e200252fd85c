//! Tenant-defined roles (ADM-2): list (the built-in roles first), create, edit and delete
//! with versions, a role in use refused with the count of its agents; and the role an
//! agent's permissions come from ([`Crm::agent_role`]), for the transports' actors. Who
//! holds a role is set on the agent ([`Crm::update_agent`]'s `custom_role`,
//! [`Crm::set_agent_role_as_operator`]).

use super::{Crm, check_version};
use crate::access::role::{check_description, check_name, check_permissions};
use crate::access::{Actor, Agent, NewRole, Permission, Role, RoleInfo, RolePatch, TenantRole};
use crate::error::{Conflict, Error, FieldError, Result, Validator};
use crate::event::EventKind;
use crate::ids::{AgentId, RoleId, TenantId};
use crate::time::next_id;

/// A role as a path names it: a built-in role by its wire name, or one of the tenant's by
/// id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoleRef {
    /// `agent`, `supervisor`, `administrator`.
    BuiltIn(Role),
    /// A tenant-defined role.
    Tenant(RoleId),
}

impl std::str::FromStr for RoleRef {
    type Err = FieldError;

    fn from_str(s: &str) -> std::result::Result<Self, FieldError> {
        let s = s.trim();
        if let Ok(role) = s.parse::<Role>() {
            return Ok(RoleRef::BuiltIn(role));
        }
        s.parse::<RoleId>().map(RoleRef::Tenant).map_err(|_| {
            FieldError::new(
                "id",
                format!("{s:?} is neither a built-in role (agent, supervisor, administrator) nor a role id"),
            )
        })
    }
}

/// The refusal of any change to a built-in role.
fn built_in_is_fixed(role: Role) -> Error {
    Error::Conflict(Conflict::State(format!("the built-in role {} cannot be changed nor deleted", role.as_str())))
}

impl Crm {
    /// The roles of the actor's tenant: the three built-in ones, then the tenant's by name.
    ///
    /// # Errors
    /// Store failures.
    pub async fn list_roles(&self, actor: &Actor) -> Result<Vec<RoleInfo>> {
        let mut roles: Vec<RoleInfo> =
            [Role::Agent, Role::Supervisor, Role::Administrator].into_iter().map(RoleInfo::from).collect();
        roles.extend(self.store.list_roles(actor.tenant).await?.iter().map(RoleInfo::from));
        Ok(roles)
    }

    /// A role, built-in or of the actor's tenant.
    ///
    /// # Errors
    /// `NotFound` for a role of another tenant or none.
    pub async fn get_role(&self, actor: &Actor, id: RoleRef) -> Result<RoleInfo> {
        match id {
            RoleRef::BuiltIn(role) => Ok(role.into()),
            RoleRef::Tenant(id) => Ok((&self.tenant_role_of(actor, id).await?).into()),
        }
    }

    /// A tenant-defined role of the actor's tenant.
    async fn tenant_role_of(&self, actor: &Actor, id: RoleId) -> Result<TenantRole> {
        self.store.get_role(actor.tenant, id).await?.ok_or_else(|| Error::not_found("role", id))
    }

    /// Creates a role.
    ///
    /// # Errors
    /// Forbidden without `admin.agents`, or when it would grant a permission the actor
    /// lacks; bad input naming the field (a built-in role's name, an unknown permission
    /// as `permissions[i]`, none); a name the tenant uses already (`Conflict`).
    pub async fn create_role(&self, actor: &Actor, input: NewRole) -> Result<TenantRole> {
        actor.require(Permission::AdminAgents)?;
        let mut v = Validator::new();
        let name = v.check(check_name(&input.name));
        let description = v.check(check_description(input.description.as_deref())).flatten();
        let permissions = check_permissions(actor, &input.permissions, &mut v)?;
        v.finish()?;
        let role = TenantRole {
            id: next_id(&*self.ids),
            tenant: actor.tenant,
            name: name.unwrap_or_default(),
            description,
            permissions,
            created_at: self.clock.now(),
            version: 1,
        };
        let kind = EventKind::RoleWritten { role: role.id, version: role.version };
        let event = self.event_with_changes(actor, kind, None, Some(&role));
        self.store.put_role(&role, None, &[event]).await?;
        Ok(role)
    }

    /// Changes a role's name, description or permissions; the agents holding it get the
    /// new permissions (within the transports' cache time).
    ///
    /// # Errors
    /// Forbidden as [`Crm::create_role`]; `Conflict` for a built-in role, a stale version
    /// or a taken name; `NotFound`; bad input naming the field.
    pub async fn update_role(
        &self,
        actor: &Actor,
        id: RoleRef,
        expected_version: u64,
        patch: RolePatch,
    ) -> Result<TenantRole> {
        actor.require(Permission::AdminAgents)?;
        let id = match id {
            RoleRef::BuiltIn(role) => return Err(built_in_is_fixed(role)),
            RoleRef::Tenant(id) => id,
        };
        let mut role = self.tenant_role_of(actor, id).await?;
        let before = role.clone();
        let expected_version = check_version("role", id, role.version, expected_version)?;
        let mut v = Validator::new();
        if let Some(name) = patch.name.as_deref()
            && let Some(name) = v.check(check_name(name))
        {
            role.name = name;
        }
        if let Some(description) = patch.description {
            role.description = v.check(check_description(description.as_deref())).flatten();
        }
        if let Some(permissions) = patch.permissions {
            role.permissions = check_permissions(actor, &permissions, &mut v)?;
        } else if let Some(missing) = role.permissions.iter().find(|p| !actor.can(**p)) {
            return Err(Error::Forbidden {
                permission: Some(*missing),
                reason: format!("the role grants {missing}, which you do not hold"),
            });
        }
        v.finish()?;
        role.version = expected_version + 1;
        let kind = EventKind::RoleWritten { role: id, version: role.version };
        let event = self.event_with_changes(actor, kind, Some(&before), Some(&role));
        self.store.put_role(&role, Some(expected_version), &[event]).await?;
        Ok(role)
    }

    /// Deletes a role no agent holds.
    ///
    /// # Errors
    /// Forbidden without `admin.agents`; `Conflict` for a built-in role, a stale version,
    /// or a role in use (saying how many agents hold it); `NotFound`.
    pub async fn delete_role(&self, actor: &Actor, id: RoleRef, expected_version: u64) -> Result<()> {
        actor.require(Permission::AdminAgents)?;
        let id = match id {
            RoleRef::BuiltIn(role) => return Err(built_in_is_fixed(role)),
            RoleRef::Tenant(id) => id,
        };
        let role = self.tenant_role_of(actor, id).await?;
        let expected_version = check_version("role", id, role.version, expected_version)?;
        let event = self.event_with_changes(actor, EventKind::RoleDeleted { role: id }, Some(&role), None);
        match self.store.delete_role(actor.tenant, id, expected_version, &[event]).await {
            Err(crate::StoreError::NotFound { .. }) => Err(Error::not_found("role", id)),
            other => Ok(other?),
        }
    }

    /// The tenant-defined role an agent's permissions come from, as stored now (`None` for
    /// an agent without one, or when its role is gone: [`Agent::permissions`] then grants
    /// nothing). For the transports, which cache it as they cache agents.
    ///
    /// # Errors
    /// Store failures.
    pub async fn agent_role(&self, agent: &Agent) -> Result<Option<TenantRole>> {
        match agent.custom_role {
            None => Ok(None),
            Some(id) => Ok(self.store.get_role(agent.tenant, id).await?),
        }
    }

    /// The tenant-defined role `id`, as stored now, for the transports' caches.
    ///
    /// # Errors
    /// Store failures.
    pub async fn tenant_role(&self, tenant: TenantId, id: RoleId) -> Result<Option<TenantRole>> {
        Ok(self.store.get_role(tenant, id).await?)
    }

    /// Checks that `actor` may give `role` to `agent`: a role of the tenant, granting
    /// nothing the actor lacks. Used by [`Crm::update_agent`].
    pub(super) async fn check_role_grant(&self, actor: &Actor, role: RoleId, v: &mut Validator) -> Result<()> {
        let Some(found) = self.store.get_role(actor.tenant, role).await? else {
            v.push(FieldError::new("custom_role", format!("{role} is not a role of this tenant")));
            return Ok(());
        };
        if let Some(missing) = found.permissions.iter().find(|p| !actor.can(**p)) {
            return Err(Error::Forbidden {
                permission: Some(*missing),
                reason: format!("the role {} grants {missing}, which you do not hold", found.name),
            });
        }
        Ok(())
    }

    /// Gives an agent a role, for an operator (the CLI): a built-in role (which also
    /// clears its tenant-defined role) or one of the tenant's by id or name.
    ///
    /// # Errors
    /// `NotFound` for the tenant, the agent or the role; a conflict when the agent changed
    /// meanwhile.
    pub async fn set_agent_role_as_operator(&self, tenant: TenantId, agent: AgentId, role: &str) -> Result<Agent> {
        self.tenant(tenant).await?;
        let mut stored = self.store.get_agent(tenant, agent).await?.ok_or_else(|| Error::not_found("agent", agent))?;
        let before = stored.clone();
        match role.trim().parse::<RoleRef>() {
            Ok(RoleRef::BuiltIn(builtin)) => {
                stored.role = builtin;
                stored.custom_role = None;
            }
            parsed => {
                let roles = self.store.list_roles(tenant).await?;
                let key = crate::access::role::name_key(role);
                let found = roles
                    .iter()
                    .find(|r| matches!(parsed, Ok(RoleRef::Tenant(id)) if id == r.id) || r.name_key() == key)
                    .ok_or_else(|| Error::not_found("role", role.trim()))?;
                stored.custom_role = Some(found.id);
            }
        }
        let expected = stored.version;
        stored.version = expected + 1;
        let kind = EventKind::AgentUpdated { agent, fields: super::changed_fields(&before, &stored) };
        let event = self.operator_event(tenant, kind, Some(&before), Some(&stored));
        self.store.put_agent(&stored, Some(expected), &[event]).await?;
        Ok(stored)
    }
}
