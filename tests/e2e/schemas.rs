//! Every response body matches the schema the served OpenAPI document gives its operation:
//! real responses are validated against the document (`crate::openapi_check`), whose
//! schemas are derived from the very types the handlers serialise, so neither the document
//! nor the wire can drift without this test failing.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crm_core::time::{Clock as _, SystemClock};

use crate::helpers::{Api, Backend, TestServer};
use crate::on_both_backends;
use crate::openapi_check::{answers, document};

/// GETs `path` and checks the body against the document.
async fn read(api: &Api, what: &str, path: &str) -> Value {
    let value = api.get(path).await.expect(StatusCode::OK);
    answers(what, Method::GET, path, 200, &value);
    value
}

/// GETs a list, which must prove something (not be empty), and checks it.
async fn read_list(api: &Api, what: &str, path: &str) -> Value {
    let value = read(api, what, path).await;
    let items = value.as_array().unwrap_or_else(|| panic!("{what} is not a list: {value}"));
    assert!(!items.is_empty(), "{what}: an empty list proves nothing");
    value
}

async fn responses_match_their_documented_schemas(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let demo = t.demo().clone();
    let api = t.admin();
    let served = api.get("/api/v1/openapi.json").await.expect(StatusCode::OK);
    assert_eq!(&served, document(), "the checks below validate against the document the server serves");

    let field = api
        .post(
            "/api/v1/custom-fields",
            &json!({"entity": "customer", "key": "tier", "label": "Tier",
                    "field_type": {"type": "single_choice", "choices": ["gold", "silver"]}, "default": "silver"}),
        )
        .await
        .expect(StatusCode::CREATED);
    answers("a field definition", Method::POST, "/api/v1/custom-fields", 201, &field);
    read_list(&api, "custom fields", "/api/v1/custom-fields?entity=customer").await;

    let jane = api
        .post(
            "/api/v1/customers",
            &json!({"name": "Jane Roe", "custom": {"tier": "gold"},
                    "identities": [{"type": "phone", "number": "+33 6 11 22 33 44", "label": "mobile"},
                                   {"type": "whats_app_handle_is_not_a_type", "x": 1}]}),
        )
        .await;
    jane.problem(422);
    let jane = api
        .post(
            "/api/v1/customers",
            &json!({"name": "Jane Roe", "custom": {"tier": "gold"},
                    "identities": [{"type": "phone", "number": "+33 6 11 22 33 44", "label": "mobile"},
                                   {"type": "handle", "channel": "whats_app", "handle": "+33611223344"}],
                    "addresses": [{"lines": ["1 rue de la Paix"], "city": "Paris", "country": "fr"}]}),
        )
        .await
        .expect(StatusCode::CREATED);
    answers("a customer", Method::POST, "/api/v1/customers", 201, &jane);
    let jane_id = jane["id"].as_str().expect("id").to_owned();
    let jane_path = format!("/api/v1/customers/{jane_id}");
    read(&api, "a read customer", &jane_path).await;
    read(&api, "a customer page", "/api/v1/customers?limit=2").await;
    let twin = api
        .post(
            "/api/v1/customers",
            &json!({"name": "Jane Rowe", "identities": [{"type": "phone", "number": "06 11 22 33 44"}]}),
        )
        .await
        .expect(StatusCode::CREATED);
    let twin_id = twin["id"].as_str().expect("id").to_owned();
    let path = format!("/api/v1/customers/{jane_id}/duplicates");
    read_list(&api, "duplicates", &path).await;
    let relation = api
        .post(
            &format!("/api/v1/customers/{jane_id}/relations"),
            &json!({"to": twin_id, "kind": "household_member", "note": "sister"}),
        )
        .await
        .expect(StatusCode::CREATED);
    let path = format!("/api/v1/customers/{jane_id}/relations");
    answers("a relation", Method::POST, &path, 201, &relation);
    read_list(&api, "relations", &path).await;

    let case = api
        .post(
            "/api/v1/cases",
            &json!({"customer": jane_id, "subject": "Broken", "description": {"format": "html", "body": "<p>it <b>broke</b></p>"},
                    "visibility": "private", "group": demo.group}),
        )
        .await;
    let case_body = case.expect(StatusCode::CREATED);
    answers("a case", Method::POST, "/api/v1/cases", 201, &case_body);
    let case_id = case_body["id"].as_str().expect("id").to_owned();
    let case_path = format!("/api/v1/cases/{case_id}");
    let patched = api.patch(&case_path, &case.etag(), &json!({"status": "pending", "assignee": null})).await;
    answers("a patched case", Method::PATCH, &case_path, 200, &patched.expect(StatusCode::OK));
    let number = case_body["number"].as_str().expect("number").to_owned();
    let by_number = format!("/api/v1/cases/by-number/{number}");
    read(&api, "a case by number", &by_number).await;
    read(&api, "a case page", "/api/v1/cases?sort=priority&direction=asc").await;
    let path = format!("{case_path}/history");
    read_list(&api, "case history", &path).await;
    let path = format!("{case_path}/follow-ups");
    let follow_up = api.post(&path, &json!({"body": "called", "kind": "call_summary"})).await;
    answers("a follow-up", Method::POST, &path, 201, &follow_up.expect(StatusCode::CREATED));
    read_list(&api, "follow-ups", &path).await;

    let at = (SystemClock.now() + chrono::Duration::hours(2)).to_rfc3339();
    let task = api
        .post("/api/v1/tasks", &json!({"kind": "call", "subject": "Call", "customer": jane_id, "case": case_id, "scheduled": {"at": at}, "reminder_minutes": 5}))
        .await
        .expect(StatusCode::CREATED);
    answers("a task", Method::POST, "/api/v1/tasks", 201, &task);
    let path = format!("/api/v1/tasks/{}", task["id"].as_str().expect("id"));
    read(&api, "a read task", &path).await;
    read(&api, "an agenda", "/api/v1/agenda").await;
    let path = format!("{jane_path}/card");
    read(&api, "a card", &path).await;
    read_list(&api, "a lookup", "/api/v1/lookup?phone=%2B33611223344").await;

    let pop = api
        .post("/api/v1/cti/calls", &json!({"phone": "+33611223344", "context": {"ivr": "billing"}}))
        .await
        .expect(StatusCode::CREATED);
    answers("a screen pop", Method::POST, "/api/v1/cti/calls", 201, &pop);
    let inter_id = pop["interaction"]["id"].as_str().expect("id").to_owned();
    let path = format!("/api/v1/interactions/{inter_id}");
    let offered = api.get(&path).await;
    answers("a read interaction", Method::GET, &path, 200, &offered.expect(StatusCode::OK));
    let accepted = api.post_if_match(&format!("{path}/actions"), &offered.etag(), &json!({"action": "accept"})).await;
    answers("an accepted interaction", Method::POST, &format!("{path}/actions"), 200, &accepted.expect(StatusCode::OK));
    let linked = api
        .post_if_match(
            &format!("{path}/links"),
            &accepted.etag(),
            &json!({"type": "external", "reference": {"system": "salesforce", "object": "contact", "id": "003xx"}}),
        )
        .await;
    answers("a linked interaction", Method::POST, &format!("{path}/links"), 200, &linked.expect(StatusCode::OK));
    let noted = api.post_if_match(&format!("{path}/notes"), &linked.etag(), &json!({"text": "note"})).await;
    answers("an interaction", Method::POST, &format!("{path}/notes"), 200, &noted.expect(StatusCode::OK));
    let history = format!("{jane_path}/interactions");
    read(&api, "an interaction page", &history).await;
    let internal = api
        .post(
            "/api/v1/interactions",
            &json!({"channel": "chat", "direction": "outbound", "internal_agent": demo.agent}),
        )
        .await;
    answers(
        "an internal interaction",
        Method::POST,
        "/api/v1/interactions",
        201,
        &internal.expect(StatusCode::CREATED),
    );

    read_list(&api, "dispositions", "/api/v1/dispositions").await;
    let disposition = api
        .post("/api/v1/dispositions", &json!({"code": "x", "label": "X", "active": false}))
        .await
        .expect(StatusCode::OK);
    answers("a disposition", Method::POST, "/api/v1/dispositions", 200, &disposition);
    let queue =
        api.send(api.request(Method::PUT, "/api/v1/queues/vip").json(&json!({"disposition_required": true}))).await;
    answers("a queue", Method::PUT, "/api/v1/queues/vip", 200, &queue.expect(StatusCode::OK));
    read_list(&api, "agents", "/api/v1/agents").await;
    let me = api.get("/api/v1/me").await;
    answers("me", Method::GET, "/api/v1/me", 200, &me.expect(StatusCode::OK));
    let profile = api.patch("/api/v1/me", &me.etag(), &json!({"signature": "Ada", "default_from": "ada@demo.example", "preferred_case_columns": ["number", "subject"]})).await;
    answers("a profile", Method::PATCH, "/api/v1/me", 200, &profile.expect(StatusCode::OK));
    let group = api
        .post("/api/v1/groups", &json!({"name": "Sales", "mail_addresses": ["sales@demo.example"]}))
        .await
        .expect(StatusCode::CREATED);
    answers("a group", Method::POST, "/api/v1/groups", 201, &group);
    read_list(&api, "groups", "/api/v1/groups").await;

    let merge = api
        .post("/api/v1/merges", &json!({"target": jane_id, "source": twin_id, "rule": "keep_source"}))
        .await
        .expect(StatusCode::CREATED);
    answers("a merge", Method::POST, "/api/v1/merges", 201, &merge);
    let merge_id = merge["id"].as_str().expect("id").to_owned();
    let twin_path = format!("/api/v1/customers/{twin_id}");
    read(&api, "a tombstone", &twin_path).await;
    let path = format!("/api/v1/merges/{merge_id}");
    read(&api, "a read merge", &path).await;
    let path = format!("{path}/undo");
    let undone = api.post(&path, &json!({})).await;
    answers("an undone merge", Method::POST, &path, 200, &undone.expect(StatusCode::OK));
    t.server.stop().await.expect("clean stop");
}

on_both_backends!(responses_match_their_documented_schemas);
