//! `[[mail.imap]]`: the mailboxes the server polls for mail in (CAS-8, EML-1; ADR 0039),
//! one table per tenant mailbox, each run as an `imap` worker of the core
//! ([`crm_core::service::Crm::mailbox_worker`]) on `crm-mail`'s [`crm_mail::ImapMailbox`].
//!
//! ```toml
//! [[mail.imap]]
//! tenant = "0192f0c4-…"                 # the tenant the mails land in
//! agent = "0192f0c4-…"                  # the agent the poller acts as (mail.inbound, case.edit)
//! host = "imap.example.com"
//! port = 993                            # default: 993 (implicit), 143 (starttls, none)
//! tls = "implicit"                      # "implicit" (default), "starttls", "none" (loopback only)
//! user = "support@example.com"
//! password_env = "CRM_IMAP_PASSWORD"    # the variable holding the password (never logged)
//! mailbox = "INBOX"                     # default
//! poll_interval_secs = 60               # default; 1 to 86400
//! timeout_secs = 30                     # one connection step at most; default; 1 to 300
//! ca_file = "/etc/crm/imap-ca.pem"      # optional: a private server's CA, besides the web PKI
//! ```

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crm_core::ids::{AgentId, TenantId};
use crm_core::ports::MailboxSource;
use crm_core::service::MailboxSettings;
use crm_mail::{ImapConfig, ImapMailbox, TlsMode};
use secrecy::SecretString;
use serde::Deserialize;

use crate::config::ConfigError;

/// One `[[mail.imap]]` table, as written.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImapFile {
    /// The tenant the mails land in (its id).
    pub tenant: String,
    /// The agent the poller acts as (its id): its role needs `mail.inbound` and `case.edit`,
    /// and new open cases are assigned to it, as with the inbound hook's token.
    pub agent: String,
    /// The server's host name.
    pub host: String,
    /// The server's port (default 993 with implicit TLS, 143 otherwise).
    #[serde(default)]
    pub port: Option<u16>,
    /// Transport security (default implicit TLS).
    #[serde(default)]
    pub tls: Option<TlsMode>,
    /// The login name.
    pub user: String,
    /// The environment variable holding the password.
    pub password_env: String,
    /// The mailbox polled (default `INBOX`).
    #[serde(default)]
    pub mailbox: Option<String>,
    /// Seconds between polls that found nothing more (default 60; 1 to 86400).
    #[serde(default)]
    pub poll_interval_secs: Option<u64>,
    /// Seconds one step (connecting, one command) may take (default 30; 1 to 300).
    #[serde(default)]
    pub timeout_secs: Option<u64>,
    /// A PEM file of certificates trusted besides the web PKI's roots (a private server's CA).
    #[serde(default)]
    pub ca_file: Option<std::path::PathBuf>,
}

/// A mailbox to poll, resolved: whose, as whom, and its source.
#[derive(Clone)]
pub struct MailboxAccount {
    /// The tenant.
    pub tenant: TenantId,
    /// The agent the poller acts as.
    pub agent: AgentId,
    /// The mailbox.
    pub source: Arc<dyn MailboxSource>,
    /// The poller's tunables.
    pub settings: MailboxSettings,
}

impl fmt::Debug for MailboxAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailboxAccount")
            .field("tenant", &self.tenant)
            .field("agent", &self.agent)
            .field("account", &self.source.account())
            .finish_non_exhaustive()
    }
}

/// Turns off the log targets of `async-imap`, whose `trace` shows every command sent, the
/// `LOGIN` with its password included: whatever the configured filter says.
pub fn without_imap_traces(filter: tracing_subscriber::EnvFilter) -> tracing_subscriber::EnvFilter {
    ["async_imap=off", "async_imap::imap_stream=off"]
        .into_iter()
        .filter_map(|d| d.parse().ok())
        .fold(filter, tracing_subscriber::EnvFilter::add_directive)
}

/// Whether a host is this machine (where a password may travel in clear).
fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Checks the `[[mail.imap]]` tables and builds their mailboxes; `env` reads an
/// environment variable (the passwords).
///
/// # Errors
/// [`ConfigError::Entry`] naming the key (`mail.imap[1].password_env`) and the reason: a
/// tenant or agent that is not an id, an empty host, user or mailbox, a port 0, `tls =
/// "none"` to a host that is not loopback, a password variable that is unset or empty, an
/// interval out of its range, the same mailbox twice for a tenant.
pub fn resolve(files: &[ImapFile], env: &dyn Fn(&str) -> Option<String>) -> Result<Vec<MailboxAccount>, ConfigError> {
    let mut accounts: Vec<MailboxAccount> = Vec::with_capacity(files.len());
    for (i, file) in files.iter().enumerate() {
        let account = resolve_one(i, file, env)?;
        if let Some(j) =
            accounts.iter().position(|a| a.tenant == account.tenant && a.source.account() == account.source.account())
        {
            return Err(invalid(i, "mailbox", format!("the same mailbox of the same tenant as mail.imap[{j}]")));
        }
        accounts.push(account);
    }
    Ok(accounts)
}

fn invalid(i: usize, key: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Entry { key: format!("mail.imap[{i}].{key}"), reason: reason.into() }
}

fn resolve_one(i: usize, f: &ImapFile, env: &dyn Fn(&str) -> Option<String>) -> Result<MailboxAccount, ConfigError> {
    let id = |key: &str, value: &str| {
        uuid::Uuid::parse_str(value.trim()).map_err(|_| invalid(i, key, format!("{value:?} is not an id (a UUID)")))
    };
    let tenant = TenantId::from_uuid(id("tenant", &f.tenant)?);
    let agent = AgentId::from_uuid(id("agent", &f.agent)?);
    let host = f.host.trim();
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(invalid(i, "host", "must be a host name or address"));
    }
    let tls = f.tls.unwrap_or(TlsMode::Implicit);
    if tls == TlsMode::None && !is_loopback(host) {
        return Err(invalid(i, "tls", "\"none\" sends the password in clear: only for a server on loopback"));
    }
    let port = f.port.unwrap_or(if tls == TlsMode::Implicit { 993 } else { 143 });
    if port == 0 {
        return Err(invalid(i, "port", "must be between 1 and 65535"));
    }
    let user = f.user.trim();
    if user.is_empty() || user.contains(['\r', '\n']) {
        return Err(invalid(i, "user", "must be a login name on one line"));
    }
    let variable = f.password_env.trim();
    if variable.is_empty() {
        return Err(invalid(i, "password_env", "must name the environment variable holding the password"));
    }
    let password = match env(variable) {
        Some(p) if !p.is_empty() => SecretString::from(p),
        _ => return Err(invalid(i, "password_env", format!("the environment variable {variable} is not set"))),
    };
    let mailbox = f.mailbox.as_deref().map_or("INBOX", str::trim);
    if mailbox.is_empty() || mailbox.contains(['\r', '\n']) {
        return Err(invalid(i, "mailbox", "must be a mailbox name on one line"));
    }
    let poll = f.poll_interval_secs.unwrap_or(60);
    if !(1..=86_400).contains(&poll) {
        return Err(invalid(i, "poll_interval_secs", "must be between 1 and 86400"));
    }
    let timeout = f.timeout_secs.unwrap_or(30);
    if !(1..=300).contains(&timeout) {
        return Err(invalid(i, "timeout_secs", "must be between 1 and 300"));
    }
    let extra_roots_pem = match &f.ca_file {
        Some(_) if tls == TlsMode::None => {
            return Err(invalid(i, "ca_file", "needs tls = \"implicit\" or \"starttls\""));
        }
        Some(path) => Some(
            std::fs::read_to_string(path)
                .map_err(|e| invalid(i, "ca_file", format!("cannot read {}: {e}", path.display())))?,
        ),
        None => None,
    };
    let config = ImapConfig {
        host: host.to_owned(),
        port,
        tls,
        user: user.to_owned(),
        password,
        mailbox: mailbox.to_owned(),
        timeout: Duration::from_secs(timeout),
        extra_roots_pem,
    };
    let key = if f.ca_file.is_some() { "ca_file" } else { "host" };
    let source = ImapMailbox::new(config).map_err(|e| invalid(i, key, e.to_string()))?;
    let settings = MailboxSettings { poll_interval: Duration::from_secs(poll), ..MailboxSettings::default() };
    Ok(MailboxAccount { tenant, agent, source: Arc::new(source), settings })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TENANT: &str = "0192f0c4-0000-7000-8000-000000000001";
    const AGENT: &str = "0192f0c4-0000-7000-8000-000000000002";

    fn file() -> ImapFile {
        ImapFile {
            tenant: TENANT.into(),
            agent: AGENT.into(),
            host: "imap.example.com".into(),
            port: None,
            tls: None,
            user: "support@example.com".into(),
            password_env: "CRM_IMAP_PASSWORD".into(),
            mailbox: None,
            poll_interval_secs: None,
            timeout_secs: None,
            ca_file: None,
        }
    }

    fn env(name: &str) -> Option<String> {
        (name == "CRM_IMAP_PASSWORD").then(|| "s3cret-imap-password".to_owned())
    }

    fn refusal(files: &[ImapFile]) -> String {
        match resolve(files, &env) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("expected a refusal"),
        }
    }

    #[test]
    fn a_mailbox_resolves_with_its_defaults() {
        let accounts = resolve(&[file()], &env).expect("resolves");
        let a = &accounts[0];
        assert_eq!(a.tenant.to_string(), TENANT);
        assert_eq!(a.agent.to_string(), AGENT);
        assert_eq!(a.source.account(), "support@example.com@imap.example.com/INBOX");
        assert_eq!(a.settings.poll_interval, Duration::from_secs(60));
        let shown = format!("{accounts:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
    }

    #[test]
    fn every_fault_names_its_key() {
        let cases: Vec<(ImapFile, &str)> = vec![
            (ImapFile { tenant: "acme".into(), ..file() }, "mail.imap[0].tenant: \"acme\" is not an id"),
            (ImapFile { agent: String::new(), ..file() }, "mail.imap[0].agent"),
            (ImapFile { host: " ".into(), ..file() }, "mail.imap[0].host"),
            (ImapFile { tls: Some(TlsMode::None), ..file() }, "mail.imap[0].tls: \"none\" sends the password in clear"),
            (ImapFile { port: Some(0), ..file() }, "mail.imap[0].port"),
            (ImapFile { user: String::new(), ..file() }, "mail.imap[0].user"),
            (
                ImapFile { password_env: "CRM_NOT_SET".into(), ..file() },
                "mail.imap[0].password_env: the environment variable CRM_NOT_SET is not set",
            ),
            (ImapFile { mailbox: Some("a\r\nb".into()), ..file() }, "mail.imap[0].mailbox"),
            (ImapFile { poll_interval_secs: Some(0), ..file() }, "mail.imap[0].poll_interval_secs"),
            (ImapFile { timeout_secs: Some(301), ..file() }, "mail.imap[0].timeout_secs"),
            (ImapFile { ca_file: Some("/nonexistent/ca.pem".into()), ..file() }, "mail.imap[0].ca_file: cannot read"),
        ];
        for (f, expected) in cases {
            let text = refusal(&[f]);
            assert!(text.contains(expected), "{text} should say {expected}");
            assert!(!text.contains("s3cret"), "{text}");
        }
        let text = refusal(&[file(), ImapFile { port: Some(1993), ..file() }]);
        assert!(text.contains("mail.imap[1].mailbox: the same mailbox of the same tenant as mail.imap[0]"), "{text}");
    }

    #[test]
    fn the_imap_protocol_trace_stays_off_whatever_the_filter() {
        for asked in ["trace", "info,async_imap=trace", "async_imap::imap_stream=trace"] {
            let shown = without_imap_traces(tracing_subscriber::EnvFilter::new(asked)).to_string();
            assert!(shown.contains("async_imap=off") && shown.contains("async_imap::imap_stream=off"), "{shown}");
            assert!(!shown.contains("async_imap=trace") && !shown.contains("imap_stream=trace"), "{shown}");
        }
    }

    #[test]
    fn plain_text_is_allowed_on_loopback_only() {
        for host in ["127.0.0.1", "localhost", "::1"] {
            let f = ImapFile { host: host.into(), tls: Some(TlsMode::None), port: Some(1143), ..file() };
            assert!(resolve(&[f], &env).is_ok(), "{host}");
        }
    }
}
