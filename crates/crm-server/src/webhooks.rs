//! The webhook transport (EXT-3): [`HttpTransport`] implements the core's
//! [`WebhookTransport`] on the workspace's reqwest. SSRF: every name is resolved by
//! [`GuardedResolver`], which refuses the whole name when one of its addresses is not
//! allowed, and reqwest connects only to the addresses it returned (resolve, check, then
//! connect to the checked address); literal addresses are checked before sending; no
//! proxy (a proxy would resolve names itself); redirects are not followed; the whole
//! exchange has a timeout and at most `max_response_bytes` of the answer are read.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use rand::RngCore;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crm_core::ports::WebhookTransport;
use crm_core::service::WebhookSettings;
use crm_core::webhook::delivery::{AttemptOutcome, SendResult};
use crm_core::webhook::sign::secret_text;
use crm_core::webhook::target::TargetPolicy;

/// The `[webhooks]` configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookConfig {
    /// Run the webhook workers and accept subscriptions.
    pub enabled: bool,
    /// Allow loopback targets (tests, local development).
    pub allow_loopback: bool,
    /// Allow private and link-local targets.
    pub allow_private: bool,
    /// The longest exchange with a receiver.
    pub timeout: Duration,
    /// The most bytes of an answer read (the log keeps the first KiB).
    pub max_response_bytes: usize,
    /// Retries, breaker, disabling, batches.
    pub settings: WebhookSettings,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            allow_loopback: false,
            allow_private: false,
            timeout: Duration::from_secs(10),
            max_response_bytes: 64 * 1024,
            settings: WebhookSettings::default(),
        }
    }
}

impl WebhookConfig {
    /// The target policy.
    pub fn policy(&self) -> TargetPolicy {
        TargetPolicy { allow_loopback: self.allow_loopback, allow_private: self.allow_private }
    }
}

/// Resolves names and refuses those with a disallowed address.
#[derive(Debug, Clone, Copy)]
pub struct GuardedResolver {
    policy: TargetPolicy,
}

/// Resolves `host` and checks every address.
async fn resolve_checked(policy: TargetPolicy, host: &str) -> Result<Vec<SocketAddr>, String> {
    let addrs: Vec<SocketAddr> =
        tokio::net::lookup_host((host, 0)).await.map_err(|e| format!("{host} does not resolve ({e})"))?.collect();
    if addrs.is_empty() {
        return Err(format!("{host} does not resolve"));
    }
    for a in &addrs {
        if let Some(reason) = policy.refusal(a.ip()) {
            return Err(format!("{host} resolves to {}: {reason}", a.ip()));
        }
    }
    Ok(addrs)
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs = resolve_checked(policy, &host).await?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// Posts webhooks over HTTP(S).
#[derive(Debug, Clone)]
pub struct HttpTransport {
    client: reqwest::Client,
    policy: TargetPolicy,
    max_response_bytes: usize,
}

impl HttpTransport {
    /// A transport for `config`.
    ///
    /// # Errors
    /// When the HTTP client cannot be built (TLS set-up).
    pub fn new(config: &WebhookConfig) -> Result<Self, reqwest::Error> {
        let policy = config.policy();
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(GuardedResolver { policy }))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("crm-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { client, policy, max_response_bytes: config.max_response_bytes })
    }
}

#[async_trait]
impl WebhookTransport for HttpTransport {
    fn policy(&self) -> TargetPolicy {
        self.policy
    }

    async fn check_target(&self, url: &str) -> Result<(), String> {
        let url = self.policy.check_url(url)?;
        match url.host() {
            Some(url::Host::Domain(name)) => resolve_checked(self.policy, name).await.map(|_| ()),
            Some(url::Host::Ipv4(ip)) => self.policy.refusal(IpAddr::V4(ip)).map_or(Ok(()), Err),
            Some(url::Host::Ipv6(ip)) => self.policy.refusal(IpAddr::V6(ip)).map_or(Ok(()), Err),
            None => Err("has no host".into()),
        }
    }

    /// Runs the exchange on a task of its own: it goes on while the delivery worker writes
    /// and claims (the worker looks at its sends in flight only between those).
    async fn send(&self, url: &str, headers: &[(&'static str, String)], body: &str) -> SendResult {
        let started = Instant::now();
        let this = self.clone();
        let (url, headers, body) = (url.to_owned(), headers.to_vec(), body.to_owned());
        match tokio::spawn(async move { this.exchange(&url, &headers, body).await }).await {
            Ok(result) => result,
            Err(e) => SendResult {
                outcome: AttemptOutcome::Failed,
                status: None,
                latency: started.elapsed(),
                excerpt: format!("the send was stopped: {e}"),
            },
        }
    }

    fn new_secret(&self) -> String {
        let mut bytes = [0u8; 24];
        rand::rng().fill_bytes(&mut bytes);
        secret_text(&bytes)
    }
}

impl HttpTransport {
    /// One exchange: posts `body` to `url`, reads at most `max_response_bytes` of the answer.
    async fn exchange(&self, url: &str, headers: &[(&'static str, String)], body: String) -> SendResult {
        let started = Instant::now();
        let failed =
            |outcome, excerpt: String| SendResult { outcome, status: None, latency: started.elapsed(), excerpt };
        // Literal addresses never reach the resolver: check them here (names are checked
        // by the resolver on every connection).
        match self.policy.check_url(url) {
            Err(reason) => return failed(AttemptOutcome::Failed, format!("refused target: {reason}")),
            Ok(parsed) => {
                let literal = match parsed.host() {
                    Some(url::Host::Ipv4(ip)) => self.policy.refusal(IpAddr::V4(ip)),
                    Some(url::Host::Ipv6(ip)) => self.policy.refusal(IpAddr::V6(ip)),
                    _ => None,
                };
                if let Some(reason) = literal {
                    return failed(AttemptOutcome::Failed, format!("refused target: {reason}"));
                }
            }
        }
        let mut request = self.client.post(url).body(body);
        for (name, value) in headers {
            request = request.header(*name, value.as_str());
        }
        let mut response = match request.send().await {
            Ok(r) => r,
            Err(e) if e.is_timeout() => return failed(AttemptOutcome::Timeout, crm_core::error::with_sources(&e)),
            Err(e) => return failed(AttemptOutcome::Failed, crm_core::error::with_sources(&e)),
        };
        let status = response.status();
        let mut read = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(bytes)) => {
                    let room = self.max_response_bytes.saturating_sub(read.len());
                    read.extend_from_slice(&bytes[..bytes.len().min(room)]);
                    if read.len() >= self.max_response_bytes {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) if e.is_timeout() => {
                    return SendResult {
                        outcome: AttemptOutcome::Timeout,
                        status: Some(status.as_u16()),
                        latency: started.elapsed(),
                        excerpt: crm_core::error::with_sources(&e),
                    };
                }
                Err(e) => {
                    return SendResult {
                        outcome: AttemptOutcome::Failed,
                        status: Some(status.as_u16()),
                        latency: started.elapsed(),
                        excerpt: crm_core::error::with_sources(&e),
                    };
                }
            }
        }
        SendResult {
            outcome: if status.is_success() { AttemptOutcome::Delivered } else { AttemptOutcome::Rejected },
            status: Some(status.as_u16()),
            latency: started.elapsed(),
            excerpt: String::from_utf8_lossy(&read).into_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strict() -> HttpTransport {
        HttpTransport::new(&WebhookConfig::default()).expect("client")
    }

    #[tokio::test]
    async fn ssrf_targets_are_refused_including_names_that_resolve_to_them() {
        let t = strict();
        for url in [
            "https://169.254.169.254/latest/meta-data/",
            "https://10.0.0.1/hook",
            "https://[::1]/hook",
            "http://127.0.0.1:9/hook",
            "https://localhost/hook",
            "https://localhost./hook",
        ] {
            assert!(t.check_target(url).await.is_err(), "{url} must be refused");
            let sent = t.send(url, &[], "{}").await;
            assert_eq!(sent.outcome, AttemptOutcome::Failed, "{url}: {sent:?}");
            assert!(sent.excerpt.contains("refused") || sent.excerpt.contains("loopback"), "{url}: {sent:?}");
        }
        // A name that resolves to a loopback address (not spelled `localhost`): the
        // resolver refuses it at connection time.
        let policy = TargetPolicy::default();
        let err = resolve_checked(policy, "localhost").await.unwrap_err();
        assert!(err.contains("loopback"), "{err}");
        let allowed = TargetPolicy { allow_loopback: true, allow_private: false };
        assert!(resolve_checked(allowed, "localhost").await.is_ok());
    }

    #[tokio::test]
    async fn a_redirect_is_not_followed_and_the_answer_is_bounded() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            for answer in [
                "HTTP/1.1 302 Found\r\nlocation: http://169.254.169.254/\r\ncontent-length: 0\r\n\r\n".to_owned(),
                format!("HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\n{}", "x".repeat(100_000)),
            ] {
                let (mut socket, _) = listener.accept().await.unwrap();
                let mut buf = vec![0u8; 8192];
                let _ = socket.read(&mut buf).await;
                let _ = socket.write_all(answer.as_bytes()).await;
            }
        });
        let config = WebhookConfig { allow_loopback: true, max_response_bytes: 1_000, ..WebhookConfig::default() };
        let t = HttpTransport::new(&config).unwrap();
        let url = format!("http://{addr}/hook");
        let redirected = t.send(&url, &[], "{}").await;
        assert_eq!((redirected.outcome, redirected.status), (AttemptOutcome::Rejected, Some(302)));
        let big = t.send(&url, &[], "{}").await;
        assert_eq!((big.outcome, big.status), (AttemptOutcome::Delivered, Some(200)));
        assert_eq!(big.excerpt.len(), 1_000);
        let secret = t.new_secret();
        assert!(secret.starts_with("whsec_") && secret.len() == 6 + 32);
    }
}
