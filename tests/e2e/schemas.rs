//! Every response body matches the schema the OpenAPI document gives it: real responses are
//! read into the document's mirror types (`crm_server::openapi::responses`), which refuse
//! unknown fields and require the documented ones.

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crm_core::time::{Clock as _, SystemClock};
use crm_server::openapi::responses as doc;

use crate::helpers::{Backend, TestServer};
use crate::on_both_backends;

pub(crate) fn conforms<T: DeserializeOwned>(what: &str, value: &Value) {
    if let Err(e) = serde_json::from_value::<T>(value.clone()) {
        panic!("{what} does not match its documented schema: {e}\n{value:#}");
    }
}

fn each<T: DeserializeOwned>(what: &str, value: &Value) {
    let items = value.as_array().unwrap_or_else(|| panic!("{what} is not a list: {value}"));
    assert!(!items.is_empty(), "{what}: an empty list proves nothing");
    for item in items {
        conforms::<T>(what, item);
    }
}

async fn responses_match_their_documented_schemas(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let demo = t.demo().clone();
    let api = t.admin();

    let field = api
        .post(
            "/api/v1/custom-fields",
            &json!({"entity": "customer", "key": "tier", "label": "Tier",
                    "field_type": {"type": "single_choice", "choices": ["gold", "silver"]}, "default": "silver"}),
        )
        .await
        .expect(StatusCode::CREATED);
    conforms::<doc::FieldDefinition>("a field definition", &field);
    each::<doc::FieldDefinition>(
        "custom fields",
        &api.get("/api/v1/custom-fields?entity=customer").await.expect(StatusCode::OK),
    );

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
    conforms::<doc::Customer>("a customer", &jane);
    let jane_id = jane["id"].as_str().expect("id").to_owned();
    conforms::<doc::Customer>(
        "a read customer",
        &api.get(&format!("/api/v1/customers/{jane_id}")).await.expect(StatusCode::OK),
    );
    conforms::<doc::CustomerPage>(
        "a customer page",
        &api.get("/api/v1/customers?limit=2").await.expect(StatusCode::OK),
    );
    let twin = api
        .post(
            "/api/v1/customers",
            &json!({"name": "Jane Rowe", "identities": [{"type": "phone", "number": "06 11 22 33 44"}]}),
        )
        .await
        .expect(StatusCode::CREATED);
    let twin_id = twin["id"].as_str().expect("id").to_owned();
    each::<doc::DuplicateCandidate>(
        "duplicates",
        &api.get(&format!("/api/v1/customers/{jane_id}/duplicates")).await.expect(StatusCode::OK),
    );
    let relation = api
        .post(
            &format!("/api/v1/customers/{jane_id}/relations"),
            &json!({"to": twin_id, "kind": "household_member", "note": "sister"}),
        )
        .await
        .expect(StatusCode::CREATED);
    conforms::<doc::Relation>("a relation", &relation);
    each::<doc::Relation>(
        "relations",
        &api.get(&format!("/api/v1/customers/{jane_id}/relations")).await.expect(StatusCode::OK),
    );

    let case = api
        .post(
            "/api/v1/cases",
            &json!({"customer": jane_id, "subject": "Broken", "description": {"format": "html", "body": "<p>it <b>broke</b></p>"},
                    "visibility": "private", "group": demo.group}),
        )
        .await;
    let case_body = case.expect(StatusCode::CREATED);
    conforms::<doc::Case>("a case", &case_body);
    let case_id = case_body["id"].as_str().expect("id").to_owned();
    let patched = api
        .patch(&format!("/api/v1/cases/{case_id}"), &case.etag(), &json!({"status": "pending", "assignee": null}))
        .await;
    conforms::<doc::Case>("a patched case", &patched.expect(StatusCode::OK));
    conforms::<doc::CasePage>(
        "a case page",
        &api.get("/api/v1/cases?sort=priority&direction=asc").await.expect(StatusCode::OK),
    );
    each::<doc::CaseHistoryEntry>(
        "case history",
        &api.get(&format!("/api/v1/cases/{case_id}/history")).await.expect(StatusCode::OK),
    );
    let follow_up = api
        .post(&format!("/api/v1/cases/{case_id}/follow-ups"), &json!({"body": "called", "kind": "call_summary"}))
        .await;
    conforms::<doc::FollowUp>("a follow-up", &follow_up.expect(StatusCode::CREATED));
    each::<doc::FollowUp>(
        "follow-ups",
        &api.get(&format!("/api/v1/cases/{case_id}/follow-ups")).await.expect(StatusCode::OK),
    );

    let at = (SystemClock.now() + chrono::Duration::hours(2)).to_rfc3339();
    let task = api
        .post("/api/v1/tasks", &json!({"kind": "call", "subject": "Call", "customer": jane_id, "case": case_id, "scheduled": {"at": at}, "reminder_minutes": 5}))
        .await
        .expect(StatusCode::CREATED);
    conforms::<doc::Task>("a task", &task);
    conforms::<doc::Agenda>("an agenda", &api.get("/api/v1/agenda").await.expect(StatusCode::OK));
    conforms::<doc::CustomerCard>(
        "a card",
        &api.get(&format!("/api/v1/customers/{jane_id}/card")).await.expect(StatusCode::OK),
    );

    let pop = api
        .post("/api/v1/cti/calls", &json!({"phone": "+33611223344", "context": {"ivr": "billing"}}))
        .await
        .expect(StatusCode::CREATED);
    conforms::<doc::ScreenPop>("a screen pop", &pop);
    let inter_id = pop["interaction"]["id"].as_str().expect("id").to_owned();
    let path = format!("/api/v1/interactions/{inter_id}");
    let read = api.get(&path).await;
    let accepted = api.post_if_match(&format!("{path}/actions"), &read.etag(), &json!({"action": "accept"})).await;
    accepted.expect(StatusCode::OK);
    let linked = api
        .post_if_match(
            &format!("{path}/links"),
            &accepted.etag(),
            &json!({"type": "external", "reference": {"system": "salesforce", "object": "contact", "id": "003xx"}}),
        )
        .await;
    let noted = api.post_if_match(&format!("{path}/notes"), &linked.etag(), &json!({"text": "note"})).await;
    conforms::<doc::Interaction>("an interaction", &noted.expect(StatusCode::OK));
    conforms::<doc::InteractionPage>(
        "an interaction page",
        &api.get(&format!("/api/v1/customers/{jane_id}/interactions")).await.expect(StatusCode::OK),
    );
    let internal = api
        .post(
            "/api/v1/interactions",
            &json!({"channel": "chat", "direction": "outbound", "internal_agent": demo.agent}),
        )
        .await;
    conforms::<doc::Interaction>("an internal interaction", &internal.expect(StatusCode::CREATED));

    each::<doc::Disposition>("dispositions", &api.get("/api/v1/dispositions").await.expect(StatusCode::OK));
    conforms::<doc::Disposition>(
        "a disposition",
        &api.post("/api/v1/dispositions", &json!({"code": "x", "label": "X", "active": false}))
            .await
            .expect(StatusCode::OK),
    );
    let queue =
        api.send(api.request(Method::PUT, "/api/v1/queues/vip").json(&json!({"disposition_required": true}))).await;
    conforms::<doc::QueueSettings>("a queue", &queue.expect(StatusCode::OK));
    each::<doc::Agent>("agents", &api.get("/api/v1/agents").await.expect(StatusCode::OK));
    let me = api.get("/api/v1/me").await;
    let profile = api.patch("/api/v1/me", &me.etag(), &json!({"signature": "Ada", "default_from": "ada@demo.example", "preferred_case_columns": ["number", "subject"]})).await;
    conforms::<doc::Agent>("a profile", &profile.expect(StatusCode::OK));
    conforms::<doc::Group>(
        "a group",
        &api.post("/api/v1/groups", &json!({"name": "Sales", "mail_addresses": ["sales@demo.example"]}))
            .await
            .expect(StatusCode::CREATED),
    );
    each::<doc::Group>("groups", &api.get("/api/v1/groups").await.expect(StatusCode::OK));

    let merge = api
        .post("/api/v1/merges", &json!({"target": jane_id, "source": twin_id, "rule": "keep_source"}))
        .await
        .expect(StatusCode::CREATED);
    conforms::<doc::MergeRecord>("a merge", &merge);
    let merge_id = merge["id"].as_str().expect("id").to_owned();
    conforms::<doc::Customer>(
        "a tombstone",
        &api.get(&format!("/api/v1/customers/{twin_id}")).await.expect(StatusCode::OK),
    );
    conforms::<doc::MergeRecord>(
        "a read merge",
        &api.get(&format!("/api/v1/merges/{merge_id}")).await.expect(StatusCode::OK),
    );
    let undone = api.post(&format!("/api/v1/merges/{merge_id}/undo"), &json!({})).await;
    conforms::<doc::UndoneMerge>("an undone merge", &undone.expect(StatusCode::OK));
    t.server.stop().await.expect("clean stop");
}

on_both_backends!(responses_match_their_documented_schemas);
