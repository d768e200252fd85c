//! Live events (EXT-2, TSK-2, EXT-3): screen pops, task reminders, assignments and case
//! changes pushed to each agent's `GET /api/v1/events` stream.
//!
//! How an event travels, also across replicas on one PostgreSQL:
//! 1. A use case writes its domain events to the store's outbox in its own transaction.
//!    The **reminder worker** of every replica calls `TaskStore::claim_due_reminders`, which
//!    claims each due reminder exactly once across replicas and writes its event there too.
//! 2. The **outbox worker** of every replica claims `Topic::Notification` entries
//!    (`OutboxStore::claim_outbox` leases each entry to one replica), works out which agents
//!    an event concerns, appends one row per agent to the server's `crm_server_live_events`
//!    table, and marks the entry delivered. A CTI screen pop is appended there directly.
//! 3. The **feed poller** of every replica reads that table after its own cursor and
//!    broadcasts new rows to the SSE streams it serves ([`Hub`]).
//!
//! External CRM pushes (`Topic::ExternalPush`) have their own worker, see
//! [`crate::connectors`].
//!
//! We chose polling a shared table over PostgreSQL `LISTEN/NOTIFY`: it works the same on
//! SQLite and PostgreSQL, has no payload size limit (a screen-pop card can be large), and a
//! replica that restarts or loses its connection cannot miss a notification sent meanwhile.
//! The cost is up to one poll interval (250 ms by default) of latency.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, watch};

use crm_core::event::{DomainEvent, EventKind, Topic};
use crm_core::ids::{AgentId, EventId, TenantId};
use crm_core::time::next_id;

use crate::db::NewLive;
use crate::state::AppState;

/// One event for one agent, as the SSE stream sends it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveEvent {
    /// Position in the shared feed (the SSE `id`).
    pub seq: i64,
    /// Tenant.
    pub tenant: String,
    /// Addressee.
    pub agent: String,
    /// SSE event name (`screen_pop`, `task_reminder_due`, `case_assigned` …).
    pub name: String,
    /// JSON payload.
    pub payload: String,
}

/// This replica's fan-out to its SSE streams.
#[derive(Clone, Debug)]
pub struct Hub {
    tx: broadcast::Sender<Arc<LiveEvent>>,
    stop: watch::Receiver<bool>,
}

impl Hub {
    /// A hub whose streams end when `stop` turns `true` (graceful shutdown).
    pub fn new(stop: watch::Receiver<bool>) -> Self {
        Self { tx: broadcast::channel(4096).0, stop }
    }

    /// A receiver of every event this replica learns from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<LiveEvent>> {
        self.tx.subscribe()
    }

    /// Turns `true` when the server shuts down.
    pub fn stopping(&self) -> watch::Receiver<bool> {
        self.stop.clone()
    }

    fn publish(&self, e: LiveEvent) {
        // No receiver is fine: nobody is connected.
        let _ = self.tx.send(Arc::new(e));
    }
}

/// The agents an event concerns.
async fn addressees(state: &AppState, event: &DomainEvent) -> Vec<AgentId> {
    let mut out = BTreeSet::new();
    match &event.kind {
        EventKind::TaskCreated { assignee, .. }
        | EventKind::TaskUpdated { assignee, .. }
        | EventKind::TaskReminderDue { assignee, .. } => {
            out.insert(*assignee);
        }
        // A case created unassigned concerns nobody yet: its later assignment raises
        // `CaseAssigned`, which reaches the assignee.
        EventKind::CaseAssigned { assignee, .. } | EventKind::CaseCreated { assignee, .. } => out.extend(*assignee),
        EventKind::CaseUpdated { case, .. } | EventKind::FollowUpAdded { case, .. } => {
            if let Ok(Some(c)) = state.crm.store().get_case(event.tenant, *case).await {
                out.extend(c.assignee());
            }
        }
        EventKind::InteractionCreated { agent, .. } | EventKind::InteractionStateChanged { agent, .. } => {
            out.extend(*agent);
        }
        _ => {}
    }
    out.into_iter().collect()
}

fn now_ms(state: &AppState) -> i64 {
    state.crm.clock().now().timestamp_millis()
}

/// Appends an event for `agent` to the shared feed (every replica will push it).
///
/// # Errors
/// Store failures.
pub async fn push(
    state: &AppState,
    tenant: TenantId,
    agent: AgentId,
    name: &str,
    payload: &serde_json::Value,
) -> Result<(), crm_core::StoreError> {
    state.db.push_live(tenant, agent, name, &payload.to_string(), now_ms(state)).await
}

/// One round of the outbox worker; returns how many entries it handled. The whole round
/// costs two writes whatever its size: one insert of every live row, one update marking the
/// entries delivered (on SQLite, writes queue on one connection).
async fn deliver_outbox(state: &AppState) -> Result<usize, crm_core::StoreError> {
    let now = state.crm.clock().now();
    let lease = now + chrono::Duration::seconds(30);
    let entries = state.crm.store().claim_outbox(Topic::Notification, now, lease, 100).await?;
    let mut live = Vec::new();
    for entry in &entries {
        let event = &entry.event;
        let payload = serde_json::to_value(event).unwrap_or_default().to_string();
        for agent in addressees(state, event).await {
            live.push(NewLive { tenant: event.tenant, agent, name: event.kind.name(), payload: payload.clone() });
        }
    }
    let ids: Vec<EventId> = entries.iter().map(|e| e.event.id).collect();
    match state.db.push_live_many(&live, now_ms(state)).await {
        Ok(()) => {
            state.crm.store().mark_delivered_many(&ids).await?;
        }
        Err(e) => {
            tracing::warn!(events = ids.len(), error = %e, "live event delivery failed; will retry");
            let retry = now + chrono::Duration::seconds(5);
            for id in ids {
                state.crm.store().mark_failed(id, &e.to_string(), Some(retry)).await?;
            }
        }
    }
    Ok(entries.len())
}

/// One round of the reminder worker.
async fn claim_reminders(state: &AppState) -> Result<usize, crm_core::StoreError> {
    let ids: Vec<EventId> = (0..50).map(|_| next_id(&**state.crm.ids())).collect();
    let claimed = state.crm.store().claim_due_reminders(state.crm.clock().now(), &ids).await?;
    for t in &claimed {
        tracing::info!(task = %t.id, assignee = %t.assignee(), "task reminder due");
    }
    Ok(claimed.len())
}

/// Polls the shared feed after `cursor`, re-reading a small window behind it: a row whose
/// sequence number was drawn before a neighbour's but committed after it is still seen.
struct FeedCursor {
    /// The feed's head when this replica started: older rows are history, not news.
    start: i64,
    head: i64,
    seen: HashSet<i64>,
}

const FEED_WINDOW: i64 = 256;

impl FeedCursor {
    async fn poll(&mut self, state: &AppState) -> Result<(), crm_core::StoreError> {
        let from = (self.head - FEED_WINDOW).max(0);
        let rows = state.db.live_after(from, 1000).await?;
        for row in rows {
            if row.seq <= from || row.seq <= self.start || !self.seen.insert(row.seq) {
                continue;
            }
            self.head = self.head.max(row.seq);
            state.hub.publish(LiveEvent {
                seq: row.seq,
                tenant: row.tenant,
                agent: row.agent,
                name: row.name,
                payload: row.payload,
            });
        }
        let floor = self.head - FEED_WINDOW;
        self.seen.retain(|s| *s > floor);
        Ok(())
    }
}

/// Delivered outbox entries deleted per statement.
const PRUNE_BATCH: u32 = 5_000;

/// Runs `round` every `every` until shutdown, logging failures.
async fn every<F, Fut>(name: &'static str, every: Duration, mut shutdown: watch::Receiver<bool>, mut round: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<usize, crm_core::StoreError>>,
{
    loop {
        let busy = match round().await {
            Ok(n) => n > 0,
            Err(e) => {
                tracing::warn!(worker = name, error = %e, "worker round failed");
                false
            }
        };
        if !busy {
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = shutdown.changed() => return,
            }
        }
        if *shutdown.borrow() {
            return;
        }
    }
}

/// Starts the outbox worker, the reminder worker, the feed poller and the feed pruner.
///
/// The feed's head is read before anything is spawned, that is before the server serves:
/// read by the poller's first round instead, an event pushed by one of the first requests
/// (a screen pop) could already be below it and count as history, never sent (seen once
/// in CI: an agent's stream got the call's `interaction_created`, not its `screen_pop`).
pub async fn spawn_workers(state: &AppState, shutdown: &watch::Receiver<bool>) -> Vec<tokio::task::JoinHandle<()>> {
    let head = match state.db.live_head().await {
        Ok(head) => head,
        Err(error) => {
            tracing::warn!(%error, "live feed head unknown at start: the feed is read from its beginning");
            0
        }
    };
    let poll = state.settings.poll_interval;
    let mut handles = Vec::new();
    let s = state.clone();
    handles.push(tokio::spawn(every("outbox", poll, shutdown.clone(), move || {
        let s = s.clone();
        async move { deliver_outbox(&s).await }
    })));
    let s = state.clone();
    handles.push(tokio::spawn(every("reminders", state.settings.reminder_interval, shutdown.clone(), move || {
        let s = s.clone();
        async move { claim_reminders(&s).await }
    })));
    if state.connectors.is_configured() {
        let s = state.clone();
        handles.push(tokio::spawn(every("external-pushes", poll, shutdown.clone(), move || {
            let s = s.clone();
            async move { crate::connectors::deliver_pushes(&s).await }
        })));
    }
    let s = state.clone();
    let mut shut = shutdown.clone();
    handles.push(tokio::spawn(async move {
        let mut cursor = FeedCursor { start: head, head, seen: HashSet::new() };
        loop {
            if let Err(e) = cursor.poll(&s).await {
                tracing::warn!(error = %e, "live feed poll failed");
            }
            tokio::select! {
                _ = tokio::time::sleep(poll) => {}
                _ = shut.changed() => return,
            }
        }
    }));
    // Without autovacuum nothing refreshes the queue tables' statistics: PostgreSQL then
    // plans an outbox claim as a scan of every index entry the table ever had, delivered
    // ones included, and a sort (7-15 ms a claim after 41,000 creations, growing), where with
    // statistics it walks its index in claim order (about 1 ms). The pruner refreshes them.
    let analyze = match state.db.autovacuum_off().await {
        Ok(off) => off,
        Err(error) => {
            tracing::warn!(%error, "cannot tell whether autovacuum runs; the queue tables are not analyzed");
            false
        }
    };
    let s = state.clone();
    handles.push(tokio::spawn(every("prune", Duration::from_secs(60), shutdown.clone(), move || {
        let s = s.clone();
        async move {
            let keep = chrono::Duration::minutes(10).num_milliseconds();
            s.db.prune_live(now_ms(&s) - keep).await?;
            s.db.prune_idempotency(now_ms(&s) - crate::idempotency::KEEP_MS).await?;
            // The outbox's delivery log, a batch at a time; a full batch means more may be
            // left, and the worker goes again at once.
            let keep = chrono::Duration::from_std(s.settings.outbox_keep).unwrap_or(chrono::Duration::days(7));
            let pruned = s.crm.store().prune_delivered(s.crm.clock().now() - keep, PRUNE_BATCH).await?;
            if pruned > 0 {
                tracing::debug!(pruned, "delivered outbox entries pruned");
            }
            let more = pruned == u64::from(PRUNE_BATCH);
            if analyze && !more {
                s.db.analyze_queues().await?;
            }
            Ok(usize::from(more))
        }
    })));
    handles
}
