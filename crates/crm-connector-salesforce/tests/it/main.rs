//! Integration tests of the Salesforce connector against a fake org (`fake.rs`) that
//! copies the spec's token endpoint, REST answers and faults.

mod activity;
mod auth;
mod create;
mod fake;
mod faults;
mod helpers;
mod search;
