//! What every handler shares: the use cases, the token cache, the live event hub, the
//! metrics, the tunables, and the SQL store's diagnostics when the store is the SQL one.

use std::sync::Arc;
use std::time::Duration;

use crm_core::service::{Crm, RetryPolicy, WorkerSettings};
use crm_store_sql::SqlStore;

use crate::auth::Tokens;
use crate::connectors::Connectors;
use crate::events::Hub;
use crate::metrics::Metrics;

/// Tunables of a running server (from the configuration).
#[derive(Clone, Debug)]
pub struct Settings {
    /// Largest request body in bytes.
    pub body_limit: usize,
    /// Longest time a request may take (not the event stream).
    pub request_timeout: Duration,
    /// How often the outbox and the live-event feed are polled.
    pub poll_interval: Duration,
    /// How often due reminders are claimed.
    pub reminder_interval: Duration,
    /// How long delivered outbox entries are kept (the delivery log's retention).
    pub outbox_keep: Duration,
    /// When a failed external CRM push or create is tried again, and when it is declared
    /// dead.
    pub push_retry: RetryPolicy,
    /// How long a claimed push is leased to this replica before another may take it; also
    /// how long a request asking for an external create keeps it from the worker while it
    /// makes the create itself.
    pub push_lease: Duration,
    /// How many pushes one delivery round claims at most.
    pub push_batch: u32,
    /// Most connections to the database: PostgreSQL's one pool, or SQLite's read pool (its
    /// writes have one connection of their own).
    pub database_connections: u32,
    /// How long audit entries are kept (ADM-4); `None` (the default) keeps them for ever.
    pub audit_keep: Option<Duration>,
    /// The SHA-256 (hex) of the operator credential that guards the operator API
    /// (`/api/v1/operator/…`); `None` turns that API off. Only the hash is kept.
    pub operator_token_hash: Option<String>,
    /// The key sealing the secrets of connectors configured through the API
    /// (`crate::secrets`); `None`: connectors come from the configuration file only.
    pub secrets_key: Option<crate::secrets::SecretsKey>,
    /// Where attachments' bytes go and the limits of uploads (CAS-6).
    pub attachments: crate::blobs::AttachmentSettings,
    /// The search engine (KNO-2, CUS-5): on or off, its folder, the indexer's tunables
    /// (the `[search]` table).
    pub search: crate::search::SearchSettings,
    /// Webhooks (EXT-3): targets allowed, timeouts, retries (the `[webhooks]` table).
    pub webhooks: crate::webhooks::WebhookConfig,
    /// The mail relay the `mail` worker sends through (`[mail.smtp]`); without one, notify
    /// mails wait in the queue.
    pub mailer: Option<Arc<dyn crm_core::ports::Mailer>>,
    /// The `mail` worker's tunables.
    pub mail: crm_core::service::MailSettings,
    /// The mailboxes polled for mail in (`[[mail.imap]]`), one `imap` worker each.
    pub mailboxes: Vec<crate::mailboxes::MailboxAccount>,
    /// The agents' console: sessions' lives, the sign-in throttle.
    pub console: crate::console::ConsoleSettings,
    /// The public search's host map and trusted proxies (the `[public]` table).
    pub public: crate::public_access::PublicSettings,
}

/// The database connections a server opens by default.
pub const DEFAULT_DATABASE_CONNECTIONS: u32 = 8;

impl Default for Settings {
    fn default() -> Self {
        Self {
            body_limit: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            poll_interval: Duration::from_millis(250),
            reminder_interval: Duration::from_secs(5),
            outbox_keep: Duration::from_secs(7 * 86_400),
            // 12 attempts from 5 s doubling to an hour: about 2.5 h of outage before an
            // entry is dead and waits for a person.
            push_retry: RetryPolicy::default(),
            push_lease: WorkerSettings::default().push_lease,
            push_batch: 50,
            database_connections: DEFAULT_DATABASE_CONNECTIONS,
            operator_token_hash: None,
            secrets_key: None,
            attachments: crate::blobs::AttachmentSettings::default(),
            search: crate::search::SearchSettings::default(),
            webhooks: crate::webhooks::WebhookConfig::default(),
            mailer: None,
            mail: crm_core::service::MailSettings::default(),
            mailboxes: Vec::new(),
            audit_keep: None,
            console: crate::console::ConsoleSettings::default(),
            public: crate::public_access::PublicSettings::default(),
        }
    }
}

impl Settings {
    /// The core workers' tunables these settings ask for (the rest are the core's defaults).
    pub fn workers(&self) -> WorkerSettings {
        WorkerSettings {
            poll_interval: self.poll_interval,
            reminder_interval: self.reminder_interval,
            outbox_keep: self.outbox_keep,
            push_retry: self.push_retry,
            push_lease: self.push_lease,
            push_batch: self.push_batch,
            audit_keep: self.audit_keep,
            ..WorkerSettings::default()
        }
    }

    /// The store's pool settings these tunables ask for.
    pub fn store_options(&self) -> crm_store_sql::SqlStoreOptions {
        crm_store_sql::SqlStoreOptions {
            max_connections: self.database_connections,
            ..crm_store_sql::SqlStoreOptions::default()
        }
    }
}

/// The state of the HTTP application: shared, so that the copy every handler and
/// extractor takes is one reference count, not one per service.
#[derive(Clone, Debug)]
pub struct AppState(Arc<AppParts>);

impl AppState {
    /// The state made of its parts.
    pub fn new(parts: AppParts) -> Self {
        Self(Arc::new(parts))
    }
}

impl std::ops::Deref for AppState {
    type Target = AppParts;

    fn deref(&self) -> &AppParts {
        &self.0
    }
}

/// What the HTTP application works with.
#[derive(Debug)]
pub struct AppParts {
    /// The use cases.
    pub crm: Crm,
    /// The SQL store, for readiness and its metrics (`None` on another store).
    pub sql: Option<SqlStore>,
    /// API tokens.
    pub tokens: Tokens,
    /// Live events for the SSE streams of this replica.
    pub hub: Hub,
    /// Request counts and latencies.
    pub metrics: Arc<Metrics>,
    /// Tunables.
    pub settings: Arc<Settings>,
    /// External CRM connectors per tenant.
    pub connectors: Connectors,
    /// The console's sign-in throttle on this replica.
    pub console: crate::console::ConsoleState,
}
