//! [`SmtpMailer`]: the `Mailer` port on an SMTP relay.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use lettre::message::header::{ContentTransferEncoding, ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Body, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crm_core::ports::{MailError, Mailer, OutgoingMail, OutgoingPart};

/// How the connection to the relay is secured.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TlsMode {
    /// Plain text (a relay on loopback only).
    None,
    /// `STARTTLS` required (port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Implicit,
}

/// An SMTP relay, as written in the server's configuration (`[mail.smtp]`).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// Host name (checked against the certificate with TLS).
    pub host: String,
    /// Port (default: 25 without TLS, 587 with STARTTLS, 465 with implicit TLS).
    #[serde(default)]
    pub port: Option<u16>,
    /// Transport security.
    #[serde(default)]
    pub tls: TlsMode,
    /// AUTH user name.
    #[serde(default)]
    pub username: Option<String>,
    /// AUTH password (never logged). Prefer `password_env`.
    #[serde(default)]
    pub password: Option<SecretString>,
    /// The environment variable holding the AUTH password.
    #[serde(default)]
    pub password_env: Option<String>,
    /// Pooled connections kept open (default 8, as many as the mail worker sends at once).
    #[serde(default)]
    pub pool_size: Option<u32>,
    /// Seconds one SMTP command may take (default 30).
    #[serde(default)]
    pub timeout_seconds: Option<u64>,
}

impl fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .field("password_env", &self.password_env)
            .finish_non_exhaustive()
    }
}

impl SmtpConfig {
    /// A plain relay on `host:port` (tests and loopback relays).
    pub fn plain(host: impl Into<String>, port: u16) -> Self {
        Self {
            host: host.into(),
            port: Some(port),
            tls: TlsMode::None,
            username: None,
            password: None,
            password_env: None,
            pool_size: None,
            timeout_seconds: None,
        }
    }
}

/// Sends mail through an SMTP relay with a pool of connections.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    relay: String,
}

impl fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpMailer").field("relay", &self.relay).finish_non_exhaustive()
    }
}

impl SmtpMailer {
    /// Builds the transport (no connection is opened before the first mail).
    ///
    /// # Errors
    /// A TLS set-up the host name does not allow.
    pub fn new(config: &SmtpConfig) -> Result<Self, MailError> {
        let port = config.port.unwrap_or(match config.tls {
            TlsMode::None => 25,
            TlsMode::Starttls => 587,
            TlsMode::Implicit => 465,
        });
        let tls = match config.tls {
            TlsMode::None => Tls::None,
            TlsMode::Starttls | TlsMode::Implicit => {
                let params =
                    TlsParameters::new(config.host.clone()).map_err(|e| MailError::Unavailable(Box::new(e)))?;
                if config.tls == TlsMode::Starttls { Tls::Required(params) } else { Tls::Wrapper(params) }
            }
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(config.host.clone())
            .port(port)
            .tls(tls)
            .timeout(Some(Duration::from_secs(config.timeout_seconds.unwrap_or(30))))
            .pool_config(PoolConfig::new().max_size(config.pool_size.unwrap_or(8)));
        let password = config
            .password
            .clone()
            .or_else(|| config.password_env.as_deref().and_then(|v| std::env::var(v).ok()).map(SecretString::from));
        if let (Some(user), Some(password)) = (&config.username, &password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.expose_secret().to_owned()));
        }
        Ok(Self { transport: builder.build(), relay: format!("{}:{port}", config.host) })
    }
}

/// The RFC 5322 message of a mail: From, To, Cc (Bcc only in the envelope), Subject, the
/// fixed `Message-ID`, `In-Reply-To` and `References`, `Auto-Submitted: auto-replied` on an
/// auto-reply, and a `multipart/alternative` of the plain-text and HTML parts; inline images
/// (`Content-ID`) make it a `multipart/related`, attached files a `multipart/mixed` around it.
///
/// # Errors
/// `Rejected` for what no relay would take (an address lettre cannot write).
pub fn build_message(mail: &OutgoingMail) -> Result<Message, MailError> {
    let mailbox = |a: &crm_core::customer::EmailAddress| -> Result<Mailbox, MailError> {
        a.as_str().parse::<Mailbox>().map_err(|e| MailError::Rejected(format!("address {a}: {e}")))
    };
    let mut b = Message::builder().from(mailbox(&mail.from)?).subject(mail.subject.clone());
    for a in &mail.to {
        b = b.to(mailbox(a)?);
    }
    for a in &mail.cc {
        b = b.cc(mailbox(a)?);
    }
    for a in &mail.bcc {
        b = b.bcc(mailbox(a)?);
    }
    b = b.message_id(Some(mail.message_id.clone()));
    if let Some(parent) = &mail.in_reply_to {
        b = b.in_reply_to(parent.clone());
    }
    if !mail.references.is_empty() {
        b = b.references(mail.references.join(" "));
    }
    if mail.auto_submitted {
        // RFC 3834: an automatic answer; other responders (RFC 3834 and Exchange's
        // `X-Auto-Response-Suppress`) must not answer it.
        b = b
            .raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("Auto-Submitted"), "auto-replied".to_owned()))
            .raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("X-Auto-Response-Suppress"), "All".to_owned()));
    }
    let mut body = MultiPart::alternative()
        .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(mail.text_body.clone()))
        .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(mail.html_body.clone()));
    let content_type = |p: &OutgoingPart| {
        ContentType::parse(&p.content_type)
            .or_else(|_| ContentType::parse("application/octet-stream"))
            .map_err(|e| MailError::Rejected(format!("attachment {:?}: {e}", p.filename)))
    };
    // Files go as base64 whatever they hold: a text file's bare line feeds sent as 7bit
    // make one line longer than SMTP allows (RFC 5321 4.5.3.1.6), and a server refuses it.
    let base64 = |p: &OutgoingPart| {
        Body::new_with_encoding(p.data.clone(), ContentTransferEncoding::Base64)
            .map_err(|_| MailError::Rejected(format!("attachment {:?} cannot be encoded", p.filename)))
    };
    let (inline, attached): (Vec<&OutgoingPart>, Vec<&OutgoingPart>) =
        mail.parts.iter().partition(|p| p.content_id.is_some());
    if !inline.is_empty() {
        let mut related = MultiPart::related().multipart(body);
        for p in inline {
            let cid = p.content_id.clone().unwrap_or_default();
            related = related.singlepart(Attachment::new_inline(cid).body(base64(p)?, content_type(p)?));
        }
        body = related;
    }
    if !attached.is_empty() {
        let mut mixed = MultiPart::mixed().multipart(body);
        for p in attached {
            mixed = mixed.singlepart(Attachment::new(p.filename.clone()).body(base64(p)?, content_type(p)?));
        }
        body = mixed;
    }
    b.multipart(body).map_err(|e| MailError::Rejected(format!("the message cannot be written: {e}")))
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: &OutgoingMail) -> Result<String, MailError> {
        let message = build_message(mail)?;
        match self.transport.send(message).await {
            Ok(response) => {
                let text: Vec<&str> = response.message().collect();
                Ok(format!("{} {}", response.code(), text.join(" ")).trim_end().to_owned())
            }
            Err(e) if e.is_permanent() => Err(MailError::Rejected(e.to_string())),
            Err(e) => Err(MailError::Unavailable(Box::new(e))),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crm_core::customer::EmailAddress;

    fn mail() -> OutgoingMail {
        let a = |s: &str| EmailAddress::parse(s).unwrap();
        OutgoingMail {
            from: a("agent@crm.example"),
            to: vec![a("jane@customer.example")],
            cc: vec![a("boss@customer.example")],
            bcc: vec![a("audit@crm.example")],
            subject: "[#CS-000123] Your router".into(),
            html_body: "<p>Fixed</p>".into(),
            text_body: "Fixed".into(),
            message_id: "<m1@crm.example>".into(),
            in_reply_to: Some("<m0@customer.example>".into()),
            references: vec!["<a@x.example>".into(), "<m0@customer.example>".into()],
            auto_submitted: false,
            parts: vec![],
        }
    }

    #[test]
    fn the_message_carries_threading_headers_both_parts_and_no_bcc_header() {
        let raw = String::from_utf8(build_message(&mail()).unwrap().formatted()).unwrap();
        for needle in [
            "From: agent@crm.example",
            "To: jane@customer.example",
            "Cc: boss@customer.example",
            "Subject: [#CS-000123] Your router",
            "Message-ID: <m1@crm.example>",
            "In-Reply-To: <m0@customer.example>",
            "References: <a@x.example> <m0@customer.example>",
            "multipart/alternative",
            "text/plain",
            "text/html",
        ] {
            assert!(raw.contains(needle), "{needle} missing in\n{raw}");
        }
        assert!(!raw.contains("audit@crm.example"), "Bcc travels in the envelope only");
        assert!(!raw.contains("Auto-Submitted"), "a person's mail is not automatic");
        let envelope = build_message(&mail()).unwrap().envelope().clone();
        assert_eq!(envelope.to().len(), 3);
    }

    #[test]
    fn an_auto_reply_says_so_in_its_headers() {
        let raw =
            String::from_utf8(build_message(&OutgoingMail { auto_submitted: true, ..mail() }).unwrap().formatted())
                .unwrap();
        assert!(raw.contains("Auto-Submitted: auto-replied\r\n"), "{raw}");
        assert!(raw.contains("X-Auto-Response-Suppress: All\r\n"), "{raw}");
    }

    #[test]
    fn inline_images_are_related_and_files_mixed_around_the_alternative() {
        let parts = vec![
            OutgoingPart {
                filename: "logo.png".into(),
                content_type: "image/png".into(),
                content_id: Some("0192-logo".into()),
                data: b"\x89PNG fake".to_vec(),
            },
            OutgoingPart {
                filename: "terms and conditions.pdf".into(),
                content_type: "application/pdf".into(),
                content_id: None,
                data: b"%PDF-1.7 fake".to_vec(),
            },
        ];
        let raw = String::from_utf8(build_message(&OutgoingMail { parts, ..mail() }).unwrap().formatted()).unwrap();
        let at = |needle: &str| raw.find(needle).unwrap_or_else(|| panic!("{needle} missing in\n{raw}"));
        assert!(at("multipart/mixed") < at("multipart/related"), "{raw}");
        assert!(at("multipart/related") < at("multipart/alternative"), "{raw}");
        at("Content-ID: <0192-logo>");
        at("Content-Disposition: inline");
        at("Content-Disposition: attachment; filename=\"terms and conditions.pdf\"");
        at("Content-Type: application/pdf");
        let plain = String::from_utf8(build_message(&mail()).unwrap().formatted()).unwrap();
        assert!(!plain.contains("multipart/mixed") && !plain.contains("multipart/related"), "{plain}");
    }

    #[test]
    fn a_text_file_with_bare_line_feeds_goes_as_base64_lines_an_smtp_server_takes() {
        let parts = vec![OutgoingPart {
            filename: "terms.txt".into(),
            content_type: "text/plain".into(),
            content_id: None,
            data: "Terms: the router is yours.\n".repeat(80).into_bytes(),
        }];
        let raw = String::from_utf8(build_message(&OutgoingMail { parts, ..mail() }).unwrap().formatted()).unwrap();
        assert!(raw.contains("Content-Transfer-Encoding: base64"), "{raw}");
        assert!(raw.split("\r\n").all(|line| line.len() <= 998), "a line longer than RFC 5321 allows:\n{raw}");
        assert!(!raw.contains("Terms: the router"), "the file is encoded, not sent as it is: {raw}");
    }

    #[test]
    fn the_password_never_prints() {
        let mut c = SmtpConfig::plain("smtp.example", 587);
        c.username = Some("crm".into());
        c.password = Some(SecretString::from("hunter2"));
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[tokio::test]
    async fn an_unreachable_relay_is_unavailable_not_rejected() {
        let mailer = SmtpMailer::new(&SmtpConfig::plain("127.0.0.1", 1)).unwrap();
        assert!(matches!(mailer.send(&mail()).await, Err(MailError::Unavailable(_))));
    }
}
