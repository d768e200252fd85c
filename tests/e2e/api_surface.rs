//! The API's surface: the served OpenAPI document agrees with the router (every documented
//! operation is routed, none answers 5xx to an empty request, If-Match is documented exactly
//! where it is required), idempotency keys, and the
//! operations endpoints.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestServer};

/// Routes every client relies on; the document must list them.
const EXPECTED: &[(&str, &str)] = &[
    ("post", "/api/v1/customers"),
    ("get", "/api/v1/customers"),
    ("get", "/api/v1/customers/{id}"),
    ("patch", "/api/v1/customers/{id}"),
    ("delete", "/api/v1/customers/{id}"),
    ("get", "/api/v1/lookup"),
    ("post", "/api/v1/merges"),
    ("post", "/api/v1/merges/{id}/undo"),
    ("post", "/api/v1/cases"),
    ("get", "/api/v1/cases"),
    ("patch", "/api/v1/cases/{id}"),
    ("get", "/api/v1/cases/{id}/history"),
    ("post", "/api/v1/cases/{id}/follow-ups"),
    ("post", "/api/v1/cases/{id}/attachments"),
    ("get", "/api/v1/cases/{id}/attachments"),
    ("post", "/api/v1/cases/{id}/follow-ups/{follow_up}/attachments"),
    ("get", "/api/v1/cases/{id}/follow-ups/{follow_up}/attachments"),
    ("get", "/api/v1/cases/{id}/attachments/{attachment}"),
    ("delete", "/api/v1/cases/{id}/attachments/{attachment}"),
    ("get", "/api/v1/cases/{id}/attachments/{attachment}/original"),
    ("post", "/api/v1/tasks"),
    ("get", "/api/v1/agenda"),
    ("post", "/api/v1/interactions"),
    ("post", "/api/v1/interactions/{id}/actions"),
    ("post", "/api/v1/interactions/{id}/case"),
    ("put", "/api/v1/interactions/{id}/disposition"),
    ("get", "/api/v1/dispositions"),
    ("put", "/api/v1/queues/{name}"),
    ("get", "/api/v1/agents"),
    ("patch", "/api/v1/agents/{id}"),
    ("get", "/api/v1/admin/connectors"),
    ("post", "/api/v1/admin/connectors/{system}/test"),
    ("get", "/api/v1/outbox"),
    ("post", "/api/v1/outbox/{id}/requeue"),
    ("post", "/api/v1/articles"),
    ("get", "/api/v1/articles/{id}/versions/{version}"),
    ("get", "/api/v1/articles/search"),
    ("post", "/api/v1/compose"),
    ("get", "/api/v1/groups"),
    ("patch", "/api/v1/groups/{id}"),
    ("delete", "/api/v1/groups/{id}"),
    ("put", "/api/v1/groups/{id}/members/{agent}"),
    ("delete", "/api/v1/groups/{id}/members/{agent}"),
    ("get", "/api/v1/queues"),
    ("get", "/api/v1/tokens"),
    ("delete", "/api/v1/tokens/{id}"),
    ("get", "/api/v1/operator/tenants"),
    ("patch", "/api/v1/operator/tenants/{id}"),
    ("get", "/api/v1/custom-fields/{id}"),
    ("patch", "/api/v1/custom-fields/{id}"),
    ("delete", "/api/v1/custom-fields/{id}"),
    ("get", "/api/v1/me"),
    ("get", "/api/v1/tenant"),
    ("patch", "/api/v1/tenant"),
    ("post", "/api/v1/cti/calls"),
    ("post", "/api/v1/cases/{id}/notify"),
    ("get", "/api/v1/cases/{id}/mails"),
    ("get", "/api/v1/mail/outbound"),
    ("post", "/api/v1/mail/outbound/{id}/requeue"),
    ("post", "/api/v1/mail/inbound"),
    ("get", "/api/v1/cases/{id}/inbound-mails"),
    ("get", "/api/v1/cases/{id}/mails/{mail}/raw"),
    ("get", "/api/v1/mail/rules"),
    ("put", "/api/v1/mail/rules"),
    ("post", "/api/v1/mail/rules/simulate"),
];

fn concrete(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').map_or(rest.len(), |e| start + e + 1);
        let name = &rest[start + 1..end - 1];
        out.push_str(&match name {
            "number" => "CS-000999".to_owned(),
            "name" => "support".to_owned(),
            _ => uuid::Uuid::now_v7().to_string(),
        });
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_served_openapi_document_and_the_router_agree() {
    let t = TestServer::start(&Backend::Sqlite).await;
    let api = t.admin();
    let doc = api.get("/api/v1/openapi.json").await.expect(StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().expect("paths");
    for (method, path) in EXPECTED {
        assert!(paths.get(*path).and_then(|p| p.get(*method)).is_some(), "{method} {path} is not documented");
    }
    let mut operations = 0;
    for (path, item) in paths {
        for (method, op) in item.as_object().expect("path item") {
            let Ok(m) = method.to_uppercase().parse::<Method>() else { continue };
            operations += 1;
            assert!(op["responses"].as_object().is_some_and(|r| !r.is_empty()), "{method} {path} has no responses");
            let url = concrete(path);
            if path == "/api/v1/events" {
                let r = api.request(m, &url).send().await.expect("sent");
                assert_eq!(r.status(), StatusCode::OK);
                continue;
            }
            let mut req = api.request(m.clone(), &url).header("if-match", "\"1\"");
            if matches!(m, Method::POST | Method::PUT | Method::PATCH) {
                req = req.json(&json!({}));
            }
            let reply = api.send(req).await;
            let body: Value = serde_json::from_str(&reply.text).unwrap_or(Value::Null);
            assert_ne!(reply.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path} is documented but not routed");
            assert_ne!(body["type"], "urn:crm:problem:no-route", "{method} {path} is documented but not routed");
            // The document lists If-Match exactly where the handler requires it (428 without).
            let documents_if_match = op["parameters"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|p| p["in"] == "header" && p["name"] == "If-Match"));
            let mut bare = api.request(m.clone(), &url);
            if matches!(m, Method::POST | Method::PUT | Method::PATCH) {
                bare = bare.json(&json!({}));
            }
            let without = api.send(bare).await;
            assert_eq!(
                without.status == StatusCode::PRECONDITION_REQUIRED,
                documents_if_match,
                "{method} {path}: If-Match documented: {documents_if_match}; without it the API answered {}",
                without.status
            );
        }
    }
    assert!(paths.contains_key("/api/v1/events"), "the event stream is documented");
    assert!(operations >= 45, "only {operations} operations documented");
    // The Swagger UI is served without any download.
    let ui = api.get("/api/v1/docs/").await;
    assert_eq!(ui.status, StatusCode::OK);
    assert!(ui.text.to_lowercase().contains("swagger"));
    t.server.stop().await.expect("clean stop");
}

async fn a_retried_create_with_the_same_idempotency_key_creates_once(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let api = t.admin();
    let body = json!({"name": "Idempotent Ida", "identities": [{"type": "email", "address": "ida@example.com"}]});
    let send = |body: Value, key: &str| {
        let req = api.request(Method::POST, "/api/v1/customers").header("idempotency-key", key).json(&body);
        api.send(req)
    };
    let first = send(body.clone(), "key-1").await;
    let second = send(body.clone(), "key-1").await;
    let a = first.expect(StatusCode::CREATED);
    let b = second.expect(StatusCode::CREATED);
    assert_eq!(a["id"], b["id"]);
    assert_eq!(second.headers.get("idempotent-replayed").and_then(|v| v.to_str().ok()), Some("true"));
    assert_eq!(first.etag(), second.etag());
    let found = api.get("/api/v1/customers?email=ida@example.com").await.expect(StatusCode::OK);
    assert_eq!(found["items"].as_array().expect("items").len(), 1);
    // The same key for another request is refused; another key creates again.
    send(json!({"name": "Someone Else"}), "key-1").await.problem(422);
    let third = send(body, "key-2").await.expect(StatusCode::CREATED);
    assert_ne!(third["id"], a["id"]);
    // Keys are per token: another token's same key is a new request.
    let demo = t.demo().clone();
    let sam = t.client_for(&demo.supervisor.to_string(), "supervisor").await;
    let other = sam
        .send(
            sam.request(Method::POST, "/api/v1/customers")
                .header("idempotency-key", "key-1")
                .json(&json!({"name": "Sam's"})),
        )
        .await;
    other.expect(StatusCode::CREATED);
    t.server.stop().await.expect("clean stop");
}

crate::on_both_backends!(a_retried_create_with_the_same_idempotency_key_creates_once);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn operations_endpoints_answer() {
    let t = TestServer::start(&Backend::Sqlite).await;
    let api = t.admin().with_token(None);
    assert_eq!(api.get("/healthz").await.status, StatusCode::OK);
    assert_eq!(api.get("/readyz").await.status, StatusCode::OK);
    let r = t.admin().get("/api/v1/me").await;
    assert!(r.headers.get("x-request-id").is_some(), "every response carries a request id");
    let metrics = api.get("/metrics").await;
    assert_eq!(metrics.status, StatusCode::OK);
    assert!(
        metrics.text.contains("crm_http_requests_total{method=\"GET\",route=\"/api/v1/me\",status=\"200\"}"),
        "{}",
        metrics.text
    );
    assert!(metrics.text.contains("crm_http_request_duration_seconds_bucket"));
    // On a SQLite file the screen pop reads on the caller's thread, and says so.
    assert_eq!(t.admin().get("/api/v1/lookup?phone=%2B33612345678").await.status, StatusCode::OK);
    let metrics = api.get("/metrics").await;
    assert!(metrics.text.contains("crm_sqlite_inline_reads_total{outcome=\"fell_back\"} 0"), "{}", metrics.text);
    assert!(!metrics.text.contains("crm_sqlite_inline_reads_total{outcome=\"served\"} 0"), "{}", metrics.text);
    t.server.stop().await.expect("clean stop");
}

/// The configured number of database connections reaches the store's pool, and `/metrics`
/// shows how full each pool is.
async fn the_database_connections_setting_sizes_the_pool(backend: Backend) {
    let db = crate::helpers::TestDb::fresh(&backend).await;
    let server = crm_server::start(crm_server::ServerConfig {
        database_url: db.url.clone(),
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        demo: true,
        settings: crm_server::state::Settings { database_connections: 3, ..crate::helpers::test_settings() },
        connectors: crm_server::connectors::Connectors::none(),
    })
    .await
    .expect("server starts");
    let token = server.demo.as_ref().expect("demo seed").admin_token.clone();
    let admin = crate::helpers::Api::new(&server.url(), Some(&token));
    assert_eq!(admin.get("/api/v1/lookup?phone=%2B33612345678").await.status, StatusCode::OK);
    let metrics = admin.with_token(None).get("/metrics").await;
    assert_eq!(metrics.status, StatusCode::OK);
    let gauge = |pool: &str, state: &str| -> u32 {
        let prefix = format!("crm_db_pool_connections{{pool=\"{pool}\",state=\"{state}\"}} ");
        let line = metrics.text.lines().find_map(|l| l.strip_prefix(prefix.as_str()));
        line.and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("no {prefix} in {}", metrics.text))
    };
    let pool = if matches!(backend, Backend::Sqlite) {
        // A SQLite file: the setting sizes the read pool; writes have their one connection.
        assert_eq!(gauge("write", "max"), 1);
        "read"
    } else {
        "main"
    };
    assert_eq!(gauge(pool, "max"), 3);
    let (open, idle) = (gauge(pool, "open"), gauge(pool, "idle"));
    assert!((1..=3).contains(&open) && idle <= open, "open {open}, idle {idle}");
    server.stop().await.expect("clean stop");
}

crate::on_both_backends!(the_database_connections_setting_sizes_the_pool);
