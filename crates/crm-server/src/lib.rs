//! # crm-server
//!
//! The bundled server of the CRM engine: it wires `crm-core`'s use cases to the SQL store
//! and serves them over HTTP, with API-token auth, live events, the core's workers on a
//! schedule, and operations endpoints. It holds no SQL and no domain rule: the store is
//! behind the core's ports, the rules and the workers' rounds are the core's. `cargo run --release -p crm-server` gives a working CRM on SQLite with demo
//! data.
//!
//! Map of the crate:
//! - [`server`]: wiring ([`Services`]), first-start demo seed, [`start`] and graceful stop.
//! - [`mod@app`]: the router, the middleware stack and the operations endpoints.
//! - [`routes`]: the `/api/v1` handlers, one module per area.
//! - [`problem`]: RFC 9457 problem+json and the mapping of the core's errors.
//! - [`extract`]: JSON/query/path extractors naming bad fields, `If-Match`, `ETag` replies.
//! - [`auth`]: bearer API tokens (hashed) → the core's `Actor`.
//! - [`console`]: the agents' console at `/` (HTML with htmx; sign-in, sessions, pages).
//! - [`idempotency`]: `Idempotency-Key` on creates.
//! - [`events`]: the live-event hub, the feed poller, and the schedule of the core's workers.
//! - [`mod@openapi`]: the OpenAPI 3.1 document.
//! - [`metrics`]: Prometheus text metrics.
//! - [`seed`]: tenant bootstrap and the demo data.
//! - [`config`]: the command line, the TOML file and the environment.
//! - [`blobs`]: where attachments' bytes live (local folder or S3) and upload limits.
//! - [`connectors`]: external CRM connectors per tenant (the core's push worker uses them).
//! - [`csv_io`]: customer import and export.
//! - `bench_seed` (feature `bench`): the hidden `bench-seed` command of
//!   `cargo xtask bench server`.

pub mod api_connectors;
pub mod app;
pub mod audit_cli;
pub mod auth;
#[cfg(feature = "bench")]
pub mod bench_seed;
pub mod blobs;
pub mod config;
pub mod connectors;
pub mod console;
pub mod csv_io;
pub mod events;
pub mod extract;
pub mod idempotency;
pub mod mailboxes;
pub mod metrics;
pub mod openapi;
pub mod outbound_csv;
pub mod problem;
pub mod public_access;
pub mod routes;
pub mod search;
pub mod secrets;
pub mod seed;
pub mod server;
pub mod state;
pub mod webhooks;

pub use app::{api, app, openapi};
pub use server::{RunningServer, ServerConfig, Services, StartError, start, start_with};
pub use state::{AppState, Settings};
