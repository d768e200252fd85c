//! Administration through the API (ADM-1…ADM-3): tokens listed without their secret,
//! revoked (refused at once on this replica, within a second on another), expiring, with
//! their last use recorded.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crm_core::time::{Clock as _, SystemClock};

use crate::helpers::{Api, Backend, TestServer, start_on};
use crate::on_both_backends;
use crate::openapi_check::answers;

/// Creates a token over the API and returns its body (`token`, `id` …).
async fn new_token(admin: &Api, body: &Value) -> Value {
    let created = admin.post("/api/v1/tokens", body).await.expect(StatusCode::CREATED);
    answers("created token", Method::POST, "/api/v1/tokens", 201, &created);
    created
}

async fn tokens_are_listed_revoked_and_expire(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let demo = t.demo().clone();
    let admin = t.admin();

    // Bad input names its field.
    let past = (SystemClock.now() - chrono::Duration::minutes(1)).to_rfc3339();
    let p = admin.post("/api/v1/tokens", &json!({"agent": demo.agent, "role": "agent", "expires_at": past})).await;
    assert_eq!(p.problem(422)["errors"][0]["field"], "expires_at");
    let p = admin.post("/api/v1/tokens", &json!({"agent": demo.agent, "role": "agent", "expires_at": "soon"})).await;
    assert!(p.problem(422).to_string().contains("expires_at"), "{}", p.text);

    // A token used once has its last use listed; the list never shows a secret.
    let created = new_token(&admin, &json!({"agent": demo.agent, "role": "agent", "label": "kiosk"})).await;
    let secret = created["token"].as_str().expect("the secret, once").to_owned();
    let id = created["id"].as_str().expect("an id").to_owned();
    let kiosk = admin.with_token(Some(&secret));
    kiosk.get("/api/v1/me").await.expect(StatusCode::OK);
    kiosk.get("/api/v1/me").await.expect(StatusCode::OK);
    let listed = admin.get("/api/v1/tokens").await.expect(StatusCode::OK);
    answers("token list", Method::GET, "/api/v1/tokens", 200, &listed);
    assert!(!listed.to_string().contains(&secret), "the list shows a secret");
    let items = listed.as_array().expect("a list");
    assert!(items.iter().all(|t| t.get("token").is_none() && t.get("hash").is_none()));
    let kiosk_info = items.iter().find(|t| t["id"] == id.as_str()).expect("the new token is listed");
    assert_eq!((kiosk_info["label"].as_str(), kiosk_info["role"].as_str()), (Some("kiosk"), Some("agent")));
    assert!(kiosk_info["last_used_at"].is_string(), "its use is recorded: {kiosk_info}");
    assert!(kiosk_info["revoked_at"].is_null());

    // Revoked: refused at once, with the reason; revoking again keeps the first time; an
    // agent may not list nor revoke; an unknown id is a 404.
    let agent = t.client_for(&demo.agent.to_string(), "agent").await;
    agent.get("/api/v1/tokens").await.problem(403);
    agent.send(agent.request(Method::DELETE, &format!("/api/v1/tokens/{id}"))).await.problem(403);
    let revoked = admin.send(admin.request(Method::DELETE, &format!("/api/v1/tokens/{id}"))).await;
    let revoked = revoked.expect(StatusCode::OK);
    answers("revoked token", Method::DELETE, "/api/v1/tokens/{id}", 200, &revoked);
    assert!(revoked["revoked_at"].is_string());
    let p = kiosk.get("/api/v1/me").await.problem(401);
    assert!(p["detail"].as_str().is_some_and(|d| d.contains("revoked")), "{p}");
    let again = admin.send(admin.request(Method::DELETE, &format!("/api/v1/tokens/{id}"))).await;
    assert_eq!(again.expect(StatusCode::OK)["revoked_at"], revoked["revoked_at"]);
    let unknown = uuid::Uuid::now_v7();
    admin.send(admin.request(Method::DELETE, &format!("/api/v1/tokens/{unknown}"))).await.problem(404);

    // Expiring: works until its time, then refused naming the expiry.
    let soon = (SystemClock.now() + chrono::Duration::seconds(2)).to_rfc3339();
    let brief = new_token(&admin, &json!({"agent": demo.agent, "role": "agent", "expires_at": soon})).await;
    assert!(brief["expires_at"].is_string());
    let brief = admin.with_token(brief["token"].as_str());
    brief.get("/api/v1/me").await.expect(StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let p = brief.get("/api/v1/me").await.problem(401);
    assert!(p["detail"].as_str().is_some_and(|d| d.contains("expired")), "{p}");
    t.server.stop().await.expect("clean stop");
}

on_both_backends!(tokens_are_listed_revoked_and_expire);

/// A token revoked through one replica is refused by another within a second, although
/// that replica had it cached.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_revocation_reaches_every_replica_within_a_second() {
    let Some(backend) = Backend::postgres("admin_api::a_revocation_reaches_every_replica_within_a_second") else {
        return;
    };
    let a = TestServer::start(&backend).await;
    let b = start_on(&a.db.url, true).await;
    let demo = a.demo().clone();
    let created = new_token(&a.admin(), &json!({"agent": demo.agent, "role": "agent"})).await;
    let on_b = Api::new(&b.url(), created["token"].as_str());
    on_b.get("/api/v1/me").await.expect(StatusCode::OK); // cached on B now
    let id = created["id"].as_str().expect("id");
    let admin = a.admin();
    admin.send(admin.request(Method::DELETE, &format!("/api/v1/tokens/{id}"))).await.expect(StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    on_b.get("/api/v1/me").await.problem(401);
    b.stop().await.expect("clean stop");
    a.server.stop().await.expect("clean stop");
}
