//! Entra ID client credentials (spec §2.1): `POST {authority}/{tenant}/oauth2/v2.0/token`
//! with `client_id`, `client_secret`, `grant_type=client_credentials` and
//! `scope=<environment>/.default`. Tokens carry `expires_in` and are renewed ahead of it.

use async_trait::async_trait;
use crm_connector_http::{HttpClient, NoExtras, Token, TokenSource, request_token};
use crm_core::ConnectorError;
use secrecy::{ExposeSecret, SecretString};

use crate::config::DynamicsConfig;

/// Mints Dataverse access tokens.
#[derive(Debug)]
pub struct EntraTokenSource {
    token_url: String,
    client_id: String,
    client_secret: SecretString,
    scope: String,
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

#[async_trait]
impl TokenSource for EntraTokenSource {
    async fn fetch(&self, http: &HttpClient) -> Result<Token, ConnectorError> {
        let form = [
            ("client_id", self.client_id.as_str()),
            ("scope", self.scope.as_str()),
            ("client_secret", self.client_secret.expose_secret()),
            ("grant_type", "client_credentials"),
        ];
        Ok(request_token::<NoExtras>(http, &self.token_url, &form).await?.token(None))
    }
}
