//! The console's sign-in use cases (issue 32): setting a password (the rule is
//! [`check_password`]; the transport's hasher is passed in), the credentials a sign-in
//! checks, opening, reading and ending sessions (the rule is [`SessionPolicy`]).

use super::Crm;
use crate::access::{Actor, AgentProfile, Permission};
use crate::console::{Credential, Session, SessionPolicy, actor_of_session, check_password};
use crate::customer::EmailAddress;
use crate::error::{Error, Result};
use crate::event::EventKind;
use crate::ids::{AgentId, TenantId};

impl Crm {
    /// Sets the password of an agent of the actor's tenant: the actor's own, or anyone's
    /// with `admin.agents`. `hash` turns the accepted password into what is stored. Every
    /// session of the agent ends.
    ///
    /// # Errors
    /// Forbidden for another agent without `admin.agents`; `NotFound` for an agent not of
    /// the tenant; `Validation` on `password` by [`check_password`].
    pub async fn set_agent_password(
        &self,
        actor: &Actor,
        agent: AgentId,
        password: &str,
        hash: &(dyn Fn(&str) -> String + Sync),
    ) -> Result<()> {
        if agent != actor.agent {
            actor.require(Permission::AdminAgents)?;
        }
        let event = self.event(actor, EventKind::AgentPasswordSet { agent });
        self.store_password(actor.tenant, agent, password, hash, event).await
    }

    /// Sets an agent's password as the operator (the CLI, the demo seed): the caller is
    /// trusted.
    ///
    /// # Errors
    /// As [`Crm::set_agent_password`], without the permission.
    pub async fn set_agent_password_as_operator(
        &self,
        tenant: TenantId,
        agent: AgentId,
        password: &str,
        hash: &(dyn Fn(&str) -> String + Sync),
    ) -> Result<()> {
        let event = self.operator_event::<()>(tenant, EventKind::AgentPasswordSet { agent }, None, None);
        self.store_password(tenant, agent, password, hash, event).await
    }

    async fn store_password(
        &self,
        tenant: TenantId,
        agent: AgentId,
        password: &str,
        hash: &(dyn Fn(&str) -> String + Sync),
        event: crate::event::DomainEvent,
    ) -> Result<()> {
        let found = self.store.get_agent(tenant, agent).await?.ok_or_else(|| Error::not_found("agent", agent))?;
        check_password(password, &found.email)?;
        // The event names the agent only: neither the password nor its hash is audited.
        let at = self.clock.now();
        self.store.set_password_hash(tenant, agent, &hash(password), at, &[event]).await.map_err(|e| match e {
            crate::StoreError::NotFound { .. } => Error::not_found("agent", agent),
            other => other.into(),
        })?;
        self.store.delete_agent_sessions(tenant, agent).await?;
        Ok(())
    }

    /// The password hashes a sign-in with `email` is checked against (none for an address
    /// that does not parse).
    ///
    /// # Errors
    /// Store failures.
    pub async fn sign_in_credentials(&self, email: &str) -> Result<Vec<Credential>> {
        match EmailAddress::parse(email.trim()) {
            Ok(email) => Ok(self.store.credentials_by_email(&email.key()).await?),
            Err(_) => Ok(Vec::new()),
        }
    }

    /// Opens a session for a signed-in agent under the hash of its id.
    ///
    /// # Errors
    /// Store failures (a hash stored already is a `Conflict`).
    pub async fn open_session(
        &self,
        hash: &str,
        credential: &Credential,
        csrf: String,
        policy: &SessionPolicy,
    ) -> Result<Session> {
        let session = policy.open(credential.tenant, credential.agent, csrf, self.clock.now());
        self.store.insert_session(hash, &session).await?;
        Ok(session)
    }

    /// The live session with this hash, who acts through it and their profile (the
    /// console's language and time zone); `None` (and the session deleted) when it ended by
    /// `policy`, or its agent is inactive or gone. Its last use is written at most once a
    /// minute.
    ///
    /// # Errors
    /// Store failures.
    pub async fn session(&self, hash: &str, policy: &SessionPolicy) -> Result<Option<(Session, Actor, AgentProfile)>> {
        let Some(session) = self.store.find_session(hash).await? else { return Ok(None) };
        let now = self.clock.now();
        if policy.refusal(&session, now).is_some() {
            self.store.delete_session(hash).await?;
            return Ok(None);
        }
        let Some(agent) = self.store.get_agent(session.tenant, session.agent).await? else { return Ok(None) };
        let role = self.agent_role(&agent).await?;
        let Some(actor) = actor_of_session(&session, &agent, role.as_ref()) else { return Ok(None) };
        if SessionPolicy::seen_is_due(&session, now) {
            self.store.touch_session(hash, now).await?;
        }
        Ok(Some((session, actor, agent.profile)))
    }

    /// Ends the session with this hash (signing out); whether there was one.
    ///
    /// # Errors
    /// Store failures.
    pub async fn end_session(&self, hash: &str) -> Result<bool> {
        Ok(self.store.delete_session(hash).await?)
    }

    /// Deletes the sessions that ended by `policy`; how many.
    ///
    /// # Errors
    /// Store failures.
    pub async fn prune_sessions(&self, policy: &SessionPolicy) -> Result<u64> {
        let now = self.clock.now();
        Ok(self.store.prune_sessions(now, now - policy.idle).await?)
    }
}
