//! Integration tests of the NetSuite connector against a fake account (`fake.rs`).

mod activity;
mod auth;
mod create;
mod fake;
mod faults;
mod helpers;
mod search;
