//! [`WebhookStore`]: subscriptions, the fan-out of outbox events into deliveries, the
//! claim of due deliveries in per-aggregate order, the delivery log and dead letters
//! (EXT-3); [`WebhookTransport`]: the HTTP side (I/O), implemented by the server.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::store::StoreResult;
use crate::event::DomainEvent;
use crate::ids::{DeliveryId, EventId, TenantId, WebhookId};
use crate::webhook::{
    Delivery, DeliveryAttempt, DeliveryStatus, EndpointHealth, Replay, SendResult, Subscription, TargetPolicy,
};

/// The webhook subscriptions and their deliveries.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait WebhookStore: Send + Sync {
    /// Stores a new subscription (its health included).
    ///
    /// # Errors
    /// `Conflict(Duplicate)` for a used id.
    async fn insert_webhook(&self, webhook: &Subscription) -> StoreResult<()>;

    /// Replaces the subscription (document, enabled flag and health) if its stored version
    /// is `expected_version`.
    ///
    /// # Errors
    /// `NotFound` (also for another tenant's); `Conflict(StaleVersion)`.
    async fn update_webhook(&self, webhook: &Subscription, expected_version: u64) -> StoreResult<()>;

    /// Deletes the subscription with its deliveries and their attempts.
    ///
    /// # Errors
    /// `NotFound` (also for another tenant's).
    async fn delete_webhook(&self, tenant: TenantId, id: WebhookId) -> StoreResult<()>;

    /// One subscription of `tenant`.
    async fn get_webhook(&self, tenant: TenantId, id: WebhookId) -> StoreResult<Option<Subscription>>;

    /// Every subscription of `tenant`, oldest first.
    async fn webhooks_of(&self, tenant: TenantId) -> StoreResult<Vec<Subscription>>;

    /// Up to `limit` outbox events, across tenants, not yet fanned out to webhooks, in
    /// event order (time, then id). Every event written to the outbox MUST come here once
    /// (until [`WebhookStore::fan_out`] marks it).
    async fn webhook_events_due(&self, limit: u32) -> StoreResult<Vec<DomainEvent>>;

    /// In one transaction: stores `deliveries` (one already stored for the same subscription
    /// and event is skipped: fanning out twice delivers once) and marks the `handled`
    /// events fanned out.
    async fn fan_out(&self, handled: &[EventId], deliveries: &[Delivery]) -> StoreResult<()>;

    /// Claims up to `limit` pending deliveries due at `now`, leased until `lease_until`,
    /// each with its subscription, oldest event first; only of active subscriptions whose
    /// breaker is closed at `now`, and only the first pending delivery (by event time, then
    /// event id) of each (subscription, aggregate): a later event of an aggregate is never
    /// claimed while an earlier one waits or is leased.
    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<(Delivery, Subscription)>>;

    /// In one transaction: appends the attempts to the log, stores the deliveries' new
    /// state (releasing their lease), the subscriptions' new health (left alone if the
    /// subscription is gone) and `events` in the outbox.
    async fn record_attempts(
        &self,
        results: &[(Delivery, DeliveryAttempt)],
        health: &[(TenantId, WebhookId, EndpointHealth)],
        events: &[DomainEvent],
    ) -> StoreResult<()>;

    /// Up to `limit` deliveries of a subscription, newest event first, with `status` if
    /// given, of events before `before` if given.
    async fn deliveries_of(
        &self,
        tenant: TenantId,
        webhook: WebhookId,
        status: Option<DeliveryStatus>,
        before: Option<DateTime<Utc>>,
        limit: u32,
    ) -> StoreResult<Vec<Delivery>>;

    /// One delivery of `tenant`.
    async fn get_delivery(&self, tenant: TenantId, id: DeliveryId) -> StoreResult<Option<Delivery>>;

    /// The attempts of a delivery of `tenant`, first first.
    async fn attempts_of(&self, tenant: TenantId, delivery: DeliveryId) -> StoreResult<Vec<DeliveryAttempt>>;

    /// Puts the selected deliveries of the subscription back to pending, due at `now`:
    /// one delivery whatever its state, or the dead ones (of a time range, or all); returns
    /// how many.
    async fn replay_deliveries(
        &self,
        tenant: TenantId,
        webhook: WebhookId,
        replay: &Replay,
        now: DateTime<Utc>,
    ) -> StoreResult<u64>;
}

/// The HTTP side of webhooks: checks targets (resolving names), sends signed requests with
/// bounded time and response size and without following redirects, makes secrets.
#[async_trait]
pub trait WebhookTransport: Send + Sync + std::fmt::Debug {
    /// Which non-public targets the configuration allows.
    fn policy(&self) -> TargetPolicy;

    /// Checks that `url`'s host resolves only to allowed addresses.
    ///
    /// # Errors
    /// Why not, for the `url` field.
    async fn check_target(&self, url: &str) -> Result<(), String>;

    /// Posts `body` with `headers` to `url` (connecting only to a checked address).
    async fn send(&self, url: &str, headers: &[(&'static str, String)], body: &str) -> SendResult;

    /// A new signing secret (`whsec_` + base64 of random bytes).
    fn new_secret(&self) -> String;
}
