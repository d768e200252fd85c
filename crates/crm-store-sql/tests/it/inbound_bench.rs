//! Mail in, measured (CAS-8): parse + thread + store of typical 20 KB mails through
//! `Crm::receive_mail` on a SQLite file and on PostgreSQL: a quarter new (a card and a case
//! each), the rest replies tagged with their case number. Target: ≥ 200 mails/s. No blob
//! store is configured (the original's put is the blob store's cost, measured with CAS-6).
//!
//! `CRM_BENCH_INBOUND=1 cargo test -p crm-store-sql --release --test it inbound_bench -- --nocapture`

use std::sync::Arc;
use std::time::Instant;

use crm_core::mail::inbound::parse_mail;
use crm_core::ports::Store;
use crm_core::service::Crm;
use crm_core::time::{SystemClock, UuidV7Generator};

use crate::helpers::{Backend, postgres_url, store};
use crate::world::World;

const MAILS: usize = 400;

fn mail(i: usize, subject: &str) -> String {
    let line = "Hello, the router in the living room keeps dropping the connection every evening.\r\n";
    let body = line.repeat(20 * 1024 / line.len());
    format!(
        "From: Customer {i} <customer{}@bench.example>\r\nTo: support@crm.example\r\nSubject: {subject}\r\n\
         Message-ID: <bench.{i}.{}@bench.example>\r\nDate: Mon, 7 Dec 2026 09:00:00 +0000\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n{body}",
        i % (MAILS / 4),
        uuid::Uuid::now_v7().simple()
    )
}

async fn run(backend: Backend) {
    let store = Arc::new(store(backend).await);
    let crm = Crm::new(store.clone() as Arc<dyn Store>, Arc::new(SystemClock), Arc::new(UuidV7Generator));
    let w = World::new(&*store).await;
    let admin = w.t.admin_actor();
    let mut numbers = Vec::new();
    let start = Instant::now();
    let mut parse_secs = 0.0;
    for i in 0..MAILS {
        let subject = if i < MAILS / 4 {
            "Router keeps dropping".to_owned()
        } else {
            format!("Re: [#{}] Router keeps dropping", numbers[i % (MAILS / 4)])
        };
        let raw = mail(i, &subject);
        let p = Instant::now();
        parse_mail(raw.as_bytes()).unwrap();
        parse_secs += p.elapsed().as_secs_f64();
        let got = crm.receive_mail(&admin, raw.as_bytes()).await.unwrap();
        if i < MAILS / 4 {
            assert!(got.created_case);
            numbers.push(crm.get_case(&admin, got.mail.case).await.unwrap().number.to_string());
        } else {
            assert!(!got.created_case, "a tagged reply lands on its case");
        }
    }
    let secs = start.elapsed().as_secs_f64() - parse_secs;
    let size = mail(0, "x").len();
    println!(
        "inbound {backend:?}: {MAILS} mails of {size} bytes in {secs:.2} s = {:.0} mails/s (parse alone: {:.0} mails/s)",
        MAILS as f64 / secs,
        MAILS as f64 / parse_secs
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbound_mail_throughput() {
    if std::env::var("CRM_BENCH_INBOUND").is_err() {
        eprintln!("inbound_mail_throughput: skipped (set CRM_BENCH_INBOUND=1 to run the benchmark)");
        return;
    }
    run(Backend::SqliteFile).await;
    if postgres_url().is_some() {
        run(Backend::Postgres).await;
    }
}
