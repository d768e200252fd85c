//! Bearer API tokens (ADM-2, ADM-3).
//!
//! A token is 32 random bytes (base64url, prefixed `crm_`), shown once; the server keeps
//! only its SHA-256 (a fast hash is enough for a high-entropy secret: nothing to brute
//! force). Each token is bound to a tenant, an agent and a role. The [`Auth`] extractor turns
//! `Authorization: Bearer …` into the [`Actor`] every use case receives, by the core's rule
//! ([`Actor::for_token`]: the token's tenant, the agent's groups, never more than the
//! agent's current role, built-in or tenant-defined). A missing, unknown, forged, revoked or expired token, or one whose
//! agent is gone or inactive, is a 401 (the core's [`TokenRecord::refusal`] says why); a
//! token of a suspended tenant is a 403 naming the suspension. The tokens live behind the core's `TokenStore` port; this module
//! only generates, hashes and caches.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use base64::Engine as _;
use rand::RngCore as _;
use sha2::{Digest, Sha256};

use chrono::{DateTime, Utc};
use crm_core::access::{Actor, Agent, Role, TenantRole};
use crm_core::api_token::{ApiToken, TokenRecord};
use crm_core::audit::{Channel, RequestContext};
use crm_core::ids::{AgentId, RoleId, TenantId, TokenId};
use crm_core::service::Crm;

use crate::problem::{ApiError, ProblemKind};
use crate::state::AppState;

/// The prefix of every token (so leaked tokens are recognisable by scanners).
pub const TOKEN_PREFIX: &str = "crm_";

/// A fresh random token.
pub fn generate_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{TOKEN_PREFIX}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// The hex SHA-256 of a token, as stored.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// How long a token's agent (active flag, role, groups) is trusted without reading it
/// again. Changes made through this replica apply at once ([`Tokens::forget_agent`]);
/// changes made through another replica apply within this time (under a second, as for
/// revocations: a role given or taken applies everywhere within a second). It costs one
/// primary-key read per agent in use and second.
pub const AGENT_CACHE_TTL: Duration = Duration::from_millis(900);

/// How long a tenant-defined role (ADM-2) is trusted without reading it again: an edit
/// through another replica applies within this time, one through this replica at once
/// ([`Tokens::forget_role`]).
pub const ROLE_CACHE_TTL: Duration = Duration::from_millis(900);

/// How long a token's record (revoked? expired?) is trusted without reading it again: a
/// revocation through another replica is honoured within this time (under a second), one
/// through this replica at once ([`Tokens::forget_token`]). It costs one primary-key read
/// per token in use and second.
pub const TOKEN_CACHE_TTL: Duration = Duration::from_millis(900);

/// Agents by tenant and id, with when they were read.
type AgentCache = HashMap<(TenantId, AgentId), (Agent, Instant)>;

/// Token records by hash, with when they were read.
type TokenCache = HashMap<String, (TokenRecord, Instant)>;

/// Tenant-defined roles by tenant and id (`None`: not found), with when they were read.
type RoleCache = HashMap<(TenantId, RoleId), (Option<TenantRole>, Instant)>;

/// Tenants' suspension times, with when they were read.
type SuspensionCache = HashMap<TenantId, (Option<DateTime<Utc>>, Instant)>;

/// Bound on each cache; a full cache is simply emptied.
const CACHE_LIMIT: usize = 100_000;

/// Token lookups with a short-lived cache of the token records (under a second, so a
/// revocation anywhere applies within a second) and of the agents they act as, so most
/// authenticated requests cost no database read.
#[derive(Clone, Debug)]
pub struct Tokens {
    crm: Crm,
    cache: Arc<RwLock<TokenCache>>,
    agents: Arc<RwLock<AgentCache>>,
    roles: Arc<RwLock<RoleCache>>,
    suspensions: Arc<RwLock<SuspensionCache>>,
}

impl Tokens {
    /// Tokens kept through the use cases of `crm`.
    pub fn new(crm: Crm) -> Self {
        Self { crm, cache: Arc::default(), agents: Arc::default(), roles: Arc::default(), suspensions: Arc::default() }
    }

    /// The agent a token acts as, from the cache when read less than [`AGENT_CACHE_TTL`]
    /// ago.
    ///
    /// # Errors
    /// Store failures.
    pub async fn agent(&self, token: &ApiToken) -> Result<Option<Agent>, crm_core::Error> {
        let key = (token.tenant, token.agent);
        if let Some((agent, read_at)) = self.agents.read().ok().and_then(|c| c.get(&key).cloned())
            && read_at.elapsed() < AGENT_CACHE_TTL
        {
            return Ok(Some(agent));
        }
        let found = self.crm.token_agent(token).await?;
        if let Ok(mut cache) = self.agents.write() {
            if cache.len() > CACHE_LIMIT {
                cache.clear();
            }
            match &found {
                Some(agent) => cache.insert(key, (agent.clone(), Instant::now())),
                None => cache.remove(&key),
            };
        }
        Ok(found)
    }

    /// The tenant-defined role an agent holds (`None` without one, or when it is gone),
    /// from the cache when read less than [`ROLE_CACHE_TTL`] ago.
    ///
    /// # Errors
    /// Store failures.
    pub async fn role_of(&self, agent: &Agent) -> Result<Option<TenantRole>, crm_core::Error> {
        let Some(id) = agent.custom_role else { return Ok(None) };
        let key = (agent.tenant, id);
        if let Some((role, read_at)) = self.roles.read().ok().and_then(|c| c.get(&key).cloned())
            && read_at.elapsed() < ROLE_CACHE_TTL
        {
            return Ok(role);
        }
        let found = self.crm.tenant_role(agent.tenant, id).await?;
        if let Ok(mut cache) = self.roles.write() {
            if cache.len() > CACHE_LIMIT {
                cache.clear();
            }
            cache.insert(key, (found.clone(), Instant::now()));
        }
        Ok(found)
    }

    /// Drops a role from the cache (after this replica changed or deleted it).
    pub fn forget_role(&self, tenant: TenantId, id: RoleId) {
        if let Ok(mut cache) = self.roles.write() {
            cache.remove(&(tenant, id));
        }
    }

    /// Drops an agent from the cache (after this replica changed it).
    pub fn forget_agent(&self, tenant: TenantId, id: AgentId) {
        if let Ok(mut cache) = self.agents.write() {
            cache.remove(&(tenant, id));
        }
    }

    /// When the tenant was suspended (`None`: active), from the cache when read less than
    /// [`TOKEN_CACHE_TTL`] ago: a suspension through another replica applies within it.
    ///
    /// # Errors
    /// Store failures.
    pub async fn suspension(&self, tenant: TenantId) -> Result<Option<DateTime<Utc>>, crm_core::Error> {
        if let Some((at, read_at)) = self.suspensions.read().ok().and_then(|c| c.get(&tenant).copied())
            && read_at.elapsed() < TOKEN_CACHE_TTL
        {
            return Ok(at);
        }
        let at = self.crm.tenant_suspension(tenant).await?;
        if let Ok(mut cache) = self.suspensions.write() {
            if cache.len() > CACHE_LIMIT {
                cache.clear();
            }
            cache.insert(tenant, (at, Instant::now()));
        }
        Ok(at)
    }

    /// Drops a tenant's suspension from the cache (after this replica changed it).
    pub fn forget_tenant(&self, tenant: TenantId) {
        if let Ok(mut cache) = self.suspensions.write() {
            cache.remove(&tenant);
        }
    }

    /// Drops a token from the cache (after this replica revoked it).
    pub fn forget_token(&self, id: TokenId) {
        if let Ok(mut cache) = self.cache.write() {
            cache.retain(|_, (record, _)| record.id != id);
        }
    }

    /// Creates a token for an agent and returns it (the only time it is visible).
    ///
    /// # Errors
    /// `Validation` on `agent` when the tenant has no such agent; store failures.
    pub async fn create(
        &self,
        tenant: TenantId,
        agent: AgentId,
        role: Role,
        label: &str,
    ) -> Result<String, crm_core::Error> {
        let token = generate_token();
        self.crm.register_api_token(&hash_token(&token), &ApiToken { tenant, agent, role }, label).await?;
        Ok(token)
    }

    /// Issues a token for an agent of the actor's tenant (the API's `POST /tokens`) and
    /// returns it (the only time it is visible) with its record.
    ///
    /// # Errors
    /// What [`Crm::issue_api_token`] refuses.
    pub async fn issue(
        &self,
        actor: &Actor,
        agent: AgentId,
        role: Role,
        label: &str,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<(String, TokenRecord), crm_core::Error> {
        let token = generate_token();
        let record = self.crm.issue_api_token(actor, &hash_token(&token), agent, role, label, expires_at).await?;
        Ok((token, record))
    }

    /// The record of a presented token, whatever its state, from the cache when read less
    /// than [`TOKEN_CACHE_TTL`] ago.
    ///
    /// # Errors
    /// Store failures.
    pub async fn resolve(&self, token: &str) -> Result<Option<TokenRecord>, crm_core::Error> {
        let hash = hash_token(token);
        if let Some((record, read_at)) = self.cache.read().ok().and_then(|c| c.get(&hash).cloned())
            && read_at.elapsed() < TOKEN_CACHE_TTL
        {
            self.note_use(&hash, &record).await;
            return Ok(Some(record));
        }
        let found = self.crm.api_token(&hash).await?;
        if let Ok(mut cache) = self.cache.write() {
            if cache.len() > CACHE_LIMIT {
                cache.clear();
            }
            match &found {
                Some(record) => cache.insert(hash.clone(), (record.clone(), Instant::now())),
                None => cache.remove(&hash),
            };
        }
        if let Some(record) = &found {
            self.note_use(&hash, record).await;
        }
        Ok(found)
    }

    /// Writes a use of a token when its last one is a minute old, and remembers it in the
    /// cache so the next requests do not write again. A failed write is logged, never
    /// turned into a refusal.
    async fn note_use(&self, hash: &str, record: &TokenRecord) {
        if record.refusal(self.crm.clock().now()).is_some() {
            return;
        }
        match self.crm.note_token_use(hash, record).await {
            Ok(false) => {}
            Ok(true) => {
                if let Ok(mut cache) = self.cache.write()
                    && let Some((cached, _)) = cache.get_mut(hash)
                {
                    cached.last_used_at = Some(self.crm.clock().now());
                }
            }
            Err(error) => tracing::warn!(%error, token = %record.id, "could not record a token's use"),
        }
    }
}

/// The authenticated caller.
#[derive(Clone, Debug)]
pub struct Auth(pub Actor);

/// The bearer token of a request, when it has one.
pub fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

/// Where a request comes from, for the audit log (ADM-4): its `X-Request-Id` (set by the
/// request-id layer when the client sent none), the peer's address, the token, and the
/// channel: `cti` under `/api/v1/cti/`, `console` when the agents' console says so with
/// `X-Crm-Channel: console`, else `api` (mail and rules are the application's own).
pub fn request_context(parts: &Parts, token: crm_core::ids::TokenId) -> RequestContext {
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    let channel = if parts.uri.path().starts_with("/api/v1/cti/") {
        Channel::Cti
    } else if header("x-crm-channel").is_some_and(|c| c.eq_ignore_ascii_case("console")) {
        Channel::Console
    } else {
        Channel::Api
    };
    RequestContext {
        request_id: header("x-request-id").filter(|id| !id.is_empty()).map(|id| id.chars().take(200).collect()),
        source_ip: parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|info| info.0.ip().to_string()),
        channel,
        token: Some(token),
    }
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(auth) = parts.extensions.get::<Auth>() {
            return Ok(auth.clone());
        }
        let unauthorized = |why: &str| ApiError::new(ProblemKind::Unauthorized, why);
        let token = bearer(parts).ok_or_else(|| unauthorized("send Authorization: Bearer <api token>"))?;
        if !token.starts_with(TOKEN_PREFIX) || token.len() > 100 {
            return Err(unauthorized("the api token is not valid"));
        }
        let record = state.tokens.resolve(token).await?.ok_or_else(|| unauthorized("the api token is not valid"))?;
        if let Some(refusal) = record.refusal(state.crm.clock().now()) {
            return Err(unauthorized(&refusal.to_string()));
        }
        if let Some(at) = state.tokens.suspension(record.grant.tenant).await? {
            let why = format!("tenant {} is suspended (since {})", record.grant.tenant, at.to_rfc3339());
            return Err(ApiError::new(ProblemKind::Forbidden, why));
        }
        let agent = state.tokens.agent(&record.grant).await?;
        let role = match &agent {
            Some(agent) => state.tokens.role_of(agent).await?,
            None => None,
        };
        let mut actor = agent
            .and_then(|agent| Actor::for_token(&record.grant, &agent, role.as_ref()))
            .ok_or_else(|| unauthorized("the token's agent is inactive or gone"))?;
        actor.context = request_context(parts, record.id);
        let auth = Auth(actor);
        parts.extensions.insert(auth.clone());
        Ok(auth)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashed_to_hex() {
        let a = generate_token();
        let b = generate_token();
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX));
        assert_eq!(hash_token(&a).len(), 64);
        assert_eq!(hash_token(&a), hash_token(&a));
        // SHA-256 of "abc" (FIPS 180-2, appendix B.1).
        assert_eq!(hash_token("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
