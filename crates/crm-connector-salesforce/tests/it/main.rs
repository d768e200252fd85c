//! Integration tests of the Salesforce connector against a fake org (`fake.rs`) that
//! copies the spec's token endpoint, REST answers and faults, including the connector
//! conformance suite every `ExternalCrm` runs (`conformance.rs`).

mod activity;
mod auth;
mod conformance;
mod create;
mod fake;
mod faults;
mod helpers;
mod search;
