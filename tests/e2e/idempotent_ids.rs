//! Creates retried across a crash, and the agent administration update:
//! - a create whose response was lost (the server stopped between the record's commit and
//!   the key's response) is retried with the same `Idempotency-Key`: the retry draws the
//!   same ids, hits its own record, and answers 409 `idempotency-already-applied` instead of
//!   creating a second record;
//! - `PATCH /api/v1/agents/{id}` with `If-Match`.

use reqwest::{Method, StatusCode};
use sea_orm::{ConnectionTrait, Database};
use serde_json::json;

use crate::helpers::{Backend, TestServer};
use crate::on_both_backends;

async fn a_create_retried_after_a_lost_response_is_not_made_twice(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let api = t.admin();
    let body = json!({"name": "Ada Lost-Response", "identities": [{"type": "phone", "number": "+33 6 12 34 56 78"}]});
    let send = || async {
        api.send(api.request(Method::POST, "/api/v1/customers").header("idempotency-key", "lost-1").json(&body)).await
    };
    let first = send().await.expect(StatusCode::CREATED);
    let id = first["id"].as_str().expect("id").to_owned();

    // The crash: the record is committed, but the key never got its response and its claim
    // is old enough to be taken over.
    let db = Database::connect(t.db.url.as_str()).await.expect("db");
    db.execute_unprepared(
        "UPDATE idempotency_keys SET state = 'running', status = 0, headers = '', body = '', created_ms = 0",
    )
    .await
    .expect("forget the response");
    let _ = db.close().await;

    let retried = send().await;
    let problem = retried.problem(409);
    assert_eq!(problem["type"], "urn:crm:problem:idempotency-already-applied");
    assert!(problem["detail"].as_str().is_some_and(|d| d.contains(&id)), "names the record: {problem}");
    let found = api.get("/api/v1/customers?name=Ada%20Lost-Response").await.expect(StatusCode::OK);
    assert_eq!(found["items"].as_array().map(Vec::len), Some(1), "created once: {found}");
    // That answer is now the key's answer.
    let again = send().await;
    again.problem(409);
    assert_eq!(again.headers.get("idempotent-replayed").and_then(|v| v.to_str().ok()), Some("true"));
    // Another key creates another record (other ids).
    let other = api
        .send(api.request(Method::POST, "/api/v1/customers").header("idempotency-key", "lost-2").json(&body))
        .await
        .expect(StatusCode::CREATED);
    assert_ne!(other["id"].as_str(), Some(id.as_str()));
    t.server.stop().await.expect("stop");
}

on_both_backends!(a_create_retried_after_a_lost_response_is_not_made_twice);

async fn an_administrator_updates_an_agent_with_if_match(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let api = t.admin();
    let demo = t.demo().clone();
    let path = format!("/api/v1/agents/{}", demo.agent);
    let read = api.get(&path).await;
    read.expect(StatusCode::OK);
    let updated = api.patch(&path, &read.etag(), &json!({"role": "supervisor", "name": "Alice Martin"})).await;
    let body = updated.expect(StatusCode::OK);
    assert_eq!(body["role"], "supervisor");
    assert_eq!(body["name"], "Alice Martin");
    crate::openapi_check::answers("an agent", Method::PATCH, &path, 200, &body);
    assert_ne!(updated.etag(), read.etag());
    api.patch(&path, &read.etag(), &json!({"active": false})).await.problem(412);
    api.send(api.request(Method::PATCH, &path).json(&json!({"active": false}))).await.problem(428);
    api.patch(&path, &updated.etag(), &json!({"groups": [uuid::Uuid::now_v7()]})).await.problem(422);
    let me = format!("/api/v1/agents/{}", demo.admin);
    let mine = api.get(&me).await;
    let refused = api.patch(&me, &mine.etag(), &json!({"role": "agent"})).await.problem(422);
    assert_eq!(refused["errors"][0]["field"], "role");
    let agent = t.client_for(&demo.agent.to_string(), "agent").await;
    agent.patch(&path, &updated.etag(), &json!({"active": false})).await.problem(403);
    // Deactivation binds the agent's tokens at once, even right after they were used (and
    // so cached), and reactivation restores them.
    agent.get("/api/v1/me").await.expect(StatusCode::OK);
    let current = api.get(&path).await;
    let off = api.patch(&path, &current.etag(), &json!({"active": false})).await;
    off.expect(StatusCode::OK);
    agent.get("/api/v1/me").await.problem(401);
    api.patch(&path, &off.etag(), &json!({"active": true})).await.expect(StatusCode::OK);
    agent.get("/api/v1/me").await.expect(StatusCode::OK);
    t.server.stop().await.expect("stop");
}

on_both_backends!(an_administrator_updates_an_agent_with_if_match);
