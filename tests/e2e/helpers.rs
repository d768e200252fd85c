//! Test support: start the real server on SQLite (a temporary directory), PostgreSQL (a
//! fresh database on `CRM_TEST_POSTGRES_URL`) or the memory store of `crm-testkit` (the
//! whole server on the core's ports, no database), an HTTP client that speaks the API, and
//! a reader of the live event stream.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;

use crm_server::connectors::Connectors;
use crm_server::{RunningServer, ServerConfig, Settings};
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use sea_orm::{ConnectionTrait, Database};
use serde_json::Value;
use tokio::sync::mpsc;

/// Which database a test runs on.
#[derive(Clone, Debug)]
pub(crate) enum Backend {
    /// A SQLite file in a temporary directory.
    Sqlite,
    /// A fresh database on the PostgreSQL server at this base URL.
    Postgres(String),
    /// No database: the server on `crm_testkit::MemoryStore`.
    Memory,
}

/// The URL [`TestDb`] gives the memory store (no database behind it).
pub(crate) const MEMORY_URL: &str = "memory:";

impl Backend {
    /// The PostgreSQL backend when `CRM_TEST_POSTGRES_URL` is set. Without it: a failure
    /// when `CI` is set, otherwise a clear note that the PostgreSQL test did not run.
    pub(crate) fn postgres(test: &str) -> Option<Self> {
        match std::env::var("CRM_TEST_POSTGRES_URL") {
            Ok(url) if !url.trim().is_empty() => Some(Self::Postgres(url)),
            _ => {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "CRM_TEST_POSTGRES_URL is not set: the PostgreSQL end-to-end tests are mandatory in CI"
                );
                eprintln!(
                    "NOTE: PostgreSQL end-to-end test {test} did NOT run: set CRM_TEST_POSTGRES_URL \
                     (e.g. postgres://postgres@127.0.0.1:5432/test) to run it"
                );
                None
            }
        }
    }
}

/// Runs a test body on SQLite and on PostgreSQL (when configured), as two tests.
#[macro_export]
macro_rules! on_both_backends {
    ($name:ident) => {
        $crate::on_both_backends!(@module $name;);
    };
    (@module $name:ident; $($more:item)*) => {
        mod $name {
            use $crate::helpers::Backend;

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                // Boxed: a long test's future is large in a debug build, and the test thread's
                // stack is small.
                Box::pin(super::$name(Backend::Sqlite)).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                if let Some(b) = Backend::postgres(concat!(module_path!(), "::postgres")) {
                    Box::pin(super::$name(b)).await;
                }
            }

            $($more)*
        }
    };
}

/// Runs a test body on SQLite, on PostgreSQL (when configured) and on the memory store, as
/// three tests: for the tests that speak only HTTP, so the whole server is checked on the
/// core's ports alone too.
#[macro_export]
macro_rules! on_every_store {
    ($name:ident) => {
        $crate::on_both_backends!(@module $name;
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn memory() {
                Box::pin(super::$name(Backend::Memory)).await;
            }
        );
    };
}

/// A database for one test.
#[derive(Debug)]
pub(crate) struct TestDb {
    /// Its URL.
    pub(crate) url: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// A fresh, empty database.
    pub(crate) async fn fresh(backend: &Backend) -> Self {
        match backend {
            Backend::Memory => Self { url: MEMORY_URL.to_owned(), _dir: None },
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("crm.db").display());
                Self { url, _dir: Some(dir) }
            }
            Backend::Postgres(base) => {
                let name = format!("crm_e2e_{}", uuid::Uuid::now_v7().simple());
                let admin = Database::connect(base.as_str()).await.expect("connect to CRM_TEST_POSTGRES_URL");
                drop_stale_databases(&admin).await;
                admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create database");
                let _ = admin.close().await;
                let (prefix, _) = base.rsplit_once('/').expect("a postgres url with a database name");
                Self { url: format!("{prefix}/{name}"), _dir: None }
            }
        }
    }
}

/// Drops, once per test process, the `crm_e2e_*` databases of runs older than an hour (their
/// names carry a UUIDv7, so their age), so repeated runs on one machine do not pile them up.
/// Databases of the current run are young and stay.
async fn drop_stale_databases(admin: &sea_orm::DatabaseConnection) {
    static DONE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if DONE.swap(true, std::sync::atomic::Ordering::SeqCst) {
        return;
    }
    let Ok(rows) = admin
        .query_all_raw(sea_orm::Statement::from_string(
            admin.get_database_backend(),
            "SELECT datname FROM pg_database WHERE datname LIKE 'crm\\_e2e\\_%'",
        ))
        .await
    else {
        return;
    };
    let hour_ago = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs().saturating_sub(3600))
        .unwrap_or(0);
    for row in rows {
        let Ok(name) = row.try_get::<String>("", "datname") else { continue };
        let created = name
            .strip_prefix("crm_e2e_")
            .and_then(|hex| uuid::Uuid::parse_str(hex).ok())
            .and_then(|u| u.get_timestamp())
            .map(|t| t.to_unix().0);
        if created.is_some_and(|secs| secs < hour_ago) {
            let _ = admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
        }
    }
}

/// The operator credential of the test servers (the operator API, `/api/v1/operator/…`).
pub(crate) const OPERATOR_TOKEN: &str = "operator-secret-for-the-e2e-tests";

/// Fast worker intervals for tests.
pub(crate) fn test_settings() -> Settings {
    Settings {
        operator_token_hash: Some(crm_server::auth::hash_token(OPERATOR_TOKEN)),
        poll_interval: Duration::from_millis(50),
        reminder_interval: Duration::from_millis(200),
        body_limit: 256 * 1024,
        // Blobs are shared by content: one folder for every test server of the process.
        attachments: crm_server::blobs::AttachmentSettings {
            location: crm_server::blobs::BlobLocation::Fs(Some(std::env::temp_dir().join("crm-e2e-blobs"))),
            ..Default::default()
        },
        // External pushes: retry quickly, never give up during a test.
        push_retry: crm_core::service::RetryPolicy {
            max_attempts: 1_000,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(500),
        },
        webhooks: test_webhooks(),
        ..Settings::default()
    }
}

/// Webhooks to the tests' local receivers (loopback allowed), retried within milliseconds.
pub(crate) fn test_webhooks() -> crm_server::webhooks::WebhookConfig {
    let mut config = crm_server::webhooks::WebhookConfig {
        allow_loopback: true,
        timeout: Duration::from_secs(2),
        ..crm_server::webhooks::WebhookConfig::default()
    };
    let s = &mut config.settings;
    s.poll_interval = Duration::from_millis(20);
    s.lease = Duration::from_secs(10);
    s.policy.first_delay = Duration::from_millis(20);
    s.policy.max_delay = Duration::from_millis(200);
    s.policy.breaker_cooldown = Duration::from_millis(50);
    config
}

/// A running server with its database.
#[derive(Debug)]
pub(crate) struct TestServer {
    /// The server.
    pub(crate) server: RunningServer,
    /// Its database (kept alive as long as the server).
    pub(crate) db: TestDb,
    /// The demo administrator's token.
    pub(crate) admin_token: String,
}

impl TestServer {
    /// A server with demo data on a fresh database.
    pub(crate) async fn start(backend: &Backend) -> Self {
        Self::start_with(backend, Connectors::none()).await
    }

    /// A server with demo data and these external CRM connectors.
    pub(crate) async fn start_with(backend: &Backend, connectors: Connectors) -> Self {
        let db = TestDb::fresh(backend).await;
        let server = start_on_with(&db.url, true, connectors).await;
        let admin_token = server.demo.as_ref().expect("first start seeds the demo").admin_token.clone();
        Self { server, db, admin_token }
    }

    /// A server with demo data and these settings (a mail relay, for one).
    pub(crate) async fn start_with_settings(backend: &Backend, settings: Settings) -> Self {
        let db = TestDb::fresh(backend).await;
        let server = start_on_with_settings(&db.url, true, Connectors::none(), settings).await;
        let admin_token = server.demo.as_ref().expect("first start seeds the demo").admin_token.clone();
        Self { server, db, admin_token }
    }

    /// The demo seed.
    pub(crate) fn demo(&self) -> &crm_server::seed::DemoSeed {
        self.server.demo.as_ref().expect("demo seed")
    }

    /// A client with the administrator token.
    pub(crate) fn admin(&self) -> Api {
        Api::new(&self.server.url(), Some(&self.admin_token))
    }

    /// A client with a new token for `agent` with `role`, created over the API.
    pub(crate) async fn client_for(&self, agent: &str, role: &str) -> Api {
        let (status, body) = self
            .admin()
            .post("/api/v1/tokens", &serde_json::json!({"agent": agent, "role": role, "label": "e2e"}))
            .await
            .json();
        assert_eq!(status, StatusCode::CREATED, "{body}");
        Api::new(&self.server.url(), body["token"].as_str())
    }
}

/// Starts a server on `url` on a random port.
pub(crate) async fn start_on(url: &str, demo: bool) -> RunningServer {
    start_on_with(url, demo, Connectors::none()).await
}

/// Starts a server on `url` on a random port with external CRM connectors.
pub(crate) async fn start_on_with(url: &str, demo: bool, connectors: Connectors) -> RunningServer {
    start_on_with_settings(url, demo, connectors, test_settings()).await
}

/// Starts a server on `url` on a random port with external CRM connectors and `settings`.
pub(crate) async fn start_on_with_settings(
    url: &str,
    demo: bool,
    connectors: Connectors,
    settings: Settings,
) -> RunningServer {
    let config = ServerConfig {
        database_url: url.to_owned(),
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        demo,
        settings,
        connectors,
    };
    if url == MEMORY_URL {
        let store = std::sync::Arc::new(crm_testkit::MemoryStore::new());
        let clock = std::sync::Arc::new(crm_core::time::SystemClock);
        let services = crm_server::Services::on(store, clock, std::sync::Arc::new(crm_core::time::UuidV7Generator));
        // Boxed: the start's future (the demo seed's writes among it) is too large for the
        // stack of a test that awaits it unboxed.
        return Box::pin(crm_server::start_with(services, config)).await.expect("server starts on the memory store");
    }
    Box::pin(crm_server::start(config)).await.expect("server starts")
}

/// An HTTP client of the API.
#[derive(Clone, Debug)]
pub(crate) struct Api {
    /// Base URL.
    pub(crate) base: String,
    pub(crate) token: Option<String>,
    /// The client.
    pub(crate) http: reqwest::Client,
}

/// A response, read whole.
#[derive(Debug)]
pub(crate) struct Reply {
    /// Status.
    pub(crate) status: StatusCode,
    /// Headers.
    pub(crate) headers: HeaderMap,
    /// Body text.
    pub(crate) text: String,
}

impl Reply {
    /// Status and JSON body (`null` when not JSON).
    pub(crate) fn json(&self) -> (StatusCode, Value) {
        (self.status, serde_json::from_str(&self.text).unwrap_or(Value::Null))
    }

    /// The JSON body, asserting the status.
    pub(crate) fn expect(&self, status: StatusCode) -> Value {
        assert_eq!(self.status, status, "unexpected status; body: {}", self.text);
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }

    /// The `ETag` header value.
    pub(crate) fn etag(&self) -> String {
        self.headers.get("etag").and_then(|v| v.to_str().ok()).expect("an ETag").to_owned()
    }

    /// Asserts a problem+json of `status` and returns it.
    pub(crate) fn problem(&self, status: u16) -> Value {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.text);
        let ct = self.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
        assert_eq!(ct, "application/problem+json", "not a problem document: {}", self.text);
        let body: Value = serde_json::from_str(&self.text).expect("problem json");
        assert_eq!(body["status"].as_u64(), Some(u64::from(status)));
        assert!(body["type"].as_str().is_some_and(|t| t.starts_with("urn:crm:problem:")), "{body}");
        assert!(body["title"].is_string());
        body
    }
}

impl Api {
    /// A client for `base` with an optional bearer token.
    pub(crate) fn new(base: &str, token: Option<&str>) -> Self {
        Self { base: base.to_owned(), token: token.map(str::to_owned), http: reqwest::Client::new() }
    }

    /// The same client with another token.
    pub(crate) fn with_token(&self, token: Option<&str>) -> Self {
        Self { base: self.base.clone(), token: token.map(str::to_owned), http: self.http.clone() }
    }

    /// A request builder with the token.
    pub(crate) fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let mut r = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(t) = &self.token {
            r = r.bearer_auth(t);
        }
        r
    }

    /// Sends and reads the whole response.
    pub(crate) async fn send(&self, builder: reqwest::RequestBuilder) -> Reply {
        let response = builder.send().await.expect("request sent");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_default();
        assert!(!status.is_server_error(), "server error {status}: {text}");
        Reply { status, headers, text }
    }

    /// GET.
    pub(crate) async fn get(&self, path: &str) -> Reply {
        self.send(self.request(Method::GET, path)).await
    }

    /// POST a JSON body.
    pub(crate) async fn post(&self, path: &str, body: &Value) -> Reply {
        self.send(self.request(Method::POST, path).json(body)).await
    }

    /// A JSON body with `If-Match`.
    pub(crate) async fn send_if_match(&self, method: Method, path: &str, etag: &str, body: &Value) -> Reply {
        self.send(self.request(method, path).header("if-match", HeaderValue::from_str(etag).expect("etag")).json(body))
            .await
    }

    /// PATCH with `If-Match`.
    pub(crate) async fn patch(&self, path: &str, etag: &str, body: &Value) -> Reply {
        self.send_if_match(Method::PATCH, path, etag, body).await
    }

    /// POST with `If-Match`.
    pub(crate) async fn post_if_match(&self, path: &str, etag: &str, body: &Value) -> Reply {
        self.send_if_match(Method::POST, path, etag, body).await
    }

    /// Opens the caller's event stream and waits until it is ready.
    pub(crate) async fn events(&self) -> EventStream {
        self.events_after(None).await
    }

    /// Opens the event stream resuming after the event `last` (`Last-Event-ID`).
    pub(crate) async fn events_after(&self, last: Option<&str>) -> EventStream {
        let mut request = self.request(Method::GET, "/api/v1/events");
        if let Some(id) = last {
            request = request.header("last-event-id", id);
        }
        let response = request.send().await.expect("event stream");
        assert_eq!(response.status(), StatusCode::OK);
        let (tx, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(read_sse(response, tx));
        let mut stream = EventStream { rx, pending: VecDeque::new(), _task: AbortOnDrop(task) };
        stream.next_named("ready", Duration::from_secs(5)).await;
        stream
    }
}

/// One server-sent event.
#[derive(Clone, Debug)]
pub(crate) struct Sse {
    /// The event name.
    pub(crate) name: String,
    /// The data, as JSON.
    pub(crate) data: Value,
    /// The event id (its position in the feed).
    pub(crate) id: Option<String>,
}

async fn read_sse(mut response: reqwest::Response, tx: mpsc::UnboundedSender<Sse>) {
    let mut buffer = String::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let mut name = "message".to_owned();
            let mut data = String::new();
            let mut id = None;
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("id:") {
                    id = Some(v.trim().to_owned());
                }
                if let Some(v) = line.strip_prefix("event:") {
                    name = v.trim().to_owned();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.strip_prefix(' ').unwrap_or(v));
                }
            }
            if data.is_empty() && name == "message" {
                continue; // keep-alive comment
            }
            let data = serde_json::from_str(&data).unwrap_or(Value::String(data));
            if tx.send(Sse { name, data, id }).is_err() {
                return;
            }
        }
    }
}

#[derive(Debug)]
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The events received on a stream.
#[derive(Debug)]
pub(crate) struct EventStream {
    rx: mpsc::UnboundedReceiver<Sse>,
    pending: VecDeque<Sse>,
    _task: AbortOnDrop,
}

impl EventStream {
    /// The next event named `name` (others are kept for later), or a panic after `within`.
    pub(crate) async fn next_named(&mut self, name: &str, within: Duration) -> Sse {
        if let Some(i) = self.pending.iter().position(|e| e.name == name) {
            return self.pending.remove(i).expect("present");
        }
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(e)) if e.name == name => return e,
                Ok(Some(e)) => self.pending.push_back(e),
                Ok(None) => panic!("the event stream closed while waiting for {name}"),
                Err(_) => panic!("no {name} event within {within:?}; got {:?}", self.pending),
            }
        }
    }

    /// Every event named `name` received within `within`.
    pub(crate) async fn all_named(&mut self, name: &str, within: Duration) -> Vec<Sse> {
        let deadline = tokio::time::Instant::now() + within;
        while let Ok(Some(e)) = tokio::time::timeout_at(deadline, self.rx.recv()).await {
            self.pending.push_back(e);
        }
        let (matching, rest): (Vec<Sse>, Vec<Sse>) = self.pending.drain(..).partition(|e| e.name == name);
        self.pending = rest.into();
        matching
    }
}
