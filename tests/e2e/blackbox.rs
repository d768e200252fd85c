//! Found by a black-box client tried as a new user would (issue 27): phone numbers in
//! every written form and whatever the tenant's region, wrongly typed fields, `If-Match: *`,
//! generated account numbers after imported ones, the tenant's settings, and `GET /`.

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

async fn set_region(api: &Api, region: &str, zone: &str) -> Value {
    api.send(api.request(Method::PATCH, "/api/v1/tenant").json(&json!({"default_region": region, "time_zone": zone})))
        .await
        .expect(StatusCode::OK)
}

/// Glued country codes and foreign `+` numbers are accepted at create and at lookup, at a
/// US tenant and at the demo's French one.
async fn international_numbers_are_read_on_their_own(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let api = t.admin();
    for (written, e164) in [
        ("+1201-555-0533", "+12015550533"),
        ("+813-1234-5280", "+81312345280"),
        ("+55112345-6425", "+551123456425"),
        ("+5215512345678", "+525512345678"),
    ] {
        let created = api
            .post(
                "/api/v1/customers",
                &json!({"name": format!("Glued {e164}"), "identities": [{"type": "phone", "number": written}]}),
            )
            .await
            .expect(StatusCode::CREATED);
        assert_eq!(created["identities"][0]["number"], e164, "{written}");
        let found = api.get(&format!("/api/v1/lookup?phone={}", urlencode(written))).await.expect(StatusCode::OK);
        assert_eq!(found[0]["customer"]["id"], created["id"], "{written}");
    }
    let tenant = set_region(&api, "US", "America/New_York").await;
    assert_eq!(tenant["default_region"], "US");
    for e164 in ["+551123456425", "+5511987654321", "+33123456789", "+541143218765"] {
        let created = api
            .post(
                "/api/v1/customers",
                &json!({"name": format!("Abroad {e164}"), "identities": [{"type": "phone", "number": e164}]}),
            )
            .await
            .expect(StatusCode::CREATED);
        assert_eq!(created["identities"][0]["number"], e164);
        let found = api.get(&format!("/api/v1/lookup?phone={}", urlencode(e164))).await.expect(StatusCode::OK);
        assert!(found.as_array().is_some_and(|f| f.iter().any(|c| c["customer"]["id"] == created["id"])), "{e164}");
    }
    // A national number now reads as American.
    let us = api
        .post(
            "/api/v1/customers",
            &json!({"name": "Local", "identities": [{"type": "phone", "number": "(201) 555-0199"}]}),
        )
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(us["identities"][0]["number"], "+12015550199");
    t.server.stop().await.expect("stop");
}

on_every_store!(international_numbers_are_read_on_their_own);

fn urlencode(text: &str) -> String {
    text.replace('+', "%2B")
}

/// `{"status": 7}` is a 422 naming `status`; `If-Match: *` matches any current version and
/// still applies the change; on a missing record it is the 404 the request gets anyway.
async fn wrong_types_and_if_match_any(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let api = t.admin();
    let customers = api.get("/api/v1/customers?name=dupont").await.expect(StatusCode::OK);
    let customer = customers["items"][0]["id"].as_str().expect("a demo customer").to_owned();
    let created = api.post("/api/v1/cases", &json!({"customer": customer, "subject": "Typed"})).await;
    let case = created.expect(StatusCode::CREATED)["id"].as_str().expect("id").to_owned();
    let path = format!("/api/v1/cases/{case}");
    for body in [json!({"status": 7}), json!({"priority": true}), json!({"status": ["open"]})] {
        let p = api.patch(&path, &created.etag(), &body).await.problem(422);
        let field = body.as_object().and_then(|o| o.keys().next().cloned()).unwrap_or_default();
        assert_eq!(fields(&p), [field], "{body}: {p}");
    }
    let any = api.patch(&path, "*", &json!({"priority": "high"})).await;
    assert_eq!(any.expect(StatusCode::OK)["priority"], "high");
    assert_eq!(any.etag(), "\"2\"");
    let again = api.patch(&path, "*", &json!({"subject": "Typed again"})).await;
    assert_eq!(again.expect(StatusCode::OK)["version"], 3);
    // An explicit stale version is still refused.
    api.patch(&path, "\"2\"", &json!({"priority": "low"})).await.problem(412);
    api.patch(&format!("/api/v1/cases/{}", uuid::Uuid::now_v7()), "*", &json!({"priority": "low"})).await.problem(404);
    api.send(api.request(Method::DELETE, &path).header("if-match", "*")).await.expect(StatusCode::NO_CONTENT);
    api.get(&path).await.problem(404);
    t.server.stop().await.expect("stop");
}

on_both_backends!(wrong_types_and_if_match_any);

/// Customers created with account numbers in the generator's own form (as a CSV import or
/// a migration writes them) never make a generated number collide.
async fn generated_account_numbers_skip_imported_ones(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let api = t.admin();
    let probe = api.post("/api/v1/customers", &json!({"name": "Probe"})).await.expect(StatusCode::CREATED);
    let probe_number: u64 = probe["account_number"]
        .as_str()
        .and_then(|a| a.strip_prefix("AC-"))
        .and_then(|d| d.parse().ok())
        .expect("AC-…");
    for n in 1..=12 {
        let account = format!("AC-{:06}", probe_number + n);
        api.post("/api/v1/customers", &json!({"name": format!("Imported {n}"), "account_number": account}))
            .await
            .expect(StatusCode::CREATED);
    }
    for _ in 0..3 {
        let fresh = api.post("/api/v1/customers", &json!({"name": "Fresh"})).await.expect(StatusCode::CREATED);
        let number: u64 = fresh["account_number"]
            .as_str()
            .and_then(|a| a.strip_prefix("AC-"))
            .and_then(|d| d.parse().ok())
            .expect("AC-…");
        assert!(number > probe_number + 12, "{fresh}");
    }
    t.server.stop().await.expect("stop");
}

on_every_store!(generated_account_numbers_skip_imported_ones);

/// The tenant's region and time zone: read by anyone, changed by an administrator, with bad
/// values named; a region under which stored numbers would not be valid is refused; `GET /`
/// points to the docs.
async fn tenant_settings_and_the_front_door(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let api = t.admin();
    let tenant = api.get("/api/v1/tenant").await.expect(StatusCode::OK);
    assert_eq!(tenant["default_region"], "FR");
    assert_eq!(tenant["time_zone"], "Europe/Paris");
    let p = api
        .send(
            api.request(Method::PATCH, "/api/v1/tenant")
                .json(&json!({"default_region": "ZZ", "time_zone": "Mars/Base"})),
        )
        .await
        .problem(422);
    let mut f = fields(&p);
    f.sort();
    assert_eq!(f, ["default_region", "time_zone"], "{p}");
    let agent = t.client_for(&t.demo().agent.to_string(), "agent").await;
    agent.get("/api/v1/tenant").await.expect(StatusCode::OK);
    agent.send(agent.request(Method::PATCH, "/api/v1/tenant").json(&json!({"time_zone": "UTC"}))).await.problem(403);
    // `+7 877 807 84 47` is valid only when read without stripping Russia's trunk 8: a
    // French tenant keeps it, and a move to Russia would make it invalid, so it is refused.
    api.post(
        "/api/v1/customers",
        &json!({"name": "Kept", "identities": [{"type": "phone", "number": "+7 877 807 84 47"}]}),
    )
    .await
    .expect(StatusCode::CREATED);
    let p = api
        .send(api.request(Method::PATCH, "/api/v1/tenant").json(&json!({"default_region": "RU"})))
        .await
        .problem(422);
    assert_eq!(fields(&p), ["default_region"], "{p}");
    assert!(p.to_string().contains("+78778078447"), "{p}");
    assert_eq!(api.get("/api/v1/tenant").await.expect(StatusCode::OK)["default_region"], "FR", "nothing changed");
    let changed = set_region(&api, "GB", "Europe/London").await;
    assert_eq!(
        (changed["default_region"].as_str(), changed["time_zone"].as_str()),
        (Some("GB"), Some("Europe/London"))
    );
    assert_eq!(api.get("/api/v1/tenant").await.expect(StatusCode::OK), changed);
    let home = api.get("/").await.expect(StatusCode::OK);
    assert_eq!(home["docs"], "/api/v1/docs", "a client that is not a browser gets where to go as JSON");
    assert_eq!(home["console"], "/sign-in");
    assert_eq!(home["openapi"], "/api/v1/openapi.json");
    t.server.stop().await.expect("stop");
}

on_every_store!(tenant_settings_and_the_front_door);
