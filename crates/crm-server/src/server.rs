//! Wiring and running: open the store on one database URL and migrate it, seed the demo on
//! the first start, then serve HTTP and run the core's workers until shutdown. [`start`] is
//! what `crm-server serve` and the end-to-end tests call; [`start_with`] serves services
//! wired by the caller (any store: the tests also run the whole server on the memory store).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::serve::ListenerExt as _;
use tokio::sync::watch;

use crm_core::StoreError;
use crm_core::ports::{Clock, IdGenerator, Store};
use crm_core::service::Crm;
use crm_core::time::{SystemClock, UuidV7Generator};
use crm_store_sql::{SqlStore, SqlStoreOptions};

use crate::auth::Tokens;
use crate::events::{Hub, spawn_workers};
use crate::metrics::Metrics;
use crate::seed::{DemoSeed, seed_demo};
use crate::state::{AppParts, AppState, Settings};

/// The use cases on one store, and the API tokens.
#[derive(Clone, Debug)]
pub struct Services {
    /// The use cases.
    pub crm: Crm,
    /// API tokens.
    pub tokens: Tokens,
    /// The SQL store, when the store is the SQL one (readiness, metrics, closing).
    pub sql: Option<SqlStore>,
}

impl Services {
    /// Connects to `database_url` (`sqlite://crm.db?mode=rwc`, `postgres://…`) with the
    /// pool `options` (see [`crate::state::Settings::store_options`]) and applies the store's
    /// and the server's migrations.
    ///
    /// # Errors
    /// The database cannot be reached or migrated.
    pub async fn open(database_url: &str, options: SqlStoreOptions) -> Result<Self, StoreError> {
        let url = normalise_url(database_url);
        let store = SqlStore::connect(&url, options).await?;
        store.migrate().await?;
        let mut services = Self::on(Arc::new(store.clone()), Arc::new(SystemClock), Arc::new(UuidV7Generator));
        services.sql = Some(store);
        Ok(services)
    }

    /// The use cases on any store (the memory store in tests, an embedder's own adapter),
    /// with this clock and id generator.
    pub fn on(store: Arc<dyn Store>, clock: Arc<dyn Clock>, ids: Arc<dyn IdGenerator>) -> Self {
        let crm = Crm::new(store, clock, ids);
        let tokens = Tokens::new(crm.clone());
        Self { crm, tokens, sql: None }
    }

    /// Closes the database pools (SQL store only).
    pub async fn close(&self) {
        if let Some(sql) = &self.sql
            && let Err(error) = sql.clone().close().await
        {
            tracing::warn!(%error, "closing the database pools failed");
        }
    }

    /// Seeds the demo tenant when the database was never initialised (and `demo` is set);
    /// marks it initialised either way. Returns the seed when it ran.
    ///
    /// # Errors
    /// Store failures.
    pub async fn first_start(&self, demo: bool) -> Result<Option<DemoSeed>, crm_core::Error> {
        // Claimed atomically: of several replicas starting on an empty database, one seeds.
        if !self.crm.begin_first_start().await? {
            return Ok(None);
        }
        let seed = if demo {
            match seed_demo(self).await {
                Ok(seed) => Some(seed),
                Err(e) => {
                    // Let the next start try again.
                    self.crm.abandon_first_start().await?;
                    return Err(e);
                }
            }
        } else {
            None
        };
        self.crm.finish_first_start().await?;
        Ok(seed)
    }
}

/// A bare file path becomes a SQLite URL that creates the file (`crm.db` →
/// `sqlite://crm.db?mode=rwc`); URLs pass through.
pub fn normalise_url(url: &str) -> String {
    if url.contains("://") || url.starts_with("sqlite:") { url.to_owned() } else { format!("sqlite://{url}?mode=rwc") }
}

/// What [`start`] needs.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Database URL.
    pub database_url: String,
    /// Address to listen on (`127.0.0.1:0` for a random port).
    pub listen: SocketAddr,
    /// Seed the demo tenant on the first start of an empty database.
    pub demo: bool,
    /// Tunables.
    pub settings: Settings,
    /// External CRM connectors per tenant (none by default).
    pub connectors: crate::connectors::Connectors,
}

/// A running server.
#[derive(Debug)]
pub struct RunningServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The demo seed, when this start created it (its admin token is shown once).
    pub demo: Option<DemoSeed>,
    /// The wiring, for operator actions (tokens, tenants) in the same process.
    pub services: Services,
    shutdown: watch::Sender<bool>,
    handle: tokio::task::JoinHandle<std::io::Result<()>>,
    workers: Vec<tokio::task::JoinHandle<()>>,
}

impl RunningServer {
    /// The base URL (`http://127.0.0.1:PORT`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, lets in-flight requests finish, stops the workers.
    ///
    /// # Errors
    /// When the server failed.
    pub async fn stop(self) -> std::io::Result<()> {
        let _ = self.shutdown.send(true);
        for w in self.workers {
            let _ = w.await;
        }
        let result = self.handle.await.unwrap_or_else(|e| Err(std::io::Error::other(e)));
        self.services.close().await;
        result
    }

    /// Waits until the server stops (after a shutdown signal).
    ///
    /// # Errors
    /// When the server failed.
    pub async fn wait(self) -> std::io::Result<()> {
        let result = match self.handle.await {
            Ok(r) => r,
            Err(e) => Err(std::io::Error::other(e)),
        };
        let _ = self.shutdown.send(true);
        for w in self.workers {
            let _ = w.await;
        }
        result
    }

    /// A sender that stops the server when `true` is sent.
    pub fn shutdown_handle(&self) -> watch::Sender<bool> {
        self.shutdown.clone()
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database failed.
    #[error("database: {0}")]
    Store(#[from] StoreError),
    /// Seeding failed.
    #[error("demo seed: {0}")]
    Seed(#[from] crm_core::Error),
    /// The search index could not be opened.
    #[error("{0}")]
    Search(String),
    /// The blob store of attachments could not be opened.
    #[error("attachments: {0}")]
    Blobs(String),
    /// The address could not be bound (a busy port says how to pick another).
    #[error("cannot listen on {addr}: {source}{}", bind_hint(source))]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Opens the database, migrates, seeds the demo on the first start, and serves until
/// [`RunningServer::stop`] (or a sent shutdown).
///
/// # Errors
/// See [`StartError`].
pub async fn start(config: ServerConfig) -> Result<RunningServer, StartError> {
    // Bind first: a taken port must not cost the demo token printed only once.
    let listener = bind(&config).await?;
    let services = Services::open(&config.database_url, config.settings.store_options()).await?;
    serve(listener, services, config).await
}

/// Serves `services` (wired by the caller, on any store) as [`start`] serves the database
/// of `config.database_url`, which is not used here.
///
/// # Errors
/// See [`StartError`].
pub async fn start_with(services: Services, config: ServerConfig) -> Result<RunningServer, StartError> {
    let listener = bind(&config).await?;
    serve(listener, services, config).await
}

/// What to do about a bind error a person can fix.
fn bind_hint(source: &std::io::Error) -> &'static str {
    match source.kind() {
        std::io::ErrorKind::AddrInUse => {
            " (another program uses this port: stop it, or choose another address with --listen 127.0.0.1:8081 \
             or CRM_LISTEN)"
        }
        std::io::ErrorKind::PermissionDenied => " (ports below 1024 need privileges: choose another with --listen)",
        _ => "",
    }
}

async fn bind(config: &ServerConfig) -> Result<tokio::net::TcpListener, StartError> {
    tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| StartError::Bind { addr: config.listen, source })
}

async fn serve(
    listener: tokio::net::TcpListener,
    services: Services,
    config: ServerConfig,
) -> Result<RunningServer, StartError> {
    let addr = listener.local_addr().map_err(|source| StartError::Bind { addr: config.listen, source })?;
    let demo = services.first_start(config.demo).await?;
    let blobs = config.settings.attachments.open(&config.database_url).await.map_err(StartError::Blobs)?;
    let crm = services
        .crm
        .with_blob_store(blobs)
        .with_image_shrinker(Arc::new(crm_blob::ImageCrateShrinker))
        .with_attachment_limits(config.settings.attachments.limits)
        .with_external_retry(config.settings.push_retry, config.settings.push_lease);
    let (shutdown, rx) = watch::channel(false);
    let crm = with_webhooks(&crm, &config.settings.webhooks);
    let crm = config.settings.search.wire(&crm, &config.database_url).map_err(StartError::Search)?;
    let connectors = match &config.settings.secrets_key {
        Some(key) => {
            let api = Arc::new(crate::api_connectors::ApiConnectors::new(key.clone(), crm.clock().clone()));
            if let Err(error) = api.refresh(&crm).await {
                tracing::warn!(%error, "the connectors configured through the API could not be read at start");
            }
            config.connectors.clone().with_api(api)
        }
        None => config.connectors.clone(),
    };
    let state = AppState::new(AppParts {
        crm,
        sql: services.sql.clone(),
        tokens: services.tokens.clone(),
        hub: Hub::new(rx.clone()),
        metrics: Arc::new(Metrics::default()),
        settings: Arc::new(config.settings.clone()),
        connectors,
        console: crate::console::ConsoleState::default(),
    });
    let workers = spawn_workers(&state, &rx).await;
    let app = crate::app::app(state);
    let mut stop = rx;
    // No Nagle delay: an answer or an event (a screen pop pushed on the event stream) that
    // follows another before the client acknowledged it goes out at once instead of
    // waiting up to a delayed-ACK timeout (40 ms on Linux).
    let listener = listener.tap_io(|tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "TCP_NODELAY not set on a connection");
        }
    });
    let handle = tokio::spawn(async move {
        // The peer's address reaches the handlers (the audit log's source address).
        axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
            .with_graceful_shutdown(async move {
                let _ = stop.wait_for(|s| *s).await;
            })
            .await
    });
    tracing::info!(%addr, "crm-server listening");
    Ok(RunningServer { addr, demo, services, shutdown, handle, workers })
}

/// The use cases with the webhook transport of `config`, when webhooks are enabled.
fn with_webhooks(crm: &crm_core::service::Crm, config: &crate::webhooks::WebhookConfig) -> crm_core::service::Crm {
    if !config.enabled {
        return crm.clone();
    }
    match crate::webhooks::HttpTransport::new(config) {
        Ok(transport) => crm.with_webhooks(Arc::new(transport), config.settings.clone()),
        Err(error) => {
            tracing::error!(%error, "the webhook HTTP client cannot be built: webhooks are off");
            crm.clone()
        }
    }
}
