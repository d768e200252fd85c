//! External CRM writes across a `kill -9` (issue 26, INT-6, INT-7): the real `crm-server`
//! binary (`crate::process`) talks to a fake Salesforce speaking the REST API over HTTP
//! (wiremock on 127.0.0.1). The fake stores an upsert the moment it receives it and can
//! hold its answer back, as a remote that committed while the answer was still on its way;
//! the server is killed with SIGKILL then, and started again on the same database:
//! - during the create of a contact asked for during a call: after the restart the worker
//!   takes the create over (after `push_lease_secs`), upserts the same key, and links the
//!   interaction to the ONE contact the remote holds;
//! - during the push of that call's wrap-up activity: after the restart the push is made
//!   again on the same key, and the remote holds ONE task.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::helpers::{Api, Backend, TestDb};
use crate::on_both_backends;
use crate::process::{ServerProcess, free_port, server_binary};

pub(crate) const CLIENT_ID: &str = "3MVG9restart";
pub(crate) const CLIENT_SECRET: &str = "restart-very-secret";
const ACCESS_TOKEN: &str = "00Dfake!AR.restart";

/// What the fake Salesforce holds: records by `(sobject, key)`, and whether it keeps its
/// upsert answers back.
#[derive(Default)]
struct Org {
    records: BTreeMap<(String, String), Value>,
    upserts: Vec<(String, String)>,
    hold_answers: bool,
}

/// A fake Salesforce org (also used by `admin_connectors`).
#[derive(Clone)]
pub(crate) struct FakeSalesforce {
    pub(crate) server: Arc<MockServer>,
    org: Arc<Mutex<Org>>,
}

struct Token {
    instance_url: String,
}

impl Respond for Token {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body = String::from_utf8_lossy(&request.body);
        if !body.contains(&format!("client_secret={CLIENT_SECRET}")) {
            return ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_client"}));
        }
        ResponseTemplate::new(200).set_body_json(json!({
            "access_token": ACCESS_TOKEN,
            "instance_url": self.instance_url,
            "id": format!("{}/id/00Dfake/005fake", self.instance_url),
            "token_type": "Bearer",
            "issued_at": "1700000000000",
            "signature": "c2ln"
        }))
    }
}

/// `PATCH /sobjects/{Obj}/{field}/{key}`: stored on receipt (201 the first time, 200
/// after), the answer held back for a minute while `hold_answers` is set.
struct Upsert {
    org: Arc<Mutex<Org>>,
}

impl Respond for Upsert {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let bearer = request.headers.get("authorization").and_then(|v| v.to_str().ok());
        if bearer != Some(&format!("Bearer {ACCESS_TOKEN}")) {
            return ResponseTemplate::new(401)
                .set_body_json(json!([{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]));
        }
        let parts: Vec<&str> = request.url.path().rsplit('/').take(3).collect();
        let [key, _field, sobject] = parts[..] else { return ResponseTemplate::new(404) };
        let Ok(body) = serde_json::from_slice::<Value>(&request.body) else {
            return ResponseTemplate::new(400).set_body_json(json!([{"errorCode": "JSON_PARSER_ERROR"}]));
        };
        let mut org = self.org.lock().expect("org");
        org.upserts.push((sobject.to_owned(), key.to_owned()));
        let count = org.records.len();
        let slot = (sobject.to_owned(), key.to_owned());
        let (status, id) = match org.records.get(&slot) {
            Some(existing) => (200, existing["Id"].clone()),
            None => {
                let id = json!(format!("{}{:015}", &sobject[..3], count + 1));
                let mut stored = body;
                stored["Id"] = id.clone();
                org.records.insert(slot, stored);
                (201, id)
            }
        };
        let answer = ResponseTemplate::new(status).set_body_json(json!({
            "id": id, "success": true, "errors": [], "created": status == 201
        }));
        if org.hold_answers { answer.set_delay(Duration::from_secs(60)) } else { answer }
    }
}

/// `POST /composite` of SOQL queries (the email search): no rows for any of them.
struct Composite;

impl Respond for Composite {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        no_rows_for_each_query(request)
    }
}

/// The Composite API's answer to a request of SOQL queries when none has a row.
pub(crate) fn no_rows_for_each_query(request: &Request) -> ResponseTemplate {
    {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
        let answers: Vec<Value> = body["compositeRequest"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|sub| {
                json!({"body": {"totalSize": 0, "done": true, "records": []}, "httpHeaders": {},
                       "httpStatusCode": 200, "referenceId": sub["referenceId"]})
            })
            .collect();
        ResponseTemplate::new(200).set_body_json(json!({"compositeResponse": answers}))
    }
}

impl FakeSalesforce {
    pub(crate) async fn start() -> Self {
        let server = Arc::new(MockServer::start().await);
        let fake = Self { server: server.clone(), org: Arc::default() };
        Mock::given(method("POST"))
            .and(path("/services/oauth2/token"))
            .respond_with(Token { instance_url: server.uri() })
            .mount(&server)
            .await;
        Mock::given(method("PATCH"))
            .and(path_regex(r"^/services/data/v\d+\.\d/sobjects/(Contact|Task)/[A-Za-z_]+__c/[^/]+$"))
            .respond_with(Upsert { org: fake.org.clone() })
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path_regex(r"^/services/data/v\d+\.\d/composite$"))
            .respond_with(Composite)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path_regex(r"^/services/data/v\d+\.\d/query/?$"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({"totalSize": 0, "done": true, "records": []})),
            )
            .mount(&server)
            .await;
        fake
    }

    fn hold_answers(&self, hold: bool) {
        self.org.lock().expect("org").hold_answers = hold;
    }

    /// The records of `sobject`, by key.
    fn records(&self, sobject: &str) -> BTreeMap<String, Value> {
        let org = self.org.lock().expect("org");
        org.records.iter().filter(|((o, _), _)| o == sobject).map(|((_, k), v)| (k.clone(), v.clone())).collect()
    }

    /// How many upserts of `sobject` arrived.
    fn upserts(&self, sobject: &str) -> usize {
        self.org.lock().expect("org").upserts.iter().filter(|(o, _)| o == sobject).count()
    }
}

async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn external_writes_survive_a_kill_9_and_the_remote_holds_one_record_each(backend: Backend) {
    let Some(bin) = server_binary("the external restart test") else { return };
    let db = TestDb::fresh(&backend).await;
    let work = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let config = work.path().join("crm.toml");
    let base = format!(
        "database_url = \"{}\"\nlisten = \"127.0.0.1:{port}\"\npush_lease_secs = 2\n\n\
         [push_retry]\nmax_attempts = 1000\nbase_delay_secs = 1\nmax_delay_secs = 1\n\n\
         [attachments]\nstore = \"fs\"\ndir = \"{}\"\n",
        db.url,
        work.path().join("blobs").display()
    );
    std::fs::write(&config, &base).expect("write the configuration");
    // First start: the demo tenant, whose id the operator puts in `[[connectors]]`.
    let first = ServerProcess::start(&bin, &config, port);
    let token = first.token.clone().expect("the first start prints the demo administrator's token");
    let api = Api::new(&first.url, Some(&token));
    let tenant = api.get("/api/v1/tenant").await.expect(StatusCode::OK)["id"].as_str().expect("id").to_owned();
    first.kill_9();

    let fake = FakeSalesforce::start().await;
    let connector = format!(
        "\n[[connectors]]\ntenant = \"{tenant}\"\nsystem = \"salesforce\"\n\
         [connectors.salesforce]\nlogin_url = \"{}\"\napi_version = \"v62.0\"\n\
         [connectors.salesforce.auth]\nflow = \"client_credentials\"\nclient_id = \"{CLIENT_ID}\"\n\
         client_secret = \"{CLIENT_SECRET}\"\n[connectors.salesforce.http]\nmax_retries = 0\ntimeout_ms = 30000\n",
        fake.server.uri()
    );
    std::fs::write(&config, format!("{base}{connector}")).expect("write the configuration");
    let server = ServerProcess::start(&bin, &config, port);
    let api = Api::new(&server.url, Some(&token));

    // A call; the agent asks for a new contact while Salesforce keeps its answers back.
    let pop = api.post("/api/v1/cti/calls", &json!({"phone": "+33 1 44 27 00 00"})).await.expect(StatusCode::CREATED);
    let id = pop["interaction"]["id"].as_str().expect("interaction id").to_owned();
    let path = format!("/api/v1/interactions/{id}");
    let read = api.get(&path).await;
    let accepted = api.post_if_match(&format!("{path}/actions"), &read.etag(), &json!({"action": "accept"})).await;
    accepted.expect(StatusCode::OK);
    fake.hold_answers(true);
    let asking = {
        let api = api.clone();
        let (url, etag) = (format!("{path}/external/salesforce"), accepted.etag());
        let contact = json!({"kind": "contact", "first_name": "Marie", "last_name": "Curie", "phone": "+33144270000"});
        tokio::spawn(async move {
            api.request(reqwest::Method::POST, &url).header("if-match", etag).json(&contact).send().await
        })
    };
    eventually("the contact's upsert at Salesforce", async || fake.upserts("Contact") == 1).await;
    server.kill_9();
    assert!(asking.await.expect("joined").is_err(), "the request died with the server");
    assert_eq!(fake.records("Contact").len(), 1, "Salesforce committed the contact");

    // Restarted: the worker takes the create over and links the one contact.
    fake.hold_answers(false);
    let server = ServerProcess::start(&bin, &config, port);
    let api = Api::new(&server.url, Some(&token));
    let mut linked = Value::Null;
    eventually("the contact linked after the restart", async || {
        let body = api.get(&path).await.expect(StatusCode::OK);
        let done = body["external_creates"].as_array().is_some_and(Vec::is_empty)
            && body["links"].as_array().is_some_and(|l| l.iter().any(|l| l["target"]["type"] == "external"));
        linked = body;
        done
    })
    .await;
    let contacts = fake.records("Contact");
    assert_eq!(contacts.len(), 1, "exactly one contact remotely: {contacts:?}");
    assert!(fake.upserts("Contact") >= 2, "the create was made again on its key");
    let (key, contact) = contacts.iter().next().expect("one contact");
    assert!(key.starts_with(&id) && key.ends_with("-contact-1"), "{key}");
    assert_eq!(contact["LastName"], "Curie");
    let link = linked["links"].as_array().expect("links").iter().find(|l| l["target"]["type"] == "external").cloned();
    assert_eq!(link.expect("linked")["target"]["reference"]["id"], contact["Id"]);

    // The wrap-up's push, killed while Salesforce holds its answer back.
    fake.hold_answers(true);
    let read = api.get(&path).await;
    let ended = api.post_if_match(&format!("{path}/actions"), &read.etag(), &json!({"action": "end"})).await;
    let closed =
        api.post_if_match(&format!("{path}/actions"), &ended.etag(), &json!({"action": "complete_wrap_up"})).await;
    assert_eq!(closed.expect(StatusCode::OK)["state"], "closed");
    eventually("the task's upsert at Salesforce", async || fake.upserts("Task") >= 1).await;
    server.kill_9();
    assert_eq!(fake.records("Task").len(), 1, "Salesforce committed the task");
    fake.hold_answers(false);
    let server = ServerProcess::start(&bin, &config, port);
    let api = Api::new(&server.url, Some(&token));
    eventually("the push delivered after the restart", async || {
        let body = api.get(&format!("/api/v1/outbox?status=delivered&interaction={id}&limit=50")).await;
        let items = body.expect(StatusCode::OK)["items"].as_array().cloned().unwrap_or_default();
        items.iter().any(|e| e["event"]["kind"]["type"] == "activity_push_requested")
    })
    .await;
    let tasks = fake.records("Task");
    assert_eq!(tasks.len(), 1, "exactly one task remotely: {tasks:?}");
    assert!(fake.upserts("Task") >= 2, "the push was made again on its key");
    assert_eq!(tasks.values().next().expect("one task")["WhoId"], contact["Id"]);
    drop(server);
}

on_both_backends!(external_writes_survive_a_kill_9_and_the_remote_holds_one_record_each);
