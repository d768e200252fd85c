//! Live events (EXT-2, TSK-2, EXT-3) on this replica, and the scheduling of the core's
//! workers.
//!
//! How an event travels, also across replicas on one PostgreSQL:
//! 1. A use case writes its domain events to the store's outbox in its own transaction;
//!    the core's `reminders` worker writes a reminder's event there when it falls due.
//! 2. The core's `notifications` worker (`Crm::deliver_notifications`) claims them, works out
//!    which agents each concerns (`crm_core::live::Addressees`) and appends one live event
//!    per agent to the shared feed (`LiveFeedStore`); a CTI screen pop is appended there
//!    directly (`Crm::incoming_call`).
//! 3. The **feed poller** of every replica (here) reads the feed after its own cursor and
//!    broadcasts new events to the SSE streams it serves ([`Hub`]).
//!
//! Every worker of the core ([`crm_core::service::Worker`]: notifications, reminders,
//! external pushes, the pruner) runs here on the same schedule: a round, then at once
//! again when the round says more is due, else after the worker's idle interval, until
//! shutdown. This module decides nothing about the events themselves.
//!
//! We chose polling a shared table over PostgreSQL `LISTEN/NOTIFY`: it works the same on
//! SQLite and PostgreSQL, has no payload size limit (a screen-pop card can be large), and a
//! replica that restarts or loses its connection cannot miss a notification sent meanwhile.
//! The cost is up to one poll interval (250 ms by default) of latency.

use std::collections::HashSet;
use std::sync::Arc;

use tokio::sync::{broadcast, watch};

use crm_core::live::LiveEvent;
use crm_core::service::{ConnectorDirectory, Crm, RoundReport, Worker};

use crate::state::AppState;

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

/// Polls the shared feed after `cursor`, re-reading a small window behind it: an event
/// whose position was drawn before a neighbour's but committed after it is still seen.
struct FeedCursor {
    /// The feed's head when this replica started: older events are history, not news.
    start: u64,
    head: u64,
    seen: HashSet<u64>,
}

const FEED_WINDOW: u64 = 256;

impl FeedCursor {
    async fn poll(&mut self, crm: &Crm, hub: &Hub) -> Result<(), crm_core::Error> {
        let from = self.head.saturating_sub(FEED_WINDOW);
        for event in crm.live_after(from, 1000).await? {
            if event.seq <= self.start || !self.seen.insert(event.seq) {
                continue;
            }
            self.head = self.head.max(event.seq);
            hub.publish(event);
        }
        let floor = self.head.saturating_sub(FEED_WINDOW);
        self.seen.retain(|s| *s > floor);
        Ok(())
    }
}

/// Logs what a round did: dead letters and retries as warnings, the rest at debug.
fn log_round(worker: &str, r: &RoundReport) {
    if worker == "imap" && r.retried > 0 {
        // The failure names the account, the server and the next try (never the password).
        tracing::warn!(
            worker,
            failure = r.failure.as_deref().unwrap_or(""),
            "mailbox poll failed, retried with backoff"
        );
    } else if worker == "imap" && r.dead > 0 {
        // Mails `receive_mail` refused for good (not a mail, no case and the rules make none).
        tracing::warn!(worker, fetched = r.claimed, refused = r.dead, failure = ?r.failure, "mails passed over");
    } else if r.dead > 0 {
        tracing::warn!(
            worker,
            claimed = r.claimed,
            done = r.done,
            retried = r.retried,
            dead = r.dead,
            "entries declared dead: see GET /api/v1/outbox?status=dead"
        );
    } else if r.retried > 0 {
        tracing::warn!(worker, claimed = r.claimed, retried = r.retried, failure = ?r.failure, "entries will be retried");
    } else if r.claimed > 0 {
        tracing::debug!(worker, claimed = r.claimed, done = r.done, "worker round");
    }
}

/// Runs the worker's rounds until shutdown: at once again after a round that says more is
/// due, else after its idle interval; a failed round is logged and waits like an idle one.
async fn run_worker(worker: Arc<dyn Worker>, mut shutdown: watch::Receiver<bool>) {
    loop {
        let busy = match worker.round().await {
            Ok(report) => {
                log_round(worker.name(), &report);
                report.more
            }
            Err(e) => {
                tracing::warn!(worker = worker.name(), error = %e, "worker round failed");
                false
            }
        };
        if !busy {
            tokio::select! {
                _ = tokio::time::sleep(worker.idle_interval()) => {}
                _ = shutdown.changed() => return,
            }
        }
        if *shutdown.borrow() {
            return;
        }
    }
}

/// Starts the core's workers and the feed poller.
///
/// The feed's head is read before anything is spawned, that is before the server serves:
/// read by the poller's first round instead, an event pushed by one of the first requests
/// (a screen pop) could already be below it and count as history, never sent (seen once
/// in CI: an agent's stream got the call's `interaction_created`, not its `screen_pop`).
pub async fn spawn_workers(state: &AppState, shutdown: &watch::Receiver<bool>) -> Vec<tokio::task::JoinHandle<()>> {
    let head = match state.crm.live_head().await {
        Ok(head) => head,
        Err(error) => {
            tracing::warn!(%error, "live feed head unknown at start: the feed is read from its beginning");
            0
        }
    };
    let connectors =
        state.connectors.is_configured().then(|| Arc::new(state.connectors.clone()) as Arc<dyn ConnectorDirectory>);
    let mut handles: Vec<_> = state
        .crm
        .workers(&state.settings.workers(), connectors)
        .into_iter()
        .chain(state.settings.mailer.clone().map(|mailer| state.crm.mail_worker(mailer, state.settings.mail.clone())))
        .chain(
            state
                .settings
                .mailboxes
                .iter()
                .map(|m| state.crm.mailbox_worker(m.source.clone(), m.tenant, m.agent, m.settings.clone())),
        )
        .map(|worker| tokio::spawn(run_worker(worker, shutdown.clone())))
        .collect();
    if let Some(api) = state.connectors.api().cloned() {
        let (crm, mut shut) = (state.crm.clone(), shutdown.clone());
        handles.push(tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(crate::api_connectors::REFRESH_INTERVAL) => {}
                    _ = shut.changed() => return,
                }
                if let Err(error) = api.refresh(&crm).await {
                    tracing::warn!(%error, "the connectors configured through the API could not be read again");
                }
            }
        }));
    }
    let (crm, hub, poll) = (state.crm.clone(), state.hub.clone(), state.settings.poll_interval);
    let mut shut = shutdown.clone();
    handles.push(tokio::spawn(async move {
        let mut cursor = FeedCursor { start: head, head, seen: HashSet::new() };
        loop {
            if let Err(e) = cursor.poll(&crm, &hub).await {
                tracing::warn!(error = %e, "live feed poll failed");
            }
            tokio::select! {
                _ = tokio::time::sleep(poll) => {}
                _ = shut.changed() => return,
            }
        }
    }));
    handles
}
