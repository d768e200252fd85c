//! What a request is authenticated with: a [`Token`] (the secret, the host it is bound to,
//! its expiry) and the [`AuthContext`] an authenticator prepares for one attempt. Plain
//! data, so the client and the token machinery both depend on it and on nothing else.

use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use tokio::time::Instant;

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

/// What an [`Authenticator`](crate::Authenticator) prepared for one attempt.
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
