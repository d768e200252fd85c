//! # crm-testkit
//!
//! Test support for the CRM engine, a dev-dependency of the other crates:
//! - [`memory`]: [`MemoryStore`], an in-memory adapter of every store port, held to the same
//!   contract as the real stores by the conformance suite.
//! - [`fakes`]: [`ManualClock`], [`SequentialIds`], [`FakeExternalCrm`], [`FakeMailer`].
//! - [`search`]: [`MemorySearchIndex`], an in-memory full-text index.
//! - [`fixtures`]: a seeded tenant (FR, Europe/Paris) with an administrator, a supervisor and
//!   an agent, in one call.
//! - [`strategies`]: proptest strategies for every aggregate and command.
//! - [`conformance`]: the store conformance suite and [`store_conformance_tests!`].
//! - `fake_api` (feature `fake-api`): the wiremock harness of the connector crates' fakes
//!   of Salesforce, NetSuite and Dynamics 365.
//! - `connector_conformance` (feature `fake-api`): the connector conformance suite every
//!   `ExternalCrm` adapter runs against its fake, and `connector_conformance_tests!`.
#![warn(missing_docs)]

pub mod conformance;
#[cfg(feature = "fake-api")]
pub mod connector_conformance;
#[cfg(feature = "fake-api")]
pub mod fake_api;
pub mod fakes;
pub mod fixtures;
pub mod memory;
pub mod search;
pub mod strategies;

pub use fakes::{FakeExternalCrm, FakeMailbox, FakeMailer, FakeOperation, ManualClock, SequentialIds};
pub use memory::{MemoryStore, StoreCounts};
pub use search::MemorySearchIndex;
