//! The two webhook workers' rounds (EXT-3, ADR 0019): the fan-out of outbox events into
//! deliveries, and the delivery of due ones through the transport.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use futures::StreamExt;
use futures::future::BoxFuture;

use super::Crm;
use super::workers::RoundReport;
use crate::error::Result;
use crate::event::{DomainEvent, EventKind};
use crate::ids::{EventId, TenantId, WebhookId};
use crate::rules::Filter;
use crate::time::{next_id, span};
use crate::webhook::catalogue::aggregate_of;
use crate::webhook::delivery::{MAX_EXCERPT, bounded};
use crate::webhook::subscription::{filter_schema, pattern_matches};
use crate::webhook::{
    AttemptOutcome, Delivery, DeliveryAttempt, DeliveryPolicy, DeliveryStatus, EndpointHealth, SendResult,
    Subscription, WebhookEvent,
};

/// A subscription with its filter compiled once per round.
struct Target {
    webhook: Subscription,
    filter: Option<Filter>,
}

impl Target {
    fn wants(&self, event: &WebhookEvent) -> bool {
        self.webhook.event_types.iter().any(|p| pattern_matches(p, &event.event_type))
            && self.filter.as_ref().is_none_or(|f| f.matches(&crate::webhook::subscription::EventFields::of(event)))
    }
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl Crm {
    /// One fan-out round: up to the batch of outbox events not yet fanned out, in event
    /// order, each turned into one pending delivery per active subscription of its tenant
    /// that wants it, written with the events' marks in one store write. Without webhooks
    /// configured, nothing.
    ///
    /// # Errors
    /// Store failures (the events then come back in the next round).
    pub async fn fan_out_webhooks(&self) -> Result<RoundReport> {
        let Some(hooks) = &self.webhooks else { return Ok(RoundReport::default()) };
        let batch = hooks.settings.fan_out_batch;
        let events = self.store.webhook_events_due(batch).await?;
        if events.is_empty() {
            return Ok(RoundReport::default());
        }
        let mut targets: HashMap<TenantId, Vec<Target>> = HashMap::new();
        let mut deliveries = Vec::new();
        for event in &events {
            let Some(envelope) = WebhookEvent::of(event) else { continue };
            if let Entry::Vacant(slot) = targets.entry(event.tenant) {
                let found = self.store.webhooks_of(event.tenant).await?;
                let active = found
                    .into_iter()
                    .filter(Subscription::active)
                    .map(|webhook| {
                        let filter = webhook.filter.as_ref().and_then(|c| c.compile(&filter_schema()).ok());
                        Target { webhook, filter }
                    })
                    .collect();
                slot.insert(active);
            }
            let wanting: Vec<&Target> = targets
                .get(&event.tenant)
                .map(|t| t.iter().filter(|t| t.wants(&envelope)).collect())
                .unwrap_or_default();
            if wanting.is_empty() {
                continue;
            }
            let body = envelope.body();
            let aggregate = aggregate_of(&event.kind);
            for t in wanting {
                deliveries.push(Delivery {
                    id: next_id(&*self.ids),
                    tenant: event.tenant,
                    webhook: t.webhook.id,
                    event: event.id,
                    event_type: envelope.event_type.clone(),
                    aggregate: aggregate.clone(),
                    at: event.at,
                    status: DeliveryStatus::Pending,
                    attempts: 0,
                    next_attempt_at: event.at,
                    last_error: None,
                    payload: body.clone(),
                });
            }
        }
        let handled: Vec<EventId> = events.iter().map(|e| e.id).collect();
        self.store.fan_out(&handled, &deliveries).await?;
        let n = count(events.len());
        Ok(RoundReport { claimed: n, done: count(deliveries.len()), more: n >= batch, ..RoundReport::default() })
    }

    /// One delivery round: claims due deliveries (the first pending one of each aggregate
    /// per subscription, breakers closed), sends them concurrently, signed with every
    /// secret signing now, and records in one store write each attempt, each delivery's
    /// new state (delivered; or retried with backoff; or dead past the give-up horizon),
    /// each endpoint's health, and a `webhook_disabled` event for each subscription failing
    /// longer than the configured period.
    ///
    /// # Errors
    /// Store failures (the claimed deliveries then come back when their lease ends, and
    /// are sent again: at least once, with the same `webhook-id`).
    pub async fn deliver_webhooks(&self) -> Result<RoundReport> {
        let Some(hooks) = &self.webhooks else { return Ok(RoundReport::default()) };
        let s = &hooks.settings;
        let now = self.clock.now();
        let claimed = self.store.claim_deliveries(now, now + span(s.lease), s.delivery_batch).await?;
        if claimed.is_empty() {
            return Ok(RoundReport::default());
        }
        let transport = &hooks.transport;
        let sends: Vec<BoxFuture<'_, SendResult>> = claimed
            .iter()
            .map(|(d, w)| -> BoxFuture<'_, SendResult> {
                let id = d.event.to_string();
                let headers = super::webhooks::headers(&w.signing_secrets(now), &id, now.timestamp(), &d.payload);
                Box::pin(async move { transport.send(&w.url, &headers, &d.payload).await })
            })
            .collect();
        let sent: Vec<SendResult> = futures::stream::iter(sends).buffered(s.concurrency.max(1)).collect().await;

        let mut health: HashMap<WebhookId, (TenantId, EndpointHealth)> = HashMap::new();
        let mut results = Vec::with_capacity(claimed.len());
        let mut disabled = Vec::new();
        let mut report = RoundReport { claimed: count(claimed.len()), ..RoundReport::default() };
        for ((delivery, webhook), result) in claimed.into_iter().zip(sent) {
            let mut delivery = delivery;
            let ok = result.outcome.delivered();
            if ok {
                DeliveryPolicy::succeed(&mut delivery);
                report.done += 1;
            } else {
                let reason = match result.status {
                    Some(status) => format!("{status}: {}", bounded(&result.excerpt, 200)),
                    None => bounded(&result.excerpt, 200),
                };
                s.policy.fail(&mut delivery, now, reason);
                if delivery.status == DeliveryStatus::Dead {
                    report.dead += 1;
                } else {
                    report.retried += 1;
                }
            }
            let entry = health.entry(webhook.id).or_insert_with(|| (webhook.tenant, webhook.health.clone()));
            if s.policy.observe(&mut entry.1, ok, now) {
                let failing_since = entry.1.failing_since.unwrap_or(now);
                disabled.push(DomainEvent {
                    id: next_id(&*self.ids),
                    tenant: webhook.tenant,
                    at: now,
                    actor: None,
                    kind: EventKind::WebhookDisabled { webhook: webhook.id, failing_since },
                    audit: Default::default(),
                });
            }
            let attempt = DeliveryAttempt {
                delivery: delivery.id,
                number: delivery.attempts,
                at: now,
                outcome: result.outcome,
                status: result.status,
                latency_ms: u64::try_from(result.latency.as_millis()).unwrap_or(u64::MAX),
                excerpt: bounded(&result.excerpt, MAX_EXCERPT),
            };
            results.push((delivery, attempt));
        }
        let health: Vec<_> = health.into_iter().map(|(id, (tenant, h))| (tenant, id, h)).collect();
        self.store.record_attempts(&results, &health, &disabled).await?;
        report.more = report.claimed >= s.delivery_batch;
        if report.retried + report.dead > 0 && report.done == 0 {
            report.failure = results.iter().find_map(|(d, _)| d.last_error.clone());
        }
        Ok(report)
    }
}

impl AttemptOutcome {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Delivered => "delivered",
            Self::Rejected => "rejected",
            Self::Timeout => "timeout",
            Self::Failed => "failed",
        }
    }
}
