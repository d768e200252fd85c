//! Bearer API tokens (ADM-2, ADM-3).
//!
//! A token is 32 random bytes (base64url, prefixed `crm_`), shown once; the server keeps
//! only its SHA-256 (a fast hash is enough for a high-entropy secret: nothing to brute
//! force). Each token is bound to a tenant, an agent and a role. The [`Auth`] extractor turns
//! `Authorization: Bearer …` into the [`Actor`] every use case receives: the token's tenant
//! and role, the agent's groups. A missing, unknown or forged token, or one whose agent is
//! gone or inactive, is a 401.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use base64::Engine as _;
use rand::RngCore as _;
use sha2::{Digest, Sha256};

use crm_core::StoreError;
use crm_core::access::{Actor, Agent, Role};
use crm_core::ids::{AgentId, TenantId};
use crm_core::ports::Store;

use crate::db::{ServerDb, TokenRecord};
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
/// changes made through another replica apply within this time.
pub const AGENT_CACHE_TTL: Duration = Duration::from_secs(5);

/// Agents by tenant and id, with when they were read.
type AgentCache = HashMap<(TenantId, AgentId), (Agent, Instant)>;

/// Bound on each cache; a full cache is simply emptied.
const CACHE_LIMIT: usize = 100_000;

/// Token lookups with a positive cache (tokens are never changed once written), and a
/// short-lived cache of the agents they act as, so an authenticated request usually costs
/// no database read at all.
#[derive(Clone, Debug)]
pub struct Tokens {
    db: ServerDb,
    cache: Arc<RwLock<HashMap<String, TokenRecord>>>,
    agents: Arc<RwLock<AgentCache>>,
}

impl Tokens {
    /// Tokens stored in `db`.
    pub fn new(db: ServerDb) -> Self {
        Self { db, cache: Arc::default(), agents: Arc::default() }
    }

    /// The agent a token acts as, from the cache when read less than [`AGENT_CACHE_TTL`]
    /// ago.
    ///
    /// # Errors
    /// Store failures.
    pub async fn agent(&self, store: &dyn Store, tenant: TenantId, id: AgentId) -> Result<Option<Agent>, StoreError> {
        let key = (tenant, id);
        if let Some((agent, read_at)) = self.agents.read().ok().and_then(|c| c.get(&key).cloned())
            && read_at.elapsed() < AGENT_CACHE_TTL
        {
            return Ok(Some(agent));
        }
        let found = store.get_agent(tenant, id).await?;
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

    /// Drops an agent from the cache (after this replica changed it).
    pub fn forget_agent(&self, tenant: TenantId, id: AgentId) {
        if let Ok(mut cache) = self.agents.write() {
            cache.remove(&(tenant, id));
        }
    }

    /// Creates a token for an agent and returns it (the only time it is visible).
    ///
    /// # Errors
    /// Store failures.
    pub async fn create(
        &self,
        tenant: TenantId,
        agent: AgentId,
        role: Role,
        label: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<String, StoreError> {
        let token = generate_token();
        let record = TokenRecord { tenant, agent, role };
        self.db.insert_token(&hash_token(&token), &record, label, &now.to_rfc3339()).await?;
        Ok(token)
    }

    /// The record of a presented token.
    ///
    /// # Errors
    /// Store failures.
    pub async fn resolve(&self, token: &str) -> Result<Option<TokenRecord>, StoreError> {
        let hash = hash_token(token);
        if let Some(r) = self.cache.read().ok().and_then(|c| c.get(&hash).cloned()) {
            return Ok(Some(r));
        }
        let found = self.db.find_token(&hash).await?;
        if let (Some(r), Ok(mut cache)) = (&found, self.cache.write()) {
            if cache.len() > CACHE_LIMIT {
                cache.clear();
            }
            cache.insert(hash, r.clone());
        }
        Ok(found)
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
        let agent = state.tokens.agent(state.crm.store().as_ref(), record.tenant, record.agent).await?;
        let agent = agent.filter(|a| a.active).ok_or_else(|| unauthorized("the token's agent is inactive or gone"))?;
        let actor = Actor {
            tenant: record.tenant,
            agent: agent.id,
            groups: agent.groups,
            // A token never grants more than its agent's current role: demoting an agent
            // takes effect on the tokens issued before.
            permissions: record.role.permissions().intersection(&agent.role.permissions()).copied().collect(),
        };
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
