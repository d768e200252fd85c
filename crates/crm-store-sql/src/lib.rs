//! # crm-store-sql
//!
//! The SQL store adapter of the CRM engine, on sea-orm 2 (sqlx underneath): SQLite embedded
//! by default (one file, WAL) and PostgreSQL for server deployments. [`SqlStore`] implements
//! every store port of `crm-core` (`crm_core::ports::Store`).
//!
//! Map of the crate:
//! - [`connect`]: URLs, pools, SQLite pragmas and the single-writer path; [`SqlStore`].
//! - [`migration`]: forward-only migrations (`schema.sql`), also runnable standalone.
//! - `sql`: statement helpers (one SQL text for both backends), value conversions.
//! - `inline`: SQLite reads on the caller's thread for the screen pop (ADR 0005).
//! - `lookups`: concurrent screen pops on PostgreSQL combined into one statement (ADR 0008).
//! - `error`: backend errors → `StoreError` (duplicate and reference fields named).
//! - `store::*`: one module per port (customers, cases, tasks, interactions, directory,
//!   outbox), plus `diagnostics` (`SqlStore::analyze`, the `explain_*` query plans).
//!
//! With the `bench` feature (benchmarks only; the server needs none of it at run time):
//! - `bench_data`: the synthetic customers and cases the store and server benchmarks seed.
//! - `store::seed`: `SqlStore::bulk_seed` (batched inserts, no history, no outbox events)
//!   and `SqlStore::raw_screen_pop` (the screen pop in one hand-written statement, to
//!   measure the ORM's overhead).
//! - `bulk`: bulk loads into a SQLite file on a thread of their own (ADR 0006).
//!
//! Schema in short: every aggregate is one row with real columns for what is filtered,
//! sorted, unique or referenced, plus a `doc` column with the serialised aggregate; side
//! tables hold identity keys, name terms and custom values for lookups and search; case
//! history, follow-ups, relations, merges and the outbox have their own tables. Only
//! `crm-core` types cross the crate boundary.

#![warn(missing_docs)]

#[cfg(feature = "bench")]
pub mod bench_data;
#[cfg(feature = "bench")]
mod bulk;
pub mod connect;
mod draws;
mod error;
mod inline;
mod lookups;
pub mod migration;
mod sql;
mod store;
mod writer;

pub use connect::{PoolGauge, SqlStore, SqlStoreOptions};
pub use inline::InlineReadCounts;
pub use lookups::CombinedReadCounts;
pub use migration::Migrator;
#[cfg(feature = "bench")]
pub use store::audit::set_audit_writes;
