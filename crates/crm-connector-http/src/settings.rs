//! The knobs of one connector's HTTP client, readable from the server's TOML
//! (`[connectors.salesforce.http]`). Durations are in milliseconds so the file stays plain.

use std::time::Duration;

use serde::Deserialize;

/// Timeouts, retries and concurrency for one connector. Every field has a default, so an
/// empty table is valid.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpSettings {
    /// Budget of one attempt (connect, send, read the whole body), in milliseconds.
    pub timeout_ms: u64,
    /// Connect timeout, in milliseconds.
    pub connect_timeout_ms: u64,
    /// How many times a failed attempt is retried (so `max_retries + 1` attempts at most).
    pub max_retries: u32,
    /// The first backoff delay, in milliseconds; doubled at each retry.
    pub base_delay_ms: u64,
    /// The longest backoff delay, in milliseconds.
    pub max_delay_ms: u64,
    /// The longest `Retry-After` the connector sleeps through inside a call, in milliseconds.
    /// A longer request ends the call with `RateLimited` so the caller's queue waits instead.
    pub max_retry_after_ms: u64,
    /// How many requests this connector keeps in flight at once.
    pub max_concurrency: usize,
    /// Tokens are renewed this many milliseconds before they expire.
    pub token_refresh_margin_ms: u64,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            timeout_ms: 15_000,
            connect_timeout_ms: 5_000,
            max_retries: 3,
            base_delay_ms: 250,
            max_delay_ms: 8_000,
            max_retry_after_ms: 30_000,
            max_concurrency: 8,
            token_refresh_margin_ms: 60_000,
        }
    }
}

impl HttpSettings {
    /// The same settings with another concurrency cap (NetSuite defaults to 5).
    #[must_use]
    pub fn with_max_concurrency(mut self, max_concurrency: usize) -> Self {
        self.max_concurrency = max_concurrency;
        self
    }

    /// The per-attempt timeout.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }

    /// The connect timeout.
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_millis(self.connect_timeout_ms)
    }

    /// The first backoff delay.
    pub fn base_delay(&self) -> Duration {
        Duration::from_millis(self.base_delay_ms)
    }

    /// The longest backoff delay.
    pub fn max_delay(&self) -> Duration {
        Duration::from_millis(self.max_delay_ms)
    }

    /// The longest `Retry-After` slept through inside one call.
    pub fn max_retry_after(&self) -> Duration {
        Duration::from_millis(self.max_retry_after_ms)
    }

    /// How early tokens are renewed.
    pub fn token_refresh_margin(&self) -> Duration {
        Duration::from_millis(self.token_refresh_margin_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_table_takes_every_default() {
        let settings: HttpSettings = serde_json::from_str("{}").unwrap();
        assert_eq!(settings, HttpSettings::default());
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(serde_json::from_str::<HttpSettings>(r#"{"timeout":1}"#).is_err());
    }
}
