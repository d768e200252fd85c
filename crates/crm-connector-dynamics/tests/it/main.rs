//! Integration tests of the Dynamics connector against a fake Dataverse environment and
//! Entra ID token endpoint (`fake.rs`).

mod activity;
mod auth;
mod create;
mod fake;
mod faults;
mod helpers;
mod search;
