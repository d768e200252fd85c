//! The webhook chaos run of issue 31 (EXT-3): the real `crm-server` binary (see
//! `crate::process`) delivers the events of thousands of changes to a receiver written
//! here, over raw HTTP/1.1 on a socket, that verifies every Standard Webhooks signature and
//! answers at random: 2xx, 5xx, no answer within the server's timeout, or a connection
//! closed without an answer. Meanwhile the server is killed with SIGKILL twice, each time
//! right after a third of the changes, and started again on the same database.
//!
//! What must hold, once every event came through:
//! - every event of every change is received and accepted at least once, and none is
//!   invented: per customer, exactly its creation and its renames;
//! - every copy of an event (a retry, a resend after a kill) carries the same `webhook-id`
//!   and the same body;
//! - per-aggregate order: take each customer's events in event order (their `timestamp`,
//!   then id: the server's order). The first accepted receipt of each comes after the first
//!   accepted receipt of the one before, and no copy of an event at all (accepted or not)
//!   arrives before the one before was accepted once: the server never sends an event while
//!   an earlier one of its aggregate is unacknowledged;
//! - every signature verifies; the server's delivery log ends with nothing pending.
//!
//! Size: `CRM_CHAOS_EVENTS` changes (default 600: 60 customers × 10 changes; the issue's
//! run is `CRM_CHAOS_EVENTS=10000`), in 10 changes per customer.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crm_core::webhook::sign::verify;

use crate::helpers::{Api, Backend, TestDb};
use crate::on_both_backends;
use crate::process::{ServerProcess, free_port, server_binary};

/// Changes per customer: its creation, then renames.
const CHANGES_PER_CUSTOMER: usize = 10;
/// The server's timeout towards the receiver (`[webhooks] timeout_secs`).
const SERVER_TIMEOUT: Duration = Duration::from_secs(1);

/// What the receiver did with one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fate {
    /// 200.
    Accepted,
    /// 500 or 503.
    Failed,
    /// Held past the server's timeout, then closed unanswered.
    Stalled,
    /// Closed at once, unanswered.
    Closed,
}

/// One request the receiver read.
#[derive(Clone, Debug)]
struct Receipt {
    id: String,
    body: String,
    fate: Fate,
}

#[derive(Debug, Default)]
struct Inner {
    secret: Option<String>,
    seed: u64,
    log: Vec<Receipt>,
    bad_signatures: Vec<String>,
}

/// The receiver: checks every request's signature and picks its fate (about 60 % accepted,
/// 20 % 5xx, 10 % stalled, 10 % closed). Before it knows the secret it answers 503 and
/// logs nothing (the subscription's first events may come before its creation returns).
#[derive(Clone, Debug, Default)]
struct Receiver(Arc<Mutex<Inner>>);

impl Receiver {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.0.lock().expect("receiver lock")
    }

    async fn start(&self) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the receiver");
        let addr = listener.local_addr().expect("receiver address");
        let receiver = self.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(receiver.clone().connection(socket));
            }
        });
        format!("http://{addr}/hook")
    }

    /// Decides and logs one request's fate.
    fn receive(&self, headers: &HashMap<String, String>, body: &str) -> Option<Fate> {
        let header = |name: &str| headers.get(name).cloned().unwrap_or_default();
        let (id, signature) = (header("webhook-id"), header("webhook-signature"));
        let timestamp: i64 = header("webhook-timestamp").parse().unwrap_or_default();
        let mut inner = self.lock();
        let secret = inner.secret.clone()?;
        if !verify(&secret, &signature, &id, timestamp, body) {
            inner.bad_signatures.push(format!("{id}: {signature}"));
        }
        // xorshift: the same run of fates for the same order of requests.
        let mut x = inner.seed;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        inner.seed = x;
        let fate = match x % 100 {
            0..60 => Fate::Accepted,
            60..80 => Fate::Failed,
            80..90 => Fate::Stalled,
            _ => Fate::Closed,
        };
        inner.log.push(Receipt { id, body: body.to_owned(), fate });
        Some(fate)
    }

    /// Serves one connection: requests one after the other (keep-alive) until a fate
    /// closes it.
    async fn connection(self, mut socket: TcpStream) {
        let mut buf: Vec<u8> = Vec::new();
        loop {
            let head_end = loop {
                if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    break i + 4;
                }
                match socket.read_buf(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
            };
            let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
            let headers: HashMap<String, String> = head
                .lines()
                .skip(1)
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
                .collect();
            let length: usize = headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
            while buf.len() < head_end + length {
                match socket.read_buf(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
            }
            let body = String::from_utf8_lossy(&buf[head_end..head_end + length]).into_owned();
            buf.drain(..head_end + length);
            let answer = match self.receive(&headers, &body) {
                None => "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 8\r\n\r\nnot yet\n",
                Some(Fate::Accepted) => "HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nok\n",
                Some(Fate::Failed) if body.len().is_multiple_of(2) => {
                    "HTTP/1.1 500 Internal Server Error\r\ncontent-length: 5\r\n\r\nboom\n"
                }
                Some(Fate::Failed) => "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 5\r\n\r\nbusy\n",
                Some(Fate::Stalled) => {
                    tokio::time::sleep(SERVER_TIMEOUT + Duration::from_millis(500)).await;
                    return;
                }
                Some(Fate::Closed) => return,
            };
            if socket.write_all(answer.as_bytes()).await.is_err() {
                return;
            }
        }
    }
}

fn chaos_changes() -> usize {
    std::env::var("CRM_CHAOS_EVENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(600).max(CHANGES_PER_CUSTOMER)
}

/// One customer of the run: its id and the `ETag` of its last version.
#[derive(Clone, Debug)]
struct Customer {
    id: String,
    etag: String,
}

/// Makes changes `from..to` (0 = the creation) of every customer: 8 writers, each one's
/// customers in turn, each customer's changes one after the other.
async fn write_changes(api: &Api, customers: &mut [Option<Customer>], from: usize, to: usize) {
    let lanes: Vec<_> = (0..8)
        .map(|lane| {
            let api = api.clone();
            let mine: Vec<(usize, Option<Customer>)> =
                customers.iter().enumerate().skip(lane).step_by(8).map(|(i, c)| (i, c.clone())).collect();
            tokio::spawn(async move {
                let mut done = Vec::new();
                for (i, mut customer) in mine {
                    for n in from..to {
                        customer = Some(match customer {
                            None => {
                                let reply = api.post("/api/v1/customers", &json!({"name": format!("Chaos {i}")})).await;
                                let etag = reply.etag();
                                let body = reply.expect(StatusCode::CREATED);
                                Customer { id: body["id"].as_str().expect("id").to_owned(), etag }
                            }
                            Some(c) => {
                                let path = format!("/api/v1/customers/{}", c.id);
                                let reply = api.patch(&path, &c.etag, &json!({"name": format!("Chaos {i}.{n}")})).await;
                                let etag = reply.etag();
                                reply.expect(StatusCode::OK);
                                Customer { id: c.id, etag }
                            }
                        });
                    }
                    done.push((i, customer));
                }
                done
            })
        })
        .collect();
    for lane in lanes {
        for (i, customer) in lane.await.expect("writer") {
            customers[i] = customer;
        }
    }
}

/// Waits until every change's event has been accepted once (or panics after `within`).
async fn wait_accepted(receiver: &Receiver, ours: &HashSet<String>, expected: usize, within: Duration) {
    let deadline = Instant::now() + within;
    let (mut accepted, mut scanned) = (HashSet::new(), 0);
    loop {
        let fresh: Vec<Receipt> = receiver.lock().log[scanned..].to_vec();
        scanned += fresh.len();
        for r in fresh {
            if r.fate == Fate::Accepted && ours.contains(&customer_of(&r)) {
                accepted.insert(r.id);
            }
        }
        if accepted.len() >= expected {
            return;
        }
        assert!(Instant::now() < deadline, "{} of {expected} events accepted in {within:?}", accepted.len());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn customer_of(r: &Receipt) -> String {
    let body: Value = serde_json::from_str(&r.body).unwrap_or(Value::Null);
    body["data"]["customer"].as_str().unwrap_or_default().to_owned()
}

async fn every_event_arrives_in_aggregate_order_across_a_failing_receiver_and_two_kill_9(backend: Backend) {
    let Some(bin) = server_binary("the webhook chaos test") else { return };
    let changes = chaos_changes();
    let customers_n = changes / CHANGES_PER_CUSTOMER;
    let expected = customers_n * CHANGES_PER_CUSTOMER;
    let started = Instant::now();
    let receiver = Receiver::default();
    receiver.lock().seed = 0x2545_f491_4f6c_dd1d;
    let hook = receiver.start().await;

    let db = TestDb::fresh(&backend).await;
    let work = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let config = work.path().join("crm.toml");
    std::fs::write(
        &config,
        format!(
            "database_url = \"{}\"\nlisten = \"127.0.0.1:{port}\"\n\n\
             [attachments]\nstore = \"fs\"\ndir = \"{}\"\n\n\
             [webhooks]\nallow_loopback = true\ntimeout_secs = {}\nlease_secs = 3\npoll_interval_ms = 20\n\
             retry_first_delay_ms = 50\nretry_max_delay_ms = 400\nbreaker_cooldown_ms = 100\n",
            db.url,
            work.path().join("blobs").display(),
            SERVER_TIMEOUT.as_secs(),
        ),
    )
    .expect("write the configuration");

    let mut server = ServerProcess::start(&bin, &config, port);
    let token = server.token.clone().expect("the first start prints the demo administrator's token");
    let api = Api::new(&server.url, Some(&token));
    let created = api
        .post("/api/v1/webhooks", &json!({"url": hook, "event_types": ["customer.*"], "description": "chaos"}))
        .await
        .expect(StatusCode::CREATED);
    let webhook = created["webhook"]["id"].as_str().expect("id").to_owned();
    receiver.lock().secret = Some(created["secret"].as_str().expect("secret shown once").to_owned());

    // Three thirds of the changes; a kill -9 after each of the first two, deliveries in
    // flight, then the same binary on the same database.
    let mut customers: Vec<Option<Customer>> = vec![None; customers_n];
    let thirds = [0, CHANGES_PER_CUSTOMER / 3, 2 * CHANGES_PER_CUSTOMER / 3, CHANGES_PER_CUSTOMER];
    for (third, window) in thirds.windows(2).enumerate() {
        write_changes(&api, &mut customers, window[0], window[1]).await;
        if third < 2 {
            tokio::time::sleep(Duration::from_millis(150)).await;
            let before = receiver.lock().log.len();
            server.kill_9();
            server = ServerProcess::start(&bin, &config, port);
            assert!(server.token.is_none(), "a restart seeds nothing");
            eprintln!("chaos: kill -9 #{} after {before} requests received", third + 1);
        }
    }
    let ours: HashSet<String> = customers.iter().map(|c| c.as_ref().expect("written").id.clone()).collect();
    let within = Duration::from_secs(120 + 60 * (expected as u64 / 1_000));
    wait_accepted(&receiver, &ours, expected, within).await;
    let took = started.elapsed();

    let (log, bad) = {
        let inner = receiver.lock();
        (inner.log.clone(), inner.bad_signatures.clone())
    };
    assert!(bad.is_empty(), "every signature verifies: {bad:?}");

    // Same id, same body on every copy.
    let mut bodies: HashMap<&str, &str> = HashMap::new();
    for r in &log {
        let first = bodies.entry(r.id.as_str()).or_insert(r.body.as_str());
        assert_eq!(*first, r.body, "every copy of {} is the same event", r.id);
        let body: Value = serde_json::from_str(&r.body).expect("a JSON body");
        assert_eq!(body["id"].as_str(), Some(r.id.as_str()), "webhook-id is the event id");
    }

    // Per customer: exactly its changes, each accepted, in event order.
    let mut events: HashMap<String, Vec<(String, String, String)>> = HashMap::new();
    for (id, body) in &bodies {
        let body: Value = serde_json::from_str(body).expect("a JSON body");
        let customer = body["data"]["customer"].as_str().unwrap_or_default().to_owned();
        if ours.contains(&customer) {
            let at = body["timestamp"].as_str().expect("timestamp").to_owned();
            let kind = body["type"].as_str().expect("type").to_owned();
            events.entry(customer).or_default().push((at, (*id).to_owned(), kind));
        }
    }
    assert_eq!(events.len(), customers_n, "every customer's events came");
    let (mut seen, mut taken): (HashMap<&str, usize>, HashMap<&str, usize>) = (HashMap::new(), HashMap::new());
    for (i, r) in log.iter().enumerate() {
        seen.entry(r.id.as_str()).or_insert(i);
        if r.fate == Fate::Accepted {
            taken.entry(r.id.as_str()).or_insert(i);
        }
    }
    let first_seen = |id: &str| seen.get(id).copied().expect("received");
    let first_accepted = |id: &str| taken.get(id).copied().expect("accepted once at least");
    for (customer, list) in &mut events {
        list.sort();
        let kinds: Vec<&str> = list.iter().map(|(_, _, k)| k.as_str()).collect();
        assert_eq!(kinds.len(), CHANGES_PER_CUSTOMER, "{customer}: none missing, none invented: {kinds:?}");
        assert_eq!(kinds[0], "customer.created", "{customer}: {kinds:?}");
        assert!(kinds[1..].iter().all(|k| *k == "customer.updated"), "{customer}: {kinds:?}");
        for pair in list.windows(2) {
            let (earlier, later) = (&pair[0].1, &pair[1].1);
            assert!(pair[0].0 < pair[1].0, "{customer}: two events at one instant: {pair:?}");
            assert!(
                first_accepted(earlier) < first_accepted(later),
                "{customer}: {later} was accepted before {earlier}, which comes first"
            );
            assert!(
                first_accepted(earlier) < first_seen(later),
                "{customer}: {later} was sent before {earlier} was accepted"
            );
        }
    }

    // The server's log agrees, once it has recorded the last answers.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let pending = api
            .get(&format!("/api/v1/webhooks/{webhook}/deliveries?status=pending&limit=10"))
            .await
            .expect(StatusCode::OK);
        if pending.as_array().is_some_and(Vec::is_empty) {
            break;
        }
        assert!(Instant::now() < deadline, "deliveries still pending after every event came: {pending}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let count = |fate| log.iter().filter(|r| r.fate == fate).count();
    let (accepted, failed, stalled, closed) =
        (count(Fate::Accepted), count(Fate::Failed), count(Fate::Stalled), count(Fate::Closed));
    let duplicates = accepted - bodies.len().min(accepted);
    eprintln!(
        "chaos [{backend:?}]: {expected} changes in {took:.1?}: {} requests ({accepted} accepted, {failed} 5xx, \
         {stalled} stalled, {closed} closed), {duplicates} accepted more than once",
        log.len()
    );
    assert!(failed > 0 && stalled > 0 && closed > 0, "every failure happened");
    drop(server);
}
on_both_backends!(every_event_arrives_in_aggregate_order_across_a_failing_receiver_and_two_kill_9);
