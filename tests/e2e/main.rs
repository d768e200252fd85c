//! End-to-end tests: the real server, started on a random port on SQLite (a temporary
//! directory) and on PostgreSQL (a fresh database on `CRM_TEST_POSTGRES_URL`; when unset the
//! PostgreSQL tests say they did not run, and fail under `CI`), driven over HTTP with
//! reqwest as a client would.

mod helpers;

mod admin_api;
mod agent_day;
mod api_surface;
mod auth;
mod bad_input;
mod blackbox;
mod conversations;
mod custom_fields;
mod external;
mod idempotent_ids;
mod import_export;
mod knowledge;
mod openapi_check;
mod outbox_restart;
mod replicas;
mod schemas;
mod tasks_lists;
