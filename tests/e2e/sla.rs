//! SLA settings and a case's SLA over HTTP (issue 33): calendars and policies refused with
//! the field named, edited at their ETag, a calendar in use kept; a case's SLA from its
//! history (an agent reply meets the first response, a pending status pauses, a replaced
//! policy recomputes every figure).

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Api, Backend, TestServer};
use crate::on_every_store;

fn fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map_or_else(Vec::new, |e| e.iter().filter_map(|e| e["field"].as_str().map(str::to_owned)).collect())
}

fn every_day(from: &str, until: &str) -> Value {
    let days = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
    Value::Array(days.iter().map(|d| json!({"day": d, "from": from, "until": until})).collect())
}

fn policy(first: u32, resolution: u32) -> Value {
    json!({"basis": "calendar", "pause_statuses": ["pending"], "warning_percent": 50,
        "targets": [{"first_response_secs": first, "resolution_secs": resolution}]})
}

async fn delete(api: &Api, path: &str, etag: &str) -> crate::helpers::Reply {
    api.send(api.request(Method::DELETE, path).header("if-match", etag)).await
}

fn instant(v: &Value) -> DateTime<Utc> {
    v.as_str().and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("not an instant: {v}"))
}

async fn sla_settings_and_a_cases_clock(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let api = t.admin();
    // Bad calendars: no hours, an unknown zone, overlapping intervals.
    let bad = json!({"name": "office", "calendar": {"time_zone": "Mars/Olympus", "hours": []}});
    let p = api.post("/api/v1/sla/calendars", &bad).await.problem(422);
    assert_eq!(fields(&p), ["calendar.time_zone", "calendar.hours"], "{p}");
    let overlap = json!({"name": "office", "calendar": {"time_zone": "Europe/Paris", "hours": [
        {"day": "monday", "from": "09:00", "until": "12:00"}, {"day": "monday", "from": "11:00", "until": "13:00"}]}});
    let p = api.post("/api/v1/sla/calendars", &overlap).await.problem(422);
    assert!(fields(&p).iter().all(|f| f.starts_with("calendar.hours[")) && !fields(&p).is_empty(), "{p}");
    let p = api
        .post(
            "/api/v1/sla/calendars",
            &json!({"name": "Bad Name", "calendar": {
        "time_zone": "Europe/Paris", "hours": every_day("08:00", "20:00")}}),
        )
        .await
        .problem(422);
    assert_eq!(fields(&p), ["name"]);

    let created = api
        .post(
            "/api/v1/sla/calendars",
            &json!({"name": "office", "calendar": {
            "time_zone": "Europe/Paris", "hours": every_day("08:00", "20:00"),
            "holidays": [{"date": "2026-12-25", "yearly": true, "name": "Christmas"}]}}),
        )
        .await;
    let cal = created.expect(StatusCode::CREATED);
    assert_eq!((cal["name"].as_str(), cal["version"].as_u64()), (Some("office"), Some(1)));
    api.post(
        "/api/v1/sla/calendars",
        &json!({"name": "office", "calendar": {
        "time_zone": "UTC", "hours": every_day("00:00", "24:00")}}),
    )
    .await
    .problem(409);
    let cal_etag = created.etag();

    // Bad policies: a zero target, an unknown calendar.
    let p = api
        .post("/api/v1/sla/policies", &json!({"name": "standard", "calendar": "office", "policy": policy(0, 60)}))
        .await
        .problem(422);
    assert_eq!(fields(&p), ["policy.targets[0].first_response_secs"], "{p}");
    let p = api
        .post("/api/v1/sla/policies", &json!({"name": "standard", "calendar": "nope", "policy": policy(60, 60)}))
        .await
        .problem(422);
    assert_eq!(fields(&p), ["calendar"], "{p}");
    let created = api
        .post(
            "/api/v1/sla/policies",
            &json!({"name": "standard", "calendar": "office", "policy": policy(3600, 86_400)}),
        )
        .await;
    created.expect(StatusCode::CREATED);
    let mut policy_etag = created.etag();
    // one policy for the tenant
    api.post("/api/v1/sla/policies", &json!({"name": "second", "calendar": "office", "policy": policy(60, 60)}))
        .await
        .problem(409);
    // an agent reads but does not change them
    let alice = t.client_for(&t.demo().agent.to_string(), "agent").await;
    assert_eq!(alice.get("/api/v1/sla/policies").await.expect(StatusCode::OK).as_array().map(Vec::len), Some(1));
    alice
        .post(
            "/api/v1/sla/calendars",
            &json!({"name": "x", "calendar": {
        "time_zone": "UTC", "hours": every_day("00:00", "24:00")}}),
        )
        .await
        .problem(403);

    // A case under the policy: first response running, due an hour after creation.
    let customer = api.post("/api/v1/customers", &json!({"name": "Sla Client"})).await.expect(StatusCode::CREATED);
    let case = api
        .post("/api/v1/cases", &json!({"customer": customer["id"], "subject": "Down"}))
        .await
        .expect(StatusCode::CREATED);
    let (id, created_at) = (case["id"].as_str().expect("id").to_owned(), instant(&case["created_at"]));
    let sla_path = format!("/api/v1/cases/{id}/sla");
    let sla = api.get(&sla_path).await.expect(StatusCode::OK);
    let first = &sla["state"]["first_response"];
    assert_eq!((sla["state"]["policy"].as_str(), first["status"].as_str()), (Some("standard"), Some("running")));
    let due = instant(&first["due_at"]);
    assert_eq!(due.timestamp(), created_at.timestamp() + 3600, "{sla}");
    assert_eq!(instant(&first["warning_at"]).timestamp(), created_at.timestamp() + 1800);

    // An agent's mail to the customer meets the first response.
    api.post(
        &format!("/api/v1/cases/{id}/follow-ups"),
        &json!({"kind": "outbound_email", "body": "On it", "visibility": "public"}),
    )
    .await
    .expect(StatusCode::CREATED);
    let sla = api.get(&sla_path).await.expect(StatusCode::OK);
    assert_eq!(sla["state"]["first_response"]["status"], "met", "{sla}");
    assert_eq!(sla["state"]["resolution"]["status"], "running");

    // A one-second resolution target, replacing the policy, recomputes from history.
    let body = json!({"calendar": "office", "policy": policy(3600, 1)});
    api.send_if_match(Method::PUT, "/api/v1/sla/policies/standard", "\"9\"", &body).await.problem(412);
    let replaced = api.send_if_match(Method::PUT, "/api/v1/sla/policies/standard", &policy_etag, &body).await;
    assert_eq!(replaced.expect(StatusCode::OK)["version"], 2);
    policy_etag = replaced.etag();
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let sla = api.get(&sla_path).await.expect(StatusCode::OK);
    let resolution = &sla["state"]["resolution"];
    assert_eq!(resolution["status"], "breached", "{sla}");
    assert_eq!(instant(&resolution["breached_at"]).timestamp(), created_at.timestamp() + 1);
    assert_eq!(sla["state"]["first_response"]["status"], "met", "kept");

    // The attainment report of the period holding only this case, in JSON and CSV.
    let z = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
    let period = format!("from={}&to={}", z(created_at), z(created_at + chrono::Duration::hours(1)));
    let report = api.get(&format!("/api/v1/reports/sla?{period}")).await.expect(StatusCode::OK);
    assert_eq!((report["cases"].as_u64(), report["complete"].as_bool()), (Some(1), Some(true)), "{report}");
    let row =
        |metric: &str| report["rows"].as_array().and_then(|rows| rows.iter().find(|r| r["metric"] == metric)).cloned();
    let first = row("first_response").unwrap_or_default();
    assert_eq!((first["met"].as_u64(), first["attainment_per_mille"].as_u64()), (Some(1), Some(1000)), "{report}");
    let resolution = row("resolution").unwrap_or_default();
    assert_eq!((resolution["breached"].as_u64(), resolution["attainment_per_mille"].as_u64()), (Some(1), Some(0)));
    for csv in [
        api.get(&format!("/api/v1/reports/sla?{period}&format=csv")).await,
        api.send(api.request(Method::GET, &format!("/api/v1/reports/sla?{period}")).header("accept", "text/csv")).await,
    ] {
        assert_eq!(csv.status, StatusCode::OK);
        assert_eq!(csv.headers.get("content-type").and_then(|v| v.to_str().ok()), Some("text/csv"));
        assert!(csv.text.starts_with("group,metric,met,breached,in_progress,attainment_per_mille\n"), "{}", csv.text);
        assert!(csv.text.contains(",first_response,1,0,0,1000\n"), "{}", csv.text);
    }
    let backwards = format!("from={}&to={}", z(created_at), z(created_at - chrono::Duration::hours(1)));
    let p = api.get(&format!("/api/v1/reports/sla?{backwards}")).await.problem(422);
    assert_eq!(fields(&p), ["to"], "{p}");

    // Settings in use are kept; deleting the policy leaves the case without SLA.
    delete(&api, "/api/v1/sla/calendars/office", &cal_etag).await.problem(409);
    delete(&api, "/api/v1/sla/policies/standard", &policy_etag).await.expect(StatusCode::NO_CONTENT);
    assert_eq!(api.get(&sla_path).await.expect(StatusCode::OK)["state"], Value::Null);
    delete(&api, "/api/v1/sla/calendars/office", &cal_etag).await.expect(StatusCode::NO_CONTENT);
    api.get("/api/v1/sla/calendars/office").await.problem(404);
    api.get("/api/v1/cases/00000000-0000-0000-0000-000000000000/sla").await.problem(404);
}
on_every_store!(sla_settings_and_a_cases_clock);
