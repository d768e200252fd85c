//! Entra ID client credentials (spec §2.1): `POST {authority}/{tenant}/oauth2/v2.0/token`
//! with `client_id`, `grant_type=client_credentials`, `scope=<environment>/.default` and
//! either `client_secret` or a certificate's client assertion (`client_assertion_type =
//! urn:ietf:params:oauth:client-assertion-type:jwt-bearer`, `client_assertion`: a JWT
//! signed PS256 with the certificate's key, its header naming the certificate by
//! `x5t#S256` and `x5t` thumbprints, its claims `aud` = the token URL, `iss` = `sub` =
//! the client id, a fresh `jti`, `nbf`, `iat`, `exp`). Tokens carry `expires_in` and are
//! renewed ahead of it.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use aws_lc_rs::digest;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use crm_connector_http::{ConfigError, HttpClient, NoExtras, Token, TokenSource, request_token};
use crm_core::ConnectorError;
use crm_core::time::Clock;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::config::{ClientCertificate, DynamicsConfig};
use crate::system::SYSTEM;

/// The client assertion type.
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How long a client assertion is valid.
const ASSERTION_LIFETIME_SECS: i64 = 600;

/// The claims of a client assertion.
#[derive(Debug, Serialize, Deserialize)]
pub struct AssertionClaims {
    /// The token URL.
    pub aud: String,
    /// The client id.
    pub iss: String,
    /// The client id.
    pub sub: String,
    /// A fresh id.
    pub jti: String,
    /// Not before.
    pub nbf: i64,
    /// Issued at.
    pub iat: i64,
    /// Expiry.
    pub exp: i64,
}

/// How the app proves itself.
enum Credential {
    Secret(SecretString),
    Certificate { key: EncodingKey, x5t: String, x5t_s256: String },
}

/// Mints Dataverse access tokens.
pub struct EntraTokenSource {
    token_url: String,
    client_id: String,
    credential: Credential,
    scope: String,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for EntraTokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let credential = match &self.credential {
            Credential::Secret(_) => "client secret",
            Credential::Certificate { .. } => "certificate",
        };
        f.debug_struct("EntraTokenSource")
            .field("token_url", &self.token_url)
            .field("client_id", &self.client_id)
            .field("credential", &credential)
            .finish_non_exhaustive()
    }
}

impl EntraTokenSource {
    /// The token source of `config`; `clock` dates the client assertions.
    ///
    /// # Errors
    /// Neither or both of `client_secret` and `client_certificate`; an unreadable
    /// certificate or key.
    pub fn new(config: &DynamicsConfig, clock: Arc<dyn Clock>) -> Result<Self, ConfigError> {
        let environment = config.environment_url.trim_end_matches('/');
        let credential = match (&config.client_secret, &config.client_certificate) {
            (Some(secret), None) => Credential::Secret(secret.clone()),
            (None, Some(certificate)) => certificate_credential(certificate)?,
            (Some(_), Some(_)) => {
                return Err(ConfigError::new(SYSTEM, "give client_secret or client_certificate, not both"));
            }
            (None, None) => return Err(ConfigError::new(SYSTEM, "client_secret or client_certificate is required")),
        };
        Ok(Self {
            token_url: format!("{}/{}/oauth2/v2.0/token", config.authority_url.trim_end_matches('/'), config.tenant_id),
            client_id: config.client_id.clone(),
            credential,
            scope: config.scope.clone().unwrap_or_else(|| format!("{environment}/.default")),
            clock,
        })
    }

    /// A signed client assertion (certificate credential only).
    fn assertion(&self, key: &EncodingKey, x5t: &str, x5t_s256: &str) -> Result<String, ConnectorError> {
        let now = self.clock.now().timestamp();
        let claims = AssertionClaims {
            aud: self.token_url.clone(),
            iss: self.client_id.clone(),
            sub: self.client_id.clone(),
            jti: uuid::Uuid::now_v7().to_string(),
            nbf: now,
            iat: now,
            exp: now + ASSERTION_LIFETIME_SECS,
        };
        let mut header = Header::new(Algorithm::PS256);
        header.x5t = Some(x5t.to_owned());
        header.x5t_s256 = Some(x5t_s256.to_owned());
        jsonwebtoken::encode(&header, &claims, key).map_err(|e| ConnectorError::Auth {
            system: SYSTEM.to_owned(),
            message: format!("cannot sign the client assertion: {e}"),
        })
    }
}

fn certificate_credential(certificate: &ClientCertificate) -> Result<Credential, ConfigError> {
    let fail = |what: &str, e: &dyn fmt::Display| ConfigError::new(SYSTEM, format!("client_certificate: {what}: {e}"));
    let block = pem::parse(certificate.certificate_pem.as_bytes()).map_err(|e| fail("unreadable certificate", &e))?;
    if block.tag() != "CERTIFICATE" {
        return Err(fail("certificate_pem", &format!("a {} block, not a CERTIFICATE", block.tag())));
    }
    let der = block.contents();
    let key = EncodingKey::from_rsa_pem(certificate.private_key_pem.expose_secret().as_bytes())
        .map_err(|e| fail("unreadable RSA private key", &e))?;
    Ok(Credential::Certificate {
        key,
        x5t: URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, der)),
        x5t_s256: URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, der)),
    })
}

#[async_trait]
impl TokenSource for EntraTokenSource {
    async fn fetch(&self, http: &HttpClient) -> Result<Token, ConnectorError> {
        let mut form = vec![
            ("client_id", self.client_id.clone()),
            ("scope", self.scope.clone()),
            ("grant_type", String::from("client_credentials")),
        ];
        match &self.credential {
            Credential::Secret(secret) => form.push(("client_secret", secret.expose_secret().to_owned())),
            Credential::Certificate { key, x5t, x5t_s256 } => {
                form.push(("client_assertion_type", String::from(ASSERTION_TYPE)));
                form.push(("client_assertion", self.assertion(key, x5t, x5t_s256)?));
            }
        }
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        Ok(request_token::<NoExtras>(http, &self.token_url, &form).await?.token(None))
    }
}
