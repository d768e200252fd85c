//! What the audit log costs a write (ADM-4), interleaved (plain `main`, no harness):
//!
//! ```text
//! cargo bench -p crm-store-sql --features bench --bench audit -- --backend sqlite|postgres [--rounds 6] [--cases 2000]
//! ```
//!
//! Creates cases through the use case (`Crm::create_case`: read the customer, draw the
//! number, insert the case, its history, its outbox event and, with the audit on, its
//! pending audit entry) from 8 concurrent writers, in rounds that alternate the audit entry
//! on and off (on, off, off, on, on, off …, so drift hits both alike), and prints each
//! round's throughput, the median per mode and the overhead. Then times chaining the
//! pending entries (`AuditStore::chain_audit`). PostgreSQL runs use `CRM_BENCH_POSTGRES_URL`
//! (or `CRM_TEST_POSTGRES_URL`) and a fresh database dropped at the end.
#![allow(clippy::unwrap_used, clippy::print_stdout)] // a benchmark binary: failures abort it loudly

mod common;

use std::sync::Arc;
use std::time::Instant;

use crm_core::access::{Actor, Role};
use crm_core::audit::{Channel, RequestContext};
use crm_core::case::NewCase;
use crm_core::customer::NewCustomer;
use crm_core::ports::AuditStore;
use crm_core::service::Crm;
use crm_core::time::{SystemClock, UuidV7Generator};
use crm_store_sql::{SqlStore, SqlStoreOptions, set_audit_writes};
use sea_orm::ConnectionTrait;

const WRITERS: usize = 8;

fn arg(name: &str) -> Option<String> {
    let mut it = std::env::args().skip_while(|a| a != name);
    it.next().and_then(|_| it.next())
}

fn new_case(customer: crm_core::ids::CustomerId, n: usize) -> NewCase {
    NewCase {
        customer,
        subject: format!("Printer on fire #{n}"),
        description: None,
        draft: false,
        visibility: None,
        severity: None,
        priority: None,
        assignee: None,
        group: None,
        origin_channel: None,
        custom: Default::default(),
        tags: Vec::new(),
        category: None,
        case_type: None,
        parent: None,
    }
}

/// One round: `cases` cases from [`WRITERS`] writers; cases per second.
async fn round(crm: &Crm, actor: &Actor, customers: &[crm_core::ids::CustomerId], cases: usize) -> f64 {
    let start = Instant::now();
    let mut handles = Vec::new();
    for w in 0..WRITERS {
        let (crm, actor, customers) = (crm.clone(), actor.clone(), customers.to_vec());
        handles.push(tokio::spawn(async move {
            for k in 0..cases / WRITERS {
                let mut actor = actor.clone();
                actor.context.request_id = Some(format!("bench-{w}-{k}"));
                crm.create_case(&actor, new_case(customers[(w * 7 + k) % customers.len()], k)).await.unwrap();
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    (cases / WRITERS * WRITERS) as f64 / start.elapsed().as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 }
}

#[tokio::main]
async fn main() {
    let backend = arg("--backend").unwrap_or_else(|| "sqlite".to_owned());
    let rounds: usize = arg("--rounds").and_then(|n| n.parse().ok()).unwrap_or(6);
    let cases: usize = arg("--cases").and_then(|n| n.parse().ok()).unwrap_or(2_000);
    let (url, pg_admin) = common::fresh_database(&backend, "crm-audit-bench").await;
    let store = Arc::new(
        SqlStore::connect(&url, SqlStoreOptions { max_connections: 16, ..SqlStoreOptions::default() }).await.unwrap(),
    );
    store.migrate().await.unwrap();
    let clock = Arc::new(SystemClock);
    let now = crm_core::time::Clock::now(&*clock);
    let seeded = crm_testkit::fixtures::SeededTenant::create(&*store, &UuidV7Generator, now).await.unwrap();
    let crm = Crm::new(store.clone(), clock, Arc::new(UuidV7Generator));
    let mut actor = Actor::with_role(seeded.tenant.id, seeded.agent.id, Role::Agent);
    actor.context = RequestContext {
        request_id: None,
        source_ip: Some("192.0.2.10".into()),
        channel: Channel::Api,
        token: Some(crm_core::ids::TokenId::from_uuid(uuid::Uuid::now_v7())),
    };
    let mut customers = Vec::new();
    for i in 0..WRITERS * 10 {
        customers.push(
            crm.create_customer(&actor, NewCustomer { name: format!("Bench {i}"), ..NewCustomer::default() })
                .await
                .unwrap()
                .id,
        );
    }
    // Warm-up, audited.
    round(&crm, &actor, &customers, cases / 4).await;

    let (mut on, mut off) = (Vec::new(), Vec::new());
    println!("backend {backend}: {rounds} rounds of {cases} cases, {WRITERS} writers");
    for r in 0..rounds {
        let audited = matches!(r % 4, 0 | 3);
        set_audit_writes(audited);
        let rate = round(&crm, &actor, &customers, cases).await;
        println!("round {r}: audit {:<3} {rate:>8.0} cases/s", if audited { "on" } else { "off" });
        if audited { on.push(rate) } else { off.push(rate) }
    }
    set_audit_writes(true);
    let (m_on, m_off) = (median(on), median(off));
    println!(
        "median: audit on {m_on:.0} cases/s, off {m_off:.0} cases/s: the audit write costs {:.1} %",
        (1.0 - m_on / m_off) * 100.0
    );

    let start = Instant::now();
    let mut chained = 0u64;
    loop {
        let n = store.chain_audit(1_000).await.unwrap();
        chained += u64::from(n);
        if n < 1_000 {
            break;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!("chaining {chained} pending entries: {secs:.2} s, {:.0} entries/s (one worker)", chained as f64 / secs);

    let report = crm.verify_audit(seeded.tenant.id, &mut |_| {}).await.unwrap();
    let start = Instant::now();
    let again = crm.verify_audit(seeded.tenant.id, &mut |_| {}).await.unwrap();
    assert_eq!(report.broken, None);
    println!("verify: {} entries in {:.2} s", again.checked, start.elapsed().as_secs_f64());

    drop(crm);
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
