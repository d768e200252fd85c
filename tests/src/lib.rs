//! # crm-e2e
//!
//! End-to-end tests of the CRM engine live in `e2e/` (one test binary): they start the real
//! server on a random port, on SQLite and on PostgreSQL, and drive it over HTTP as a client
//! would. This library is empty on purpose.
