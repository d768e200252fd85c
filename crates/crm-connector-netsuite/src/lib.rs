//! # crm-connector-netsuite
//!
//! Oracle NetSuite REST web services behind the core's
//! [`ExternalCrm`](crm_core::ports::ExternalCrm) port (connectors spec §3):
//! - [`config`]: account, host override, authentication method, field mapping.
//! - [`m2m`]: OAuth 2.0 client credentials (M2M) with a PS/ES/RS-signed JWT assertion carrying
//!   the certificate id as `kid`.
//! - [`tba`]: Token-Based Authentication, OAuth 1.0a HMAC-SHA256 signatures per request.
//! - [`suiteql`]: SuiteQL text and the paged answer.
//! - [`records`]: rows to [`ExternalRecord`](crm_core::external::ExternalRecord)s, record bodies,
//!   `nsError` bodies.
//! - [`connector`]: [`NetSuiteConnector`], the port implementation.
//! - [`system`]: [`SYSTEM`], the vendor's name in errors and logs.

pub mod config;
pub mod connector;
pub mod m2m;
pub mod records;
pub mod suiteql;
pub mod system;
pub mod tba;

pub use config::{NetSuiteAuth, NetSuiteConfig, NetSuiteMapping, SigningAlgorithm};
pub use connector::NetSuiteConnector;
pub use system::SYSTEM;
