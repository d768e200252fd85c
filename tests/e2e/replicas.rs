//! Several replicas on one PostgreSQL: an event raised on one replica reaches an agent
//! connected to another, a task reminder is delivered exactly once, and an idempotency key
//! holds across replicas.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crm_core::time::{Clock as _, SystemClock};

use crate::helpers::{Api, Backend, TestDb, TestServer, start_on};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn events_cross_replicas_and_reminders_fire_once() {
    let Some(backend) = Backend::postgres("replicas::events_cross_replicas_and_reminders_fire_once") else { return };
    let a = TestServer::start(&backend).await;
    let b = start_on(&a.db.url, true).await;
    assert!(b.demo.is_none(), "the second replica finds the database initialised");
    let demo = a.demo().clone();
    let alice_token = a.client_for(&demo.agent.to_string(), "agent").await;
    // Alice is connected to replica B; the call arrives on replica A.
    let alice_on_b = Api { base: b.url(), ..alice_token.clone() };
    let mut events = alice_on_b.events().await;
    a.admin()
        .post("/api/v1/cti/calls", &json!({"phone": "+33 1 23 45 67 89", "agent": demo.agent}))
        .await
        .expect(StatusCode::CREATED);
    let pop = events.next_named("screen_pop", Duration::from_secs(10)).await;
    assert_eq!(pop.data["cards"][0]["customer"]["name"], "Jeanne Dupont");

    // A task created through A with a due reminder: both replicas run the reminder worker,
    // Alice hears it once.
    let customer = pop.data["cards"][0]["customer"]["id"].clone();
    let at = (SystemClock.now() + chrono::Duration::minutes(2)).to_rfc3339();
    let task = alice_token
        .post(
            "/api/v1/tasks",
            &json!({"kind": "call", "subject": "Once only", "customer": customer, "scheduled": {"at": at}, "reminder_minutes": 5}),
        )
        .await
        .expect(StatusCode::CREATED);
    let first = events.next_named("task_reminder_due", Duration::from_secs(10)).await;
    assert_eq!(first.data["kind"]["task"], task["id"]);
    let again = events.all_named("task_reminder_due", Duration::from_secs(2)).await;
    assert!(again.is_empty(), "the reminder was delivered more than once: {again:?}");

    // A create retried on the other replica with the same key is answered from the first.
    let body = json!({"name": "Replicated Rita"});
    let on_a = alice_token
        .send(
            alice_token
                .request(reqwest::Method::POST, "/api/v1/customers")
                .header("idempotency-key", "r-1")
                .json(&body),
        )
        .await;
    let on_b = alice_on_b
        .send(
            alice_on_b.request(reqwest::Method::POST, "/api/v1/customers").header("idempotency-key", "r-1").json(&body),
        )
        .await;
    assert_eq!(on_a.expect(StatusCode::CREATED)["id"], on_b.expect(StatusCode::CREATED)["id"]);
    assert_eq!(on_b.headers.get("idempotent-replayed").and_then(|v| v.to_str().ok()), Some("true"));
    b.stop().await.expect("clean stop");
    a.server.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_starting_together_migrate_once_and_seed_one_demo() {
    let Some(backend) = Backend::postgres("replicas::replicas_starting_together_migrate_once_and_seed_one_demo") else {
        return;
    };
    let db = TestDb::fresh(&backend).await;
    let (a, b, c) = tokio::join!(start_on(&db.url, true), start_on(&db.url, true), start_on(&db.url, true));
    let seeded = [&a, &b, &c].iter().filter(|s| s.demo.is_some()).count();
    assert_eq!(seeded, 1, "exactly one replica seeds the demo");
    for s in [a, b, c] {
        s.stop().await.expect("clean stop");
    }
}
