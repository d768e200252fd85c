//! The agent's own language and time zone in the console (issue 32): saved in the profile
//! (the API sees them), used instead of the browser's language and the tenant's zone, a bad
//! zone refused next to its field with what was typed, a stale form refused, and the core's
//! rule through `PATCH /api/v1/me` too.

use reqwest::StatusCode;
use serde_json::json;

use crate::console::{Browser, location};
use crate::helpers::{Backend, TestServer};
use crate::on_every_store;

async fn language_and_time_zone_preferences(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let demo = t.demo().clone();
    let api = t.admin();
    let customer = api
        .post(
            "/api/v1/customers",
            &json!({"name": "Ada Byron", "identities": [{"type": "email", "address": "ada@example.com"}]}),
        )
        .await
        .expect(StatusCode::CREATED);
    // A task at a known instant: 12:00 UTC is 07:00 in New York.
    let task = json!({"kind": "call", "subject": "Zone check", "customer": customer["id"], "assignee": demo.admin,
                      "scheduled": {"at": "2030-01-15T12:00:00Z"}});
    api.post("/api/v1/tasks", &task).await.expect(StatusCode::CREATED);

    let mut b = Browser::new(&t.server.url());
    assert_eq!(b.sign_in("admin@demo.example", &demo.admin_password).await, StatusCode::SEE_OTHER);
    let csrf = b.csrf().await;
    let (status, _, html) = b.get("/console/preferences").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains(r#"<option value="" selected>The browser's language</option>"#), "{html}");
    let (_, _, html) = b.get("/console/agenda").await;
    assert!(!html.contains("2030-01-15 07:00"), "the tenant's zone first: {html}");
    let version = |me: &serde_json::Value| me["version"].as_u64().expect("version").to_string();
    let v = version(&api.get("/api/v1/me").await.expect(StatusCode::OK));

    // The token is needed; a zone that does not exist is refused next to its field, kept as typed.
    let bad = [("_csrf", csrf.as_str()), ("version", v.as_str()), ("language", "fr"), ("time_zone", "Mars/Olympus")];
    assert_eq!(b.post("/console/preferences", &bad[1..]).await.0, StatusCode::FORBIDDEN);
    let (status, _, html) = b.post("/console/preferences", &bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(
        html.contains(r#"id="time-zone-error""#) && html.contains("time_zone: &quot;Mars/Olympus&quot; is not an IANA"),
        "{html}"
    );
    assert!(
        html.contains(r#"value="Mars/Olympus""#)
            && html.contains(r#"aria-describedby="time-zone-hint time-zone-error""#),
        "{html}"
    );

    // Saved: French whatever the browser says, New York times; the API sees both.
    let good =
        [("_csrf", csrf.as_str()), ("version", v.as_str()), ("language", "fr"), ("time_zone", "America/New_York")];
    let (status, headers, html) = b.post("/console/preferences", &good).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    assert_eq!(location(&headers), "/console/preferences?saved=1");
    let (_, _, html) = b.get("/console/preferences?saved=1").await;
    assert!(html.contains("Enregistré.") && html.contains(r#"lang="fr""#), "{html}");
    let (_, _, html) = b.get("/console/agenda").await;
    assert!(html.contains("2030-01-15 07:00") && html.contains("À venir"), "{html}");
    let me = api.get("/api/v1/me").await.expect(StatusCode::OK);
    assert_eq!(
        (me["profile"]["language"].as_str(), me["profile"]["time_zone"].as_str()),
        (Some("fr"), Some("America/New_York"))
    );
    assert_eq!(b.post("/console/preferences", &good).await.0, StatusCode::CONFLICT, "a stale form");

    // Cleared: back to the browser's language and the tenant's zone.
    let v = version(&me);
    let clear = [("_csrf", csrf.as_str()), ("version", v.as_str()), ("language", ""), ("time_zone", "")];
    assert_eq!(b.post("/console/preferences", &clear).await.0, StatusCode::SEE_OTHER);
    let (_, _, html) = b.get("/console/agenda").await;
    assert!(html.contains("Upcoming") && !html.contains("2030-01-15 07:00"), "{html}");
    let me = api.get("/api/v1/me").await.expect(StatusCode::OK);
    assert!(me["profile"].get("language").is_none_or(serde_json::Value::is_null), "{me}");

    // The core's rule through the API: a language that is not a tag names the field.
    let res = api.get("/api/v1/me").await;
    let p = api.patch("/api/v1/me", &res.etag(), &json!({"language": "klingon!"})).await.problem(422);
    assert_eq!(p["errors"][0]["field"], "language", "{p}");
    t.server.stop().await.expect("clean stop");
}
on_every_store!(language_and_time_zone_preferences);
