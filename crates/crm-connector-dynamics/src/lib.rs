//! # crm-connector-dynamics
//!
//! Microsoft Dynamics 365 / Dataverse Web API v9.2 behind the core's
//! [`ExternalCrm`](crm_core::ports::ExternalCrm) port (connectors spec §2):
//! - [`config`]: environment URL, Entra ID app credentials, API version, column mapping.
//! - [`auth`]: Entra ID client credentials with `scope=<environment>/.default`.
//! - [`batch`]: `$batch` of GETs (several tables searched in one request).
//! - [`odata`]: `$filter` literals, the OData headers, `OData-EntityId` parsing, error bodies.
//! - [`records`]: rows to [`ExternalRecord`](crm_core::external::ExternalRecord)s, create bodies with
//!   `@odata.bind` lookups, the `phonecall` body of an activity push.
//! - [`connector`]: [`DynamicsConnector`], the port implementation.
//! - [`system`]: [`SYSTEM`], the vendor's name in errors and logs.

pub mod auth;
pub mod batch;
pub mod config;
pub mod connector;
pub mod odata;
pub mod records;
pub mod system;

pub use config::{DynamicsConfig, DynamicsMapping};
pub use connector::DynamicsConnector;
pub use system::SYSTEM;
