//! The mail adapter of the CRM: [`SmtpMailer`] sends `crm-core`'s
//! [`OutgoingMail`](crm_core::ports::OutgoingMail) through an SMTP relay with `lettre`
//! (rustls only; plain, STARTTLS or implicit TLS; AUTH; a connection pool), behind the core's
//! [`Mailer`](crm_core::ports::Mailer) port.
//!
//! The relay's 5xx refusals are [`MailError::Rejected`](crm_core::ports::MailError) (the
//! mail becomes a dead letter); everything else (connection refused, timeouts, 4xx) is
//! [`MailError::Unavailable`](crm_core::ports::MailError) (the mail worker retries with
//! backoff). The password is a [`secrecy::SecretString`]: it never prints, not even in
//! `Debug`.
//!
//! [`ImapMailbox`] reads a mailbox over IMAP (`async-imap` on tokio, rustls only) behind the
//! core's [`MailboxSource`](crm_core::ports::MailboxSource) port: the core's `imap` worker
//! polls it by UID under its UIDVALIDITY and receives each message as the inbound hook does
//! (ADR 0039).

mod imap;
mod smtp;

pub use imap::{ImapConfig, ImapMailbox};
pub use smtp::{SmtpConfig, SmtpMailer, TlsMode, build_message};
