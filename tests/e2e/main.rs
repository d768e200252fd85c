//! End-to-end tests: the real server, started on a random port on SQLite (a temporary
//! directory) and on PostgreSQL (a fresh database on `CRM_TEST_POSTGRES_URL`; when unset the
//! PostgreSQL tests say they did not run, and fail under `CI`), driven over HTTP with
//! reqwest as a client would.

mod helpers;

mod admin_api;
mod admin_connectors;
mod agent_day;
mod api_surface;
mod attachments;
mod audit;
mod auth;
mod bad_input;
mod blackbox;
mod case_structure;
mod console;
mod console_admin;
mod console_agenda;
mod console_alerts;
mod console_assist;
mod console_attachments;
mod console_calls;
mod console_interaction;
mod console_notify;
mod console_preferences;
mod console_scripts;
mod contacts;
mod conversations;
mod custom_fields;
mod external;
mod external_restart;
mod guidance;
mod idempotent_ids;
mod import_export;
mod inbound_mail;
mod knowledge;
mod mail;
mod mail_restart;
mod openapi_check;
mod outbound;
mod outbound_links;
mod outbox_restart;
mod process;
mod real_imap;
mod real_smtp;
mod replicas;
mod responses;
mod roles;
mod schemas;
mod search;
mod sla;
mod tasks_lists;
mod webhooks;
mod webhooks_bench;
mod webhooks_chaos;
