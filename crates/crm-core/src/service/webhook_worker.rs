//! The two webhook workers' rounds (EXT-3, ADR 0019): the fan-out of outbox events into
//! deliveries, and the delivery of due ones through the transport.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use futures::{FutureExt, StreamExt};

use super::Crm;
use super::workers::RoundReport;
use crate::error::Result;
use crate::event::{DomainEvent, EventKind};
use crate::ids::{EventId, TenantId, WebhookId};
use crate::ports::WebhookTransport;
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

    /// One delivery round, a pipeline: claims due deliveries (the first pending one of each
    /// aggregate per subscription, breakers closed) into the free places of the line of
    /// sends in flight (at most `concurrency`), signs each with every secret signing now
    /// and starts it, and records what came back — each attempt, each delivery's new state
    /// (delivered; or retried with backoff; or dead past the give-up horizon), each
    /// endpoint's health, and a `webhook_disabled` event for each subscription failing
    /// longer than the configured period — in one store write per group of answers, then
    /// claims again. Sends still out when the round ends stay in the line for the next
    /// round: a round never waits for its slowest request. It ends when nothing more is due
    /// and the line has room (then the next round comes after the idle interval), or after
    /// `delivery_batch` claims (`more`: the next round comes at once).
    ///
    /// # Errors
    /// Store failures (the claimed deliveries then come back when their lease ends, and
    /// are sent again: at least once, with the same `webhook-id`).
    pub async fn deliver_webhooks(&self) -> Result<RoundReport> {
        let Some(hooks) = &self.webhooks else { return Ok(RoundReport::default()) };
        let s = &hooks.settings;
        let concurrency = s.concurrency.max(1);
        // From a full line, answers are awaited in groups: one write and one claim per
        // group, not per answer.
        let group = (concurrency / 4).max(1);
        let budget = s.delivery_batch.max(1);
        let mut line = hooks.line.lock().await;
        let mut report = RoundReport::default();
        // Whether the last claim found fewer due deliveries than it had room for.
        let mut dry = false;
        loop {
            let mut back = line.ready();
            if line.sends.len() >= concurrency {
                while back.len() < group {
                    match line.sends.next().await {
                        Some(sent) => back.push(sent),
                        None => break,
                    }
                }
                back.extend(line.ready());
            }
            if !back.is_empty() {
                self.record_sent(s, &mut line, back, &mut report).await?;
                // A delivery recorded may have been its aggregate's head: the next is due.
                dry = false;
            }
            if report.claimed >= budget {
                report.more = true;
                break;
            }
            let room = concurrency.saturating_sub(line.sends.len());
            if room > 0 && !dry {
                let now = self.clock.now();
                let claimed = self.store.claim_deliveries(now, now + span(s.lease), count(room)).await?;
                dry = claimed.len() < room;
                report.claimed += count(claimed.len());
                for (delivery, webhook) in claimed {
                    line.health.insert(webhook.id, (webhook.tenant, webhook.health.clone()));
                    line.sends.push(start_send(&hooks.transport, delivery, &webhook, now));
                }
                continue;
            }
            // Nothing more is due now and the line has room: the sends out come back in a
            // later round.
            break;
        }
        if report.done > 0 {
            // Some went through: the failures were the endpoints', not the round's.
            report.failure = None;
        }
        Ok(report)
    }

    /// Records the answers `back` with the deliveries' new state, the endpoints' health
    /// (kept in the line for the answers still out) and the disabling events.
    async fn record_sent(
        &self,
        s: &super::WebhookSettings,
        line: &mut SendLine,
        back: Vec<Sent>,
        report: &mut RoundReport,
    ) -> Result<()> {
        let now = self.clock.now();
        let mut touched: Vec<WebhookId> = Vec::new();
        let mut results = Vec::with_capacity(back.len());
        let mut disabled = Vec::new();
        let mut failure = None;
        let mut done = 0;
        for sent in back {
            let Sent { mut delivery, webhook, tenant, health, at, result } = sent;
            let ok = result.outcome.delivered();
            if ok {
                DeliveryPolicy::succeed(&mut delivery);
                done += 1;
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
                failure = failure.or_else(|| delivery.last_error.clone());
            }
            let entry = line.health.entry(webhook).or_insert((tenant, health));
            if !touched.contains(&webhook) {
                touched.push(webhook);
            }
            if s.policy.observe(&mut entry.1, ok, now) {
                let failing_since = entry.1.failing_since.unwrap_or(now);
                disabled.push(DomainEvent {
                    id: next_id(&*self.ids),
                    tenant,
                    at: now,
                    actor: None,
                    kind: EventKind::WebhookDisabled { webhook, failing_since },
                    audit: Default::default(),
                });
            }
            let attempt = DeliveryAttempt {
                delivery: delivery.id,
                number: delivery.attempts,
                at,
                outcome: result.outcome,
                status: result.status,
                latency_ms: u64::try_from(result.latency.as_millis()).unwrap_or(u64::MAX),
                excerpt: bounded(&result.excerpt, MAX_EXCERPT),
            };
            results.push((delivery, attempt));
        }
        let health: Vec<_> =
            touched.iter().filter_map(|id| line.health.get(id).map(|(tenant, h)| (*tenant, *id, h.clone()))).collect();
        self.store.record_attempts(&results, &health, &disabled).await?;
        report.done += done;
        if report.failure.is_none() {
            report.failure = failure;
        }
        if line.sends.is_empty() {
            // Nothing out: the next claim reads the health afresh.
            line.health.clear();
        }
        Ok(())
    }
}

/// One send of the line: the delivery as claimed, its subscription (id, tenant and health
/// when claimed), when it started and what the transport answered.
struct Sent {
    delivery: Delivery,
    webhook: WebhookId,
    tenant: TenantId,
    health: EndpointHealth,
    at: DateTime<Utc>,
    result: SendResult,
}

/// Signs `delivery` for `webhook` at `now` and starts sending it.
fn start_send(
    transport: &Arc<dyn WebhookTransport>,
    delivery: Delivery,
    webhook: &Subscription,
    now: DateTime<Utc>,
) -> BoxFuture<'static, Sent> {
    let id = delivery.event.to_string();
    let headers = super::webhooks::headers(&webhook.signing_secrets(now), &id, now.timestamp(), &delivery.payload);
    let transport = Arc::clone(transport);
    let (url, id, tenant, health) = (webhook.url.clone(), webhook.id, webhook.tenant, webhook.health.clone());
    Box::pin(async move {
        let result = transport.send(&url, &headers, &delivery.payload).await;
        Sent { delivery, webhook: id, tenant, health, at: now, result }
    })
}

/// The delivery worker's sends in flight, carried from one round to the next, and the
/// health of their endpoints as last claimed or recorded (each answer moves it on, in the
/// order the answers come back).
#[derive(Default)]
pub(crate) struct SendLine {
    sends: FuturesUnordered<BoxFuture<'static, Sent>>,
    health: HashMap<WebhookId, (TenantId, EndpointHealth)>,
}

impl SendLine {
    /// The sends back by now, without waiting.
    fn ready(&mut self) -> Vec<Sent> {
        let mut back = Vec::new();
        while let Some(Some(sent)) = self.sends.next().now_or_never() {
            back.push(sent);
        }
        back
    }
}

impl std::fmt::Debug for SendLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendLine").field("in_flight", &self.sends.len()).finish_non_exhaustive()
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
