//! # crm-connector-http
//!
//! The HTTP plumbing every external CRM connector shares, so each vendor crate only
//! translates shapes:
//! - [`settings`]: the typed, serde-readable knobs (timeouts, retries, concurrency).
//! - [`client`]: [`HttpClient`], one reqwest client per connector with a per-attempt timeout,
//!   retries with exponential backoff and jitter on 429/5xx honouring `Retry-After`, a
//!   vendor hook to recognise rate limiting hidden in other statuses, and a concurrency cap;
//!   the [`Authenticator`] seam it calls for every attempt.
//! - [`credentials`]: the [`Token`] and the [`AuthContext`] of one attempt (plain data).
//! - [`retry`]: the backoff arithmetic and the `Retry-After` parser.
//! - [`auth`]: [`BearerAuth`], bearer tokens with an expiry-aware single-flight
//!   [`TokenCache`], and one forced re-authentication on 401.
//! - [`oauth`]: the OAuth 2.0 token endpoint every vendor speaks: [`request_token`] and
//!   [`parse_token_response`] into a [`TokenAnswer`] with the vendor's extra fields.
//! - [`error`]: how transport, status and decode failures become [`ConnectorError`]s.
//!
//! Secrets are [`secrecy::SecretString`]s: they never reach a `Debug` output or a log line.
//!
//! [`ConnectorError`]: crm_core::ConnectorError

pub mod auth;
pub mod client;
pub mod credentials;
pub mod error;
pub mod oauth;
pub mod retry;
pub mod settings;

pub use auth::{BearerAuth, TokenCache, TokenSource};
pub use client::{
    Authenticator, HttpClient, Idempotency, NoAuth, RawResponse, RequestFactory, Throttle, ThrottleHook, retry_after,
};
pub use credentials::{AuthContext, Token};
pub use error::{ConfigError, StatusError, Unconfirmed, decode_error, transport_error, truncate_chars, unconfirmed};
pub use oauth::{NoExtras, TokenAnswer, parse_token_response, request_token};
pub use settings::HttpSettings;

pub use reqwest;
pub use secrecy;
