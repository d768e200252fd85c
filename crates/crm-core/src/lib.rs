//! # crm-core
//!
//! The pure heart of the contact-center CRM engine: the domain model, its rules, the ports
//! (traits) adapters implement, and the use cases that enforce permissions, visibility and
//! tenant isolation. No I/O lives here: no runtime, no database, no HTTP, no file system.
//!
//! Map of the crate:
//! - [`ids`], [`time`], [`error`], [`page`]: the vocabulary every other module uses.
//! - [`access`]: tenants, agents, groups, roles, permissions and the [`access::Actor`] (ADM).
//! - [`custom_field`]: administrator-defined fields on customers and cases (CUS-2).
//! - [`customer`]: customers, identities, relations, duplicates and merge (CUS).
//! - [`case`], [`follow_up`], [`task`]: cases with lifecycle and history, follow-ups,
//!   tasks with reminders (CAS, FUP, TSK).
//! - [`interaction`]: interactions, their state machine, notes, dispositions, links (INT).
//! - [`external`]: the shapes exchanged with external CRMs (EXT-1).
//! - [`event`]: domain events written to the outbox with every change (EXT-3); [`live`]:
//!   the live events agents' streams receive, and who an event concerns.
//! - [`rules`]: the condition language of email rules and alerts (EML-1, GUI-2);
//!   [`script`]: interactive scripts, their validation and runs (GUI-1); [`alert`]: alert
//!   rules on a customer's facts (GUI-2).
//! - [`api_token`], [`idempotency`]: what an API token grants; idempotent requests.
//! - [`ports`]: the traits adapters implement (stores, clock, ids, mailer, external CRM, search).
//! - [`sla`]: SLA policies, business calendars and the pure SLA clock of a case.
//! - [`service`]: the use cases, one method per feature, on [`service::Crm`].
//! - `openapi` (feature `openapi`): the OpenAPI schemas of the hand-serialised newtypes;
//!   the other wire types derive `utoipa::ToSchema` where they are defined.
#![warn(missing_docs)]

pub mod access;
pub mod alert;
pub mod api_token;
pub mod attachment;
pub mod audit;
pub mod case;
pub mod console;
pub mod custom_field;
pub mod customer;
pub mod error;
pub mod event;
pub mod external;
pub mod follow_up;
pub mod guidance;
pub mod idempotency;
pub mod ids;
pub mod interaction;
pub mod knowledge;
pub mod lead;
pub mod live;
pub mod mail;
#[cfg(feature = "openapi")]
pub mod openapi;
pub mod organisation;
pub mod outbound;
pub mod page;
pub mod ports;
pub mod rate_limit;
pub mod rules;
pub mod script;
pub mod search;
pub mod service;
pub mod sla;
pub mod task;
pub mod text;
pub mod time;
pub mod webhook;

pub use error::{ConnectorError, Error, FieldError, StoreError};
