//! The application-state ports for [`MemoryStore`]: API tokens, idempotency keys, the live
//! feed and installation facts.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_core::api_token::TokenRecord;
use crm_core::error::StoreError;
use crm_core::event::DomainEvent;
use crm_core::idempotency::{IdempotencyClaim, KeptResponse};
use crm_core::ids::{AgentId, TenantId, TokenId};
use crm_core::live::{LiveEvent, NewLiveEvent};
use crm_core::ports::{IdempotencyStore, LiveFeedStore, MetaStore, StoreResult, TokenStore};

use super::{MemoryStore, limit};

/// A kept idempotency key.
#[derive(Clone, Debug)]
pub(crate) struct KeyRow {
    fingerprint: String,
    claimed_at: DateTime<Utc>,
    response: Option<KeptResponse>,
}

/// The live feed: events by position, and the last position drawn.
#[derive(Clone, Debug, Default)]
pub(crate) struct Feed {
    events: BTreeMap<u64, (LiveEvent, DateTime<Utc>)>,
    head: u64,
}

#[async_trait]
impl TokenStore for MemoryStore {
    async fn insert_token(&self, hash: &str, token: &TokenRecord, events: &[DomainEvent]) -> StoreResult<()> {
        let mut state = self.write()?;
        if state.tokens.contains_key(hash) {
            return Err(StoreError::duplicate("hash", hash));
        }
        let rows = state.stage_events(events)?;
        state.tokens.insert(hash.to_owned(), token.clone());
        state.commit_events(rows);
        Ok(())
    }

    async fn find_token(&self, hash: &str) -> StoreResult<Option<TokenRecord>> {
        Ok(self.read()?.tokens.get(hash).cloned())
    }

    async fn list_tokens(&self, tenant: TenantId) -> StoreResult<Vec<TokenRecord>> {
        let state = self.read()?;
        let mut found: Vec<TokenRecord> = state.tokens.values().filter(|t| t.grant.tenant == tenant).cloned().collect();
        found.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.id.cmp(&b.id)));
        Ok(found)
    }

    async fn revoke_token(
        &self,
        tenant: TenantId,
        id: TokenId,
        at: DateTime<Utc>,
        events: &[DomainEvent],
    ) -> StoreResult<TokenRecord> {
        let mut state = self.write()?;
        let revoked = state
            .tokens
            .values()
            .find(|t| t.id == id && t.grant.tenant == tenant)
            .ok_or_else(|| StoreError::not_found("token", id))?
            .revoked_at
            .is_some();
        // A second revocation changes nothing: no event, no audit entry.
        let rows = if revoked { Vec::new() } else { state.stage_events(events)? };
        let token = state
            .tokens
            .values_mut()
            .find(|t| t.id == id && t.grant.tenant == tenant)
            .ok_or_else(|| StoreError::not_found("token", id))?;
        token.revoked_at.get_or_insert(at);
        let token = token.clone();
        state.commit_events(rows);
        Ok(token)
    }

    async fn touch_token(&self, hash: &str, at: DateTime<Utc>, not_before: DateTime<Utc>) -> StoreResult<()> {
        if let Some(token) = self.write()?.tokens.get_mut(hash)
            && token.last_used_at.is_none_or(|used| used < not_before)
        {
            token.last_used_at = Some(at);
        }
        Ok(())
    }
}

#[async_trait]
impl IdempotencyStore for MemoryStore {
    async fn claim_idempotency(
        &self,
        key: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
        stale_before: DateTime<Utc>,
    ) -> StoreResult<IdempotencyClaim> {
        let mut state = self.write()?;
        let Some(row) = state.idempotency.get_mut(key) else {
            let row = KeyRow { fingerprint: fingerprint.to_owned(), claimed_at: now, response: None };
            state.idempotency.insert(key.to_owned(), row);
            return Ok(IdempotencyClaim::Claimed { retaken: false });
        };
        if row.fingerprint != fingerprint {
            return Ok(IdempotencyClaim::Mismatch);
        }
        if let Some(response) = &row.response {
            return Ok(IdempotencyClaim::Done(response.clone()));
        }
        if row.claimed_at < stale_before {
            row.claimed_at = now;
            return Ok(IdempotencyClaim::Claimed { retaken: true });
        }
        Ok(IdempotencyClaim::InProgress)
    }

    async fn finish_idempotency(&self, key: &str, response: &KeptResponse) -> StoreResult<()> {
        if let Some(row) = self.write()?.idempotency.get_mut(key) {
            row.response = Some(response.clone());
        }
        Ok(())
    }

    async fn release_idempotency(&self, key: &str) -> StoreResult<()> {
        self.write()?.idempotency.remove(key);
        Ok(())
    }

    async fn prune_idempotency(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let mut state = self.write()?;
        let was = state.idempotency.len();
        state.idempotency.retain(|_, row| row.claimed_at >= before);
        Ok((was - state.idempotency.len()) as u64)
    }
}

#[async_trait]
impl LiveFeedStore for MemoryStore {
    async fn append_live(&self, events: &[NewLiveEvent], now: DateTime<Utc>) -> StoreResult<()> {
        let mut state = self.write()?;
        for e in events {
            state.feed.head += 1;
            let seq = state.feed.head;
            let event =
                LiveEvent { seq, tenant: e.tenant, agent: e.agent, name: e.name.clone(), payload: e.payload.clone() };
            state.feed.events.insert(seq, (event, now));
        }
        Ok(())
    }

    async fn live_head(&self) -> StoreResult<u64> {
        Ok(self.read()?.feed.head)
    }

    async fn live_after(&self, after: u64, limit_: u32) -> StoreResult<Vec<LiveEvent>> {
        let state = self.read()?;
        let events = state.feed.events.range(after.saturating_add(1)..).map(|(_, (e, _))| e.clone());
        Ok(events.take(limit(limit_)).collect())
    }

    async fn live_for_agent_after(
        &self,
        tenant: TenantId,
        agent: AgentId,
        after: u64,
        limit_: u32,
    ) -> StoreResult<Vec<LiveEvent>> {
        let state = self.read()?;
        let events = state.feed.events.range(after.saturating_add(1)..).map(|(_, (e, _))| e);
        Ok(events.filter(|e| e.tenant == tenant && e.agent == agent).take(limit(limit_)).cloned().collect())
    }

    async fn prune_live(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let mut state = self.write()?;
        let was = state.feed.events.len();
        state.feed.events.retain(|_, (_, at)| *at >= before);
        Ok((was - state.feed.events.len()) as u64)
    }
}

#[async_trait]
impl MetaStore for MemoryStore {
    async fn meta(&self, key: &str) -> StoreResult<Option<String>> {
        Ok(self.read()?.meta.get(key).cloned())
    }

    async fn set_meta(&self, key: &str, value: &str) -> StoreResult<()> {
        self.write()?.meta.insert(key.to_owned(), value.to_owned());
        Ok(())
    }

    async fn claim_meta(&self, key: &str, value: &str) -> StoreResult<bool> {
        let mut state = self.write()?;
        if state.meta.contains_key(key) {
            return Ok(false);
        }
        state.meta.insert(key.to_owned(), value.to_owned());
        Ok(true)
    }

    async fn delete_meta(&self, key: &str) -> StoreResult<()> {
        self.write()?.meta.remove(key);
        Ok(())
    }

    async fn replace_meta(&self, key: &str, expected: &str, value: Option<String>) -> StoreResult<bool> {
        let mut state = self.write()?;
        if state.meta.get(key).map(String::as_str) != Some(expected) {
            return Ok(false);
        }
        match value {
            Some(v) => state.meta.insert(key.to_owned(), v),
            None => state.meta.remove(key),
        };
        Ok(true)
    }
}
