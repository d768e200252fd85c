//! [`HttpClient`]: one reqwest client per connector, with the retry loop every vendor call
//! goes through, and the [`Authenticator`] seam it calls: it prepares an [`AuthContext`]
//! for each attempt, applies it to the built request (a bearer header, or a per-request
//! signature for NetSuite TBA) and is told when the remote answered 401.
//!
//! One call = up to `max_retries + 1` attempts, each bounded by the per-attempt timeout and
//! holding a permit of the connector's concurrency cap only while on the wire:
//! - a transport failure (connect error) is retried; a timeout or broken body only when the
//!   request is [`Idempotency::Idempotent`], since the remote may have acted on it;
//! - 429, or anything the vendor's [`ThrottleHook`] calls rate limiting, is retried after
//!   `Retry-After` (seconds or HTTP date) or the backoff delay; a `Retry-After` longer than
//!   the configured ceiling ends the call with `RateLimited` at once;
//! - 500/502/503/504 are retried with exponential backoff and jitter when idempotent;
//! - 401 asks the [`Authenticator`] for fresh credentials and retries once;
//! - anything else is handed back as a [`RawResponse`] for the vendor crate to interpret.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use crm_core::ConnectorError;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;
use tracing::Instrument;

use crate::credentials::AuthContext;
use crate::error::{ConfigError, StatusError, decode_error, from_reqwest, transport_error};
use crate::retry::{backoff_delay, parse_retry_after};
use crate::settings::HttpSettings;

/// Whether a request may be sent again after it possibly reached the remote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Idempotency {
    /// Reads, upserts keyed by an external id, deletes: safe to resend.
    Idempotent,
    /// Creates: resent only when the remote certainly did not act (connect error, 429).
    NotIdempotent,
}

/// A rate-limit verdict from a vendor hook.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Throttle {
    /// How long the remote asked us to wait, when it said.
    pub retry_after: Option<Duration>,
    /// Whether retrying inside this call makes sense (Salesforce's 24 h quota: no).
    pub retry: bool,
}

/// Recognises rate limiting that a vendor signals with another status than 429
/// (Salesforce: 403 `REQUEST_LIMIT_EXCEEDED`). Called on every non-success answer before
/// the default rules; `None` lets the default rules decide.
pub type ThrottleHook = Arc<dyn Fn(StatusCode, &HeaderMap, &[u8]) -> Option<Throttle> + Send + Sync>;

/// A builder of one attempt's request, called again for every attempt so each one carries
/// fresh credentials and a fresh body.
pub type RequestFactory<'a> =
    &'a (dyn Fn(&reqwest::Client, &AuthContext) -> Result<reqwest::RequestBuilder, ConnectorError> + Send + Sync);

/// The final answer of a call, body read.
#[derive(Debug)]
pub struct RawResponse {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Vec<u8>,
}

impl RawResponse {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        self.status.is_success()
    }

    /// A header as text, when present and readable.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body parsed as JSON.
    ///
    /// # Errors
    /// `Decode` when the body is not the expected JSON.
    pub fn json<T: DeserializeOwned>(&self, system: &str) -> Result<T, ConnectorError> {
        serde_json::from_slice(&self.body).map_err(|e| decode_error(system, format!("status {}: {e}", self.status)))
    }

    /// The body as text, invalid UTF-8 replaced.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Applies credentials to requests.
#[async_trait]
pub trait Authenticator: Send + Sync + fmt::Debug {
    /// Prepares one attempt (fetches or reuses a token).
    ///
    /// # Errors
    /// `Auth` when credentials are refused; otherwise as any call.
    async fn context(&self, http: &HttpClient) -> Result<AuthContext, ConnectorError>;

    /// Adds the credentials to a built request.
    ///
    /// # Errors
    /// When the request cannot be signed.
    fn apply(&self, context: &AuthContext, request: &mut reqwest::Request) -> Result<(), ConnectorError>;

    /// The remote answered 401 to a request made with `context`. Returns whether a retry
    /// with fresh credentials may succeed; the client retries at most once per call.
    async fn rejected(&self, context: &AuthContext) -> bool;
}

/// No credentials (token endpoints themselves).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoAuth;

#[async_trait]
impl Authenticator for NoAuth {
    async fn context(&self, _http: &HttpClient) -> Result<AuthContext, ConnectorError> {
        Ok(AuthContext::default())
    }

    fn apply(&self, _context: &AuthContext, _request: &mut reqwest::Request) -> Result<(), ConnectorError> {
        Ok(())
    }

    async fn rejected(&self, _context: &AuthContext) -> bool {
        false
    }
}

/// The shared HTTP client of one connector.
#[derive(Clone)]
pub struct HttpClient {
    system: String,
    client: reqwest::Client,
    settings: HttpSettings,
    permits: Arc<Semaphore>,
    throttle: Option<ThrottleHook>,
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("system", &self.system)
            .field("settings", &self.settings)
            .field("throttle_hook", &self.throttle.is_some())
            .finish_non_exhaustive()
    }
}

impl HttpClient {
    /// A client for `system` (used in errors and logs) with `settings`.
    ///
    /// # Errors
    /// When the TLS stack cannot be initialised.
    pub fn new(system: impl Into<String>, settings: HttpSettings) -> Result<Self, ConfigError> {
        let system = system.into();
        let client = reqwest::Client::builder()
            .tls_backend_rustls()
            .connect_timeout(settings.connect_timeout())
            .user_agent(concat!("crm-engine/", env!("CARGO_PKG_VERSION")))
            // Vendors answer 3xx meaningfully (Salesforce 300 on ambiguous upserts).
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ConfigError::new(&system, e))?;
        let permits = Arc::new(Semaphore::new(settings.max_concurrency.max(1)));
        Ok(Self { system, client, settings, permits, throttle: None })
    }

    /// The same client with a vendor rate-limit hook.
    #[must_use]
    pub fn with_throttle_hook(mut self, hook: ThrottleHook) -> Self {
        self.throttle = Some(hook);
        self
    }

    /// The system name used in errors and logs.
    pub fn system(&self) -> &str {
        &self.system
    }

    /// The settings.
    pub fn settings(&self) -> &HttpSettings {
        &self.settings
    }

    /// Sends one call: builds a request per attempt with `build`, authenticates it with
    /// `auth`, and retries as the module documentation says. Returns the first answer that
    /// is neither retried nor a rate limit, whatever its status.
    ///
    /// # Errors
    /// `RateLimited` when still throttled after the retries (or asked to wait longer than
    /// the ceiling), `Transport` when the remote is unreachable, times out or keeps
    /// failing with 5xx, and whatever `auth` fails with.
    pub async fn send(
        &self,
        auth: &dyn Authenticator,
        idempotency: Idempotency,
        build: RequestFactory<'_>,
    ) -> Result<RawResponse, ConnectorError> {
        let span = tracing::debug_span!("crm_http", system = %self.system, method = tracing::field::Empty, path = tracing::field::Empty);
        self.send_inner(auth, idempotency, build, &span).instrument(span.clone()).await
    }

    async fn send_inner(
        &self,
        auth: &dyn Authenticator,
        idempotency: Idempotency,
        build: RequestFactory<'_>,
        span: &tracing::Span,
    ) -> Result<RawResponse, ConnectorError> {
        let mut retries = 0u32;
        let mut reauthenticated = false;
        loop {
            let context = auth.context(self).await?;
            let mut request = build(&self.client, &context)?
                .timeout(self.settings.timeout())
                .build()
                .map_err(|e| from_reqwest(&self.system, e))?;
            auth.apply(&context, &mut request)?;
            let method = request.method().clone();
            span.record("method", method.as_str());
            span.record("path", request.url().path());

            let started = tokio::time::Instant::now();
            let outcome = self.attempt(request).await;
            let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);

            let response = match outcome {
                Ok(response) => response,
                Err(error) => {
                    let safe = error.is_connect() || idempotency == Idempotency::Idempotent;
                    if safe && retries < self.settings.max_retries {
                        let delay = self.backoff(retries);
                        tracing::warn!(attempt = retries + 1, elapsed_ms, delay_ms = millis(delay), error = %error.without_url_ref(), "transport failure, retrying");
                        retries += 1;
                        tokio::time::sleep(delay).await;
                        continue;
                    }
                    tracing::warn!(attempt = retries + 1, elapsed_ms, "transport failure");
                    return Err(from_reqwest(&self.system, error));
                }
            };
            let status = response.status;
            tracing::debug!(attempt = retries + 1, status = status.as_u16(), elapsed_ms, "answer");

            if status == StatusCode::UNAUTHORIZED && !reauthenticated && auth.rejected(&context).await {
                tracing::info!("credentials refused, re-authenticating once");
                reauthenticated = true;
                continue;
            }
            if status.is_success() {
                return Ok(response);
            }

            if let Some(throttle) = self.throttle_of(&response) {
                let wait = throttle.retry_after;
                let too_long = wait.is_some_and(|w| w > self.settings.max_retry_after());
                if throttle.retry && !too_long && retries < self.settings.max_retries {
                    let delay = wait.unwrap_or_else(|| self.backoff(retries));
                    tracing::warn!(
                        attempt = retries + 1,
                        status = status.as_u16(),
                        delay_ms = millis(delay),
                        "rate limited, retrying"
                    );
                    retries += 1;
                    tokio::time::sleep(delay).await;
                    continue;
                }
                tracing::warn!(status = status.as_u16(), retry_after_ms = wait.map(millis), "rate limited");
                return Err(ConnectorError::RateLimited { system: self.system.clone(), retry_after: wait });
            }

            if is_transient(status) {
                if idempotency == Idempotency::Idempotent && retries < self.settings.max_retries {
                    let backoff = self.backoff(retries);
                    let delay = retry_after(&response.headers)
                        .filter(|w| *w <= self.settings.max_retry_after())
                        .map_or(backoff, |w| w.max(backoff));
                    tracing::warn!(
                        attempt = retries + 1,
                        status = status.as_u16(),
                        delay_ms = millis(delay),
                        "server failure, retrying"
                    );
                    retries += 1;
                    tokio::time::sleep(delay).await;
                    continue;
                }
                return Err(transport_error(
                    &self.system,
                    StatusError::new(status.as_u16(), retries + 1, &response.body),
                ));
            }
            return Ok(response);
        }
    }

    /// One attempt on the wire, holding a concurrency permit until the body is read.
    async fn attempt(&self, request: reqwest::Request) -> Result<RawResponse, reqwest::Error> {
        let _permit = self.permits.acquire().await;
        let response = self.client.execute(request).await?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await?.to_vec();
        Ok(RawResponse { status, headers, body })
    }

    /// The backoff delay before retry number `retries` (jittered, capped).
    fn backoff(&self, retries: u32) -> Duration {
        backoff_delay(retries, self.settings.base_delay(), self.settings.max_delay())
    }

    fn throttle_of(&self, response: &RawResponse) -> Option<Throttle> {
        if let Some(hook) = &self.throttle
            && let Some(throttle) = hook(response.status, &response.headers, &response.body)
        {
            return Some(throttle);
        }
        (response.status == StatusCode::TOO_MANY_REQUESTS)
            .then(|| Throttle { retry_after: retry_after(&response.headers), retry: true })
    }
}

/// The `Retry-After` of an answer, when present and readable.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?;
    parse_retry_after(value, SystemTime::now())
}

fn is_transient(status: StatusCode) -> bool {
    matches!(status.as_u16(), 500 | 502 | 503 | 504)
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Extension so logs never carry the URL (its query may hold personal data).
trait WithoutUrlRef {
    fn without_url_ref(&self) -> String;
}

impl WithoutUrlRef for reqwest::Error {
    fn without_url_ref(&self) -> String {
        let mut text = self.to_string();
        if let Some(url) = self.url() {
            text = text.replace(url.as_str(), "<url>");
        }
        text
    }
}
