//! Store benchmark (plain `main`, no harness):
//!
//! ```text
//! cargo bench -p crm-store-sql --features bench --bench store -- --backend sqlite|postgres --customers N [--batch 10000]
//! ```
//!
//! Seeds N customers (2 phones + 1 email each) and N open cases with `bulk_seed`, then
//! measures: the seed rate; the screen pop by phone and by email as the server runs it
//! (`cards_by_identity`: the customer and its whole card); the customer and its open cases
//! as ONE hand-written SQL statement through sqlx (the floor: it reads less than the card,
//! so the ratio overstates the ORM's overhead); creating cases with history and an outbox
//! event from 8 concurrent writers; and the process RSS. PostgreSQL runs use
//! `CRM_BENCH_POSTGRES_URL` (or `CRM_TEST_POSTGRES_URL`) and a fresh database that is
//! dropped at the end. Figures go to `docs/benchmarks.md`.
#![allow(clippy::unwrap_used, clippy::print_stdout)] // a benchmark binary: failures abort it loudly

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use crm_core::access::{PrivateScope, Role};
use crm_core::case::{CaseFilter, CaseSort, CaseSortField, SortDirection, history};
use crm_core::customer::{CustomerQuery, EmailAddress, IdentityKey, PhoneNumber};
use crm_core::event::{DomainEvent, EventKind};
use crm_core::ids::{CustomerId, TenantId};
use crm_core::page::PageRequest;
use crm_core::ports::{CardLimits, CardStore, CaseStore, CustomerStore, GuidanceStore};
use crm_core::sla::SlaCondition;
use crm_core::time::{UuidV7Generator, next_id};
use crm_store_sql::bench_data::{self, BenchData};
use crm_store_sql::{SqlStore, SqlStoreOptions};
use sea_orm::ConnectionTrait;

/// The allocator the server binary ships with (ADR 0011), so that the bench measures the
/// store as the product runs it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const BATCH: usize = 10_000;
const LOOKUPS: usize = 5_000;
const SEARCHES: usize = 500;
const WRITERS: usize = 8;
const CASES_PER_WRITER: usize = 2_500;

struct Args {
    backend: String,
    customers: usize,
    /// Customers (and cases) per `bulk_seed` call, one transaction each.
    batch: usize,
}

fn args() -> Args {
    let mut backend = "sqlite".to_owned();
    let mut customers = 100_000;
    let mut batch = BATCH;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--backend" => backend = it.next().unwrap_or(backend),
            "--customers" => customers = it.next().and_then(|n| n.replace('_', "").parse().ok()).unwrap_or(customers),
            "--batch" => batch = it.next().and_then(|n| n.replace('_', "").parse().ok()).unwrap_or(batch).max(1),
            "-h" | "--help" => {
                println!(
                    "cargo bench -p crm-store-sql --features bench --bench store -- [--backend sqlite|postgres] [--customers N] [--batch N]\n\n\
                     --backend   sqlite (a fresh file) or postgres (a fresh database on CRM_BENCH_POSTGRES_URL) [sqlite]\n\
                     --customers customers to seed, each with 2 phones, an email and an open case [100000]\n\
                     --batch     customers (and cases) per bulk_seed transaction [10000]"
                );
                std::process::exit(0);
            }
            _ => {} // `cargo bench` adds `--bench`
        }
    }
    Args { backend, customers, batch }
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).single().unwrap()
}

struct Stats {
    p50: Duration,
    p99: Duration,
    ops: f64,
}

fn stats(mut samples: Vec<Duration>, wall: Duration) -> Stats {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    Stats { p50: at(0.50), p99: at(0.99), ops: samples.len() as f64 / wall.as_secs_f64() }
}

fn print(name: &str, s: &Stats) {
    println!("| {name} | {:.3} ms | {:.3} ms | {:.0} |", s.p50.as_secs_f64() * 1e3, s.p99.as_secs_f64() * 1e3, s.ops);
}

fn rss() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let get =
        |k: &str| status.lines().find(|l| l.starts_with(k)).map(|l| l[k.len()..].trim().to_owned()).unwrap_or_default();
    format!("VmRSS {} (peak VmHWM {})", get("VmRSS:"), get("VmHWM:"))
}

/// The screen pop as the server runs it: the customers holding the key, each with its
/// whole card (open cases, planned tasks, last interactions, relations).
async fn screen_pop(store: &SqlStore, tenant: TenantId, key: &IdentityKey) -> usize {
    let found = store.cards_by_identity(tenant, key, 10, &PrivateScope::All, CardLimits::CARD).await.unwrap();
    let (_, parts) = found.first().expect("a customer for every seeded key");
    parts.open_cases.len()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = args();
    let (url, pg_admin) = common::fresh_database(&args.backend, "crm-bench").await;
    let options = SqlStoreOptions { max_connections: 16, ..SqlStoreOptions::default() };
    let store = SqlStore::connect(&url, options).await.unwrap();
    store.migrate().await.unwrap();
    let seeded = crm_testkit::fixtures::SeededTenant::create(&store, &UuidV7Generator, now()).await.unwrap();
    let tenant = seeded.tenant.id;
    let actor = crm_core::access::Actor::with_role(tenant, seeded.agent.id, Role::Agent);

    println!("# crm-store-sql benchmark: backend {}, {} customers", args.backend, args.customers);
    println!("machine: {} cores", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0));

    // Seeding.
    let data = BenchData { actor: actor.clone(), at: now() };
    let mut seed_time = Duration::ZERO;
    let mut from = 0;
    while from < args.customers {
        let to = (from + args.batch).min(args.customers);
        let (customers, cases) = data.batch(from..to).unwrap();
        let t = Instant::now();
        store.bulk_seed(&customers, &cases).await.unwrap();
        seed_time += t.elapsed();
        from = to;
        if from % 100_000 == 0 {
            eprintln!("seeded {from} customers ({:.0}/s so far)", from as f64 / seed_time.as_secs_f64());
        }
    }
    println!(
        "seed: {} customers + {} cases (+ {} identity rows and the name search rows), {} of each per transaction, in {:.1} s of database time: {:.0} customers/s",
        args.customers,
        args.customers,
        args.customers * 3,
        args.batch,
        seed_time.as_secs_f64(),
        args.customers as f64 / seed_time.as_secs_f64()
    );
    // Fresh planner statistics after the bulk load.
    let t = Instant::now();
    store.analyze().await.unwrap();
    println!("ANALYZE after the load: {:.1} s", t.elapsed().as_secs_f64());
    if let Some((admin, _)) = &pg_admin {
        // Write the load's pages out now, so that its checkpoint does not land in the
        // middle of the measured writes (the load wrote gigabytes of WAL).
        let t = Instant::now();
        match admin.execute_unprepared("CHECKPOINT").await {
            Ok(_) => println!("CHECKPOINT after the load: {:.1} s", t.elapsed().as_secs_f64()),
            Err(e) => println!("no CHECKPOINT after the load ({e}): a checkpoint may land in the measurements"),
        }
    }
    println!("\n| operation | p50 | p99 | ops/s |\n|---|---|---|---|");

    // Lookups, sequential, keys spread over the whole table.
    let step = (args.customers / LOOKUPS).max(1);
    let idx: Vec<usize> = (0..LOOKUPS).map(|k| (k * step + k % 7) % args.customers).collect();
    let phone_keys: Vec<IdentityKey> =
        idx.iter().map(|i| IdentityKey::phone(&PhoneNumber::parse(&bench_data::mobile(*i), None).unwrap())).collect();
    let mail_keys: Vec<IdentityKey> =
        idx.iter().map(|i| IdentityKey::email(&EmailAddress::parse(&bench_data::email(*i)).unwrap())).collect();
    for key in phone_keys.iter().take(200) {
        screen_pop(&store, tenant, key).await; // warm-up
    }
    let mut results = Vec::new();
    for (name, keys) in [
        ("screen pop by phone, first pass over the keys (cold pages)", &phone_keys),
        ("screen pop by phone (cards_by_identity: customer + whole card), warm", &phone_keys),
        ("screen pop by email, first pass over the keys (cold pages)", &mail_keys),
        ("screen pop by email (cards_by_identity: customer + whole card), warm", &mail_keys),
    ] {
        let mut samples = Vec::with_capacity(keys.len());
        let wall = Instant::now();
        for key in keys {
            let t = Instant::now();
            let n = screen_pop(&store, tenant, key).await;
            samples.push(t.elapsed());
            assert_eq!(n, 1);
        }
        let s = stats(samples, wall.elapsed());
        print(name, &s);
        results.push(s);
    }
    // Alerts at screen pop (GUI-2): the facts the card does not carry, ONE aggregate
    // statement per card (`customer_activity`), alone and after the screen pop it follows.
    let mut ids = Vec::with_capacity(phone_keys.len());
    for key in &phone_keys {
        let found = store.cards_by_identity(tenant, key, 10, &PrivateScope::All, CardLimits::CARD).await.unwrap();
        ids.push(found[0].0.id);
    }
    let at = now();
    let mut samples = Vec::with_capacity(ids.len());
    let wall = Instant::now();
    for id in &ids {
        let t = Instant::now();
        store.customer_activity(tenant, *id, at).await.unwrap();
        samples.push(t.elapsed());
    }
    print("alert facts (customer_activity: one aggregate statement), warm", &stats(samples, wall.elapsed()));
    let mut samples = Vec::with_capacity(ids.len());
    let wall = Instant::now();
    for key in &phone_keys {
        let t = Instant::now();
        let found = store.cards_by_identity(tenant, key, 10, &PrivateScope::All, CardLimits::CARD).await.unwrap();
        store.customer_activity(tenant, found[0].0.id, at).await.unwrap();
        samples.push(t.elapsed());
    }
    print("screen pop by phone + alert facts, warm", &stats(samples, wall.elapsed()));
    // Customer search by name (CUS-5), first page of 50: a whole name (three words, the
    // last one a number whose prefix also matches longer numbers), then a last name's
    // prefix shared by a sixteenth of the customers.
    let by_name = |name: String| CustomerQuery { name: Some(name), ..CustomerQuery::default() }.normalise().unwrap();
    let whole: Vec<_> = idx.iter().take(SEARCHES).map(|&i| (i, by_name(bench_data::name(i)))).collect();
    let prefixes: Vec<_> = (0..SEARCHES).map(|k| by_name(bench_data::LAST_NAMES[k % 16][..3].to_owned())).collect();
    let first_page = PageRequest { limit: 50, ..PageRequest::first() };
    let mut samples = Vec::with_capacity(SEARCHES);
    let wall = Instant::now();
    for (i, search) in &whole {
        let t = Instant::now();
        let page = store.search_customers(tenant, search, &first_page).await.unwrap();
        samples.push(t.elapsed());
        assert!(page.items.iter().any(|c| c.name().ends_with(&format!(" {i}"))), "customer {i} found by name");
    }
    print("customer search by a whole name (3 words), first page of 50", &stats(samples, wall.elapsed()));
    let mut samples = Vec::with_capacity(SEARCHES);
    let wall = Instant::now();
    for search in &prefixes {
        let t = Instant::now();
        let page = store.search_customers(tenant, search, &first_page).await.unwrap();
        samples.push(t.elapsed());
        assert_eq!(page.items.len(), 50.min(args.customers / 16));
    }
    print(
        "customer search by a last name's first 3 letters (1/16 match), first page of 50",
        &stats(samples, wall.elapsed()),
    );

    // The case list sorted by the next SLA deadline (ADR 0028), first page of 50 and the
    // page after a cursor; then only the breached cases, in the same order.
    let due_next = CaseSort { field: CaseSortField::DueNext, direction: SortDirection::Asc };
    for (name, condition) in [
        ("case list sorted by due_next", None),
        ("case list sla=breached sorted by due_next", Some(SlaCondition::Breached)),
    ] {
        let filter = CaseFilter { sla: condition, at: Some(now()), ..CaseFilter::default() };
        let mut samples = Vec::with_capacity(SEARCHES);
        let wall = Instant::now();
        for k in 0..SEARCHES {
            let t = Instant::now();
            let first = store.list_cases(tenant, &filter, &PrivateScope::All, due_next, &first_page).await.unwrap();
            if k % 2 == 1 {
                let next = PageRequest { limit: 50, after: first.next.clone() };
                store.list_cases(tenant, &filter, &PrivateScope::All, due_next, &next).await.unwrap();
            }
            samples.push(t.elapsed());
            assert!(!first.items.is_empty() || args.customers < 10, "cases listed");
        }
        print(
            &format!("{name}, first page of 50 (every other sample: and the next page)"),
            &stats(samples, wall.elapsed()),
        );
    }

    let mut samples = Vec::with_capacity(phone_keys.len());
    let wall = Instant::now();
    for key in &phone_keys {
        let t = Instant::now();
        let (_, cases) = store.raw_screen_pop(tenant, key, 20).await.unwrap().unwrap();
        samples.push(t.elapsed());
        assert_eq!(cases.len(), 1);
    }
    let raw = stats(samples, wall.elapsed());
    print("screen pop by phone, ONE hand-written SQL statement (sqlx)", &raw);

    // The same card as two statements (the lookup, then `card_parts`): what the one-statement
    // screen pop saves, or costs, on this backend.
    let mut samples = Vec::with_capacity(phone_keys.len());
    let wall = Instant::now();
    for key in &phone_keys {
        let t = Instant::now();
        let found = store.find_by_identity(tenant, key, 10).await.unwrap();
        let parts = store.card_parts(tenant, found[0].id, &PrivateScope::All, CardLimits::CARD).await.unwrap();
        samples.push(t.elapsed());
        assert_eq!(parts.open_cases.len(), 1);
    }
    print(
        "screen pop by phone as two statements (find_by_identity, card_parts), warm",
        &stats(samples, wall.elapsed()),
    );

    // Case creation with history and an event, 8 concurrent writers.
    let store = Arc::new(store);
    let customers: Vec<CustomerId> = {
        let mut v = Vec::new();
        for key in phone_keys.iter().take(WRITERS * 10) {
            v.push(store.find_by_identity(tenant, key, 1).await.unwrap()[0].id);
        }
        v
    };
    let wall = Instant::now();
    let mut handles = Vec::new();
    for w in 0..WRITERS {
        let store = store.clone();
        let actor = actor.clone();
        let data = data.clone();
        let customers = customers.clone();
        handles.push(tokio::spawn(async move {
            let mut samples = Vec::with_capacity(CASES_PER_WRITER);
            for k in 0..CASES_PER_WRITER {
                let t = Instant::now();
                let customer =
                    store.get_customer(actor.tenant, customers[(w * 10 + k) % customers.len()]).await.unwrap().unwrap();
                let number = store.next_case_number(actor.tenant).await.unwrap();
                let case = data.case_for(&customer, number).unwrap();
                let entries =
                    history::diff(&Default::default(), &case.field_map(), case.tenant, case.id, 1, actor.agent, now());
                let event = DomainEvent {
                    id: next_id(&UuidV7Generator),
                    tenant: actor.tenant,
                    at: now(),
                    actor: Some(actor.agent),
                    kind: EventKind::CaseCreated {
                        case: case.id,
                        number: case.number,
                        customer: case.customer(),
                        assignee: case.assignee(),
                    },
                    audit: Default::default(),
                };
                store.insert_case(&case, &entries, &[event]).await.unwrap();
                samples.push(t.elapsed());
            }
            samples
        }));
    }
    let mut samples = Vec::new();
    for h in handles {
        samples.extend(h.await.unwrap());
    }
    let create = stats(samples, wall.elapsed());
    print("create case with history + outbox event (get customer, next number, insert), 8 writers", &create);

    println!(
        "\nstore path against the hand-written statement through sqlx, warm phone screen pop: p50 {:.2}x, p99 {:.2}x \
         (the store reads more: the whole card; below 1 where it reads on the caller's thread, SQLite files, ADR 0005)",
        results[1].p50.as_secs_f64() / raw.p50.as_secs_f64(),
        results[1].p99.as_secs_f64() / raw.p99.as_secs_f64()
    );
    println!("process memory: {}", rss());

    if let Ok(store) = Arc::try_unwrap(store) {
        store.close().await.unwrap();
    }
    if let Some((admin, name)) = pg_admin {
        admin.execute_unprepared(&format!("DROP DATABASE \"{name}\" WITH (FORCE)")).await.unwrap();
    } else if let Some(path) = url.strip_prefix("sqlite://").and_then(|u| u.split('?').next()) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{path}{suffix}"));
        }
    }
}
