//! Webhooks over HTTP (EXT-3) with a receiver written here that verifies every signature
//! (Standard Webhooks): subscriptions and their bad input, signed deliveries in
//! per-aggregate order, the delivery log, the test event, secret rotation (two signatures
//! during the overlap), replay; and a chaos run (2,000 changes, a receiver failing at
//! random): every event received at least once, the same id on duplicates, the order of
//! each aggregate kept.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crm_core::webhook::sign::verify;

use crate::helpers::{Api, Backend, TestServer};
use crate::on_every_store;
use crate::openapi_check::answers;

/// One request the receiver got.
#[derive(Clone, Debug)]
struct Received {
    id: String,
    body: Value,
    accepted: bool,
    signatures: usize,
}

#[derive(Debug, Default)]
struct Inner {
    secrets: Vec<String>,
    fail_percent: u64,
    seq: u64,
    log: Vec<Received>,
    bad_signatures: Vec<String>,
}

/// The receiver: checks every request's signature against every secret it was given (each
/// must verify), and fails `fail_percent` % of the requests at random (500, or a slow 503).
#[derive(Clone, Debug, Default)]
struct Receiver(Arc<Mutex<Inner>>);

impl Receiver {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.0.lock().expect("receiver lock")
    }

    fn trust(&self, secret: &str) {
        self.lock().secrets.push(secret.to_owned());
    }

    fn forget_all_but(&self, secret: &str) {
        self.lock().secrets.retain(|s| s == secret);
    }

    fn log(&self) -> Vec<Received> {
        self.lock().log.clone()
    }

    async fn mount(&self) -> MockServer {
        let server = MockServer::start().await;
        Mock::given(method("POST")).and(path("/hook")).respond_with(self.clone()).mount(&server).await;
        server
    }

    /// Waits until `done` holds for the log (or panics after `within`).
    async fn wait_for(&self, within: Duration, what: &str, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let log = self.log();
            if done(&log) {
                return log;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{what}: not received in {within:?} ({} requests)",
                log.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Respond for Receiver {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let header =
            |name: &str| request.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let (id, timestamp, signature) =
            (header("webhook-id"), header("webhook-timestamp"), header("webhook-signature"));
        let body = String::from_utf8_lossy(&request.body).into_owned();
        let mut inner = self.lock();
        let ts: i64 = timestamp.parse().unwrap_or_default();
        let verified = !inner.secrets.is_empty() && inner.secrets.iter().all(|s| verify(s, &signature, &id, ts, &body));
        if !verified {
            inner.bad_signatures.push(format!("{id}: {signature}"));
        }
        inner.seq += 1;
        let mut x = inner.seq.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        x ^= x >> 29;
        let roll = x % 100;
        let accepted = verified && roll >= inner.fail_percent;
        inner.log.push(Received {
            id,
            body: serde_json::from_str(&body).unwrap_or(Value::Null),
            accepted,
            signatures: signature.split(' ').count(),
        });
        if accepted {
            ResponseTemplate::new(204)
        } else if roll.is_multiple_of(7) {
            ResponseTemplate::new(503).set_delay(Duration::from_millis(300))
        } else {
            ResponseTemplate::new(500).set_body_string("receiver down")
        }
    }
}

/// The first accepted copy of each event, in the order they were accepted.
fn accepted(log: &[Received]) -> Vec<&Received> {
    let mut seen = HashSet::new();
    log.iter().filter(|r| r.accepted && seen.insert(r.id.clone())).collect()
}

async fn subscribe(api: &Api, url: &str, types: Value) -> (String, String) {
    let reply = api.post("/api/v1/webhooks", &json!({"url": url, "event_types": types, "description": "e2e"})).await;
    let body = reply.expect(StatusCode::CREATED);
    answers("a new webhook", Method::POST, "/api/v1/webhooks", 201, &body);
    let secret = body["secret"].as_str().expect("secret shown once").to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    (body["webhook"]["id"].as_str().expect("id").to_owned(), secret)
}

async fn webhooks_are_signed_ordered_logged_rotated_and_replayed(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let admin = t.admin();
    let receiver = Receiver::default();
    let mock = receiver.mount().await;
    let hook_url = format!("{}/hook", mock.uri());

    // The catalogue.
    let types = admin.get("/api/v1/webhooks/event-types").await.expect(StatusCode::OK);
    answers("the catalogue", Method::GET, "/api/v1/webhooks/event-types", 200, &types);
    assert!(types.as_array().expect("list").iter().any(|t| t["name"] == "case.created"));

    // Bad input names the field.
    for (body, field) in [
        (json!({"url": "https://169.254.169.254/latest", "event_types": ["*"]}), "url"),
        (json!({"url": "https://10.0.0.1/hook", "event_types": ["*"]}), "url"),
        (json!({"url": "http://hooks.example.com/hook", "event_types": ["*"]}), "url"),
        (json!({"url": "not a url", "event_types": ["*"]}), "url"),
        (json!({"url": hook_url, "event_types": ["case.exploded"]}), "event_types[0]"),
        (json!({"url": hook_url, "event_types": []}), "event_types"),
        (
            json!({"url": hook_url, "event_types": ["*"], "filter": {"all": [
            {"field": "type", "op": "equals", "value": "case.created"},
            {"field": "type", "op": "equals", "value": "case.updated"}]}}),
            "filter",
        ),
    ] {
        let problem = admin.post("/api/v1/webhooks", &body).await.problem(422);
        let fields: Vec<&str> =
            problem["errors"].as_array().into_iter().flatten().filter_map(|e| e["field"].as_str()).collect();
        assert!(fields.iter().any(|f| f.starts_with(field)), "{body}: {problem}");
    }

    let (id, secret) = subscribe(&admin, &hook_url, json!(["customer.*", "case.created"])).await;
    receiver.trust(&secret);
    let agent = t.client_for(&t.demo().agent.to_string(), "agent").await;
    agent.get(&format!("/api/v1/webhooks/{id}")).await.problem(403);

    // Changes: a customer created and renamed twice, a case.
    let customer = admin.post("/api/v1/customers", &json!({"name": "Hook Client"})).await;
    let mut etag = customer.etag();
    let customer = customer.expect(StatusCode::CREATED)["id"].as_str().expect("id").to_owned();
    for name in ["Hook Client II", "Hook Client III"] {
        let reply = admin.patch(&format!("/api/v1/customers/{customer}"), &etag, &json!({"name": name})).await;
        etag = reply.etag();
        reply.expect(StatusCode::OK);
    }
    admin.post("/api/v1/cases", &json!({"customer": customer, "subject": "Hooked"})).await.expect(StatusCode::CREATED);

    // Only this customer's events (the demo seed's may come too, written before).
    let ours = |log: &[Received]| -> Vec<Received> {
        accepted(log).into_iter().filter(|r| r.body["data"]["customer"] == customer.as_str()).cloned().collect()
    };
    let log = receiver.wait_for(Duration::from_secs(30), "four events", |log| ours(log).len() >= 4).await;
    let types: Vec<String> = ours(&log).iter().filter_map(|r| r.body["type"].as_str().map(str::to_owned)).collect();
    // In order per aggregate: the customer's three; the case's is another aggregate.
    let customer_types: Vec<&String> = types.iter().filter(|t| t.starts_with("customer.")).collect();
    assert_eq!(customer_types, ["customer.created", "customer.updated", "customer.updated"]);
    assert_eq!(types.iter().filter(|t| *t == "case.created").count(), 1, "{types:?}");
    for r in ours(&log) {
        assert_eq!(r.body["id"].as_str(), Some(r.id.as_str()), "webhook-id is the event id");
        assert_eq!(r.body["version"], 1);
        assert!(r.body["timestamp"].is_string() && r.body["data"].is_object(), "{}", r.body);
    }
    assert!(receiver.lock().bad_signatures.is_empty(), "{:?}", receiver.lock().bad_signatures);

    // The delivery log. The worker records an outcome after the receiver answered: the
    // receiver may hold an event whose delivery is not recorded yet, so wait for it.
    let ids: HashSet<String> = ours(&log).iter().map(|r| r.id.clone()).collect();
    let recorded = std::time::Instant::now() + Duration::from_secs(10);
    let deliveries = loop {
        let listed = admin.get(&format!("/api/v1/webhooks/{id}/deliveries")).await.expect(StatusCode::OK);
        answers("deliveries", Method::GET, &format!("/api/v1/webhooks/{id}/deliveries"), 200, &listed);
        let listed = listed.as_array().expect("list").clone();
        let done = listed
            .iter()
            .filter(|d| d["event"].as_str().is_some_and(|e| ids.contains(e)) && d["status"] == "delivered")
            .count();
        if done == 4 || std::time::Instant::now() > recorded {
            break listed;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let mine: Vec<&Value> =
        deliveries.iter().filter(|d| d["event"].as_str().is_some_and(|e| ids.contains(e))).collect();
    assert_eq!(mine.len(), 4, "{deliveries:?}");
    assert!(mine.iter().all(|d| d["status"] == "delivered"), "{deliveries:?}");
    let first = mine[3]["id"].as_str().expect("id").to_owned();
    let first_event = mine[3]["event"].as_str().expect("event").to_owned();
    let attempts = admin.get(&format!("/api/v1/webhook-deliveries/{first}/attempts")).await.expect(StatusCode::OK);
    assert_eq!(attempts[0]["outcome"], "delivered", "{attempts}");
    assert_eq!(attempts[0]["status"], 204);

    // The test event.
    let test = admin.post(&format!("/api/v1/webhooks/{id}/test"), &json!({})).await.expect(StatusCode::OK);
    assert_eq!(test["outcome"], "delivered", "{test}");

    // Rotation: both secrets sign during the overlap.
    let rotated = admin
        .post(&format!("/api/v1/webhooks/{id}/rotate-secret"), &json!({"overlap_hours": 1}))
        .await
        .expect(StatusCode::OK);
    let new_secret = rotated["secret"].as_str().expect("new secret").to_owned();
    assert_ne!(new_secret, secret);
    assert_eq!(rotated["webhook"]["signing_secrets"], 2);
    receiver.trust(&new_secret);
    let after = admin.post("/api/v1/customers", &json!({"name": "After Rotation"})).await.expect(StatusCode::CREATED);
    let after = after["id"].clone();
    let log = receiver
        .wait_for(Duration::from_secs(30), "the rotated event", |log| {
            log.iter().any(|r| r.body["data"]["customer"] == after)
        })
        .await;
    let rotated_event = log.iter().find(|r| r.body["data"]["customer"] == after).expect("received");
    assert_eq!(rotated_event.signatures, 2, "old and new secret sign during the overlap");
    assert!(receiver.lock().bad_signatures.is_empty());

    // Replay one delivery: the same id comes again.
    receiver.forget_all_but(&new_secret);
    let replayed =
        admin.post(&format!("/api/v1/webhooks/{id}/replay"), &json!({"delivery": first})).await.expect(StatusCode::OK);
    assert_eq!(replayed["replayed"], 1);
    receiver
        .wait_for(Duration::from_secs(30), "the replay", |log| log.iter().filter(|r| r.id == first_event).count() >= 2)
        .await;
    admin.post(&format!("/api/v1/webhooks/{id}/replay"), &json!({})).await.problem(422);
    admin.post(&format!("/api/v1/webhooks/{id}/replay"), &json!({"all_failed": true})).await.expect(StatusCode::OK);

    // Edit with If-Match, then delete.
    let current = admin.get(&format!("/api/v1/webhooks/{id}")).await;
    let etag = current.etag();
    let edited = admin
        .send_if_match(
            Method::PUT,
            &format!("/api/v1/webhooks/{id}"),
            &etag,
            &json!({"url": hook_url, "event_types": ["task.*"], "enabled": false}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!((edited["enabled"].clone(), edited["active"].clone()), (json!(false), json!(false)));
    admin
        .send_if_match(
            Method::PUT,
            &format!("/api/v1/webhooks/{id}"),
            &etag,
            &json!({"url": hook_url, "event_types": ["*"]}),
        )
        .await
        .problem(412);
    assert_eq!(admin.get("/api/v1/webhooks").await.expect(StatusCode::OK).as_array().map(Vec::len), Some(1));
    admin.request(Method::DELETE, &format!("/api/v1/webhooks/{id}")).send().await.expect("delete").status();
    admin.get(&format!("/api/v1/webhooks/{id}")).await.problem(404);
}
on_every_store!(webhooks_are_signed_ordered_logged_rotated_and_replayed);

/// Customers per chaos run, and changes per customer (a creation and renames).
const CHAOS_CUSTOMERS: usize = 100;
const CHAOS_CHANGES: usize = 20;

async fn chaos_every_event_arrives_in_order_despite_a_failing_receiver(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let admin = t.admin();
    let receiver = Receiver::default();
    receiver.lock().fail_percent = 30;
    let mock = receiver.mount().await;
    let (_, secret) = subscribe(&admin, &format!("{}/hook", mock.uri()), json!(["customer.*"])).await;
    receiver.trust(&secret);

    let tasks: Vec<_> = (0..8)
        .map(|lane| {
            let api = admin.clone();
            tokio::spawn(async move {
                let mut ids = Vec::new();
                for c in (lane..CHAOS_CUSTOMERS).step_by(8) {
                    let reply = api.post("/api/v1/customers", &json!({"name": format!("Chaos {c}")})).await;
                    let mut etag = reply.etag();
                    let id = reply.expect(StatusCode::CREATED)["id"].as_str().expect("id").to_owned();
                    for n in 1..CHAOS_CHANGES {
                        let reply = api
                            .patch(
                                &format!("/api/v1/customers/{id}"),
                                &etag,
                                &json!({"name": format!("Chaos {c}.{n}")}),
                            )
                            .await;
                        etag = reply.etag();
                        reply.expect(StatusCode::OK);
                    }
                    ids.push(id);
                }
                ids
            })
        })
        .collect();
    let mut customers = Vec::new();
    for t in tasks {
        customers.extend(t.await.expect("lane"));
    }
    let expected = CHAOS_CUSTOMERS * CHAOS_CHANGES;
    let ours: HashSet<String> = customers.iter().cloned().collect();
    let of_ours = |r: &&Received| r.body["data"]["customer"].as_str().is_some_and(|c| ours.contains(c));
    let log = receiver
        .wait_for(Duration::from_secs(240), "every chaos event", |log| {
            accepted(log).into_iter().filter(of_ours).count() >= expected
        })
        .await;
    assert!(receiver.lock().bad_signatures.is_empty(), "every signature verifies");
    let firsts: Vec<&Received> = accepted(&log).into_iter().filter(|r| of_ours(r)).collect();
    assert_eq!(firsts.len(), expected, "each event once at least, none invented");
    // Duplicates carry the same id and the same body.
    let mut bodies: HashMap<&str, &Value> = HashMap::new();
    for r in log.iter().filter(|r| r.accepted) {
        let seen = bodies.entry(r.id.as_str()).or_insert(&r.body);
        assert_eq!(*seen, &r.body, "a duplicate is the same event");
    }
    // Per aggregate, events are accepted in event order: the creation, then the renames.
    let mut per_customer: HashMap<String, Vec<String>> = HashMap::new();
    for r in &firsts {
        let customer = r.body["data"]["customer"].as_str().expect("customer").to_owned();
        per_customer.entry(customer).or_default().push(r.body["timestamp"].as_str().expect("ts").to_owned());
    }
    assert_eq!(per_customer.len(), CHAOS_CUSTOMERS);
    for (customer, times) in &per_customer {
        assert_eq!(times.len(), CHAOS_CHANGES, "{customer}");
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "{customer} out of order: {times:?}");
    }
    let failed = log.iter().filter(|r| !r.accepted).count();
    assert!(failed > expected / 10, "the receiver failed often enough to matter ({failed})");
}
on_every_store!(chaos_every_event_arrives_in_order_despite_a_failing_receiver);
