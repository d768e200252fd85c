//! Bad input always gets the right 4xx as problem+json, never a 5xx: wrong types, unknown
//! fields, malformed JSON, oversized bodies, overlong emails, illegal transitions, stale
//! versions, missing preconditions, unknown routes and methods.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Api, Backend, TestServer};
use crate::{on_both_backends, on_every_store};

fn fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|e| e.iter().filter_map(|x| x["field"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

async fn create_case(api: &Api) -> (String, String) {
    let customers = api.get("/api/v1/customers?name=dupont").await.expect(StatusCode::OK);
    let customer = customers["items"][0]["id"].as_str().expect("a demo customer").to_owned();
    let created = api.post("/api/v1/cases", &json!({"customer": customer, "subject": "Printer on fire"})).await;
    let id = created.expect(StatusCode::CREATED)["id"].as_str().expect("id").to_owned();
    (id, created.etag())
}

async fn bad_input_gets_the_right_4xx(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let api = t.admin();

    // Wrong types, unknown fields and missing fields name the field (422).
    let p = api.post("/api/v1/customers", &json!({"name": 3})).await.problem(422);
    assert_eq!(fields(&p), ["name"]);
    let p = api.post("/api/v1/customers", &json!({"name": "x", "shoe_size": 44})).await.problem(422);
    assert_eq!(fields(&p), ["shoe_size"]);
    let p = api.post("/api/v1/customers", &json!({"identities": []})).await.problem(422);
    assert_eq!(fields(&p), ["name"]);
    let p = api
        .post("/api/v1/customers", &json!({"name": "x", "identities": [{"type": "phone", "number": 12}]}))
        .await
        .problem(422);
    // Internally tagged enums hide the inner field from serde: the item is named.
    assert!(fields(&p)[0].starts_with("identities[0]"), "{p}");
    let p = api
        .post("/api/v1/tasks", &json!({"kind": "call", "subject": "s", "customer": "not-a-uuid"}))
        .await
        .problem(422);
    assert!(fields(&p).iter().any(|f| f == "customer"), "{p}");

    // Domain validation: every bad field at once (422).
    let long_email = format!("{}@example.com", "a".repeat(243));
    assert_eq!(long_email.len(), 255);
    let p = api
        .post(
            "/api/v1/customers",
            &json!({"name": " ", "identities": [{"type": "email", "address": long_email}, {"type": "phone", "number": "12"}]}),
        )
        .await
        .problem(422);
    let f = fields(&p);
    assert!(f.contains(&"name".to_owned()) && f.contains(&"identities[0].address".to_owned()), "{p}");
    assert!(f.contains(&"identities[1].number".to_owned()), "{p}");

    // Malformed JSON (400), not JSON at all (415), too large (413).
    let r = api
        .send(
            api.request(Method::POST, "/api/v1/customers")
                .header("content-type", "application/json")
                .body("{\"name\": "),
        )
        .await;
    r.problem(400);
    let r = api
        .send(api.request(Method::POST, "/api/v1/customers").header("content-type", "text/plain").body("name=x"))
        .await;
    r.problem(415);
    let big = json!({"name": "x".repeat(300 * 1024)});
    api.post("/api/v1/customers", &big).await.problem(413);

    // Query parameters of the wrong type or out of range (422), bad lookups (422).
    let p = api.get("/api/v1/cases?limit=lots").await.problem(422);
    assert_eq!(fields(&p), ["limit"]);
    api.get("/api/v1/cases?limit=0").await.problem(422);
    api.get("/api/v1/cases?status=exploded").await.problem(422);
    api.get("/api/v1/cases?cursor=zz").await.problem(422);
    api.get("/api/v1/lookup?phone=12&email=a@b.c").await.problem(422);
    api.get("/api/v1/lookup?phone=not-a-number").await.problem(422);
    api.get("/api/v1/customers?bogus=1").await.problem(422);

    // NUL characters (PostgreSQL cannot store them) are refused wherever they hide (422).
    for q in [
        "customers?email=%00abc",
        "customers?account_number=%00",
        "cases?text=a%00",
        "customers?custom_key=vip&custom_value=%00",
    ] {
        let p = api.get(&format!("/api/v1/{q}")).await.problem(422);
        assert!(!fields(&p).is_empty(), "{q}: {p}");
    }
    let p = api.post("/api/v1/cti/calls", &json!({"phone": "+33123456789", "queue": "q\u{0}"})).await.problem(422);
    assert_eq!(fields(&p), ["queue"]);
    let p = api.post("/api/v1/customers", &json!({"name": "x", "custom": {"k\u{0}": 1}})).await.problem(422);
    assert_eq!(fields(&p), ["custom.k\u{0}"]);

    // Ids that cannot exist, unknown routes, wrong methods.
    // A malformed id is the parameter's fault (422 naming it), not a missing record.
    let p = api.get("/api/v1/customers/not-a-uuid").await.problem(422);
    assert_eq!(fields(&p), ["id"], "{p}");
    let p = api.get("/api/v1/cases/42/history").await.problem(422);
    assert_eq!(fields(&p), ["id"], "{p}");
    api.get(&format!("/api/v1/cases/{}", uuid::Uuid::now_v7())).await.problem(404);
    api.get("/api/v1/nothing-here").await.problem(404);
    api.send(api.request(Method::PUT, "/api/v1/customers")).await.problem(405);

    // Updates need If-Match (428); a stale one is 412; a garbled one 400.
    let (case, etag) = create_case(&api).await;
    let path = format!("/api/v1/cases/{case}");
    api.send(api.request(Method::PATCH, &path).json(&json!({"priority": "high"}))).await.problem(428);
    api.patch(&path, "yesterday", &json!({"priority": "high"})).await.problem(400);
    let updated = api.patch(&path, &etag, &json!({"priority": "high"})).await;
    assert_eq!(updated.expect(StatusCode::OK)["version"], 2);
    assert_eq!(updated.etag(), "\"2\"");
    let p = api.patch(&path, &etag, &json!({"priority": "low"})).await.problem(412);
    assert_eq!(p["type"], "urn:crm:problem:stale-version");
    api.send(api.request(Method::DELETE, &path)).await.problem(428);
    api.send(api.request(Method::DELETE, &path).header("if-match", etag.as_str())).await.problem(412);

    // Illegal transitions (409) and invalid status values (422).
    let p = api.patch(&path, &updated.etag(), &json!({"status": "draft"})).await.problem(409);
    assert_eq!(p["type"], "urn:crm:problem:illegal-transition");
    api.patch(&path, &updated.etag(), &json!({"status": "exploded"})).await.problem(422);
    let closed = api.patch(&path, &updated.etag(), &json!({"status": "closed"})).await;
    closed.expect(StatusCode::OK);
    api.patch(&path, &closed.etag(), &json!({"status": "pending"})).await.problem(409);

    // An offered interaction cannot be ended (409); a duplicate account number is 409.
    let inter = api.post("/api/v1/interactions", &json!({"channel": "voice", "direction": "inbound"})).await;
    let id = inter.expect(StatusCode::CREATED)["id"].as_str().expect("id").to_owned();
    api.post_if_match(&format!("/api/v1/interactions/{id}/actions"), &inter.etag(), &json!({"action": "end"}))
        .await
        .problem(409);
    api.post_if_match(&format!("/api/v1/interactions/{id}/actions"), &inter.etag(), &json!({"action": "explode"}))
        .await
        .problem(422);
    let p = api.post("/api/v1/customers", &json!({"name": "Copy", "account_number": "ACME-0001"})).await.problem(409);
    assert_eq!(p["type"], "urn:crm:problem:duplicate");
    t.server.stop().await.expect("clean stop");
}

on_both_backends!(bad_input_gets_the_right_4xx);

/// A customer's interactions and relations answer 404 for a customer the tenant does not
/// have, as the customer itself does, instead of an empty list.
async fn a_missing_customers_lists_are_not_found(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let api = t.admin();
    let missing = uuid::Uuid::now_v7();
    for path in [
        format!("/api/v1/customers/{missing}"),
        format!("/api/v1/customers/{missing}/interactions"),
        format!("/api/v1/customers/{missing}/relations"),
    ] {
        let p = api.get(&path).await.problem(404);
        assert!(p["detail"].as_str().is_some_and(|d| d.contains("customer")), "{path}: {p}");
    }
    let found = api.get("/api/v1/lookup?phone=%2B33144270000").await.expect(StatusCode::OK);
    let marie = found[0]["customer"]["id"].as_str().expect("the demo's Marie").to_owned();
    api.get(&format!("/api/v1/customers/{marie}/interactions")).await.expect(StatusCode::OK);
    api.get(&format!("/api/v1/customers/{marie}/relations")).await.expect(StatusCode::OK);
    t.server.stop().await.expect("stop");
}

on_every_store!(a_missing_customers_lists_are_not_found);
