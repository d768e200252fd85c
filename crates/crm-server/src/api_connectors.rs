//! Connectors to external CRMs configured through the API (ADM-3, EXT-1; ADR 0042): what a
//! tenant's administrator writes with `PUT /api/v1/admin/connectors/{system}` is checked
//! (parsed and built as a file's connector would be), sealed with the server's key
//! ([`crate::secrets`]) and stored through the core's `ConnectorStore`; every replica
//! builds its connectors from the store and reads it again every
//! [`REFRESH_INTERVAL`], so a change takes effect everywhere without a restart (at once on
//! the replica that took it).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use crm_core::external::ExternalSystem;
use crm_core::ids::TenantId;
use crm_core::ports::{ExternalCrm, StoredConnector};
use crm_core::service::Crm;
use crm_core::time::Clock;

use crate::connectors::{ConnectorView, REDACTED, build_one, parse_api};
use crate::secrets::SecretsKey;

/// How often each replica reads the stored connectors again.
pub const REFRESH_INTERVAL: Duration = Duration::from_secs(2);

/// A built connector and what it was built from.
struct Loaded {
    version: u64,
    connector: Arc<dyn ExternalCrm>,
    view: ConnectorView,
}

/// The connectors configured through the API, as this replica built them.
pub struct ApiConnectors {
    key: SecretsKey,
    clock: Arc<dyn Clock>,
    loaded: RwLock<HashMap<(TenantId, ExternalSystem), Loaded>>,
}

impl std::fmt::Debug for ApiConnectors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiConnectors").field("loaded", &self.read().len()).finish_non_exhaustive()
    }
}

/// What a connector is sealed against: its tenant and product.
fn context(tenant: TenantId, system: ExternalSystem) -> String {
    format!("crm-connector/{tenant}/{system}")
}

/// Why a connector cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum ConnectorWriteError {
    /// A setting is wrong; the message names it.
    #[error("{0}")]
    Invalid(String),
    /// The stored configuration does not open with this server's key.
    #[error("the stored configuration of this connector does not open with the server's secrets key")]
    Sealed,
}

impl ApiConnectors {
    /// None built yet; `key` seals and opens them, `clock` dates their signed assertions.
    pub fn new(key: SecretsKey, clock: Arc<dyn Clock>) -> Self {
        Self { key, clock, loaded: RwLock::default() }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<(TenantId, ExternalSystem), Loaded>> {
        self.loaded.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The connector of `tenant` to `system`, if configured through the API.
    pub fn connector(&self, tenant: TenantId, system: ExternalSystem) -> Option<Arc<dyn ExternalCrm>> {
        self.read().get(&(tenant, system)).map(|l| l.connector.clone())
    }

    /// Every connector built, with its tenant.
    pub fn built(&self) -> Vec<(TenantId, Arc<dyn ExternalCrm>)> {
        self.read().iter().map(|((t, _), l)| (*t, l.connector.clone())).collect()
    }

    /// The views of `tenant`'s connectors, by product.
    pub fn views(&self, tenant: TenantId) -> Vec<ConnectorView> {
        let mut views: Vec<ConnectorView> =
            self.read().iter().filter(|((t, _), _)| *t == tenant).map(|(_, l)| l.view.clone()).collect();
        views.sort_by_key(|v| v.system);
        views
    }

    /// Checks `settings` (the product's table as JSON) for `tenant`'s connector to
    /// `system`, taking every `[redacted]` value from `previous` (the stored connector
    /// being changed), and returns the redacted view and the sealed configuration to store.
    ///
    /// # Errors
    /// [`ConnectorWriteError::Invalid`] naming the setting: one the product does not take,
    /// a reference to the server's environment or files, a `[redacted]` with no stored
    /// value behind it, a connector that cannot be built (a bad URL or key …);
    /// [`ConnectorWriteError::Sealed`] when `previous` does not open.
    pub fn prepare(
        &self,
        tenant: TenantId,
        system: ExternalSystem,
        mut settings: serde_json::Value,
        previous: Option<&StoredConnector>,
    ) -> Result<(serde_json::Value, String), ConnectorWriteError> {
        let before = match previous {
            Some(stored) => Some(self.open(stored)?),
            None => None,
        };
        keep_redacted(&mut settings, before.as_ref(), "")?;
        let spec = parse_api(tenant, system, &settings).map_err(ConnectorWriteError::Invalid)?;
        build_one(spec.config, &self.clock).map_err(|e| ConnectorWriteError::Invalid(e.to_string()))?;
        let plain = serde_json::to_vec(&settings).map_err(|e| ConnectorWriteError::Invalid(e.to_string()))?;
        Ok((spec.view, self.key.seal(&plain, &context(tenant, system))))
    }

    /// The whole configuration of a stored connector.
    fn open(&self, stored: &StoredConnector) -> Result<serde_json::Value, ConnectorWriteError> {
        let plain = self
            .key
            .open(&stored.sealed, &context(stored.tenant, stored.system))
            .map_err(|_| ConnectorWriteError::Sealed)?;
        serde_json::from_slice(&plain).map_err(|_| ConnectorWriteError::Sealed)
    }

    /// Reads the stored connectors and builds those that are new or changed, drops those
    /// gone. A connector that cannot be opened or built is left out and logged (its
    /// tenant's calls then say no connector is configured).
    ///
    /// # Errors
    /// Store failures (nothing changes then).
    pub async fn refresh(&self, crm: &Crm) -> crm_core::error::Result<()> {
        let stored = crm.all_connectors().await?;
        let current: HashMap<(TenantId, ExternalSystem), u64> =
            self.read().iter().map(|(k, l)| (*k, l.version)).collect();
        let mut fresh = Vec::new();
        for s in &stored {
            if current.get(&(s.tenant, s.system)) == Some(&s.version) {
                continue;
            }
            match self.load(s) {
                Ok(loaded) => fresh.push(((s.tenant, s.system), loaded)),
                Err(error) => {
                    tracing::error!(tenant = %s.tenant, system = %s.system, %error, "a stored connector is left out")
                }
            }
        }
        let mut loaded = self.loaded.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        loaded
            .retain(|(t, sys), l| stored.iter().any(|s| s.tenant == *t && s.system == *sys && s.version >= l.version));
        for (key, l) in fresh {
            tracing::info!(tenant = %key.0, system = %key.1, version = l.version, "external crm connector configured through the API");
            loaded.insert(key, l);
        }
        Ok(())
    }

    fn load(&self, stored: &StoredConnector) -> Result<Loaded, String> {
        let settings = self.open(stored).map_err(|e| e.to_string())?;
        let spec = parse_api(stored.tenant, stored.system, &settings)?;
        let connector = build_one(spec.config, &self.clock).map_err(|e| e.to_string())?;
        let view = ConnectorView {
            system: stored.system,
            settings: stored.settings.clone(),
            source: "api".into(),
            version: Some(stored.version),
        };
        Ok(Loaded { version: stored.version, connector, view })
    }
}

/// Replaces every `[redacted]` string of `settings` by the value at the same place in
/// `before`; one with nothing behind it is an error naming the setting.
fn keep_redacted(
    settings: &mut serde_json::Value,
    before: Option<&serde_json::Value>,
    at: &str,
) -> Result<(), ConnectorWriteError> {
    match settings {
        serde_json::Value::String(s) if s == REDACTED => match before {
            Some(previous) if !previous.is_null() => {
                *settings = previous.clone();
                Ok(())
            }
            _ => Err(ConnectorWriteError::Invalid(format!(
                "settings.{at}: \"{REDACTED}\" keeps a stored secret, and there is none: give its value"
            ))),
        },
        serde_json::Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                let path = if at.is_empty() { k.clone() } else { format!("{at}.{k}") };
                keep_redacted(v, before.and_then(|b| b.get(k)), &path)?;
            }
            Ok(())
        }
        serde_json::Value::Array(items) => {
            for (i, v) in items.iter_mut().enumerate() {
                keep_redacted(v, before.and_then(|b| b.get(i)), &format!("{at}[{i}]"))?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_redacted_value_keeps_the_stored_one_and_needs_one() {
        let before = serde_json::json!({"auth": {"client_id": "a", "client_secret": "s3cret"}});
        let mut after = serde_json::json!({"auth": {"client_id": "b", "client_secret": REDACTED}});
        keep_redacted(&mut after, Some(&before), "").expect("kept");
        assert_eq!(after, serde_json::json!({"auth": {"client_id": "b", "client_secret": "s3cret"}}));
        let mut fresh = serde_json::json!({"auth": {"client_secret": REDACTED}});
        let error = keep_redacted(&mut fresh, None, "").expect_err("nothing to keep");
        assert!(error.to_string().starts_with("settings.auth.client_secret:"), "{error}");
    }
}
