//! OAuth 2.0 client credentials, machine to machine (spec §3.2):
//! `POST /services/rest/auth/oauth2/v1/token` with `grant_type=client_credentials`,
//! `client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer` and a
//! JWT signed with one of the algorithms the spec allows (PS256/384/512, ES256/384/512, and
//! RS256 of NetSuite's own example) whose header names the certificate id as `kid` and whose
//! claims are `iss`, `scope` (a JSON array), `aud` (the token URL), `iat`, `exp`. ES512 is
//! signed with `aws-lc-rs` directly (`jsonwebtoken` has no P-521); the others with
//! `jsonwebtoken`.
//! The answer's `expires_in` may be a string or a number; there is no refresh token.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P521_SHA512_FIXED_SIGNING, EcdsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
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

/// The key and algorithm that sign assertions.
enum Signer {
    /// Every algorithm `jsonwebtoken` has.
    Jwt(Algorithm, EncodingKey),
    /// ES512 (ECDSA P-521, SHA-512, the JWS fixed-width `r ‖ s` signature).
    Es512(EcdsaKeyPair),
}

impl Signer {
    fn new(algorithm: SigningAlgorithm, pem: &[u8]) -> Result<Self, String> {
        let rsa = |alg| EncodingKey::from_rsa_pem(pem).map(|k| Self::Jwt(alg, k)).map_err(|e| e.to_string());
        let ec = |alg| EncodingKey::from_ec_pem(pem).map(|k| Self::Jwt(alg, k)).map_err(|e| e.to_string());
        match algorithm {
            SigningAlgorithm::Ps256 => rsa(Algorithm::PS256),
            SigningAlgorithm::Ps384 => rsa(Algorithm::PS384),
            SigningAlgorithm::Ps512 => rsa(Algorithm::PS512),
            SigningAlgorithm::Rs256 => rsa(Algorithm::RS256),
            SigningAlgorithm::Es256 => ec(Algorithm::ES256),
            SigningAlgorithm::Es384 => ec(Algorithm::ES384),
            SigningAlgorithm::Es512 => {
                let block = pem::parse(pem).map_err(|e| e.to_string())?;
                EcdsaKeyPair::from_pkcs8(&ECDSA_P521_SHA512_FIXED_SIGNING, block.contents())
                    .map(Self::Es512)
                    .map_err(|e| format!("not a PKCS#8 P-521 key: {e}"))
            }
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Self::Jwt(alg, _) => match alg {
                Algorithm::PS256 => "PS256",
                Algorithm::PS384 => "PS384",
                Algorithm::PS512 => "PS512",
                Algorithm::ES256 => "ES256",
                Algorithm::ES384 => "ES384",
                _ => "RS256",
            },
            Self::Es512(_) => "ES512",
        }
    }

    /// A compact JWS of `claims` with `kid` in its header.
    fn sign(&self, kid: &str, claims: &AssertionClaims) -> Result<String, String> {
        match self {
            Self::Jwt(alg, key) => {
                let mut header = Header::new(*alg);
                header.kid = Some(kid.to_owned());
                jsonwebtoken::encode(&header, claims, key).map_err(|e| e.to_string())
            }
            Self::Es512(key) => {
                let header = serde_json::json!({"typ": "JWT", "alg": "ES512", "kid": kid});
                let claims = serde_json::to_vec(claims).map_err(|e| e.to_string())?;
                let input =
                    format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims));
                let signature = key.sign(&SystemRandom::new(), input.as_bytes()).map_err(|e| e.to_string())?;
                Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref())))
            }
        }
    }
}

/// Mints M2M access tokens.
pub struct M2mTokenSource {
    token_url: String,
    client_id: String,
    certificate_id: String,
    signer: Signer,
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
            .field("algorithm", &self.signer.name())
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
        let signer = Signer::new(settings.algorithm, settings.private_key_pem.expose_secret().as_bytes())
            .map_err(|e| ConfigError::new(SYSTEM, format!("unreadable private key: {e}")))?;
        if settings.lifetime_secs == 0 || settings.lifetime_secs >= 3_600 {
            return Err(ConfigError::new(SYSTEM, "assertion_lifetime_secs must be between 1 and 3599"));
        }
        Ok(Self {
            token_url: format!("{}/services/rest/auth/oauth2/v1/token", settings.base_url),
            client_id: settings.client_id.to_owned(),
            certificate_id: settings.certificate_id.to_owned(),
            signer,
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
        let jwt = self.signer.sign(&self.certificate_id, &claims).map_err(|e| ConnectorError::Auth {
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
