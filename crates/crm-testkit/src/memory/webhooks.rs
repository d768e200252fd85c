//! `WebhookStore` in memory: subscriptions, the fan-out marks (a set of the events not yet
//! fanned out, in event order), deliveries with their leases, and the attempt log.

use std::collections::{BTreeSet, HashMap};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_core::error::{Conflict, StoreError};
use crm_core::event::DomainEvent;
use crm_core::ids::{DeliveryId, EventId, TenantId, WebhookId};
use crm_core::ports::{StoreResult, WebhookStore};
use crm_core::webhook::{Delivery, DeliveryAttempt, DeliveryStatus, EndpointHealth, Replay, Subscription};

use super::MemoryStore;

/// The webhook tables.
#[derive(Default)]
pub(crate) struct Webhooks {
    /// Events not yet fanned out, by (time, id).
    pub(crate) due: BTreeSet<(DateTime<Utc>, EventId)>,
    subscriptions: HashMap<WebhookId, Subscription>,
    deliveries: HashMap<DeliveryId, (Delivery, Option<DateTime<Utc>>)>,
    by_event: HashMap<(WebhookId, EventId), DeliveryId>,
    attempts: HashMap<DeliveryId, Vec<DeliveryAttempt>>,
}

fn key(d: &Delivery) -> (DateTime<Utc>, EventId) {
    (d.at, d.event)
}

#[async_trait]
impl WebhookStore for MemoryStore {
    async fn insert_webhook(&self, webhook: &Subscription) -> StoreResult<()> {
        let mut s = self.write()?;
        if s.webhooks.subscriptions.contains_key(&webhook.id) {
            return Err(StoreError::duplicate("id", webhook.id.to_string()));
        }
        s.webhooks.subscriptions.insert(webhook.id, webhook.clone());
        Ok(())
    }

    async fn update_webhook(&self, webhook: &Subscription, expected_version: u64) -> StoreResult<()> {
        let mut s = self.write()?;
        let Some(stored) = s.webhooks.subscriptions.get_mut(&webhook.id).filter(|w| w.tenant == webhook.tenant) else {
            return Err(StoreError::not_found("webhook", webhook.id));
        };
        if stored.version != expected_version {
            return Err(StoreError::stale("webhook", webhook.id, expected_version));
        }
        *stored = webhook.clone();
        Ok(())
    }

    async fn delete_webhook(&self, tenant: TenantId, id: WebhookId) -> StoreResult<()> {
        let mut s = self.write()?;
        if s.webhooks.subscriptions.get(&id).is_none_or(|w| w.tenant != tenant) {
            return Err(StoreError::not_found("webhook", id));
        }
        let w = &mut s.webhooks;
        w.subscriptions.remove(&id);
        let gone: Vec<DeliveryId> = w.deliveries.values().filter(|(d, _)| d.webhook == id).map(|(d, _)| d.id).collect();
        for d in gone {
            if let Some((d, _)) = w.deliveries.remove(&d) {
                w.by_event.remove(&(id, d.event));
            }
            w.attempts.remove(&d);
        }
        Ok(())
    }

    async fn get_webhook(&self, tenant: TenantId, id: WebhookId) -> StoreResult<Option<Subscription>> {
        Ok(self.read()?.webhooks.subscriptions.get(&id).filter(|w| w.tenant == tenant).cloned())
    }

    async fn webhooks_of(&self, tenant: TenantId) -> StoreResult<Vec<Subscription>> {
        let s = self.read()?;
        let mut found: Vec<Subscription> =
            s.webhooks.subscriptions.values().filter(|w| w.tenant == tenant).cloned().collect();
        found.sort_by_key(|w| (w.created_at, w.id));
        Ok(found)
    }

    async fn webhook_events_due(&self, limit: u32) -> StoreResult<Vec<DomainEvent>> {
        let s = self.read()?;
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        Ok(s.webhooks
            .due
            .iter()
            .filter_map(|(_, id)| s.outbox.get(id).map(|r| r.entry.event.clone()))
            .take(limit)
            .collect())
    }

    async fn fan_out(&self, handled: &[EventId], deliveries: &[Delivery]) -> StoreResult<()> {
        let mut s = self.write()?;
        for d in deliveries {
            if s.webhooks.by_event.contains_key(&(d.webhook, d.event))
                || !s.webhooks.subscriptions.contains_key(&d.webhook)
            {
                continue;
            }
            s.webhooks.by_event.insert((d.webhook, d.event), d.id);
            s.webhooks.deliveries.insert(d.id, (d.clone(), None));
        }
        for id in handled {
            if let Some(at) = s.outbox.get(id).map(|r| r.entry.event.at) {
                s.webhooks.due.remove(&(at, *id));
            }
        }
        Ok(())
    }

    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<(Delivery, Subscription)>> {
        let mut s = self.write()?;
        let w = &mut s.webhooks;
        // The first pending delivery of each (subscription, aggregate).
        let mut heads: HashMap<(WebhookId, &str), &(Delivery, Option<DateTime<Utc>>)> = HashMap::new();
        for row in w.deliveries.values().filter(|(d, _)| d.status == DeliveryStatus::Pending) {
            let slot = heads.entry((row.0.webhook, row.0.aggregate.as_str())).or_insert(row);
            if key(&row.0) < key(&slot.0) {
                *slot = row;
            }
        }
        let mut due: Vec<(Delivery, Subscription)> = heads
            .into_values()
            .filter(|(d, lease)| d.next_attempt_at <= now && lease.is_none_or(|l| l <= now))
            .filter_map(|(d, _)| {
                let sub = w.subscriptions.get(&d.webhook)?;
                let open = sub.health.breaker_until.is_some_and(|b| b > now);
                (sub.active() && !open).then(|| (d.clone(), sub.clone()))
            })
            .collect();
        due.sort_by_key(|(d, _)| key(d));
        due.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        for (d, _) in &due {
            if let Some(row) = w.deliveries.get_mut(&d.id) {
                row.1 = Some(lease_until);
            }
        }
        Ok(due)
    }

    async fn record_attempts(
        &self,
        results: &[(Delivery, DeliveryAttempt)],
        health: &[(TenantId, WebhookId, EndpointHealth)],
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let mut s = self.write()?;
        let staged = s.stage_events(events)?;
        for (d, attempt) in results {
            if let Some(row) = s.webhooks.deliveries.get_mut(&d.id) {
                *row = (d.clone(), None);
                s.webhooks.attempts.entry(d.id).or_default().push(attempt.clone());
            }
        }
        for (tenant, id, h) in health {
            if let Some(w) = s.webhooks.subscriptions.get_mut(id).filter(|w| w.tenant == *tenant) {
                w.health = h.clone();
            }
        }
        s.commit_events(staged);
        Ok(())
    }

    async fn deliveries_of(
        &self,
        tenant: TenantId,
        webhook: WebhookId,
        status: Option<DeliveryStatus>,
        before: Option<DateTime<Utc>>,
        limit: u32,
    ) -> StoreResult<Vec<Delivery>> {
        let s = self.read()?;
        let mut found: Vec<Delivery> = s
            .webhooks
            .deliveries
            .values()
            .map(|(d, _)| d)
            .filter(|d| d.tenant == tenant && d.webhook == webhook)
            .filter(|d| status.is_none_or(|st| d.status == st) && before.is_none_or(|b| d.at < b))
            .cloned()
            .collect();
        found.sort_by_key(|d| std::cmp::Reverse(key(d)));
        found.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(found)
    }

    async fn get_delivery(&self, tenant: TenantId, id: DeliveryId) -> StoreResult<Option<Delivery>> {
        Ok(self.read()?.webhooks.deliveries.get(&id).map(|(d, _)| d).filter(|d| d.tenant == tenant).cloned())
    }

    async fn attempts_of(&self, tenant: TenantId, delivery: DeliveryId) -> StoreResult<Vec<DeliveryAttempt>> {
        let s = self.read()?;
        if s.webhooks.deliveries.get(&delivery).is_none_or(|(d, _)| d.tenant != tenant) {
            return Ok(Vec::new());
        }
        Ok(s.webhooks.attempts.get(&delivery).cloned().unwrap_or_default())
    }

    async fn replay_deliveries(
        &self,
        tenant: TenantId,
        webhook: WebhookId,
        replay: &Replay,
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let mut s = self.write()?;
        if s.webhooks.subscriptions.get(&webhook).is_none_or(|w| w.tenant != tenant) {
            return Err(StoreError::not_found("webhook", webhook));
        }
        let mut n = 0;
        for (d, lease) in s.webhooks.deliveries.values_mut().filter(|(d, _)| d.webhook == webhook) {
            let chosen = match replay {
                Replay::Delivery(id) => d.id == *id,
                Replay::Range { from, to } => d.status == DeliveryStatus::Dead && d.at >= *from && d.at < *to,
                Replay::AllFailed => d.status == DeliveryStatus::Dead,
            };
            if chosen {
                d.status = DeliveryStatus::Pending;
                d.next_attempt_at = now;
                *lease = None;
                n += 1;
            }
        }
        if n == 0 && matches!(replay, Replay::Delivery(_)) {
            return Err(StoreError::Conflict(Conflict::State("no such delivery".into())));
        }
        Ok(n)
    }
}
