//! The OAuth 2.0 token endpoint (RFC 6749 §5), as every vendor speaks it: a form `POST`
//! whose success answer is `{"access_token", "expires_in"?, …}` and whose refusal is
//! `{"error", "error_description"?}`.
//!
//! - [`request_token`] posts the grant's form and reads the answer;
//! - [`parse_token_response`] reads an answer: the token, its lifetime (`expires_in` as a
//!   number or a numeric string, as NetSuite sends it), and the vendor's extra fields
//!   (Salesforce's `instance_url`) through the type parameter of [`TokenAnswer`];
//! - a refusal is `Auth` with `error: error_description`, except `rate_limit_exceeded`,
//!   which is `RateLimited`; an unreadable refusal is `Auth` naming the status.
//!
//! The grant itself (which form fields, which assertion) stays in each vendor crate.

use std::time::Duration;

use crm_core::ConnectorError;
use secrecy::SecretString;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::client::{HttpClient, Idempotency, NoAuth, RawResponse, retry_after};
use crate::credentials::{AuthContext, Token};

/// No vendor-specific field in the token answer.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct NoExtras {}

/// A successful token answer; `E` holds the vendor's extra fields.
#[derive(Debug, Deserialize)]
pub struct TokenAnswer<E = NoExtras> {
    access_token: SecretString,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
    /// The vendor's extra fields (Salesforce: `instance_url`).
    #[serde(flatten)]
    pub extras: E,
}

impl<E> TokenAnswer<E> {
    /// The secret.
    pub fn access_token(&self) -> &SecretString {
        &self.access_token
    }

    /// The lifetime the endpoint announced, when it did readably.
    pub fn expires_in(&self) -> Option<Duration> {
        seconds(self.expires_in.as_ref())
    }

    /// The token, valid for the announced lifetime or else for `fallback` (`None`: until
    /// the remote refuses it).
    pub fn token(&self, fallback: Option<Duration>) -> Token {
        Token::new(self.access_token.clone(), self.expires_in().or(fallback))
    }
}

#[derive(Deserialize)]
struct Refusal {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

/// `expires_in` as a number or a numeric string; anything else is no lifetime.
fn seconds(value: Option<&serde_json::Value>) -> Option<Duration> {
    match value? {
        serde_json::Value::Number(n) => n.as_u64().map(Duration::from_secs),
        serde_json::Value::String(s) => s.trim().parse().ok().map(Duration::from_secs),
        _ => None,
    }
}

/// Reads the answer of `system`'s token endpoint.
///
/// # Errors
/// `RateLimited` when the endpoint refused with `rate_limit_exceeded`, `Auth` for any other
/// refusal (`error: error_description`, or the status when the body is not a refusal), and
/// `Decode` when a success answer lacks the token or `E`'s fields.
pub fn parse_token_response<E: DeserializeOwned>(
    system: &str,
    response: &RawResponse,
) -> Result<TokenAnswer<E>, ConnectorError> {
    if response.is_success() {
        return response.json(system);
    }
    Err(match serde_json::from_slice::<Refusal>(&response.body) {
        Ok(refusal) if refusal.error == "rate_limit_exceeded" => {
            ConnectorError::RateLimited { system: system.to_owned(), retry_after: retry_after(&response.headers) }
        }
        Ok(refusal) => ConnectorError::Auth {
            system: system.to_owned(),
            message: match refusal.error_description {
                Some(description) => format!("{}: {description}", refusal.error),
                None => refusal.error,
            },
        },
        Err(_) => ConnectorError::Auth {
            system: system.to_owned(),
            message: format!("token endpoint answered {}", response.status),
        },
    })
}

/// Posts a grant's `form` to `token_url` (idempotent: a grant mints a token, and a second
/// one only mints another) and reads the answer with [`parse_token_response`].
///
/// # Errors
/// As [`parse_token_response`], and as [`HttpClient::send`] when the endpoint cannot be
/// reached.
pub async fn request_token<E: DeserializeOwned>(
    http: &HttpClient,
    token_url: &str,
    form: &[(&str, &str)],
) -> Result<TokenAnswer<E>, ConnectorError> {
    let answer = http
        .send(&NoAuth, Idempotency::Idempotent, &|client: &reqwest::Client, _: &AuthContext| {
            Ok(client.post(token_url).form(form))
        })
        .await?;
    parse_token_response(http.system(), &answer)
}

#[cfg(test)]
mod tests {
    use reqwest::StatusCode;
    use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};
    use secrecy::ExposeSecret;

    use super::*;

    fn answer(status: u16, body: &str) -> RawResponse {
        RawResponse {
            status: StatusCode::from_u16(status).expect("status"),
            headers: HeaderMap::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[derive(Debug, Deserialize)]
    struct Instance {
        instance_url: String,
    }

    #[test]
    fn the_token_and_its_lifetime_are_read_as_number_or_string() {
        for body in [r#"{"access_token":"t","expires_in":3600}"#, r#"{"access_token":"t","expires_in":" 3600"}"#] {
            let token: TokenAnswer = parse_token_response("v", &answer(200, body)).unwrap();
            assert_eq!(token.access_token().expose_secret(), "t");
            assert_eq!(token.expires_in(), Some(Duration::from_secs(3600)));
        }
    }

    #[test]
    fn an_absent_or_unreadable_lifetime_falls_back() {
        for body in [
            r#"{"access_token":"t"}"#,
            r#"{"access_token":"t","expires_in":null}"#,
            r#"{"access_token":"t","expires_in":"soon"}"#,
        ] {
            let token: TokenAnswer = parse_token_response("v", &answer(200, body)).unwrap();
            assert_eq!(token.expires_in(), None);
            assert!(token.token(None).is_fresh(Duration::from_secs(86_400)));
            assert!(!token.token(Some(Duration::from_secs(30))).is_fresh(Duration::from_secs(60)));
        }
    }

    #[test]
    fn vendor_extras_are_read_and_required() {
        let body = r#"{"access_token":"t","instance_url":"https://acme.my.salesforce.com","scope":"api"}"#;
        let token: TokenAnswer<Instance> = parse_token_response("salesforce", &answer(200, body)).unwrap();
        assert_eq!(token.extras.instance_url, "https://acme.my.salesforce.com");
        let error =
            parse_token_response::<Instance>("salesforce", &answer(200, r#"{"access_token":"t"}"#)).unwrap_err();
        assert!(matches!(error, ConnectorError::Decode { .. }), "{error:?}");
    }

    #[test]
    fn a_success_without_a_token_is_a_decode_error() {
        let error = parse_token_response::<NoExtras>("v", &answer(200, r#"{"token_type":"Bearer"}"#)).unwrap_err();
        assert!(matches!(&error, ConnectorError::Decode { system, .. } if system == "v"), "{error:?}");
    }

    #[test]
    fn a_refusal_is_an_auth_error_with_code_and_description() {
        let refused =
            answer(400, r#"{"error":"invalid_grant","error_description":"user hasn't approved this consumer"}"#);
        let error = parse_token_response::<NoExtras>("v", &refused).unwrap_err();
        let ConnectorError::Auth { system, message } = error else { panic!("expected auth: {error:?}") };
        assert_eq!((system.as_str(), message.as_str()), ("v", "invalid_grant: user hasn't approved this consumer"));
        let bare = parse_token_response::<NoExtras>("v", &answer(400, r#"{"error":"invalid_client"}"#)).unwrap_err();
        assert!(matches!(&bare, ConnectorError::Auth { message, .. } if message == "invalid_client"), "{bare:?}");
    }

    #[test]
    fn an_unreadable_refusal_names_the_status() {
        let error = parse_token_response::<NoExtras>("v", &answer(502, "<html>bad gateway</html>")).unwrap_err();
        assert!(
            matches!(&error, ConnectorError::Auth { message, .. } if message == "token endpoint answered 502 Bad Gateway"),
            "{error:?}"
        );
    }

    #[test]
    fn a_rate_limit_refusal_is_rate_limited_with_the_hint() {
        let mut refused = answer(400, r#"{"error":"rate_limit_exceeded","error_description":"too many"}"#);
        let error = parse_token_response::<NoExtras>("v", &refused).unwrap_err();
        assert!(matches!(error, ConnectorError::RateLimited { retry_after: None, .. }), "{error:?}");
        refused.headers.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        let error = parse_token_response::<NoExtras>("v", &refused).unwrap_err();
        assert!(
            matches!(error, ConnectorError::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(7))
        );
    }

    #[test]
    fn the_answer_debug_hides_the_token() {
        let token: TokenAnswer =
            parse_token_response("v", &answer(200, r#"{"access_token":"s3cr3t","expires_in":1}"#)).unwrap();
        assert!(!format!("{token:?}").contains("s3cr3t"));
    }
}
