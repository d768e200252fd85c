//! `crm-server bench-seed --customers N` (hidden): loads a benchmark tenant for
//! `cargo xtask bench server`. It creates a tenant and its administrator, then N customers
//! (two phones `+336NNNNNNNN` / `+331NNNNNNNN` and an email each, as the store's own
//! benchmark) and one open case per customer with `SqlStore::bulk_seed` (no history, no
//! outbox events), runs `ANALYZE`, and prints `key=value` lines: the tenant, the
//! administrator's token and a sample of customer ids for the create-case scenario.

use std::time::Instant;

use chrono::{DateTime, Utc};

use crm_core::access::{Actor, Role};
use crm_core::case::{Case, CaseContext, CaseNumber, NewCase};
use crm_core::customer::{AccountNumber, Customer, CustomerStatus, EmailAddress, Identity, PhoneNumber};
use crm_core::ids::{AgentId, TenantId};
use crm_core::service::NewTenant;
use crm_core::time::{Clock as _, SystemClock, UuidV7Generator, next_id};
use crm_store_sql::{SqlStore, SqlStoreOptions};

use crate::seed::bootstrap_tenant;
use crate::server::{Services, normalise_url};

/// Customers per `bulk_seed` transaction.
const BATCH: usize = 10_000;
/// How many customer ids are printed for the create-case scenario.
const SAMPLE: usize = 1_000;

/// The phone of customer `i` that the lookup scenario asks for.
pub fn bench_phone(i: usize) -> String {
    format!("+336{i:08}")
}

/// What went wrong while seeding.
#[derive(Debug, thiserror::Error)]
pub enum BenchSeedError {
    /// The store refused.
    #[error("store: {0}")]
    Store(#[from] crm_core::StoreError),
    /// A use case refused.
    #[error("{0}")]
    Core(#[from] crm_core::Error),
    /// A generated value did not parse (a bug in this module).
    #[error("generated value: {0}")]
    Generated(String),
}

fn customer(tenant: TenantId, agent: AgentId, i: usize, at: DateTime<Utc>) -> Result<Customer, BenchSeedError> {
    let phone = |raw: String| PhoneNumber::parse(&raw, None).map_err(|e| BenchSeedError::Generated(e.reason));
    let email =
        EmailAddress::parse(&format!("client{i}@example.com")).map_err(|e| BenchSeedError::Generated(e.reason))?;
    Ok(Customer {
        id: next_id(&UuidV7Generator),
        tenant,
        account_number: AccountNumber::generated(i as u64 + 1),
        name: format!("Client {i} Bench"),
        identities: vec![
            Identity::Phone { number: phone(bench_phone(i))?, label: Some("mobile".into()) },
            Identity::Phone { number: phone(format!("+331{i:08}"))?, label: Some("home".into()) },
            Identity::Email { address: email, label: None },
        ],
        addresses: Vec::new(),
        custom: Default::default(),
        status: CustomerStatus::Active,
        origin_channel: None,
        last_contact_at: Some(at - chrono::Duration::minutes(i64::try_from(i % 10_000).unwrap_or(0))),
        created_by: Some(agent),
        created_at: at,
        updated_at: at,
        version: 1,
    })
}

fn case_for(customer: &Customer, actor: &Actor, number: u64, at: DateTime<Utc>) -> Result<Case, BenchSeedError> {
    NewCase {
        customer: customer.id,
        subject: format!("Question of {}", customer.name),
        description: None,
        draft: false,
        visibility: None,
        severity: None,
        priority: None,
        assignee: None,
        group: None,
        origin_channel: None,
        custom: Default::default(),
    }
    .build(
        next_id(&UuidV7Generator),
        CaseNumber::new(number),
        actor,
        None,
        CaseContext { definitions: &[], region: None, now: at },
    )
    .map_err(|e| BenchSeedError::Generated(e.to_string()))
}

/// Seeds the benchmark tenant on `database_url` and prints its `key=value` lines.
///
/// # Errors
/// See [`BenchSeedError`].
pub async fn run(database_url: &str, customers: usize) -> Result<(), BenchSeedError> {
    let services = Services::open(database_url).await?;
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
    let at = SystemClock.now();
    let started = Instant::now();
    let mut sample = Vec::with_capacity(SAMPLE);
    let stride = (customers / SAMPLE).max(1);
    let mut from = 0;
    while from < customers {
        let to = (from + BATCH).min(customers);
        let batch: Vec<Customer> =
            (from..to).map(|i| customer(boot.tenant.id, boot.admin.id, i, at)).collect::<Result<_, _>>()?;
        // Seeded case numbers live far above the sequence, so new cases never collide.
        let cases: Vec<Case> = batch
            .iter()
            .zip(from..to)
            .map(|(c, i)| case_for(c, &actor, 1_000_000_000 + i as u64, at))
            .collect::<Result<_, _>>()?;
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
