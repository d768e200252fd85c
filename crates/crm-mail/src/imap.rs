//! [`ImapMailbox`]: the `MailboxSource` port on an IMAP server (`async-imap` on tokio; TLS
//! with rustls on aws-lc-rs, implicit or `STARTTLS`; plain TCP for a server on loopback).
//!
//! One session per poll: connect, greeting, (`STARTTLS`,) `LOGIN`, `SELECT` (its
//! UIDVALIDITY), `UID SEARCH UID n:*`, `UID FETCH uid BODY.PEEK[]` per message (the mailbox
//! is left as it was: nothing is marked read, moved or deleted), `LOGOUT`. Every step has
//! the configured timeout. The password is a [`SecretString`]: it is not in `Debug`, not in
//! an error; the protocol trace of `async-imap` (the `log` target `async_imap`, at `trace`)
//! would show it, which is why the server never enables that target.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use async_imap::{Client, Session};
use async_trait::async_trait;
use futures_util::TryStreamExt;
use secrecy::{ExposeSecret, SecretString};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

use crm_core::ports::{MailboxError, MailboxSession, MailboxSource};

use crate::TlsMode;

/// An IMAP mailbox to poll.
#[derive(Clone)]
pub struct ImapConfig {
    /// Host name (checked against the certificate with TLS).
    pub host: String,
    /// Port (143 without TLS or with `STARTTLS`, 993 with implicit TLS, by custom).
    pub port: u16,
    /// Transport security.
    pub tls: TlsMode,
    /// Login name.
    pub user: String,
    /// Password (never printed).
    pub password: SecretString,
    /// The mailbox polled (`INBOX`).
    pub mailbox: String,
    /// The longest wait for one step (connecting, one command).
    pub timeout: Duration,
    /// Certificates (PEM) trusted besides the web PKI's roots: the CA of a private server.
    pub extra_roots_pem: Option<String>,
}

impl fmt::Debug for ImapConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImapConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("user", &self.user)
            .field("password", &"[redacted]")
            .field("mailbox", &self.mailbox)
            .field("timeout", &self.timeout)
            .field("extra_roots_pem", &self.extra_roots_pem.is_some())
            .finish()
    }
}

impl ImapConfig {
    /// `INBOX` of a server on `host:port` without TLS (a server on loopback: tests), with a
    /// 30 s timeout.
    pub fn plain(host: impl Into<String>, port: u16, user: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            host: host.into(),
            port,
            tls: TlsMode::None,
            user: user.into(),
            password: SecretString::from(password.into()),
            mailbox: "INBOX".into(),
            timeout: Duration::from_secs(30),
            extra_roots_pem: None,
        }
    }
}

/// A mailbox on an IMAP server, behind the core's `MailboxSource` port.
pub struct ImapMailbox {
    inner: Arc<Inner>,
}

/// What a mailbox and its sessions share.
struct Inner {
    config: ImapConfig,
    account: String,
    server: String,
    tls: Option<(TlsConnector, ServerName<'static>)>,
}

impl fmt::Debug for ImapMailbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImapMailbox").field("account", &self.inner.account).field("server", &self.inner.server).finish()
    }
}

impl ImapMailbox {
    /// The mailbox of `config`; no connection is opened before the first poll. Its account
    /// is `user@host/mailbox`.
    ///
    /// # Errors
    /// A TLS set-up the host name does not allow (`Refused`, naming the host).
    pub fn new(config: ImapConfig) -> Result<Self, MailboxError> {
        let server = format!("{}:{}", config.host, config.port);
        let account = format!("{}@{}/{}", config.user, config.host.to_ascii_lowercase(), config.mailbox);
        let tls = match config.tls {
            TlsMode::None => None,
            TlsMode::Starttls | TlsMode::Implicit => {
                let name = ServerName::try_from(config.host.clone()).map_err(|e| MailboxError::Refused {
                    server: server.clone(),
                    command: "TLS".into(),
                    reason: format!("not a host name for TLS: {e}"),
                })?;
                let config = client_config(&server, config.extra_roots_pem.as_deref())?;
                Some((TlsConnector::from(Arc::new(config)), name))
            }
        };
        Ok(Self { inner: Arc::new(Inner { config, account, server, tls }) })
    }
}

impl Inner {
    fn unavailable(&self, reason: impl fmt::Display) -> MailboxError {
        MailboxError::Unavailable { server: self.server.clone(), reason: reason.to_string() }
    }

    /// Runs a step under the timeout.
    async fn step<T>(&self, what: &str, f: impl Future<Output = T>) -> Result<T, MailboxError> {
        tokio::time::timeout(self.config.timeout, f)
            .await
            .map_err(|_| self.unavailable(format!("{what}: no answer within {} s", self.config.timeout.as_secs())))
    }

    async fn handshake(&self, tcp: TcpStream) -> Result<Stream, MailboxError> {
        let Some((connector, name)) = &self.tls else { return Ok(Stream::Plain(tcp)) };
        let tls = self.step("TLS handshake", connector.connect(name.clone(), tcp)).await?;
        Ok(Stream::Tls(Box::new(tls.map_err(|e| self.unavailable(format!("TLS handshake: {e}")))?)))
    }

    /// Connects, reads the greeting, secures the connection and logs in.
    async fn login(&self) -> Result<Session<Stream>, MailboxError> {
        let tcp = self.step("connect", TcpStream::connect((self.config.host.as_str(), self.config.port))).await?;
        let tcp = tcp.map_err(|e| self.unavailable(format!("connect: {e}")))?;
        let stream = match self.config.tls {
            TlsMode::Implicit => self.handshake(tcp).await?,
            TlsMode::None | TlsMode::Starttls => Stream::Plain(tcp),
        };
        let mut client = Client::new(stream);
        let greeting = self.step("greeting", client.read_response()).await?;
        if greeting.map_err(|e| self.unavailable(format!("greeting: {e}")))?.is_none() {
            return Err(self.unavailable("closed before its greeting"));
        }
        if self.config.tls == TlsMode::Starttls {
            let started = self.step("STARTTLS", client.run_command_and_check_ok("STARTTLS", None)).await?;
            started.map_err(|e| self.refused("STARTTLS", e))?;
            let Stream::Plain(tcp) = client.into_inner() else {
                return Err(self.unavailable("STARTTLS on a connection already secured"));
            };
            client = Client::new(self.handshake(tcp).await?);
        }
        let login = self.step("LOGIN", client.login(&self.config.user, self.config.password.expose_secret())).await?;
        login.map_err(|(e, _)| match e {
            async_imap::error::Error::No(reason) | async_imap::error::Error::Bad(reason) => {
                MailboxError::Auth { server: self.server.clone(), reason }
            }
            // Never the error's own text for a validation failure: it would be about the password.
            async_imap::error::Error::Validate(_) => MailboxError::Auth {
                server: self.server.clone(),
                reason: "the user or password has a line break".into(),
            },
            other => self.unavailable(format!("LOGIN: {other}")),
        })
    }

    fn refused(&self, command: &str, e: async_imap::error::Error) -> MailboxError {
        match e {
            async_imap::error::Error::No(reason) | async_imap::error::Error::Bad(reason) => {
                MailboxError::Refused { server: self.server.clone(), command: command.to_owned(), reason }
            }
            other => self.unavailable(format!("{command}: {other}")),
        }
    }
}

/// Rustls on aws-lc-rs (the workspace's provider, as reqwest and lettre) with the web PKI's
/// roots and the extra ones given (PEM).
fn client_config(server: &str, extra_roots_pem: Option<&str>) -> Result<ClientConfig, MailboxError> {
    let refused = |reason: String| MailboxError::Refused { server: server.to_owned(), command: "TLS".into(), reason };
    let provider = Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    if let Some(pem) = extra_roots_pem {
        let mut added = 0;
        for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            let cert = cert.map_err(|e| refused(format!("the extra roots are not PEM certificates: {e}")))?;
            roots.add(cert).map_err(|e| refused(format!("an extra root is not a usable certificate: {e}")))?;
            added += 1;
        }
        if added == 0 {
            return Err(refused("the extra roots hold no PEM certificate".into()));
        }
    }
    Ok(ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| refused(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

#[async_trait]
impl MailboxSource for ImapMailbox {
    fn account(&self) -> &str {
        &self.inner.account
    }

    async fn open(&self) -> Result<Box<dyn MailboxSession>, MailboxError> {
        let inner = &self.inner;
        let mut session = inner.login().await?;
        let command = format!("SELECT {}", inner.config.mailbox);
        let selected = inner.step(&command, session.select(&inner.config.mailbox)).await?;
        let mailbox = selected.map_err(|e| inner.refused(&command, e))?;
        let Some(uid_validity) = mailbox.uid_validity else {
            return Err(MailboxError::Refused {
                server: inner.server.clone(),
                command,
                reason: "no UIDVALIDITY in the answer".into(),
            });
        };
        Ok(Box::new(ImapSession { mailbox: inner.clone(), session, uid_validity }))
    }
}

/// An IMAP session with the mailbox selected.
struct ImapSession {
    mailbox: Arc<Inner>,
    session: Session<Stream>,
    uid_validity: u32,
}

#[async_trait]
impl MailboxSession for ImapSession {
    fn uid_validity(&self) -> u32 {
        self.uid_validity
    }

    async fn uids_after(&mut self, after: u32) -> Result<Vec<u32>, MailboxError> {
        let Some(first) = after.checked_add(1) else { return Ok(Vec::new()) };
        let command = format!("UID SEARCH UID {first}:*");
        let found = self.mailbox.step(&command, self.session.uid_search(format!("UID {first}:*"))).await?;
        // `n:*` always names the highest UID, even one below `n`: filtered out here.
        let mut uids: Vec<u32> =
            found.map_err(|e| self.mailbox.refused(&command, e))?.into_iter().filter(|u| *u > after).collect();
        uids.sort_unstable();
        Ok(uids)
    }

    async fn fetch(&mut self, uid: u32) -> Result<Option<Vec<u8>>, MailboxError> {
        let command = format!("UID FETCH {uid} BODY.PEEK[]");
        let mailbox = self.mailbox.clone();
        let fetched = mailbox
            .step(&command, async {
                let stream = self.session.uid_fetch(uid.to_string(), "BODY.PEEK[]").await?;
                stream.try_collect::<Vec<_>>().await
            })
            .await?;
        let fetched = fetched.map_err(|e| mailbox.refused(&command, e))?;
        Ok(fetched.iter().filter(|f| f.uid.is_none_or(|u| u == uid)).find_map(|f| f.body().map(<[u8]>::to_vec)))
    }

    async fn close(mut self: Box<Self>) {
        let _ = tokio::time::timeout(self.mailbox.config.timeout, self.session.logout()).await;
    }
}

/// The connection: plain TCP or TLS over it.
#[derive(Debug)]
enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Stream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(port: u16, tls: TlsMode) -> ImapConfig {
        ImapConfig {
            host: "127.0.0.1".into(),
            port,
            tls,
            user: "support@crm.example".into(),
            password: SecretString::from("hunter2-secret"),
            mailbox: "INBOX".into(),
            timeout: Duration::from_secs(2),
            extra_roots_pem: None,
        }
    }

    #[test]
    fn the_password_never_prints() {
        let c = config(143, TlsMode::None);
        let shown = format!("{c:?} {:?}", ImapMailbox::new(c.clone()).expect("mailbox"));
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("[redacted]"), "{shown}");
    }

    #[test]
    fn the_account_is_user_host_and_mailbox() {
        let mut c = config(993, TlsMode::Implicit);
        c.host = "IMAP.Example.com".into();
        assert_eq!(ImapMailbox::new(c).expect("mailbox").account(), "support@crm.example@imap.example.com/INBOX");
    }

    #[test]
    fn extra_roots_that_are_not_certificates_are_refused_naming_the_server() {
        let mut c = config(993, TlsMode::Implicit);
        c.extra_roots_pem = Some("not a certificate".into());
        match ImapMailbox::new(c) {
            Err(e @ MailboxError::Refused { .. }) => assert!(e.to_string().contains("127.0.0.1:993"), "{e}"),
            other => panic!("expected Refused, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn an_unreachable_server_is_unavailable_naming_it() {
        // A port nobody listens on: bound, then released.
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
        let mailbox = ImapMailbox::new(config(port, TlsMode::None)).expect("mailbox");
        match mailbox.open().await {
            Err(e @ MailboxError::Unavailable { .. }) => {
                let text = e.to_string();
                assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
                assert!(!text.contains("hunter2"), "{text}");
            }
            Err(other) => panic!("expected Unavailable, got {other:?}"),
            Ok(_) => panic!("expected Unavailable, got a session"),
        }
    }

    #[tokio::test]
    async fn a_server_that_says_nothing_times_out() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let held = tokio::spawn(async move { listener.accept().await.map(|(s, _)| s) });
        let mut c = config(port, TlsMode::None);
        c.timeout = Duration::from_millis(200);
        let result = ImapMailbox::new(c).expect("mailbox").open().await;
        assert!(
            matches!(&result, Err(MailboxError::Unavailable { reason, .. }) if reason.contains("greeting")),
            "{:?}",
            result.err()
        );
        held.abort();
    }

    #[tokio::test]
    async fn a_refused_login_is_auth_with_the_servers_words_and_no_password() {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let server = tokio::spawn(async move {
            let (socket, _) = listener.accept().await.expect("accept");
            let (read, mut write) = socket.into_split();
            write.write_all(b"* OK fake ready\r\n").await.expect("greet");
            let mut lines = BufReader::new(read).lines();
            let line = lines.next_line().await.expect("read").expect("a command");
            let tag = line.split(' ').next().unwrap_or("a").to_owned();
            let answer = format!("{tag} NO [AUTHENTICATIONFAILED] Authentication failed.\r\n");
            write.write_all(answer.as_bytes()).await.expect("answer");
            line
        });
        let result = ImapMailbox::new(config(port, TlsMode::None)).expect("mailbox").open().await;
        match result {
            Err(e @ MailboxError::Auth { .. }) => {
                let text = e.to_string();
                assert!(text.contains("AUTHENTICATIONFAILED") && text.contains(&port.to_string()), "{text}");
                assert!(!text.contains("hunter2"), "{text}");
            }
            Err(other) => panic!("expected Auth, got {other:?}"),
            Ok(_) => panic!("expected Auth, got a session"),
        }
        let sent = server.await.expect("server");
        assert!(sent.contains("LOGIN"), "{sent}");
    }
}
