//! Knowledge articles over HTTP (KNO-1, KNO-3): an editor writes and publishes, the body is
//! sanitised, an edit keeps the previous version readable, a stale ETag is a 412, a taken
//! shortcut a 409, drafts are hidden from agents, a solution lists under its problems, and
//! bad input is a 4xx naming the field.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestServer};
use crate::on_every_store;

fn first_field(problem: &Value) -> &str {
    problem["errors"][0]["field"].as_str().unwrap_or_default()
}

async fn articles_are_written_versioned_and_read(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let editor = t.admin();
    let agent = t.client_for(&t.demo().agent.to_string(), "agent").await;

    let body = json!({
        "title": "Rembourser une commande",
        "body": "<p onclick=\"steal()\">Étapes</p><script>alert(1)</script>",
        "tags": ["Facturation"], "language": "fr", "shortcut": "#refund",
    });
    let created = editor.post("/api/v1/articles", &body).await;
    let article = created.expect(StatusCode::CREATED);
    let id = article["id"].as_str().expect("id").to_owned();
    assert_eq!(article["body"], "<p>Étapes</p>", "sanitised");
    assert_eq!((article["state"].as_str(), article["version"].as_u64()), (Some("draft"), Some(1)));
    assert_eq!(article["tags"], json!(["facturation"]));
    let path = format!("/api/v1/articles/{id}");

    // A draft is hidden from an agent, who cannot write either.
    agent.get(&path).await.problem(404);
    agent.post("/api/v1/articles", &body).await.problem(403);
    assert_eq!(agent.get("/api/v1/articles").await.expect(StatusCode::OK)["items"], json!([]));

    // Publish (v2), then edit (v3): version 2 stays readable as it was.
    let published = editor.patch(&path, &created.etag(), &json!({"state": "published"})).await;
    assert_eq!(published.expect(StatusCode::OK)["version"], 2);
    let edited = editor.patch(&path, &published.etag(), &json!({"body": "<p>Nouvelles étapes</p>"})).await;
    assert_eq!(edited.expect(StatusCode::OK)["version"], 3);
    editor.patch(&path, &published.etag(), &json!({"title": "Late"})).await.problem(412);
    let v2 = agent.get(&format!("{path}/versions/2")).await.expect(StatusCode::OK);
    assert_eq!((v2["body"].as_str(), v2["state"].as_str()), (Some("<p>Étapes</p>"), Some("published")));
    assert_eq!(agent.get(&path).await.expect(StatusCode::OK)["body"], "<p>Nouvelles étapes</p>");
    // The agent sees the published versions only; the editor all three.
    let seen = |v: &Value| v.as_array().map(|a| a.iter().map(|x| x["version"].as_u64()).collect::<Vec<_>>());
    assert_eq!(
        seen(&agent.get(&format!("{path}/versions")).await.expect(StatusCode::OK)),
        Some(vec![Some(2), Some(3)])
    );
    let all = editor.get(&format!("{path}/versions")).await.expect(StatusCode::OK);
    assert_eq!(seen(&all), Some(vec![Some(1), Some(2), Some(3)]));
    agent.get(&format!("{path}/versions/1")).await.problem(404);
    agent.get(&format!("{path}/versions/9")).await.problem(404);

    // A published article never goes back to draft.
    editor.patch(&path, &edited.etag(), &json!({"state": "draft"})).await.problem(409);

    // The shortcut is unique in the tenant.
    let p = editor.post("/api/v1/articles", &json!({"title": "Autre", "language": "fr", "shortcut": "refund"})).await;
    assert_eq!(p.problem(409)["errors"][0]["field"], "shortcut", "{:?}", p.json());

    // A solution links the problem; the problem lists it.
    let fix = json!({"title": "Mettre à jour la carte", "language": "fr", "state": "published", "solves": [id]});
    let fix = editor.post("/api/v1/articles", &fix).await.expect(StatusCode::CREATED);
    let solutions = agent.get(&format!("{path}/solutions")).await.expect(StatusCode::OK);
    assert_eq!(solutions[0]["id"], fix["id"]);
    let unknown = json!({"title": "X", "language": "fr", "solves": [uuid::Uuid::now_v7()]});
    assert_eq!(first_field(&editor.post("/api/v1/articles", &unknown).await.problem(422)), "solves");

    // Lists filter and page.
    let list = agent.get("/api/v1/articles?language=fr&limit=1").await.expect(StatusCode::OK);
    assert_eq!(list["items"][0]["id"].as_str(), Some(id.as_str()));
    let next = list["next"].as_str().expect("a second page");
    let second = agent.get(&format!("/api/v1/articles?language=fr&limit=1&cursor={next}")).await.expect(StatusCode::OK);
    assert_eq!(second["items"][0]["id"], fix["id"]);
}

async fn bad_articles_are_refused_naming_the_field(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let editor = t.admin();
    for (body, field) in [
        (json!({"title": "", "language": "fr"}), "title"),
        (json!({"title": "T", "language": "français"}), "language"),
        (json!({"title": "T", "language": "fr", "shortcut": "#a b"}), "shortcut"),
        (json!({"title": "T", "language": "fr", "tags": ["!!!"]}), "tags"),
    ] {
        let p = editor.post("/api/v1/articles", &body).await.problem(422);
        assert_eq!(first_field(&p), field, "{p}");
    }
    for (path, field) in [("/api/v1/articles/not-an-id", "id"), ("/api/v1/articles?state=gone", "state")] {
        let (status, p) = editor.get(path).await.json();
        assert!(status.is_client_error(), "{path}: {status}");
        assert_eq!(first_field(&p), field, "{p}");
    }
    editor.get(&format!("/api/v1/articles/{}", uuid::Uuid::now_v7())).await.problem(404);
}

async fn the_composer_fills_placeholders_and_expands_shortcuts(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let editor = t.admin();
    let agent = t.client_for(&t.demo().agent.to_string(), "agent").await;
    let customer = json!({"name": "Zoé <b>Martin</b>"});
    let customer = editor.post("/api/v1/customers", &customer).await.expect(StatusCode::CREATED);
    let article = json!({"title": "Remboursement", "body": "<p>Étapes</p>", "language": "fr",
        "shortcut": "#refund", "state": "published"});
    let article = editor.post("/api/v1/articles", &article).await.expect(StatusCode::CREATED);

    let request = json!({"text": "Bonjour {{customer.name}},\n#refund\n{{agent.name}}", "customer": customer["id"]});
    let composed = agent.post("/api/v1/compose", &request).await.expect(StatusCode::OK);
    let html = composed["html"].as_str().expect("html");
    assert!(html.starts_with("Bonjour Zoé &lt;b&gt;Martin&lt;/b&gt;,<br><p>Étapes</p><br>"), "{html}");
    assert_eq!(composed["articles"], json!([article["id"]]));
    assert!(composed["text"].as_str().expect("text").starts_with("Bonjour Zoé <b>Martin</b>,\nÉtapes\n"));
    let link = json!({"text": "Voir #refund", "insert": "link"});
    let composed = agent.post("/api/v1/compose", &link).await.expect(StatusCode::OK);
    let expected =
        format!("Voir <a href=\"/api/v1/articles/{}\">Remboursement</a>", article["id"].as_str().unwrap_or_default());
    assert_eq!(composed["html"], expected);

    // An unknown placeholder names itself; a customer placeholder needs the customer.
    let p = agent.post("/api/v1/compose", &json!({"text": "{{customer.nom}}"})).await.problem(422);
    assert_eq!(first_field(&p), "text");
    assert!(p["errors"][0]["reason"].as_str().unwrap_or_default().contains("{{customer.nom}}"), "{p}");
    let p = agent.post("/api/v1/compose", &json!({"text": "{{customer.name}}"})).await.problem(422);
    assert_eq!(first_field(&p), "customer");
    let big = json!({"text": "a".repeat(100 * 1024)});
    let (status, _) = agent.post("/api/v1/compose", &big).await.json();
    assert!(status.is_client_error(), "{status}");
}

on_every_store!(articles_are_written_versioned_and_read);
on_every_store!(the_composer_fills_placeholders_and_expands_shortcuts);
on_every_store!(bad_articles_are_refused_naming_the_field);
