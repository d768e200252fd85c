//! The console's interaction panel over HTTP (issue 32): from the screen pop to the panel,
//! accept, a note on the scratch pad copied into a follow-up of the customer's case, a
//! linked case, wrap-up refused without the disposition the queue requires (the message
//! next to the picker, naming the field), the disposition, and wrap-up done; the shortcuts
//! in the help. The browser half (keyboard shortcuts, accessibility) is `tests/console/`.

use reqwest::StatusCode;
use serde_json::json;

use crate::console::{Browser, location};
use crate::helpers::{Backend, TestServer};
use crate::on_every_store;

async fn interaction_panel_notes_links_disposition_and_wrap_up(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let demo = t.demo().clone();
    let api = t.admin();
    // Jeanne calls the support queue (which requires a disposition), offered to the admin.
    let pop = api
        .post("/api/v1/cti/calls", &json!({"phone": "01 23 45 67 89", "agent": demo.admin, "queue": "support"}))
        .await
        .expect(StatusCode::CREATED);
    let id = pop["interaction"]["id"].as_str().expect("id").to_owned();
    let case = pop["cards"][0]["open_cases"][0]["id"].as_str().expect("an open case").to_owned();
    let api_path = format!("/api/v1/interactions/{id}");
    let version = |v: &serde_json::Value| v["version"].as_u64().expect("version").to_string();

    let mut b = Browser::new(&t.server.url());
    assert_eq!(b.sign_in("admin@demo.example", &demo.admin_password).await, StatusCode::SEE_OTHER);
    let csrf = b.csrf().await;
    let panel = format!("/console/interactions/{id}");
    let (status, _, html) = b.get(&format!("/console/pop/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains(&format!(r#"href="{panel}""#)), "the pop opens the panel: {html}");

    // Offered: only accept (shortcut a); the picker says the queue requires a disposition.
    let (status, _, html) = b.get(&panel).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains(r#"id="interaction-state">Offered<"#), "{html}");
    assert!(html.contains(r#"value="accept" data-shortcut="a""#), "{html}");
    assert!(html.contains(r#"value="decline""#) && !html.contains(r#"value="hold""#), "{html}");
    assert!(!html.contains(r#"value="end""#) && !html.contains(r#"value="complete_wrap_up""#), "{html}");
    assert!(html.contains("(required by this queue)"), "{html}");
    assert!(html.contains(r#"<option value="resolved">Resolved on first contact</option>"#), "{html}");
    assert!(html.contains("Accept the interaction") && html.contains("<kbd>w</kbd>"), "in the help: {html}");

    // Accept (the token is needed).
    let v = version(&api.get(&api_path).await.expect(StatusCode::OK));
    let accept = [("_csrf", csrf.as_str()), ("version", v.as_str()), ("action", "accept")];
    assert_eq!(b.post(&format!("{panel}/actions"), &accept[1..]).await.0, StatusCode::FORBIDDEN);
    let (status, headers, html) = b.post(&format!("{panel}/actions"), &accept).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    assert_eq!(location(&headers), panel);
    let (_, _, html) = b.get(&panel).await;
    assert!(html.contains(r#"id="interaction-state">Active<"#), "{html}");
    assert!(html.contains(r#"value="end" data-shortcut="w""#), "{html}");
    assert!(html.contains(r#"value="hold""#) && !html.contains(r#"value="accept""#), "{html}");

    // The scratch pad: an empty note is refused next to the text area; a note is kept.
    let v = version(&api.get(&api_path).await.expect(StatusCode::OK));
    let (status, _, html) =
        b.post(&format!("{panel}/notes"), &[("_csrf", &csrf), ("version", &v), ("text", "  ")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains(r#"aria-describedby="note-error""#) && html.contains(r#"id="note-error""#), "{html}");
    let note = [("_csrf", csrf.as_str()), ("version", v.as_str()), ("text", "refund promised by phone")];
    let (status, _, html) = b.post(&format!("{panel}/notes"), &note).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");

    // Link the customer's open case; copy the note into a follow-up of it.
    let read = api.get(&api_path).await.expect(StatusCode::OK);
    let v = version(&read);
    let note_id = read["notes"][0]["id"].as_str().expect("a note").to_owned();
    let link = [("_csrf", csrf.as_str()), ("version", v.as_str()), ("case", case.as_str())];
    let (status, _, html) = b.post(&format!("{panel}/links"), &link).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    let read = api.get(&api_path).await.expect(StatusCode::OK);
    assert!(read["links"].as_array().expect("links").iter().any(|l| l["target"]["id"] == case.as_str()), "{read}");
    let (status, _, html) =
        b.post(&format!("{panel}/notes/{note_id}/copy"), &[("_csrf", csrf.as_str()), ("case", "nonsense")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains(&format!(r#"id="copy-{note_id}-error""#)) && html.contains("case: "), "{html}");
    let (status, _, html) =
        b.post(&format!("{panel}/notes/{note_id}/copy"), &[("_csrf", csrf.as_str()), ("case", case.as_str())]).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("The note was copied into the case."), "{html}");
    let follow_ups = api.get(&format!("/api/v1/cases/{case}/follow-ups")).await.expect(StatusCode::OK);
    let copied = follow_ups.as_array().expect("follow-ups").iter().any(|f| f["body"] == "refund promised by phone");
    assert!(copied, "{follow_ups}");

    // End the call (w), then finishing wrap-up without a disposition is refused next to the picker.
    let v = version(&api.get(&api_path).await.expect(StatusCode::OK));
    let (status, _, _) =
        b.post(&format!("{panel}/actions"), &[("_csrf", &csrf), ("version", &v), ("action", "end")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let v = version(&api.get(&api_path).await.expect(StatusCode::OK));
    let finish = [("_csrf", csrf.as_str()), ("version", v.as_str()), ("action", "complete_wrap_up")];
    let (status, _, html) = b.post(&format!("{panel}/actions"), &finish).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains(r#"id="disposition-error""#), "{html}");
    assert!(html.contains("disposition: this queue requires a disposition"), "{html}");
    assert!(html.contains(r#"aria-describedby="disposition-error""#), "{html}");
    let still = api.get(&api_path).await.expect(StatusCode::OK);
    assert_eq!(still["state"], "wrap_up", "{still}");

    // An unknown code is refused naming the field; the code; then wrap-up completes.
    let bad = [("_csrf", csrf.as_str()), ("version", v.as_str()), ("code", "made_up")];
    let (status, _, html) = b.post(&format!("{panel}/disposition"), &bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains(r#"id="disposition-error""#) && html.contains("made_up"), "{html}");
    let good = [("_csrf", csrf.as_str()), ("version", v.as_str()), ("code", "resolved")];
    let (status, _, html) = b.post(&format!("{panel}/disposition"), &good).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    let v = version(&api.get(&api_path).await.expect(StatusCode::OK));
    let finish = [("_csrf", csrf.as_str()), ("version", v.as_str()), ("action", "complete_wrap_up")];
    let (status, _, html) = b.post(&format!("{panel}/actions"), &finish).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    let closed = api.get(&api_path).await.expect(StatusCode::OK);
    assert_eq!((closed["state"].as_str(), closed["disposition"].as_str()), (Some("closed"), Some("resolved")));
    let (_, _, html) = b.get(&panel).await;
    assert!(html.contains(r#"id="interaction-state">Closed<"#), "{html}");

    // French labels.
    let res = b.request(reqwest::Method::GET, &panel).header("accept-language", "fr").send().await.expect("sent");
    let html = res.text().await.unwrap_or_default();
    assert!(html.contains("Qualification") && html.contains("Terminée"), "{html}");
    t.server.stop().await.expect("clean stop");
}
on_every_store!(interaction_panel_notes_links_disposition_and_wrap_up);
