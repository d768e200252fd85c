//! Tenant-defined roles (ADM-2) over HTTP: the built-in roles listed and fixed, a role
//! created, edited and deleted with `If-Match` (refused while an agent holds it), given to
//! an agent whose tokens then carry exactly its permissions, at once on this replica and
//! within a second on another.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{Api, Backend, TestServer, start_on};
use crate::on_every_store;
use crate::openapi_check::answers;

async fn tenant_roles_grant_their_permissions_and_guard_their_use(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let demo = t.demo().clone();
    let admin = t.admin();

    // The built-in roles come first and cannot be changed nor deleted.
    let listed = admin.get("/api/v1/roles").await.expect(StatusCode::OK);
    answers("roles", Method::GET, "/api/v1/roles", 200, &listed);
    let ids: Vec<&str> = listed.as_array().expect("a list").iter().filter_map(|r| r["id"].as_str()).collect();
    assert_eq!(ids[..3], ["agent", "supervisor", "administrator"]);
    let agent_role = admin.get("/api/v1/roles/agent").await.expect(StatusCode::OK);
    answers("built-in role", Method::GET, "/api/v1/roles/{id}", 200, &agent_role);
    assert_eq!(agent_role["built_in"], true);
    let p = admin.patch("/api/v1/roles/agent", "*", &json!({"name": "Clerk"})).await.problem(409);
    assert!(p["detail"].as_str().is_some_and(|d| d.contains("built-in")), "{p}");
    admin.send(admin.request(Method::DELETE, "/api/v1/roles/supervisor").header("if-match", "*")).await.problem(409);
    let p = admin.get("/api/v1/roles/not-a-role").await.problem(422);
    assert_eq!(p["errors"][0]["field"], "id", "{p}");
    admin.get(&format!("/api/v1/roles/{}", uuid::Uuid::now_v7())).await.problem(404);

    // Bad input names its field; a name is unique without regard to case.
    let p = admin.post("/api/v1/roles", &json!({"name": "Supervisor", "permissions": ["case.read"]})).await;
    assert_eq!(p.problem(422)["errors"][0]["field"], "name");
    let p = admin.post("/api/v1/roles", &json!({"name": "Auditor", "permissions": ["case.fly"]})).await;
    assert_eq!(p.problem(422)["errors"][0]["field"], "permissions[0]");
    let p = admin.post("/api/v1/roles", &json!({"name": "Auditor", "permissions": []})).await;
    assert_eq!(p.problem(422)["errors"][0]["field"], "permissions");
    let body = json!({"name": "Auditor", "description": "reads the audit log",
                      "permissions": ["admin.audit", "customer.read"]});
    let created = admin.post("/api/v1/roles", &body).await.expect(StatusCode::CREATED);
    answers("created role", Method::POST, "/api/v1/roles", 201, &created);
    let role = created["id"].as_str().expect("id").to_owned();
    let path = format!("/api/v1/roles/{role}");
    admin.post("/api/v1/roles", &json!({"name": "AUDITOR", "permissions": ["case.read"]})).await.problem(409);

    // Given to the agent (an unknown role names the field; an administrator cannot give
    // themself one), its token carries the role's permissions and no more.
    let agent_path = format!("/api/v1/agents/{}", demo.agent);
    let etag = admin.get(&agent_path).await.etag();
    let p = admin.patch(&agent_path, &etag, &json!({"custom_role": uuid::Uuid::now_v7()})).await.problem(422);
    assert_eq!(p["errors"][0]["field"], "custom_role", "{p}");
    let me = format!("/api/v1/agents/{}", demo.admin);
    let my_etag = admin.get(&me).await.etag();
    admin.patch(&me, &my_etag, &json!({"custom_role": role})).await.problem(422);
    let agent = t.client_for(&demo.agent.to_string(), "administrator").await;
    agent.get("/api/v1/audit").await.problem(403);
    agent.get("/api/v1/cases").await.expect(StatusCode::OK);
    let given = admin.patch(&agent_path, &etag, &json!({"custom_role": role})).await.expect(StatusCode::OK);
    answers("agent with a role", Method::PATCH, "/api/v1/agents/{id}", 200, &given);
    assert_eq!(given["custom_role"], role.as_str());
    agent.get("/api/v1/audit").await.expect(StatusCode::OK);
    agent.get("/api/v1/cases").await.problem(403);
    agent.get("/api/v1/roles").await.expect(StatusCode::OK);
    agent.post("/api/v1/roles", &json!({"name": "Mine", "permissions": ["admin.audit"]})).await.problem(403);

    // Edited with If-Match: the holder gets the new permissions at once; a stale version
    // is a 412.
    let read = admin.get(&path).await;
    let role_etag = read.etag();
    answers("role", Method::GET, "/api/v1/roles/{id}", 200, &read.expect(StatusCode::OK));
    let edited = admin
        .patch(&path, &role_etag, &json!({"permissions": ["admin.audit", "customer.read", "case.read"]}))
        .await
        .expect(StatusCode::OK);
    answers("edited role", Method::PATCH, "/api/v1/roles/{id}", 200, &edited);
    assert_eq!(edited["version"], 2);
    agent.get("/api/v1/cases").await.expect(StatusCode::OK);
    admin.patch(&path, &role_etag, &json!({"name": "Late"})).await.problem(412);
    let p = admin.patch(&path, "\"2\"", &json!({"permissions": ["admin.audit", "oops"]})).await.problem(422);
    assert_eq!(p["errors"][0]["field"], "permissions[1]");

    // In use: not deleted, saying by how many agents; released, it is deleted.
    let held = admin.send(admin.request(Method::DELETE, &path).header("if-match", "\"2\"")).await.problem(409);
    assert!(held["detail"].as_str().is_some_and(|d| d.contains("1 agent")), "{held}");
    let etag = admin.get(&agent_path).await.etag();
    let released = admin.patch(&agent_path, &etag, &json!({"custom_role": null})).await.expect(StatusCode::OK);
    assert!(released.get("custom_role").is_none_or(serde_json::Value::is_null), "{released}");
    agent.get("/api/v1/audit").await.problem(403);
    admin.send(admin.request(Method::DELETE, &path).header("if-match", "\"1\"")).await.problem(412);
    admin.send(admin.request(Method::DELETE, &path).header("if-match", "\"2\"")).await.expect(StatusCode::NO_CONTENT);
    admin.get(&path).await.problem(404);
    t.server.stop().await.expect("clean stop");
}

on_every_store!(tenant_roles_grant_their_permissions_and_guard_their_use);

/// A role edited through one replica binds the tokens another replica has cached within a
/// second.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_role_change_reaches_every_replica_within_a_second() {
    let Some(backend) = Backend::postgres("roles::a_role_change_reaches_every_replica_within_a_second") else {
        return;
    };
    let a = TestServer::start(&backend).await;
    let b = start_on(&a.db.url, true).await;
    let demo = a.demo().clone();
    let admin = a.admin();
    let body = json!({"name": "Readers", "permissions": ["case.read", "customer.read"]});
    let created = admin.post("/api/v1/roles", &body).await.expect(StatusCode::CREATED);
    let role = created["id"].as_str().expect("id").to_owned();
    let agent_path = format!("/api/v1/agents/{}", demo.agent);
    let etag = admin.get(&agent_path).await.etag();
    admin.patch(&agent_path, &etag, &json!({"custom_role": role})).await.expect(StatusCode::OK);
    let token = a.client_for(&demo.agent.to_string(), "administrator").await;
    let on_b = Api::new(&b.url(), token.token.as_deref());
    on_b.get("/api/v1/cases").await.expect(StatusCode::OK); // role cached on B now
    let path = format!("/api/v1/roles/{role}");
    admin.patch(&path, "\"1\"", &json!({"permissions": ["customer.read"]})).await.expect(StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    on_b.get("/api/v1/cases").await.problem(403);
    b.stop().await.expect("clean stop");
    a.server.stop().await.expect("clean stop");
}
