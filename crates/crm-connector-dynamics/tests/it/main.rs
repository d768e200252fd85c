//! Integration tests of the Dynamics connector against a fake Dataverse environment and
//! Entra ID token endpoint (`fake.rs`), including the connector conformance suite every
//! `ExternalCrm` runs (`conformance.rs`).

mod activity;
mod auth;
mod conformance;
mod create;
mod fake;
mod faults;
mod helpers;
mod search;
