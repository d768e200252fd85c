//! Tasks over HTTP (TSK-1, TSK-3): delete with `If-Match`, the tasks of a customer and of a
//! case page by page, 404 for unknown owners, and an agenda that pages past any size.

use chrono::Duration;
use crm_core::time::{Clock as _, SystemClock};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Api, Backend, TestServer};
use crate::on_every_store;
use crate::openapi_check::answers;

/// Every item of a paged list, following `next`.
async fn walk(api: &Api, path: &str, limit: u32) -> Vec<Value> {
    let mut items = Vec::new();
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut url = format!("{path}{sep}limit={limit}");
    loop {
        let page = api.get(&url).await.expect(StatusCode::OK);
        answers("a page of tasks", Method::GET, &url, 200, &page);
        // A list page has `items`; an agenda page its three buckets.
        let got: Vec<Value> = ["items", "overdue", "due", "upcoming"]
            .iter()
            .filter_map(|k| page[*k].as_array())
            .flatten()
            .cloned()
            .collect();
        assert!(got.len() <= usize::try_from(limit).unwrap_or(usize::MAX));
        items.extend(got);
        match page["next"].as_str() {
            Some(next) => url = format!("{path}{sep}limit={limit}&cursor={next}"),
            None => return items,
        }
    }
}

fn subjects(items: &[Value]) -> Vec<String> {
    let mut s: Vec<String> = items.iter().map(|t| t["subject"].as_str().unwrap_or_default().to_owned()).collect();
    s.sort();
    s
}

async fn tasks_are_listed_deleted_and_the_agenda_has_no_cap(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let admin = t.admin();
    let customer = admin.post("/api/v1/customers", &json!({"name": "Tâches Liste"})).await.expect(StatusCode::CREATED);
    let customer = customer["id"].as_str().expect("customer id").to_owned();
    let case = admin
        .post("/api/v1/cases", &json!({"customer": customer, "subject": "Tasks of a case"}))
        .await
        .expect(StatusCode::CREATED);
    let case = case["id"].as_str().expect("case id").to_owned();
    let start = SystemClock.now() + Duration::days(400);
    let mut created = Vec::new();
    for i in 0..7_i64 {
        let mut body = json!({"kind": "call", "subject": format!("task {i}"), "customer": customer,
            "scheduled": {"at": (start + Duration::minutes(i)).to_rfc3339()}});
        if i % 2 == 0 {
            body["case"] = json!(case);
        }
        let reply = admin.post("/api/v1/tasks", &body).await;
        let etag = reply.etag();
        created.push((reply.expect(StatusCode::CREATED), etag));
    }

    let of_customer = walk(&admin, &format!("/api/v1/customers/{customer}/tasks"), 3).await;
    assert_eq!(subjects(&of_customer), (0..7).map(|i| format!("task {i}")).collect::<Vec<_>>());
    let times: Vec<&str> = of_customer.iter().filter_map(|t| t["scheduled_at"].as_str()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "by schedule: {times:?}");
    let of_case = walk(&admin, &format!("/api/v1/cases/{case}/tasks"), 2).await;
    assert_eq!(subjects(&of_case), ["task 0", "task 2", "task 4", "task 6"]);

    // The admin's agenda: every one of its planned tasks, two per page (no cap).
    let agenda = walk(&admin, "/api/v1/agenda", 2).await;
    let ours: Vec<Value> = agenda.into_iter().filter(|t| t["customer"] == customer.as_str()).collect();
    assert_eq!(ours.len(), 7, "the agenda pages through every task");

    // Unknown owners are 404, a bad cursor a 422 naming it.
    let nobody = uuid::Uuid::now_v7();
    admin.get(&format!("/api/v1/customers/{nobody}/tasks")).await.problem(404);
    admin.get(&format!("/api/v1/cases/{nobody}/tasks")).await.problem(404);
    let bad = admin.get(&format!("/api/v1/customers/{customer}/tasks?cursor=zz")).await.problem(422);
    assert!(bad.to_string().contains("cursor"), "{bad}");

    // Delete: If-Match required, a stale one refused, then gone (404 after).
    let (first, etag) = &created[0];
    let path = format!("/api/v1/tasks/{}", first["id"].as_str().expect("task id"));
    admin.send(admin.request(Method::DELETE, &path)).await.problem(428);
    admin.send(admin.request(Method::DELETE, &path).header("if-match", "\"99\"")).await.problem(412);
    let deleted = admin.send(admin.request(Method::DELETE, &path).header("if-match", etag.as_str())).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
    admin.get(&path).await.problem(404);
    admin.send(admin.request(Method::DELETE, &path).header("if-match", etag.as_str())).await.problem(404);
    let of_customer = walk(&admin, &format!("/api/v1/customers/{customer}/tasks"), 50).await;
    assert_eq!(of_customer.len(), 6);

    // An agent may not delete someone else's task without `case.assign`.
    let demo = t.demo().clone();
    let alice = t.client_for(&demo.agent.to_string(), "agent").await;
    let (second, etag) = &created[1];
    let path = format!("/api/v1/tasks/{}", second["id"].as_str().expect("task id"));
    alice.send(alice.request(Method::DELETE, &path).header("if-match", etag.as_str())).await.problem(403);
}
on_every_store!(tasks_are_listed_deleted_and_the_agenda_has_no_cap);

/// A deleted case is hidden (get, number, list, card) but keeps its history; an
/// administrator restores it (a history entry too); an agent may not; a live case is no
/// restore target.
async fn a_deleted_case_is_hidden_and_restored_by_an_administrator(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let admin = t.admin();
    let customer = admin.post("/api/v1/customers", &json!({"name": "Cas Supprimé"})).await.expect(StatusCode::CREATED);
    let customer = customer["id"].as_str().expect("customer id").to_owned();
    let created = admin.post("/api/v1/cases", &json!({"customer": customer, "subject": "To be deleted"})).await;
    let etag = created.etag();
    let case = created.expect(StatusCode::CREATED);
    let (id, number) =
        (case["id"].as_str().expect("id").to_owned(), case["number"].as_str().expect("number").to_owned());
    let path = format!("/api/v1/cases/{id}");

    let deleted = admin.send(admin.request(Method::DELETE, &path).header("if-match", etag.as_str())).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
    let deleted_etag = deleted.etag();
    admin.get(&path).await.problem(404);
    admin.get(&format!("/api/v1/cases/by-number/{number}")).await.problem(404);
    let listed = admin.get(&format!("/api/v1/cases?customer={customer}")).await.expect(StatusCode::OK);
    assert_eq!(listed["items"], json!([]));
    let card = admin.get(&format!("/api/v1/customers/{customer}/card")).await.expect(StatusCode::OK);
    assert_eq!(card["open_cases"], json!([]));
    admin.get(&format!("{path}/history")).await.problem(404);

    // An agent cannot restore; a stale version is refused.
    let demo = t.demo().clone();
    let alice = t.client_for(&demo.agent.to_string(), "agent").await;
    alice.post_if_match(&format!("{path}/restore"), &deleted_etag, &json!({})).await.problem(403);
    admin.post_if_match(&format!("{path}/restore"), "\"1\"", &json!({})).await.problem(412);
    let restored = admin.post_if_match(&format!("{path}/restore"), &deleted_etag, &json!({})).await;
    let body = restored.expect(StatusCode::OK);
    answers("a restored case", Method::POST, &format!("{path}/restore"), 200, &body);
    assert_eq!(body["deleted_at"], Value::Null);
    assert_eq!(body["number"], number.as_str(), "the number is kept");
    admin.get(&path).await.expect(StatusCode::OK);
    let history = admin.get(&format!("{path}/history")).await.expect(StatusCode::OK);
    let marks: Vec<&Value> =
        history.as_array().expect("history").iter().filter(|e| e["field"] == "deleted_at").collect();
    assert_eq!(marks.len(), 2, "the deletion and the restore are in the history: {history}");
    assert_eq!(marks[1]["new"], Value::Null);

    // A live case is not restorable (422 naming `case`); an unknown one is 404.
    let live = admin.post_if_match(&format!("{path}/restore"), &restored.etag(), &json!({})).await.problem(422);
    assert!(live.to_string().contains("case"), "{live}");
    let nobody = uuid::Uuid::now_v7();
    admin.post_if_match(&format!("/api/v1/cases/{nobody}/restore"), "\"1\"", &json!({})).await.problem(404);
}
on_every_store!(a_deleted_case_is_hidden_and_restored_by_an_administrator);
