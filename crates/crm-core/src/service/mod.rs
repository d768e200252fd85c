//! Use cases: one method per feature on [`Crm`], each taking the [`Actor`] and enforcing
//! permissions, visibility and tenant isolation here, in the core, so every adapter and the
//! server get them for free.
//!
//! Rules every use case follows:
//! - Reads of another tenant's records, and of private cases the actor may not see, answer
//!   [`Error::NotFound`]: the actor cannot tell a hidden record from a missing one.
//! - A write sends the changed aggregate, its history and its events to one store method,
//!   which commits them in one transaction.
//! - Updates take the version the caller read; a stale one is an [`Error::Conflict`].

mod access_tokens;
mod admin;
mod alerts;
mod attachments;
mod audit;
mod case_lists;
mod cases;
mod connectors;
mod console;
mod custom_fields;
mod customers;
mod delivery;
mod external;
mod groups;
mod guidance;
mod imports;
mod inbound_mail;
mod installation;
mod interactions;
mod knowledge;
mod leads;
mod live;
mod live_alerts;
mod lookup;
mod mail;
mod mailbox;
mod merge;
mod messages;
#[cfg(test)]
mod mock_contacts;
#[cfg(test)]
mod mock_outbound;
#[cfg(test)]
mod mock_store;
mod organisations;
mod outbound;
mod public;
mod requests;
mod responses;
mod roles;
mod search;
mod sla;
mod sla_marks;
mod sla_report;
mod tasks;
mod tenant_settings;
mod tenants;
#[cfg(test)]
mod tests;
mod webhook_worker;
mod webhooks;
mod workers;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

pub use admin::{AgentPatch, CASE_COLUMNS, NewAgent, NewTenant, ProfilePatch};
pub use alerts::{ALERT_RULES_CACHE, VIP_FIELD};
pub use attachments::NewAttachment;
pub use audit::ChainReport;
pub use connectors::MAX_SEALED_CONNECTOR;
pub use delivery::{ConnectorDirectory, DeliveryReport, RetryPolicy};
pub use external::{ExternalCreation, ExternalLookup};
pub use groups::{GroupPatch, Membership};
pub use imports::CustomerImportCheck;
pub use inbound_mail::{AUTO_REPLIES_PER_SENDER, AUTO_REPLY_WINDOW_HOURS, MailSimulation, MailSimulationResult};
pub use live_alerts::{LIVE_ALERTS, LiveAlerts};
pub use lookup::{Agenda, MAX_LOOKUP_MATCHES};
pub use mail::{MAX_MAIL_LIST, MailSettings};
pub use mailbox::{MailboxPoll, MailboxPollError, MailboxSettings};
pub use merge::MergePreview;
pub use organisations::{MAX_ORGANISATION_MATCHES, OrganisationLookup};
pub use outbound::{ImportReport, ImportRow, MAX_IMPORT_ROWS, MAX_OUTBOUND_PAGE, RowError};
pub use roles::RoleRef;
pub use tenant_settings::TenantSettingsPatch;
pub use webhooks::{ReplayRequest, Replayed, Rotation, WebhookSettings};
pub use workers::{RoundReport, Worker, WorkerSettings};

use crate::access::{Actor, Tenant};
use crate::error::{Conflict, Error, Result};
use crate::event::{DomainEvent, EventKind};
use crate::ids::TenantId;
use crate::ports::Store;
use crate::time::{Clock, IdGenerator, next_id};

/// The application: the store, the clock and the id generator, and every use case.
#[derive(Debug, Clone)]
pub struct Crm {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    /// Tenants read, with when: kept [`TENANT_CACHE`] (a replica sees another's change of
    /// a tenant's settings within that).
    tenants: Arc<RwLock<HashMap<TenantId, CachedTenant>>>,
    case_restore_period: chrono::Duration,
    /// Where attachments' bytes live (CAS-6); none: attachments are unavailable.
    blobs: Option<Arc<dyn crate::ports::BlobStore>>,
    images: Option<Arc<dyn crate::ports::ImageShrinker>>,
    attachment_limits: crate::attachment::AttachmentLimits,
    /// The webhook transport and settings, when configured (EXT-3).
    webhooks: Option<webhooks::Webhooks>,
    /// Each tenant's compiled alert rules (`None`: it has none), with when they were read
    /// (GUI-2, `alerts.rs`).
    alert_rules_cache: Arc<RwLock<HashMap<TenantId, CachedAlertRules>>>,
    /// The search engine and its indexer's state, when configured (KNO-2, CUS-5).
    search: Option<search::SearchWiring>,
    /// The public self-service search's rate limit per client (KNO-1).
    public_limiter: Arc<crate::rate_limit::RateLimiter>,
    /// When a create in an external CRM that failed is tried again (INT-7).
    external_retry: RetryPolicy,
    /// How long the request asking for an external create keeps it from the worker while it
    /// makes the create itself.
    external_create_grace: chrono::Duration,
}

/// How long a request asking for an external create keeps it to itself, unless configured
/// otherwise (longer than a connector call with its own retries, so the worker seldom
/// repeats a create still under way; a repeat is harmless, the create being keyed).
pub const DEFAULT_EXTERNAL_CREATE_GRACE_SECONDS: i64 = 60;

/// The public search's burst per client, unless configured otherwise.
pub const DEFAULT_PUBLIC_BURST: u32 = 30;
/// The public search's sustained requests a minute per client, unless configured otherwise.
pub const DEFAULT_PUBLIC_PER_MINUTE: u32 = 60;

/// A tenant's compiled alert rules, with when they were read.
type CachedAlertRules = (Option<Arc<crate::alert::AlertRules>>, chrono::DateTime<chrono::Utc>);

/// How long a softly deleted case can be restored, unless configured otherwise.
pub const DEFAULT_CASE_RESTORE_DAYS: i64 = 30;

/// A tenant read, with when it was read.
type CachedTenant = (Tenant, chrono::DateTime<chrono::Utc>);

/// How long a tenant read stays cached.
const TENANT_CACHE: chrono::TimeDelta = chrono::TimeDelta::seconds(5);

impl Crm {
    /// Wires the use cases to their ports.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, ids: Arc<dyn IdGenerator>) -> Self {
        Self {
            store,
            clock,
            ids,
            tenants: Arc::default(),
            case_restore_period: chrono::Duration::days(DEFAULT_CASE_RESTORE_DAYS),
            blobs: None,
            images: None,
            attachment_limits: crate::attachment::AttachmentLimits::default(),
            webhooks: None,
            alert_rules_cache: Arc::default(),
            search: None,
            public_limiter: Arc::new(crate::rate_limit::RateLimiter::new(
                DEFAULT_PUBLIC_BURST,
                DEFAULT_PUBLIC_PER_MINUTE,
            )),
            external_retry: RetryPolicy::default(),
            external_create_grace: chrono::Duration::seconds(DEFAULT_EXTERNAL_CREATE_GRACE_SECONDS),
        }
    }

    /// The same use cases retrying a failed external create per `retry` (as the external
    /// worker retries pushes), the asking request keeping its create from the worker for
    /// `grace` (INT-7).
    #[must_use]
    pub fn with_external_retry(&self, retry: RetryPolicy, grace: std::time::Duration) -> Self {
        let grace = chrono::Duration::from_std(grace)
            .unwrap_or_else(|_| chrono::Duration::seconds(DEFAULT_EXTERNAL_CREATE_GRACE_SECONDS));
        Self { external_retry: retry, external_create_grace: grace, ..self.clone() }
    }

    /// The same use cases limiting each public search client to `burst` requests at once
    /// and `per_minute` a minute (KNO-1).
    #[must_use]
    pub fn with_public_rate_limit(&self, burst: u32, per_minute: u32) -> Self {
        Self { public_limiter: Arc::new(crate::rate_limit::RateLimiter::new(burst, per_minute)), ..self.clone() }
    }

    /// The same use cases restoring deleted cases for `period` after their deletion.
    #[must_use]
    pub fn with_case_restore_period(&self, period: chrono::Duration) -> Self {
        Self { case_restore_period: period, ..self.clone() }
    }

    /// How long after its (soft) deletion a case can be restored.
    pub fn case_restore_period(&self) -> chrono::Duration {
        self.case_restore_period
    }

    /// The same use cases drawing ids from `ids` (sharing the tenant cache). The server uses
    /// it to derive a create's ids from its idempotency key, so a retried create collides
    /// with the first one instead of creating twice.
    #[must_use]
    pub fn with_id_generator(&self, ids: Arc<dyn IdGenerator>) -> Self {
        Self { ids, ..self.clone() }
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The id generator.
    pub fn ids(&self) -> &Arc<dyn IdGenerator> {
        &self.ids
    }

    /// The actor's tenant (cached for [`TENANT_CACHE`]: tenants change rarely and the
    /// screen pop needs the region on every call).
    async fn tenant(&self, id: TenantId) -> Result<Tenant> {
        let now = self.clock.now();
        if let Some((t, _)) =
            self.tenants.read().ok().and_then(|m| m.get(&id).cloned()).filter(|(_, at)| now - *at < TENANT_CACHE)
        {
            return Ok(t);
        }
        let tenant = self.store.get_tenant(id).await?.ok_or_else(|| Error::not_found("tenant", id))?;
        if let Ok(mut m) = self.tenants.write() {
            m.insert(id, (tenant.clone(), now));
        }
        Ok(tenant)
    }

    /// Checks that `agent` is an agent of the actor's tenant; the error names `field`.
    async fn ensure_agent(&self, actor: &Actor, agent: crate::ids::AgentId, field: &str) -> Result<()> {
        match self.store.get_agent(actor.tenant, agent).await? {
            Some(_) => Ok(()),
            None => Err(Error::invalid(field, "is not an agent of this tenant")),
        }
    }

    /// A new event by `actor`.
    fn event(&self, actor: &Actor, kind: EventKind) -> DomainEvent {
        DomainEvent {
            id: next_id(&*self.ids),
            tenant: actor.tenant,
            at: self.clock.now(),
            actor: Some(actor.agent),
            kind,
            audit: crate::audit::EventAudit::new(crate::audit::AuditNote {
                context: actor.context.clone(),
                changes: Vec::new(),
            }),
        }
    }

    /// A new event by `actor` whose audit entry records the fields that differ between
    /// `before` and `after` (ADM-4).
    fn event_with_changes<T: serde::Serialize>(
        &self,
        actor: &Actor,
        kind: EventKind,
        before: Option<&T>,
        after: Option<&T>,
    ) -> DomainEvent {
        let mut event = self.event(actor, kind);
        event.audit = crate::audit::EventAudit::new(crate::audit::AuditNote {
            context: actor.context.clone(),
            changes: crate::audit::changes_between(before, after),
        });
        event
    }
}

impl Crm {
    /// A new event of the operator (a trusted caller acting as no agent: the command line,
    /// bootstraps, seeds), audited on channel `operator`, recording the fields that differ
    /// between `before` and `after`.
    fn operator_event<T: serde::Serialize>(
        &self,
        tenant: TenantId,
        kind: EventKind,
        before: Option<&T>,
        after: Option<&T>,
    ) -> DomainEvent {
        DomainEvent {
            id: next_id(&*self.ids),
            tenant,
            at: self.clock.now(),
            actor: None,
            kind,
            audit: crate::audit::EventAudit::new(crate::audit::AuditNote {
                context: crate::audit::RequestContext {
                    channel: crate::audit::Channel::Operator,
                    ..crate::audit::RequestContext::default()
                },
                changes: crate::audit::changes_between(before, after),
            }),
        }
    }

    /// The event of an administration write by `actor`, or by the operator when `None`
    /// (in `tenant`), with the changes between `before` and `after` (ADM-4).
    fn admin_event<T: serde::Serialize>(
        &self,
        tenant: TenantId,
        actor: Option<&Actor>,
        kind: EventKind,
        before: Option<&T>,
        after: Option<&T>,
    ) -> DomainEvent {
        match actor {
            Some(actor) => self.event_with_changes(actor, kind, before, after),
            None => self.operator_event(tenant, kind, before, after),
        }
    }
}

/// The names of the top-level fields that differ between `before` and `after` (as
/// [`crate::audit::changes_between`] finds them): an update event's `fields`.
fn changed_fields<T: serde::Serialize>(before: &T, after: &T) -> Vec<String> {
    crate::audit::changes_between(Some(before), Some(after)).into_iter().map(|c| c.field).collect()
}

/// The expected version that matches whatever version is stored: HTTP's `If-Match: *`
/// (RFC 9110 §13.1.1, "matches any current representation"). The change is then written
/// against the version read, so a concurrent change in between is still refused as stale.
pub const ANY_VERSION: u64 = u64::MAX;

/// Refuses early when the caller's version is already stale (the store checks again
/// atomically; this gives the same error without doing the work). Returns the version to
/// write against: `expected`, or the stored one for [`ANY_VERSION`].
fn check_version(entity: &'static str, id: impl std::fmt::Display, stored: u64, expected: u64) -> Result<u64> {
    if stored == expected || expected == ANY_VERSION {
        Ok(stored)
    } else {
        Err(Conflict::StaleVersion { entity, id: id.to_string(), expected }.into())
    }
}
