//! External CRM connectors (EXT-1, INT-6, INT-7): which connector serves which tenant, and
//! the worker that delivers the activity pushes the outbox holds for them.
//!
//! The server has no connector configuration of its own yet (credentials per tenant are a
//! later feature): by default [`Connectors::none`] answers "no connector is configured" and
//! the push worker does not run, so pushes wait in the outbox, pending, until a directory
//! is wired. Embedders and tests pass a `ConnectorDirectory` in [`crate::ServerConfig`].

use std::sync::Arc;
use std::time::Duration;

use crm_core::external::ExternalSystem;
use crm_core::ids::TenantId;
use crm_core::ports::ExternalCrm;
use crm_core::service::{ConnectorDirectory, RetryPolicy};

use crate::state::AppState;

/// The connector directory of a server.
#[derive(Clone, Default)]
pub struct Connectors(Option<Arc<dyn ConnectorDirectory>>);

impl std::fmt::Debug for Connectors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "Connectors(configured)" } else { "Connectors(none)" })
    }
}

impl Connectors {
    /// No connector for anyone.
    pub fn none() -> Self {
        Self(None)
    }

    /// Connectors from a directory.
    pub fn from_directory(directory: Arc<dyn ConnectorDirectory>) -> Self {
        Self(Some(directory))
    }

    /// Whether any directory is wired (the push worker runs only then).
    pub fn is_configured(&self) -> bool {
        self.0.is_some()
    }
}

impl ConnectorDirectory for Connectors {
    fn connector(&self, tenant: TenantId, system: ExternalSystem) -> Option<Arc<dyn ExternalCrm>> {
        self.0.as_ref().and_then(|d| d.connector(tenant, system))
    }
}

/// One round of external push delivery; returns how many entries it claimed.
///
/// # Errors
/// Store failures.
pub async fn deliver_pushes(state: &AppState) -> Result<usize, crm_core::StoreError> {
    let report = state
        .crm
        .deliver_external_pushes(&state.connectors, &RetryPolicy::default(), Duration::from_secs(60), 50)
        .await
        .map_err(|e| match e {
            crm_core::Error::Store(s) => s,
            other => crm_core::StoreError::Backend(other.to_string().into()),
        })?;
    if report.claimed > 0 {
        tracing::info!(
            delivered = report.delivered,
            retried = report.retried,
            dead = report.dead,
            "external pushes delivered"
        );
    }
    Ok(usize::try_from(report.claimed).unwrap_or(0))
}
