//! Mail out over HTTP (CAS-7, EML-2, FUP-1), on every store, through a recording mailer:
//! notify pre-fills From, To, the tagged subject and the signature, sanitises the HTML and
//! writes the follow-up; the mail worker sends it once with its fixed Message-ID and
//! threading headers; a refusal makes a dead letter, listed and requeued; bad input is a
//! 4xx naming the field and writes nothing.

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crm_core::ports::MailError;
use crm_testkit::FakeMailer;

use crate::helpers::{Api, Backend, TestServer, test_settings};
use crate::{on_both_backends, on_every_store};

fn fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|e| e.iter().filter_map(|x| x["field"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// A customer with an email address and a case of theirs.
async fn case_with_customer(api: &Api) -> (String, String) {
    let customer = api
        .post(
            "/api/v1/customers",
            &json!({"name": "Mail Molly", "identities": [{"type": "email", "address": "molly@customer.example"}]}),
        )
        .await
        .expect(StatusCode::CREATED);
    let customer = customer["id"].as_str().expect("customer id").to_owned();
    let case = api
        .post("/api/v1/cases", &json!({"customer": customer, "subject": "Router keeps rebooting"}))
        .await
        .expect(StatusCode::CREATED);
    (case["id"].as_str().expect("case id").to_owned(), case["number"].as_str().expect("number").to_owned())
}

/// Polls the case's mails until `done` holds (the worker runs every 50 ms in tests).
async fn wait_for(api: &Api, case: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    for _ in 0..200 {
        let mails = api.get(&format!("/api/v1/cases/{case}/mails")).await.expect(StatusCode::OK);
        let mails = mails.as_array().cloned().unwrap_or_default();
        if done(&mails) {
            return mails;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the mails of case {case} never reached the expected state");
}

async fn notify_sends_once_with_threading_and_dead_letters_requeue(backend: Backend) {
    let mailer = Arc::new(FakeMailer::new());
    let mut settings = test_settings();
    settings.mailer = Some(mailer.clone());
    settings.mail.retry = crm_core::service::RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(50),
        max_delay: Duration::from_millis(100),
    };
    let t = TestServer::start_with_settings(&backend, settings).await;
    let api = t.admin();
    let me = api.get("/api/v1/me").await.expect(StatusCode::OK);
    let my_address = me["email"].as_str().expect("the admin's address").to_owned();
    let (case, number) = case_with_customer(&api).await;

    // Defaults: From the agent, To the customer, the tagged case subject; HTML sanitised.
    let html =
        r#"<p onclick="steal()">Your router is fixed.<script>alert(1)</script> <a href="javascript:x()">x</a></p>"#;
    let first =
        api.post(&format!("/api/v1/cases/{case}/notify"), &json!({"html": html})).await.expect(StatusCode::CREATED);
    assert_eq!(first["state"], "queued");
    assert_eq!(first["from"], my_address.as_str());
    assert_eq!(first["to"], json!(["molly@customer.example"]));
    assert_eq!(first["subject"], format!("[#{number}] Router keeps rebooting"));
    let body = first["html_body"].as_str().expect("html");
    for bad in ["script", "onclick", "javascript"] {
        assert!(!body.contains(bad), "{bad} kept in {body}");
    }
    assert!(first["text_body"].as_str().expect("text").contains("Your router is fixed."));
    let first_id = first["id"].as_str().expect("id").to_owned();
    let message_id = first["message_id"].as_str().expect("message id").to_owned();

    // The worker sends it once; the case shows it sent with the server's reply.
    let mails = wait_for(&api, &case, |m| m.len() == 1 && m[0]["state"] == "sent").await;
    assert!(mails[0]["reply"].as_str().is_some_and(|r| r.starts_with("250")), "{}", mails[0]);
    let sent = mailer.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].message_id, message_id);
    assert_eq!(sent[0].to[0].as_str(), "molly@customer.example");
    // The follow-up of the same id (FUP-1).
    let follow_ups = api.get(&format!("/api/v1/cases/{case}/follow-ups")).await.expect(StatusCode::OK);
    let f = follow_ups.as_array().expect("list").iter().find(|f| f["id"] == first_id.as_str()).expect("its follow-up");
    assert_eq!(f["kind"], "outbound_email");
    assert_eq!(f["visibility"], "public");

    // A second mail threads on the first; the server refuses it: a dead letter.
    mailer.fail_next(1, || MailError::Rejected("550 5.1.1 mailbox unavailable".into()));
    let second = api
        .post(
            &format!("/api/v1/cases/{case}/notify"),
            &json!({"html": "<p>Any news?</p>", "cc": ["boss@customer.example"], "subject": "Follow-up"}),
        )
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(second["in_reply_to"], message_id.as_str());
    assert_eq!(second["references"], json!([message_id]));
    assert_eq!(second["subject"], format!("[#{number}] Follow-up"));
    let second_id = second["id"].as_str().expect("id").to_owned();
    wait_for(&api, &case, |m| m.len() == 2 && m[1]["state"] == "failed").await;
    let dead = api.get("/api/v1/mail/outbound").await.expect(StatusCode::OK);
    let dead = dead.as_array().expect("list");
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0]["id"], second_id.as_str());
    assert_eq!(dead[0]["reply"], "550 5.1.1 mailbox unavailable");
    // Requeued, it goes out with the same Message-ID, once.
    let back = api.post(&format!("/api/v1/mail/outbound/{second_id}/requeue"), &json!({})).await.expect(StatusCode::OK);
    assert_eq!(back["state"], "queued");
    api.post(&format!("/api/v1/mail/outbound/{second_id}/requeue"), &json!({})).await.problem(409);
    wait_for(&api, &case, |m| m.len() == 2 && m[1]["state"] == "sent").await;
    let sent = mailer.sent();
    assert_eq!(sent.len(), 2, "each mail is sent once");
    assert_eq!(sent[1].message_id, second["message_id"].as_str().expect("id"));
    assert_eq!(sent[1].cc[0].as_str(), "boss@customer.example");

    // An outage (4xx, unreachable) is retried, not dead.
    mailer.fail_next(2, || MailError::Unavailable("421 try again later".into()));
    api.post(&format!("/api/v1/cases/{case}/notify"), &json!({"html": "third"})).await.expect(StatusCode::CREATED);
    let mails = wait_for(&api, &case, |m| m.len() == 3 && m[2]["state"] == "sent").await;
    assert_eq!(mails[2]["attempts"], 2);
    assert_eq!(mailer.sent().len(), 3);
}
on_every_store!(notify_sends_once_with_threading_and_dead_letters_requeue);

async fn bad_notify_input_is_a_4xx_naming_the_field_and_writes_nothing(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let api = t.admin();
    let (case, _) = case_with_customer(&api).await;
    let path = format!("/api/v1/cases/{case}/notify");
    let cases = [
        (json!({"html": "x", "subject": "Hi\r\nBcc: victim@evil.example"}), vec!["subject"]),
        (json!({"html": "x", "to": ["molly@customer.example\r\nBcc: x@evil.example"]}), vec!["to[0]"]),
        (json!({"html": "x", "from": "ceo@elsewhere.example"}), vec!["from"]),
        (json!({"html": "x", "from": format!("{}@crm.example", "a".repeat(250))}), vec!["from"]),
        (json!({"html": "<script>only()</script>"}), vec!["html"]),
        (json!({"html": "x", "to": [], "cc": ["not an address"]}), vec!["to", "cc[0]"]),
        (json!({"html": "x", "attachments": [uuid::Uuid::now_v7()]}), vec!["attachments[0]"]),
        (
            json!({"html": "x", "attachments": (0..21).map(|_| uuid::Uuid::now_v7()).collect::<Vec<_>>()}),
            vec!["attachments"],
        ),
    ];
    for (body, expected) in cases {
        let problem = api.post(&path, &body).await.problem(422);
        assert_eq!(fields(&problem), expected, "{body}: {problem}");
    }
    api.post(&path, &json!({"html": "x", "bogus": 1})).await.problem(422);
    api.post(&path, &json!({"html": "x", "attachments": ["not-a-uuid"]})).await.problem(422);
    api.post(&path, &json!({"subject": "no body"})).await.problem(422);
    let unknown = uuid::Uuid::now_v7();
    api.post(&format!("/api/v1/cases/{unknown}/notify"), &json!({"html": "x"})).await.problem(404);
    // Nothing was written.
    let mails = api.get(&format!("/api/v1/cases/{case}/mails")).await.expect(StatusCode::OK);
    assert_eq!(mails, json!([]));
    let follow_ups = api.get(&format!("/api/v1/cases/{case}/follow-ups")).await.expect(StatusCode::OK);
    assert_eq!(follow_ups, json!([]));
    // Without a relay configured the mail waits, queued.
    api.post(&path, &json!({"html": "waits"})).await.expect(StatusCode::CREATED);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mails = api.get(&format!("/api/v1/cases/{case}/mails")).await.expect(StatusCode::OK);
    assert_eq!(mails[0]["state"], "queued");
}
on_both_backends!(bad_notify_input_is_a_4xx_naming_the_field_and_writes_nothing);
