//! Integration tests of the SQL store: the store conformance suite on SQLite (file and
//! in-memory) and PostgreSQL, plus SQL-specific tests (concurrency, atomicity, constraint
//! errors, query plans, migrations).
//!
//! PostgreSQL tests need `CRM_TEST_POSTGRES_URL` (for example
//! `postgres://postgres@127.0.0.1:5432/test`); each test process creates its own database
//! `crm_test_<seconds>_<random>` there and drops databases left by runs older than 15 minutes.
//! Without the variable they do not run: one test says so, and fails when `CI` is set.
//!
//! The tests of the benchmark-only code (`bulk`, and the raw screen pop in `smoke`) are
//! compiled with the crate's `bench` feature, which `cargo xtask test` enables.

// The whole binary is tests: an unwrap is an assertion here, in helpers as in tests.
#![allow(clippy::unwrap_used)]

mod atomicity;
mod audit;
#[cfg(feature = "bench")]
mod bulk;
mod concurrency;
mod conformance;
mod errors;
mod helpers;
mod inbound_bench;
mod lookups;
mod migrations;
mod plans;
mod smoke;
mod world;
