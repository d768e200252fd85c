//! API token use cases (ADM-2, ADM-3): registering a token's hash for an agent, listing and
//! revoking tokens, and what a presented token grants. The transport generates and hashes
//! the secret; the rule of what a token may do is [`crate::access::Actor::for_token`], of
//! when it may no longer be used [`TokenRecord::refusal`].

use chrono::{DateTime, Utc};

use super::Crm;
use crate::access::{Actor, Agent, Permission, Role};
use crate::api_token::{ApiToken, LAST_USED_EVERY, TokenInfo, TokenRecord};
use crate::error::{Error, Result};
use crate::event::EventKind;
use crate::ids::{AgentId, TokenId};
use crate::time::next_id;

/// The longest label of a token.
const MAX_LABEL: usize = 200;

impl Crm {
    /// Stores the hash of a new API token for `token.agent` (an operator or bootstrap
    /// action: the caller is trusted). The token never expires.
    ///
    /// # Errors
    /// `Validation` on `agent` when the agent is not an agent of the tenant; a hash stored
    /// already is a `Conflict`.
    pub async fn register_api_token(&self, hash: &str, token: &ApiToken, label: &str) -> Result<TokenRecord> {
        if self.store.get_agent(token.tenant, token.agent).await?.is_none() {
            return Err(Error::invalid("agent", format!("no agent {} in tenant {}", token.agent, token.tenant)));
        }
        let record = self.new_token_record(token.clone(), label, None);
        let kind = EventKind::ApiTokenCreated { token: record.id, agent: token.agent };
        let event = self.operator_event(token.tenant, kind, None, Some(&record.info()));
        self.store.insert_token(hash, &record, &[event]).await?;
        Ok(record)
    }

    fn new_token_record(&self, grant: ApiToken, label: &str, expires_at: Option<DateTime<Utc>>) -> TokenRecord {
        TokenRecord {
            id: next_id(&*self.ids),
            grant,
            label: label.to_owned(),
            created_at: self.clock.now(),
            expires_at,
            revoked_at: None,
            last_used_at: None,
        }
    }

    /// Issues an API token for an agent of the actor's tenant (ADM-3): stores the hash of
    /// the secret the transport generated, with `role`, `label` and an optional expiry.
    ///
    /// # Errors
    /// Forbidden without `admin.agents`; `Validation` on `agent` when it is not an agent of
    /// the tenant, on `label` past 200 characters, on `expires_at` when it is not in the
    /// future.
    pub async fn issue_api_token(
        &self,
        actor: &Actor,
        hash: &str,
        agent: AgentId,
        role: Role,
        label: &str,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<TokenRecord> {
        actor.require(Permission::AdminAgents)?;
        if label.chars().count() > MAX_LABEL {
            return Err(Error::invalid("label", format!("must be at most {MAX_LABEL} characters")));
        }
        if let Some(at) = expires_at
            && at <= self.clock.now()
        {
            return Err(Error::invalid("expires_at", "must be in the future"));
        }
        self.ensure_agent(actor, agent, "agent").await?;
        let record = self.new_token_record(ApiToken { tenant: actor.tenant, agent, role }, label, expires_at);
        let kind = EventKind::ApiTokenCreated { token: record.id, agent };
        let event = self.event_with_changes(actor, kind, None, Some(&record.info()));
        self.store.insert_token(hash, &record, &[event]).await?;
        Ok(record)
    }

    /// The tokens of the actor's tenant, revoked and expired ones included, newest first;
    /// never their secret.
    ///
    /// # Errors
    /// Forbidden without `admin.agents`.
    pub async fn list_api_tokens(&self, actor: &Actor) -> Result<Vec<TokenInfo>> {
        actor.require(Permission::AdminAgents)?;
        Ok(self.store.list_tokens(actor.tenant).await?.iter().map(TokenRecord::info).collect())
    }

    /// Revokes a token of the actor's tenant: it is refused from then on (revoking twice
    /// keeps the first time).
    ///
    /// # Errors
    /// Forbidden without `admin.agents`; `NotFound` for a token of another tenant or none.
    pub async fn revoke_api_token(&self, actor: &Actor, id: TokenId) -> Result<TokenInfo> {
        actor.require(Permission::AdminAgents)?;
        let now = self.clock.now();
        // Written only when this call revokes it (the store decides, in its transaction).
        let event = self.event_with_changes(
            actor,
            EventKind::ApiTokenRevoked { token: id },
            Some(&serde_json::json!({ "revoked_at": null })),
            Some(&serde_json::json!({ "revoked_at": now })),
        );
        let record = self.store.revoke_token(actor.tenant, id, now, &[event]).await.map_err(|e| match e {
            crate::StoreError::NotFound { .. } => Error::not_found("token", id),
            other => other.into(),
        })?;
        Ok(record.info())
    }

    /// The token with this hash, whatever its state; `None` for an unknown token.
    ///
    /// # Errors
    /// Store failures.
    pub async fn api_token(&self, hash: &str) -> Result<Option<TokenRecord>> {
        Ok(self.store.find_token(hash).await?)
    }

    /// Records that the token with this hash was used now, when its last recorded use is a
    /// minute old ([`LAST_USED_EVERY`]); returns whether a write was asked.
    ///
    /// # Errors
    /// Store failures.
    pub async fn note_token_use(&self, hash: &str, token: &TokenRecord) -> Result<bool> {
        let now = self.clock.now();
        if !token.use_is_due(now) {
            return Ok(false);
        }
        self.store.touch_token(hash, now, now - LAST_USED_EVERY).await?;
        Ok(true)
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
        let role = self.agent_role(&agent).await?;
        Ok(crate::access::Actor::for_agent_with(&agent, role.as_ref()))
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
