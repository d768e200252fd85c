//! The knowledge base and the standard responses in the console over HTTP (issue 32,
//! KNO-1, KNO-2, KNO-4): the search boxes of the interaction panel and the case page, the
//! as-you-type fragments, an article's page, inserting an article or a rendered response
//! into the scratch pad or a follow-up (the text in the field, saved with the form's
//! version: a stale one is a 409), favourites, a placeholder without its record refused
//! next to the field (422), drafts hidden from agents, the store's text filter on a server
//! without a search engine, insert links hidden without the permission and the write
//! refused if forced (403), French labels. The browser half (as-you-type in a real page,
//! keyboard, accessibility, screenshots) is `tests/console/`.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::console::{Browser, location};
use crate::helpers::{Backend, TestServer, test_settings};
use crate::on_every_store;

/// An htmx request's answer: (status, body).
async fn fragment(b: &Browser, path: &str) -> (StatusCode, String) {
    let res = b.request(Method::GET, path).header("hx-request", "true").send().await.expect("sent");
    (res.status(), res.text().await.unwrap_or_default())
}

/// An htmx fragment, asked again until it holds `needle` (the search engine indexes
/// within its worker's round), for 10 s at most.
async fn fragment_with(b: &Browser, path: &str, needle: &str) -> (StatusCode, String) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (status, html) = fragment(b, path).await;
        if html.contains(needle) || std::time::Instant::now() > deadline {
            return (status, html);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

async fn knowledge_is_searched_read_and_inserted(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let demo = t.demo().clone();
    let api = t.admin();
    let article = json!({"title": "Refund an order", "body": "<p>Refunds take <strong>five</strong> days.</p>",
                         "language": "en", "tags": ["billing"], "shortcut": "#refund"});
    let created = api.post("/api/v1/articles", &article).await;
    let etag = created.etag();
    let article = created.expect(StatusCode::CREATED)["id"].as_str().expect("id").to_owned();
    let path = format!("/api/v1/articles/{article}");
    api.patch(&path, &etag, &json!({"state": "published"})).await.expect(StatusCode::OK);
    let draft = json!({"title": "Refund policy (draft)", "body": "<p>Not yet.</p>", "language": "en"});
    let draft =
        api.post("/api/v1/articles", &draft).await.expect(StatusCode::CREATED)["id"].as_str().expect("id").to_owned();
    let pop = api
        .post("/api/v1/cti/calls", &json!({"phone": "01 23 45 67 89", "agent": demo.admin, "queue": "support"}))
        .await
        .expect(StatusCode::CREATED);
    let id = pop["interaction"]["id"].as_str().expect("id").to_owned();
    let case = pop["cards"][0]["open_cases"][0]["id"].as_str().expect("an open case").to_owned();
    let api_path = format!("/api/v1/interactions/{id}");

    let mut b = Browser::new(&t.server.url());
    assert_eq!(b.sign_in("admin@demo.example", &demo.admin_password).await, StatusCode::SEE_OTHER);
    let csrf = b.csrf().await;
    let panel = format!("/console/interactions/{id}");

    // The panel has the search boxes, as-you-type with the interaction in the query.
    let (status, _, html) = b.get(&panel).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains(r#"id="knowledge-q""#) && html.contains(r#"hx-get="/console/knowledge""#), "{html}");
    assert!(html.contains(&format!(r#"name="interaction" value="{id}""#)), "{html}");
    assert!(html.contains(r#"href="/console/knowledge""#), "in the navigation: {html}");

    // The fragment: the article (and the draft, for an editor), linked with the context.
    let path = format!("/console/knowledge?q=refunds&interaction={id}");
    let (status, html) = fragment_with(&b, &path, "Refund an order").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(!html.contains("<html"), "a fragment: {html}");
    assert!(html.contains("Refund an order") && html.contains("#refund"), "{html}");
    assert!(html.contains(&format!(r#"href="/console/knowledge/{article}?interaction={id}""#)), "{html}");
    let (_, html) = fragment_with(&b, "/console/knowledge?q=refund%20policy", "Refund policy").await;
    assert!(html.contains("Refund policy (draft)"), "an editor finds drafts: {html}");
    let (_, html) = fragment(&b, "/console/knowledge?q=parachute").await;
    assert!(html.contains("No article matches."), "{html}");
    // Too long: refused under the field (the page) or above the results (the fragment).
    let long = "x".repeat(201);
    let (status, _, html) = b.get(&format!("/console/knowledge?q={long}")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains(r#"aria-describedby="knowledge-q-error""#) && html.contains(r#"id="knowledge-q-error""#));
    assert!(html.contains("q: must be at most 200 characters"), "{html}");
    let (status, html) = fragment(&b, &format!("/console/knowledge?q={long}")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");

    // The article's page: its sanitised body, and the two places to insert it.
    let page = format!("/console/knowledge/{article}?interaction={id}&case={case}");
    let (status, _, html) = b.get(&page).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("<p>Refunds take <strong>five</strong> days.</p>"), "{html}");
    assert!(html.contains(&format!(r#"href="/console/interactions/{id}?article={article}#note""#)), "{html}");
    assert!(html.contains(&format!(r#"href="/console/cases/{case}?article={article}#body""#)), "{html}");

    // Inserted into the scratch pad: the text is in the field, saved with the version.
    let (status, _, html) = b.get(&format!("{panel}?article={article}")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Refund an order\n\nRefunds take five days.</textarea>"), "{html}");
    assert!(html.contains(r#"id="note-inserted""#), "{html}");
    let v = api.get(&api_path).await.expect(StatusCode::OK)["version"].as_u64().expect("version").to_string();
    let text = "Refund an order\n\nRefunds take five days.";
    let note = [("_csrf", csrf.as_str()), ("version", v.as_str()), ("text", text)];
    let (status, headers, html) = b.post(&format!("{panel}/notes"), &note).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    assert_eq!(location(&headers), panel);
    let read = api.get(&api_path).await.expect(StatusCode::OK);
    assert_eq!(read["notes"][0]["text"], text, "{read}");
    // The same form again, at the version it was read at: stale, nothing written.
    let (status, _, html) = b.post(&format!("{panel}/notes"), &note).await;
    assert_eq!(status, StatusCode::CONFLICT, "{html}");
    let read = api.get(&api_path).await.expect(StatusCode::OK);
    assert_eq!(read["notes"].as_array().map(Vec::len), Some(1), "{read}");

    // Inserted into a follow-up of the case.
    let (status, _, html) = b.get(&format!("/console/cases/{case}?article={article}")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Refund an order\n\nRefunds take five days.</textarea>"), "{html}");
    assert!(html.contains(r#"id="body-inserted""#) && html.contains(r#"id="knowledge-q""#), "{html}");
    // An article that does not exist: 404.
    let (status, _, _) = b.get(&format!("/console/cases/{case}?article={}", uuid::Uuid::now_v7())).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A reader (a role without interaction.handle nor case.edit): no draft, no insert link,
    // and the write refused if forced.
    crate::console::make_reader(&api, demo.agent).await;
    let alice = crate::console::alice_signed_in(&api, &t.server.url(), demo.agent).await;
    let alice_csrf = alice.csrf().await;
    let (_, html) = fragment(&alice, "/console/knowledge?q=refund").await;
    assert!(html.contains("Refund an order") && !html.contains("Refund policy"), "{html}");
    assert_eq!(alice.get(&format!("/console/knowledge/{draft}")).await.0, StatusCode::NOT_FOUND);
    let (status, _, html) = alice.get(&page).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(!html.contains("?article="), "no insert link: {html}");
    let v = api.get(&api_path).await.expect(StatusCode::OK)["version"].as_u64().expect("version").to_string();
    let forced = [("_csrf", alice_csrf.as_str()), ("version", v.as_str()), ("text", "forced")];
    let (status, _, html) = alice.post(&format!("{panel}/notes"), &forced).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{html}");

    // French labels.
    let res = b.request(Method::GET, "/console/knowledge").header("accept-language", "fr").send().await.expect("sent");
    let html = res.text().await.unwrap_or_default();
    assert!(html.contains("Base de connaissances") && html.contains("Rechercher dans la base"), "{html}");
    t.server.stop().await.expect("clean stop");
}
on_every_store!(knowledge_is_searched_read_and_inserted);

async fn knowledge_is_found_without_a_search_engine(backend: Backend) {
    let mut settings = test_settings();
    settings.search.enabled = false;
    let t = TestServer::start_with_settings(&backend, settings).await;
    let demo = t.demo().clone();
    let api = t.admin();
    let article = json!({"title": "Refund an order", "body": "<p>Refunds take <strong>five</strong> days.</p>",
                         "language": "en", "state": "published"});
    api.post("/api/v1/articles", &article).await.expect(StatusCode::CREATED);
    let mut b = Browser::new(&t.server.url());
    assert_eq!(b.sign_in("admin@demo.example", &demo.admin_password).await, StatusCode::SEE_OTHER);
    // The store's folded text filter: found at once, the body's start as the snippet.
    let (status, html) = fragment(&b, "/console/knowledge?q=REFUNDS%20take").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Refund an order") && html.contains("Refunds take five days."), "{html}");
    let (_, html) = fragment(&b, "/console/knowledge?q=parachute").await;
    assert!(html.contains("No article matches."), "{html}");
    t.server.stop().await.expect("clean stop");
}
on_every_store!(knowledge_is_found_without_a_search_engine);

async fn standard_responses_are_found_favoured_rendered_and_inserted(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let demo = t.demo().clone();
    let api = t.admin();
    let thanks = json!({"title": "Refund accepted", "language": "en", "shortcut": "refund-ok",
                        "body": "<p>Hello {{customer.name}}, case {{case.number}} is refunded.</p>"});
    let thanks = api.post("/api/v1/standard-responses", &thanks).await.expect(StatusCode::CREATED)["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let late = json!({"title": "Delivery delay", "language": "en", "body": "<p>Your parcel is late.</p>"});
    let late = api.post("/api/v1/standard-responses", &late).await.expect(StatusCode::CREATED)["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let pop = api
        .post("/api/v1/cti/calls", &json!({"phone": "01 23 45 67 89", "agent": demo.admin, "queue": "support"}))
        .await
        .expect(StatusCode::CREATED);
    let id = pop["interaction"]["id"].as_str().expect("id").to_owned();
    let card = &pop["cards"][0];
    let name = card["customer"]["name"].as_str().expect("a name").to_owned();
    let case = card["open_cases"][0]["id"].as_str().expect("an open case").to_owned();
    let number = card["open_cases"][0]["number"].as_str().expect("a number").to_owned();
    let panel = format!("/console/interactions/{id}");

    let mut b = Browser::new(&t.server.url());
    assert_eq!(b.sign_in("admin@demo.example", &demo.admin_password).await, StatusCode::SEE_OTHER);
    let csrf = b.csrf().await;

    // As-you-type: one of the two.
    let (status, html) = fragment(&b, &format!("/console/responses?q=refunded&interaction={id}")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Refund accepted") && !html.contains("Delivery delay"), "{html}");
    assert!(html.contains(&format!(r#"href="/console/responses/{thanks}?interaction={id}""#)), "{html}");

    // A favourite (the token is needed), then the favourites only.
    let star = format!("/console/responses/{thanks}/favourite");
    let form = [("_csrf", csrf.as_str()), ("favourite", "true"), ("back_q", "refund")];
    assert_eq!(b.post(&star, &form[1..]).await.0, StatusCode::FORBIDDEN);
    let (status, headers, html) = b.post(&star, &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    assert_eq!(location(&headers), "/console/responses?q=refund");
    let (status, _, html) = b.get("/console/responses?favourites=true").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Refund accepted") && !html.contains("Delivery delay"), "{html}");
    assert!(html.contains(r#"aria-pressed="true""#) && html.contains("Remove from my favourites"), "{html}");
    let (_, _, html) = b.get("/console/responses").await;
    assert!(html.contains("Delivery delay") && html.contains("Add to my favourites"), "{html}");
    // A value the star does not know: refused next to that response's star.
    let (status, _, html) = b.post(&star, &[("_csrf", csrf.as_str()), ("favourite", "maybe")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains(&format!(r#"id="favourite-{thanks}-error""#)), "{html}");
    let form = [("_csrf", csrf.as_str()), ("favourite", "false")];
    assert_eq!(b.post(&star, &form).await.0, StatusCode::SEE_OTHER);
    let (_, _, html) = b.get("/console/responses?favourites=true").await;
    assert!(html.contains("No standard response matches."), "{html}");

    // The interaction has no linked case yet: {{case.number}} cannot be filled (422, named).
    let (status, _, html) = b.get(&format!("/console/responses/{thanks}?interaction={id}")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains(r#"id="response-preview-error""#) && html.contains("case: is required"), "{html}");
    assert!(!html.contains("?response="), "nothing to insert: {html}");
    let (status, _, html) = b.get(&format!("{panel}?response={thanks}")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains(r#"id="note-error""#) && html.contains("case: is required"), "{html}");

    // For the case: rendered for the case and its customer, inserted into a follow-up.
    let (status, _, html) = b.get(&format!("/console/responses/{thanks}?case={case}")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let rendered = format!("Hello {name}, case {number} is refunded.");
    assert!(html.contains(&rendered), "{html}");
    assert!(html.contains(&format!(r#"href="/console/cases/{case}?response={thanks}#body""#)), "{html}");
    let (status, _, html) = b.get(&format!("/console/cases/{case}?response={thanks}")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains(&format!("{rendered}</textarea>")), "{html}");
    let (status, _, _) =
        b.post(&format!("/console/cases/{case}/follow-ups"), &[("_csrf", &csrf), ("body", &rendered)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let follow_ups = api.get(&format!("/api/v1/cases/{case}/follow-ups")).await.expect(StatusCode::OK);
    assert!(follow_ups.as_array().expect("follow-ups").iter().any(|f| f["body"] == rendered.as_str()), "{follow_ups}");

    // Once the case is linked, the panel renders it for the interaction into the scratch pad.
    let read = api.get(&format!("/api/v1/interactions/{id}")).await.expect(StatusCode::OK);
    let v = read["version"].as_u64().expect("version").to_string();
    let link = [("_csrf", csrf.as_str()), ("version", v.as_str()), ("case", case.as_str())];
    assert_eq!(b.post(&format!("{panel}/links"), &link).await.0, StatusCode::SEE_OTHER);
    let (status, _, html) = b.get(&format!("{panel}?response={thanks}")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains(&format!("{rendered}</textarea>")), "{html}");
    let (_, _, html) = b.get(&format!("/console/responses/{late}?interaction={id}")).await;
    assert!(html.contains(&format!(r#"href="/console/interactions/{id}?response={late}#note""#)), "{html}");

    // French labels.
    let res = b.request(Method::GET, "/console/responses").header("accept-language", "fr").send().await.expect("sent");
    let html = res.text().await.unwrap_or_default();
    assert!(html.contains("Réponses types") && html.contains("Mes favoris seulement"), "{html}");
    t.server.stop().await.expect("clean stop");
}
on_every_store!(standard_responses_are_found_favoured_rendered_and_inserted);
