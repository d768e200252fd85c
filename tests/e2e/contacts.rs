//! Organisations and leads over HTTP (issue 27, INT-7): CRUD with ETags, members with a
//! cursor, the organisation lookup beside the customer screen pop, name search, a lead and
//! a customer created during an interaction, a lead converted keeping its interactions,
//! bad input naming the field, and another tenant's records answering 404.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crm_core::service::NewTenant;
use crm_server::seed::bootstrap_tenant;

use crate::helpers::{Api, Backend, TestServer};
use crate::on_every_store;
use crate::openapi_check::answers;

/// The administrator of a second tenant of the same server.
async fn other_tenant_admin(t: &TestServer) -> Api {
    let other = bootstrap_tenant(
        &t.server.services,
        NewTenant { name: "Other Center".into(), default_region: "FR".into(), time_zone: "Europe/Paris".into() },
        "Olga Other",
        "olga@other.example",
    )
    .await
    .expect("second tenant");
    Api::new(&t.server.url(), Some(&other.token))
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_owned()
}

/// Every item of a paged list, following `next`, each page checked against the document.
async fn walk(api: &Api, path: &str, limit: u32) -> Vec<Value> {
    let mut items = Vec::new();
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut url = format!("{path}{sep}limit={limit}");
    loop {
        let page = api.get(&url).await.expect(StatusCode::OK);
        answers("a page", Method::GET, &url, 200, &page);
        items.extend(page["items"].as_array().cloned().unwrap_or_default());
        match page["next"].as_str() {
            Some(next) => url = format!("{path}{sep}limit={limit}&cursor={next}"),
            None => return items,
        }
    }
}

async fn organisations_have_cards_members_and_a_lookup(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let admin = t.admin();
    let body = json!({"name": "Société Générale d'Essai", "registration": "RCS 552 120 222",
        "identities": [{"type": "phone", "number": "01 42 14 20 00"}, {"type": "email", "address": "accueil@sge.example"}],
        "addresses": [{"lines": ["29 boulevard Haussmann"], "city": "Paris", "country": "fr"}], "notes": "grand compte"});
    let created = admin.post("/api/v1/organisations", &body).await;
    let etag = created.etag();
    let org = created.expect(StatusCode::CREATED);
    answers("a new organisation", Method::POST, "/api/v1/organisations", 201, &org);
    let org_id = id(&org);
    let path = format!("/api/v1/organisations/{org_id}");
    assert_eq!(admin.get(&path).await.expect(StatusCode::OK), org);
    admin
        .post("/api/v1/organisations", &json!({"name": "Other", "registration": "x"}))
        .await
        .expect(StatusCode::CREATED);

    // Three members, listed two by two; one with an open case.
    let mut members = Vec::new();
    for name in ["Anne Membre", "Bruno Membre", "Chloé Membre"] {
        let c = admin.post("/api/v1/customers", &json!({"name": name})).await.expect(StatusCode::CREATED);
        let set = admin
            .send_if_match(
                Method::PUT,
                &format!("/api/v1/customers/{}/organisation", id(&c)),
                "\"1\"",
                &json!({"organisation": org_id}),
            )
            .await
            .expect(StatusCode::OK);
        answers("a membership", Method::PUT, &format!("/api/v1/customers/{}/organisation", id(&c)), 200, &set);
        assert_eq!(set["organisation"]["id"], org_id.as_str());
        members.push(id(&c));
    }
    let case = admin
        .post("/api/v1/cases", &json!({"customer": members[1], "subject": "Contrat cadre"}))
        .await
        .expect(StatusCode::CREATED);
    let listed: Vec<String> = walk(&admin, &format!("{path}/members"), 2).await.iter().map(id).collect();
    let mut sorted = members.clone();
    sorted.sort();
    assert_eq!(listed, sorted);

    let card = admin.get(&format!("{path}/card")).await.expect(StatusCode::OK);
    answers("an organisation card", Method::GET, &format!("{path}/card"), 200, &card);
    assert_eq!(card["members"].as_array().map(Vec::len), Some(3));
    assert_eq!(card["open_cases"][0]["id"], case["id"]);

    // The organisation lookup by phone (another written form) and email; the customer
    // screen pop keeps its shape (a list of customer cards) and finds no customer.
    for q in ["phone=%2B33142142000", "email=ACCUEIL%40sge.example"] {
        let url = format!("/api/v1/lookup/organisations?{q}");
        let found = admin.get(&url).await.expect(StatusCode::OK);
        answers("an organisation lookup", Method::GET, &url, 200, &found);
        assert_eq!(found[0]["organisation"]["id"], org_id.as_str(), "{q}");
    }
    assert_eq!(admin.get("/api/v1/lookup?phone=%2B33142142000").await.expect(StatusCode::OK), json!([]));
    let none = admin.get("/api/v1/lookup/organisations?phone=%2B33199999999").await.expect(StatusCode::OK);
    assert_eq!(none, json!([]));

    // Name search.
    let found = walk(&admin, "/api/v1/organisations?q=gener%20soc", 10).await;
    assert_eq!(found.iter().map(id).collect::<Vec<_>>(), vec![org_id.clone()]);

    // Edit with If-Match; bad input names the field.
    let patched = admin.patch(&path, &etag, &json!({"name": "SGE", "notes": ""})).await.expect(StatusCode::OK);
    answers("a changed organisation", Method::PATCH, &path, 200, &patched);
    assert_eq!((patched["name"].as_str(), patched["notes"].as_str()), (Some("SGE"), None));
    admin.patch(&path, &etag, &json!({"name": "again"})).await.problem(412);
    let bad = admin
        .post("/api/v1/organisations", &json!({"name": " ", "identities": [{"type": "email", "address": "x"}]}))
        .await
        .problem(422);
    let text = bad.to_string();
    assert!(text.contains("\"name\"") && text.contains("identities[0].address"), "{bad}");
    let bad = admin.get("/api/v1/organisations?q=%20-%20").await.problem(422);
    assert!(bad.to_string().contains("\"q\""), "{bad}");
    let nobody = uuid::Uuid::now_v7();
    let bad = admin
        .send_if_match(
            Method::PUT,
            &format!("/api/v1/customers/{}/organisation", members[0]),
            "\"1\"",
            &json!({"organisation": nobody}),
        )
        .await
        .problem(422);
    assert!(bad.to_string().contains("organisation"), "{bad}");
    admin.get(&format!("/api/v1/organisations/{nobody}")).await.problem(404);
    let bad = admin.get("/api/v1/organisations/not-a-uuid").await.problem(422);
    assert!(bad.to_string().contains("\"id\""), "{bad}");

    // Deleting with members is a conflict; after they leave, it goes.
    let now = admin.get(&path).await;
    let etag = now.etag();
    admin.send(admin.request(Method::DELETE, &path).header("if-match", etag.as_str())).await.problem(409);
    for m in &members {
        let left = admin
            .send_if_match(
                Method::PUT,
                &format!("/api/v1/customers/{m}/organisation"),
                "\"1\"",
                &json!({"organisation": null}),
            )
            .await
            .expect(StatusCode::OK);
        assert_eq!(left["organisation"], Value::Null);
    }
    let gone = admin.send(admin.request(Method::DELETE, &path).header("if-match", etag.as_str())).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{}", gone.text);
    admin.get(&path).await.problem(404);

    // Another tenant sees nothing.
    let other = other_tenant_admin(&t).await;
    let mine = admin
        .post(
            "/api/v1/organisations",
            &json!({"name": "Privée", "identities": [{"type": "email", "address": "p@privee.example"}]}),
        )
        .await
        .expect(StatusCode::CREATED);
    other.get(&format!("/api/v1/organisations/{}", id(&mine))).await.problem(404);
    other.get(&format!("/api/v1/organisations/{}/members", id(&mine))).await.problem(404);
    assert_eq!(
        other.get("/api/v1/lookup/organisations?email=p%40privee.example").await.expect(StatusCode::OK),
        json!([])
    );
    assert!(walk(&other, "/api/v1/organisations?q=privee", 10).await.is_empty());
}
on_every_store!(organisations_have_cards_members_and_a_lookup);

async fn leads_are_created_in_interactions_and_converted_keeping_them(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let admin = t.admin();
    let new_interaction = || async {
        let reply = admin.post("/api/v1/interactions", &json!({"channel": "chat", "direction": "inbound"})).await;
        let etag = reply.etag();
        (id(&reply.expect(StatusCode::CREATED)), etag)
    };

    // A lead during an interaction: linked at once; a stale interaction version is a 412.
    let (inter, etag) = new_interaction().await;
    let lead_path = format!("/api/v1/interactions/{inter}/lead");
    let body = json!({"name": "Ada Prospect", "source": "salon", "identities": [{"type": "email", "address": "ada@prospect.example"}]});
    admin.post_if_match(&lead_path, "\"9\"", &body).await.problem(412);
    let lead = admin.post_if_match(&lead_path, &etag, &body).await.expect(StatusCode::CREATED);
    answers("a lead from an interaction", Method::POST, &lead_path, 201, &lead);
    assert_eq!((lead["status"].as_str(), lead["source"].as_str()), (Some("new"), Some("salon")));
    let lead_id = id(&lead);
    let linked = admin.get(&format!("/api/v1/interactions/{inter}")).await.expect(StatusCode::OK);
    assert_eq!(linked["links"][0]["target"], json!({"type": "lead", "id": lead_id}));

    // The same lead linked to a second interaction through the links endpoint.
    let (second, etag2) = new_interaction().await;
    let relinked = admin
        .post_if_match(&format!("/api/v1/interactions/{second}/links"), &etag2, &json!({"type": "lead", "id": lead_id}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(relinked["links"][0]["target"]["id"], lead_id.as_str());

    // Qualification: the state machine names `status`.
    let lead_url = format!("/api/v1/leads/{lead_id}");
    let read = admin.get(&lead_url).await;
    let etag = read.etag();
    assert_eq!(read.expect(StatusCode::OK)["interactions"], json!([inter, second]));
    let bad = admin.patch(&lead_url, &etag, &json!({"status": "converted"})).await.problem(422);
    assert!(bad.to_string().contains("status"), "{bad}");
    let bad = admin.patch(&lead_url, &etag, &json!({"status": "won"})).await.problem(422);
    assert!(bad.to_string().contains("status"), "{bad}");
    let qualified = admin.patch(&lead_url, &etag, &json!({"status": "qualified"})).await;
    let etag = qualified.etag();
    answers("a qualified lead", Method::PATCH, &lead_url, 200, &qualified.expect(StatusCode::OK));
    let listed = walk(&admin, "/api/v1/leads?status=qualified", 5).await;
    assert_eq!(listed.iter().map(id).collect::<Vec<_>>(), vec![lead_id.clone()]);
    assert!(walk(&admin, "/api/v1/leads?status=new", 5).await.is_empty());

    // Conversion: a customer with the lead's identities and both interactions on its card.
    let convert = format!("{lead_url}/convert");
    admin.post_if_match(&convert, "\"1\"", &json!({})).await.problem(412);
    let done = admin.post_if_match(&convert, &etag, &json!({})).await.expect(StatusCode::CREATED);
    answers("a lead conversion", Method::POST, &convert, 201, &done);
    assert_eq!(
        (done["lead"]["status"].as_str(), done["lead"]["converted_to"].clone()),
        (Some("converted"), done["customer"]["id"].clone())
    );
    let customer = id(&done["customer"]);
    let history = walk(&admin, &format!("/api/v1/customers/{customer}/interactions"), 5).await;
    let mut ids: Vec<String> = history.iter().map(id).collect();
    ids.sort();
    let mut expected = vec![inter.clone(), second.clone()];
    expected.sort();
    assert_eq!(ids, expected, "the lead's interactions are on the new card");
    let pop = admin.get("/api/v1/lookup?email=ada%40prospect.example").await.expect(StatusCode::OK);
    assert_eq!(pop[0]["customer"]["id"], customer.as_str());
    let etag = admin.get(&lead_url).await.etag();
    admin.post_if_match(&convert, &etag, &json!({})).await.problem(409);

    // A local customer during an interaction.
    let (third, etag3) = new_interaction().await;
    let customer_path = format!("/api/v1/interactions/{third}/customer");
    let bad = admin.post_if_match(&customer_path, &etag3, &json!({"name": ""})).await.problem(422);
    assert!(bad.to_string().contains("\"name\""), "{bad}");
    let made =
        admin.post_if_match(&customer_path, &etag3, &json!({"name": "Bea Locale"})).await.expect(StatusCode::CREATED);
    answers("a customer from an interaction", Method::POST, &customer_path, 201, &made);
    let on_card = walk(&admin, &format!("/api/v1/customers/{}/interactions", id(&made)), 5).await;
    assert_eq!(on_card.iter().map(id).collect::<Vec<_>>(), vec![third.clone()]);

    // Another tenant sees none of it.
    let other = other_tenant_admin(&t).await;
    other.get(&lead_url).await.problem(404);
    assert!(walk(&other, "/api/v1/leads", 5).await.is_empty());
    other
        .post_if_match(&format!("/api/v1/interactions/{third}/lead"), "\"3\"", &json!({"name": "x"}))
        .await
        .problem(404);
}
on_every_store!(leads_are_created_in_interactions_and_converted_keeping_them);
