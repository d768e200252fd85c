//! The audit log over HTTP (ADM-4): a pseudo-random sequence of API writes, some refused,
//! leaves exactly one entry per accepted write, with the request's id, channel, address
//! and token; the chain verifies; the log pages, filters and exports as JSON Lines and
//! CSV for administrators only.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Api, Backend, TestServer};
use crate::on_every_store;
use crate::openapi_check::answers;

/// Sends `method path body` with a request id and the console's channel header.
async fn send(
    api: &Api,
    method: Method,
    path: &str,
    request_id: &str,
    etag: Option<&str>,
    body: &Value,
) -> crate::helpers::Reply {
    let mut r =
        api.request(method, path).header("x-request-id", request_id).header("x-crm-channel", "console").json(body);
    if let Some(etag) = etag {
        r = r.header("if-match", etag);
    }
    api.send(r).await
}

/// Every line of a JSON Lines export.
async fn export_jsonl(api: &Api, query: &str) -> Vec<Value> {
    let reply = api.get(&format!("/api/v1/audit/export{query}")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let ct = reply.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert_eq!(ct, "application/jsonl");
    reply.text.lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect()
}

async fn every_api_write_is_audited_once_and_only_administrators_read_it(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let admin = t.admin();
    let demo = t.demo();
    // A small deterministic generator: the sequence differs per op index, not per run.
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut customers: Vec<(String, String)> = Vec::new();
    let mut accepted = Vec::new();
    for n in 0..24 {
        let rid = format!("audit-e2e-{n}");
        let reply = match (next() % 5, customers.is_empty()) {
            (0, _) | (_, true) => {
                let name = if next() % 4 == 0 { String::new() } else { format!("Audit {n}") };
                let r = send(&admin, Method::POST, "/api/v1/customers", &rid, None, &json!({"name": name})).await;
                if r.status == StatusCode::CREATED {
                    let id = r.expect(StatusCode::CREATED)["id"].as_str().expect("id").to_owned();
                    customers.push((id, r.etag()));
                }
                r
            }
            (1 | 2, false) => {
                let (id, _) = &customers[usize::try_from(next() % customers.len() as u64).unwrap_or(0)];
                let subject = if next() % 4 == 0 { " " } else { "Audited case" };
                send(&admin, Method::POST, "/api/v1/cases", &rid, None, &json!({"customer": id, "subject": subject}))
                    .await
            }
            _ => {
                let i = usize::try_from(next() % customers.len() as u64).unwrap_or(0);
                let (id, etag) = customers[i].clone();
                let r = send(
                    &admin,
                    Method::PATCH,
                    &format!("/api/v1/customers/{id}"),
                    &rid,
                    Some(&etag),
                    &json!({"name": format!("Renamed {n}")}),
                )
                .await;
                if r.status == StatusCode::OK {
                    customers[i].1 = r.etag();
                }
                r
            }
        };
        if reply.status.is_success() {
            accepted.push(rid);
        } else {
            assert!(reply.status.is_client_error(), "{}", reply.text);
        }
    }
    assert!(accepted.len() >= 12, "enough writes went through: {accepted:?}");

    // Exactly one entry per accepted write, in order, with its request.
    let all = export_jsonl(&admin, "").await;
    let ours: Vec<&Value> =
        all.iter().filter(|e| e["entry"]["request_id"].as_str().is_some_and(|r| r.starts_with("audit-e2e-"))).collect();
    let ids: Vec<&str> = ours.iter().filter_map(|e| e["entry"]["request_id"].as_str()).collect();
    assert_eq!(ids, accepted.iter().map(String::as_str).collect::<Vec<_>>());
    for e in &ours {
        assert_eq!(e["entry"]["channel"], "console", "{e}");
        assert_eq!(e["entry"]["source_ip"], "127.0.0.1", "{e}");
        assert_eq!(e["entry"]["actor"]["agent"], json!(demo.admin), "{e}");
        assert!(e["entry"]["actor"]["token"].is_string(), "{e}");
    }
    let renamed = ours.iter().find(|e| e["entry"]["action"] == "customer_updated");
    if let Some(e) = renamed {
        assert!(e["entry"]["changes"].as_array().is_some_and(|c| c.iter().any(|c| c["field"] == "name")), "{e}");
    }
    let seqs: Vec<u64> = all.iter().filter_map(|e| e["seq"].as_u64()).collect();
    assert_eq!(seqs, (seqs[0]..seqs[0] + seqs.len() as u64).collect::<Vec<_>>(), "chain order, no gap");
    let report = t.server.services.crm.verify_audit(demo.tenant, &mut |_| {}).await.expect("verify the chain");
    assert_eq!((report.broken, report.checked), (None, all.len() as u64));

    // Pages, filters and the document's shape.
    let path = "/api/v1/audit?action=case_created&limit=2";
    let page = admin.get(path).await.expect(StatusCode::OK);
    answers("a page of the audit log", Method::GET, path, 200, &page);
    let mut created = page["items"].as_array().expect("items").clone();
    let mut cursor = page["next"].as_str().map(str::to_owned);
    while let Some(c) = cursor {
        let page = admin.get(&format!("{path}&cursor={c}")).await.expect(StatusCode::OK);
        created.extend(page["items"].as_array().expect("items").iter().cloned());
        cursor = page["next"].as_str().map(str::to_owned);
    }
    let want = all.iter().filter(|e| e["entry"]["action"] == "case_created").count();
    assert_eq!(created.len(), want);
    let (id, _) = &customers[0];
    let on_one = export_jsonl(&admin, &format!("?target_kind=customer&target_id={id}")).await;
    assert!(!on_one.is_empty() && on_one.iter().all(|e| e["entry"]["target"]["id"] == json!(id)));

    // CSV: a header and one row per entry.
    let csv = admin.get("/api/v1/audit/export?format=csv").await;
    assert_eq!(csv.status, StatusCode::OK);
    let lines: Vec<&str> = csv.text.lines().collect();
    assert!(lines[0].starts_with("seq,id,at,"), "{}", lines[0]);
    assert!(lines.len() > all.len(), "a row per entry (entries written since included)");

    // Bad input is a 4xx naming the field.
    let bad = admin.get("/api/v1/audit?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z").await.problem(422);
    assert!(bad.to_string().contains("\"to\""), "{bad}");
    let bad = admin.get("/api/v1/audit/export?format=xml").await.problem(422);
    assert!(bad.to_string().contains("format"), "{bad}");
    let bad = admin.get("/api/v1/audit?cursor=garbage").await;
    assert!(bad.status.is_client_error(), "{}", bad.text);

    // Administrators only.
    let supervisor = t.client_for(&demo.supervisor.to_string(), "supervisor").await;
    supervisor.get("/api/v1/audit").await.problem(403);
    supervisor.get("/api/v1/audit/export").await.problem(403);
    Api::new(&t.server.url(), None).get("/api/v1/audit").await.problem(401);
}
on_every_store!(every_api_write_is_audited_once_and_only_administrators_read_it);

/// An administration write through the API (an agent renamed) is audited like any other:
/// `GET /api/v1/audit` lists it for an administrator, with its request, the changed name's
/// values before and after; a refused write (a stale `If-Match`) is not listed.
async fn an_agent_update_through_the_api_is_listed_in_the_audit_log(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let admin = t.admin();
    let demo = t.demo();
    let path = format!("/api/v1/agents/{}", demo.agent);
    let read = admin.get(&path).await;
    let etag = read.etag();
    let before = read.expect(StatusCode::OK)["name"].as_str().expect("a name").to_owned();
    let reply =
        send(&admin, Method::PATCH, &path, "audit-agent-1", Some(&etag), &json!({"name": "Renommé par l'audit"})).await;
    reply.expect(StatusCode::OK);
    let stale =
        send(&admin, Method::PATCH, &path, "audit-agent-stale", Some(&etag), &json!({"name": "Trop tard"})).await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED, "{}", stale.text);

    let query = format!("/api/v1/audit?action=agent_updated&target_kind=agent&target_id={}", demo.agent);
    let page = admin.get(&query).await.expect(StatusCode::OK);
    answers("a page of the audit log", Method::GET, &query, 200, &page);
    let items = page["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "one entry for the one accepted update: {page}");
    let e = &items[0]["entry"];
    assert_eq!(e["request_id"], "audit-agent-1", "{e}");
    assert_eq!(e["channel"], "console", "{e}");
    assert_eq!(e["actor"]["agent"], json!(demo.admin), "{e}");
    assert_eq!(e["target"], json!({"kind": "agent", "id": demo.agent}), "{e}");
    assert_eq!(e["changes"], json!([{"field": "name", "before": before, "after": "Renommé par l'audit"}]), "{e}");
    let report = t.server.services.crm.verify_audit(demo.tenant, &mut |_| {}).await.expect("verify the chain");
    assert_eq!(report.broken, None);

    // Not for a supervisor.
    let supervisor = t.client_for(&demo.supervisor.to_string(), "supervisor").await;
    supervisor.get(&query).await.problem(403);
}
on_every_store!(an_agent_update_through_the_api_is_listed_in_the_audit_log);
