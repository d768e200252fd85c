//! The application's background work as workers: each is one round of a queue (claim
//! what is due, handle it, record the outcome), driven by the clock; the program that runs
//! the application only schedules rounds ([`Worker::idle_interval`] after an idle one, at
//! once after a busy one) and logs their reports.
//!
//! Every queue follows this one pattern: rows written in the transaction of the change,
//! claimed with a lease, retried with backoff, dead-lettered with a reason, requeued by a
//! person. The workers of today:
//! - `notifications`: the outbox's notifications to the agents' live feed
//!   ([`Crm::deliver_notifications`]);
//! - `reminders`: due task reminders, claimed once across replicas ([`Crm::claim_reminders`]);
//! - `external-pushes`: activity pushes to external CRMs ([`Crm::deliver_external_pushes`]),
//!   when connectors are configured;
//! - `prune`: the delivery log, the live feed and idempotency keys past their retention
//!   ([`Crm::prune`]);
//! - `search-indexer`: the change feed into this replica's search index, when one is
//!   configured ([`Crm::index_round`]);
//! - `audit-chain`: the audit log's pending entries appended to their tenants' chains
//!   ([`Crm::chain_audit`]), and, when a retention is set, `audit-retention`
//!   ([`Crm::prune_audit`]).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};

use super::Crm;
use super::delivery::{ConnectorDirectory, RetryPolicy};
use crate::error::Result;
use crate::idempotency;
use crate::ids::EventId;
use crate::time::{next_id, span};

/// What one round of a worker did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundReport {
    /// Entries claimed (or, for the pruner, rows removed).
    pub claimed: u32,
    /// Handled for good.
    pub done: u32,
    /// Failed and scheduled again.
    pub retried: u32,
    /// Declared dead (waiting for a person).
    pub dead: u32,
    /// More may be due now: run the next round at once.
    pub more: bool,
    /// Why the round's entries failed, when they failed together.
    pub failure: Option<String>,
}

/// One kind of background work.
#[async_trait]
pub trait Worker: Send + Sync + fmt::Debug {
    /// Its name in logs and metrics.
    fn name(&self) -> &'static str;

    /// How long to wait after a round that found nothing more to do.
    fn idle_interval(&self) -> Duration;

    /// One round.
    ///
    /// # Errors
    /// Store failures: the round's claimed entries come back when their lease ends.
    async fn round(&self) -> Result<RoundReport>;
}

/// The tunables of the workers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkerSettings {
    /// How often the outbox is polled for notifications and external pushes.
    pub poll_interval: Duration,
    /// How often due reminders are claimed.
    pub reminder_interval: Duration,
    /// How long a claimed notification is leased.
    pub notification_lease: Duration,
    /// Notifications per round.
    pub notification_batch: u32,
    /// When notifications the live feed refused are tried again.
    pub notification_retry: Duration,
    /// Reminders per round.
    pub reminder_batch: u32,
    /// When a failed external push is tried again, and when it is declared dead.
    pub push_retry: RetryPolicy,
    /// How long a claimed push is leased.
    pub push_lease: Duration,
    /// Pushes per round.
    pub push_batch: u32,
    /// How often the pruner runs.
    pub prune_interval: Duration,
    /// How long delivered outbox entries are kept (the delivery log).
    pub outbox_keep: Duration,
    /// How long live events are kept (how far back a stream can resume).
    pub live_keep: Duration,
    /// How long idempotency keys are kept.
    pub idempotency_keep: Duration,
    /// Delivered outbox entries removed per prune statement.
    pub prune_batch: u32,
    /// Audit entries chained per round.
    pub audit_batch: u32,
    /// How long audit entries are kept; `None` keeps them for ever.
    pub audit_keep: Option<Duration>,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_millis(250),
            reminder_interval: Duration::from_secs(5),
            notification_lease: Duration::from_secs(30),
            notification_batch: 100,
            notification_retry: Duration::from_secs(5),
            reminder_batch: 50,
            // 12 attempts from 5 s doubling to an hour: about 2.5 h of outage before an
            // entry is dead and waits for a person.
            push_retry: RetryPolicy::default(),
            push_lease: Duration::from_secs(60),
            push_batch: 50,
            prune_interval: Duration::from_secs(60),
            outbox_keep: Duration::from_secs(7 * 86_400),
            live_keep: Duration::from_secs(600),
            idempotency_keep: idempotency::KEEP,
            prune_batch: 5_000,
            audit_batch: 1_000,
            audit_keep: None,
        }
    }
}

impl Crm {
    /// The workers of this application; `connectors` adds the external-push worker (without
    /// it, pushes wait in the outbox, pending, until connectors are configured).
    pub fn workers(
        &self,
        settings: &WorkerSettings,
        connectors: Option<Arc<dyn ConnectorDirectory>>,
    ) -> Vec<Arc<dyn Worker>> {
        let s = Arc::new(settings.clone());
        let queue = |name, idle, round| -> Arc<dyn Worker> {
            Arc::new(Queue { name, idle, round, crm: self.clone(), s: s.clone() })
        };
        let mut workers = vec![
            queue(
                "notifications",
                |s| s.poll_interval,
                |crm, s| {
                    Box::pin(crm.deliver_notifications(
                        s.notification_lease,
                        s.notification_batch,
                        s.notification_retry,
                    ))
                },
            ),
            queue("reminders", |s| s.reminder_interval, |crm, s| Box::pin(crm.claim_reminders(s.reminder_batch))),
            queue("sla-timers", |s| s.reminder_interval, |crm, s| Box::pin(crm.fire_sla_timers(s.reminder_batch))),
            queue("sla-remark", |s| s.poll_interval, |crm, s| Box::pin(crm.remark_sla_cases(s.reminder_batch))),
        ];
        if let Some(connectors) = connectors {
            workers.push(Arc::new(ExternalPushes { crm: self.clone(), s: s.clone(), connectors }));
        }
        workers.push(queue("prune", |s| s.prune_interval, |crm, s| Box::pin(crm.prune(s))));
        if let Some(hooks) = &self.webhooks {
            let idle = hooks.settings.poll_interval;
            workers.push(Arc::new(WebhookRound { name: "webhook-fan-out", idle, crm: self.clone() }));
            workers.push(Arc::new(WebhookRound { name: "webhook-deliveries", idle, crm: self.clone() }));
        }
        if let Some(search) = self.search_settings() {
            let idle = search.poll_interval;
            workers.push(Arc::new(SearchIndexer { idle, crm: self.clone() }));
        }
        workers.push(queue("audit-chain", |s| s.poll_interval, |crm, s| Box::pin(crm.chain_audit(s.audit_batch))));
        if settings.audit_keep.is_some() {
            workers.push(queue(
                "audit-retention",
                |s| s.prune_interval,
                |crm, s| {
                    let keep = s.audit_keep.unwrap_or(Duration::MAX);
                    let before = crm
                        .clock
                        .now()
                        .checked_sub_signed(span(keep))
                        .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
                    Box::pin(crm.prune_audit(before, s.prune_batch))
                },
            ));
        }
        workers
    }

    /// One round of reminders (TSK-2): claims up to `limit` due reminders across tenants,
    /// each exactly once across replicas, writing each one's `task_reminder_due` event (the
    /// notification worker then delivers it).
    ///
    /// # Errors
    /// Store failures.
    pub async fn claim_reminders(&self, limit: u32) -> Result<RoundReport> {
        let ids: Vec<EventId> = (0..limit).map(|_| next_id(&*self.ids)).collect();
        let claimed = self.store.claim_due_reminders(self.clock.now(), &ids).await?;
        let n = u32::try_from(claimed.len()).unwrap_or(u32::MAX);
        Ok(RoundReport { claimed: n, done: n, more: n >= limit && limit > 0, ..RoundReport::default() })
    }

    /// One round of pruning: live events older than `live_keep`, idempotency keys older than
    /// `idempotency_keep`, and up to `prune_batch` delivered outbox entries older than
    /// `outbox_keep` (`more` when a full batch went: the next round goes at once). Once the
    /// backlog is gone, the store refreshes what its queue tables need
    /// ([`crate::ports::OutboxStore::refresh_queue_statistics`]).
    ///
    /// # Errors
    /// Store failures.
    pub async fn prune(&self, settings: &WorkerSettings) -> Result<RoundReport> {
        let now = self.clock.now();
        let live = self.store.prune_live(now - span(settings.live_keep)).await?;
        let keys = self.store.prune_idempotency(now - span(settings.idempotency_keep)).await?;
        let delivered = self.store.prune_delivered(now - span(settings.outbox_keep), settings.prune_batch).await?;
        let more = delivered == u64::from(settings.prune_batch);
        if !more {
            self.store.refresh_queue_statistics().await?;
        }
        let removed = u32::try_from(live + keys + delivered).unwrap_or(u32::MAX);
        Ok(RoundReport { claimed: removed, done: removed, more, ..RoundReport::default() })
    }
}

/// A round of a queue that needs nothing but the use cases and the settings.
type QueueRound = for<'a> fn(&'a Crm, &'a WorkerSettings) -> BoxFuture<'a, Result<RoundReport>>;

/// A worker made of a name, its idle interval among the settings, and its round.
struct Queue {
    name: &'static str,
    idle: fn(&WorkerSettings) -> Duration,
    round: QueueRound,
    crm: Crm,
    s: Arc<WorkerSettings>,
}

impl fmt::Debug for Queue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Queue").field("name", &self.name).finish_non_exhaustive()
    }
}

#[async_trait]
impl Worker for Queue {
    fn name(&self) -> &'static str {
        self.name
    }

    fn idle_interval(&self) -> Duration {
        (self.idle)(&self.s)
    }

    async fn round(&self) -> Result<RoundReport> {
        (self.round)(&self.crm, &self.s).await
    }
}

struct ExternalPushes {
    crm: Crm,
    s: Arc<WorkerSettings>,
    connectors: Arc<dyn ConnectorDirectory>,
}

impl fmt::Debug for ExternalPushes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExternalPushes").finish_non_exhaustive()
    }
}

#[async_trait]
impl Worker for ExternalPushes {
    fn name(&self) -> &'static str {
        "external-pushes"
    }

    fn idle_interval(&self) -> Duration {
        self.s.poll_interval
    }

    async fn round(&self) -> Result<RoundReport> {
        let r = self
            .crm
            .deliver_external_pushes(&*self.connectors, &self.s.push_retry, self.s.push_lease, self.s.push_batch)
            .await?;
        Ok(RoundReport {
            claimed: r.claimed,
            done: r.delivered,
            retried: r.retried,
            dead: r.dead,
            more: r.claimed >= self.s.push_batch && self.s.push_batch > 0,
            failure: None,
        })
    }
}

/// A webhook worker (EXT-3): the fan-out or the deliveries, polled at the webhook
/// settings' interval.
struct WebhookRound {
    name: &'static str,
    idle: Duration,
    crm: Crm,
}

impl fmt::Debug for WebhookRound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookRound").field("name", &self.name).finish_non_exhaustive()
    }
}

#[async_trait]
impl Worker for WebhookRound {
    fn name(&self) -> &'static str {
        self.name
    }

    fn idle_interval(&self) -> Duration {
        self.idle
    }

    async fn round(&self) -> Result<RoundReport> {
        if self.name == "webhook-fan-out" {
            self.crm.fan_out_webhooks().await
        } else {
            self.crm.deliver_webhooks().await
        }
    }
}

/// The search indexer (KNO-2, CUS-5): this replica's index follows the change feed.
struct SearchIndexer {
    idle: Duration,
    crm: Crm,
}

impl fmt::Debug for SearchIndexer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SearchIndexer").finish_non_exhaustive()
    }
}

#[async_trait]
impl Worker for SearchIndexer {
    fn name(&self) -> &'static str {
        "search-indexer"
    }

    fn idle_interval(&self) -> Duration {
        self.idle
    }

    async fn round(&self) -> Result<RoundReport> {
        self.crm.index_round().await
    }
}
