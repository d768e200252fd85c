//! Next-contact claim benchmark (OUT-2; plain `main`, no harness):
//!
//! ```text
//! cargo bench -p crm-store-sql --bench outbound -- [--backend postgres|sqlite] [--entries 100000]
//!     [--agents 16] [--claims 20000] [--priorities 1] [--outcomes]
//! ```
//!
//! Seeds one call list of N entries (over 1,000 customers, priorities spread over
//! `--priorities` levels), then `--agents` concurrent claimers (one tokio task each, one
//! connection each) claim until `--claims` entries were handed out. With `--outcomes` each
//! claim is followed by its outcome (half closed as a success, half retried in an hour), as
//! agents work. Prints claims/s and the latency of one claim (p50, p99), and checks that
//! no entry was handed out twice. PostgreSQL runs use `CRM_BENCH_POSTGRES_URL` (or
//! `CRM_TEST_POSTGRES_URL`) and a fresh database, dropped at the end. Figures go to
//! `docs/benchmarks.md`.
#![allow(clippy::unwrap_used, clippy::print_stdout)] // a benchmark binary: failures abort it loudly

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crm_core::customer::IdentityInput;
use crm_core::ids::AgentId;
use crm_core::outbound::{
    CallListEntry, CallingWindow, CampaignPurpose, EntryClaim, NewCallList, NewCampaign, NewEntry, OutcomeInput,
};
use crm_core::ports::Store;
use crm_core::time::{UuidV7Generator, next_id};
use crm_store_sql::{SqlStore, SqlStoreOptions};
use crm_testkit::conformance::Ctx;
use sea_orm::ConnectionTrait;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Args {
    backend: String,
    entries: usize,
    agents: usize,
    claims: usize,
    priorities: i32,
    outcomes: bool,
}

fn args() -> Args {
    let mut a = Args {
        backend: "postgres".into(),
        entries: 100_000,
        agents: 16,
        claims: 20_000,
        priorities: 1,
        outcomes: false,
    };
    let mut it = std::env::args().skip(1);
    let num = |v: Option<String>, d: usize| v.and_then(|n| n.replace('_', "").parse().ok()).unwrap_or(d);
    while let Some(x) = it.next() {
        match x.as_str() {
            "--backend" => a.backend = it.next().unwrap_or(a.backend),
            "--entries" => a.entries = num(it.next(), a.entries),
            "--agents" => a.agents = num(it.next(), a.agents).max(1),
            "--claims" => a.claims = num(it.next(), a.claims),
            "--priorities" => a.priorities = i32::try_from(num(it.next(), 1)).unwrap_or(1).clamp(1, 1000),
            "--outcomes" => a.outcomes = true,
            _ => {} // `cargo bench` adds `--bench`
        }
    }
    a
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = args();
    let (url, pg_admin) = common::fresh_database(&args.backend, "crm-bench-outbound").await;
    let options = SqlStoreOptions {
        max_connections: u32::try_from(args.agents).unwrap_or(16).max(2),
        ..SqlStoreOptions::default()
    };
    let sql = SqlStore::connect(&url, options).await.unwrap();
    sql.migrate().await.unwrap();
    let store: Arc<dyn Store> = Arc::new(sql);
    let ctx = Ctx::in_store(store.clone()).await;
    println!(
        "# next-contact claims: backend {}, {} entries, {} agents, {} priority level(s){}",
        args.backend,
        args.entries,
        args.agents,
        args.priorities,
        if args.outcomes { ", each claim followed by its outcome" } else { "" }
    );
    println!("machine: {} cores", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0));

    // Seed: a campaign, a list open all day, 1,000 customers, the entries.
    let campaign = NewCampaign {
        name: "Bench".into(),
        purpose: CampaignPurpose::Marketing,
        starts_at: None,
        ends_at: None,
        qualification: vec![],
    }
    .build(ctx.id(), ctx.tenant(), ctx.now)
    .unwrap();
    store.insert_campaign(&campaign).await.unwrap();
    let all_day =
        CallingWindow { from: chrono::NaiveTime::MIN, until: chrono::NaiveTime::from_hms_opt(23, 59, 59).unwrap() };
    let list = NewCallList {
        name: "Bench list".into(),
        active: None,
        assignment: Default::default(),
        script: None,
        window: Some(all_day),
        max_attempts: Some(5),
        lease_seconds: Some(900),
        outcomes: None,
    }
    .build(ctx.id(), ctx.tenant(), campaign.id, ctx.now)
    .unwrap();
    store.insert_call_list(&list).await.unwrap();
    let t = Instant::now();
    let mut customers = Vec::new();
    for i in 0..1000u32 {
        let number = format!(
            "+33 1 {:02} {:02} {:02} {:02}",
            20 + i / 1000 % 10,
            i / 100 % 10 * 10,
            i / 10 % 10 * 10,
            i % 10 * 10 + 1
        );
        customers.push(ctx.customer(&format!("Bench {i}"), vec![IdentityInput::Phone { number, label: None }]).await);
    }
    let mut seeded = 0;
    while seeded < args.entries {
        let n = (args.entries - seeded).min(10_000);
        let batch: Vec<CallListEntry> = (seeded..seeded + n)
            .map(|i| {
                let c = &customers[i % customers.len()];
                let input = NewEntry {
                    customer: c.id,
                    phone: None,
                    priority: Some(i32::try_from(i).unwrap_or(0) % args.priorities),
                    time_zone: None,
                    due_at: None,
                    custom: BTreeMap::new(),
                };
                input.build(next_id(&UuidV7Generator), &list, c, None, chrono_tz::Europe::Paris, ctx.now).unwrap()
            })
            .collect();
        store.insert_entries(ctx.tenant(), list.id, &batch).await.unwrap();
        seeded += n;
    }
    println!("seed: {} entries in {:.1} s", args.entries, t.elapsed().as_secs_f64());
    let list = Arc::new(store.get_call_list(ctx.tenant(), list.id).await.unwrap().unwrap());
    let campaign = Arc::new(campaign);

    // The claimers.
    let remaining = Arc::new(std::sync::atomic::AtomicUsize::new(args.claims));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.agents {
        let (store, list, campaign, remaining) = (store.clone(), list.clone(), campaign.clone(), remaining.clone());
        let (now, outcomes) = (ctx.now, args.outcomes);
        tasks.push(tokio::spawn(async move {
            let agent: AgentId = next_id(&UuidV7Generator);
            let mut samples = Vec::new();
            let mut got = Vec::new();
            while remaining
                .fetch_update(std::sync::atomic::Ordering::SeqCst, std::sync::atomic::Ordering::SeqCst, |r| {
                    r.checked_sub(1)
                })
                .is_ok()
            {
                let t = Instant::now();
                let Some(mut e) = store.claim_next_entry(&EntryClaim::new(&list, agent, now)).await.unwrap() else {
                    break;
                };
                samples.push(t.elapsed());
                got.push(e.id);
                if outcomes {
                    let expected = e.version();
                    let code = if got.len() % 2 == 0 { "success" } else { "no_answer" };
                    let input = OutcomeInput {
                        disposition: code.into(),
                        callback_at: None,
                        same_agent: false,
                        answers: BTreeMap::new(),
                    };
                    e.record_outcome(&list, &campaign, agent, input, now).unwrap();
                    store.update_entry(&e, expected, &[]).await.unwrap();
                }
            }
            (samples, got)
        }));
    }
    let mut samples: Vec<Duration> = Vec::new();
    let mut all = Vec::new();
    for t in tasks {
        let (s, g) = t.await.unwrap();
        samples.extend(s);
        all.extend(g);
    }
    let wall = start.elapsed();
    let distinct: BTreeSet<_> = all.iter().collect();
    assert_eq!(distinct.len(), all.len(), "an entry was handed out twice");
    samples.sort();
    assert!(!samples.is_empty(), "no entry was handed out: nothing to measure");
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    println!("| claims | claims/s | p50 | p99 | max |");
    println!(
        "| {} | {:.0} | {:.2} ms | {:.2} ms | {:.2} ms |",
        samples.len(),
        samples.len() as f64 / wall.as_secs_f64(),
        at(0.5).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        at(1.0).as_secs_f64() * 1e3
    );
    println!("no entry handed out twice ({} distinct)", distinct.len());
    drop(store);
    if let Some((admin, name)) = pg_admin {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let _ = admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await;
    }
}
