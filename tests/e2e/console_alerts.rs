//! Alerts on the console's customer card and screen pop (issue 32, GUI-2): the core's
//! alerts with their severity in words, message and suggestion, on the card page, in the
//! pop's fragment and on the interaction panel; none for a customer no rule concerns; French labels.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::console::Browser;
use crate::helpers::{Backend, TestServer};
use crate::on_every_store;

async fn alerts_show_on_the_card_and_the_pop(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let demo = t.demo().clone();
    let api = t.admin();
    let vip = json!({"entity": "customer", "key": "vip", "label": "VIP", "field_type": {"type": "boolean"}});
    api.post("/api/v1/custom-fields", &vip).await.expect(StatusCode::CREATED);
    let body = json!({"name": "Vera Important", "identities": [{"type": "phone", "number": "+33 6 11 22 33 44"}],
                      "custom": {"vip": true}});
    let vera =
        api.post("/api/v1/customers", &body).await.expect(StatusCode::CREATED)["id"].as_str().expect("id").to_owned();
    let read = api.get("/api/v1/alert-rules").await;
    let rules = json!({"rules": [
        {"name": "vip", "severity": "critical", "message": "VIP customer", "suggestion": "offer the retention script",
         "condition": {"field": "customer.vip", "op": "equals", "value": true}}
    ]});
    api.send_if_match(Method::PUT, "/api/v1/alert-rules", &read.etag(), &rules).await.expect(StatusCode::OK);

    let mut b = Browser::new(&t.server.url());
    assert_eq!(b.sign_in("admin@demo.example", &demo.admin_password).await, StatusCode::SEE_OTHER);
    let (status, _, html) = b.get(&format!("/console/customers/{vera}")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains(r#"<div class="alert severity-critical" role="alert" data-rule="vip">"#), "{html}");
    assert!(html.contains(r#"<span class="badge severity">Critical</span> <span class="message">VIP customer</span>"#));
    assert!(html.contains("Suggestion: offer the retention script"), "{html}");

    // The screen pop's card carries it too; Jeanne's (no rule concerns her) none.
    let pop = api
        .post("/api/v1/cti/calls", &json!({"phone": "+33611223344", "agent": demo.admin}))
        .await
        .expect(StatusCode::CREATED);
    let id = pop["interaction"]["id"].as_str().expect("id");
    let (status, _, html) = b.get(&format!("/console/pop/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains(r#"data-rule="vip""#) && html.contains("VIP customer"), "{html}");
    let (status, _, html) = b.get(&format!("/console/interactions/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains(r#"data-rule="vip""#), "and on the interaction panel: {html}");
    let pop = api.post("/api/v1/cti/calls", &json!({"phone": "+33 1 23 45 67 89"})).await.expect(StatusCode::CREATED);
    let id = pop["interaction"]["id"].as_str().expect("id");
    let (_, _, html) = b.get(&format!("/console/pop/{id}")).await;
    assert!(html.contains("Jeanne Dupont") && !html.contains("data-rule="), "{html}");

    // French labels.
    let res = b.request(Method::GET, &format!("/console/customers/{vera}")).header("accept-language", "fr").send();
    let html = res.await.expect("sent").text().await.unwrap_or_default();
    assert!(html.contains(">Critique<") && html.contains("Suggestion : offer the retention script"), "{html}");
    t.server.stop().await.expect("clean stop");
}
on_every_store!(alerts_show_on_the_card_and_the_pop);
