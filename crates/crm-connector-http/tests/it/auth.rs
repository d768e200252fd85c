//! Token renewal: caching, expiry, single flight, one forced re-authentication on 401.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use crm_connector_http::{AuthContext, BearerAuth, HttpClient, Idempotency, NoAuth, Token, TokenSource};
use crm_core::ConnectorError;
use secrecy::SecretString;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::helpers::{client, fast_settings};

/// Mints `token-<n>` from the mock's `/token`, with an optional lifetime.
#[derive(Debug)]
struct CountingSource {
    base: String,
    lifetime: Option<Duration>,
}

#[async_trait]
impl TokenSource for CountingSource {
    async fn fetch(&self, http: &HttpClient) -> Result<Token, ConnectorError> {
        let base = self.base.clone();
        let answer = http
            .send(&NoAuth, Idempotency::Idempotent, &move |c: &reqwest::Client, _: &AuthContext| {
                Ok(c.post(format!("{base}/token")))
            })
            .await?;
        Ok(Token::new(SecretString::from(answer.text()), self.lifetime))
    }
}

/// Answers `token-1`, `token-2`, … and counts.
struct Minter(AtomicUsize);

impl Respond for Minter {
    fn respond(&self, _request: &Request) -> ResponseTemplate {
        let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
        ResponseTemplate::new(200).set_body_string(format!("token-{n}")).set_delay(Duration::from_millis(20))
    }
}

async fn server_with_minter() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST")).and(path("/token")).respond_with(Minter(AtomicUsize::new(0))).mount(&server).await;
    server
}

fn api(
    base: String,
) -> impl Fn(&reqwest::Client, &AuthContext) -> Result<reqwest::RequestBuilder, ConnectorError> + Send + Sync {
    move |c, _| Ok(c.get(format!("{base}/api")))
}

#[tokio::test]
async fn a_token_is_minted_once_and_reused() {
    let server = server_with_minter().await;
    Mock::given(path("/api"))
        .and(header("authorization", "Bearer token-1"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let auth = BearerAuth::new(CountingSource { base: server.uri(), lifetime: None }, Duration::ZERO);
    let http = client(fast_settings());

    for _ in 0..3 {
        assert_eq!(http.send(&auth, Idempotency::Idempotent, &api(server.uri())).await.unwrap().status, 200);
    }
    assert_eq!(auth.cache().minted(), 1);
}

#[tokio::test]
async fn an_expiring_token_is_renewed_before_use() {
    let server = server_with_minter().await;
    Mock::given(path("/api")).respond_with(ResponseTemplate::new(200)).mount(&server).await;
    // Lifetime 30 s, margin 60 s: always inside the margin, so each call mints.
    let auth = BearerAuth::new(
        CountingSource { base: server.uri(), lifetime: Some(Duration::from_secs(30)) },
        Duration::from_secs(60),
    );
    let http = client(fast_settings());

    http.send(&auth, Idempotency::Idempotent, &api(server.uri())).await.unwrap();
    http.send(&auth, Idempotency::Idempotent, &api(server.uri())).await.unwrap();
    assert_eq!(auth.cache().minted(), 2);
}

#[tokio::test]
async fn concurrent_callers_share_one_renewal() {
    let server = server_with_minter().await;
    Mock::given(path("/api")).respond_with(ResponseTemplate::new(200)).mount(&server).await;
    let auth = BearerAuth::new(CountingSource { base: server.uri(), lifetime: None }, Duration::ZERO);
    let http = client(fast_settings());
    let factory = api(server.uri());

    let calls = (0..8).map(|_| http.send(&auth, Idempotency::Idempotent, &factory));
    for answer in futures::future::join_all(calls).await {
        assert_eq!(answer.unwrap().status, 200);
    }
    assert_eq!(auth.cache().minted(), 1);
}

#[tokio::test]
async fn a_401_forces_one_re_authentication_then_retries() {
    let server = server_with_minter().await;
    Mock::given(path("/api"))
        .and(header("authorization", "Bearer token-1"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    Mock::given(path("/api"))
        .and(header("authorization", "Bearer token-2"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let auth = BearerAuth::new(CountingSource { base: server.uri(), lifetime: None }, Duration::ZERO);

    let answer = client(fast_settings()).send(&auth, Idempotency::Idempotent, &api(server.uri())).await.unwrap();
    assert_eq!(answer.status, 200);
    assert_eq!(auth.cache().minted(), 2);
}

#[tokio::test]
async fn a_second_401_is_handed_back_without_a_loop() {
    let server = server_with_minter().await;
    Mock::given(path("/api")).respond_with(ResponseTemplate::new(401)).mount(&server).await;
    let auth = BearerAuth::new(CountingSource { base: server.uri(), lifetime: None }, Duration::ZERO);

    let answer = client(fast_settings()).send(&auth, Idempotency::Idempotent, &api(server.uri())).await.unwrap();
    assert_eq!(answer.status, 401);
    assert_eq!(auth.cache().minted(), 2);
    let api_calls = server.received_requests().await.unwrap().iter().filter(|r| r.url.path() == "/api").count();
    assert_eq!(api_calls, 2);
}

#[tokio::test]
async fn the_bearer_header_is_marked_sensitive_and_debug_shows_no_secret() {
    let token = Arc::new(Token::new(SecretString::from("s3cr3t-token"), None));
    let context = AuthContext::with_token(token);
    assert!(!format!("{context:?}").contains("s3cr3t-token"));
    let auth = BearerAuth::new(CountingSource { base: String::new(), lifetime: None }, Duration::ZERO);
    let mut request = reqwest::Client::new().get("http://localhost/").build().unwrap();
    crm_connector_http::Authenticator::apply(&auth, &context, &mut request).unwrap();
    let value = request.headers().get("authorization").unwrap();
    assert!(value.is_sensitive());
    assert!(!format!("{:?}", request.headers()).contains("s3cr3t-token"));
}
