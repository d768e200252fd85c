//! Connectors to external CRMs configured through the API (ADM-3, EXT-1): an administrator
//! of a tenant writes, lists and deletes them with versions; every write is audited (the
//! redacted settings before and after, never a secret). The transport seals the
//! configuration with its own key before it gets here ([`StoredConnector::sealed`]) and
//! builds the connectors each replica uses from [`Crm::all_connectors`].

use super::Crm;
use crate::access::{Actor, Permission};
use crate::error::{Error, Result};
use crate::event::EventKind;
use crate::external::ExternalSystem;
use crate::ports::StoredConnector;

/// The longest sealed configuration accepted (64 KiB: a certificate chain and a key fit
/// many times over).
pub const MAX_SEALED_CONNECTOR: usize = 64 * 1024;

impl Crm {
    /// The connectors of the actor's tenant configured through the API, by product.
    ///
    /// # Errors
    /// Forbidden without `admin.connectors`; store failures.
    pub async fn list_connectors(&self, actor: &Actor) -> Result<Vec<StoredConnector>> {
        actor.require(Permission::AdminConnectors)?;
        let mut mine: Vec<StoredConnector> =
            self.store.all_connectors().await?.into_iter().filter(|c| c.tenant == actor.tenant).collect();
        mine.sort_by_key(|c| c.system);
        Ok(mine)
    }

    /// The tenant's connector to `system` configured through the API, if any.
    ///
    /// # Errors
    /// Forbidden without `admin.connectors`; store failures.
    pub async fn get_connector(&self, actor: &Actor, system: ExternalSystem) -> Result<Option<StoredConnector>> {
        Ok(self.list_connectors(actor).await?.into_iter().find(|c| c.system == system))
    }

    /// Writes the tenant's connector to `system`: creates it (`expected_version` `None`) or
    /// replaces version `expected_version`, with `settings` (the redacted view) and
    /// `sealed` (the whole configuration, sealed by the transport). Returns what is stored.
    ///
    /// # Errors
    /// Forbidden without `admin.connectors`; `sealed` empty or over
    /// [`MAX_SEALED_CONNECTOR`], or `settings` not an object (naming the field); a
    /// connector the tenant has already (create), none (update) or a stale version.
    pub async fn put_connector(
        &self,
        actor: &Actor,
        system: ExternalSystem,
        settings: serde_json::Value,
        sealed: String,
        expected_version: Option<u64>,
    ) -> Result<StoredConnector> {
        actor.require(Permission::AdminConnectors)?;
        if !settings.is_object() {
            return Err(Error::invalid("settings", "must be an object of the product's settings"));
        }
        if sealed.is_empty() || sealed.len() > MAX_SEALED_CONNECTOR {
            return Err(Error::invalid("settings", "the sealed configuration is empty or over 64 KiB"));
        }
        let before = match expected_version {
            Some(_) => self.get_connector(actor, system).await?,
            None => None,
        };
        let connector = StoredConnector {
            tenant: actor.tenant,
            system,
            settings,
            sealed,
            version: expected_version.map_or(1, |v| v + 1),
            updated_at: self.clock.now(),
        };
        let event = self.event_with_changes(
            actor,
            EventKind::ConnectorWritten { system, version: connector.version },
            before.as_ref().map(|b| &b.settings),
            Some(&connector.settings),
        );
        self.store.put_connector(&connector, expected_version, &[event]).await?;
        Ok(connector)
    }

    /// Deletes the tenant's connector to `system` at `expected_version`.
    ///
    /// # Errors
    /// Forbidden without `admin.connectors`; `NotFound`; a stale version.
    pub async fn delete_connector(&self, actor: &Actor, system: ExternalSystem, expected_version: u64) -> Result<()> {
        let before = self.get_connector(actor, system).await?;
        let before = before.ok_or_else(|| Error::not_found("connector", system))?;
        let event = self.event_with_changes(
            actor,
            EventKind::ConnectorDeleted { system },
            Some(&before.settings),
            None::<&serde_json::Value>,
        );
        self.store.delete_connector(actor.tenant, system, expected_version, &[event]).await?;
        Ok(())
    }

    /// Every tenant's connectors configured through the API: what each replica builds its
    /// own from, and reads again to follow changes (no actor: the server's own work).
    ///
    /// # Errors
    /// Store failures.
    pub async fn all_connectors(&self) -> Result<Vec<StoredConnector>> {
        Ok(self.store.all_connectors().await?)
    }
}
