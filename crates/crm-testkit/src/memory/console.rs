//! The console's sign-in state for [`MemoryStore`]: password hashes and sessions.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_core::console::{Credential, Session};
use crm_core::error::StoreError;
use crm_core::event::DomainEvent;
use crm_core::ids::{AgentId, TenantId};
use crm_core::ports::{ConsoleStore, StoreResult};

use super::MemoryStore;

/// Password hashes by agent, sessions by the hash of their id.
#[derive(Clone, Debug, Default)]
pub(crate) struct ConsoleState {
    passwords: HashMap<(TenantId, AgentId), String>,
    sessions: HashMap<String, Session>,
}

#[async_trait]
impl ConsoleStore for MemoryStore {
    async fn set_password_hash(
        &self,
        tenant: TenantId,
        agent: AgentId,
        hash: &str,
        _at: DateTime<Utc>,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let mut state = self.write()?;
        if state.agents.get(&agent).is_none_or(|a| a.tenant != tenant) {
            return Err(StoreError::not_found("agent", agent));
        }
        let rows = state.stage_events(events)?;
        state.console.passwords.insert((tenant, agent), hash.to_owned());
        state.commit_events(rows);
        Ok(())
    }

    async fn credentials_by_email(&self, email_key: &str) -> StoreResult<Vec<Credential>> {
        let state = self.read()?;
        let mut found: Vec<Credential> = state
            .agents
            .values()
            .filter(|a| a.email.key() == email_key)
            .filter_map(|a| {
                let hash = state.console.passwords.get(&(a.tenant, a.id))?;
                Some(Credential { tenant: a.tenant, agent: a.id, hash: hash.clone() })
            })
            .collect();
        found.sort_by_key(|c| (c.tenant, c.agent));
        Ok(found)
    }

    async fn insert_session(&self, hash: &str, session: &Session) -> StoreResult<()> {
        let mut state = self.write()?;
        if state.console.sessions.contains_key(hash) {
            return Err(StoreError::duplicate("hash", hash));
        }
        state.console.sessions.insert(hash.to_owned(), session.clone());
        Ok(())
    }

    async fn find_session(&self, hash: &str) -> StoreResult<Option<Session>> {
        Ok(self.read()?.console.sessions.get(hash).cloned())
    }

    async fn touch_session(&self, hash: &str, at: DateTime<Utc>) -> StoreResult<()> {
        if let Some(session) = self.write()?.console.sessions.get_mut(hash) {
            session.last_seen_at = session.last_seen_at.max(at);
        }
        Ok(())
    }

    async fn delete_session(&self, hash: &str) -> StoreResult<bool> {
        Ok(self.write()?.console.sessions.remove(hash).is_some())
    }

    async fn delete_agent_sessions(&self, tenant: TenantId, agent: AgentId) -> StoreResult<u64> {
        let sessions = &mut self.write()?.console.sessions;
        let before = sessions.len();
        sessions.retain(|_, s| !(s.tenant == tenant && s.agent == agent));
        Ok((before - sessions.len()) as u64)
    }

    async fn prune_sessions(&self, now: DateTime<Utc>, idle_before: DateTime<Utc>) -> StoreResult<u64> {
        let sessions = &mut self.write()?.console.sessions;
        let before = sessions.len();
        sessions.retain(|_, s| s.expires_at > now && s.last_seen_at > idle_before);
        Ok((before - sessions.len()) as u64)
    }
}
