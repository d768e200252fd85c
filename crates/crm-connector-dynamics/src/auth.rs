//! Entra ID client credentials (spec §2.1): `POST {authority}/{tenant}/oauth2/v2.0/token`
//! with `client_id`, `client_secret`, `grant_type=client_credentials` and
//! `scope=<environment>/.default`. Tokens carry `expires_in` and are renewed ahead of it.

use std::time::Duration;

use async_trait::async_trait;
use crm_connector_http::{AuthContext, HttpClient, Idempotency, NoAuth, Token, TokenSource};
use crm_core::ConnectorError;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::config::DynamicsConfig;
use crate::system::SYSTEM;

/// Mints Dataverse access tokens.
#[derive(Debug)]
pub struct EntraTokenSource {
    token_url: String,
    client_id: String,
    client_secret: SecretString,
    scope: String,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct TokenRefusal {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

impl EntraTokenSource {
    /// The token source of `config`.
    pub fn new(config: &DynamicsConfig) -> Self {
        let environment = config.environment_url.trim_end_matches('/');
        Self {
            token_url: format!("{}/{}/oauth2/v2.0/token", config.authority_url.trim_end_matches('/'), config.tenant_id),
            client_id: config.client_id.clone(),
            client_secret: config.client_secret.clone(),
            scope: config.scope.clone().unwrap_or_else(|| format!("{environment}/.default")),
        }
    }
}

/// `expires_in` as a number or a numeric string.
pub(crate) fn seconds(value: Option<&serde_json::Value>) -> Option<Duration> {
    match value? {
        serde_json::Value::Number(n) => n.as_u64().map(Duration::from_secs),
        serde_json::Value::String(s) => s.trim().parse().ok().map(Duration::from_secs),
        _ => None,
    }
}

#[async_trait]
impl TokenSource for EntraTokenSource {
    async fn fetch(&self, http: &HttpClient) -> Result<Token, ConnectorError> {
        let answer = http
            .send(&NoAuth, Idempotency::Idempotent, &|client: &reqwest::Client, _: &AuthContext| {
                Ok(client.post(self.token_url.as_str()).form(&[
                    ("client_id", self.client_id.as_str()),
                    ("scope", self.scope.as_str()),
                    ("client_secret", self.client_secret.expose_secret()),
                    ("grant_type", "client_credentials"),
                ]))
            })
            .await?;
        if !answer.is_success() {
            let message = match serde_json::from_slice::<TokenRefusal>(&answer.body) {
                Ok(r) => match r.error_description {
                    Some(d) => format!("{}: {d}", r.error),
                    None => r.error,
                },
                Err(_) => format!("token endpoint answered {}", answer.status),
            };
            return Err(ConnectorError::Auth { system: SYSTEM.to_owned(), message });
        }
        let token: TokenAnswer = answer.json(SYSTEM)?;
        Ok(Token::new(SecretString::from(token.access_token), seconds(token.expires_in.as_ref())))
    }
}
