//! Interactions over HTTP (issue 27): a call's summary lands on its linked case exactly once
//! (INT-6), a case lists its interactions, a customer's history filters by channel and text
//! (INT-5), and a conversation's messages update the live card and reach the agent's stream
//! (CUS-8).

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Api, Backend, TestServer};
use crate::on_every_store;
use crate::openapi_check::answers;

/// Applies `action` to the interaction at `path`, reading its ETag first.
async fn act(api: &Api, path: &str, action: &str) -> Value {
    let read = api.get(path).await;
    read.expect(StatusCode::OK);
    api.post_if_match(&format!("{path}/actions"), &read.etag(), &json!({ "action": action }))
        .await
        .expect(StatusCode::OK)
}

fn ids(page: &Value) -> Vec<String> {
    page["items"].as_array().expect("items").iter().map(|i| i["id"].as_str().expect("id").to_owned()).collect()
}

async fn a_call_leaves_its_summary_on_its_case_once_and_the_history_filters(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let demo = t.demo().clone();
    let alice = t.client_for(&demo.agent.to_string(), "agent").await;
    let pop = alice
        .post("/api/v1/cti/calls", &json!({"phone": "01 23 45 67 89", "agent": demo.agent}))
        .await
        .expect(StatusCode::CREATED);
    let interaction = pop["interaction"]["id"].as_str().expect("interaction").to_owned();
    let customer = pop["cards"][0]["customer"]["id"].as_str().expect("customer").to_owned();
    let path = format!("/api/v1/interactions/{interaction}");
    let accepted = act(&alice, &path, "accept").await;
    let read = alice.get(&path).await;
    let case = alice
        .post_if_match(&format!("{path}/case"), &read.etag(), &json!({"customer": customer, "subject": "Colis perdu"}))
        .await
        .expect(StatusCode::CREATED);
    let case_id = case["id"].as_str().expect("case").to_owned();
    let read = alice.get(&path).await;
    alice.post_if_match(&format!("{path}/notes"), &read.etag(), &json!({"text": "Remboursement promis"})).await;
    assert_eq!(accepted["state"], "active");
    act(&alice, &path, "end").await;
    let ended = alice.get(&path).await;
    let closed = alice
        .post_if_match(&format!("{path}/actions"), &ended.etag(), &json!({"action": "complete_wrap_up"}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(closed["state"], "closed");
    // A retry of the same wrap-up is refused (stale), so is one on the closed call, and
    // neither adds a summary.
    let retry = json!({"action": "complete_wrap_up"});
    alice.post_if_match(&format!("{path}/actions"), &ended.etag(), &retry).await.problem(412);
    let now = alice.get(&path).await;
    alice.post_if_match(&format!("{path}/actions"), &now.etag(), &retry).await.problem(409);

    let follow_ups = alice.get(&format!("/api/v1/cases/{case_id}/follow-ups")).await.expect(StatusCode::OK);
    let summaries: Vec<&Value> =
        follow_ups.as_array().expect("follow-ups").iter().filter(|f| f["kind"] == "call_summary").collect();
    assert_eq!(summaries.len(), 1, "{follow_ups:#}");
    let body = summaries[0]["body"].as_str().expect("body");
    assert!(body.contains("channel: voice") && body.contains("Remboursement promis"), "{body}");
    assert_eq!(summaries[0]["interaction"], interaction.as_str());

    let linked = alice.get(&format!("/api/v1/cases/{case_id}/interactions?limit=1")).await.expect(StatusCode::OK);
    answers("a case's interactions", Method::GET, &format!("/api/v1/cases/{case_id}/interactions"), 200, &linked);
    assert_eq!(ids(&linked), vec![interaction.clone()]);
    alice.get(&format!("/api/v1/cases/{}/interactions", uuid::Uuid::now_v7())).await.problem(404);

    let history = format!("/api/v1/customers/{customer}/interactions");
    let voice = alice.get(&format!("{history}?channel=voice")).await.expect(StatusCode::OK);
    answers("a filtered history", Method::GET, &history, 200, &voice);
    assert!(ids(&voice).contains(&interaction));
    let chat = alice.get(&format!("{history}?channel=chat")).await.expect(StatusCode::OK);
    assert!(!ids(&chat).contains(&interaction));
    let found = alice.get(&format!("{history}?q=REMBOURSEMENT")).await.expect(StatusCode::OK);
    assert_eq!(ids(&found), vec![interaction.clone()]);
    let none = alice.get(&format!("{history}?q=introuvable&channel=voice")).await.expect(StatusCode::OK);
    assert!(ids(&none).is_empty());
    for (query, field) in [("channel=pigeon", "channel"), ("q=%21%3F", "q"), ("limit=0", "limit")] {
        let p = alice.get(&format!("{history}?{query}")).await.problem(422);
        assert!(p.to_string().contains(field), "{query}: {p}");
    }
    t.server.stop().await.expect("stop");
}

on_every_store!(a_call_leaves_its_summary_on_its_case_once_and_the_history_filters);

async fn a_conversation_updates_the_live_card_per_message(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let demo = t.demo().clone();
    let alice = t.client_for(&demo.agent.to_string(), "agent").await;
    let mut events = alice.events().await;
    let chat = alice
        .post(
            "/api/v1/interactions",
            &json!({"channel": "chat", "direction": "inbound", "address": "jo-handle-42", "contact_name": "Jo",
                    "agent": demo.agent}),
        )
        .await
        .expect(StatusCode::CREATED);
    let id = chat["id"].as_str().expect("id").to_owned();
    let customer = chat["customer"].as_str().expect("a new card").to_owned();
    let path = format!("/api/v1/interactions/{id}");
    let messages = format!("{path}/messages");
    let card = format!("/api/v1/customers/{customer}");

    for (n, body) in ["Bonjour", "Où est mon colis ?"].into_iter().enumerate() {
        let m = alice
            .post(&messages, &json!({"direction": "inbound", "author": "Jo", "body": body}))
            .await
            .expect(StatusCode::CREATED);
        answers("a message", Method::POST, &messages, 201, &m);
        assert_eq!((m["body"].as_str(), m["interaction"].as_str()), (Some(body), Some(id.as_str())));
        let live = events.next_named("message_added", Duration::from_secs(10)).await;
        assert_eq!(live.data["kind"]["message"], m["id"]);
        assert_eq!(live.data["kind"]["unread"], n + 1);
    }
    let c = alice.get(&card).await.expect(StatusCode::OK);
    assert_eq!(c["unread_messages"], 2);
    assert!(c["last_contact_at"].is_string());

    let first = alice.get(&format!("{messages}?limit=1")).await.expect(StatusCode::OK);
    answers("a transcript", Method::GET, &messages, 200, &first);
    assert_eq!(first["items"][0]["body"], "Bonjour");
    let cursor = first["next"].as_str().expect("a second page");
    let second = alice.get(&format!("{messages}?limit=1&cursor={cursor}")).await.expect(StatusCode::OK);
    assert_eq!((second["items"][0]["body"].as_str(), second["next"].is_null()), (Some("Où est mon colis ?"), true));
    let found = alice.get(&format!("{card}/interactions?q=colis")).await.expect(StatusCode::OK);
    assert_eq!(ids(&found), vec![id.clone()], "messages are searched");

    // A reply resets the unread count; so does reading.
    alice
        .post(
            &messages,
            &json!({"direction": "outbound", "body": "Il arrive demain",
            "attachments": [{"reference": "https://media.example/suivi.pdf", "name": "suivi.pdf"}]}),
        )
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(alice.get(&card).await.expect(StatusCode::OK)["unread_messages"], 0);
    alice.post(&messages, &json!({"direction": "inbound", "body": "Merci"})).await.expect(StatusCode::CREATED);
    assert_eq!(alice.get(&card).await.expect(StatusCode::OK)["unread_messages"], 1);
    let read = alice.post(&format!("{messages}/read"), &json!({})).await.expect(StatusCode::OK);
    assert_eq!(read["unread_messages"], 0);

    // Bad input names the field; voice and finished conversations take no messages.
    for (body, field) in [
        (json!({"direction": "inbound", "body": "  "}), "body"),
        (json!({"direction": "inbound", "body": "x".repeat(20_001)}), "body"),
        (json!({"direction": "sideways", "body": "hi"}), "direction"),
        (json!({"direction": "inbound", "body": "hi", "attachments": [{"reference": ""}]}), "attachments[0].reference"),
    ] {
        let p = alice.post(&messages, &body).await.problem(422);
        assert!(p.to_string().contains(field), "{field}: {p}");
    }
    alice
        .post(
            &format!("/api/v1/interactions/{}/messages", uuid::Uuid::now_v7()),
            &json!({"direction": "inbound", "body": "hi"}),
        )
        .await
        .problem(404);
    let call = alice
        .post("/api/v1/interactions", &json!({"channel": "voice", "direction": "inbound", "agent": demo.agent}))
        .await
        .expect(StatusCode::CREATED);
    let p = alice
        .post(
            &format!("/api/v1/interactions/{}/messages", call["id"].as_str().expect("id")),
            &json!({"direction": "inbound", "body": "hi"}),
        )
        .await
        .problem(422);
    assert!(p.to_string().contains("interaction"), "{p}");
    act(&alice, &path, "accept").await;
    act(&alice, &path, "end").await;
    act(&alice, &path, "complete_wrap_up").await;
    alice.post(&messages, &json!({"direction": "inbound", "body": "encore là ?"})).await.problem(409);
    let all = alice.get(&messages).await.expect(StatusCode::OK);
    assert_eq!(all["items"].as_array().expect("items").len(), 4, "nothing written by refused messages");
    t.server.stop().await.expect("stop");
}

on_every_store!(a_conversation_updates_the_live_card_per_message);
