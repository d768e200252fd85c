//! Webhooks (EXT-3): the event catalogue, subscriptions, Standard Webhooks signatures,
//! deliveries with retries, a circuit breaker and dead letters, and the SSRF rules.
//!
//! How an event travels: a change writes its events to the outbox in its transaction; the
//! `webhook-fan-out` worker ([`crate::service::Crm::fan_out_webhooks`]) reads the outbox in
//! event order and writes one [`Delivery`] per subscription that wants the event (type
//! patterns, field filter), each carrying the exact body it will send; the
//! `webhook-deliveries` worker ([`crate::service::Crm::deliver_webhooks`]) claims due
//! deliveries, at most one per (subscription, aggregate) at a time and never one whose
//! earlier event for that aggregate is still pending, sends them concurrently through the
//! [`crate::ports::WebhookTransport`] port, and records each attempt, the deliveries' new
//! states and the endpoints' health in one write. ADR 0019 says why.

pub mod catalogue;
pub mod delivery;
pub mod sign;
pub mod subscription;
pub mod target;

pub use catalogue::{EVENT_TYPES, EventType, TEST_EVENT_TYPE, WebhookEvent};
pub use delivery::{AttemptOutcome, Delivery, DeliveryAttempt, DeliveryPolicy, DeliveryStatus, Replay, SendResult};
pub use subscription::{EndpointHealth, SigningSecret, Subscription, WebhookInput, WebhookView, WebhookWithSecret};
pub use target::TargetPolicy;
