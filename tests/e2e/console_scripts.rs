//! Interactive scripts on the console's interaction panel over HTTP (issue 32, GUI-1): a
//! published script started from the panel, its current step shown with the customer's
//! facts filled in, each kind of answer (go on, a choice, a number), a number out of
//! bounds refused next to the field (422), a form read before another answer refused as
//! stale (409), the end; the section hidden without `interaction.handle` and the answer
//! refused if forced (403); French labels. The browser half is `tests/console/`.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::console::{Browser, location};
use crate::helpers::{Backend, TestServer};
use crate::on_every_store;

async fn a_script_is_run_from_the_interaction_panel(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let demo = t.demo().clone();
    let api = t.admin();
    let steps = json!([
        {"type": "say", "id": "greet", "text": "Hello {{customer.name}}.", "next": "happy"},
        {"type": "choice", "id": "happy", "text": "How was it?", "choices": ["good", "bad"],
         "next": {"good": "score", "bad": "bye"}},
        {"type": "number", "id": "score", "text": "Score out of ten?", "min": 0, "max": 10, "next": "bye"},
        {"type": "end", "id": "bye", "text": "Thanks, {{customer.name}}."},
    ]);
    let created = api.post("/api/v1/scripts", &json!({"name": "Survey", "start": "greet", "steps": steps})).await;
    let etag = created.etag();
    let script = created.expect(StatusCode::CREATED)["id"].as_str().expect("id").to_owned();
    let path = format!("/api/v1/scripts/{script}/publish");
    api.post_if_match(&path, &etag, &serde_json::Value::Null).await.expect(StatusCode::CREATED);
    let draft_only = json!({"name": "Unpublished", "start": "e", "steps": [{"type": "end", "id": "e"}]});
    api.post("/api/v1/scripts", &draft_only).await.expect(StatusCode::CREATED);
    let pop = api
        .post("/api/v1/cti/calls", &json!({"phone": "01 23 45 67 89", "agent": demo.admin}))
        .await
        .expect(StatusCode::CREATED);
    let id = pop["interaction"]["id"].as_str().expect("id").to_owned();
    let name = pop["cards"][0]["customer"]["name"].as_str().expect("a name").to_owned();
    let panel = format!("/console/interactions/{id}");

    let mut b = Browser::new(&t.server.url());
    assert_eq!(b.sign_in("admin@demo.example", &demo.admin_password).await, StatusCode::SEE_OTHER);
    let csrf = b.csrf().await;

    // No run yet: the published script can be started (not the unpublished one).
    let (status, _, html) = b.get(&panel).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains(r#"id="script""#) && html.contains("No script run in this interaction."), "{html}");
    assert!(html.contains(&format!(r#"<option value="{script}">Survey</option>"#)), "{html}");
    assert!(!html.contains("Unpublished"), "{html}");
    let start = format!("{panel}/scripts");
    let (status, _, html) = b.post(&start, &[("_csrf", csrf.as_str()), ("script", "nonsense")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains(r#"id="script-choice-error""#), "{html}");
    let (status, headers, html) = b.post(&start, &[("_csrf", csrf.as_str()), ("script", script.as_str())]).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    assert_eq!(location(&headers), format!("{panel}#script"));

    // The first step, its text filled in; go on.
    let runs = api.get(&format!("/api/v1/interactions/{id}/script-runs")).await.expect(StatusCode::OK);
    let run = runs[0]["id"].as_str().expect("a run").to_owned();
    let answers = format!("/console/script-runs/{run}/answers");
    let (_, _, html) = b.get(&panel).await;
    assert!(html.contains(&format!(r#"data-step="greet">Hello {name}.<"#)), "{html}");
    assert!(!html.contains(r#"id="script-choice""#), "no second run while one is open: {html}");
    let v1 = [("_csrf", csrf.as_str()), ("interaction", id.as_str()), ("version", "1"), ("step", "greet")];
    let go_on = [&v1[..], &[("kind", "continue")]].concat();
    assert_eq!(b.post(&answers, &go_on).await.0, StatusCode::SEE_OTHER);
    // The same form again: the run moved on since it was read (409), nothing answered.
    let (status, _, html) = b.post(&answers, &go_on).await;
    assert_eq!(status, StatusCode::CONFLICT, "{html}");
    assert!(html.contains("answered elsewhere") && html.contains(r#"data-step="happy""#), "{html}");

    // A choice, then a number out of bounds (next to the field), then a good one: the end.
    let choice = [("_csrf", csrf.as_str()), ("version", "2"), ("step", "happy"), ("kind", "choice"), ("value", "good")];
    let (_, _, html) = b.get(&panel).await;
    assert!(html.contains(r#"type="radio" name="value" id="choice-0" value="good""#), "{html}");
    assert_eq!(b.post(&answers, &choice).await.0, StatusCode::SEE_OTHER);
    let (_, _, html) = b.get(&panel).await;
    assert!(html.contains(r#"for="script-value" data-step="score">Score out of ten?<"#), "{html}");
    assert!(html.contains(r#"min="0" max="10""#), "{html}");
    let too_much = [("_csrf", csrf.as_str()), ("version", "3"), ("step", "score"), ("kind", "number"), ("value", "11")];
    let (status, _, html) = b.post(&answers, &too_much).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains(r#"id="script-answer-error""#) && html.contains(r#"aria-describedby="script-answer-error""#));
    let score = [("_csrf", csrf.as_str()), ("version", "3"), ("step", "score"), ("kind", "number"), ("value", "9")];
    assert_eq!(b.post(&answers, &score).await.0, StatusCode::SEE_OTHER);
    let (_, _, html) = b.get(&panel).await;
    assert!(html.contains(&format!("Thanks, {name}.")) && html.contains("The script is finished."), "{html}");
    assert!(html.contains(r#"id="script-choice""#), "another run may start: {html}");
    let run_now = api.get(&format!("/api/v1/script-runs/{run}")).await.expect(StatusCode::OK);
    assert_eq!(run_now["finished"], true, "{run_now}");
    assert_eq!(run_now["run"]["answers"][2]["value"], json!({"type": "number", "value": 9.0}), "{run_now}");

    // A reader (no interaction.handle): no script section; an answer forced is refused.
    crate::console::make_reader(&api, demo.agent).await;
    let alice = crate::console::alice_signed_in(&api, &t.server.url(), demo.agent).await;
    let alice_csrf = alice.csrf().await;
    let (status, _, _) = alice.post(&start, &[("_csrf", alice_csrf.as_str()), ("script", script.as_str())]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // French labels.
    let res = b.request(Method::GET, &panel).header("accept-language", "fr").send().await.expect("sent");
    let html = res.text().await.unwrap_or_default();
    assert!(html.contains("Le script est terminé.") && html.contains("Dérouler un script"), "{html}");
    t.server.stop().await.expect("clean stop");
}
on_every_store!(a_script_is_run_from_the_interaction_panel);
