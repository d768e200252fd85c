//! The durable outbox of external CRM pushes (INT-6, EXT-1) against a fake Salesforce
//! speaking the REST API over HTTP (wiremock on 127.0.0.1; connectors spec §1.1, §1.3, §5),
//! with the connector configured from TOML as an operator would:
//! - a call wrapped up while Salesforce answers 503 survives a server restart and is
//!   delivered exactly once when Salesforce is back, with the right Task fields;
//! - a push Salesforce refuses (400 `INVALID_FIELD`) is dead at once, listed by
//!   `GET /api/v1/outbox?status=dead`, requeued through the API, then delivered.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crm_core::time::{Clock, SystemClock};
use crm_server::RunningServer;
use crm_server::connectors::{Connectors, RawConnector};

use crate::helpers::{Api, Backend, TestDb, start_on, start_on_with};
use crate::on_both_backends;

const CLIENT_ID: &str = "3MVG9e2e";
const CLIENT_SECRET: &str = "e2e-very-secret";
const ACCESS_TOKEN: &str = "00Dfake!AR.e2e";

/// How the fake answers the Task upserts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// 503, as during an outage.
    Down,
    /// 400 `INVALID_FIELD`, as when the org lacks a field.
    Refuse,
    /// The documented upsert answers.
    Up,
}

/// A fake Salesforce org: the client-credentials token endpoint and the Task upsert by
/// `Interaction_Id__c`, storing activities by key.
#[derive(Clone)]
struct FakeSalesforce {
    server: Arc<MockServer>,
    mode: Arc<Mutex<Mode>>,
    tasks: Arc<Mutex<BTreeMap<String, Value>>>,
}

struct TokenEndpoint {
    instance_url: String,
}

impl Respond for TokenEndpoint {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let form: BTreeMap<String, String> = url_form(&request.body);
        let ok = form.get("grant_type").map(String::as_str) == Some("client_credentials")
            && form.get("client_id").map(String::as_str) == Some(CLIENT_ID)
            && form.get("client_secret").map(String::as_str) == Some(CLIENT_SECRET);
        if !ok {
            return ResponseTemplate::new(400)
                .set_body_json(json!({"error": "invalid_client", "error_description": "invalid client credentials"}));
        }
        ResponseTemplate::new(200).set_body_json(json!({
            "access_token": ACCESS_TOKEN,
            "signature": "c2ln",
            "scope": "api",
            "instance_url": self.instance_url,
            "id": format!("{}/id/00Dfake/005fake", self.instance_url),
            "token_type": "Bearer",
            "issued_at": "1700000000000"
        }))
    }
}

fn url_form(body: &[u8]) -> BTreeMap<String, String> {
    String::from_utf8_lossy(body)
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

fn decode(s: &str) -> String {
    let bytes = s.replace('+', " ").into_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = (bytes[i] == b'%' && i + 2 < bytes.len())
            .then(|| u8::from_str_radix(&String::from_utf8_lossy(&bytes[i + 1..i + 3]), 16).ok())
            .flatten();
        if let Some(b) = hex {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

struct TaskUpsert {
    mode: Arc<Mutex<Mode>>,
    tasks: Arc<Mutex<BTreeMap<String, Value>>>,
}

impl Respond for TaskUpsert {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let bearer = request.headers.get("authorization").and_then(|v| v.to_str().ok());
        if bearer != Some(&format!("Bearer {ACCESS_TOKEN}")) {
            return ResponseTemplate::new(401)
                .set_body_json(json!([{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]));
        }
        let mode = *self.mode.lock().expect("mode");
        match mode {
            Mode::Down => {
                return ResponseTemplate::new(503).set_body_json(
                    json!([{"message": "The server is unavailable", "errorCode": "SERVER_UNAVAILABLE"}]),
                );
            }
            Mode::Refuse => {
                return ResponseTemplate::new(400).set_body_json(json!([{
                    "message": "No such column 'CallDisposition' on sobject of type Task",
                    "errorCode": "INVALID_FIELD",
                    "fields": ["CallDisposition"]
                }]));
            }
            Mode::Up => {}
        }
        let Some(key) = request.url.path().rsplit('/').next().map(str::to_owned) else {
            return ResponseTemplate::new(404);
        };
        let Ok(body) = serde_json::from_slice::<Value>(&request.body) else {
            return ResponseTemplate::new(400)
                .set_body_json(json!([{"message": "bad json", "errorCode": "JSON_PARSER_ERROR"}]));
        };
        let mut tasks = self.tasks.lock().expect("tasks");
        let count = tasks.len();
        match tasks.get_mut(&key) {
            Some(existing) => {
                if body.get("TaskSubtype").is_some() {
                    return ResponseTemplate::new(400).set_body_json(json!([{
                        "message": "Unable to create/update fields: TaskSubtype.",
                        "errorCode": "INVALID_FIELD_FOR_INSERT_UPDATE",
                        "fields": ["TaskSubtype"]
                    }]));
                }
                let id = existing["Id"].clone();
                if let (Some(old), Some(new)) = (existing.as_object_mut(), body.as_object()) {
                    old.extend(new.clone());
                }
                ResponseTemplate::new(200)
                    .set_body_json(json!({"id": id, "errors": [], "success": true, "created": false}))
            }
            None => {
                let id = format!("00T{:015}", count + 1);
                let mut stored = body;
                stored["Id"] = json!(id);
                tasks.insert(key, stored);
                ResponseTemplate::new(201)
                    .set_body_json(json!({"id": id, "errors": [], "success": true, "created": true}))
            }
        }
    }
}

/// SOQL queries (the connection test's email search): no rows when up, 503 when down.
struct Query {
    mode: Arc<Mutex<Mode>>,
}

impl Respond for Query {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        match *self.mode.lock().expect("mode") {
            Mode::Down => ResponseTemplate::new(503)
                .set_body_json(json!([{"message": "The server is unavailable", "errorCode": "SERVER_UNAVAILABLE"}])),
            _ => ResponseTemplate::new(200).set_body_json(json!({"totalSize": 0, "done": true, "records": []})),
        }
    }
}

/// `POST /composite` of SOQL queries (the connection test's email search): no rows for
/// each when up, 503 when down.
struct Composite {
    mode: Arc<Mutex<Mode>>,
}

impl Respond for Composite {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        if *self.mode.lock().expect("mode") == Mode::Down {
            return ResponseTemplate::new(503)
                .set_body_json(json!([{"message": "The server is unavailable", "errorCode": "SERVER_UNAVAILABLE"}]));
        }
        crate::external_restart::no_rows_for_each_query(request)
    }
}

impl FakeSalesforce {
    async fn start(mode: Mode) -> Self {
        let server = MockServer::start().await;
        let fake = Self {
            server: Arc::new(server),
            mode: Arc::new(Mutex::new(mode)),
            tasks: Arc::new(Mutex::new(BTreeMap::new())),
        };
        Mock::given(method("POST"))
            .and(path("/services/oauth2/token"))
            .respond_with(TokenEndpoint { instance_url: fake.server.uri() })
            .mount(&fake.server)
            .await;
        Mock::given(method("PATCH"))
            .and(path_regex(r"^/services/data/v\d+\.\d/sobjects/Task/Interaction_Id__c/[^/]+$"))
            .respond_with(TaskUpsert { mode: fake.mode.clone(), tasks: fake.tasks.clone() })
            .mount(&fake.server)
            .await;
        Mock::given(method("POST"))
            .and(path_regex(r"^/services/data/v\d+\.\d/composite$"))
            .respond_with(Composite { mode: fake.mode.clone() })
            .mount(&fake.server)
            .await;
        Mock::given(method("GET"))
            .and(path_regex(r"^/services/data/v\d+\.\d/query/?$"))
            .respond_with(Query { mode: fake.mode.clone() })
            .mount(&fake.server)
            .await;
        fake
    }

    fn set(&self, mode: Mode) {
        *self.mode.lock().expect("mode") = mode;
    }

    fn tasks(&self) -> BTreeMap<String, Value> {
        self.tasks.lock().expect("tasks").clone()
    }

    async fn upsert_attempts(&self) -> usize {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .filter(|r| r.method.as_str() == "PATCH")
            .count()
    }

    /// The tenant's `[[connectors]]` entry, as an operator writes it.
    fn connectors(&self, tenant: &str) -> Connectors {
        let text = format!(
            r#"
[[connectors]]
tenant = "{tenant}"
system = "salesforce"
[connectors.salesforce]
login_url = "{login}"
api_version = "v62.0"
[connectors.salesforce.auth]
flow = "client_credentials"
client_id = "{CLIENT_ID}"
client_secret = "{CLIENT_SECRET}"
[connectors.salesforce.http]
max_retries = 0
timeout_ms = 3000
"#,
            login = self.server.uri()
        );
        #[derive(serde::Deserialize)]
        struct File {
            connectors: Vec<RawConnector>,
        }
        let file: File = toml::from_str(&text).expect("connector toml");
        let specs = crm_server::connectors::parse(&file.connectors, &|_| None).expect("connector config");
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        Connectors::build(specs, &clock).expect("connectors build")
    }
}

/// Polls `check` until it holds or `within` passes.
async fn eventually<F, Fut>(what: &str, within: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The outbox entries of an interaction with a status.
async fn outbox(api: &Api, status: &str, interaction: &str) -> Vec<Value> {
    let body = api.get(&format!("/api/v1/outbox?status={status}&interaction={interaction}&limit=200")).await;
    body.expect(StatusCode::OK)["items"].as_array().cloned().unwrap_or_default()
}

/// A call from a caller, linked to a Salesforce contact, with a note and a disposition,
/// wrapped up. Returns the interaction id.
async fn wrapped_up_call(api: &Api, contact: &str, note: &str) -> String {
    let pop = api.post("/api/v1/cti/calls", &json!({"phone": "+33 1 44 27 00 00"})).await.expect(StatusCode::CREATED);
    let id = pop["interaction"]["id"].as_str().expect("interaction id").to_owned();
    let path = format!("/api/v1/interactions/{id}");
    let read = api.get(&path).await;
    let step = api.post_if_match(&format!("{path}/actions"), &read.etag(), &json!({"action": "accept"})).await;
    step.expect(StatusCode::OK);
    let reference = json!({"system": "salesforce", "object": "contact", "id": contact});
    let step = api
        .post_if_match(&format!("{path}/links"), &step.etag(), &json!({"type": "external", "reference": reference}))
        .await;
    step.expect(StatusCode::OK);
    let step = api.post_if_match(&format!("{path}/notes"), &step.etag(), &json!({"text": note})).await;
    step.expect(StatusCode::OK);
    let step = api.post_if_match(&format!("{path}/actions"), &step.etag(), &json!({"action": "end"})).await;
    step.expect(StatusCode::OK);
    let step = api
        .send_if_match(reqwest::Method::PUT, &format!("{path}/disposition"), &step.etag(), &json!({"code": "resolved"}))
        .await;
    step.expect(StatusCode::OK);
    let step =
        api.post_if_match(&format!("{path}/actions"), &step.etag(), &json!({"action": "complete_wrap_up"})).await;
    assert_eq!(step.expect(StatusCode::OK)["state"], "closed");
    id
}

async fn a_push_survives_a_restart_and_is_delivered_once(backend: Backend) {
    let db = TestDb::fresh(&backend).await;
    // First start: the demo tenant, whose id the operator puts in the configuration.
    let first = start_on(&db.url, true).await;
    let demo = first.demo.clone().expect("demo");
    first.stop().await.expect("stop");
    let tenant = demo.tenant.to_string();

    let fake = FakeSalesforce::start(Mode::Down).await;
    let server: RunningServer = start_on_with(&db.url, false, fake.connectors(&tenant)).await;
    let api = Api::new(&server.url(), Some(&demo.admin_token));

    // The administration view shows the connector, not its secret.
    let view = api.get("/api/v1/admin/connectors").await;
    assert!(!view.text.contains(CLIENT_SECRET), "the secret leaks: {}", view.text);
    let view = view.expect(StatusCode::OK);
    assert_eq!(view[0]["system"], "salesforce");
    assert_eq!(view[0]["settings"]["auth"]["client_secret"], "[redacted]");
    assert_eq!(view[0]["settings"]["auth"]["client_id"], CLIENT_ID);
    // An agent may not see it, nor the outbox.
    let token = api
        .post("/api/v1/tokens", &json!({"agent": demo.agent, "role": "agent"}))
        .await
        .expect(StatusCode::CREATED)["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let agent = api.with_token(Some(&token));
    agent.get("/api/v1/admin/connectors").await.problem(403);
    agent.get("/api/v1/outbox").await.problem(403);
    agent.post("/api/v1/admin/connectors/salesforce/test", &json!({})).await.problem(403);
    // The connection test says why it fails (a 503 problem naming the system), which
    // `Api::send` would take for a server fault: read it raw.
    let down =
        api.request(reqwest::Method::POST, "/api/v1/admin/connectors/salesforce/test").send().await.expect("sent");
    assert_eq!(down.status(), StatusCode::SERVICE_UNAVAILABLE);
    let down: Value = down.json().await.expect("problem");
    assert_eq!(down["type"], "urn:crm:problem:unavailable");
    let detail = down["detail"].as_str().unwrap_or_default();
    assert!(detail.starts_with("salesforce connection test failed"), "{down}");
    assert!(detail.contains("SERVER_UNAVAILABLE"), "the vendor's own text: {down}");
    api.post("/api/v1/admin/connectors/dynamics/test", &json!({})).await.problem(422);

    let note = "Caller could not log in; password reset sent.";
    let interaction = wrapped_up_call(&api, "003E2E000000001", note).await;
    // Salesforce is down: the push fails and waits, pending, with the failure recorded.
    eventually("a failed delivery attempt", Duration::from_secs(20), || async {
        let pending = outbox(&api, "pending", &interaction).await;
        pending.first().is_some_and(|e| e["attempts"].as_u64().unwrap_or(0) >= 1 && e["last_error"].is_string())
    })
    .await;
    assert!(fake.upsert_attempts().await >= 1);
    assert!(fake.tasks().is_empty());
    server.stop().await.expect("stop");

    // Salesforce comes back while the server is down; the server starts again.
    fake.set(Mode::Up);
    let server = start_on_with(&db.url, false, fake.connectors(&tenant)).await;
    let api = Api::new(&server.url(), Some(&demo.admin_token));
    let checked = api.post("/api/v1/admin/connectors/salesforce/test", &json!({})).await.expect(StatusCode::OK);
    assert_eq!(checked, json!({"system": "salesforce", "ok": true}));
    eventually("the delivery after the restart", Duration::from_secs(20), || async {
        outbox(&api, "delivered", &interaction).await.len() == 1
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let tasks = fake.tasks();
    assert_eq!(tasks.len(), 1, "exactly one activity remotely: {tasks:?}");
    let (key, task) = tasks.iter().next().expect("one task");
    assert!(key.starts_with(&interaction), "keyed by the interaction: {key}");
    assert_eq!(task["WhoId"], "003E2E000000001");
    assert!(task.get("WhatId").is_none(), "{task}");
    assert!(task["CallDurationInSeconds"].is_u64(), "{task}");
    assert!(task["CallDisposition"].as_str().is_some_and(|d| !d.is_empty()), "{task}");
    assert!(task["Description"].as_str().is_some_and(|d| d.contains(note)), "{task}");
    assert_eq!(task["TaskSubtype"], "Call");
    assert_eq!(task["CallType"], "Inbound");
    assert_eq!(task["Status"], "Completed");
    assert!(outbox(&api, "pending", &interaction).await.is_empty());

    // A refusal is dead at once; a person fixes the org and requeues it.
    fake.set(Mode::Refuse);
    let refused = wrapped_up_call(&api, "003E2E000000002", "Second call.").await;
    eventually("a dead entry", Duration::from_secs(20), || async { outbox(&api, "dead", &refused).await.len() == 1 })
        .await;
    let dead = outbox(&api, "dead", &refused).await;
    assert!(dead[0]["last_error"].as_str().is_some_and(|e| e.contains("INVALID_FIELD")), "{dead:?}");
    let all_dead = api.get("/api/v1/outbox?status=dead").await.expect(StatusCode::OK);
    assert!(all_dead["items"].as_array().is_some_and(|i| i.len() == 1), "{all_dead}");
    crate::openapi_check::answers("an outbox page", reqwest::Method::GET, "/api/v1/outbox", 200, &all_dead);
    let id = dead[0]["event"]["id"].as_str().expect("event id").to_owned();
    fake.set(Mode::Up);
    let requeued = api.post(&format!("/api/v1/outbox/{id}/requeue"), &json!({})).await;
    assert_eq!(requeued.status, StatusCode::NO_CONTENT, "{}", requeued.text);
    eventually("the requeued delivery", Duration::from_secs(20), || async {
        outbox(&api, "delivered", &refused).await.len() == 1
    })
    .await;
    api.post(&format!("/api/v1/outbox/{id}/requeue"), &json!({})).await.problem(409);
    api.post(&format!("/api/v1/outbox/{}/requeue", uuid::Uuid::now_v7()), &json!({})).await.problem(404);
    api.get("/api/v1/outbox?status=lost").await.problem(422);
    let tasks = fake.tasks();
    assert_eq!(tasks.len(), 2, "{tasks:?}");
    assert!(tasks.values().any(|t| t["WhoId"] == "003E2E000000002"));
    server.stop().await.expect("stop");
}

on_both_backends!(a_push_survives_a_restart_and_is_delivered_once);

/// The queue tables' planner statistics are refreshed by `SqlStore::analyze_queues` (what
/// the pruner's round runs when autovacuum is off): on PostgreSQL both tables show an
/// analyze.
async fn queue_tables_get_fresh_planner_statistics(backend: Backend) {
    let db = TestDb::fresh(&backend).await;
    // No demo: its seed ends with a VACUUM (ANALYZE) of every table.
    let server = start_on(&db.url, false).await;
    let sql = server.services.sql.as_ref().expect("the server runs on the SQL store");
    sql.analyze_queues().await.expect("ANALYZE the queue tables");
    if let Backend::Postgres(_) = backend {
        use sea_orm::ConnectionTrait;
        let conn = sea_orm::Database::connect(db.url.as_str()).await.expect("connect");
        let rows = conn
            .query_all_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Postgres,
                "SELECT relname FROM pg_stat_user_tables WHERE last_analyze IS NOT NULL \
                 AND relname IN ('outbox', 'live_events') ORDER BY relname",
            ))
            .await
            .expect("read pg_stat_user_tables");
        let analyzed: Vec<String> = rows.iter().map(|r| r.try_get("", "relname").expect("relname")).collect();
        assert_eq!(analyzed, ["live_events", "outbox"]);
        let _ = conn.close().await;
    }
    server.stop().await.expect("stop");
}

on_both_backends!(queue_tables_get_fresh_planner_statistics);
