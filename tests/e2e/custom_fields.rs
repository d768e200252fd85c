//! Custom field definitions over HTTP (CUS-2): a definition is changed at its ETag, a change
//! that would break stored records is refused naming them, a retired field keeps its values
//! and takes no new one, and only an unused field is deleted.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Api, Backend, TestServer};
use crate::on_every_store;

fn field_of(problem: &Value, i: usize) -> (&str, &str) {
    let e = &problem["errors"][i];
    (e["field"].as_str().unwrap_or_default(), e["reason"].as_str().unwrap_or_default())
}

async fn customer(api: &Api, name: &str, custom: Value) -> String {
    let created = api.post("/api/v1/customers", &json!({"name": name, "custom": custom})).await;
    created.expect(StatusCode::CREATED)["id"].as_str().expect("id").to_owned()
}

async fn a_custom_field_changes_without_breaking_what_records_hold(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let api = t.admin();
    let tier = json!({
        "entity": "customer", "key": "tier", "label": "Tier", "help_text": "Loyalty tier",
        "field_type": {"type": "single_choice", "choices": ["gold", "silver"]},
    });
    let created = api.post("/api/v1/custom-fields", &tier).await;
    let def = created.expect(StatusCode::CREATED);
    let (id, mut etag) = (def["id"].as_str().expect("id").to_owned(), created.etag());
    let path = format!("/api/v1/custom-fields/{id}");
    assert_eq!(api.get(&path).await.expect(StatusCode::OK)["help_text"], "Loyalty tier");
    let gold = customer(&api, "Gold Client", json!({"tier": "gold"})).await;
    customer(&api, "Silver Client", json!({"tier": "silver"})).await;

    // Dropping a choice a record carries, or requiring a value records lack: 422 naming them.
    let p = api.patch(&path, &etag, &json!({"choices": ["silver"]})).await.problem(422);
    let (field, reason) = field_of(&p, 0);
    assert_eq!(field, "choices");
    assert!(reason.starts_with("1 customers carry a value the change drops") && reason.contains(&gold), "{p}");
    let p = api.patch(&path, &etag, &json!({"required": true})).await.problem(422);
    assert_eq!(field_of(&p, 0).0, "required", "the demo customers have no tier: {p}");
    // The key and the type are fixed; a bad label names the field; a stale ETag is a 412.
    let p = api.patch(&path, &etag, &json!({"key": "rank"})).await.problem(422);
    assert_eq!(field_of(&p, 0).0, "key");
    let p = api.patch(&path, &etag, &json!({"label": ""})).await.problem(422);
    assert_eq!(field_of(&p, 0).0, "label");
    let alice = t.client_for(&t.demo().agent.to_string(), "agent").await;
    alice.patch(&path, &etag, &json!({"label": "Rank"})).await.problem(403);

    let changed = api
        .patch(&path, &etag, &json!({"label": "Loyalty", "help_text": null, "choices": ["gold", "silver", "bronze"]}))
        .await;
    let def = changed.expect(StatusCode::OK);
    assert_eq!(
        (def["label"].as_str(), def.get("help_text"), def["version"].as_u64()),
        (Some("Loyalty"), None, Some(2))
    );
    api.patch(&path, &etag, &json!({"label": "Late"})).await.problem(412);
    etag = changed.etag();
    customer(&api, "Bronze Client", json!({"tier": "bronze"})).await;

    // Retired: hidden from the form list, no new value, the old ones kept.
    let retired = api.patch(&path, &etag, &json!({"retired": true})).await;
    assert_eq!(retired.expect(StatusCode::OK)["retired"], true);
    etag = retired.etag();
    let listed = api.get("/api/v1/custom-fields?entity=customer").await.expect(StatusCode::OK);
    assert!(listed.as_array().expect("list").iter().all(|d| d["key"] != "tier"), "{listed}");
    let listed = api.get("/api/v1/custom-fields?entity=customer&include_retired=true").await.expect(StatusCode::OK);
    assert!(listed.as_array().expect("list").iter().any(|d| d["key"] == "tier" && d["retired"] == true));
    let p = api.post("/api/v1/customers", &json!({"name": "New", "custom": {"tier": "gold"}})).await.problem(422);
    assert_eq!(field_of(&p, 0).0, "custom.tier");
    let kept = api.get(&format!("/api/v1/customers/{gold}")).await.expect(StatusCode::OK);
    assert!(kept["custom"]["tier"].to_string().contains("gold"), "{kept}");

    // Deleting: refused while records carry values; an unused field goes.
    let r = api.send_if_match(Method::DELETE, &path, &etag, &Value::Null).await;
    let p = r.problem(409);
    assert!(p["detail"].as_str().unwrap_or_default().contains("3 customers"), "{p}");
    let unused = json!({"entity": "case", "key": "unused", "label": "Unused", "field_type": {"type": "text"}});
    let created = api.post("/api/v1/custom-fields", &unused).await;
    let unused_path =
        format!("/api/v1/custom-fields/{}", created.expect(StatusCode::CREATED)["id"].as_str().expect("id"));
    api.send_if_match(Method::DELETE, &unused_path, &created.etag(), &Value::Null).await.expect(StatusCode::NO_CONTENT);
    api.get(&unused_path).await.problem(404);
}

on_every_store!(a_custom_field_changes_without_breaking_what_records_hold);
