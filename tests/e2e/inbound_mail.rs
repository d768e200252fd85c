//! Mail in over HTTP (CAS-8, EML-1): the inbound hook makes a card and a case from a new
//! mail, a redelivery makes nothing, a reply tagged with the case number lands on the
//! case, the original downloads as `.eml`; email rules under `If-Match` and the simulator;
//! refusals: garbage, a message over 30 MiB, a token without `mail.inbound`. Every answer
//! is checked against the OpenAPI document.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{Api, Backend, Reply, TestServer};
use crate::on_every_store;
use crate::openapi_check::answers;

const INBOUND: &str = "/api/v1/mail/inbound";

async fn deliver(api: &Api, raw: &str) -> Reply {
    api.send(api.request(Method::POST, INBOUND).header("content-type", "message/rfc822").body(raw.to_owned())).await
}

fn message(from: &str, subject: &str, id: &str) -> String {
    format!(
        "From: Jane Doe <{from}>\r\nTo: support@crm.example\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n--alt\r\n\
         Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
         Mon routeur ne marche plus, d=E9sol=E9e.\r\n--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
         <p onclick=\"x()\">Mon routeur<script>alert(1)</script></p>\r\n--alt--\r\n"
    )
}

async fn inbound_mail_threads_and_rules_over_http(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let admin = t.admin();
    let agent = t.client_for(&t.demo().agent.to_string(), "agent").await;
    let run = uuid::Uuid::now_v7();
    let sender = format!("jane.{}@customer.example", run.simple());

    // A new mail: a new card and a new case; the HTML is sanitised on the follow-up.
    let raw = message(&sender, "Router broken", &format!("first.{run}@customer.example"));
    let first = deliver(&admin, &raw).await;
    let received = first.expect(StatusCode::CREATED);
    answers("a received mail", Method::POST, INBOUND, 201, &received);
    assert_eq!((received["created_case"].as_bool(), received["created_customer"].as_bool()), (Some(true), Some(true)));
    assert_eq!(received["mail"]["threading"], "new_case");
    let case = received["mail"]["case"].as_str().expect("case").to_owned();
    let mail_id = received["mail"]["id"].as_str().expect("id").to_owned();
    let follow_ups = admin.get(&format!("/api/v1/cases/{case}/follow-ups")).await.expect(StatusCode::OK);
    let body = follow_ups[0]["body"].as_str().expect("body");
    assert!(body.contains("Mon routeur") && !body.contains("script") && !body.contains("onclick"), "{body}");
    assert_eq!(follow_ups[0]["kind"], "inbound_email");

    // A redelivery: 200, the same mail, nothing written.
    let again = deliver(&admin, &raw).await.expect(StatusCode::OK);
    answers("a redelivery", Method::POST, INBOUND, 200, &again);
    assert_eq!((again["duplicate"].as_bool(), again["mail"]["id"].as_str()), (Some(true), Some(mail_id.as_str())));

    // A reply tagged with the case number (in another rendering) lands on the case.
    let number = admin.get(&format!("/api/v1/cases/{case}")).await.expect(StatusCode::OK)["number"]
        .as_str()
        .expect("number")
        .to_owned();
    let digits = number.trim_start_matches(|c: char| !c.is_ascii_digit()).trim_start_matches('0');
    let reply =
        message(&sender, &format!("AW: (#cs {digits}) Router broken"), &format!("second.{run}@customer.example"));
    let second = deliver(&admin, &reply).await.expect(StatusCode::CREATED);
    assert_eq!(
        (second["mail"]["case"].as_str(), second["mail"]["threading"].as_str()),
        (Some(case.as_str()), Some("subject_tag"))
    );
    assert_eq!(second["created_customer"], false, "the sender's card was found by address");
    let list_path = format!("/api/v1/cases/{case}/inbound-mails");
    let list = agent.get(&list_path).await.expect(StatusCode::OK);
    answers("a case's received mails", Method::GET, &list_path, 200, &list);
    assert_eq!(list.as_array().map(Vec::len), Some(2));

    // The original as .eml.
    let raw_path = format!("/api/v1/cases/{case}/mails/{mail_id}/raw");
    let got = agent.request(Method::GET, &raw_path).send().await.expect("sent");
    assert_eq!(got.status(), StatusCode::OK);
    assert_eq!(got.headers()["content-type"], "message/rfc822");
    assert_eq!(got.bytes().await.expect("body").as_ref(), raw.as_bytes());
    agent.get(&format!("/api/v1/cases/{case}/mails/{}/raw", uuid::Uuid::now_v7())).await.problem(404);

    // Rules under If-Match; faults name their path; the simulator has no effect.
    let read = admin.get("/api/v1/mail/rules").await;
    assert_eq!(read.etag(), "\"0\"");
    answers("the rules", Method::GET, "/api/v1/mail/rules", 200, &read.expect(StatusCode::OK));
    let bad = json!({"rules": [{"name": "x", "condition": {"field": "headers", "op": "exists"}}]});
    let p = admin.send_if_match(Method::PUT, "/api/v1/mail/rules", &read.etag(), &bad).await.problem(422);
    assert_eq!(p["errors"][0]["field"], "rules[0].condition.field", "{p}");
    let rules = json!({"rules": [
        {"name": "lottery", "condition": {"field": "subject", "op": "regex", "value": "(?i)lottery|prize"},
         "actions": {"create_case": false, "stop": true}},
        {"name": "urgent", "condition": {"field": "body", "op": "contains", "value": "urgent", "ignore_case": true},
         "actions": {"priority": "high"}}
    ]});
    agent.send_if_match(Method::PUT, "/api/v1/mail/rules", &read.etag(), &rules).await.problem(403);
    let put = admin.send_if_match(Method::PUT, "/api/v1/mail/rules", &read.etag(), &rules).await;
    let put = put.expect(StatusCode::OK);
    answers("the rules written", Method::PUT, "/api/v1/mail/rules", 200, &put);
    admin.send_if_match(Method::PUT, "/api/v1/mail/rules", &read.etag(), &rules).await.problem(412);
    let spam = message("win@spam.example", "You won a PRIZE", &format!("spam.{run}@spam.example"));
    let sim = admin.post("/api/v1/mail/rules/simulate", &json!({"raw": spam})).await.expect(StatusCode::OK);
    answers("a simulation", Method::POST, "/api/v1/mail/rules/simulate", 200, &sim);
    assert_eq!(
        (sim["decision"]["matched"].clone(), sim["decision"]["create_case"].clone()),
        (json!(["lottery"]), json!(false))
    );
    let stored = admin.post("/api/v1/mail/rules/simulate", &json!({"mail": mail_id})).await.expect(StatusCode::OK);
    assert_eq!((stored["threading"].as_str(), stored["case"].as_str()), (Some("new_case"), None::<&str>), "{stored}");
    admin.post("/api/v1/mail/rules/simulate", &json!({})).await.problem(422);
    let refused = deliver(&admin, &spam).await.problem(422);
    assert_eq!(refused["errors"][0]["field"], "message");

    // Refusals: never a 5xx, nothing written.
    deliver(&admin, "\u{0}\u{1}garbage").await.problem(422);
    deliver(&agent, &message("a@b.example", "x", &format!("p.{run}@b.example"))).await.problem(403);
    let huge = format!("{}{}", message("a@b.example", "big", "big@b.example"), "x".repeat(31 * 1024 * 1024));
    deliver(&admin, &huge).await.problem(413);
    assert_eq!(agent.get(&list_path).await.expect(StatusCode::OK).as_array().map(Vec::len), Some(2));
    t.server.stop().await.expect("clean stop");
}

on_every_store!(inbound_mail_threads_and_rules_over_http);
