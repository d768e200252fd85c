//! Authentication and authorisation: 401 without a valid token, 403 without the permission,
//! and a tenant never sees another's data, even by guessing ids.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crm_core::service::NewTenant;
use crm_server::seed::bootstrap_tenant;

use crate::helpers::{Api, Backend, TestServer};
use crate::on_both_backends;

async fn tokens_roles_and_tenants_are_enforced(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let demo = t.demo().clone();
    let admin = t.admin();

    // 401: no token, another scheme, a forged token, a garbage token.
    let anonymous = admin.with_token(None);
    anonymous.get("/api/v1/customers").await.problem(401);
    anonymous.post("/api/v1/customers", &json!({"name": "x"})).await.problem(401);
    anonymous.get("/api/v1/events").await.problem(401);
    let basic =
        anonymous.send(anonymous.request(Method::GET, "/api/v1/me").header("authorization", "Basic YTpi")).await;
    basic.problem(401);
    let forged = crm_server::auth::generate_token();
    admin.with_token(Some(&forged)).get("/api/v1/me").await.problem(401);
    admin.with_token(Some("not a token at all")).get("/api/v1/me").await.problem(401);

    // 403: an agent may not delete cases, create agents or tokens, or define fields.
    let alice = t.client_for(&demo.agent.to_string(), "agent").await;
    let me = alice.get("/api/v1/me").await.expect(StatusCode::OK);
    assert_eq!(me["id"], demo.agent.to_string());
    let cases = alice.get("/api/v1/cases?limit=1").await.expect(StatusCode::OK);
    let case = cases["items"][0]["id"].as_str().expect("a demo case").to_owned();
    let read = alice.get(&format!("/api/v1/cases/{case}")).await;
    read.expect(StatusCode::OK);
    let p = alice
        .send(alice.request(Method::DELETE, &format!("/api/v1/cases/{case}")).header("if-match", read.etag()))
        .await
        .problem(403);
    assert_eq!(p["type"], "urn:crm:problem:forbidden");
    alice
        .post("/api/v1/agents", &json!({"name": "Eve", "email": "eve@demo.example", "role": "administrator"}))
        .await
        .problem(403);
    alice.post("/api/v1/tokens", &json!({"agent": demo.agent, "role": "administrator"})).await.problem(403);
    alice
        .post(
            "/api/v1/custom-fields",
            &json!({"entity": "customer", "key": "vip", "label": "VIP", "field_type": {"type": "boolean"}}),
        )
        .await
        .problem(403);
    // A supervisor may delete the case.
    let sam = t.client_for(&demo.supervisor.to_string(), "supervisor").await;
    sam.send(sam.request(Method::DELETE, &format!("/api/v1/cases/{case}")).header("if-match", read.etag()))
        .await
        .expect(StatusCode::NO_CONTENT);

    // Another tenant sees nothing of the demo tenant, even with the right ids.
    let other = bootstrap_tenant(
        &t.server.services,
        NewTenant { name: "Other Center".into(), default_region: "FR".into(), time_zone: "Europe/Paris".into() },
        "Olga Other",
        "olga@other.example",
    )
    .await
    .expect("second tenant");
    let olga = Api::new(&t.server.url(), Some(&other.token));
    let demo_customers = admin.get("/api/v1/customers").await.expect(StatusCode::OK);
    let jeanne = demo_customers["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|c| c["name"] == "Jeanne Dupont")
        .expect("Jeanne")
        .clone();
    let jeanne_id = jeanne["id"].as_str().expect("id");
    olga.get(&format!("/api/v1/customers/{jeanne_id}")).await.problem(404);
    olga.get(&format!("/api/v1/customers/{jeanne_id}/card")).await.problem(404);
    olga.patch(&format!("/api/v1/customers/{jeanne_id}"), "\"1\"", &json!({"name": "Pwned"})).await.problem(404);
    let found = olga.get("/api/v1/lookup?phone=%2B33123456789").await.expect(StatusCode::OK);
    assert_eq!(found, json!([]));
    let listed = olga.get("/api/v1/customers").await.expect(StatusCode::OK);
    assert_eq!(listed["items"], json!([]));
    let their_cases = olga.get("/api/v1/cases").await.expect(StatusCode::OK);
    assert_eq!(their_cases["items"], json!([]));
    let remaining = admin.get("/api/v1/cases?limit=1").await.expect(StatusCode::OK);
    let demo_case = remaining["items"][0]["id"].as_str().expect("a case");
    olga.get(&format!("/api/v1/cases/{demo_case}")).await.problem(404);
    olga.get(&format!("/api/v1/agents/{}", demo.agent)).await.problem(404);
    olga.post("/api/v1/cases", &json!({"customer": jeanne_id, "subject": "x"})).await.problem(404);
    // Nor can its administrator mint a token for the demo tenant's agent.
    olga.post("/api/v1/tokens", &json!({"agent": demo.agent, "role": "administrator"})).await.problem(422);
    // And the demo customer is untouched.
    let still = admin.get(&format!("/api/v1/customers/{jeanne_id}")).await.expect(StatusCode::OK);
    assert_eq!(still["name"], "Jeanne Dupont");
    t.server.stop().await.expect("clean stop");
}

on_both_backends!(tokens_roles_and_tenants_are_enforced);
