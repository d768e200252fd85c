//! Test helpers: fast settings and a request factory for a path on the mock server.

use crm_connector_http::{AuthContext, HttpClient, HttpSettings};
use crm_core::ConnectorError;

/// Settings with tiny delays so retries cost milliseconds.
pub(crate) fn fast_settings() -> HttpSettings {
    HttpSettings {
        timeout_ms: 2_000,
        connect_timeout_ms: 500,
        max_retries: 2,
        base_delay_ms: 5,
        max_delay_ms: 20,
        max_retry_after_ms: 500,
        max_concurrency: 4,
        token_refresh_margin_ms: 0,
    }
}

pub(crate) fn client(settings: HttpSettings) -> HttpClient {
    HttpClient::new("test", settings).expect("client")
}

/// A factory for `GET {base}{path}`.
pub(crate) fn get(
    base: String,
    path: &'static str,
) -> impl Fn(&reqwest::Client, &AuthContext) -> Result<reqwest::RequestBuilder, ConnectorError> + Send + Sync {
    move |client, _ctx| Ok(client.get(format!("{base}{path}")))
}
