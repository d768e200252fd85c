//! Cases over HTTP, issue 27 (CAS-1, CAS-2, CAS-4): the tenant's case lists (admin CRUD,
//! an entry in use refused at delete, a retired one no longer settable), tags, category
//! and type on a case and in the list filters, the resolved state with its resolution
//! code, and parent/child cases (children listed, cycles refused, a parent with open
//! children not closed), every change in the history; bad input a 4xx naming the field.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Api, Backend, TestServer};
use crate::on_every_store;
use crate::openapi_check::answers;

/// Creates a case; returns its id and ETag.
async fn case(api: &Api, body: &Value) -> (String, String) {
    let reply = api.post("/api/v1/cases", body).await;
    let etag = reply.etag();
    let case = reply.expect(StatusCode::CREATED);
    answers("a new case", Method::POST, "/api/v1/cases", 201, &case);
    (case["id"].as_str().expect("case id").to_owned(), etag)
}

/// The field a 422 names.
fn field(problem: &Value) -> String {
    problem["errors"][0]["field"].as_str().map(str::to_owned).unwrap_or_else(|| problem.to_string())
}

fn ids(page: &Value) -> Vec<String> {
    page["items"].as_array().into_iter().flatten().filter_map(|c| c["id"].as_str().map(str::to_owned)).collect()
}

async fn case_lists_tags_resolution_and_parents(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let admin = t.admin();
    let demo = t.demo().clone();
    let alice = t.client_for(&demo.agent.to_string(), "agent").await;

    // The lists: kept by administrators, read by agents.
    for (kind, key) in [("category", "billing"), ("category", "legacy"), ("type", "incident"), ("resolution", "fixed")]
    {
        let path = format!("/api/v1/case-lists/{kind}");
        let entry = admin.post(&path, &json!({"key": key, "label": key.to_uppercase()})).await.expect(StatusCode::OK);
        answers("a case list entry", Method::POST, &path, 200, &entry);
    }
    alice.post("/api/v1/case-lists/category", &json!({"key": "x", "label": "X"})).await.problem(403);
    let categories = alice.get("/api/v1/case-lists/category").await.expect(StatusCode::OK);
    answers("a case list", Method::GET, "/api/v1/case-lists/category", 200, &categories);
    assert_eq!(categories.as_array().map(Vec::len), Some(2));
    let bad = admin.get("/api/v1/case-lists/colour").await.problem(422);
    assert_eq!(field(&bad), "kind");
    let bad = admin.post("/api/v1/case-lists/type", &json!({"key": "has space", "label": "x"})).await.problem(422);
    assert_eq!(field(&bad), "key");
    admin
        .post("/api/v1/case-lists/category", &json!({"key": "legacy", "label": "Old", "active": false}))
        .await
        .expect(StatusCode::OK);

    let customer =
        admin.post("/api/v1/customers", &json!({"name": "Cas Structurés"})).await.expect(StatusCode::CREATED);
    let customer = customer["id"].as_str().expect("customer id").to_owned();

    // Tags, category and type on a case; unknown or retired entries refused by field.
    let bad = admin
        .post("/api/v1/cases", &json!({"customer": customer, "subject": "x", "category": "nope"}))
        .await
        .problem(422);
    assert_eq!(field(&bad), "category");
    let bad = admin
        .post("/api/v1/cases", &json!({"customer": customer, "subject": "x", "category": "legacy"}))
        .await
        .problem(422);
    assert!(bad.to_string().contains("retired"), "{bad}");
    let bad =
        admin.post("/api/v1/cases", &json!({"customer": customer, "subject": "x", "tags": ["a,b"]})).await.problem(422);
    assert_eq!(field(&bad), "tags");
    let (parent, parent_etag) = case(
        &admin,
        &json!({"customer": customer, "subject": "Invoices wrong", "tags": ["VIP Customer", "billing"],
                "category": "billing", "type": "incident"}),
    )
    .await;
    let got = admin.get(&format!("/api/v1/cases/{parent}")).await.expect(StatusCode::OK);
    assert_eq!(
        (got["tags"].clone(), got["category"].clone(), got["type"].clone()),
        (json!(["billing", "vip-customer"]), json!("billing"), json!("incident"))
    );
    let (child, child_etag) = case(
        &admin,
        &json!({"customer": customer, "subject": "March invoice", "parent": parent, "tags": ["vip customer"]}),
    )
    .await;
    let (other, _) = case(&admin, &json!({"customer": customer, "subject": "Unrelated"})).await;

    for (query, expected) in [
        ("tag=VIP%20customer", vec![child.clone(), parent.clone()]),
        ("category=billing", vec![parent.clone()]),
        ("type=incident", vec![parent.clone()]),
        (&format!("parent={parent}"), vec![child.clone()]),
    ] {
        let path = format!("/api/v1/cases?customer={customer}&{query}");
        let page = admin.get(&path).await.expect(StatusCode::OK);
        answers("a filtered case list", Method::GET, &path, 200, &page);
        assert_eq!(ids(&page), expected, "{query}");
    }
    let bad = admin.get("/api/v1/cases?tag=a,b").await.problem(422);
    assert_eq!(field(&bad), "tag");
    let path = format!("/api/v1/cases/{parent}/children");
    let children = admin.get(&path).await.expect(StatusCode::OK);
    answers("a case's children", Method::GET, &path, 200, &children);
    assert_eq!(ids(&children), std::slice::from_ref(&child));
    admin.get(&format!("/api/v1/cases/{}/children", uuid::Uuid::now_v7())).await.problem(404);

    // A cycle is refused naming `parent`; so is an unknown parent.
    let bad =
        admin.patch(&format!("/api/v1/cases/{parent}"), &parent_etag, &json!({"parent": child})).await.problem(422);
    assert_eq!(field(&bad), "parent");
    let bad = admin
        .patch(&format!("/api/v1/cases/{other}"), "*", &json!({"parent": uuid::Uuid::now_v7()}))
        .await
        .problem(422);
    assert_eq!(field(&bad), "parent");

    // A parent with an open child is not closed.
    let refused =
        admin.patch(&format!("/api/v1/cases/{parent}"), &parent_etag, &json!({"status": "closed"})).await.problem(409);
    assert!(refused.to_string().contains("1 child case"), "{refused}");

    // Resolving needs a resolution code of the tenant's list.
    let child_path = format!("/api/v1/cases/{child}");
    let bad = admin.patch(&child_path, &child_etag, &json!({"status": "resolved"})).await.problem(422);
    assert_eq!(field(&bad), "resolution");
    let bad =
        admin.patch(&child_path, &child_etag, &json!({"status": "resolved", "resolution": "magic"})).await.problem(422);
    assert_eq!(field(&bad), "resolution");
    let resolved = admin.patch(&child_path, &child_etag, &json!({"status": "resolved", "resolution": "fixed"})).await;
    let etag = resolved.etag();
    let body = resolved.expect(StatusCode::OK);
    answers("a resolved case", Method::PATCH, &child_path, 200, &body);
    assert_eq!((body["status"].clone(), body["resolution"].clone()), (json!("resolved"), json!("fixed")));
    assert!(body["resolved_at"].is_string(), "{body}");
    let listed = admin.get(&format!("/api/v1/cases?customer={customer}&status=resolved")).await.expect(StatusCode::OK);
    assert_eq!(ids(&listed), std::slice::from_ref(&child));
    // Still not closed: a resolved child is not done with.
    admin.patch(&format!("/api/v1/cases/{parent}"), &parent_etag, &json!({"status": "closed"})).await.problem(409);
    let closed = admin.patch(&child_path, &etag, &json!({"status": "closed"})).await;
    let etag = closed.etag();
    assert_eq!(closed.expect(StatusCode::OK)["resolution"], "fixed", "kept when closed");
    let parent_closed =
        admin.patch(&format!("/api/v1/cases/{parent}"), &parent_etag, &json!({"status": "closed"})).await;
    assert_eq!(parent_closed.expect(StatusCode::OK)["status"], "closed");
    let reopened = admin.patch(&child_path, &etag, &json!({"status": "open"})).await.expect(StatusCode::OK);
    assert_eq!((reopened["resolution"].clone(), reopened["resolved_at"].clone()), (Value::Null, Value::Null));

    // The history records the new fields.
    let history_path = format!("{child_path}/history");
    let history = admin.get(&history_path).await.expect(StatusCode::OK);
    answers("a case history", Method::GET, &history_path, 200, &history);
    let fields: Vec<&str> = history.as_array().into_iter().flatten().filter_map(|h| h["field"].as_str()).collect();
    for f in ["tags", "parent", "resolution", "status"] {
        assert!(fields.contains(&f), "{f} in {fields:?}");
    }

    // An entry in use is not deleted (409 naming the use); retired, it stays on its cases.
    let refused = admin.send(admin.request(Method::DELETE, "/api/v1/case-lists/category/billing")).await.problem(409);
    assert!(refused.to_string().contains("1 case carries"), "{refused}");
    let deleted = admin.send(admin.request(Method::DELETE, "/api/v1/case-lists/type/incident")).await;
    deleted.problem(409);
    admin.send(admin.request(Method::DELETE, "/api/v1/case-lists/category/nothing")).await.problem(404);
    let gone = admin.send(admin.request(Method::DELETE, "/api/v1/case-lists/category/legacy")).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{}", gone.text);
    alice.send(alice.request(Method::DELETE, "/api/v1/case-lists/category/billing")).await.problem(403);
}
on_every_store!(case_lists_tags_resolution_and_parents);
