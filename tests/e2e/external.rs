//! External CRMs over HTTP (EXT-1, INT-6, INT-7): the screen-pop search in the tenant's
//! external CRM, a contact created there during a call and linked at once, a case asked for
//! while the remote is down queued (202) and linked by the worker, and the call's activity
//! pushed exactly once to each after wrap-up; a remote failure is a 502/503 problem
//! naming the system and the operation, with the remote's `Retry-After` passed on.

use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;

use crm_core::ConnectorError;
use crm_core::external::{ExternalObject, ExternalRecord, ExternalRef, ExternalSystem};
use crm_core::ids::TenantId;
use crm_core::ports::ExternalCrm;
use crm_core::service::ConnectorDirectory;
use crm_server::connectors::Connectors;
use crm_testkit::FakeExternalCrm;

use crate::helpers::{Api, Backend, TestServer};
use crate::on_both_backends;
use crate::openapi_check::answers;

/// Every tenant uses the same fake Salesforce; no other product is configured.
struct FakeSalesforce(Arc<FakeExternalCrm>);

impl ConnectorDirectory for FakeSalesforce {
    fn connector(&self, _: TenantId, system: ExternalSystem) -> Option<Arc<dyn ExternalCrm>> {
        (system == ExternalSystem::Salesforce).then(|| self.0.clone() as Arc<dyn ExternalCrm>)
    }
}

/// A GET the server answers with a 5xx problem (which `Api::send` refuses): the problem
/// (documented under the `5XX` problem response) and its `Retry-After`.
async fn gateway_problem(api: &Api, path: &str, status: u16) -> (serde_json::Value, Option<String>) {
    let response = api.request(Method::GET, path).send().await.expect("request sent");
    assert_eq!(response.status().as_u16(), status);
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_owned);
    assert_eq!(content_type.as_deref(), Some("application/problem+json"));
    let retry_after = response.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let problem: serde_json::Value = response.json().await.expect("a problem document");
    assert_eq!(problem["status"].as_u64(), Some(u64::from(status)));
    (problem, retry_after)
}

async fn external_crm_search_create_and_push(backend: Backend) {
    let fake = Arc::new(FakeExternalCrm::new(ExternalSystem::Salesforce));
    fake.add_record(ExternalRecord {
        reference: ExternalRef {
            system: ExternalSystem::Salesforce,
            object: ExternalObject::Contact,
            id: "003A".into(),
        },
        name: "Jeanne Dupont".into(),
        phones: vec!["+33 1 23 45 67 89".into()],
        emails: vec![],
        account: None,
        url: None,
    });
    let t = TestServer::start_with(&backend, Connectors::from_directory(Arc::new(FakeSalesforce(fake.clone())))).await;
    let api = t.admin();

    let found = api.get("/api/v1/external/salesforce/lookup?phone=01%2023%2045%2067%2089").await.expect(StatusCode::OK);
    assert_eq!(found[0]["reference"]["id"], "003A");
    answers("external records", Method::GET, "/api/v1/external/salesforce/lookup", 200, &found);
    fake.fail_next(1, || ConnectorError::RateLimited {
        system: "salesforce".into(),
        retry_after: Some(Duration::from_secs(60)),
    });
    let lookup = "/api/v1/external/salesforce/lookup?phone=01%2023%2045%2067%2089";
    let (problem, retry_after) = gateway_problem(&api, lookup, 503).await;
    assert_eq!(retry_after.as_deref(), Some("60"));
    assert!(problem["detail"].as_str().is_some_and(|d| d.starts_with("salesforce search: ")), "{problem}");
    fake.fail_next(1, || ConnectorError::Auth {
        system: "salesforce".into(),
        message: "invalid_grant: user hasn't approved this consumer".into(),
    });
    let (refused, _) = gateway_problem(&api, lookup, 502).await;
    assert!(
        refused["detail"].as_str().is_some_and(|d| d.contains("salesforce search") && d.contains("invalid_grant")),
        "{refused}"
    );
    api.get("/api/v1/external/dynamics/lookup?phone=0123456789").await.problem(422);
    api.get("/api/v1/external/sugarcrm/lookup?phone=0123456789").await.problem(422);

    let pop = api.post("/api/v1/cti/calls", &json!({"phone": "+33 1 44 27 00 00"})).await.expect(StatusCode::CREATED);
    let path = format!("/api/v1/interactions/{}", pop["interaction"]["id"].as_str().expect("id"));
    let read = api.get(&path).await;
    let accepted = api.post_if_match(&format!("{path}/actions"), &read.etag(), &json!({"action": "accept"})).await;
    accepted.expect(StatusCode::OK);
    fake.fail_next(1, || ConnectorError::Rejected {
        system: "salesforce".into(),
        code: "REQUIRED_FIELD_MISSING".into(),
        message: "Company is required".into(),
        field: Some("Company".into()),
    });
    let refused = api
        .post_if_match(
            &format!("{path}/external/salesforce"),
            &accepted.etag(),
            &json!({"kind": "lead", "last_name": "Curie"}),
        )
        .await
        .problem(422);
    assert_eq!(refused["errors"][0]["field"], "external.Company");
    // The interaction lists the refused create (its version moved: read it again); it stays
    // listed, so its key is never given to another create.
    let read = api.get(&path).await;
    let listed = read.expect(StatusCode::OK)["external_creates"].clone();
    assert!(listed[0]["refused"].as_str().is_some_and(|r| r.contains("REQUIRED_FIELD_MISSING")), "{listed}");
    let created = api
        .post_if_match(
            &format!("{path}/external/salesforce"),
            &read.etag(),
            &json!({"kind": "contact", "first_name": "Marie", "last_name": "Curie", "phone": "+33144270000"}),
        )
        .await;
    let body = created.expect(StatusCode::CREATED);
    assert_eq!(body["reference"]["object"], "contact");
    answers("a created external record", Method::POST, &format!("{path}/external/salesforce"), 201, &body);
    let links = body["interaction"]["links"].as_array().expect("links").clone();
    assert!(links.iter().any(|l| l["target"]["type"] == "external"), "{links:?}");
    api.post_if_match(&format!("{path}/external/salesforce"), &read.etag(), &json!({"kind": "lead", "last_name": "X"}))
        .await
        .problem(412);
    // The remote is down: the create is accepted, queued, and linked by the worker.
    fake.fail_next(1, FakeExternalCrm::transport_error);
    let queued = api
        .post_if_match(
            &format!("{path}/external/salesforce"),
            &created.etag(),
            &json!({"kind": "case", "subject": "Billing", "priority": "normal", "origin": "voice"}),
        )
        .await;
    let pending = queued.expect(StatusCode::ACCEPTED);
    answers("a queued external record", Method::POST, &format!("{path}/external/salesforce"), 202, &pending);
    assert!(pending["reason"].as_str().is_some_and(|r| r.contains("injected transport failure")), "{pending}");
    let key = pending["key"].as_str().expect("key").to_owned();
    assert!(key.ends_with("-case-1"), "{key}");
    assert_eq!(pending["interaction"]["external_creates"][1]["key"], key.as_str());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let linked = loop {
        let now = api.get(&path).await;
        let body = now.expect(StatusCode::OK);
        let cases =
            body["links"].as_array().into_iter().flatten().filter(|l| l["target"]["reference"]["object"] == "case");
        let left = body["external_creates"].as_array().map(Vec::len);
        if cases.count() == 1 && left == Some(1) {
            break now;
        }
        assert!(tokio::time::Instant::now() < deadline, "the queued case was never linked: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(fake.created().iter().filter(|(_, r)| r.object == ExternalObject::Case).count(), 1);

    let ended = api.post_if_match(&format!("{path}/actions"), &linked.etag(), &json!({"action": "end"})).await;
    let closed =
        api.post_if_match(&format!("{path}/actions"), &ended.etag(), &json!({"action": "complete_wrap_up"})).await;
    assert_eq!(closed.expect(StatusCode::OK)["state"], "closed");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while fake.activities().len() < 2 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let pushed = fake.activities();
    assert_eq!(pushed.len(), 2, "the call's activity is pushed once to each linked record: {pushed:?}");
    assert!(pushed.iter().any(|p| p.target.id == body["reference"]["id"].as_str().expect("id")));
    t.server.stop().await.expect("clean stop");
}

on_both_backends!(external_crm_search_create_and_push);
