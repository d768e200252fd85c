//! Configuration: the command line (clap), environment variables (`CRM_…`, through clap's
//! `env`), and a TOML file (`--config`). A value given on the command line wins over the
//! environment, which wins over the file, which wins over the defaults.
//!
//! ```toml
//! # crm.toml
//! database_url = "postgres://crm@db/crm"
//! database_connections = 16   # per server process; replicas × this < PostgreSQL's max_connections
//! listen = "0.0.0.0:8080"
//! demo = false
//! log_format = "json"
//! body_limit = 1048576
//! request_timeout_secs = 30
//! reminder_interval_secs = 5
//! outbox_keep_days = 7    # delivered events kept in the outbox's delivery log
//! push_lease_secs = 60    # an external push or create left by a crashed call is retried after this
//! secrets_key_file = "/etc/crm/secrets.key"  # seals connectors configured through the API (or CRM_SECRETS_KEY)
//! audit_keep_days = 3650  # audit entries kept (default: for ever)
//!
//! [push_retry]            # external CRM pushes and creates (defaults shown)
//! max_attempts = 12
//! base_delay_secs = 5
//! max_delay_secs = 3600
//!
//! [[connectors]]          # one per tenant and product: see `crate::connectors`
//! tenant = "0192f0c4-…"
//! system = "salesforce"
//! [connectors.salesforce]
//! login_url = "https://acme.my.salesforce.com"
//! [connectors.salesforce.auth]
//! flow = "client_credentials"
//! client_id = "3MVG9…"
//! client_secret = { env = "CRM_ACME_SF_SECRET" }
//!
//! [mail.smtp]             # the relay notify mails go out through (none: they wait, queued)
//! host = "smtp.example.com"
//! port = 587
//! tls = "starttls"        # "none" (loopback only), "starttls" or "implicit" (465)
//! username = "crm@example.com"
//! password_env = "CRM_SMTP_PASSWORD"
//!
//! [[mail.imap]]           # a mailbox polled for mail in: see `crate::mailboxes`
//! tenant = "0192f0c4-…"
//! agent = "0192f0c4-…"
//! host = "imap.example.com"
//! user = "support@example.com"
//! password_env = "CRM_IMAP_PASSWORD"
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use crm_core::service::RetryPolicy;
use serde::Deserialize;

use crate::connectors::RawConnector;
use crate::state::Settings;

/// The default database: a SQLite file in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://crm.db?mode=rwc";
/// The default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// `crm-server`: the contact-center CRM server.
///
/// Without a command it migrates the database and serves the HTTP API (like `serve`). On the
/// very first start of an empty database it seeds a demo tenant and prints an
/// administrator API token (unless --no-demo).
#[derive(Debug, Parser)]
#[command(name = "crm-server", version)]
pub struct Cli {
    /// Options shared by every command.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The server's options, when no command is given (`serve` takes them too).
    #[command(flatten)]
    pub serve: ServeArgs,
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Cli {
    /// The server's options: `serve`'s, each falling back to those given before the command.
    pub fn serve_args(&self) -> ServeArgs {
        match &self.command {
            Some(Command::Serve(args)) => args.clone().or(&self.serve),
            _ => self.serve.clone(),
        }
    }

    /// The configuration these arguments resolve to ([`Config::resolve`]).
    ///
    /// # Errors
    /// See [`ConfigError`].
    pub fn config(&self) -> Result<Config, ConfigError> {
        Config::resolve(&self.global, &self.serve_args())
    }
}

/// The database connections a configuration may ask for, per server process.
const DATABASE_CONNECTIONS: std::ops::RangeInclusive<u32> = 1..=1_000;

/// The delivery log's retention a configuration may ask for, in days: beyond a hundred
/// years the cut-off would leave the calendar the clock can compute.
const OUTBOX_KEEP_DAYS: std::ops::RangeInclusive<u32> = 1..=36_500;

/// Options shared by every command.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// TOML configuration file (keys: database_url, database_connections, listen, demo,
    /// log_format, body_limit, request_timeout_secs, reminder_interval_secs,
    /// outbox_keep_days, `[push_retry]`, `[[connectors]]`).
    #[arg(long, env = "CRM_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Database URL: `sqlite://crm.db?mode=rwc` (default), a bare file path, or
    /// `postgres://user@host/db` to use PostgreSQL.
    #[arg(long, env = "CRM_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// Most connections this process opens to the database (default 8, 1 to 1000): on
    /// PostgreSQL its one pool, shared by requests and background workers (replicas × this
    /// must stay under the server's `max_connections`); on SQLite the read pool, writes
    /// having one connection of their own.
    #[arg(long, env = "CRM_DATABASE_CONNECTIONS", global = true,
          value_parser = clap::value_parser!(u32).range(i64::from(*DATABASE_CONNECTIONS.start())..=i64::from(*DATABASE_CONNECTIONS.end())))]
    pub database_connections: Option<u32>,
    /// Log format.
    #[arg(long, env = "CRM_LOG_FORMAT", global = true, value_enum)]
    pub log_format: Option<LogFormat>,
    /// Log filter (`info`, `crm_server=debug,info`); `RUST_LOG` works too.
    #[arg(long, env = "CRM_LOG", global = true)]
    pub log: Option<String>,
}

/// The server's own options: those of `serve` (and of no command, which serves).
#[derive(Clone, Debug, Default, Args)]
pub struct ServeArgs {
    /// Address to listen on (default 127.0.0.1:8080).
    #[arg(long, env = "CRM_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Do not seed the demo tenant on the first start.
    #[arg(long, env = "CRM_NO_DEMO")]
    pub no_demo: bool,
    /// Largest request body in bytes (default 1 MiB).
    #[arg(long, env = "CRM_BODY_LIMIT")]
    pub body_limit: Option<usize>,
    /// Longest time a request may take, in seconds (default 30; the event stream is exempt).
    #[arg(long, env = "CRM_REQUEST_TIMEOUT_SECS")]
    pub request_timeout_secs: Option<u64>,
    /// How often due task reminders are claimed, in seconds (default 5).
    #[arg(long, env = "CRM_REMINDER_INTERVAL_SECS")]
    pub reminder_interval_secs: Option<u64>,
    /// How many days delivered events stay in the outbox's delivery log before they are
    /// deleted (default 7, 1 to 36500; pending and dead entries are never deleted).
    #[arg(long, env = "CRM_OUTBOX_KEEP_DAYS",
          value_parser = clap::value_parser!(u32).range(1..=i64::from(*OUTBOX_KEEP_DAYS.end())))]
    pub outbox_keep_days: Option<u32>,
    /// How many days audit entries are kept before retention removes them (default: kept
    /// for ever; 1 to 36500). The chain still verifies from the first kept entry.
    #[arg(long, env = "CRM_AUDIT_KEEP_DAYS",
          value_parser = clap::value_parser!(u32).range(1..=i64::from(*OUTBOX_KEEP_DAYS.end())))]
    pub audit_keep_days: Option<u32>,
    /// The operator credential guarding the operator API (`/api/v1/operator/…`: tenants
    /// created, renamed, suspended); without it that API is off. Prefer the environment
    /// variable or the file's `operator_token_file` to the command line.
    #[arg(long, env = "CRM_OPERATOR_TOKEN", hide_env_values = true)]
    pub operator_token: Option<String>,
}

impl ServeArgs {
    /// These values, each falling back to `outer`'s (`crm-server --listen … serve`).
    #[must_use]
    pub fn or(self, outer: &ServeArgs) -> ServeArgs {
        ServeArgs {
            listen: self.listen.or(outer.listen),
            no_demo: self.no_demo || outer.no_demo,
            body_limit: self.body_limit.or(outer.body_limit),
            request_timeout_secs: self.request_timeout_secs.or(outer.request_timeout_secs),
            reminder_interval_secs: self.reminder_interval_secs.or(outer.reminder_interval_secs),
            outbox_keep_days: self.outbox_keep_days.or(outer.outbox_keep_days),
            audit_keep_days: self.audit_keep_days.or(outer.audit_keep_days),
            operator_token: self.operator_token.or_else(|| outer.operator_token.clone()),
        }
    }
}

/// Log output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Migrate the database, then serve the HTTP API (the default).
    Serve(ServeArgs),
    /// Apply the database migrations and exit.
    Migrate,
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage tenants.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// List a tenant's agents (to find whom to mint a token for).
    #[command(subcommand)]
    Agent(AgentCommand),
    /// Import records from CSV.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Export records as CSV.
    #[command(subcommand)]
    Export(ExportCommand),
    /// The search index (KNO-2, CUS-5).
    #[command(subcommand)]
    Search(SearchCommand),
    /// The audit log: verify its hash chains, export it.
    #[command(subcommand)]
    Audit(crate::audit_cli::AuditCommand),
    /// Seed a demo tenant (agents, customers, cases, tasks, dispositions, queues) and print
    /// its administrator token.
    SeedDemo,
    /// Seed a benchmark tenant with N customers (for `cargo xtask bench server`; built with
    /// the `bench` feature).
    #[cfg(feature = "bench")]
    #[command(hide = true)]
    BenchSeed {
        /// How many customers (each with two phones, an email and an open case).
        #[arg(long, default_value_t = 100_000)]
        customers: usize,
    },
}

/// Search index commands.
#[derive(Debug, Subcommand)]
pub enum SearchCommand {
    /// Rebuild this replica's search index from the database, with a progress bar (stop
    /// the server that uses the index first: one process writes it at a time).
    Reindex,
}

/// Token commands.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token for an agent and print it (shown once; only its hash is kept).
    Create {
        /// The tenant id.
        #[arg(long, env = "CRM_TENANT")]
        tenant: String,
        /// The agent id.
        #[arg(long, env = "CRM_AGENT")]
        agent: String,
        /// The role the token grants: agent, supervisor or administrator.
        #[arg(long)]
        role: String,
        /// A label to recognise the token by.
        #[arg(long, default_value = "")]
        label: String,
    },
}

/// Agent commands.
#[derive(Debug, Subcommand)]
pub enum AgentCommand {
    /// List the agents of a tenant: id, role, active, email, name.
    List {
        /// The tenant id.
        #[arg(long, env = "CRM_TENANT")]
        tenant: String,
    },
    /// Give an agent a role (ADM-2): a built-in one (`agent`, `supervisor`,
    /// `administrator`, which also clears a tenant-defined role) or one of the tenant's by
    /// name or id (`GET /api/v1/roles` lists them).
    SetRole {
        /// The tenant id.
        #[arg(long, env = "CRM_TENANT")]
        tenant: String,
        /// The agent id.
        #[arg(long)]
        agent: String,
        /// The role: a built-in role's name, or a tenant role's name or id.
        #[arg(long)]
        role: String,
    },
    /// Set an agent's console password, read from the first line of standard input (or
    /// `CRM_AGENT_PASSWORD`); the agent's console sessions end.
    SetPassword {
        /// The tenant id.
        #[arg(long, env = "CRM_TENANT")]
        tenant: String,
        /// The agent id.
        #[arg(long)]
        agent: String,
    },
}

/// Tenant commands.
#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// List the tenants: id, default region, time zone, name.
    List,
    /// Change a tenant's default phone region or time zone. A new region is refused, with
    /// the numbers, when phone numbers its customers hold would not be valid under it.
    Update {
        /// The tenant id.
        #[arg(long, env = "CRM_TENANT")]
        tenant: String,
        /// New default phone region (ISO 3166-1 alpha-2, `US`).
        #[arg(long)]
        region: Option<String>,
        /// New IANA time zone (`America/New_York`).
        #[arg(long)]
        time_zone: Option<String>,
    },
    /// Create a tenant with its first administrator and print an administrator token.
    Create {
        /// Display name.
        #[arg(long)]
        name: String,
        /// Default phone region (ISO 3166-1 alpha-2, `FR`).
        #[arg(long)]
        region: String,
        /// IANA time zone (`Europe/Paris`).
        #[arg(long)]
        time_zone: String,
        /// The administrator's name.
        #[arg(long)]
        admin_name: String,
        /// The administrator's email.
        #[arg(long)]
        admin_email: String,
    },
}

/// What to do with bad rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OnError {
    /// Import the good rows, report the bad ones.
    Skip,
    /// Import nothing when any row is bad.
    Stop,
}

/// The actor of an import or export.
#[derive(Debug, Args)]
pub struct ActorArgs {
    /// The tenant id.
    #[arg(long, env = "CRM_TENANT")]
    pub tenant: String,
    /// The agent acting (its role's permissions apply).
    #[arg(long, env = "CRM_AGENT")]
    pub agent: String,
}

/// Import commands.
#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import customers from a CSV file with a header: `name` (required), `account_number`,
    /// `phones` and `emails` (several separated by `;`), and `custom.<key>` columns. The
    /// whole file is validated first; then the rows are written.
    Customers {
        /// The CSV file.
        file: PathBuf,
        /// Who imports.
        #[command(flatten)]
        actor: ActorArgs,
        /// What to do when rows are bad (default: ask on a terminal, otherwise stop).
        #[arg(long, value_enum)]
        on_error: Option<OnError>,
    },
    /// Import entries into an outbound call list (OUT-1) from a CSV file with a header:
    /// `customer` (the customer's id, required), `phone`, `priority`, `time_zone`, `due_at`,
    /// `custom.<key>`. The good rows are written in batches of 1,000 (each batch all or
    /// nothing) under a progress bar; every refused row is reported with its field.
    CallListEntries {
        /// The call list's id.
        #[arg(long)]
        list: String,
        /// The CSV file.
        file: PathBuf,
        /// Who imports.
        #[command(flatten)]
        actor: ActorArgs,
    },
}

/// Export commands.
#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Export every customer as CSV (the import format) to a file or standard output.
    Customers {
        /// Who exports.
        #[command(flatten)]
        actor: ActorArgs,
        /// The output file (default: standard output).
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

/// The TOML file's keys.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Database URL.
    pub database_url: Option<String>,
    /// Most database connections of the process.
    pub database_connections: Option<u32>,
    /// Listen address.
    pub listen: Option<SocketAddr>,
    /// Seed the demo on the first start.
    pub demo: Option<bool>,
    /// Log format.
    pub log_format: Option<LogFormat>,
    /// Log filter.
    pub log: Option<String>,
    /// Body limit in bytes.
    pub body_limit: Option<usize>,
    /// Request timeout in seconds.
    pub request_timeout_secs: Option<u64>,
    /// Reminder interval in seconds.
    pub reminder_interval_secs: Option<u64>,
    /// Days delivered outbox entries are kept.
    pub outbox_keep_days: Option<u32>,
    /// Days audit entries are kept (default: for ever).
    pub audit_keep_days: Option<u32>,
    /// Retries of external CRM pushes and creates.
    pub push_retry: Option<PushRetryFile>,
    /// Seconds a claimed external push or create is leased to one worker, and how long a
    /// request asking for an external create keeps it from the worker (default 60; 2 to
    /// 3600): after a crash mid-call, the worker takes it over when this ends.
    pub push_lease_secs: Option<u64>,
    /// A file holding the operator credential (see `GlobalArgs::operator_token`).
    pub operator_token_file: Option<PathBuf>,
    /// A file holding the key that seals secrets at rest (32 bytes in base64; see
    /// `crate::secrets`); `CRM_SECRETS_KEY` gives it too, and wins.
    pub secrets_key_file: Option<PathBuf>,
    /// External CRM connectors, one per tenant and product.
    #[serde(default)]
    pub connectors: Vec<RawConnector>,
    /// Where attachments' bytes go and the limits of uploads (see `crate::blobs`).
    pub attachments: Option<crate::blobs::AttachmentsFile>,
    /// Webhooks (EXT-3).
    pub webhooks: Option<WebhooksFile>,
    /// The search engine (see `crate::search`).
    pub search: Option<crate::search::SearchFile>,
    /// Mail (`[mail.smtp]`).
    #[serde(default)]
    pub mail: Option<MailFile>,
    /// The public search's hosts and trusted proxies (see `crate::public_access`).
    pub public: Option<crate::public_access::PublicFile>,
}

/// The `[webhooks]` table.
#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhooksFile {
    /// Accept subscriptions and run the webhook workers (default true).
    pub enabled: Option<bool>,
    /// Allow loopback targets, over http too (tests, local development; default false).
    pub allow_loopback: Option<bool>,
    /// Allow private and link-local targets (default false).
    pub allow_private: Option<bool>,
    /// The longest exchange with a receiver, in seconds (1..=60, default 10).
    pub timeout_secs: Option<u64>,
    /// The most bytes of an answer read (default 65536).
    pub max_response_bytes: Option<usize>,
    /// A delivery is dead when it cannot be made this long after its event, in hours
    /// (1..=168, default 24).
    pub give_up_after_hours: Option<u64>,
    /// A subscription whose attempts all fail this long is disabled, in hours (1..=2160,
    /// default 120).
    pub disable_after_hours: Option<u64>,
    /// The first retry's delay in milliseconds, doubling on each next failure (10..=3600000,
    /// default 5000).
    pub retry_first_delay_ms: Option<u64>,
    /// The longest delay between two attempts in milliseconds (10..=86400000, default
    /// 10800000: 3 h).
    pub retry_max_delay_ms: Option<u64>,
    /// Failures in a row that open an endpoint's circuit breaker (1..=1000, default 5).
    pub breaker_threshold: Option<u32>,
    /// How long the breaker first stays open in milliseconds, doubling while failures go on
    /// (10..=86400000, default 30000).
    pub breaker_cooldown_ms: Option<u64>,
    /// How long a claimed delivery is leased, in seconds (2..=3600, longer than
    /// `timeout_secs`; default `timeout_secs` × 2 + 30): after a crash mid-send, the
    /// delivery is sent again (same `webhook-id`) when its lease ends.
    pub lease_secs: Option<u64>,
    /// How often the webhook workers look for work when idle, in milliseconds (5..=60000,
    /// default 100).
    pub poll_interval_ms: Option<u64>,
    /// Requests in flight at once (1..=1024, default 64).
    pub concurrency: Option<usize>,
}

/// `value` when it lies in `range`, else the problem with `key`.
fn within<T: PartialOrd + Copy>(
    key: &'static str,
    value: T,
    range: std::ops::RangeInclusive<T>,
    reason: &'static str,
) -> Result<T, ConfigError> {
    if range.contains(&value) { Ok(value) } else { Err(ConfigError::Invalid { key, reason }) }
}

impl WebhooksFile {
    /// The configuration these keys ask for over the defaults.
    ///
    /// # Errors
    /// A key out of its range.
    pub fn resolve(&self) -> Result<crate::webhooks::WebhookConfig, ConfigError> {
        let mut c = crate::webhooks::WebhookConfig::default();
        c.enabled = self.enabled.unwrap_or(c.enabled);
        c.allow_loopback = self.allow_loopback.unwrap_or(c.allow_loopback);
        c.allow_private = self.allow_private.unwrap_or(c.allow_private);
        if let Some(secs) = self.timeout_secs {
            if !(1..=60).contains(&secs) {
                return Err(ConfigError::Invalid { key: "webhooks.timeout_secs", reason: "must be between 1 and 60" });
            }
            c.timeout = Duration::from_secs(secs);
            c.settings.lease = Duration::from_secs(secs * 2 + 30);
        }
        if let Some(bytes) = self.max_response_bytes {
            if !(1_024..=10 * 1024 * 1024).contains(&bytes) {
                return Err(ConfigError::Invalid {
                    key: "webhooks.max_response_bytes",
                    reason: "must be between 1024 and 10485760",
                });
            }
            c.max_response_bytes = bytes;
        }
        if let Some(hours) = self.give_up_after_hours {
            if !(1..=168).contains(&hours) {
                return Err(ConfigError::Invalid {
                    key: "webhooks.give_up_after_hours",
                    reason: "must be between 1 and 168",
                });
            }
            c.settings.policy.give_up_after = Duration::from_secs(hours * 3_600);
        }
        if let Some(hours) = self.disable_after_hours {
            if !(1..=2_160).contains(&hours) {
                return Err(ConfigError::Invalid {
                    key: "webhooks.disable_after_hours",
                    reason: "must be between 1 and 2160",
                });
            }
            c.settings.policy.disable_after = Duration::from_secs(hours * 3_600);
        }
        let policy = &mut c.settings.policy;
        if let Some(ms) = self.retry_first_delay_ms {
            let ms = within("webhooks.retry_first_delay_ms", ms, 10..=3_600_000, "must be between 10 and 3600000")?;
            policy.first_delay = Duration::from_millis(ms);
        }
        if let Some(ms) = self.retry_max_delay_ms {
            let ms = within("webhooks.retry_max_delay_ms", ms, 10..=86_400_000, "must be between 10 and 86400000")?;
            policy.max_delay = Duration::from_millis(ms);
        }
        if let Some(n) = self.breaker_threshold {
            policy.breaker_threshold =
                within("webhooks.breaker_threshold", n, 1..=1_000, "must be between 1 and 1000")?;
        }
        if let Some(ms) = self.breaker_cooldown_ms {
            let ms = within("webhooks.breaker_cooldown_ms", ms, 10..=86_400_000, "must be between 10 and 86400000")?;
            policy.breaker_cooldown = Duration::from_millis(ms);
        }
        if let Some(secs) = self.lease_secs {
            let secs = within("webhooks.lease_secs", secs, 2..=3_600, "must be between 2 and 3600")?;
            if Duration::from_secs(secs) <= c.timeout {
                return Err(ConfigError::Invalid {
                    key: "webhooks.lease_secs",
                    reason: "must be longer than webhooks.timeout_secs",
                });
            }
            c.settings.lease = Duration::from_secs(secs);
        }
        if let Some(ms) = self.poll_interval_ms {
            let ms = within("webhooks.poll_interval_ms", ms, 5..=60_000, "must be between 5 and 60000")?;
            c.settings.poll_interval = Duration::from_millis(ms);
        }
        if let Some(n) = self.concurrency {
            c.settings.concurrency = within("webhooks.concurrency", n, 1..=1_024, "must be between 1 and 1024")?;
        }
        Ok(c)
    }
}

/// The `[mail]` table.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailFile {
    /// The SMTP relay of outgoing mail.
    #[serde(default)]
    pub smtp: Option<crm_mail::SmtpConfig>,
    /// When a mail the relay could not take is tried again (`[mail.retry]`, the keys of
    /// `[push_retry]`; defaults 12 attempts, 5 s doubled up to an hour).
    #[serde(default)]
    pub retry: Option<PushRetryFile>,
    /// Seconds a claimed mail is leased to one worker (default 300; 5 to 3600): after a
    /// crash mid-send, the mail is sent again (same `Message-ID`) when its lease ends.
    #[serde(default)]
    pub lease_secs: Option<u64>,
    /// Mails sent at once (default 8; 1 to 64): keep `smtp.pool_size` as large.
    #[serde(default)]
    pub concurrency: Option<usize>,
    /// Mailboxes polled for mail in (`[[mail.imap]]`, see `crate::mailboxes`).
    #[serde(default)]
    pub imap: Vec<crate::mailboxes::ImapFile>,
}

impl MailFile {
    /// The mail worker's settings this table asks for.
    fn settings(
        &self,
        defaults: &crm_core::service::MailSettings,
    ) -> Result<crm_core::service::MailSettings, ConfigError> {
        let mut s = defaults.clone();
        if let Some(r) = self.retry {
            s.retry = RetryPolicy {
                max_attempts: r.max_attempts.unwrap_or(s.retry.max_attempts),
                base_delay: r.base_delay_secs.map_or(s.retry.base_delay, Duration::from_secs),
                max_delay: r.max_delay_secs.map_or(s.retry.max_delay, Duration::from_secs),
            };
        }
        match self.lease_secs {
            Some(secs) if (5..=3600).contains(&secs) => s.lease = Duration::from_secs(secs),
            Some(_) => {
                return Err(ConfigError::Invalid { key: "mail.lease_secs", reason: "must be between 5 and 3600" });
            }
            None => {}
        }
        match self.concurrency {
            Some(n) if (1..=64).contains(&n) => s.concurrency = n,
            Some(_) => {
                return Err(ConfigError::Invalid { key: "mail.concurrency", reason: "must be between 1 and 64" });
            }
            None => {}
        }
        Ok(s)
    }
}

/// The `[push_retry]` table.
#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushRetryFile {
    /// Attempts before a push is declared dead (the first counts).
    pub max_attempts: Option<u32>,
    /// Delay after the first failure, in seconds; doubled after each further one.
    pub base_delay_secs: Option<u64>,
    /// The longest delay, in seconds.
    pub max_delay_secs: Option<u64>,
}

/// Why the configuration could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML for this schema.
    #[error("invalid configuration file {path}: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: toml::de::Error,
    },
    /// The `[attachments]` settings are incomplete or wrong.
    #[error("invalid attachments configuration: {0}")]
    Attachments(String),
    /// A value is out of its range.
    #[error("invalid configuration value {key}: {reason}")]
    Invalid {
        /// The key.
        key: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// A value of one entry of a list of tables is wrong (`mail.imap[1].port`).
    #[error("invalid configuration value {key}: {reason}")]
    Entry {
        /// The key, with the entry's index.
        key: String,
        /// Why.
        reason: String,
    },
}

/// The resolved configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// Database URL.
    pub database_url: String,
    /// Listen address.
    pub listen: SocketAddr,
    /// Seed the demo on the first start.
    pub demo: bool,
    /// Log format.
    pub log_format: LogFormat,
    /// Log filter.
    pub log: String,
    /// Server tunables.
    pub settings: Settings,
    /// The `[[connectors]]` entries, unparsed (see [`crate::connectors::parse`]).
    pub connectors: Vec<RawConnector>,
}

/// Reads a TOML configuration file.
///
/// # Errors
/// See [`ConfigError`].
pub fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.into(), source })?;
    toml::from_str(&text).map_err(|source| ConfigError::Parse { path: path.into(), source })
}

impl Config {
    /// Layers the command line and environment over the file over the defaults.
    ///
    /// # Errors
    /// See [`ConfigError`].
    pub fn resolve(args: &GlobalArgs, serve: &ServeArgs) -> Result<Self, ConfigError> {
        let file = match &args.config {
            Some(p) => read_file(p)?,
            None => FileConfig::default(),
        };
        let defaults = Settings::default();
        let retry = file.push_retry.unwrap_or_default();
        let push_retry = RetryPolicy {
            max_attempts: retry.max_attempts.unwrap_or(defaults.push_retry.max_attempts),
            base_delay: retry.base_delay_secs.map_or(defaults.push_retry.base_delay, Duration::from_secs),
            max_delay: retry.max_delay_secs.map_or(defaults.push_retry.max_delay, Duration::from_secs),
        };
        let operator_token = match (&serve.operator_token, &file.operator_token_file) {
            (Some(token), _) => Some(token.trim().to_owned()),
            (None, Some(path)) => Some(
                std::fs::read_to_string(path)
                    .map_err(|source| ConfigError::Read { path: path.clone(), source })?
                    .trim()
                    .to_owned(),
            ),
            (None, None) => None,
        };
        if operator_token.as_ref().is_some_and(|t| t.len() < 16) {
            return Err(ConfigError::Invalid { key: "operator_token", reason: "must be at least 16 characters" });
        }
        let secrets_key =
            match (std::env::var("CRM_SECRETS_KEY").ok(), &file.secrets_key_file) {
                (Some(text), _) => Some(crate::secrets::SecretsKey::from_base64(&text).map_err(|_| {
                    ConfigError::Invalid { key: "CRM_SECRETS_KEY", reason: "must be 32 bytes in base64" }
                })?),
                (None, Some(path)) => {
                    let text = std::fs::read_to_string(path)
                        .map_err(|source| ConfigError::Read { path: path.clone(), source })?;
                    Some(crate::secrets::SecretsKey::from_base64(&text).map_err(|_| ConfigError::Invalid {
                        key: "secrets_key_file",
                        reason: "must hold 32 bytes in base64",
                    })?)
                }
                (None, None) => None,
            };
        let listen_default: SocketAddr =
            DEFAULT_LISTEN.parse().unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 8080)));
        Ok(Self {
            database_url: args
                .database_url
                .clone()
                .or(file.database_url)
                .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned()),
            listen: serve.listen.or(file.listen).unwrap_or(listen_default),
            demo: !serve.no_demo && file.demo.unwrap_or(true),
            log_format: args.log_format.or(file.log_format).unwrap_or(LogFormat::Text),
            log: args.log.clone().or(file.log).unwrap_or_else(|| "info".to_owned()),
            settings: Settings {
                body_limit: serve.body_limit.or(file.body_limit).unwrap_or(defaults.body_limit),
                request_timeout: serve
                    .request_timeout_secs
                    .or(file.request_timeout_secs)
                    .map(Duration::from_secs)
                    .unwrap_or(defaults.request_timeout),
                reminder_interval: serve
                    .reminder_interval_secs
                    .or(file.reminder_interval_secs)
                    .map(Duration::from_secs)
                    .unwrap_or(defaults.reminder_interval),
                outbox_keep: match serve.outbox_keep_days.or(file.outbox_keep_days) {
                    Some(days) if OUTBOX_KEEP_DAYS.contains(&days) => Duration::from_secs(u64::from(days) * 86_400),
                    Some(_) => {
                        return Err(ConfigError::Invalid {
                            key: "outbox_keep_days",
                            reason: "must be between 1 and 36500 (a hundred years)",
                        });
                    }
                    None => defaults.outbox_keep,
                },
                push_retry,
                push_lease: match file.push_lease_secs {
                    Some(secs) if (2..=3600).contains(&secs) => Duration::from_secs(secs),
                    Some(_) => {
                        return Err(ConfigError::Invalid {
                            key: "push_lease_secs",
                            reason: "must be between 2 and 3600",
                        });
                    }
                    None => defaults.push_lease,
                },
                database_connections: match args.database_connections.or(file.database_connections) {
                    Some(n) if DATABASE_CONNECTIONS.contains(&n) => n,
                    Some(_) => {
                        return Err(ConfigError::Invalid {
                            key: "database_connections",
                            reason: "must be between 1 and 1000",
                        });
                    }
                    None => defaults.database_connections,
                },
                operator_token_hash: operator_token.as_deref().map(crate::auth::hash_token),
                secrets_key,
                attachments: crate::blobs::AttachmentSettings::resolve(file.attachments, &|name| {
                    std::env::var(name).ok()
                })
                .map_err(ConfigError::Attachments)?,
                webhooks: file.webhooks.unwrap_or_default().resolve()?,
                public: file.public.unwrap_or_default().resolve(),
                search: file.search.unwrap_or_default().resolve().map_err(|_| ConfigError::Invalid {
                    key: "search.poll_interval_ms",
                    reason: "must be between 50 and 5000",
                })?,
                mail: match &file.mail {
                    Some(m) => m.settings(&defaults.mail)?,
                    None => defaults.mail.clone(),
                },
                mailboxes: match &file.mail {
                    Some(m) => crate::mailboxes::resolve(&m.imap, &|name| std::env::var(name).ok())?,
                    None => Vec::new(),
                },
                mailer: match file.mail.and_then(|m| m.smtp) {
                    Some(smtp) => Some(std::sync::Arc::new(crm_mail::SmtpMailer::new(&smtp).map_err(|_| {
                        ConfigError::Invalid { key: "mail.smtp", reason: "TLS needs a valid host name" }
                    })?) as std::sync::Arc<dyn crm_core::ports::Mailer>),
                    None => None,
                },
                audit_keep: match serve.audit_keep_days.or(file.audit_keep_days) {
                    Some(days) if OUTBOX_KEEP_DAYS.contains(&days) => {
                        Some(Duration::from_secs(u64::from(days) * 86_400))
                    }
                    Some(_) => {
                        return Err(ConfigError::Invalid {
                            key: "audit_keep_days",
                            reason: "must be between 1 and 36500 (a hundred years)",
                        });
                    }
                    None => None,
                },
                ..defaults
            },
            connectors: file.connectors,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_mail_example_configuration_reads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples/mail.toml");
        let file = read_file(&path).unwrap();
        let smtp = file.mail.as_ref().and_then(|m| m.smtp.as_ref()).map(|s| s.host.clone());
        assert_eq!(smtp.as_deref(), Some("smtp.example.com"));
        let mail = file.mail.as_ref().unwrap().settings(&crm_core::service::MailSettings::default()).unwrap();
        assert_eq!((mail.lease, mail.concurrency, mail.retry.max_attempts), (Duration::from_secs(300), 8, 12));
        let imap = &file.mail.as_ref().unwrap().imap;
        let env = |name: &str| (name == "CRM_IMAP_PASSWORD").then(|| "from-the-environment".to_owned());
        let accounts = crate::mailboxes::resolve(imap, &env).unwrap();
        assert_eq!(accounts.len(), 1);
        assert_eq!(accounts[0].source.account(), "support@example.com@imap.example.com/INBOX");
        assert_eq!(accounts[0].settings.poll_interval, Duration::from_secs(60));
        let unset = crate::mailboxes::resolve(imap, &|_: &str| None).err().map(|e| e.to_string());
        assert_eq!(
            unset.as_deref(),
            Some(
                "invalid configuration value mail.imap[0].password_env: the environment variable \
                 CRM_IMAP_PASSWORD is not set"
            )
        );
    }

    #[test]
    fn the_mail_workers_settings_are_read_and_bounded() {
        let file: MailFile =
            toml::from_str("lease_secs = 30\nconcurrency = 16\n[retry]\nbase_delay_secs = 1\nmax_delay_secs = 2\n")
                .unwrap();
        let s = file.settings(&crm_core::service::MailSettings::default()).unwrap();
        assert_eq!((s.lease, s.concurrency), (Duration::from_secs(30), 16));
        assert_eq!(
            (s.retry.base_delay, s.retry.max_delay, s.retry.max_attempts),
            (Duration::from_secs(1), Duration::from_secs(2), 12)
        );
        for bad in ["lease_secs = 1", "concurrency = 0", "concurrency = 65"] {
            let file: MailFile = toml::from_str(bad).unwrap();
            assert!(
                matches!(file.settings(&crm_core::service::MailSettings::default()), Err(ConfigError::Invalid { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_webhook_workers_settings_are_read_and_bounded() {
        let file: WebhooksFile = toml::from_str(
            "timeout_secs = 1\nlease_secs = 3\nretry_first_delay_ms = 50\nretry_max_delay_ms = 400\n\
             breaker_threshold = 8\nbreaker_cooldown_ms = 100\npoll_interval_ms = 25\nconcurrency = 32\n",
        )
        .unwrap();
        let c = file.resolve().unwrap();
        let (s, p) = (&c.settings, &c.settings.policy);
        assert_eq!(
            (c.timeout, s.lease, s.poll_interval),
            (Duration::from_secs(1), Duration::from_secs(3), Duration::from_millis(25))
        );
        assert_eq!((p.first_delay, p.max_delay), (Duration::from_millis(50), Duration::from_millis(400)));
        assert_eq!((p.breaker_threshold, p.breaker_cooldown, s.concurrency), (8, Duration::from_millis(100), 32));
        let default = WebhooksFile::default().resolve().unwrap();
        assert_eq!(default, crate::webhooks::WebhookConfig::default());
        for bad in [
            "lease_secs = 1",
            "timeout_secs = 10\nlease_secs = 10",
            "retry_first_delay_ms = 5",
            "retry_max_delay_ms = 100000000",
            "breaker_threshold = 0",
            "breaker_cooldown_ms = 1",
            "poll_interval_ms = 1",
            "concurrency = 0",
            "concurrency = 2000",
        ] {
            let file: WebhooksFile = toml::from_str(bad).unwrap();
            assert!(matches!(file.resolve(), Err(ConfigError::Invalid { .. })), "{bad}");
        }
    }

    #[test]
    fn server_options_belong_to_serve_and_are_taken_before_or_after_it() {
        let after = Cli::parse_from(["crm-server", "serve", "--listen", "127.0.0.1:9000", "--no-demo"]);
        let c = after.config().unwrap();
        assert_eq!(c.listen.port(), 9000);
        assert!(!c.demo);
        let before = Cli::parse_from(["crm-server", "--listen", "127.0.0.1:9001"]);
        assert_eq!(before.config().unwrap().listen.port(), 9001);
        let both = Cli::parse_from(["crm-server", "--listen", "127.0.0.1:9001", "serve", "--listen", "127.0.0.1:9002"]);
        assert_eq!(both.config().unwrap().listen.port(), 9002);
        // Other commands neither take nor show them; the database options stay global.
        assert!(Cli::try_parse_from(["crm-server", "tenant", "list", "--listen", "127.0.0.1:9000"]).is_err());
        assert!(Cli::try_parse_from(["crm-server", "tenant", "list", "--database-url", "sqlite::memory:"]).is_ok());
        let mut command = Cli::command();
        command.build();
        let help = command.find_subcommand_mut("token").unwrap().render_long_help().to_string();
        assert!(!help.contains("--listen") && !help.contains("--body-limit"), "{help}");
        assert!(help.contains("--database-url"), "{help}");
    }

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn the_command_line_wins_over_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("crm.toml");
        std::fs::write(&path, "database_url = \"postgres://x@y/z\"\nlisten = \"0.0.0.0:9000\"\ndemo = false\n")
            .unwrap();
        let cli = Cli::parse_from(["crm-server", "--config", path.to_str().unwrap(), "--listen", "127.0.0.1:7000"]);
        let c = cli.config().unwrap();
        assert_eq!(c.database_url, "postgres://x@y/z");
        assert_eq!(c.listen.port(), 7000);
        assert!(!c.demo);
        std::fs::write(&path, "bogus = 1\n").unwrap();
        assert!(cli.config().is_err());
    }

    #[test]
    fn the_operator_token_comes_from_the_flag_or_a_file_and_only_its_hash_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let (config, secret) = (dir.path().join("crm.toml"), dir.path().join("operator"));
        std::fs::write(&secret, "a-long-operator-secret\n").unwrap();
        std::fs::write(&config, format!("operator_token_file = {:?}\n", secret.to_str().unwrap())).unwrap();
        let off = Cli::parse_from(["crm-server"]).config().unwrap();
        assert_eq!(off.settings.operator_token_hash, None, "off unless configured");
        let from_file = Cli::parse_from(["crm-server", "--config", config.to_str().unwrap()]);
        let hash = from_file.config().unwrap().settings.operator_token_hash;
        assert_eq!(hash, Some(crate::auth::hash_token("a-long-operator-secret")));
        let flag = Cli::parse_from(["crm-server", "--operator-token", "another-long-secret!"]);
        let settings = flag.config().unwrap().settings;
        assert_eq!(settings.operator_token_hash, Some(crate::auth::hash_token("another-long-secret!")));
        assert!(!format!("{settings:?}").contains("another-long-secret!"), "the secret is never printed");
        let short = Cli::parse_from(["crm-server", "--operator-token", "short"]);
        assert!(short.config().is_err());
    }

    #[test]
    fn the_database_connections_come_from_the_flag_or_the_file_within_range() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("crm.toml");
        let config = path.to_str().unwrap();
        let default = Cli::parse_from(["crm-server"]).config().unwrap();
        assert_eq!(default.settings.database_connections, crate::state::DEFAULT_DATABASE_CONNECTIONS);
        assert_eq!(default.settings.store_options().max_connections, crate::state::DEFAULT_DATABASE_CONNECTIONS);
        std::fs::write(&path, "database_connections = 24\n").unwrap();
        let from_file = Cli::parse_from(["crm-server", "--config", config]).config().unwrap();
        assert_eq!(from_file.settings.database_connections, 24);
        assert_eq!(from_file.settings.store_options().max_connections, 24);
        let flag = Cli::parse_from(["crm-server", "--config", config, "--database-connections", "3"]);
        assert_eq!(flag.config().unwrap().settings.database_connections, 3);
        for refused in ["0", "1001", "many"] {
            let parsed = Cli::try_parse_from(["crm-server", "--database-connections", refused]);
            let error = parsed.expect_err(refused).to_string();
            assert!(error.contains("--database-connections"), "{error}");
        }
        assert!(Cli::try_parse_from(["crm-server", "--database-connections", "-1"]).is_err());
        std::fs::write(&path, "database_connections = 0\n").unwrap();
        let zero = Cli::parse_from(["crm-server", "--config", config]).config();
        assert!(matches!(zero, Err(ConfigError::Invalid { key: "database_connections", .. })), "{zero:?}");
    }

    #[test]
    fn the_external_lease_is_read_and_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("crm.toml");
        let config = path.to_str().unwrap();
        let default = Cli::parse_from(["crm-server"]).config().unwrap();
        assert_eq!(default.settings.push_lease, Duration::from_secs(60));
        std::fs::write(&path, "push_lease_secs = 5\n").unwrap();
        let from_file = Cli::parse_from(["crm-server", "--config", config]).config().unwrap();
        assert_eq!(from_file.settings.push_lease, Duration::from_secs(5));
        std::fs::write(&path, "push_lease_secs = 1\n").unwrap();
        let short = Cli::parse_from(["crm-server", "--config", config]).config();
        assert!(matches!(short, Err(ConfigError::Invalid { key: "push_lease_secs", .. })), "{short:?}");
    }

    #[test]
    fn the_outbox_retention_is_in_whole_days_of_at_least_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("crm.toml");
        let config = path.to_str().unwrap();
        std::fs::write(&path, "outbox_keep_days = 30\n").unwrap();
        let default = Cli::parse_from(["crm-server"]).config().unwrap();
        assert_eq!(default.settings.outbox_keep, Duration::from_secs(7 * 86_400));
        let from_file = Cli::parse_from(["crm-server", "--config", config]).config().unwrap();
        assert_eq!(from_file.settings.outbox_keep, Duration::from_secs(30 * 86_400));
        let flag = Cli::parse_from(["crm-server", "--config", config, "--outbox-keep-days", "2"]);
        assert_eq!(flag.config().unwrap().settings.outbox_keep, Duration::from_secs(2 * 86_400));
        assert!(Cli::try_parse_from(["crm-server", "--outbox-keep-days", "0"]).is_err());
        std::fs::write(&path, "outbox_keep_days = 0\n").unwrap();
        let zero = Cli::parse_from(["crm-server", "--config", config]).config();
        assert!(matches!(zero, Err(ConfigError::Invalid { key: "outbox_keep_days", .. })), "{zero:?}");
        // Beyond what the cut-off can be computed for: refused, not a panicking worker.
        assert!(Cli::try_parse_from(["crm-server", "--outbox-keep-days", "4000000000"]).is_err());
        std::fs::write(&path, "outbox_keep_days = 4000000000\n").unwrap();
        let huge = Cli::parse_from(["crm-server", "--config", config]).config();
        assert!(matches!(huge, Err(ConfigError::Invalid { key: "outbox_keep_days", .. })), "{huge:?}");
    }
}
