//! The notify mail of a case in the console over HTTP (issue 32, CAS-7): the form with the
//! agent's From addresses, To filled with the customer's address, the subject with the case
//! tag in front; a standard response inserted into the message; refusals under their
//! fields (422) with what was typed kept; the mail queued with a case file attached; the
//! link hidden without `case.edit` and the form refused if forced (403); French labels.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::console::{Browser, location};
use crate::helpers::{Backend, TestServer};
use crate::on_every_store;

async fn a_case_notifies_its_customer_by_email(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let demo = t.demo().clone();
    let api = t.admin();
    let pop = api.post("/api/v1/cti/calls", &json!({"phone": "+33 1 23 45 67 89"})).await.expect(StatusCode::CREATED);
    let case = &pop["cards"][0]["open_cases"][0];
    let (number, subject) = (case["number"].as_str().expect("number"), case["subject"].as_str().expect("subject"));
    let (number, subject) = (number.to_owned(), subject.to_owned());
    let case = case["id"].as_str().expect("an open case").to_owned();
    let response = json!({"title": "Case received", "language": "en",
                          "body": "<p>Dear {{customer.name}}, we are on case {{case.number}}.</p>"});
    let response = api.post("/api/v1/standard-responses", &response).await.expect(StatusCode::CREATED)["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let page = format!("/console/cases/{case}");
    let notify = format!("{page}/notify");

    let mut b = Browser::new(&t.server.url());
    assert_eq!(b.sign_in("admin@demo.example", &demo.admin_password).await, StatusCode::SEE_OTHER);
    let csrf = b.csrf().await;
    let (_, _, html) = b.get(&page).await;
    assert!(html.contains(&format!(r#"id="notify-link" href="{notify}""#)), "{html}");

    // The form: From, To filled, the subject and its tag.
    let (status, _, html) = b.get(&notify).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains(r#"<option value="admin@demo.example" selected>admin@demo.example</option>"#), "{html}");
    assert!(html.contains(r#"name="to" value="jeanne.dupont@example.com""#), "{html}");
    assert!(html.contains(&format!(r#"name="subject" value="{subject}""#)), "{html}");
    assert!(html.contains(&format!("<code>[#{number}]</code>")), "{html}");

    // A response inserted into the message, rendered for the case.
    let (status, _, html) = b.get(&format!("{notify}?response={response}")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let text = format!("Dear Jeanne Dupont, we are on case {number}.");
    assert!(html.contains(&format!("{text}</textarea>")), "{html}");
    let (_, _, html) = b.get(&format!("/console/responses/{response}?case={case}")).await;
    assert!(html.contains(&format!(r#"href="{notify}?response={response}#body""#)), "{html}");

    // Refused: a bad address and a From the agent may not use, each under its field, the
    // text kept; nothing queued.
    let bad = [
        ("_csrf", csrf.as_str()),
        ("from", "ceo@elsewhere.example"),
        ("to", "jeanne.dupont@example.com, not an address"),
        ("subject", "Your case"),
        ("body", text.as_str()),
        ("signature", "on"),
    ];
    let (status, _, html) = b.post(&notify, &bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains(r#"id="notify-from-error""#) && html.contains(r#"id="notify-to-error""#), "{html}");
    assert!(html.contains("to[1]: "), "the bad one named: {html}");
    assert!(html.contains(r#"aria-describedby="to-hint notify-to-error""#), "{html}");
    assert!(html.contains(r#"value="jeanne.dupont@example.com, not an address""#), "kept: {html}");
    let mails = api.get(&format!("/api/v1/cases/{case}/mails")).await.expect(StatusCode::OK);
    assert_eq!(mails, json!([]), "{mails}");

    // Sent with a file of the case: queued, tagged, the file with it; the follow-up written.
    let file = crate::attachments::upload(
        &api,
        &format!("/api/v1/cases/{case}/attachments"),
        "terms.txt",
        "text/plain",
        b"Terms of the refund",
    )
    .await
    .expect(StatusCode::CREATED)["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let good = [
        ("_csrf", csrf.as_str()),
        ("from", "admin@demo.example"),
        ("to", "jeanne.dupont@example.com"),
        ("subject", "Your case"),
        ("body", text.as_str()),
        ("attachment", file.as_str()),
    ];
    let (status, headers, html) = b.post(&notify, &good).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    assert_eq!(location(&headers), page);
    let mails = api.get(&format!("/api/v1/cases/{case}/mails")).await.expect(StatusCode::OK);
    let mail = &mails[0];
    assert_eq!(mail["subject"], format!("[#{number}] Your case"), "{mail}");
    assert_eq!(mail["from"], "admin@demo.example", "{mail}");
    assert_eq!(mail["to"], json!(["jeanne.dupont@example.com"]), "{mail}");
    assert!(mail.to_string().contains(&file), "the file goes with it: {mail}");

    // Without case.edit: no link, and the form refused if forced.
    crate::console::make_reader(&api, demo.agent).await;
    let alice = crate::console::alice_signed_in(&api, &t.server.url(), demo.agent).await;
    let alice_csrf = alice.csrf().await;
    let (status, _, html) = alice.get(&page).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(!html.contains("/notify") && !html.contains(r#"class="upload""#), "{html}");
    assert_eq!(alice.get(&notify).await.0, StatusCode::FORBIDDEN);
    let forced = [("_csrf", alice_csrf.as_str()), ("to", "jeanne.dupont@example.com"), ("body", "x")];
    assert_eq!(alice.post(&notify, &forced).await.0, StatusCode::FORBIDDEN);

    // French labels.
    let res = b.request(Method::GET, &notify).header("accept-language", "fr").send().await.expect("sent");
    let html = res.text().await.unwrap_or_default();
    assert!(html.contains("Écrire au client") && html.contains("Ajouter ma signature"), "{html}");
    t.server.stop().await.expect("clean stop");
}
on_every_store!(a_case_notifies_its_customer_by_email);
