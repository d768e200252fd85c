//! Token-Based Authentication (spec §3.3): every request carries an OAuth 1.0a
//! `Authorization` header signed HMAC-SHA256 over the RFC 5849 base string
//! `METHOD&enc(URL without query)&enc(sorted oauth_* and query parameters)` with the key
//! `enc(consumer_secret)&enc(token_secret)`. The JSON body is not signed. The realm is the
//! account id in upper case with `_`. A 401 is not retried: a fresh signature with the
//! same credentials would fail the same way (check the clock skew and the credentials).

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use crm_connector_http::{AuthContext, Authenticator, HttpClient};
use crm_core::ConnectorError;
use crm_core::time::Clock;
use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::header::{AUTHORIZATION, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

use crate::system::SYSTEM;

/// RFC 3986 unreserved characters stay; everything else is percent-encoded.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// RFC 5849 §3.6 encoding.
pub fn encode(value: &str) -> String {
    utf8_percent_encode(value, UNRESERVED).to_string()
}

/// The credentials of a TBA integration.
pub struct TbaCredentials {
    /// Consumer key.
    pub consumer_key: String,
    /// Consumer secret.
    pub consumer_secret: SecretString,
    /// Token id.
    pub token_id: String,
    /// Token secret.
    pub token_secret: SecretString,
}

impl fmt::Debug for TbaCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TbaCredentials")
            .field("consumer_key", &self.consumer_key)
            .field("consumer_secret", &self.consumer_secret)
            .field("token_id", &self.token_id)
            .field("token_secret", &self.token_secret)
            .finish()
    }
}

/// The RFC 5849 signature base string of a request.
pub fn base_string(method: &str, url: &reqwest::Url, oauth: &[(&str, &str)]) -> String {
    let mut base_url = format!("{}://{}", url.scheme(), url.host_str().unwrap_or_default().to_lowercase());
    if let Some(port) = url.port() {
        base_url.push_str(&format!(":{port}"));
    }
    base_url.push_str(url.path());
    let mut params: Vec<(String, String)> = url.query_pairs().map(|(k, v)| (encode(&k), encode(&v))).collect();
    params.extend(oauth.iter().map(|(k, v)| (encode(k), encode(v))));
    params.sort();
    let joined = params.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
    format!("{}&{}&{}", method.to_uppercase(), encode(&base_url), encode(&joined))
}

/// The base64 HMAC-SHA256 signature of `base` with the credentials' key.
pub fn signature(credentials: &TbaCredentials, base: &str) -> String {
    let key = format!(
        "{}&{}",
        encode(credentials.consumer_secret.expose_secret()),
        encode(credentials.token_secret.expose_secret())
    );
    // HMAC accepts keys of any length, so this cannot fail.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key.as_bytes()) else {
        return String::new();
    };
    mac.update(base.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

/// The `Authorization` header of a request signed at `timestamp` with `nonce`.
pub fn authorization(
    credentials: &TbaCredentials,
    realm: &str,
    method: &str,
    url: &reqwest::Url,
    timestamp: i64,
    nonce: &str,
) -> String {
    let timestamp = timestamp.to_string();
    let oauth = [
        ("oauth_consumer_key", credentials.consumer_key.as_str()),
        ("oauth_nonce", nonce),
        ("oauth_signature_method", "HMAC-SHA256"),
        ("oauth_timestamp", timestamp.as_str()),
        ("oauth_token", credentials.token_id.as_str()),
        ("oauth_version", "1.0"),
    ];
    let signature = signature(credentials, &base_string(method, url, &oauth));
    format!(
        "OAuth realm=\"{}\", oauth_consumer_key=\"{}\", oauth_token=\"{}\", oauth_signature_method=\"HMAC-SHA256\", \
         oauth_timestamp=\"{timestamp}\", oauth_nonce=\"{}\", oauth_version=\"1.0\", oauth_signature=\"{}\"",
        realm,
        encode(&credentials.consumer_key),
        encode(&credentials.token_id),
        encode(nonce),
        encode(&signature)
    )
}

/// Signs every request with TBA.
#[derive(Debug)]
pub struct TbaAuth {
    credentials: TbaCredentials,
    realm: String,
    clock: Arc<dyn Clock>,
}

impl TbaAuth {
    /// TBA for `realm` with `credentials`; `clock` stamps the requests.
    pub fn new(credentials: TbaCredentials, realm: String, clock: Arc<dyn Clock>) -> Self {
        Self { credentials, realm, clock }
    }
}

#[async_trait]
impl Authenticator for TbaAuth {
    async fn context(&self, _http: &HttpClient) -> Result<AuthContext, ConnectorError> {
        Ok(AuthContext::default())
    }

    fn apply(&self, _context: &AuthContext, request: &mut reqwest::Request) -> Result<(), ConnectorError> {
        let nonce: String = std::iter::repeat_with(fastrand::alphanumeric).take(20).collect();
        let header = authorization(
            &self.credentials,
            &self.realm,
            request.method().as_str(),
            request.url(),
            self.clock.now().timestamp(),
            &nonce,
        );
        let mut value = HeaderValue::try_from(header).map_err(|_| ConnectorError::Auth {
            system: SYSTEM.to_owned(),
            message: String::from("the tba header is not a valid header value"),
        })?;
        value.set_sensitive(true);
        request.headers_mut().insert(AUTHORIZATION, value);
        Ok(())
    }

    async fn rejected(&self, _context: &AuthContext) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credentials() -> TbaCredentials {
        TbaCredentials {
            consumer_key: String::from("ck"),
            consumer_secret: SecretString::from("cs"),
            token_id: String::from("tk"),
            token_secret: SecretString::from("ts"),
        }
    }

    #[test]
    fn the_base_string_sorts_and_encodes_query_and_oauth_parameters() {
        let url = reqwest::Url::parse(
            "https://1234567-SB1.suitetalk.api.netsuite.com/services/rest/query/v1/suiteql?offset=0&limit=50",
        )
        .unwrap();
        let base = base_string("post", &url, &[("oauth_nonce", "n"), ("oauth_consumer_key", "c k")]);
        assert_eq!(
            base,
            "POST&https%3A%2F%2F1234567-sb1.suitetalk.api.netsuite.com%2Fservices%2Frest%2Fquery%2Fv1%2Fsuiteql&\
             limit%3D50%26oauth_consumer_key%3Dc%2520k%26oauth_nonce%3Dn%26offset%3D0"
        );
    }

    #[test]
    fn the_header_carries_the_realm_and_an_encoded_signature() {
        let url = reqwest::Url::parse("https://x.example/services/rest/record/v1/customer").unwrap();
        let header = authorization(&credentials(), "1234567_SB1", "GET", &url, 1_508_242_306, "fjaLirsIcCGVZWzBX0pg");
        assert!(header.starts_with("OAuth realm=\"1234567_SB1\", oauth_consumer_key=\"ck\", oauth_token=\"tk\""));
        assert!(header.contains("oauth_signature_method=\"HMAC-SHA256\""));
        let signature = header.rsplit("oauth_signature=\"").next().unwrap().trim_end_matches('"');
        assert!(!signature.contains('=') && !signature.contains('+') && !signature.contains('/'), "{signature}");
    }

    #[test]
    fn debug_hides_the_secrets() {
        let text = format!("{:?}", credentials());
        assert!(!text.contains("\"cs\"") && !text.contains("\"ts\""), "{text}");
    }
}
