//! Authentication seam. A connector hands [`HttpClient::send`] an [`Authenticator`], which
//! prepares an [`AuthContext`] for each attempt, applies it to the built request (a bearer
//! header, or a per-request signature for NetSuite TBA) and is told when the remote
//! answered 401, so it can drop a stale token and let the call retry once.
//!
//! Bearer tokens live in a [`TokenCache`]: expiry-aware (renewed a margin before they
//! expire; tokens without a lifetime are kept until a 401), single-flight (one renewal at
//! a time, concurrent callers wait for it and share the result), and invalidated only if
//! the token that failed is still the current one, so a burst of 401s mints one token.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use crm_core::ConnectorError;
use reqwest::header::{AUTHORIZATION, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::client::HttpClient;

/// An access token, with where to use it and until when.
#[derive(Debug)]
pub struct Token {
    access_token: SecretString,
    instance_url: Option<String>,
    expires_at: Option<Instant>,
}

impl Token {
    /// A token valid for `lifetime` from now (`None`: until the remote refuses it).
    pub fn new(access_token: SecretString, lifetime: Option<Duration>) -> Self {
        Self { access_token, instance_url: None, expires_at: lifetime.map(|l| Instant::now() + l) }
    }

    /// The same token, bound to the host the API calls must go to (Salesforce
    /// `instance_url`).
    #[must_use]
    pub fn with_instance_url(mut self, instance_url: impl Into<String>) -> Self {
        self.instance_url = Some(instance_url.into());
        self
    }

    /// The secret.
    pub fn access_token(&self) -> &SecretString {
        &self.access_token
    }

    /// The host API calls go to, when the token said.
    pub fn instance_url(&self) -> Option<&str> {
        self.instance_url.as_deref()
    }

    /// Whether the token is still usable for at least `margin`.
    pub fn is_fresh(&self, margin: Duration) -> bool {
        self.expires_at.is_none_or(|at| Instant::now() + margin < at)
    }
}

/// Mints new tokens (a grant against the vendor's token endpoint).
#[async_trait]
pub trait TokenSource: Send + Sync + fmt::Debug {
    /// A new token.
    ///
    /// # Errors
    /// `Auth` when the grant is refused; otherwise as any call.
    async fn fetch(&self, http: &HttpClient) -> Result<Token, ConnectorError>;
}

/// The current token of one connector.
#[derive(Debug)]
pub struct TokenCache {
    slot: Mutex<Option<Arc<Token>>>,
    margin: Duration,
    minted: AtomicU64,
}

impl TokenCache {
    /// An empty cache renewing tokens `margin` before they expire.
    pub fn new(margin: Duration) -> Self {
        Self { slot: Mutex::new(None), margin, minted: AtomicU64::new(0) }
    }

    /// The current token, minting one when there is none or it is about to expire. Only
    /// one caller mints at a time; the others wait and reuse its token.
    ///
    /// # Errors
    /// Whatever the source fails with.
    pub async fn get(&self, source: &dyn TokenSource, http: &HttpClient) -> Result<Arc<Token>, ConnectorError> {
        let mut slot = self.slot.lock().await;
        if let Some(token) = slot.as_ref()
            && token.is_fresh(self.margin)
        {
            return Ok(Arc::clone(token));
        }
        tracing::debug!(system = http.system(), "minting an access token");
        let token = Arc::new(source.fetch(http).await?);
        self.minted.fetch_add(1, Ordering::Relaxed);
        *slot = Some(Arc::clone(&token));
        Ok(token)
    }

    /// Forgets `stale` if it is still the current token (a concurrent caller may already
    /// have replaced it).
    pub async fn invalidate(&self, stale: &Arc<Token>) {
        let mut slot = self.slot.lock().await;
        if slot.as_ref().is_some_and(|current| Arc::ptr_eq(current, stale)) {
            *slot = None;
        }
    }

    /// How many tokens this cache minted (for tests and metrics).
    pub fn minted(&self) -> u64 {
        self.minted.load(Ordering::Relaxed)
    }
}

/// What an [`Authenticator`] prepared for one attempt.
#[derive(Clone, Debug, Default)]
pub struct AuthContext {
    token: Option<Arc<Token>>,
}

impl AuthContext {
    /// A context carrying a bearer token.
    pub fn with_token(token: Arc<Token>) -> Self {
        Self { token: Some(token) }
    }

    /// The token, when there is one.
    pub fn token(&self) -> Option<&Arc<Token>> {
        self.token.as_ref()
    }

    /// The host API calls go to, when the token said.
    pub fn instance_url(&self) -> Option<&str> {
        self.token.as_ref().and_then(|t| t.instance_url())
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

/// `Authorization: Bearer <token>` from a cached token source.
#[derive(Debug)]
pub struct BearerAuth<S> {
    source: S,
    cache: TokenCache,
}

impl<S: TokenSource> BearerAuth<S> {
    /// Bearer authentication with tokens from `source`, renewed `margin` before expiry.
    pub fn new(source: S, margin: Duration) -> Self {
        Self { source, cache: TokenCache::new(margin) }
    }

    /// The token cache.
    pub fn cache(&self) -> &TokenCache {
        &self.cache
    }

    /// The token source.
    pub fn source(&self) -> &S {
        &self.source
    }
}

#[async_trait]
impl<S: TokenSource> Authenticator for BearerAuth<S> {
    async fn context(&self, http: &HttpClient) -> Result<AuthContext, ConnectorError> {
        Ok(AuthContext::with_token(self.cache.get(&self.source, http).await?))
    }

    fn apply(&self, context: &AuthContext, request: &mut reqwest::Request) -> Result<(), ConnectorError> {
        let Some(token) = context.token() else {
            return Ok(());
        };
        let mut value =
            HeaderValue::try_from(format!("Bearer {}", token.access_token().expose_secret())).map_err(|_| {
                ConnectorError::Auth {
                    system: String::from("http"),
                    message: String::from("the access token is not a valid header value"),
                }
            })?;
        value.set_sensitive(true);
        request.headers_mut().insert(AUTHORIZATION, value);
        Ok(())
    }

    async fn rejected(&self, context: &AuthContext) -> bool {
        match context.token() {
            Some(token) => {
                self.cache.invalidate(token).await;
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_without_lifetime_stays_fresh() {
        let token = Token::new(SecretString::from("t"), None);
        assert!(token.is_fresh(Duration::from_secs(3600)));
    }

    #[tokio::test]
    async fn a_token_inside_the_margin_is_stale() {
        let token = Token::new(SecretString::from("t"), Some(Duration::from_secs(30)));
        assert!(!token.is_fresh(Duration::from_secs(60)));
        assert!(token.is_fresh(Duration::from_secs(10)));
    }

    #[test]
    fn token_debug_hides_the_secret() {
        let token = Token::new(SecretString::from("super-secret-value"), None);
        assert!(!format!("{token:?}").contains("super-secret-value"));
    }
}
