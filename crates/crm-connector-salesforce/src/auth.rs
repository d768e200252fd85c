//! OAuth 2.0 against `{login}/services/oauth2/token` (spec §1.1): the JWT bearer flow (an
//! RS256 assertion with `iss`/`sub`/`aud`/`exp`, no client secret) and client credentials
//! (form `client_id`/`client_secret`). Salesforce returns no `expires_in`, so the token is
//! kept for the configured lifetime or until an API call answers 401.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use crm_connector_http::{ConfigError, HttpClient, Token, TokenSource, request_token};
use crm_core::ConnectorError;
use crm_core::time::Clock;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::config::{SalesforceAuth, SalesforceConfig};
use crate::system::SYSTEM;

/// The JWT bearer grant type.
pub const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// The claims of a JWT bearer assertion.
#[derive(Debug, Serialize, Deserialize)]
pub struct AssertionClaims {
    /// Consumer key.
    pub iss: String,
    /// Username.
    pub sub: String,
    /// Login host.
    pub aud: String,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
}

enum Flow {
    JwtBearer { consumer_key: String, username: String, audience: String, lifetime: Duration, key: EncodingKey },
    ClientCredentials { client_id: String, client_secret: SecretString },
}

impl fmt::Debug for Flow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Flow::JwtBearer { consumer_key, username, audience, lifetime, .. } => f
                .debug_struct("JwtBearer")
                .field("consumer_key", consumer_key)
                .field("username", username)
                .field("audience", audience)
                .field("lifetime", lifetime)
                .field("key", &"[REDACTED]")
                .finish(),
            Flow::ClientCredentials { client_id, client_secret } => f
                .debug_struct("ClientCredentials")
                .field("client_id", client_id)
                .field("client_secret", client_secret)
                .finish(),
        }
    }
}

/// Mints Salesforce access tokens.
#[derive(Debug)]
pub struct SalesforceTokenSource {
    token_url: String,
    flow: Flow,
    token_lifetime: Duration,
    clock: Arc<dyn Clock>,
}

/// Salesforce's extra field in the token answer: the host API calls go to.
#[derive(Debug, Deserialize)]
struct Instance {
    instance_url: String,
}

impl SalesforceTokenSource {
    /// Builds the token source of `config`.
    ///
    /// # Errors
    /// When the private key is unreadable, or client credentials are configured against
    /// the shared `login`/`test` hosts, which refuse that flow.
    pub fn new(config: &SalesforceConfig, clock: Arc<dyn Clock>) -> Result<Self, ConfigError> {
        let login = config.login_url.trim_end_matches('/');
        let flow = match &config.auth {
            SalesforceAuth::JwtBearer {
                consumer_key,
                username,
                private_key_pem,
                audience,
                assertion_lifetime_secs,
            } => {
                let key = EncodingKey::from_rsa_pem(private_key_pem.expose_secret().as_bytes())
                    .map_err(|e| ConfigError::new(SYSTEM, format!("unreadable RSA private key: {e}")))?;
                let audience = audience.clone().unwrap_or_else(|| {
                    if login.contains("test.salesforce.com") {
                        String::from("https://test.salesforce.com")
                    } else {
                        String::from("https://login.salesforce.com")
                    }
                });
                Flow::JwtBearer {
                    consumer_key: consumer_key.clone(),
                    username: username.clone(),
                    audience,
                    lifetime: Duration::from_secs(*assertion_lifetime_secs),
                    key,
                }
            }
            SalesforceAuth::ClientCredentials { client_id, client_secret } => {
                if ["https://login.salesforce.com", "https://test.salesforce.com"].contains(&login) {
                    return Err(ConfigError::new(
                        SYSTEM,
                        "the client credentials flow needs the org's My Domain login url",
                    ));
                }
                Flow::ClientCredentials { client_id: client_id.clone(), client_secret: client_secret.clone() }
            }
        };
        Ok(Self {
            token_url: format!("{login}/services/oauth2/token"),
            flow,
            token_lifetime: Duration::from_secs(config.token_lifetime_secs),
            clock,
        })
    }

    /// The signed assertion of the JWT bearer flow (`None` for client credentials).
    ///
    /// # Errors
    /// When signing fails.
    pub fn assertion(&self) -> Result<Option<SecretString>, ConnectorError> {
        let Flow::JwtBearer { consumer_key, username, audience, lifetime, key } = &self.flow else {
            return Ok(None);
        };
        let exp = self.clock.now().timestamp() + i64::try_from(lifetime.as_secs()).unwrap_or(180);
        let claims = AssertionClaims { iss: consumer_key.clone(), sub: username.clone(), aud: audience.clone(), exp };
        let jwt = jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, key).map_err(|e| {
            ConnectorError::Auth { system: SYSTEM.to_owned(), message: format!("cannot sign the assertion: {e}") }
        })?;
        Ok(Some(SecretString::from(jwt)))
    }

    fn form(&self) -> Result<Vec<(&'static str, SecretString)>, ConnectorError> {
        let plain = |s: &str| SecretString::from(s.to_owned());
        Ok(match &self.flow {
            Flow::JwtBearer { .. } => {
                let assertion = self.assertion()?.unwrap_or_else(|| plain(""));
                vec![("grant_type", plain(JWT_BEARER_GRANT)), ("assertion", assertion)]
            }
            Flow::ClientCredentials { client_id, client_secret } => vec![
                ("grant_type", plain("client_credentials")),
                ("client_id", plain(client_id)),
                ("client_secret", client_secret.clone()),
            ],
        })
    }
}

#[async_trait]
impl TokenSource for SalesforceTokenSource {
    async fn fetch(&self, http: &HttpClient) -> Result<Token, ConnectorError> {
        let form = self.form()?;
        let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.expose_secret())).collect();
        let answer = request_token::<Instance>(http, &self.token_url, &fields).await?;
        // Salesforce announces no lifetime: the configured one applies.
        Ok(answer.token(Some(self.token_lifetime)).with_instance_url(answer.extras.instance_url.trim_end_matches('/')))
    }
}
