//! Connectors configured through the administration API (ADM-3, EXT-1; ADR 0042), against
//! a fake Salesforce over HTTP: a tenant's administrator configures one (the secret
//! write-only: never shown, kept by `"[redacted]"`, sealed in the store), tests it, changes
//! it with versions, and removes it; a second replica on the same database follows without
//! a restart; bad settings, references to the server's files, a server without a secrets
//! key and a key that does not open the stored configuration are clear answers, never a
//! 5xx.

use std::time::Duration;

use base64::Engine as _;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crm_server::connectors::Connectors;
use crm_server::secrets::SecretsKey;

use crate::external_restart::{CLIENT_ID, CLIENT_SECRET, FakeSalesforce};
use crate::helpers::{Api, Backend, Reply, TestDb, start_on_with_settings, test_settings};
use crate::on_both_backends;

const PATH: &str = "/api/v1/admin/connectors/salesforce";

fn key(byte: u8) -> SecretsKey {
    SecretsKey::from_base64(&base64::engine::general_purpose::STANDARD.encode([byte; 32])).expect("a key")
}

fn settings(fake: &FakeSalesforce, secret: &str) -> Value {
    json!({
        "login_url": fake.server.uri(),
        "api_version": "v62.0",
        "auth": {"flow": "client_credentials", "client_id": CLIENT_ID, "client_secret": secret},
        "http": {"max_retries": 0, "timeout_ms": 3000}
    })
}

async fn start(db: &TestDb, demo: bool, key: Option<SecretsKey>) -> crm_server::RunningServer {
    let mut s = test_settings();
    s.secrets_key = key;
    // Replicas run at once here: each keeps its own search index (a folder has one writer).
    s.search.dir = Some(std::env::temp_dir().join(format!("crm-e2e-connectors-search-{}", uuid::Uuid::now_v7())));
    start_on_with_settings(&db.url, demo, Connectors::none(), s).await
}

async fn put(api: &Api, etag: Option<&str>, body: &Value) -> Reply {
    let mut request = api.request(Method::PUT, PATH).json(body);
    if let Some(etag) = etag {
        request = request.header("if-match", etag);
    }
    api.send(request).await
}

/// The connection test's status (a 502 is an expected answer here, which `Api::send` would
/// take for a server fault).
async fn test_status(api: &Api) -> StatusCode {
    api.request(Method::POST, &format!("{PATH}/test")).send().await.expect("sent").status()
}

async fn configured_through_the_api_with_write_only_secrets_on_every_replica(backend: Backend) {
    let db = TestDb::fresh(&backend).await;
    let server = start(&db, true, Some(key(7))).await;
    let seed = server.demo.clone().expect("demo seed");
    let api = Api::new(&server.url(), Some(&seed.admin_token));
    let fake = FakeSalesforce::start().await;
    assert_eq!(api.get("/api/v1/admin/connectors").await.expect(StatusCode::OK), json!([]));

    // Created with a wrong secret: stored, shown redacted, refused by Salesforce.
    let created = put(&api, None, &settings(&fake, "not-the-secret")).await;
    let view = created.expect(StatusCode::CREATED);
    assert_eq!(created.etag(), "\"1\"");
    assert_eq!((view["source"].as_str(), view["version"].as_u64()), (Some("api"), Some(1)));
    assert_eq!(view["settings"]["auth"]["client_secret"], "[redacted]");
    assert_eq!(view["settings"]["auth"]["client_id"], CLIENT_ID);
    assert_eq!(test_status(&api).await, StatusCode::BAD_GATEWAY, "the wrong secret shows in the test");
    put(&api, None, &settings(&fake, "x")).await.problem(409);

    // The right secret, then a change that keeps it with "[redacted]".
    let fixed = put(&api, Some("\"1\""), &settings(&fake, CLIENT_SECRET)).await;
    fixed.expect(StatusCode::OK);
    assert_eq!(fixed.etag(), "\"2\"");
    assert_eq!(test_status(&api).await, StatusCode::OK);
    let mut kept = settings(&fake, "[redacted]");
    kept["http"]["timeout_ms"] = json!(4000);
    let kept = put(&api, Some("\"2\""), &kept).await;
    assert_eq!(kept.expect(StatusCode::OK)["settings"]["http"]["timeout_ms"], 4000);
    assert_eq!(test_status(&api).await, StatusCode::OK, "the stored secret was kept");
    put(&api, Some("\"2\""), &settings(&fake, CLIENT_SECRET)).await.problem(412);
    let listed = api.get("/api/v1/admin/connectors").await;
    assert!(!listed.text.contains(CLIENT_SECRET), "{}", listed.text);
    assert_eq!(listed.expect(StatusCode::OK)[0]["version"], 3);
    let found = api.get("/api/v1/external/salesforce/lookup?email=nobody%40example.com").await;
    assert_eq!(found.expect(StatusCode::OK), json!([]));

    // What the store holds: no secret in clear, the audit log neither.
    let stored = server.services.crm.all_connectors().await.expect("stored connectors");
    assert_eq!(stored.len(), 1);
    let doc = serde_json::to_string(&stored[0]).expect("json");
    assert!(!doc.contains(CLIENT_SECRET) && stored[0].sealed.starts_with("v1:"), "{doc}");
    let audit = api.get("/api/v1/audit?action=connector_written").await;
    assert!(!audit.text.contains(CLIENT_SECRET), "{}", audit.text);
    assert_eq!(audit.expect(StatusCode::OK)["items"].as_array().map(Vec::len), Some(3), "one entry per write");

    // Bad settings name what is wrong; the server's files stay its own.
    let mut unknown = settings(&fake, "[redacted]");
    unknown["colour"] = json!("blue");
    let problem = put(&api, Some("\"3\""), &unknown).await.problem(422);
    assert!(problem["errors"][0]["reason"].as_str().is_some_and(|r| r.contains("colour")), "{problem}");
    let stolen = settings(&fake, "[redacted]");
    let mut stolen = stolen;
    stolen["auth"]["client_secret"] = json!({"file": "/etc/passwd"});
    let problem = put(&api, Some("\"3\""), &stolen).await.problem(422);
    assert!(problem["errors"][0]["reason"].as_str().is_some_and(|r| r.contains("auth.client_secret")), "{problem}");
    api.send(api.request(Method::PUT, "/api/v1/admin/connectors/sugarcrm").json(&json!({}))).await.problem(422);

    // A second replica on the same database uses it, and follows its removal.
    let second = start(&db, false, Some(key(7))).await;
    let other = Api::new(&second.url(), Some(&seed.admin_token));
    assert_eq!(test_status(&other).await, StatusCode::OK, "built from the store at start");
    let gone = api.send(api.request(Method::DELETE, PATH).header("if-match", "\"3\"")).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{}", gone.text);
    api.get("/api/v1/external/salesforce/lookup?email=a%40example.com").await.problem(422);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while other.get("/api/v1/external/salesforce/lookup?email=a%40example.com").await.status
        != StatusCode::UNPROCESSABLE_ENTITY
    {
        assert!(tokio::time::Instant::now() < deadline, "the second replica never dropped the removed connector");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    second.stop().await.expect("stop");
    server.stop().await.expect("stop");

    // Without a key the API cannot hold secrets; with another key the stored connector is
    // left out (logged), not a failure.
    let keyless = start(&db, false, None).await;
    let api = Api::new(&keyless.url(), Some(&seed.admin_token));
    let problem = put(&api, None, &settings(&fake, CLIENT_SECRET)).await.problem(409);
    assert!(problem["detail"].as_str().is_some_and(|d| d.contains("secrets key")), "{problem}");
    keyless.stop().await.expect("stop");
    let first = start(&db, false, Some(key(7))).await;
    let api = Api::new(&first.url(), Some(&seed.admin_token));
    put(&api, None, &settings(&fake, CLIENT_SECRET)).await.expect(StatusCode::CREATED);
    first.stop().await.expect("stop");
    let rekeyed = start(&db, false, Some(key(9))).await;
    let api = Api::new(&rekeyed.url(), Some(&seed.admin_token));
    api.get("/api/v1/external/salesforce/lookup?email=a%40example.com").await.problem(422);
    let problem = put(&api, Some("\"1\""), &settings(&fake, "[redacted]")).await.problem(409);
    assert!(problem["detail"].as_str().is_some_and(|d| d.contains("does not open")), "{problem}");
    rekeyed.stop().await.expect("stop");
}

on_both_backends!(configured_through_the_api_with_write_only_secrets_on_every_replica);
