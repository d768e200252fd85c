//! Standard responses (KNO-4) and the public self-service search (KNO-1) over HTTP: an
//! editor writes responses in shared folders, agents list, favourite and render them (every
//! value escaped, an unknown placeholder a 422 naming it), the composer expands their
//! shortcuts, an interaction's suggestions rank them with the articles; the public search
//! answers without a token, only published public articles of the slug's tenant, and a 429
//! with `Retry-After` past its rate limit. Bad input is a 4xx naming the field.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crm_core::service::NewTenant;
use crm_server::seed::bootstrap_tenant;

use crate::helpers::{Api, Backend, Reply, TestServer};
use crate::on_every_store;
use crate::openapi_check::answers;

fn first_field(problem: &Value) -> &str {
    problem["errors"][0]["field"].as_str().unwrap_or_default()
}

/// Sets the caller's tenant's public slug.
async fn set_slug(api: &Api, slug: &str) -> Reply {
    api.send(api.request(Method::PATCH, "/api/v1/tenant").json(&json!({"slug": slug}))).await
}

fn titles(page: &Value) -> Vec<&str> {
    page["items"].as_array().map(|a| a.iter().filter_map(|x| x["title"].as_str()).collect()).unwrap_or_default()
}

async fn responses_are_written_filed_favoured_and_rendered(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let editor = t.admin();
    let agent = t.client_for(&t.demo().agent.to_string(), "agent").await;

    // Folders: one level of nesting, unique names among siblings.
    let billing = editor.post("/api/v1/standard-response-folders", &json!({"name": "Facturation"})).await;
    answers("a folder", Method::POST, "/api/v1/standard-response-folders", 201, &billing.expect(StatusCode::CREATED));
    let billing_id = billing.expect(StatusCode::CREATED)["id"].as_str().expect("id").to_owned();
    let refunds = json!({"name": "Remboursements", "parent": billing_id});
    let refunds = editor.post("/api/v1/standard-response-folders", &refunds).await.expect(StatusCode::CREATED);
    let deeper = json!({"name": "Trop loin", "parent": refunds["id"]});
    let p = editor.post("/api/v1/standard-response-folders", &deeper).await.problem(422);
    assert_eq!(first_field(&p), "parent");
    let p = editor.post("/api/v1/standard-response-folders", &json!({"name": "FACTURATION"})).await.problem(409);
    assert_eq!(first_field(&p), "name");
    agent.post("/api/v1/standard-response-folders", &json!({"name": "Moi"})).await.problem(403);

    // A response: sanitised, normalised, versioned; agents read but do not write.
    let body = json!({
        "title": "Remboursement accepté",
        "body": "<p onclick=\"x()\">Bonjour {{customer.name}}, votre dossier {{case.number}} est remboursé.</p>",
        "tags": ["Remboursement"], "language": "fr", "shortcut": "merci-remb", "folder": refunds["id"],
    });
    let created = editor.post("/api/v1/standard-responses", &body).await;
    let r = created.expect(StatusCode::CREATED);
    answers("a response", Method::POST, "/api/v1/standard-responses", 201, &r);
    let id = r["id"].as_str().expect("id").to_owned();
    let path = format!("/api/v1/standard-responses/{id}");
    assert_eq!(r["body"], "<p>Bonjour {{customer.name}}, votre dossier {{case.number}} est remboursé.</p>");
    assert_eq!((r["shortcut"].as_str(), r["version"].as_u64()), (Some("#merci-remb"), Some(1)));
    agent.post("/api/v1/standard-responses", &body).await.problem(403);
    let read = agent.get(&path).await;
    answers("a response", Method::GET, &path, 200, &read.expect(StatusCode::OK));

    let edited = editor.patch(&path, &created.etag(), &json!({"title": "Remboursement effectué"})).await;
    assert_eq!(edited.expect(StatusCode::OK)["version"], 2);
    editor.patch(&path, &created.etag(), &json!({"title": "Late"})).await.problem(412);
    let versions = agent.get(&format!("{path}/versions")).await.expect(StatusCode::OK);
    answers("versions", Method::GET, &format!("{path}/versions"), 200, &versions);
    assert_eq!(versions.as_array().map(Vec::len), Some(2));

    // The folder is not empty: its deletion is refused, saying why.
    let folder_path = format!("/api/v1/standard-response-folders/{}", refunds["id"].as_str().unwrap_or_default());
    let p = editor.request(Method::DELETE, &folder_path);
    let p = editor.send(p).await.problem(409);
    assert!(p["detail"].as_str().unwrap_or_default().contains("not empty"), "{p}");

    // Another response, then lists by folder, tag, language, text; favourites per agent.
    let other = json!({"title": "Delivery delay", "body": "<p>Your parcel is late</p>", "language": "en"});
    let other = editor.post("/api/v1/standard-responses", &other).await.expect(StatusCode::CREATED);
    let list = agent.get("/api/v1/standard-responses").await.expect(StatusCode::OK);
    answers("responses", Method::GET, "/api/v1/standard-responses", 200, &list);
    assert_eq!(titles(&list), ["Remboursement effectué", "Delivery delay"]);
    let by_folder = format!("/api/v1/standard-responses?folder={}", refunds["id"].as_str().unwrap_or_default());
    assert_eq!(titles(&agent.get(&by_folder).await.expect(StatusCode::OK)), ["Remboursement effectué"]);
    let by_tag = agent.get("/api/v1/standard-responses?tag=REMBOURSEMENT").await.expect(StatusCode::OK);
    assert_eq!(titles(&by_tag), ["Remboursement effectué"]);
    let by_text = agent.get("/api/v1/standard-responses?q=PARCEL%20is").await.expect(StatusCode::OK);
    assert_eq!(titles(&by_text), ["Delivery delay"]);
    let en = agent.get("/api/v1/standard-responses?language=en&limit=1").await.expect(StatusCode::OK);
    assert_eq!((titles(&en), en["next"].is_null()), (vec!["Delivery delay"], true));
    let fav = format!("/api/v1/standard-responses/{}/favourite", other["id"].as_str().unwrap_or_default());
    assert_eq!(agent.send(agent.request(Method::PUT, &fav)).await.status, StatusCode::NO_CONTENT);
    assert_eq!(agent.send(agent.request(Method::PUT, &fav)).await.status, StatusCode::NO_CONTENT);
    let mine = agent.get("/api/v1/standard-responses?favourites=true").await.expect(StatusCode::OK);
    assert_eq!(titles(&mine), ["Delivery delay"]);
    let theirs = editor.get("/api/v1/standard-responses?favourites=true").await.expect(StatusCode::OK);
    assert!(titles(&theirs).is_empty(), "favourites are personal");
    assert_eq!(agent.send(agent.request(Method::DELETE, &fav)).await.status, StatusCode::NO_CONTENT);
    assert!(titles(&agent.get("/api/v1/standard-responses?favourites=true").await.expect(StatusCode::OK)).is_empty());

    // Render for a customer and a case: values escaped into the HTML.
    let customer = json!({"name": "Zoé <b>Martin</b>"});
    let customer = editor.post("/api/v1/customers", &customer).await.expect(StatusCode::CREATED);
    let case = json!({"customer": customer["id"], "subject": "Remboursement"});
    let case = editor.post("/api/v1/cases", &case).await.expect(StatusCode::CREATED);
    let render = format!("{path}/render");
    let rendered =
        agent.post(&render, &json!({"customer": customer["id"], "case": case["id"]})).await.expect(StatusCode::OK);
    answers("a rendering", Method::POST, &render, 200, &rendered);
    let html = rendered["html"].as_str().unwrap_or_default();
    assert!(html.starts_with("<p>Bonjour Zoé &lt;b&gt;Martin&lt;/b&gt;, votre dossier "), "{html}");
    assert!(rendered["text"].as_str().unwrap_or_default().starts_with("Bonjour Zoé <b>Martin</b>, votre dossier"));
    let p = agent.post(&render, &json!({"case": case["id"]})).await.problem(422);
    assert_eq!(first_field(&p), "customer");

    // The composer expands the response's shortcut, its placeholders filled.
    let compose = json!({"text": "#merci-remb", "customer": customer["id"], "case": case["id"]});
    let composed = agent.post("/api/v1/compose", &compose).await.expect(StatusCode::OK);
    assert_eq!(composed["html"], rendered["html"]);
    assert_eq!(composed["responses"], json!([id]));
    // An article cannot take a response's code, nor the reverse.
    let clash = json!({"title": "X", "language": "fr", "shortcut": "#merci-remb"});
    assert_eq!(first_field(&editor.post("/api/v1/articles", &clash).await.problem(409)), "shortcut");

    // Delete with If-Match; the folder then deletes.
    let current = editor.get(&path).await;
    let gone = editor.send(editor.request(Method::DELETE, &path).header("if-match", current.etag())).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    agent.get(&path).await.problem(404);
    assert_eq!(editor.send(editor.request(Method::DELETE, &folder_path)).await.status, StatusCode::NO_CONTENT);
    let folders = agent.get("/api/v1/standard-response-folders").await.expect(StatusCode::OK);
    answers("folders", Method::GET, "/api/v1/standard-response-folders", 200, &folders);
    assert_eq!(folders.as_array().map(Vec::len), Some(1));
}

async fn bad_responses_are_refused_naming_the_field(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let editor = t.admin();
    let post = |body: Value| {
        let editor = editor.clone();
        async move { editor.post("/api/v1/standard-responses", &body).await }
    };
    let p = post(json!({"title": "X", "language": "fr", "body": "Hi {{customer.shoe_size}}"})).await.problem(422);
    assert_eq!(first_field(&p), "body");
    assert!(p["errors"][0]["reason"].as_str().unwrap_or_default().contains("customer.shoe_size"), "{p}");
    assert_eq!(first_field(&post(json!({"title": "  ", "language": "fr"})).await.problem(422)), "title");
    // A body over the request limit (the test server's 256 KiB, the rule's own maximum) is
    // refused before it is read: 413. Kept near the limit, as in `bad_input`: a far larger
    // one (1 MiB) may meet the connection closed while it is still being written. The
    // rule's own 422 on `body` is a unit test of `StandardResponse`.
    let huge = json!({"title": "X", "language": "fr", "body": "a".repeat(300 * 1024)});
    post(huge).await.problem(413);
    let bad_folder = json!({"title": "X", "language": "fr", "folder": uuid::Uuid::now_v7()});
    assert_eq!(first_field(&post(bad_folder).await.problem(422)), "folder");
    let p = post(json!({"title": "X", "language": "français"})).await.problem(422);
    assert_eq!(first_field(&p), "language");
    let p = editor.get(&format!("/api/v1/standard-responses?folder={}", uuid::Uuid::now_v7())).await.problem(422);
    assert_eq!(first_field(&p), "folder");
    let p = editor.get(&format!("/api/v1/standard-responses?q={}", "a".repeat(300))).await.problem(422);
    assert_eq!(first_field(&p), "q");
    let p = editor.post("/api/v1/standard-response-folders", &json!({"name": "a/b"})).await.problem(422);
    assert_eq!(first_field(&p), "name");
}

async fn suggestions_rank_responses_and_articles_by_the_last_inbound_message(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let editor = t.admin();
    let demo = t.demo().clone();
    let agent = t.client_for(&demo.agent.to_string(), "agent").await;
    for (title, body) in [
        ("Colis en retard", "<p>Votre colis est en route</p>"),
        ("Changer de mot de passe", "<p>Cliquez sur oublié</p>"),
    ] {
        let r = json!({"title": title, "body": body, "language": "fr"});
        editor.post("/api/v1/standard-responses", &r).await.expect(StatusCode::CREATED);
    }
    let article = json!({"title": "Suivre un colis", "body": "<p>Le numéro de suivi</p>", "language": "fr",
        "state": "published"});
    editor.post("/api/v1/articles", &article).await.expect(StatusCode::CREATED);
    let draft = json!({"title": "Colis brouillon", "language": "fr"});
    editor.post("/api/v1/articles", &draft).await.expect(StatusCode::CREATED);

    let chat = json!({"channel": "chat", "direction": "inbound", "address": "jo-42", "contact_name": "Jo",
        "agent": demo.agent});
    let chat = agent.post("/api/v1/interactions", &chat).await.expect(StatusCode::CREATED);
    let path = format!("/api/v1/interactions/{}/suggestions", chat["id"].as_str().unwrap_or_default());
    assert_eq!(agent.get(&path).await.expect(StatusCode::OK), json!([]), "no inbound text yet");
    let messages = format!("/api/v1/interactions/{}/messages", chat["id"].as_str().unwrap_or_default());
    for (direction, body) in
        [("inbound", "Bonjour"), ("inbound", "Mon colis est en retard !"), ("outbound", "Mot de passe ?")]
    {
        let m = json!({"direction": direction, "body": body});
        agent.post(&messages, &m).await.expect(StatusCode::CREATED);
    }
    // With the search engine (the server's default) the words are found once the indexer
    // has applied the writes (within a second); the interim scorer finds them at once.
    let mut found = agent.get(&path).await.expect(StatusCode::OK);
    for _ in 0..100 {
        if found.as_array().is_some_and(|a| a.len() >= 2) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        found = agent.get(&path).await.expect(StatusCode::OK);
    }
    answers("suggestions", Method::GET, &path, 200, &found);
    let ranked: Vec<(&str, &str)> = found
        .as_array()
        .map(|a| a.iter().map(|s| (s["kind"].as_str().unwrap_or(""), s["title"].as_str().unwrap_or(""))).collect())
        .unwrap_or_default();
    assert_eq!(ranked, [("response", "Colis en retard"), ("article", "Suivre un colis")]);
    agent.get(&format!("/api/v1/interactions/{}/suggestions", uuid::Uuid::now_v7())).await.problem(404);
}

async fn the_public_search_needs_no_token_and_shows_public_articles_only(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let editor = t.admin();
    let anonymous = editor.with_token(None);
    // No slug yet: nothing is public.
    anonymous.get("/public/acme/articles").await.problem(404);
    let set = set_slug(&editor, "Acme").await.expect(StatusCode::OK);
    answers("a tenant", Method::PATCH, "/api/v1/tenant", 200, &set);
    assert_eq!(set["slug"], "acme");
    assert_eq!(first_field(&set_slug(&editor, "-bad").await.problem(422)), "slug");

    let article = |title: &str, state: &str, public: bool| {
        json!({"title": title, "body": format!("<p>{title} : les étapes</p>"), "language": "fr", "state": state,
            "public": public, "shortcut": format!("#{}", title.to_lowercase().replace(' ', "-"))})
    };
    let shown = editor.post("/api/v1/articles", &article("Retour produit", "published", true)).await;
    let shown = shown.expect(StatusCode::CREATED);
    let draft = editor.post("/api/v1/articles", &article("Retour brouillon", "draft", true)).await;
    let draft = draft.expect(StatusCode::CREATED);
    let internal = editor.post("/api/v1/articles", &article("Retour interne", "published", false)).await;
    let internal = internal.expect(StatusCode::CREATED);

    let found = anonymous.get("/public/acme/articles?q=RETOUR").await.expect(StatusCode::OK);
    answers("public search", Method::GET, "/public/acme/articles", 200, &found);
    assert_eq!(titles(&found), ["Retour produit"]);
    let item = &found["items"][0];
    for private in ["tenant", "created_by", "updated_by", "shortcut", "solves", "state", "public"] {
        assert!(item.get(private).is_none(), "{private} leaked: {item}");
    }
    assert_eq!(titles(&anonymous.get("/public/acme/articles?q=etapes").await.expect(StatusCode::OK)).len(), 1);
    assert!(titles(&anonymous.get("/public/acme/articles?q=interne").await.expect(StatusCode::OK)).is_empty());
    let one = format!("/public/acme/articles/{}", shown["id"].as_str().unwrap_or_default());
    let read = anonymous.get(&one).await.expect(StatusCode::OK);
    answers("public article", Method::GET, &one, 200, &read);
    for hidden in [&draft, &internal] {
        anonymous
            .get(&format!("/public/acme/articles/{}", hidden["id"].as_str().unwrap_or_default()))
            .await
            .problem(404);
    }
    anonymous.get("/public/nobody/articles").await.problem(404);
    anonymous.get("/public/x/articles").await.problem(404);

    // Another tenant's articles never show under this slug.
    let other = bootstrap_tenant(
        &t.server.services,
        NewTenant { name: "Other Center".into(), default_region: "FR".into(), time_zone: "Europe/Paris".into() },
        "Olga Other",
        "olga@other.example",
    )
    .await
    .expect("second tenant");
    let other_admin = Api::new(&t.server.url(), Some(&other.token));
    let theirs = other_admin.post("/api/v1/articles", &article("Retour ailleurs", "published", true)).await;
    let theirs = theirs.expect(StatusCode::CREATED);
    assert_eq!(
        titles(&anonymous.get("/public/acme/articles?q=retour").await.expect(StatusCode::OK)),
        ["Retour produit"]
    );
    anonymous.get(&format!("/public/acme/articles/{}", theirs["id"].as_str().unwrap_or_default())).await.problem(404);
    assert_eq!(first_field(&set_slug(&other_admin, "acme").await.problem(409)), "slug");
}

async fn the_public_search_is_rate_limited_per_client(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let editor = t.admin();
    set_slug(&editor, "acme").await.expect(StatusCode::OK);
    let anonymous = editor.with_token(None);
    let mut limited = None;
    for _ in 0..200 {
        let reply = anonymous.get("/public/acme/articles").await;
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(reply);
            break;
        }
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    }
    let limited = limited.expect("a 429 within 200 requests");
    limited.problem(429);
    let retry: u64 = limited
        .headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("a Retry-After in seconds");
    assert!((1..=60).contains(&retry), "{retry}");
    // The API with a token is not limited by it.
    editor.get("/api/v1/articles").await.expect(StatusCode::OK);
}

on_every_store!(responses_are_written_filed_favoured_and_rendered);
on_every_store!(bad_responses_are_refused_naming_the_field);
on_every_store!(suggestions_rank_responses_and_articles_by_the_last_inbound_message);
on_every_store!(the_public_search_needs_no_token_and_shows_public_articles_only);
on_every_store!(the_public_search_is_rate_limited_per_client);
