//! External CRM use cases (EXT-1, INT-7): screen-pop search in the tenant's external CRMs,
//! and creating a case, contact or lead there during an interaction, through the durable
//! outbox, linked as soon as it exists.

use super::delivery::Failure;
use super::{Crm, check_version};
use crate::access::{Actor, Permission};
use crate::customer::{EmailAddress, PhoneNumber};
use crate::error::{Conflict, Error, Result, StoreError};
use crate::event::{DomainEvent, EventKind};
use crate::external::{ExternalCreate, ExternalRecord, ExternalRef, ExternalSystem};
use crate::ids::{InteractionId, TenantId};
use crate::interaction::{Interaction, LinkTarget};
use crate::ports::ExternalCrm;
use crate::service::ConnectorDirectory;
use crate::time::next_id;

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
    /// to the interaction as soon as it exists (INT-7), never losing nor doubling it.
    ///
    /// The request is first written to the interaction (a pending create, its key fixed:
    /// [`Interaction::request_external_create`]) and to the durable outbox, in one
    /// transaction; then this call makes the create itself. When the remote confirms the
    /// record, it is linked at once ([`ExternalCreation::Created`]). When the remote cannot
    /// be reached, asks to wait or answers unreadably, the create stays queued and the
    /// external worker retries it with backoff, honouring `Retry-After`, then links it
    /// ([`ExternalCreation::Queued`]); a restart in between loses nothing, since the entry
    /// is already written, and the create's key makes every retry find the record the first
    /// attempt may have made.
    ///
    /// # Errors
    /// Forbidden without `interaction.handle`; `NotFound`; a stale version; no connector;
    /// a declined interaction; the remote's refusal (its code kept: the create is then
    /// listed as refused on the interaction, its outbox entry dead).
    pub async fn create_external_record(
        &self,
        actor: &Actor,
        connectors: &dyn ConnectorDirectory,
        interaction: InteractionId,
        expected_version: u64,
        system: ExternalSystem,
        request: &ExternalCreate,
    ) -> Result<ExternalCreation> {
        actor.require(Permission::InteractionHandle)?;
        let mut inter = self.load_interaction(actor, interaction).await?;
        let expected_version = check_version("interaction", interaction, inter.version(), expected_version)?;
        let crm = self.connector_for(connectors, actor, system)?;
        let now = self.clock.now();
        let key = inter.request_external_create(system, request, actor.agent, now)?;
        let kind = EventKind::ExternalCreateRequested {
            interaction,
            system,
            key: key.clone(),
            request: request.clone(),
            attempt_after: now + self.external_create_grace,
        };
        let asked = self.event(actor, kind);
        let entry = asked.id;
        self.store.update_interaction(&inter, expected_version, &[asked]).await?;
        let failure = match crm.create(&key, request).await {
            Ok(reference) => {
                let inter = self.link_external_create(actor.tenant, Some(actor), interaction, &key, reference.clone());
                let inter = inter.await?.ok_or_else(|| Error::not_found("interaction", interaction))?;
                self.store.mark_delivered(entry).await?;
                return Ok(ExternalCreation::Created { reference, interaction: inter });
            }
            Err(e) => e,
        };
        let verdict = Failure::from(&failure);
        let retry_at = verdict.retry_at(&self.external_retry, 1, self.clock.now(), entry);
        self.store.mark_failed(entry, &verdict.message(), retry_at).await?;
        match (verdict, retry_at) {
            (Failure::Retry { message, .. }, Some(retry_at)) => {
                let inter = self.load_interaction(actor, interaction).await?;
                Ok(ExternalCreation::Queued { key, reason: message, retry_at, interaction: inter })
            }
            (verdict, _) => {
                self.refuse_external_create(actor.tenant, Some(actor), interaction, &key, &verdict.message()).await?;
                Err(failure.into())
            }
        }
    }

    /// Links the remote record of the create keyed `key` to `interaction` (done once: a
    /// second call finds it linked), with its `InteractionLinked` event and, on a call
    /// already wrapped up, the wrap-up's activity for it; by `actor`, or by the external
    /// worker when `None`. A concurrent change of the interaction is met by reading it
    /// again. An interaction that no longer exists has nothing to link.
    pub(super) async fn link_external_create(
        &self,
        tenant: TenantId,
        actor: Option<&Actor>,
        interaction: InteractionId,
        key: &str,
        reference: ExternalRef,
    ) -> Result<Option<Interaction>> {
        self.change_for_external_create(
            tenant,
            interaction,
            |inter, now| {
                let by = actor.map_or_else(|| requested_by(inter, key), |a| Some(a.agent))?;
                let push = inter.complete_external_create(key, reference.clone(), by, now)?;
                let target = LinkTarget::External { reference: reference.clone() };
                let linked = EventKind::InteractionLinked { interaction, target };
                Some(
                    std::iter::once(linked).chain(push.map(|push| EventKind::ActivityPushRequested { push })).collect(),
                )
            },
            actor,
        )
        .await
    }

    /// Marks the create keyed `key` refused on `interaction`, with the remote's `reason`
    /// and its event; by `actor`, or by the external worker when `None`.
    pub(super) async fn refuse_external_create(
        &self,
        tenant: TenantId,
        actor: Option<&Actor>,
        interaction: InteractionId,
        key: &str,
        reason: &str,
    ) -> Result<()> {
        self.change_for_external_create(
            tenant,
            interaction,
            |inter, _| {
                let system = inter.external_creates().iter().find(|p| p.key == key)?.system;
                inter.refuse_external_create(key, reason).then(|| {
                    vec![EventKind::ExternalCreateRefused {
                        interaction,
                        system,
                        key: key.to_owned(),
                        reason: reason.to_owned(),
                    }]
                })
            },
            actor,
        )
        .await
        .map(drop)
    }

    /// Reads `interaction`, applies `change` (`None`: nothing to do) and writes it with the
    /// events `change` returns, reading it again when another write got there first.
    async fn change_for_external_create(
        &self,
        tenant: TenantId,
        interaction: InteractionId,
        mut change: impl FnMut(&mut Interaction, chrono::DateTime<chrono::Utc>) -> Option<Vec<EventKind>>,
        actor: Option<&Actor>,
    ) -> Result<Option<Interaction>> {
        for _ in 0..CHANGE_ATTEMPTS {
            let Some(mut inter) = self.store.get_interaction(tenant, interaction).await? else {
                return Ok(None);
            };
            let version = inter.version();
            let now = self.clock.now();
            let Some(kinds) = change(&mut inter, now) else {
                return Ok(Some(inter));
            };
            let events: Vec<DomainEvent> = kinds
                .into_iter()
                .map(|kind| match actor {
                    Some(actor) => self.event(actor, kind),
                    None => DomainEvent {
                        id: next_id(&*self.ids),
                        tenant,
                        at: now,
                        actor: None,
                        kind,
                        audit: crate::audit::EventAudit::default(),
                    },
                })
                .collect();
            match self.store.update_interaction(&inter, version, &events).await {
                Ok(()) => return Ok(Some(inter)),
                Err(StoreError::Conflict(Conflict::StaleVersion { .. })) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::Conflict(Conflict::State(format!(
            "interaction {interaction} kept changing while an external record was linked to it; it will be tried again"
        ))))
    }
}

/// How many times an external create's link is written again over concurrent changes.
const CHANGE_ATTEMPTS: u32 = 5;

/// Who asked for the create keyed `key` (the link is theirs); `None` once it is no longer
/// pending.
fn requested_by(inter: &Interaction, key: &str) -> Option<crate::ids::AgentId> {
    inter.external_creates().iter().find(|p| p.key == key).map(|p| p.requested_by)
}

/// What became of a create in an external CRM asked for during an interaction (INT-7).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExternalCreation {
    /// The remote record exists and the interaction links it.
    Created {
        /// The remote record.
        reference: ExternalRef,
        /// The interaction, linked.
        interaction: Interaction,
    },
    /// The remote could not be reached, asked to wait, or answered unreadably: the create
    /// waits in the outbox and the external worker links it once it exists.
    Queued {
        /// The create's idempotency key.
        key: String,
        /// Why it is not done yet (the remote's explanation).
        reason: String,
        /// When it is tried again.
        retry_at: chrono::DateTime<chrono::Utc>,
        /// The interaction, listing the pending create.
        interaction: Interaction,
    },
}
