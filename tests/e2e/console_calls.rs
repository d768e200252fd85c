//! Call lists in the console over HTTP (issue 32, OUT-1): the outbound agent's lists, "next
//! contact" (the core's claim and lease), the contact's page with the list's outcome codes
//! and the campaign's qualification question, a stale form (409), refusals next to their
//! field (422), the outcome recorded, nothing left to call; an agent not assigned sees no
//! list and is refused if forced (403); French labels.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::console::{Browser, location};
use crate::helpers::{Backend, TestServer};
use crate::on_every_store;

/// The version a form carries (`name="version" value="…"`).
fn form_version(html: &str) -> String {
    let needle = r#"name="version" value=""#;
    let start = html.find(needle).expect("a version field") + needle.len();
    html[start..].split('"').next().expect("a version").to_owned()
}

async fn an_outbound_agent_works_through_a_call_list(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let demo = t.demo().clone();
    let api = t.admin();
    let campaign = json!({"name": "Winter survey", "purpose": "survey",
                          "qualification": [{"key": "budget", "label": "Budget", "type": "number"}]});
    let campaign = api.post("/api/v1/campaigns", &campaign).await.expect(StatusCode::CREATED)["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let list = json!({"name": "Leads", "assignment": {"agents": [demo.admin]},
                      "window": {"from": "00:00:00", "until": "23:59:59"}, "max_attempts": 3});
    let list =
        api.post(&format!("/api/v1/campaigns/{campaign}/call-lists"), &list).await.expect(StatusCode::CREATED)["id"]
            .as_str()
            .expect("id")
            .to_owned();
    let ada = json!({"name": "Ada Sortant", "identities": [{"type": "phone", "number": "+33 1 23 45 67 89"}]});
    let ada =
        api.post("/api/v1/customers", &ada).await.expect(StatusCode::CREATED)["id"].as_str().expect("id").to_owned();
    let csv = format!("customer,phone,priority,custom.note\n{ada},,1,asked about the winter offer\n");
    let import = api
        .request(Method::POST, &format!("/api/v1/call-lists/{list}/entries/import"))
        .header("content-type", "text/csv")
        .body(csv);
    assert_eq!(api.send(import).await.expect(StatusCode::OK)["imported"], 1);

    let mut b = Browser::new(&t.server.url());
    assert_eq!(b.sign_in("admin@demo.example", &demo.admin_password).await, StatusCode::SEE_OTHER);
    let csrf = b.csrf().await;
    let (status, _, html) = b.get("/console/calls").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains(r#"href="/console/calls""#), "in the navigation: {html}");
    assert!(html.contains("<strong>Leads</strong>") && html.contains("Winter survey"), "{html}");
    let next = format!("/console/calls/{list}/next");
    assert!(html.contains(&format!(r#"action="{next}""#)), "{html}");

    // Next contact (the token is needed): Ada's entry, leased to the agent.
    assert_eq!(b.post(&next, &[]).await.0, StatusCode::FORBIDDEN);
    let (status, headers, html) = b.post(&next, &[("_csrf", csrf.as_str())]).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    let entry_page = location(&headers);
    assert!(entry_page.starts_with(&format!("/console/calls/{list}/entries/")), "{entry_page}");
    let entry = entry_page.rsplit('/').next().expect("an entry").to_owned();
    let (status, _, html) = b.get(&entry_page).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Ada Sortant") && html.contains(r#"href="tel:+33123456789""#), "{html}");
    assert!(html.contains("asked about the winter offer"), "the import's data: {html}");
    assert!(html.contains(r#"<option value="success">success</option>"#), "the list's codes: {html}");
    assert!(html.contains(r#"<label for="answers-budget">Budget</label>"#), "{html}");
    assert!(html.contains(r#"id="answers-budget" type="number""#), "{html}");
    let version = form_version(&html);
    let outcome = format!("{entry_page}/outcome");

    // A form read at another version: 409, nothing recorded.
    let stale = [("_csrf", csrf.as_str()), ("version", "999"), ("disposition", "success")];
    let (status, _, html) = b.post(&outcome, &stale).await;
    assert_eq!(status, StatusCode::CONFLICT, "{html}");
    assert!(html.contains("This contact changed since you opened it"), "{html}");
    // Refusals next to their field: an unknown code (the core's), a budget that is not a
    // number and a callback time that is not one (the form's).
    let post = |disposition: &'static str, budget: &'static str, callback: &'static str| {
        let v = version.clone();
        let c = csrf.clone();
        let b = &b;
        let outcome = outcome.clone();
        async move {
            let form = [
                ("_csrf", c.as_str()),
                ("version", v.as_str()),
                ("disposition", disposition),
                ("answers.budget", budget),
                ("callback_at", callback),
            ];
            b.post(&outcome, &form).await
        }
    };
    let (status, _, html) = post("maybe", "", "").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains(r#"id="disposition-error""#) && html.contains(r#"aria-describedby="disposition-error""#));
    let (status, _, html) = post("success", "lots", "").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains(r#"id="answers-budget-error""#) && html.contains(r#"value="lots""#), "kept: {html}");
    let (status, _, html) = post("success", "1200", "tomorrow").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains(r#"id="callback_at-error""#), "{html}");
    let read = api.get(&format!("/api/v1/call-lists/{list}/entries/{entry}")).await.expect(StatusCode::OK);
    assert_eq!(read["attempts"], 0, "nothing recorded yet: {read}");

    // Recorded: back to the lists with the code; the entry closed with the answer.
    let (status, headers, html) = post("success", "1200", "").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    assert_eq!(location(&headers), "/console/calls?recorded=success");
    let read = api.get(&format!("/api/v1/call-lists/{list}/entries/{entry}")).await.expect(StatusCode::OK);
    assert_eq!((read["state"].as_str(), read["answers"]["budget"].as_f64()), (Some("closed"), Some(1200.0)), "{read}");
    let (_, _, html) = b.get("/console/calls?recorded=success").await;
    assert!(html.contains("Outcome recorded: <code>success</code>"), "{html}");
    let (status, _, html) = b.post(&next, &[("_csrf", csrf.as_str())]).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains(r#"id="nothing-to-call""#), "{html}");

    // Alice is not assigned: no list; next refused.
    let alice = crate::console::alice_signed_in(&api, &t.server.url(), demo.agent).await;
    let alice_csrf = alice.csrf().await;
    let (_, _, html) = alice.get("/console/calls").await;
    assert!(html.contains("You are assigned to no active call list.") && !html.contains("Leads"), "{html}");
    assert_eq!(alice.post(&next, &[("_csrf", alice_csrf.as_str())]).await.0, StatusCode::FORBIDDEN);

    // French labels.
    let res = b.request(Method::GET, "/console/calls").header("accept-language", "fr").send().await.expect("sent");
    let html = res.text().await.unwrap_or_default();
    assert!(html.contains("Mes listes d'appels") && html.contains("Contact suivant"), "{html}");
    t.server.stop().await.expect("clean stop");
}
on_every_store!(an_outbound_agent_works_through_a_call_list);
