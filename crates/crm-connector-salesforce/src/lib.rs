//! # crm-connector-salesforce
//!
//! The Salesforce REST API behind the core's [`ExternalCrm`](crm_core::ports::ExternalCrm)
//! port (connectors spec §1):
//! - [`config`]: the typed configuration (login URL, OAuth flow, API version, field mapping).
//! - [`auth`]: OAuth 2.0 JWT bearer (RS256) and client credentials against
//!   `{login}/services/oauth2/token`; API calls go to the returned `instance_url`.
//! - [`query`]: SOSL and SOQL text with their escaping rules.
//! - [`errors`]: the `[{"message","errorCode","fields"}]` error bodies and the
//!   `REQUEST_LIMIT_EXCEEDED` rate-limit hook.
//! - [`records`]: search records to [`ExternalRecord`](crm_core::external::ExternalRecord),
//!   create bodies, and the Task body of an activity push.
//! - [`connector`]: [`SalesforceConnector`], the port implementation.
//! - [`system`]: [`SYSTEM`], the vendor's name in errors and logs.

pub mod auth;
pub mod config;
pub mod connector;
pub mod errors;
pub mod query;
pub mod records;
pub mod system;

pub use config::{DuplicateRules, SalesforceAuth, SalesforceConfig, SalesforceMapping};
pub use connector::SalesforceConnector;
pub use system::SYSTEM;
