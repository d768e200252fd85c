//! OAuth 2.0 client credentials, machine to machine (spec §3.2):
//! `POST /services/rest/auth/oauth2/v1/token` with `grant_type=client_credentials`,
//! `client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer` and a
//! JWT signed PS256 or ES256 whose header names the certificate id as `kid` and whose
//! claims are `iss`, `scope` (a JSON array), `aud` (the token URL), `iat`, `exp`.
//! The answer's `expires_in` may be a string or a number; there is no refresh token.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use crm_connector_http::{ConfigError, HttpClient, NoExtras, Token, TokenSource, request_token};
use crm_core::ConnectorError;
use crm_core::time::Clock;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::config::SigningAlgorithm;
use crate::system::SYSTEM;

/// The client assertion type.
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The claims of an M2M assertion.
#[derive(Debug, Serialize, Deserialize)]
pub struct AssertionClaims {
    /// Client id.
    pub iss: String,
    /// Scopes.
    pub scope: Vec<String>,
    /// Token URL.
    pub aud: String,
    /// Issued at.
    pub iat: i64,
    /// Expiry.
    pub exp: i64,
}

/// Mints M2M access tokens.
pub struct M2mTokenSource {
    token_url: String,
    client_id: String,
    certificate_id: String,
    algorithm: Algorithm,
    key: EncodingKey,
    scopes: Vec<String>,
    lifetime_secs: i64,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for M2mTokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("M2mTokenSource")
            .field("token_url", &self.token_url)
            .field("client_id", &self.client_id)
            .field("certificate_id", &self.certificate_id)
            .field("algorithm", &self.algorithm)
            .field("key", &"[REDACTED]")
            .finish_non_exhaustive()
    }
}

/// The parameters of [`M2mTokenSource::new`].
#[derive(Debug)]
pub struct M2mSettings<'a> {
    /// The REST host.
    pub base_url: &'a str,
    /// Client id.
    pub client_id: &'a str,
    /// Certificate id.
    pub certificate_id: &'a str,
    /// PEM private key.
    pub private_key_pem: &'a SecretString,
    /// Algorithm.
    pub algorithm: SigningAlgorithm,
    /// Scopes.
    pub scopes: &'a [String],
    /// Assertion lifetime.
    pub lifetime_secs: u64,
}

impl M2mTokenSource {
    /// A token source.
    ///
    /// # Errors
    /// When the key does not fit the algorithm or the lifetime is 60 minutes or more.
    pub fn new(settings: M2mSettings<'_>, clock: Arc<dyn Clock>) -> Result<Self, ConfigError> {
        let pem = settings.private_key_pem.expose_secret().as_bytes();
        let (algorithm, key) = match settings.algorithm {
            SigningAlgorithm::Ps256 => (Algorithm::PS256, EncodingKey::from_rsa_pem(pem)),
            SigningAlgorithm::Es256 => (Algorithm::ES256, EncodingKey::from_ec_pem(pem)),
        };
        let key = key.map_err(|e| ConfigError::new(SYSTEM, format!("unreadable private key: {e}")))?;
        if settings.lifetime_secs == 0 || settings.lifetime_secs >= 3_600 {
            return Err(ConfigError::new(SYSTEM, "assertion_lifetime_secs must be between 1 and 3599"));
        }
        Ok(Self {
            token_url: format!("{}/services/rest/auth/oauth2/v1/token", settings.base_url),
            client_id: settings.client_id.to_owned(),
            certificate_id: settings.certificate_id.to_owned(),
            algorithm,
            key,
            scopes: settings.scopes.to_vec(),
            lifetime_secs: i64::try_from(settings.lifetime_secs).unwrap_or(300),
            clock,
        })
    }

    /// A signed assertion.
    ///
    /// # Errors
    /// When signing fails.
    pub fn assertion(&self) -> Result<SecretString, ConnectorError> {
        let iat = self.clock.now().timestamp();
        let claims = AssertionClaims {
            iss: self.client_id.clone(),
            scope: self.scopes.clone(),
            aud: self.token_url.clone(),
            iat,
            exp: iat + self.lifetime_secs,
        };
        let mut header = Header::new(self.algorithm);
        header.kid = Some(self.certificate_id.clone());
        let jwt = jsonwebtoken::encode(&header, &claims, &self.key).map_err(|e| ConnectorError::Auth {
            system: SYSTEM.to_owned(),
            message: format!("cannot sign the assertion: {e}"),
        })?;
        Ok(SecretString::from(jwt))
    }
}

#[async_trait]
impl TokenSource for M2mTokenSource {
    async fn fetch(&self, http: &HttpClient) -> Result<Token, ConnectorError> {
        let assertion = self.assertion()?;
        let form = [
            ("grant_type", "client_credentials"),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", assertion.expose_secret()),
        ];
        // `expires_in` comes as a string ("3600"); the shared parser reads both forms.
        Ok(request_token::<NoExtras>(http, &self.token_url, &form).await?.token(None))
    }
}
