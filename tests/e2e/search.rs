//! Search over HTTP (KNO-2, CUS-5 on the engine): a written article and customer are found
//! within a second or so through the change feed, by stem, typo and sound; drafts stay
//! hidden from agents; filters hold; answers match the OpenAPI document; bad queries are a
//! 4xx naming `q`.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Api, Backend, TestServer};
use crate::on_every_store;
use crate::openapi_check::answers;

/// GETs `path` until its `items` are not empty (the indexer's round), for 10 s at most;
/// returns the answer and how long it took.
async fn until_found(api: &Api, path: &str) -> (Value, Duration) {
    let started = Instant::now();
    loop {
        let found = api.get(path).await.expect(StatusCode::OK);
        if found["items"].as_array().is_some_and(|a| !a.is_empty()) || started.elapsed() > Duration::from_secs(10) {
            return (found, started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn writes_are_found_by_stem_typo_and_sound(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let editor = t.admin();
    let agent = t.client_for(&t.demo().agent.to_string(), "agent").await;
    let article = json!({"title": "Remboursement d'une commande", "language": "fr", "state": "published",
        "body": "<p>Les remboursements arrivent sous cinq jours ouvrés.</p>", "tags": ["facturation"]});
    let article = editor.post("/api/v1/articles", &article).await.expect(StatusCode::CREATED);
    let draft = json!({"title": "Remboursement en brouillon", "language": "fr"});
    let draft = editor.post("/api/v1/articles", &draft).await.expect(StatusCode::CREATED);

    let (found, waited) = until_found(&agent, "/api/v1/articles/search?q=rembourssements").await;
    assert!(waited < Duration::from_secs(10), "found within the wait: {waited:?}");
    answers("article search", Method::GET, "/api/v1/articles/search", 200, &found);
    let items = found["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "the draft is hidden from an agent: {found}");
    assert_eq!(items[0]["id"], article["id"]);
    let snippet = items[0]["snippet"].as_str().expect("snippet");
    let h = &items[0]["highlights"][0];
    let (start, end) = (h["start"].as_u64().unwrap_or(0) as usize, h["end"].as_u64().unwrap_or(0) as usize);
    assert_eq!(snippet.get(start..end), Some("remboursements"), "{snippet}");

    let (editors, _) = until_found(&editor, "/api/v1/articles/search?q=remboursement&state=draft").await;
    assert_eq!(editors["items"][0]["id"], draft["id"], "an editor searches drafts");
    let filtered = agent.get("/api/v1/articles/search?q=remboursement&tags=facturation&language=fr").await;
    assert_eq!(filtered.expect(StatusCode::OK)["items"][0]["id"], article["id"]);
    let none = agent.get("/api/v1/articles/search?q=remboursement&tags=livraison").await.expect(StatusCode::OK);
    assert_eq!(none["items"], json!([]));
    let paged = editor.get("/api/v1/articles/search?q=remboursement&limit=1").await.expect(StatusCode::OK);
    let next = paged["next"].as_str().expect("a second page");
    let second = editor.get(&format!("/api/v1/articles/search?q=remboursement&limit=1&cursor={next}")).await;
    let second = second.expect(StatusCode::OK);
    assert_ne!(second["items"][0]["id"], paged["items"][0]["id"]);

    let customer =
        json!({"name": "Stephen Schneider", "identities": [{"type": "email", "address": "s.schneider@example.de"}]});
    let (status, body) = editor.post("/api/v1/customers", &customer).await.json();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (by_sound, _) = until_found(&agent, "/api/v1/customers?q=Shnaider").await;
    answers("customer search on the engine", Method::GET, "/api/v1/customers", 200, &by_sound);
    assert_eq!(by_sound["items"][0]["id"], body["id"], "{by_sound}");
    let by_email = agent.get("/api/v1/customers?q=s.schneider%40exa").await.expect(StatusCode::OK);
    assert_eq!(by_email["items"][0]["id"], body["id"], "{by_email}");

    // A phone in any written form: national with the tenant's region (FR), international
    // with `00`, spaced, dotted, as E.164 (a number no demo customer has).
    let customer = json!({"name": "Noémie Portable", "identities": [{"type": "phone", "number": "+33698765432"}]});
    let (status, body) = editor.post("/api/v1/customers", &customer).await.json();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    until_found(&agent, "/api/v1/customers?q=%2B33698765432").await;
    for q in ["06+98+76+54+32", "0698765432", "06.98.76.54.32", "0033+6+98+76+54+32", "%2B33+6+98+76+54+32"] {
        let found = agent.get(&format!("/api/v1/customers?q={q}")).await.expect(StatusCode::OK);
        assert_eq!(found["items"][0]["id"], body["id"], "{q}: {found}");
    }
}

async fn bad_queries_are_refused_naming_q(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let agent = t.client_for(&t.demo().agent.to_string(), "agent").await;
    for q in ["", "%21%3F", "%22%22"] {
        let p = agent.get(&format!("/api/v1/articles/search?q={q}")).await.problem(422);
        assert_eq!(p["errors"][0]["field"], "q", "{q}: {p}");
    }
    // A query past the 64 KiB limit does not fit a URL (the HTTP client refuses it); the
    // limit is tested on the index (crm-search) and the use case (indexer tests).
    let (status, _) = agent.get("/api/v1/articles/search").await.json();
    assert!(status.is_client_error(), "q is required: {status}");
    let p = agent.get("/api/v1/customers?q=%21%21").await.problem(422);
    assert_eq!(p["errors"][0]["field"], "q", "{p}");
    // Query syntax is text, not syntax.
    for q in ["title%3Arefund", "refund+AND+%28", "%2Brefund+-x+%5Ba+TO+z%5D"] {
        agent.get(&format!("/api/v1/articles/search?q={q}")).await.expect(StatusCode::OK);
    }
}

on_every_store!(writes_are_found_by_stem_typo_and_sound);
on_every_store!(bad_queries_are_refused_naming_q);
