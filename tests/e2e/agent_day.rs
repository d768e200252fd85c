//! A whole agent day over HTTP: a call comes in, the CTI screen pop reaches the agent's event
//! stream, the agent accepts, creates a case from the interaction, writes a follow-up,
//! schedules a task whose reminder arrives on the stream, sets a disposition and wraps up.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crm_core::time::{Clock as _, SystemClock};

use crate::helpers::{Backend, TestServer};
use crate::on_every_store;

async fn a_whole_agent_day(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let demo = t.demo().clone();
    let admin = t.admin();
    let alice = t.client_for(&demo.agent.to_string(), "agent").await;
    let mut events = alice.events().await;

    // The telephony system reports a call from Jeanne's number, written another way.
    let pop = admin
        .post("/api/v1/cti/calls", &json!({"phone": "01 23 45 67 89", "agent": demo.agent, "queue": "support"}))
        .await
        .expect(StatusCode::CREATED);
    let interaction = pop["interaction"]["id"].as_str().expect("interaction id").to_owned();
    let screen_pop = events.next_named("screen_pop", Duration::from_secs(10)).await;
    assert_eq!(screen_pop.data["cards"][0]["customer"]["name"], "Jeanne Dupont");
    assert_eq!(screen_pop.data["interaction"]["id"], interaction.as_str());
    let customer = screen_pop.data["cards"][0]["customer"]["id"].as_str().expect("customer").to_owned();
    assert!(!screen_pop.data["cards"][0]["open_cases"].as_array().expect("cases").is_empty());

    // Alice accepts the call.
    let path = format!("/api/v1/interactions/{interaction}");
    let read = alice.get(&path).await;
    read.expect(StatusCode::OK);
    let accepted = alice.post_if_match(&format!("{path}/actions"), &read.etag(), &json!({"action": "accept"})).await;
    assert_eq!(accepted.expect(StatusCode::OK)["state"], "active");

    // She opens a case from the interaction; it is linked at once.
    let case = alice
        .post_if_match(
            &format!("{path}/case"),
            &accepted.etag(),
            &json!({"customer": customer, "subject": "Refund not received", "priority": "high"}),
        )
        .await;
    let case_body = case.expect(StatusCode::CREATED);
    let case_id = case_body["id"].as_str().expect("case id").to_owned();
    assert_eq!(case_body["status"], "open");
    assert_eq!(case_body["assignee"], demo.agent.to_string());
    // Her stream announces the case she is assigned (after the demo data's own cases, whose
    // events may still be on their way).
    let mut created = events.next_named("case_created", Duration::from_secs(10)).await;
    for _ in 0..50 {
        if created.data["kind"]["case"] == case_id.as_str() {
            break;
        }
        created = events.next_named("case_created", Duration::from_secs(10)).await;
    }
    assert_eq!(created.data["kind"]["case"], case_id.as_str(), "{}", created.data);
    assert_eq!(created.data["kind"]["assignee"], demo.agent.to_string(), "{}", created.data);
    let linked = alice.get(&path).await;
    let links = linked.expect(StatusCode::OK)["links"].clone();
    assert!(links.as_array().expect("links").iter().any(|l| l["target"]["id"] == case_id.as_str()), "{links}");

    // A note on the call, copied into the case; and a follow-up.
    let noted =
        alice.post_if_match(&format!("{path}/notes"), &linked.etag(), &json!({"text": "refund promised"})).await;
    let noted_body = noted.expect(StatusCode::OK);
    let note = noted_body["notes"][0]["id"].as_str().expect("note").to_owned();
    alice
        .post(&format!("{path}/notes/{note}/copy-to-case"), &json!({"case": case_id}))
        .await
        .expect(StatusCode::CREATED);
    alice
        .post(&format!("/api/v1/cases/{case_id}/follow-ups"), &json!({"body": "Checked with billing: refund sent"}))
        .await
        .expect(StatusCode::CREATED);
    let follow_ups = alice.get(&format!("/api/v1/cases/{case_id}/follow-ups")).await.expect(StatusCode::OK);
    assert_eq!(follow_ups.as_array().expect("follow-ups").len(), 2);

    // A call-back task in 5 minutes with a 10-minute reminder: due at once.
    let at = (SystemClock.now() + chrono::Duration::minutes(5)).to_rfc3339();
    let task = alice
        .post(
            "/api/v1/tasks",
            &json!({"kind": "call", "subject": "Call Jeanne back", "customer": customer, "case": case_id,
                    "scheduled": {"at": at}, "reminder_minutes": 10}),
        )
        .await
        .expect(StatusCode::CREATED);
    let reminder = events.next_named("task_reminder_due", Duration::from_secs(10)).await;
    assert_eq!(reminder.data["kind"]["task"], task["id"]);
    assert_eq!(reminder.data["kind"]["subject"], "Call Jeanne back");
    let agenda = alice.get("/api/v1/agenda").await.expect(StatusCode::OK);
    assert!(agenda["due"].as_array().expect("due").iter().any(|t| t["id"] == task["id"]), "{agenda}");

    // The support queue requires a disposition before wrap-up completes.
    let current = alice.get(&path).await;
    let ended = alice.post_if_match(&format!("{path}/actions"), &current.etag(), &json!({"action": "end"})).await;
    assert_eq!(ended.expect(StatusCode::OK)["state"], "wrap_up");
    let refused =
        alice.post_if_match(&format!("{path}/actions"), &ended.etag(), &json!({"action": "complete_wrap_up"})).await;
    refused.problem(409);
    let disposed = alice
        .send_if_match(
            reqwest::Method::PUT,
            &format!("{path}/disposition"),
            &ended.etag(),
            &json!({"code": "resolved"}),
        )
        .await;
    assert_eq!(disposed.expect(StatusCode::OK)["disposition"], "resolved");
    let closed =
        alice.post_if_match(&format!("{path}/actions"), &disposed.etag(), &json!({"action": "complete_wrap_up"})).await;
    assert_eq!(closed.expect(StatusCode::OK)["state"], "closed");

    // The day shows in the customer's history, the case's history and the screen pop.
    let history = alice.get(&format!("/api/v1/customers/{customer}/interactions")).await.expect(StatusCode::OK);
    assert_eq!(history["items"][0]["id"], interaction.as_str());
    let case_history = alice.get(&format!("/api/v1/cases/{case_id}/history")).await.expect(StatusCode::OK);
    assert!(!case_history.as_array().expect("history").is_empty());
    let number = case_body["number"].as_str().expect("number");
    assert!(number.starts_with("CS-"), "{number}");
    let cards = alice.get(&format!("/api/v1/lookup?case_number={number}")).await.expect(StatusCode::OK);
    assert_eq!(cards[0]["customer"]["id"], customer.as_str());
    t.server.stop().await.expect("clean stop");
}

on_every_store!(a_whole_agent_day);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reconnecting_agent_gets_the_events_it_missed() {
    let t = TestServer::start(&Backend::Sqlite).await;
    let demo = t.demo().clone();
    let alice = t.client_for(&demo.agent.to_string(), "agent").await;
    let mut events = alice.events().await;
    let call = json!({"phone": "+33 1 44 27 00 00", "agent": demo.agent});
    let pop = t.admin().post("/api/v1/cti/calls", &call).await.expect(StatusCode::CREATED);
    assert_eq!(pop["new_card"], false, "Marie is known: {pop}");
    let first = events.next_named("screen_pop", Duration::from_secs(10)).await;
    let last_id = first.id.clone().expect("events carry ids");
    drop(events);
    // While Alice is away, another call comes in.
    let call = json!({"phone": "+1 415 555 0100", "agent": demo.agent});
    t.admin().post("/api/v1/cti/calls", &call).await.expect(StatusCode::CREATED);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut resumed = alice.events_after(Some(&last_id)).await;
    let missed = resumed.next_named("screen_pop", Duration::from_secs(5)).await;
    assert_eq!(missed.data["cards"][0]["customer"]["name"], "John Smith");
    assert!(missed.id.expect("id").parse::<i64>().expect("numeric") > last_id.parse::<i64>().expect("numeric"));
    t.server.stop().await.expect("clean stop");
}

/// A call from a number nobody has gets a new card with the interaction (CUS-6, EXT-2): the
/// pop shows the card as new, the number finds it afterwards, and the next call from it is
/// no longer new.
async fn an_unknown_caller_gets_a_new_card(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let call = json!({"phone": "+33 5 59 00 00 01"});
    let pop = t.admin().post("/api/v1/cti/calls", &call).await.expect(StatusCode::CREATED);
    assert_eq!(pop["new_card"], true, "{pop}");
    assert_eq!(pop["cards"][0]["customer"]["id"], pop["interaction"]["customer"], "{pop}");
    let found = t.admin().get("/api/v1/lookup?phone=%2B33559000001").await.expect(StatusCode::OK);
    assert_eq!(found[0]["customer"]["id"], pop["interaction"]["customer"], "the number now finds the card");
    let again = t.admin().post("/api/v1/cti/calls", &call).await.expect(StatusCode::CREATED);
    assert_eq!(again["new_card"], false, "{again}");
    assert_eq!(again["interaction"]["customer"], pop["interaction"]["customer"]);
    t.server.stop().await.expect("stop");
}

on_every_store!(an_unknown_caller_gets_a_new_card);
