//! `crm-server bench-seed --customers N` (hidden): loads a benchmark tenant for
//! `cargo xtask bench server`. It creates a tenant and its administrator, then the N
//! customers of `crm_store_sql::bench_data` (two phones `+336NNNNNNNN` / `+331NNNNNNNN` and
//! an email each, the store's own benchmark's data) and one open case per customer with
//! `SqlStore::bulk_seed` (no history, no outbox events), runs `ANALYZE`, and prints
//! `key=value` lines: the tenant, the administrator's token and a sample of customer ids
//! for the create-case scenario.
//!
//! Compiled with the crate's `bench` feature only (which turns on `crm-store-sql/bench`):
//! `cargo xtask bench server` builds the server with it.

use std::time::Instant;

use crm_core::access::{Actor, Role};
use crm_core::service::NewTenant;
use crm_core::time::{Clock as _, SystemClock};
use crm_store_sql::bench_data::BenchData;
use crm_store_sql::{SqlStore, SqlStoreOptions};

use crate::seed::bootstrap_tenant;
use crate::server::{Services, normalise_url};

/// Customers per `bulk_seed` transaction.
const BATCH: usize = 10_000;
/// How many customer ids are printed for the create-case scenario.
const SAMPLE: usize = 1_000;

/// What went wrong while seeding.
#[derive(Debug, thiserror::Error)]
pub enum BenchSeedError {
    /// The store refused.
    #[error("store: {0}")]
    Store(#[from] crm_core::StoreError),
    /// A use case refused.
    #[error("{0}")]
    Core(#[from] crm_core::Error),
}

/// Seeds the benchmark tenant on `database_url` and prints its `key=value` lines.
///
/// # Errors
/// See [`BenchSeedError`].
pub async fn run(database_url: &str, customers: usize) -> Result<(), BenchSeedError> {
    let services = Services::open(database_url, SqlStoreOptions::default()).await?;
    services.first_start(false).await?;
    let boot = bootstrap_tenant(
        &services,
        NewTenant { name: "Bench".into(), default_region: "FR".into(), time_zone: "Europe/Paris".into() },
        "Bench Admin",
        "bench.admin@example.com",
    )
    .await?;
    let store = SqlStore::connect(&normalise_url(database_url), SqlStoreOptions::default()).await?;
    let actor = Actor::with_role(boot.tenant.id, boot.admin.id, Role::Administrator);
    let data = BenchData { actor, at: SystemClock.now() };
    let started = Instant::now();
    let mut sample = Vec::with_capacity(SAMPLE);
    let stride = (customers / SAMPLE).max(1);
    let mut from = 0;
    while from < customers {
        let to = (from + BATCH).min(customers);
        let (batch, cases) = data.batch(from..to)?;
        for (c, i) in batch.iter().zip(from..to) {
            if i % stride == 0 && sample.len() < SAMPLE {
                sample.push(c.id);
            }
        }
        store.bulk_seed(&batch, &cases).await?;
        from = to;
        if from % 100_000 == 0 {
            tracing::info!(seeded = from, secs = started.elapsed().as_secs(), "bench seed");
        }
    }
    store.analyze().await?;
    let seconds = started.elapsed().as_secs_f64();
    println!("tenant={}", boot.tenant.id);
    println!("token={}", boot.token);
    println!("customers={customers}");
    println!("seed_seconds={seconds:.1}");
    for id in sample {
        println!("customer={id}");
    }
    Ok(())
}
