//! API token use cases (ADM-2, ADM-3): registering a token's hash for an agent, and what a
//! presented token grants. The transport generates and hashes the secret; the rule of what
//! a token may do is [`crate::access::Actor::for_token`].

use super::Crm;
use crate::access::Agent;
use crate::api_token::ApiToken;
use crate::error::{Error, Result};

/// The longest label of a token.
const MAX_LABEL: usize = 200;

impl Crm {
    /// Stores the hash of a new API token for `token.agent` (an operator or bootstrap
    /// action: the caller is trusted).
    ///
    /// # Errors
    /// `Validation` on `agent` when the agent is not an agent of the tenant; a hash stored
    /// already is a `Conflict`.
    pub async fn register_api_token(&self, hash: &str, token: &ApiToken, label: &str) -> Result<()> {
        if self.store.get_agent(token.tenant, token.agent).await?.is_none() {
            return Err(Error::invalid("agent", format!("no agent {} in tenant {}", token.agent, token.tenant)));
        }
        self.store.insert_token(hash, token, label, self.clock.now()).await?;
        Ok(())
    }

    /// Issues an API token for an agent of the actor's tenant (ADM-3): stores the hash of
    /// the secret the transport generated, with `role` and `label`.
    ///
    /// # Errors
    /// Forbidden without `admin.agents`; `Validation` on `agent` when it is not an agent of
    /// the tenant, on `label` past 200 characters.
    pub async fn issue_api_token(
        &self,
        actor: &crate::access::Actor,
        hash: &str,
        agent: crate::ids::AgentId,
        role: crate::access::Role,
        label: &str,
    ) -> Result<ApiToken> {
        actor.require(crate::access::Permission::AdminAgents)?;
        if label.chars().count() > MAX_LABEL {
            return Err(Error::invalid("label", format!("must be at most {MAX_LABEL} characters")));
        }
        self.ensure_agent(actor, agent, "agent").await?;
        let token = ApiToken { tenant: actor.tenant, agent, role };
        self.store.insert_token(hash, &token, label, self.clock.now()).await?;
        Ok(token)
    }

    /// What the token with this hash grants; `None` for an unknown token.
    ///
    /// # Errors
    /// Store failures.
    pub async fn api_token(&self, hash: &str) -> Result<Option<ApiToken>> {
        Ok(self.store.find_token(hash).await?)
    }

    /// The agent a token acts as, as stored now (inactive ones included: see
    /// [`crate::access::Actor::for_token`]).
    ///
    /// # Errors
    /// Store failures.
    pub async fn token_agent(&self, token: &ApiToken) -> Result<Option<Agent>> {
        Ok(self.store.get_agent(token.tenant, token.agent).await?)
    }

    /// The actor of an agent, for a caller trusted with the database (the operator's
    /// command line).
    ///
    /// # Errors
    /// `NotFound` when the tenant has no such agent.
    pub async fn operator_actor(
        &self,
        tenant: crate::ids::TenantId,
        agent: crate::ids::AgentId,
    ) -> Result<crate::access::Actor> {
        let agent = self.store.get_agent(tenant, agent).await?.ok_or_else(|| Error::not_found("agent", agent))?;
        Ok(crate::access::Actor::for_agent(&agent))
    }

    /// The agents of a tenant, for an operator (the CLI's `agent list`: whom to mint a
    /// token for when no token is at hand).
    ///
    /// # Errors
    /// `NotFound` for an unknown tenant; the store's.
    pub async fn operator_agents(&self, tenant: crate::ids::TenantId) -> Result<Vec<crate::access::Agent>> {
        self.tenant(tenant).await?;
        Ok(self.store.list_agents(tenant).await?)
    }
}
