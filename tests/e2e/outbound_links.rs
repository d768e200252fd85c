//! Outbound calling tied to scripts and alerts over HTTP (OUT-1, GUI-1, GUI-2): a list's
//! script must exist and be published (422 naming `script`); an open entry raises the
//! `campaign.open_entry` alert at screen pop, in the dry run and during the interaction; a
//! script run started for the entry is seen from the entry; the script list is paged.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestServer};
use crate::on_every_store;

fn id(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_owned()
}

fn script(name: &str) -> Value {
    json!({"name": name, "start": "q", "steps": [
        {"type": "yes_no", "id": "q", "text": "Interested, {{customer.name}}?", "yes": "done", "no": "done"},
        {"type": "end", "id": "done"}
    ]})
}

async fn an_entry_raises_its_alert_and_keeps_its_script_runs(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let admin = t.admin();
    let demo = t.demo().clone();

    // Scripts: one published, one draft only; the list is paged by cursor.
    let offer = admin.post("/api/v1/scripts", &script("Offer")).await;
    let offer_id = id(&offer.expect(StatusCode::CREATED));
    let publish = format!("/api/v1/scripts/{offer_id}/publish");
    admin.post_if_match(&publish, &offer.etag(), &Value::Null).await.expect(StatusCode::CREATED);
    let draft = id(&admin.post("/api/v1/scripts", &script("Draft")).await.expect(StatusCode::CREATED));
    let first = admin.get("/api/v1/scripts?limit=1").await.expect(StatusCode::OK);
    assert_eq!(first["items"][0]["draft"]["name"], "Draft", "{first}");
    let next = first["next"].as_str().expect("a second page").to_owned();
    let second = admin.get(&format!("/api/v1/scripts?limit=1&cursor={next}")).await.expect(StatusCode::OK);
    assert_eq!((second["items"][0]["id"].as_str(), &second["next"]), (Some(offer_id.as_str()), &Value::Null));
    let p = admin.get("/api/v1/scripts?cursor=zz").await.problem(422);
    assert_eq!(p["errors"][0]["field"], "cursor", "{p}");
    admin.get("/api/v1/scripts?limit=0").await.problem(422);

    // A list's script: unknown or unpublished is refused naming `script`.
    let campaign = admin.post("/api/v1/campaigns", &json!({"name": "Upsell", "purpose": "marketing"})).await;
    let lists = format!("/api/v1/campaigns/{}/call-lists", id(&campaign.expect(StatusCode::CREATED)));
    let list_body = |script: &str| {
        json!({"name": "Upsell", "script": script, "assignment": {"agents": [demo.admin]},
               "window": {"from": "00:00:00", "until": "23:59:59"}})
    };
    for bad in [uuid::Uuid::now_v7().to_string(), draft.clone()] {
        let p = admin.post(&lists, &list_body(&bad)).await.problem(422);
        assert_eq!(p["errors"][0]["field"], "script", "{p}");
    }
    let list = admin.post(&lists, &list_body(&offer_id)).await.expect(StatusCode::CREATED);
    assert_eq!(list["script"], offer_id.as_str());
    let list = id(&list);
    let p = admin
        .send_if_match(
            reqwest::Method::PATCH,
            &format!("/api/v1/call-lists/{list}"),
            "\"1\"",
            &json!({"script": draft}),
        )
        .await
        .problem(422);
    assert_eq!(p["errors"][0]["field"], "script", "{p}");

    // A customer with an open entry, and a rule on it.
    let olga = json!({"name": "Olga Sortant", "identities": [{"type": "phone", "number": "+33 6 98 76 54 32"}]});
    let olga = id(&admin.post("/api/v1/customers", &olga).await.expect(StatusCode::CREATED));
    let added = admin
        .post(&format!("/api/v1/call-lists/{list}/entries"), &json!({"entries": [{"customer": olga}]}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(added["imported"], 1, "{added}");
    let read = admin.get("/api/v1/alert-rules").await;
    let rules = json!({"rules": [{"name": "campaign", "severity": "info", "message": "in a campaign",
        "suggestion": "run the offer script", "condition": {"field": "campaign.open_entry", "op": "equals", "value": true}}]});
    admin.send_if_match(reqwest::Method::PUT, "/api/v1/alert-rules", &read.etag(), &rules).await.expect(StatusCode::OK);
    let dry = admin.post("/api/v1/alert-rules/dry-run", &json!({"customer": olga})).await.expect(StatusCode::OK);
    assert_eq!(
        (dry["alerts"][0]["rule"].as_str(), &dry["facts"]["campaign.open_entry"]),
        (Some("campaign"), &json!(true))
    );
    let jeanne = admin.get("/api/v1/lookup?phone=%2B33123456789").await.expect(StatusCode::OK);
    assert!(jeanne[0].get("alerts").is_none(), "no entry, no alert: {jeanne}");

    // The call: the alert comes with the screen pop, and during the interaction.
    let entry = admin.post(&format!("/api/v1/call-lists/{list}/next"), &json!({})).await.expect(StatusCode::OK);
    let entry = id(&entry);
    let pop = admin
        .post("/api/v1/cti/calls", &json!({"phone": "+33698765432", "agent": demo.admin}))
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(pop["cards"][0]["alerts"][0]["rule"], "campaign", "{pop}");
    let interaction = pop["interaction"]["id"].as_str().expect("interaction").to_owned();
    let during = admin.get(&format!("/api/v1/interactions/{interaction}/alerts")).await.expect(StatusCode::OK);
    assert_eq!(during[0]["rule"], "campaign", "{during}");

    // A run for the entry: recorded on the interaction and seen from the entry.
    let runs = format!("/api/v1/interactions/{interaction}/script-runs");
    let p = admin.post(&runs, &json!({"script": offer_id, "entry": uuid::Uuid::now_v7()})).await.problem(422);
    assert_eq!(p["errors"][0]["field"], "entry", "{p}");
    let run = admin.post(&runs, &json!({"script": offer_id, "entry": entry})).await.expect(StatusCode::CREATED);
    assert_eq!(
        (run["entry"].as_str(), run["text"].as_str()),
        (Some(entry.as_str()), Some("Interested, Olga Sortant?"))
    );
    admin
        .post(
            &format!("/api/v1/script-runs/{}/answers", id(&run)),
            &json!({"step": "q", "value": {"type": "yes_no", "value": true}}),
        )
        .await
        .expect(StatusCode::OK);
    let from_entry = admin.get(&format!("/api/v1/call-lists/{list}/entries/{entry}/script-runs")).await;
    let from_entry = from_entry.expect(StatusCode::OK);
    assert_eq!(from_entry.as_array().map(Vec::len), Some(1), "{from_entry}");
    assert_eq!(from_entry[0]["run"]["path"], json!(["q", "done"]));
    assert_eq!(from_entry[0]["finished"], true);
    admin.get(&format!("/api/v1/call-lists/{}/entries/{entry}/script-runs", uuid::Uuid::now_v7())).await.problem(404);

    // The entry closed: no alert any more.
    let outcome = format!("/api/v1/call-lists/{list}/entries/{entry}/outcome");
    admin.post(&outcome, &json!({"disposition": "success"})).await.expect(StatusCode::OK);
    let dry = admin.post("/api/v1/alert-rules/dry-run", &json!({"customer": olga})).await.expect(StatusCode::OK);
    assert_eq!(
        (dry["alerts"].as_array().map(Vec::len), &dry["facts"]["campaign.open_entry"]),
        (Some(0), &json!(false))
    );
}

on_every_store!(an_entry_raises_its_alert_and_keeps_its_script_runs);
