//! Administration through the API (ADM-1…ADM-3): tokens listed without their secret,
//! revoked (refused at once on this replica, within a second on another), expiring, with
//! their last use recorded; groups edited, deleted only when unused, their members; queues
//! listed; tenants created, renamed and suspended through the operator API.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crm_core::time::{Clock as _, SystemClock};

use crate::helpers::{Api, Backend, OPERATOR_TOKEN, TestServer, start_on};
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

async fn groups_are_edited_deleted_when_unused_and_have_members(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let demo = t.demo().clone();
    let admin = t.admin();
    let created = admin.post("/api/v1/groups", &json!({"name": "Night shift"})).await.expect(StatusCode::CREATED);
    let id = created["id"].as_str().expect("id").to_owned();
    let path = format!("/api/v1/groups/{id}");

    // Edit with If-Match; bad input names its field; a stale version is a 412.
    let read = admin.get(&path).await;
    let etag = read.etag();
    answers("group", Method::GET, "/api/v1/groups/{id}", 200, &read.expect(StatusCode::OK));
    let p = admin.patch(&path, &etag, &json!({"mail_addresses": ["not an address"]})).await.problem(422);
    assert!(p["errors"][0]["field"].as_str().is_some_and(|f| f.starts_with("mail_addresses[0]")), "{p}");
    let p = admin.patch(&path, &etag, &json!({"name": ""})).await.problem(422);
    assert_eq!(p["errors"][0]["field"], "name");
    let edited = admin
        .patch(&path, &etag, &json!({"name": "Nights", "mail_addresses": ["nights@demo.example"]}))
        .await
        .expect(StatusCode::OK);
    answers("edited group", Method::PATCH, "/api/v1/groups/{id}", 200, &edited);
    assert_eq!((edited["name"].as_str(), edited["version"].as_u64()), (Some("Nights"), Some(2)));
    admin.patch(&path, &etag, &json!({"name": "Again"})).await.problem(412);

    // Membership: add (twice changes nothing), list, and the group is then in use.
    let member = format!("{path}/members/{}", demo.agent);
    let joined = admin.send(admin.request(Method::PUT, &member)).await.expect(StatusCode::OK);
    answers("member", Method::PUT, "/api/v1/groups/{id}/members/{agent}", 200, &joined);
    assert!(joined["groups"].as_array().expect("groups").iter().any(|g| g == id.as_str()));
    let again = admin.send(admin.request(Method::PUT, &member)).await.expect(StatusCode::OK);
    assert_eq!(again["version"], joined["version"], "joining again changes nothing");
    let members = admin.get(&format!("{path}/members")).await.expect(StatusCode::OK);
    answers("members", Method::GET, "/api/v1/groups/{id}/members", 200, &members);
    assert_eq!(members.as_array().map(Vec::len), Some(1));
    let etag = admin.get(&path).await.etag();
    let p = admin.send(admin.request(Method::DELETE, &path).header("if-match", &etag)).await.problem(409);
    assert!(p["detail"].as_str().is_some_and(|d| d.contains("1 member")), "{p}");
    // An agent may not change groups; an unknown agent is a 404.
    let agent = t.client_for(&demo.agent.to_string(), "agent").await;
    agent.send(agent.request(Method::DELETE, &member)).await.problem(403);
    let ghost = format!("{path}/members/{}", uuid::Uuid::now_v7());
    admin.send(admin.request(Method::PUT, &ghost)).await.problem(404);

    // Removed, the group is unused and deleted; a deleted group is a 404.
    let left = admin.send(admin.request(Method::DELETE, &member)).await.expect(StatusCode::OK);
    assert!(left["groups"].as_array().expect("groups").iter().all(|g| g != id.as_str()));
    admin.send(admin.request(Method::DELETE, &path)).await.problem(428);
    admin.send(admin.request(Method::DELETE, &path).header("if-match", &etag)).await.expect(StatusCode::NO_CONTENT);
    admin.get(&path).await.problem(404);

    // Queues are listed.
    admin
        .send(admin.request(Method::PUT, "/api/v1/queues/billing").json(&json!({"disposition_required": true})))
        .await
        .expect(StatusCode::OK);
    let queues = admin.get("/api/v1/queues").await.expect(StatusCode::OK);
    answers("queues", Method::GET, "/api/v1/queues", 200, &queues);
    assert!(
        queues.as_array().expect("list").iter().any(|q| q["name"] == "billing" && q["disposition_required"] == true)
    );
    t.server.stop().await.expect("clean stop");
}

on_both_backends!(groups_are_edited_deleted_when_unused_and_have_members);

async fn the_operator_creates_renames_and_suspends_tenants(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let operator = Api::new(&t.server.url(), Some(OPERATOR_TOKEN));
    let admin = t.admin();
    // A tenant token is not an operator credential, nor is nothing.
    admin.get("/api/v1/operator/tenants").await.problem(401);
    admin.with_token(None).get("/api/v1/operator/tenants").await.problem(401);

    let body = json!({"name": "Acme", "default_region": "US", "time_zone": "America/New_York",
                      "admin_name": "Ann Acme", "admin_email": "ann@acme.example"});
    let bad = json!({"name": "Acme", "default_region": "US", "time_zone": "America/New_York",
                     "admin_name": "Ann Acme", "admin_email": "not an address"});
    let p = operator.post("/api/v1/operator/tenants", &bad).await.problem(422);
    assert!(p.to_string().contains("email"), "{p}");
    let before = operator.get("/api/v1/operator/tenants").await.expect(StatusCode::OK);
    assert!(before.as_array().expect("list").iter().all(|t| t["name"] != "Acme"), "a refused create writes nothing");
    let created = operator.post("/api/v1/operator/tenants", &body).await.expect(StatusCode::CREATED);
    answers("created tenant", Method::POST, "/api/v1/operator/tenants", 201, &created);
    let id = created["tenant"]["id"].as_str().expect("id").to_owned();
    let acme = Api::new(&t.server.url(), created["token"].as_str());
    acme.get("/api/v1/me").await.expect(StatusCode::OK);
    let listed = operator.get("/api/v1/operator/tenants").await.expect(StatusCode::OK);
    answers("tenants", Method::GET, "/api/v1/operator/tenants", 200, &listed);
    assert!(listed.as_array().expect("list").iter().any(|t| t["id"] == id.as_str()));

    // Renamed; a bad name names its field; an unknown tenant is a 404.
    let path = format!("/api/v1/operator/tenants/{id}");
    let renamed = operator
        .send(operator.request(Method::PATCH, &path).json(&json!({"name": "Acme Corp"})))
        .await
        .expect(StatusCode::OK);
    answers("renamed tenant", Method::PATCH, "/api/v1/operator/tenants/{id}", 200, &renamed);
    assert_eq!(renamed["name"], "Acme Corp");
    let p = operator.send(operator.request(Method::PATCH, &path).json(&json!({"name": " "}))).await.problem(422);
    assert_eq!(p["errors"][0]["field"], "name");
    let ghost = format!("/api/v1/operator/tenants/{}", uuid::Uuid::now_v7());
    operator.send(operator.request(Method::PATCH, &ghost).json(&json!({"suspended": true}))).await.problem(404);

    // Suspended: every token of the tenant is refused with a 403 naming the suspension;
    // other tenants go on; resumed, the tokens work again.
    let suspended = operator
        .send(operator.request(Method::PATCH, &path).json(&json!({"suspended": true})))
        .await
        .expect(StatusCode::OK);
    assert!(suspended["suspended_at"].is_string());
    let p = acme.get("/api/v1/me").await.problem(403);
    assert!(p["detail"].as_str().is_some_and(|d| d.contains("suspended")), "{p}");
    admin.get("/api/v1/me").await.expect(StatusCode::OK);
    operator
        .send(operator.request(Method::PATCH, &path).json(&json!({"suspended": false})))
        .await
        .expect(StatusCode::OK);
    acme.get("/api/v1/me").await.expect(StatusCode::OK);
    t.server.stop().await.expect("clean stop");
}

on_both_backends!(the_operator_creates_renames_and_suspends_tenants);
