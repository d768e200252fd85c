//! Integration tests of the NetSuite connector against a fake account (`fake.rs`),
//! including the connector conformance suite every `ExternalCrm` runs (`conformance.rs`).

mod activity;
mod auth;
mod conformance;
mod create;
mod fake;
mod faults;
mod helpers;
mod search;
