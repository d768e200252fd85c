//! How failures below the vendor layer become [`ConnectorError`]s: transport failures
//! (connect, timeout, body read) are `Transport`, unreadable answers are `Decode`, and a
//! status that stayed bad through every retry is a `Transport` whose source says which.

use std::fmt;

use crm_core::ConnectorError;
use crm_core::error::BoxError;

/// A status the remote kept answering through every retry; the `source` of a
/// [`ConnectorError::Transport`].
#[derive(Debug, thiserror::Error)]
#[error("http status {status} after {attempts} attempt(s){}", vendor_text(.body))]
pub struct StatusError {
    /// The last status.
    pub status: u16,
    /// How many attempts were made.
    pub attempts: u32,
    /// The start of the last answer's body: the vendor's own words, when it gave any
    /// (whitespace folded, at most [`BODY_EXCERPT_CHARS`] characters).
    pub body: String,
}

/// How much of a failed answer's body an error quotes.
pub const BODY_EXCERPT_CHARS: usize = 300;

impl StatusError {
    /// The error for the answer `status` with `body`, after `attempts`.
    pub fn new(status: u16, attempts: u32, body: &[u8]) -> Self {
        let text = String::from_utf8_lossy(body);
        let folded = text.split_whitespace().collect::<Vec<_>>().join(" ");
        Self { status, attempts, body: truncate_chars(&folded, BODY_EXCERPT_CHARS) }
    }
}

fn vendor_text(body: &str) -> String {
    if body.is_empty() { String::new() } else { format!(": {body}") }
}

/// A write the remote answered with success but whose record could not be found
/// afterwards (the answer was unreadable or not the vendor's success shape, and reading the
/// record back by its key found nothing): the source of a retryable
/// [`ConnectorError::Transport`], so a queued write is tried again rather than marked done.
#[derive(Debug, thiserror::Error)]
#[error("the {what} was not confirmed: {why}")]
pub struct Unconfirmed {
    /// The record written (`phoneCall eid:INT-1`).
    pub what: String,
    /// What happened (`its answer was unreadable and it cannot be read back`).
    pub why: String,
}

/// A write of `what` on `system` that the remote did not confirm (see [`Unconfirmed`]).
pub fn unconfirmed(system: &str, what: impl Into<String>, why: impl Into<String>) -> ConnectorError {
    transport_error(system, Unconfirmed { what: what.into(), why: why.into() })
}

/// A transport failure of `system`.
pub fn transport_error(system: &str, source: impl Into<BoxError>) -> ConnectorError {
    ConnectorError::Transport { system: system.to_owned(), source: source.into() }
}

/// An unreadable answer from `system`.
pub fn decode_error(system: &str, message: impl fmt::Display) -> ConnectorError {
    ConnectorError::Decode { system: system.to_owned(), message: message.to_string() }
}

/// A reqwest failure: every kind (connect, timeout, body) is a transport failure except a
/// body that does not decode, which is `Decode`. reqwest's messages carry the URL, never a
/// header, so no credential leaks through them; we still strip the URL, whose query may
/// hold a phone number or an email address.
pub fn from_reqwest(system: &str, error: reqwest::Error) -> ConnectorError {
    let error = error.without_url();
    if error.is_decode() { decode_error(system, error) } else { transport_error(system, error) }
}

/// A connector configuration that cannot work (bad URL, unreadable key, a flow the
/// vendor refuses for that host). Raised when the connector is built, never during a call.
#[derive(Debug, thiserror::Error)]
#[error("invalid {system} connector configuration: {reason}")]
pub struct ConfigError {
    /// The remote system.
    pub system: String,
    /// What is wrong.
    pub reason: String,
}

impl ConfigError {
    /// A configuration error of `system`.
    pub fn new(system: &str, reason: impl fmt::Display) -> Self {
        Self { system: system.to_owned(), reason: reason.to_string() }
    }
}

/// Keeps at most `max` characters of `text` (on a character boundary): vendors cap field
/// lengths and refuse longer values.
pub fn truncate_chars(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

#[cfg(test)]
mod status_tests {
    use super::StatusError;

    #[test]
    fn a_status_error_quotes_the_start_of_the_vendors_answer() {
        let e = StatusError::new(
            503,
            2,
            b"[{\"message\": \"The server is unavailable\",\n  \"errorCode\": \"SERVER_UNAVAILABLE\"}]",
        );
        assert_eq!(
            e.to_string(),
            "http status 503 after 2 attempt(s): [{\"message\": \"The server is unavailable\", \"errorCode\": \"SERVER_UNAVAILABLE\"}]"
        );
        assert_eq!(StatusError::new(502, 1, b"").to_string(), "http status 502 after 1 attempt(s)");
        let long = "x".repeat(10_000);
        assert_eq!(StatusError::new(500, 1, long.as_bytes()).body.chars().count(), super::BODY_EXCERPT_CHARS);
    }
}
