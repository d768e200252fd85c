//! Integration tests of the shared HTTP plumbing against a `wiremock` server: retries,
//! rate limits, timeouts, the concurrency cap and token renewal.

mod auth;
mod helpers;
mod retries;
