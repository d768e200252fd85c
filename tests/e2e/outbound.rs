//! Outbound calling over HTTP (OUT-1, OUT-2): a campaign and a list, entries imported from
//! CSV with a per-row report, the next contact for the assigned agent only, outcomes (an
//! unknown disposition, bad answers, a retry, a success), progress and the do-not-call list.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestServer};
use crate::on_every_store;
use crate::openapi_check::answers;

fn id(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_owned()
}

async fn outbound_calling_end_to_end(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let admin = t.admin();
    let demo = t.demo().clone();

    // A campaign; a bad one names its field.
    let bad = admin.post("/api/v1/campaigns", &json!({"name": " ", "purpose": "survey"})).await.problem(422);
    assert!(bad.to_string().contains("name"), "{bad}");
    let campaign = admin
        .post(
            "/api/v1/campaigns",
            &json!({"name": "Winter survey", "purpose": "survey",
            "qualification": [{"key": "budget", "label": "Budget", "type": "number"}]}),
        )
        .await
        .expect(StatusCode::CREATED);
    answers("a campaign", Method::POST, "/api/v1/campaigns", 201, &campaign);
    let campaign = id(&campaign);

    // A list assigned to the administrator, open all day.
    let lists = format!("/api/v1/campaigns/{campaign}/call-lists");
    let bad = admin.post(&lists, &json!({"name": "L", "max_attempts": 0})).await.problem(422);
    assert!(bad.to_string().contains("max_attempts"), "{bad}");
    let list = admin
        .post(
            &lists,
            &json!({"name": "Leads", "assignment": {"agents": [demo.admin]},
            "window": {"from": "00:00:00", "until": "23:59:59"}, "max_attempts": 3}),
        )
        .await
        .expect(StatusCode::CREATED);
    answers("a call list", Method::POST, &lists, 201, &list);
    let list = id(&list);

    let ada = admin
        .post(
            "/api/v1/customers",
            &json!({"name": "Ada Sortant",
            "identities": [{"type": "phone", "number": "+33 1 23 45 67 89"}]}),
        )
        .await
        .expect(StatusCode::CREATED);
    let bob = admin
        .post(
            "/api/v1/customers",
            &json!({"name": "Bob Sortant",
            "identities": [{"type": "phone", "number": "+33 1 98 76 54 32"}]}),
        )
        .await
        .expect(StatusCode::CREATED);
    let mute = admin.post("/api/v1/customers", &json!({"name": "Sans Téléphone"})).await.expect(StatusCode::CREATED);
    let (ada, bob, mute) = (id(&ada), id(&bob), id(&mute));
    let nobody = uuid::Uuid::now_v7();

    // CSV: two good rows, five refused ones, each named.
    let csv = format!(
        "customer,phone,priority,custom.note\n\
         {ada},,1,first\n\
         {bob},+33198765432,5,second\n\
         {mute},,,no phone\n\
         not-an-id,,,\n\
         {nobody},,,\n\
         {ada},+33 6 00 00 00 01,,\n\
         {bob},,1,2,3\n"
    );
    let import = format!("/api/v1/call-lists/{list}/entries/import");
    let send_csv = |body: String| admin.request(Method::POST, &import).header("content-type", "text/csv").body(body);
    let report = admin.send(send_csv(csv)).await.expect(StatusCode::OK);
    answers("an import report", Method::POST, &import, 200, &report);
    assert_eq!((report["rows"].as_u64(), report["imported"].as_u64()), (Some(7), Some(2)), "{report}");
    let refused: Vec<(u64, String)> = report["rejected"]
        .as_array()
        .expect("rejected rows")
        .iter()
        .map(|r| (r["row"].as_u64().unwrap_or_default(), r["field"].as_str().unwrap_or_default().to_owned()))
        .collect();
    assert_eq!(
        refused,
        [(3, "phone".into()), (4, "customer".into()), (5, "customer".into()), (6, "phone".into()), (7, "row".into())],
        "{report}"
    );
    let bad = admin.send(send_csv("who,phone\nx,y\n".into())).await.problem(422);
    assert!(bad.to_string().contains("header"), "{bad}");
    let entries = admin.get(&format!("/api/v1/call-lists/{list}/entries")).await.expect(StatusCode::OK);
    assert_eq!(entries.as_array().map(Vec::len), Some(2));

    // The next contact: only for the assigned; the highest priority first.
    let next = format!("/api/v1/call-lists/{list}/next");
    let alice = t.client_for(&demo.agent.to_string(), "agent").await;
    alice.post(&next, &json!({})).await.problem(403);
    let first = admin.post(&next, &json!({})).await.expect(StatusCode::OK);
    answers("the next contact", Method::POST, &next, 200, &first);
    assert_eq!(first["customer"], bob.as_str());
    assert_eq!(first["lease"]["agent"], demo.admin.to_string());
    let outcome = format!("/api/v1/call-lists/{list}/entries/{}/outcome", id(&first));

    // Bad outcomes are refused naming the field; nothing changes.
    let bad = admin.post(&outcome, &json!({"disposition": "maybe"})).await.problem(422);
    assert!(bad.to_string().contains("disposition"), "{bad}");
    let bad =
        admin.post(&outcome, &json!({"disposition": "success", "answers": {"budget": "lots"}})).await.problem(422);
    assert!(bad.to_string().contains("answers.budget"), "{bad}");
    alice.post(&outcome, &json!({"disposition": "success"})).await.problem(409);
    let done = admin.post(&outcome, &json!({"disposition": "success", "answers": {"budget": 1200}})).await;
    let done = done.expect(StatusCode::OK);
    answers("an outcome", Method::POST, &outcome, 200, &done);
    assert_eq!(
        (done["entry"]["state"].as_str(), done["entry"]["answers"]["budget"].as_i64()),
        (Some("closed"), Some(1200))
    );
    admin.post(&outcome, &json!({"disposition": "success"})).await.problem(409);

    // The second entry, retried later: then nothing is due.
    let second = admin.post(&next, &json!({})).await.expect(StatusCode::OK);
    assert_eq!(second["customer"], ada.as_str());
    let retry = format!("/api/v1/call-lists/{list}/entries/{}/outcome", id(&second));
    let r = admin.post(&retry, &json!({"disposition": "no_answer"})).await.expect(StatusCode::OK);
    assert_eq!(r["entry"]["attempts"], 1);
    let none = admin.send(admin.request(Method::POST, &next)).await;
    assert_eq!(none.status, StatusCode::NO_CONTENT, "{}", none.text);

    // Progress of the list and the campaign.
    for path in [format!("/api/v1/call-lists/{list}/progress"), format!("/api/v1/campaigns/{campaign}/progress")] {
        let p = admin.get(&path).await.expect(StatusCode::OK);
        answers("progress", Method::GET, &path, 200, &p);
        assert_eq!((p["total"].as_u64(), p["done"].as_u64(), p["pending"].as_u64()), (Some(2), Some(1), Some(1)));
        assert_eq!(
            (p["reachable"].as_u64(), p["succeeded"].as_u64(), p["success_rate"].as_f64()),
            (Some(1), Some(1), Some(1.0))
        );
    }

    // An inactive list hands out nothing (409), and the do-not-call list round trips.
    let got = admin.get(&format!("/api/v1/call-lists/{list}")).await;
    let etag = got.etag();
    admin.patch(&format!("/api/v1/call-lists/{list}"), &etag, &json!({"active": false})).await.expect(StatusCode::OK);
    admin.post(&next, &json!({})).await.problem(409);
    let bad = admin.post("/api/v1/do-not-call", &json!({"phone": "nope"})).await.problem(422);
    assert!(bad.to_string().contains("phone"), "{bad}");
    let dnc = admin.post("/api/v1/do-not-call", &json!({"phone": "01 23 45 67 89", "reason": "asked"})).await;
    assert_eq!(dnc.expect(StatusCode::OK)["phone"], "+33123456789");
    let listed = admin.get("/api/v1/do-not-call").await.expect(StatusCode::OK);
    assert_eq!(listed[0]["phone"], "+33123456789");
    alice.get("/api/v1/do-not-call").await.problem(403);
    let gone = admin.send(admin.request(Method::DELETE, "/api/v1/do-not-call/+33123456789")).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{}", gone.text);
    admin.send(admin.request(Method::DELETE, "/api/v1/do-not-call/+33123456789")).await.problem(404);
    admin.get(&format!("/api/v1/call-lists/{nobody}")).await.problem(404);
}
on_every_store!(outbound_calling_end_to_end);

/// A disposition that puts the number on the do-not-call list (the default `do_not_call`
/// code): the entry closes, the number is listed, and another list's entry for the same
/// number is never handed out. Such a code on a retry is refused naming its field.
async fn a_do_not_call_disposition_lists_the_number(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let admin = t.admin();
    let demo = t.demo().clone();
    let campaign = admin
        .post("/api/v1/campaigns", &json!({"name": "Renewals", "purpose": "marketing"}))
        .await
        .expect(StatusCode::CREATED);
    let lists = format!("/api/v1/campaigns/{}/call-lists", id(&campaign));
    let bad = admin
        .post(
            &lists,
            &json!({"name": "Bad", "outcomes": [
                {"code": "later", "reached": false, "action": "retry", "after_minutes": 5, "do_not_call": true}]}),
        )
        .await
        .problem(422);
    assert!(bad.to_string().contains("outcomes[0].do_not_call"), "{bad}");
    let new_list = |name: &str| {
        json!({"name": name, "assignment": {"agents": [demo.admin]},
            "window": {"from": "00:00:00", "until": "23:59:59"}})
    };
    let first = id(&admin.post(&lists, &new_list("First")).await.expect(StatusCode::CREATED));
    let second = id(&admin.post(&lists, &new_list("Second")).await.expect(StatusCode::CREATED));
    let cara = admin
        .post(
            "/api/v1/customers",
            &json!({"name": "Cara Nepas", "identities": [{"type": "phone", "number": "+33 1 44 55 66 77"}]}),
        )
        .await
        .expect(StatusCode::CREATED);
    for list in [&first, &second] {
        let report = admin
            .post(&format!("/api/v1/call-lists/{list}/entries"), &json!({"entries": [{"customer": id(&cara)}]}))
            .await
            .expect(StatusCode::OK);
        assert_eq!(report["imported"], 1, "{report}");
    }
    let entry = admin.post(&format!("/api/v1/call-lists/{first}/next"), &json!({})).await.expect(StatusCode::OK);
    let outcome = format!("/api/v1/call-lists/{first}/entries/{}/outcome", id(&entry));
    let done = admin.post(&outcome, &json!({"disposition": "do_not_call"})).await.expect(StatusCode::OK);
    answers("an outcome", Method::POST, &outcome, 200, &done);
    assert_eq!((done["entry"]["state"].as_str(), done["do_not_call"].as_bool()), (Some("closed"), Some(true)));
    let listed = admin.get("/api/v1/do-not-call").await.expect(StatusCode::OK);
    assert_eq!(listed[0]["phone"], "+33144556677", "{listed}");
    assert!(listed[0]["reason"].as_str().is_some_and(|r| r.contains("do_not_call")), "{listed}");
    let none = admin.send(admin.request(Method::POST, &format!("/api/v1/call-lists/{second}/next"))).await;
    assert_eq!(none.status, StatusCode::NO_CONTENT, "the number is on the list: {}", none.text);
}
on_every_store!(a_do_not_call_disposition_lists_the_number);

/// An entry's calling zone: the entry's own, else the customer's profile (the text custom
/// field `time_zone`), else the phone number's region.
async fn an_entry_takes_the_customers_own_time_zone(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let admin = t.admin();
    let field = json!({"entity": "customer", "key": "time_zone", "label": "Time zone", "field_type": {"type": "text"}});
    admin.post("/api/v1/custom-fields", &field).await.expect(StatusCode::CREATED);
    let campaign = admin
        .post("/api/v1/campaigns", &json!({"name": "Zones", "purpose": "survey"}))
        .await
        .expect(StatusCode::CREATED);
    let list = admin
        .post(&format!("/api/v1/campaigns/{}/call-lists", id(&campaign)), &json!({"name": "Zoned"}))
        .await
        .expect(StatusCode::CREATED);
    let (expat, local) = (
        json!({"name": "Expat Eve", "identities": [{"type": "phone", "number": "+33 1 45 00 00 01"}],
               "custom": {"time_zone": "America/Chicago"}}),
        json!({"name": "Local Luc", "identities": [{"type": "phone", "number": "+33 1 45 00 00 02"}]}),
    );
    let mut zones = Vec::new();
    for body in [expat, local] {
        let customer = admin.post("/api/v1/customers", &body).await.expect(StatusCode::CREATED);
        let path = format!("/api/v1/call-lists/{}/entries", id(&list));
        admin.post(&path, &json!({"entries": [{"customer": customer["id"]}]})).await.expect(StatusCode::OK);
        let page = admin.get(&path).await.expect(StatusCode::OK);
        let entry = page.as_array().expect("entries").iter().find(|e| e["customer"] == customer["id"]).cloned();
        zones.push(entry.expect("the entry")["zone"].as_str().unwrap_or_default().to_owned());
    }
    assert_eq!(zones, ["America/Chicago", "Europe/Paris"]);
}
on_every_store!(an_entry_takes_the_customers_own_time_zone);
