//! Search freshness (issue 29): how long after a write returns it is searchable, while
//! writes arrive at a steady rate. Run with
//! `CRM_BENCH_FRESHNESS=1 cargo bench -p crm-search --bench freshness`.
//!
//! The use cases on the memory store with the system clock and an on-disk index, the
//! indexer looping as the server's `search-indexer` worker does (a round; the idle interval
//! when it found nothing more). Before the measure, 1,000 customers are written through the
//! use cases and indexed, and the index gets `CRM_BENCH_CUSTOMERS` more customer documents
//! (default 100,000, another tenant's, written straight into the index: the memory store
//! checks a new customer against every other, too slow to seed 100,000). Then a writer creates customers at
//! `CRM_BENCH_WRITES_PER_S` (default 200) for `CRM_BENCH_SECONDS` (default 60), each with
//! its own email address; a prober looks for the oldest written customer not found yet
//! every millisecond (by its address, on the index), and for the next ones at once when
//! it is found: the latency of a write is the time from its return to the first search
//! that finds it. Only the change feed's reads are cheaper than on SQL (a memory store).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crm_core::customer::{IdentityInput, NewCustomer};
use crm_core::ids::TenantId;
use crm_core::ports::{DocumentKind, IndexChange, SearchDocument, SearchIndex, SearchQuery};
use crm_core::search::IndexerSettings;
use crm_core::service::Crm;
use crm_core::time::SystemClock;
use crm_search::TantivySearchIndex;
use crm_testkit::fixtures::World;
use tokio::sync::Mutex;
use uuid::Uuid;

/// Customers written through the use cases before the measure.
const STORE_SEED: u64 = 1_000;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn customer(n: u64) -> NewCustomer {
    NewCustomer {
        name: format!("Fresh Customer {n}"),
        identities: vec![IdentityInput::Email { address: email(n), label: None }],
        ..NewCustomer::default()
    }
}

fn email(n: u64) -> String {
    format!("fresh.{n}@bench.example")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1_000.0
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if std::env::var_os("CRM_BENCH_FRESHNESS").is_none() {
        eprintln!("freshness bench skipped: set CRM_BENCH_FRESHNESS=1 (see the file's header)");
        return;
    }
    let seed = env_or("CRM_BENCH_CUSTOMERS", 100_000);
    let rate = env_or("CRM_BENCH_WRITES_PER_S", 200).max(1);
    let seconds = env_or("CRM_BENCH_SECONDS", 60).max(1);
    let dir = tempfile::tempdir().expect("a temp dir");
    let index = Arc::new(TantivySearchIndex::open(dir.path()).expect("the index"));
    let world = World::new().await;
    let settings = IndexerSettings::default();
    let idle = settings.poll_interval;
    let crm = Crm::new(world.dyn_store(), Arc::new(SystemClock), world.dyn_ids())
        .with_search_index(index.clone() as Arc<dyn SearchIndex>, settings);

    let started = Instant::now();
    for n in 0..STORE_SEED {
        crm.create_customer(&world.admin, customer(n)).await.expect("a seed customer");
    }
    while crm.index_round().await.expect("the first rounds").more {}
    let elsewhere = TenantId::from_uuid(Uuid::from_u128(u128::MAX));
    for start in (0..seed).step_by(2_000) {
        let batch = (start..(start + 2_000).min(seed))
            .map(|n| {
                IndexChange::Upsert(SearchDocument {
                    tenant: elsewhere,
                    kind: DocumentKind::Customer,
                    id: Uuid::from_u128(u128::from(n) + 1),
                    title: format!("Other Customer {n}"),
                    body: format!("other.{n}@elsewhere.example"),
                    tags: vec![],
                    language: None,
                    state: None,
                    identifiers: vec![format!("other.{n}@elsewhere.example")],
                })
            })
            .collect();
        index.apply(batch, None).await.expect("a seed batch");
    }
    println!(
        "seed: {STORE_SEED} customers written and indexed, {seed} more in the index, in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // The indexer, as the worker runs it.
    let indexer = {
        let crm = crm.clone();
        tokio::spawn(async move {
            loop {
                match crm.index_round().await {
                    Ok(r) if r.more => {}
                    Ok(_) => tokio::time::sleep(idle).await,
                    Err(e) => panic!("indexer round: {e}"),
                }
            }
        })
    };

    // The writer: `rate` creates per second, each remembered with the instant it returned.
    let pending: Arc<Mutex<VecDeque<(u64, Uuid, Instant)>>> = Arc::default();
    let total = rate * seconds;
    let writer = {
        let (crm, pending, admin) = (crm.clone(), pending.clone(), world.admin.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            let begun = Instant::now();
            for n in STORE_SEED..STORE_SEED + total {
                tick.tick().await;
                let created = crm.create_customer(&admin, customer(n)).await.expect("a measured write");
                pending.lock().await.push_back((n, created.id.as_uuid(), Instant::now()));
            }
            begun.elapsed()
        })
    };

    // The prober: the oldest unfound write, then the next ones while they are found.
    let tenant = world.tenant.id;
    let mut latencies = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
    let mut searches = 0_u64;
    while latencies.len() < latencies.capacity() {
        let front = pending.lock().await.front().copied();
        let Some((n, id, written)) = front else {
            tokio::time::sleep(Duration::from_millis(1)).await;
            continue;
        };
        // The address's words match every measured customer ("fresh", "bench"): found means
        // this customer among the hits (it ranks first once indexed: the whole identifier).
        let q = SearchQuery::new(email(n), 3).kinds(&[DocumentKind::Customer]);
        searches += 1;
        let found = index.search(tenant, &q).await.expect("a probe").hits.iter().any(|h| h.id == id);
        if found {
            latencies.push(written.elapsed());
            pending.lock().await.pop_front();
        } else {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    let wrote_in = writer.await.expect("the writer");
    indexer.abort();
    latencies.sort_unstable();
    println!(
        "{} writes in {:.1} s ({:.0} writes/s asked {rate}); {searches} probes",
        latencies.len(),
        wrote_in.as_secs_f64(),
        latencies.len() as f64 / wrote_in.as_secs_f64()
    );
    println!(
        "write to searchable: p50 {:.0} ms, p95 {:.0} ms, p99 {:.0} ms, max {:.0} ms (indexer idle interval {} ms)",
        ms(percentile(&latencies, 50.0)),
        ms(percentile(&latencies, 95.0)),
        ms(percentile(&latencies, 99.0)),
        ms(latencies.last().copied().unwrap_or_default()),
        idle.as_millis()
    );
}
