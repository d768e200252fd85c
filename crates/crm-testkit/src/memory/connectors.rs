//! [`ConnectorStore`] for [`MemoryStore`]: connectors configured through the API (ADM-3).

use async_trait::async_trait;
use crm_core::error::{Conflict, StoreError};
use crm_core::event::DomainEvent;
use crm_core::external::ExternalSystem;
use crm_core::ids::TenantId;
use crm_core::ports::{ConnectorStore, StoreResult, StoredConnector};

use super::MemoryStore;

/// The stored version of a connector checked against the caller's.
fn check(stored: Option<u64>, expected: Option<u64>, system: ExternalSystem) -> StoreResult<()> {
    match (stored, expected) {
        (Some(_), None) => Err(StoreError::duplicate("system", system.to_string())),
        (None, Some(_)) => Err(StoreError::not_found("connector", system)),
        (Some(v), Some(e)) if v != e => Err(StoreError::Conflict(Conflict::StaleVersion {
            entity: "connector",
            id: system.to_string(),
            expected: e,
        })),
        _ => Ok(()),
    }
}

#[async_trait]
impl ConnectorStore for MemoryStore {
    async fn put_connector(
        &self,
        connector: &StoredConnector,
        expected_version: Option<u64>,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let mut state = self.write()?;
        let key = (connector.tenant, connector.system);
        check(state.connectors.get(&key).map(|c| c.version), expected_version, connector.system)?;
        let rows = state.stage_events(events)?;
        state.connectors.insert(key, connector.clone());
        state.commit_events(rows);
        Ok(())
    }

    async fn delete_connector(
        &self,
        tenant: TenantId,
        system: ExternalSystem,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let mut state = self.write()?;
        let key = (tenant, system);
        check(state.connectors.get(&key).map(|c| c.version), Some(expected_version), system)?;
        let rows = state.stage_events(events)?;
        state.connectors.remove(&key);
        state.commit_events(rows);
        Ok(())
    }

    async fn all_connectors(&self) -> StoreResult<Vec<StoredConnector>> {
        Ok(self.read()?.connectors.values().cloned().collect())
    }
}
