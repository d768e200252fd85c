//! The console's task agenda over HTTP (issue 32): the agent's tasks in the core's buckets
//! (overdue, due, upcoming), marking one done, snoozing one (a refused snooze names its
//! field next to it), the reminder notice fragment for a reminder the stream announced,
//! anti-forgery refusals, and the French catalogue. The browser half (the notice arriving
//! live in the page) is `tests/console/`.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crm_core::time::{Clock as _, SystemClock};

use crate::console::{Browser, location};
use crate::helpers::{Backend, TestServer};
use crate::on_every_store;

/// The part of the agenda page in one bucket's section.
fn bucket<'a>(html: &'a str, key: &str) -> &'a str {
    let start = html.find(&format!(r#"id="bucket-{key}""#)).unwrap_or_else(|| panic!("no {key} bucket: {html}"));
    let rest = &html[start..];
    let end = rest[1..].find(r#"id="bucket-"#).map_or(rest.len(), |i| i + 1);
    &rest[..end]
}

async fn agenda_buckets_complete_snooze_and_reminder_notice(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let demo = t.demo().clone();
    let api = t.admin();
    let mut events = api.events().await;
    let customer = api
        .post(
            "/api/v1/customers",
            &json!({"name": "Grace Hopper", "identities": [{"type": "email", "address": "grace@example.com"}]}),
        )
        .await
        .expect(StatusCode::CREATED);
    let customer = customer["id"].as_str().expect("id").to_owned();
    let now = SystemClock.now();
    let task = |subject: &str, at: chrono::DateTime<chrono::Utc>, reminder: Option<u32>| {
        json!({"kind": "call", "subject": subject, "customer": customer, "assignee": demo.admin,
               "scheduled": {"at": at.to_rfc3339()}, "reminder_minutes": reminder})
    };
    let overdue = api.post("/api/v1/tasks", &task("Late call", now - chrono::Duration::hours(1), None)).await;
    let overdue = overdue.expect(StatusCode::CREATED);
    let due = api.post("/api/v1/tasks", &task("Call Grace back", now + chrono::Duration::minutes(30), Some(40))).await;
    let due = due.expect(StatusCode::CREATED);
    let later = api.post("/api/v1/tasks", &task("Quarterly review", now + chrono::Duration::days(3), None)).await;
    let later = later.expect(StatusCode::CREATED);
    let id = |t: &serde_json::Value| t["id"].as_str().expect("id").to_owned();
    let version = |t: &serde_json::Value| t["version"].as_u64().expect("version").to_string();

    // The reminder falls due: the stream announces it; the notice names the task.
    let reminder = events.next_named("task_reminder_due", Duration::from_secs(10)).await;
    assert_eq!(reminder.data["kind"]["task"], due["id"], "{}", reminder.data);

    let mut b = Browser::new(&t.server.url());
    assert_eq!(b.sign_in("admin@demo.example", &demo.admin_password).await, StatusCode::SEE_OTHER);
    let csrf = b.csrf().await;
    let (status, _, html) = b.get(&format!("/console/tasks/{}/reminder", id(&due))).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Reminder:") && html.contains("Call Grace back"), "{html}");
    assert!(html.contains(&format!(r#"href="/console/agenda#task-{}""#, id(&due))), "{html}");
    let (status, _, _) = b.get(&format!("/console/tasks/{}/reminder", uuid::Uuid::now_v7())).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Every page carries the live region the notices go to; the agenda is in the navigation.
    let (status, _, html) = b.get("/console/agenda").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains(r#"id="notices""#) && html.contains(r#"aria-live="polite""#), "{html}");
    assert!(html.contains(r#"href="/console/agenda""#), "{html}");
    assert!(bucket(&html, "overdue").contains("Late call"), "{html}");
    assert!(bucket(&html, "due").contains("Call Grace back"), "{html}");
    assert!(bucket(&html, "due").contains("Reminded"), "the reminder was sent: {html}");
    assert!(bucket(&html, "upcoming").contains("Quarterly review"), "{html}");

    // Done: needs the token; then gone from the agenda, done for the API; a stale one is a 409.
    let complete = format!("/console/tasks/{}/complete", id(&overdue));
    let v = version(&overdue);
    let (status, _, _) = b.post(&complete, &[("version", v.as_str())]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, headers, html) = b.post(&complete, &[("_csrf", csrf.as_str()), ("version", v.as_str())]).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    assert_eq!(location(&headers), "/console/agenda");
    let done = api.get(&format!("/api/v1/tasks/{}", id(&overdue))).await.expect(StatusCode::OK);
    assert_eq!(done["status"], "done", "{done}");
    let (_, _, html) = b.get("/console/agenda").await;
    assert!(!html.contains("Late call"), "{html}");
    let (status, _, _) = b.post(&complete, &[("_csrf", csrf.as_str()), ("version", v.as_str())]).await;
    assert_eq!(status, StatusCode::CONFLICT, "a stale version");

    // Snooze: a length out of bounds is refused next to the task's field; 15 minutes brings
    // the reminder back then (re-armed), the call keeps its time.
    let snooze = format!("/console/tasks/{}/snooze", id(&due));
    let v = version(&api.get(&format!("/api/v1/tasks/{}", id(&due))).await.expect(StatusCode::OK));
    let (status, _, html) =
        b.post(&snooze, &[("_csrf", csrf.as_str()), ("version", v.as_str()), ("minutes", "0")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    let field = format!(r#"id="snooze-error-{}""#, id(&due));
    assert!(html.contains(&field) && html.contains("minutes: must be between 1 and 1440"), "{html}");
    assert!(html.contains(&format!(r#"aria-describedby="snooze-error-{}""#, id(&due))), "{html}");
    let (status, _, html) =
        b.post(&snooze, &[("_csrf", csrf.as_str()), ("version", v.as_str()), ("minutes", "15")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    let snoozed = api.get(&format!("/api/v1/tasks/{}", id(&due))).await.expect(StatusCode::OK);
    assert_eq!(snoozed["scheduled_at"], due["scheduled_at"], "{snoozed}");
    assert!(snoozed["reminder_sent_at"].is_null(), "re-armed: {snoozed}");
    let back =
        chrono::DateTime::parse_from_rfc3339(snoozed["reminder_at"].as_str().expect("reminder_at")).expect("time");
    let expected = SystemClock.now() + chrono::Duration::minutes(15);
    assert!((back.to_utc() - expected).num_seconds().abs() < 120, "{back} vs {expected}");
    let (_, _, html) = b.get("/console/agenda").await;
    assert!(bucket(&html, "upcoming").contains("Call Grace back"), "snoozed out of the due bucket: {html}");

    // French, from the browser's language.
    let res = b.request(reqwest::Method::GET, "/console/agenda").header("accept-language", "fr-FR").send().await;
    let html = res.expect("sent").text().await.unwrap_or_default();
    assert!(html.contains("En retard") && html.contains("Me le rappeler dans"), "{html}");
    let _ = later;
    t.server.stop().await.expect("clean stop");
}
on_every_store!(agenda_buckets_complete_snooze_and_reminder_notice);
