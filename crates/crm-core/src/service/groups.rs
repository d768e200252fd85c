//! Group administration (ADM-1): edit, delete (refused while something uses the group),
//! membership, and the tenant's queues listed.

use std::collections::BTreeSet;

use super::{Crm, changed_fields, check_version};
use crate::access::{Actor, Agent, Group, Permission};
use crate::customer::EmailAddress;
use crate::error::{Error, Result, Validator};
use crate::event::EventKind;
use crate::ids::{AgentId, GroupId};
use crate::interaction::QueueSettings;
use crate::text::required_text;

/// What an administrator sends to change a group (absent fields are kept).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GroupPatch {
    /// New name, unique per tenant.
    #[serde(default)]
    pub name: Option<String>,
    /// New shared mail addresses (the whole list).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<crate::customer::EmailAddress>>))]
    pub mail_addresses: Option<Vec<String>>,
}

/// Whether a membership change adds or removes the agent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Membership {
    /// The agent joins the group.
    Join,
    /// The agent leaves the group.
    Leave,
}

impl Crm {
    /// A group of the actor's tenant.
    ///
    /// # Errors
    /// `NotFound`.
    pub async fn get_group(&self, actor: &Actor, id: GroupId) -> Result<Group> {
        self.store.get_group(actor.tenant, id).await?.ok_or_else(|| Error::not_found("group", id))
    }

    /// Renames a group or replaces its mail addresses.
    ///
    /// # Errors
    /// Forbidden without `admin.agents`; `NotFound`; bad input naming the field; a taken
    /// name; a stale version.
    pub async fn update_group(
        &self,
        actor: &Actor,
        id: GroupId,
        expected_version: u64,
        patch: GroupPatch,
    ) -> Result<Group> {
        actor.require(Permission::AdminAgents)?;
        let mut group = self.get_group(actor, id).await?;
        let before = group.clone();
        let expected_version = check_version("group", id, group.version, expected_version)?;
        let mut v = Validator::new();
        if let Some(name) = patch.name.as_deref()
            && let Some(name) = v.check(required_text("name", name, 100))
        {
            group.name = name;
        }
        if let Some(mails) = patch.mail_addresses {
            group.mail_addresses = mails
                .iter()
                .enumerate()
                .filter_map(|(i, m)| {
                    v.check(EmailAddress::parse(m).map_err(|e| e.within(&format!("mail_addresses[{i}]"))))
                })
                .collect();
        }
        v.finish()?;
        group.version = expected_version + 1;
        let kind = EventKind::GroupUpdated { group: id, fields: changed_fields(&before, &group) };
        let event = self.event_with_changes(actor, kind, Some(&before), Some(&group));
        self.store.put_group(&group, Some(expected_version), &[event]).await?;
        Ok(group)
    }

    /// Deletes a group nothing uses.
    ///
    /// # Errors
    /// Forbidden without `admin.agents`; `NotFound`; a stale version; `Conflict(State)`
    /// saying what uses it (members, assigned cases) while something does.
    pub async fn delete_group(&self, actor: &Actor, id: GroupId, expected_version: u64) -> Result<()> {
        actor.require(Permission::AdminAgents)?;
        let group = self.get_group(actor, id).await?;
        let expected_version = check_version("group", id, group.version, expected_version)?;
        let event = self.event_with_changes(actor, EventKind::GroupDeleted { group: id }, Some(&group), None);
        match self.store.delete_group(actor.tenant, id, expected_version, &[event]).await {
            Err(crate::StoreError::NotFound { .. }) => Err(Error::not_found("group", id)),
            other => Ok(other?),
        }
    }

    /// The members of a group, by name.
    ///
    /// # Errors
    /// `NotFound` for a group of another tenant or none.
    pub async fn group_members(&self, actor: &Actor, id: GroupId) -> Result<Vec<Agent>> {
        self.get_group(actor, id).await?;
        let mut agents = self.store.list_agents(actor.tenant).await?;
        agents.retain(|a| a.groups.contains(&id));
        Ok(agents)
    }

    /// Adds an agent to a group or removes it (a change that is already so changes
    /// nothing) and returns the agent as stored.
    ///
    /// # Errors
    /// Forbidden without `admin.agents`; `NotFound` for the group or the agent; a conflict
    /// when the agent changed meanwhile.
    pub async fn change_membership(
        &self,
        actor: &Actor,
        group: GroupId,
        agent: AgentId,
        change: Membership,
    ) -> Result<Agent> {
        actor.require(Permission::AdminAgents)?;
        self.get_group(actor, group).await?;
        let mut stored = self.get_agent(actor, agent).await?;
        let mut groups: BTreeSet<GroupId> = stored.groups.clone();
        let changed = match change {
            Membership::Join => groups.insert(group),
            Membership::Leave => groups.remove(&group),
        };
        if !changed {
            return Ok(stored);
        }
        let before = stored.clone();
        let expected = stored.version;
        stored.groups = groups;
        stored.version = expected + 1;
        let kind = EventKind::AgentUpdated { agent, fields: vec!["groups".to_owned()] };
        let event = self.event_with_changes(actor, kind, Some(&before), Some(&stored));
        self.store.put_agent(&stored, Some(expected), &[event]).await?;
        Ok(stored)
    }

    /// The queues of the actor's tenant, by name.
    ///
    /// # Errors
    /// Store failures.
    pub async fn list_queues(&self, actor: &Actor) -> Result<Vec<QueueSettings>> {
        Ok(self.store.list_queues(actor.tenant).await?)
    }
}
