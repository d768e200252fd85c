//! Several replicas on one PostgreSQL: an event raised on one replica reaches an agent
//! connected to another, a task reminder is delivered exactly once, and an idempotency key
//! holds across replicas; 16 agents on two replicas never get one call-list entry twice.

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

/// Next contact across two replicas (OUT-2): 16 agents, half on each replica, ask for the
/// next entry of one list at the same time and record each call's outcome, until the list
/// is done: every entry is handed out exactly once, none twice, none lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn next_contact_hands_each_entry_to_one_agent_across_replicas() {
    let Some(backend) = Backend::postgres("replicas::next_contact_hands_each_entry_to_one_agent_across_replicas")
    else {
        return;
    };
    let a = TestServer::start(&backend).await;
    let b = start_on(&a.db.url, true).await;
    let admin = a.admin();
    let mut agents = Vec::new();
    for i in 0..16 {
        let body = json!({"name": format!("Caller {i}"), "email": format!("caller.{i}@demo.example"), "role": "agent"});
        let agent = admin.post("/api/v1/agents", &body).await.expect(StatusCode::CREATED);
        agents.push(agent["id"].as_str().expect("an agent id").to_owned());
    }
    let campaign = admin
        .post("/api/v1/campaigns", &json!({"name": "Replicated", "purpose": "survey"}))
        .await
        .expect(StatusCode::CREATED);
    let list = admin
        .post(
            &format!("/api/v1/campaigns/{}/call-lists", campaign["id"].as_str().expect("id")),
            &json!({"name": "Shared", "assignment": {"agents": agents},
                    "window": {"from": "00:00:00", "until": "23:59:59"}}),
        )
        .await
        .expect(StatusCode::CREATED);
    let list = list["id"].as_str().expect("a list id").to_owned();
    let mut entries = Vec::new();
    // A number is in a list once: 80 customers, over 4 priority levels.
    for i in 0..80 {
        let body = json!({"name": format!("Callee {i}"), "identities": [{"type": "phone", "number": format!("+33 1 40 00 00 {i:02}")}]});
        let customer = admin.post("/api/v1/customers", &body).await.expect(StatusCode::CREATED);
        entries.push(json!({"customer": customer["id"], "priority": i % 4}));
    }
    let report = admin
        .post(&format!("/api/v1/call-lists/{list}/entries"), &json!({"entries": entries}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(report["imported"], 80, "{report}");

    let mut callers = Vec::new();
    for (i, agent) in agents.iter().enumerate() {
        let token = a.client_for(agent, "agent").await;
        let api = if i % 2 == 0 { token } else { Api { base: b.url(), ..token } };
        let list = list.clone();
        callers.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let next =
                    api.send(api.request(reqwest::Method::POST, &format!("/api/v1/call-lists/{list}/next"))).await;
                if next.status == StatusCode::NO_CONTENT {
                    return mine;
                }
                let entry = next.expect(StatusCode::OK);
                let id = entry["id"].as_str().expect("an entry id").to_owned();
                let outcome = format!("/api/v1/call-lists/{list}/entries/{id}/outcome");
                api.post(&outcome, &json!({"disposition": "success"})).await.expect(StatusCode::OK);
                mine.push(id);
            }
        }));
    }
    let mut handed: Vec<String> = Vec::new();
    for caller in callers {
        handed.extend(caller.await.expect("a caller"));
    }
    let distinct: std::collections::BTreeSet<&String> = handed.iter().collect();
    assert_eq!((handed.len(), distinct.len()), (80, 80), "every entry once, none twice");
    b.stop().await.expect("clean stop");
    a.server.stop().await.expect("clean stop");
}
