//! Webhook subscriptions (EXT-3): the catalogue, create (the secret shown once), list,
//! read, edit (If-Match), delete, secret rotation with an overlap, the "send test event"
//! call, the delivery log and the replay of dead letters. Everything here needs
//! `admin.connectors` (integrations); another tenant's subscription is not found.

use std::sync::Arc;
use std::time::Duration;

use chrono::SecondsFormat;
use serde::{Deserialize, Serialize};

use super::Crm;
use crate::access::{Actor, Permission};
use crate::error::{Conflict, Error, Result};
use crate::ids::{DeliveryId, EventId, WebhookId};
use crate::ports::WebhookTransport;
use crate::time::next_id;
use crate::webhook::delivery::{MAX_EXCERPT, bounded};
use crate::webhook::sign::signature_header;
use crate::webhook::subscription::{MAX_OVERLAP_HOURS, MAX_WEBHOOKS_PER_TENANT};
use crate::webhook::{
    AttemptOutcome, Delivery, DeliveryAttempt, DeliveryPolicy, DeliveryStatus, EndpointHealth, Replay, SigningSecret,
    Subscription, TEST_EVENT_TYPE, WebhookInput, WebhookView, WebhookWithSecret,
};

/// The webhook tunables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookSettings {
    /// Retries, breaker, disabling.
    pub policy: DeliveryPolicy,
    /// How often the workers look for work when idle.
    pub poll_interval: Duration,
    /// Outbox events fanned out per round.
    pub fan_out_batch: u32,
    /// Deliveries claimed per round.
    pub delivery_batch: u32,
    /// Requests in flight at once in a round.
    pub concurrency: usize,
    /// How long a claimed delivery is leased (longer than the transport's timeout).
    pub lease: Duration,
    /// The rotation overlap when the caller gives none.
    pub default_overlap: Duration,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            policy: DeliveryPolicy::default(),
            poll_interval: Duration::from_millis(100),
            fan_out_batch: 500,
            delivery_batch: 500,
            concurrency: 64,
            lease: Duration::from_secs(60),
            default_overlap: Duration::from_secs(24 * 3_600),
        }
    }
}

/// The webhook side of the application: the transport, the settings and the delivery
/// worker's line of sends in flight (shared by the clones of the application).
#[derive(Clone, Debug)]
pub(crate) struct Webhooks {
    pub(crate) transport: Arc<dyn WebhookTransport>,
    pub(crate) settings: WebhookSettings,
    pub(crate) line: Arc<futures::lock::Mutex<super::webhook_worker::SendLine>>,
}

/// A secret rotation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Rotation {
    /// How long the current secret keeps signing next to the new one, in hours (0..=168;
    /// default 24).
    #[serde(default)]
    pub overlap_hours: Option<u32>,
}

/// Which dead letters to replay: exactly one of `delivery`, `from` with `to`, or
/// `all_failed: true`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReplayRequest {
    /// One delivery, whatever its state (a delivered one is sent again).
    #[serde(default)]
    pub delivery: Option<DeliveryId>,
    /// The dead deliveries of events from this instant (with `to`).
    #[serde(default)]
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    /// … to this one (exclusive).
    #[serde(default)]
    pub to: Option<chrono::DateTime<chrono::Utc>>,
    /// Every dead delivery.
    #[serde(default)]
    pub all_failed: Option<bool>,
}

impl ReplayRequest {
    /// The selection.
    ///
    /// # Errors
    /// None or several selections; a range without an end or ending before it starts.
    pub fn selection(&self) -> Result<Replay> {
        match (self.delivery, self.from, self.to, self.all_failed.unwrap_or(false)) {
            (Some(d), None, None, false) => Ok(Replay::Delivery(d)),
            (None, Some(from), Some(to), false) if from < to => Ok(Replay::Range { from, to }),
            (None, Some(_), Some(_), false) => Err(Error::invalid("to", "must be after `from`")),
            (None, Some(_), None, false) => Err(Error::invalid("to", "is required with `from`")),
            (None, None, Some(_), false) => Err(Error::invalid("from", "is required with `to`")),
            (None, None, None, true) => Ok(Replay::AllFailed),
            (None, None, None, false) => {
                Err(Error::invalid("delivery", "name a delivery, a range (`from`, `to`) or `all_failed: true`"))
            }
            _ => Err(Error::invalid("delivery", "give only one of a delivery, a range or `all_failed`")),
        }
    }
}

/// How many deliveries a replay put back in the queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Replayed {
    /// Deliveries queued again.
    pub replayed: u64,
}

/// The webhook headers of a body: `webhook-id`, `webhook-timestamp`, `webhook-signature`.
pub(crate) fn headers(secrets: &[&str], id: &str, timestamp: i64, body: &str) -> Vec<(&'static str, String)> {
    vec![
        ("webhook-id", id.to_owned()),
        ("webhook-timestamp", timestamp.to_string()),
        ("webhook-signature", signature_header(secrets.iter().copied(), id, timestamp, body)),
        ("content-type", "application/json".to_owned()),
    ]
}

impl Crm {
    /// The same use cases with webhooks delivered through `transport` (without it,
    /// subscriptions cannot be written and no webhook worker runs).
    #[must_use]
    pub fn with_webhooks(&self, transport: Arc<dyn WebhookTransport>, settings: WebhookSettings) -> Self {
        let line = Arc::default();
        Self { webhooks: Some(Webhooks { transport, settings, line }), ..self.clone() }
    }

    fn webhooks(&self) -> Result<&Webhooks> {
        self.webhooks.as_ref().ok_or_else(|| Error::Conflict(Conflict::State("webhooks are not configured".into())))
    }

    async fn own_webhook(&self, actor: &Actor, id: WebhookId) -> Result<Subscription> {
        actor.require(Permission::AdminConnectors)?;
        self.store.get_webhook(actor.tenant, id).await?.ok_or_else(|| Error::not_found("webhook", id))
    }

    async fn checked(&self, input: &WebhookInput) -> Result<()> {
        let hooks = self.webhooks()?;
        input.validate(&hooks.transport.policy())?;
        hooks.transport.check_target(input.url.trim()).await.map_err(|reason| Error::invalid("url", reason))
    }

    /// Creates a subscription; the answer carries its secret, shown only here.
    ///
    /// # Errors
    /// Forbidden; validation (naming the field: `url`, `event_types[i]`, `filter…`);
    /// a conflict past [`MAX_WEBHOOKS_PER_TENANT`].
    pub async fn create_webhook(&self, actor: &Actor, input: WebhookInput) -> Result<WebhookWithSecret> {
        actor.require(Permission::AdminConnectors)?;
        self.checked(&input).await?;
        if self.store.webhooks_of(actor.tenant).await?.len() >= MAX_WEBHOOKS_PER_TENANT {
            return Err(Error::Conflict(Conflict::State(format!(
                "a tenant has at most {MAX_WEBHOOKS_PER_TENANT} webhook subscriptions"
            ))));
        }
        let now = self.clock.now();
        let secret = self.webhooks()?.transport.new_secret();
        let webhook = Subscription {
            id: next_id(&*self.ids),
            tenant: actor.tenant,
            url: input.url.trim().to_owned(),
            description: input.description,
            event_types: input.event_types,
            filter: input.filter,
            enabled: input.enabled,
            secrets: vec![SigningSecret { secret: secret.clone(), expires_at: None }],
            version: 1,
            created_at: now,
            updated_at: now,
            health: EndpointHealth::default(),
        };
        self.store.insert_webhook(&webhook).await?;
        Ok(WebhookWithSecret { webhook: webhook.view(now), secret })
    }

    /// The tenant's subscriptions, oldest first.
    ///
    /// # Errors
    /// Forbidden; store failures.
    pub async fn list_webhooks(&self, actor: &Actor) -> Result<Vec<WebhookView>> {
        actor.require(Permission::AdminConnectors)?;
        let now = self.clock.now();
        Ok(self.store.webhooks_of(actor.tenant).await?.iter().map(|w| w.view(now)).collect())
    }

    /// One subscription.
    ///
    /// # Errors
    /// Forbidden; not found.
    pub async fn get_webhook(&self, actor: &Actor, id: WebhookId) -> Result<WebhookView> {
        Ok(self.own_webhook(actor, id).await?.view(self.clock.now()))
    }

    /// Replaces a subscription's settings (the secrets stay); enabling a disabled one
    /// resets its health.
    ///
    /// # Errors
    /// Forbidden; not found; validation; a stale `expected_version`.
    pub async fn update_webhook(
        &self,
        actor: &Actor,
        id: WebhookId,
        expected_version: u64,
        input: WebhookInput,
    ) -> Result<WebhookView> {
        let mut webhook = self.own_webhook(actor, id).await?;
        self.checked(&input).await?;
        if webhook.version != expected_version {
            return Err(Error::Conflict(Conflict::StaleVersion {
                entity: "webhook",
                id: id.to_string(),
                expected: expected_version,
            }));
        }
        let now = self.clock.now();
        webhook.apply(input, now);
        self.store.update_webhook(&webhook, expected_version).await?;
        Ok(webhook.view(now))
    }

    /// Deletes a subscription and its delivery log.
    ///
    /// # Errors
    /// Forbidden; not found.
    pub async fn delete_webhook(&self, actor: &Actor, id: WebhookId) -> Result<()> {
        actor.require(Permission::AdminConnectors)?;
        Ok(self.store.delete_webhook(actor.tenant, id).await?)
    }

    /// Makes a new signing secret (shown once); the current one keeps signing for the
    /// overlap.
    ///
    /// # Errors
    /// Forbidden; not found; an overlap over [`MAX_OVERLAP_HOURS`]; a concurrent edit.
    pub async fn rotate_webhook_secret(
        &self,
        actor: &Actor,
        id: WebhookId,
        rotation: Rotation,
    ) -> Result<WebhookWithSecret> {
        let mut webhook = self.own_webhook(actor, id).await?;
        let hooks = self.webhooks()?;
        let overlap = match rotation.overlap_hours {
            Some(h) if i64::from(h) > MAX_OVERLAP_HOURS => {
                return Err(Error::invalid("overlap_hours", format!("is more than {MAX_OVERLAP_HOURS}")));
            }
            Some(h) => chrono::Duration::hours(i64::from(h)),
            None => crate::time::span(hooks.settings.default_overlap),
        };
        let now = self.clock.now();
        let secret = hooks.transport.new_secret();
        let version = webhook.version;
        webhook.rotate(secret.clone(), now, overlap);
        webhook.version += 1;
        self.store.update_webhook(&webhook, version).await?;
        Ok(WebhookWithSecret { webhook: webhook.view(now), secret })
    }

    /// Sends a `webhook.test` event to the subscription now, signed as any delivery, and
    /// reports the attempt (not kept in the log, not retried).
    ///
    /// # Errors
    /// Forbidden; not found; webhooks not configured.
    pub async fn test_webhook(&self, actor: &Actor, id: WebhookId) -> Result<DeliveryAttempt> {
        let webhook = self.own_webhook(actor, id).await?;
        let hooks = self.webhooks()?;
        let now = self.clock.now();
        let event: EventId = next_id(&*self.ids);
        let body = serde_json::json!({
            "type": TEST_EVENT_TYPE,
            "version": crate::webhook::catalogue::EVENT_VERSION,
            "id": event,
            "timestamp": now.to_rfc3339_opts(SecondsFormat::Micros, true),
            "tenant": actor.tenant,
            "actor": actor.agent,
            "data": {"webhook": webhook.id},
        })
        .to_string();
        let headers = headers(&webhook.signing_secrets(now), &event.to_string(), now.timestamp(), &body);
        let sent = hooks.transport.send(&webhook.url, &headers, &body).await;
        Ok(DeliveryAttempt {
            delivery: DeliveryId::from_uuid(event.as_uuid()),
            number: 1,
            at: now,
            outcome: sent.outcome,
            status: sent.status,
            latency_ms: u64::try_from(sent.latency.as_millis()).unwrap_or(u64::MAX),
            excerpt: bounded(&sent.excerpt, MAX_EXCERPT),
        })
    }

    /// A subscription's deliveries, newest event first.
    ///
    /// # Errors
    /// Forbidden; not found; a limit outside 1..=200.
    pub async fn webhook_deliveries(
        &self,
        actor: &Actor,
        id: WebhookId,
        status: Option<DeliveryStatus>,
        before: Option<chrono::DateTime<chrono::Utc>>,
        limit: Option<u32>,
    ) -> Result<Vec<Delivery>> {
        self.own_webhook(actor, id).await?;
        let limit = limit.unwrap_or(50);
        if !(1..=200).contains(&limit) {
            return Err(Error::invalid("limit", "must be between 1 and 200"));
        }
        Ok(self.store.deliveries_of(actor.tenant, id, status, before, limit).await?)
    }

    /// A delivery's attempts (the delivery log), first first.
    ///
    /// # Errors
    /// Forbidden; not found.
    pub async fn delivery_attempts(&self, actor: &Actor, id: DeliveryId) -> Result<Vec<DeliveryAttempt>> {
        actor.require(Permission::AdminConnectors)?;
        if self.store.get_delivery(actor.tenant, id).await?.is_none() {
            return Err(Error::not_found("delivery", id));
        }
        Ok(self.store.attempts_of(actor.tenant, id).await?)
    }

    /// Queues dead letters again: one delivery (whatever its state), the dead ones of a
    /// time range, or all dead ones.
    ///
    /// # Errors
    /// Forbidden; not found (the subscription, or the one delivery); an empty range.
    pub async fn replay_webhook(&self, actor: &Actor, id: WebhookId, request: ReplayRequest) -> Result<Replayed> {
        self.own_webhook(actor, id).await?;
        let replay = request.selection()?;
        match &replay {
            Replay::Delivery(d) => {
                if self.store.get_delivery(actor.tenant, *d).await?.is_none_or(|found| found.webhook != id) {
                    return Err(Error::not_found("delivery", d));
                }
            }
            Replay::Range { .. } | Replay::AllFailed => {}
        }
        let replayed = self.store.replay_deliveries(actor.tenant, id, &replay, self.clock.now()).await?;
        Ok(Replayed { replayed })
    }
}

impl AttemptOutcome {
    /// Whether the attempt delivered.
    pub const fn delivered(self) -> bool {
        matches!(self, Self::Delivered)
    }
}
