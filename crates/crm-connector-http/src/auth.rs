//! Bearer authentication: [`BearerAuth`], the [`Authenticator`] that sends
//! `Authorization: Bearer <token>` and drops a token the remote refused with 401, so the
//! call is retried once with a new one.
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
use secrecy::ExposeSecret;
use tokio::sync::Mutex;

use crate::client::{Authenticator, HttpClient};
use crate::credentials::{AuthContext, Token};

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
