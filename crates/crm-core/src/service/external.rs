//! External CRM use cases (EXT-1, INT-7): screen-pop search in the tenant's external CRMs,
//! and creating a case, contact or lead there during an interaction, linked at once.

use super::{Crm, check_version};
use crate::access::{Actor, Permission};
use crate::customer::{EmailAddress, PhoneNumber};
use crate::error::{Error, Result};
use crate::event::EventKind;
use crate::external::{ExternalCreate, ExternalRecord, ExternalRef, ExternalSystem};
use crate::ids::InteractionId;
use crate::interaction::{Interaction, LinkTarget};
use crate::ports::ExternalCrm;
use crate::service::ConnectorDirectory;

/// What to look for in an external CRM.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExternalLookup {
    /// A phone number in any written form.
    Phone(String),
    /// An email address.
    Email(String),
}

impl Crm {
    fn connector_for(
        &self,
        connectors: &dyn ConnectorDirectory,
        actor: &Actor,
        system: ExternalSystem,
    ) -> Result<std::sync::Arc<dyn ExternalCrm>> {
        connectors
            .connector(actor.tenant, system)
            .ok_or_else(|| Error::invalid("system", format!("no {system} connector is configured for this tenant")))
    }

    /// Tests the tenant's connector to `system`: its credentials and the reads a screen pop
    /// makes (ADM-3 "test a connection"). `Ok` when they work.
    ///
    /// # Errors
    /// Forbidden without `admin.connectors`; no connector for that product; the
    /// connector's failure, naming the system and the vendor's own text.
    pub async fn check_external_connection(
        &self,
        actor: &Actor,
        connectors: &dyn ConnectorDirectory,
        system: ExternalSystem,
    ) -> Result<()> {
        actor.require(Permission::AdminConnectors)?;
        let crm = self.connector_for(connectors, actor, system)?;
        Ok(crm.check_connection().await?)
    }

    /// Searches an external CRM by phone or email for the screen pop (EXT-1).
    ///
    /// # Errors
    /// Forbidden without `customer.read`; an unparsable phone or email; no connector for
    /// that product; the connector's failure.
    pub async fn search_external(
        &self,
        actor: &Actor,
        connectors: &dyn ConnectorDirectory,
        system: ExternalSystem,
        lookup: &ExternalLookup,
    ) -> Result<Vec<ExternalRecord>> {
        actor.require(Permission::CustomerRead)?;
        let crm = self.connector_for(connectors, actor, system)?;
        Ok(match lookup {
            ExternalLookup::Phone(raw) => {
                let tenant = self.tenant(actor.tenant).await?;
                crm.find_by_phone(&PhoneNumber::parse(raw, Some(tenant.default_region))?).await?
            }
            ExternalLookup::Email(raw) => crm.find_by_email(&EmailAddress::parse(raw)?).await?,
        })
    }

    /// Creates a case, contact or lead in an external CRM during an interaction and links it
    /// to the interaction at once (INT-7). The remote record is created first, keyed by
    /// [`ExternalCreate::key`] (the interaction, the kind, and how many records of that kind
    /// it already links), so the same request sent again after a timeout or a lost answer
    /// finds that record instead of making a second one; if linking then fails on a stale
    /// interaction version, the remote record exists unlinked and the error says so, and
    /// sending the request again links that same record.
    ///
    /// # Errors
    /// Forbidden without `interaction.handle`; `NotFound`; a stale version; no connector;
    /// the connector's failure (its remote error code kept).
    pub async fn create_external_record(
        &self,
        actor: &Actor,
        connectors: &dyn ConnectorDirectory,
        interaction: InteractionId,
        expected_version: u64,
        system: ExternalSystem,
        request: &ExternalCreate,
    ) -> Result<(ExternalRef, Interaction)> {
        actor.require(Permission::InteractionHandle)?;
        let mut inter = self.load_interaction(actor, interaction).await?;
        let expected_version = check_version("interaction", interaction, inter.version(), expected_version)?;
        let crm = self.connector_for(connectors, actor, system)?;
        let nth = 1 + inter
            .links()
            .iter()
            .filter(|l| {
                matches!(&l.target, LinkTarget::External { reference }
                    if reference.system == system && reference.object == request.object())
            })
            .count();
        let reference = crm.create(&request.key(interaction, nth), request).await?;
        let target = LinkTarget::External { reference: reference.clone() };
        if inter.link(target.clone(), actor.agent, self.clock.now())? {
            let events = [self.event(actor, EventKind::InteractionLinked { interaction, target })];
            self.store.update_interaction(&inter, expected_version, &events).await.map_err(|e| {
                match Error::from(e) {
                    Error::Conflict(c) => Error::Conflict(crate::error::Conflict::State(format!(
                        "{c}; the {system} record {} was created but not linked",
                        reference.id
                    ))),
                    other => other,
                }
            })?;
        }
        Ok((reference, inter))
    }
}
