//! The webhook delivery benchmark (EXT-3, `docs/benchmarks.md`): 50 subscriptions to a
//! local receiver. Three measures:
//! - latency at a steady rate: customers created at `CRM_BENCH_WEBHOOK_RATE` events per
//!   second (default 40: 2,000 deliveries per second across the 50 subscriptions, the
//!   throughput target), each delivery's change-to-delivery time (receipt minus the
//!   event's timestamp);
//! - latency of a burst: the same number of customers created at once by 4 concurrent
//!   clients (the queue's length, not the path's: deliveries wait their turn);
//! - throughput: a backlog of events built while the receiver fails, then drained once it
//!   answers (deliveries per second from the first to the last accepted one).
//!
//! Runs only when asked:
//!
//! ```text
//! CRM_BENCH_WEBHOOKS=1 CRM_BENCH_WEBHOOK_EVENTS=400 cargo test -p crm-e2e --release --test e2e -- \
//!     webhooks_bench --nocapture
//! ```

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::helpers::{Api, Backend, TestDb, start_on};

#[derive(Clone, Debug, Default)]
struct Sink {
    ok: Arc<AtomicBool>,
    /// (receipt instant, change-to-delivery latency) of each accepted delivery.
    got: Arc<Mutex<Vec<(Instant, chrono::Duration)>>>,
}

impl Respond for Sink {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        if !self.ok.load(Ordering::Relaxed) {
            return ResponseTemplate::new(500);
        }
        let now = crm_core::time::Clock::now(&crm_core::time::SystemClock);
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap_or_default();
        let at = body["timestamp"].as_str().and_then(|t| DateTime::parse_from_rfc3339(t).ok());
        let latency = at.map_or(chrono::Duration::zero(), |t| now - t.with_timezone(&Utc));
        self.got.lock().expect("sink").push((Instant::now(), latency));
        ResponseTemplate::new(204)
    }
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

async fn create_customers(api: &Api, n: usize, tag: &str) {
    let lanes: Vec<_> = (0..4)
        .map(|lane| {
            let api = api.clone();
            let tag = tag.to_owned();
            tokio::spawn(async move {
                for i in (lane..n).step_by(4) {
                    api.post("/api/v1/customers", &json!({"name": format!("Bench {tag} {i}")}))
                        .await
                        .expect(StatusCode::CREATED);
                }
            })
        })
        .collect();
    for l in lanes {
        l.await.expect("lane");
    }
}

async fn wait_for(sink: &Sink, n: usize, within: Duration) {
    let deadline = Instant::now() + within;
    while sink.got.lock().expect("sink").len() < n {
        assert!(Instant::now() < deadline, "{} of {n} deliveries in {within:?}", sink.got.lock().expect("sink").len());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Prints the change-to-delivery latencies the sink got.
fn report(sink: &Sink, what: &str, backend: &Backend) {
    let mut latencies: Vec<i64> =
        sink.got.lock().expect("sink").iter().map(|(_, l)| l.num_microseconds().unwrap_or(i64::MAX)).collect();
    latencies.sort_unstable();
    let pct = |p: usize| latencies[(latencies.len() * p / 100).min(latencies.len() - 1)] as f64 / 1_000.0;
    println!(
        "webhooks latency [{backend:?}], {what}: {} deliveries: change-to-delivery median {:.1} ms, p99 {:.1} ms, \
         max {:.1} ms",
        latencies.len(),
        pct(50),
        pct(99),
        latencies[latencies.len() - 1] as f64 / 1_000.0
    );
}

async fn bench(backend: Backend) {
    let events = env("CRM_BENCH_WEBHOOK_EVENTS", 400);
    let subscriptions = env("CRM_BENCH_WEBHOOK_SUBSCRIPTIONS", 50);
    let db = TestDb::fresh(&backend).await;
    let server = start_on(&db.url, true).await;
    let admin = Api::new(&server.url(), Some(&server.demo.as_ref().expect("demo").admin_token));
    let sink = Sink::default();
    sink.ok.store(true, Ordering::Relaxed);
    let mock = MockServer::start().await;
    Mock::given(method("POST")).respond_with(sink.clone()).mount(&mock).await;
    for i in 0..subscriptions {
        admin
            .post(
                "/api/v1/webhooks",
                &json!({"url": format!("{}/hook/{i}", mock.uri()), "event_types": ["customer.*"]}),
            )
            .await
            .expect(StatusCode::CREATED);
    }

    // Latency at a steady rate.
    let rate = env("CRM_BENCH_WEBHOOK_RATE", 40).max(1);
    let paced = Instant::now();
    let writes: Vec<_> = (0..events)
        .map(|i| {
            let api = admin.clone();
            let at = paced + Duration::from_secs_f64(i as f64 / rate as f64);
            tokio::spawn(async move {
                tokio::time::sleep_until(at.into()).await;
                api.post("/api/v1/customers", &json!({"name": format!("Bench paced {i}")}))
                    .await
                    .expect(StatusCode::CREATED);
            })
        })
        .collect();
    for w in writes {
        w.await.expect("paced write");
    }
    wait_for(&sink, events * subscriptions, Duration::from_secs(600)).await;
    report(&sink, &format!("paced at {rate} events/s ({} deliveries/s)", rate * subscriptions), &backend);

    // Latency of a burst.
    sink.got.lock().expect("sink").clear();
    create_customers(&admin, events, "latency").await;
    wait_for(&sink, events * subscriptions, Duration::from_secs(600)).await;
    report(&sink, "a burst", &backend);

    // Throughput: a backlog drained.
    sink.got.lock().expect("sink").clear();
    sink.ok.store(false, Ordering::Relaxed);
    create_customers(&admin, events, "backlog").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    sink.ok.store(true, Ordering::Relaxed);
    wait_for(&sink, events * subscriptions, Duration::from_secs(900)).await;
    let got = sink.got.lock().expect("sink").clone();
    let first = got.iter().map(|(t, _)| *t).min().expect("deliveries");
    let last = got.iter().map(|(t, _)| *t).max().expect("deliveries");
    let secs = (last - first).as_secs_f64().max(1e-3);
    println!(
        "webhooks throughput [{backend:?}]: {} deliveries ({events} events x {subscriptions}) drained in {secs:.2} s: \
         {:.0} deliveries/s, {:.0} events/s fully delivered",
        got.len(),
        got.len() as f64 / secs,
        events as f64 / secs
    );
    server.stop().await.expect("stop");
}

/// Whether the benchmark was asked for (`CRM_BENCH_WEBHOOKS=1`); otherwise it says so.
fn asked(test: &str) -> bool {
    let on = std::env::var("CRM_BENCH_WEBHOOKS").is_ok();
    if !on {
        eprintln!("{test}: skipped (set CRM_BENCH_WEBHOOKS=1 to run the benchmark)");
    }
    on
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn webhooks_bench_sqlite() {
    if asked("webhooks_bench_sqlite") {
        bench(Backend::Sqlite).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn webhooks_bench_postgres() {
    if !asked("webhooks_bench_postgres") {
        return;
    }
    if let Some(pg) = Backend::postgres("webhooks_bench_postgres") {
        bench(pg).await;
    }
}
