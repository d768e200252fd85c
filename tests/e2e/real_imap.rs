//! Mail in through a REAL IMAP server (dovecot, Debian's `dovecot-imapd`) on loopback,
//! polled by the server's `imap` worker through `crm-mail`'s async-imap adapter (ADR 0039):
//! a new mail makes a case; replies (the subject's case tag, `In-Reply-To` a sent mail) land
//! on it; a malformed message is passed over; polls after the first, a restart of the server
//! on the same database and a rebuilt mailbox (a new UIDVALIDITY) store nothing twice; a
//! stopped IMAP server or a wrong password is retried until the mail comes.
//!
//! The test starts its own dovecot (`dovecot -F` with a generated configuration in a temporary
//! directory: passwd-file authentication, a maildir there, `ssl = no`, a free loopback port)
//! and delivers by writing files into the maildir's `new/`. `CRM_TEST_DOVECOT` names the
//! binary (default `/usr/sbin/dovecot`). Without it the test says it did not run, and fails
//! under `CI` (`.ci/run` installs `dovecot-imapd`).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crm_core::ids::{AgentId, TenantId};
use crm_core::ports::{MailboxError, MailboxSource};
use crm_core::service::MailboxSettings;
use crm_mail::{ImapConfig, ImapMailbox, TlsMode};
use crm_server::Settings;
use crm_server::connectors::Connectors;
use crm_server::mailboxes::MailboxAccount;

use crate::helpers::{Api, Backend, TestServer, start_on_with_settings, test_settings};
use crate::on_both_backends;

const USER: &str = "support";
const PASSWORD: &str = "imap-e2e-password";

fn dovecot_bin() -> PathBuf {
    std::env::var_os("CRM_TEST_DOVECOT").map_or_else(|| PathBuf::from("/usr/sbin/dovecot"), PathBuf::from)
}

fn dovecot_available() -> bool {
    let ok = Command::new(dovecot_bin()).arg("--version").stdout(Stdio::null()).status().is_ok_and(|s| s.success());
    if !ok {
        assert!(std::env::var_os("CI").is_none(), "CI needs dovecot-imapd for the IMAP tests");
        eprintln!("IMAP tests did not run: no dovecot at {} (apt-get install dovecot-imapd)", dovecot_bin().display());
    }
    ok
}

/// A private dovecot on a loopback port, its maildir in its own temporary directory.
struct Dovecot {
    child: Option<Child>,
    dir: tempfile::TempDir,
    port: u16,
    /// The implicit-TLS port (`imaps`), with TLS on.
    tls_port: u16,
    /// The PEM of the CA that signed the server's certificate, with TLS on.
    ca_pem: Option<String>,
    delivered: u32,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// A CA and a certificate for `localhost` signed by it (`server.pem`, `server.key`), made with
/// the `openssl` command (dovecot-core depends on it); answers the CA's PEM.
fn make_certificates(dir: &Path) -> String {
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl").args(args).current_dir(dir).output().expect("the openssl command");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
         keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .expect("extensions");
    let ca = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem"];
    openssl(&[&ca[..], &["-days", "2", "-subj", "/CN=crm-e2e-ca"]].concat());
    let csr = ["req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr"];
    openssl(&[&csr[..], &["-subj", "/CN=localhost"]].concat());
    let sign = ["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial"];
    openssl(&[&sign[..], &["-days", "2", "-extfile", "server.ext", "-out", "server.pem"]].concat());
    std::fs::read_to_string(dir.join("ca.pem")).expect("the CA")
}

impl Dovecot {
    async fn start() -> Self {
        Self::start_with(false).await
    }

    /// With `tls`: `STARTTLS` on the IMAP port and implicit TLS on [`Dovecot::tls_port`],
    /// with a certificate for `localhost` from a CA of the test's own.
    async fn start_with(tls: bool) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let (port, tls_port) = (free_port(), if tls { free_port() } else { 0 });
        let root = dir.path();
        let ca_pem = tls.then(|| make_certificates(root));
        let maildir = root.join("Maildir");
        for sub in ["new", "cur", "tmp"] {
            std::fs::create_dir_all(maildir.join(sub)).expect("maildir");
        }
        // dovecot reads and writes the maildir as `nobody` (it refuses root as a mail user).
        for d in [root.to_path_buf(), maildir.clone(), maildir.join("new"), maildir.join("cur"), maildir.join("tmp")] {
            set_mode(&d, 0o777);
        }
        std::fs::write(root.join("passwd"), format!("{USER}:{{PLAIN}}{PASSWORD}\n")).expect("passwd");
        set_mode(&root.join("passwd"), 0o644);
        let r = root.display();
        let ssl = if tls {
            format!("ssl = yes\nssl_cert = <{r}/server.pem\nssl_key = <{r}/server.key")
        } else {
            "ssl = no".into()
        };
        let config = format!(
            "base_dir = {r}/run\nstate_dir = {r}/state\nlog_path = {r}/dovecot.log\nprotocols = imap\n\
             listen = 127.0.0.1\n{ssl}\ndisable_plaintext_auth = no\nauth_mechanisms = plain login\n\
             default_internal_user = dovecot\ndefault_login_user = dovenull\nmail_uid = nobody\n\
             mail_gid = nogroup\nmail_location = maildir:{r}/Maildir\n\
             passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN {r}/passwd\n}}\n\
             userdb {{\n  driver = static\n  args = home={r}\n}}\n\
             service imap-login {{\n  inet_listener imap {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n\
               inet_listener imaps {{\n    address = 127.0.0.1\n    port = {tls_port}\n  }}\n}}\n\
             service stats {{\n  unix_listener stats-reader {{\n    mode = 0666\n  }}\n\
               unix_listener stats-writer {{\n    mode = 0666\n  }}\n}}\n"
        );
        std::fs::write(root.join("dovecot.conf"), config).expect("config");
        let mut d = Self { child: None, dir, port, tls_port, ca_pem, delivered: 0 };
        d.run().await;
        d
    }

    /// Starts (again) the server process and waits for its port.
    async fn run(&mut self) {
        let child = Command::new(dovecot_bin())
            .arg("-F")
            .arg("-c")
            .arg(self.dir.path().join("dovecot.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start dovecot");
        self.child = Some(child);
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("dovecot did not listen on {}: {}", self.port, self.log());
    }

    /// Stops the server process (SIGTERM: the master stops its children) and waits for it.
    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
            let _ = child.wait();
        }
    }

    fn maildir(&self) -> PathBuf {
        self.dir.path().join("Maildir")
    }

    /// Delivers a message as an MTA does: written in `tmp/`, moved into `new/`.
    fn deliver(&mut self, raw: &str) {
        self.delivered += 1;
        let name = format!("{}.M{}P{}.e2e", 1_700_000_000 + self.delivered, self.delivered, std::process::id());
        let tmp = self.maildir().join("tmp").join(&name);
        std::fs::write(&tmp, raw).expect("write the message");
        set_mode(&tmp, 0o666);
        std::fs::rename(&tmp, self.maildir().join("new").join(&name)).expect("deliver");
    }

    /// The mailbox's UIDVALIDITY, from dovecot's `dovecot-uidlist` (`3 V<uidvalidity> …`).
    fn uid_validity(&self) -> Option<String> {
        let list = std::fs::read_to_string(self.maildir().join("dovecot-uidlist")).ok()?;
        list.lines().next()?.split(' ').find_map(|w| w.strip_prefix('V')).map(str::to_owned)
    }

    /// Rebuilds the mailbox's UIDs (as a restore from a backup does): dovecot gives it a new
    /// UIDVALIDITY and numbers the same messages again. Needs the server stopped.
    fn forget_uids(&self) {
        for entry in std::fs::read_dir(self.maildir()).expect("maildir").filter_map(Result::ok) {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("dovecot") {
                std::fs::remove_file(entry.path()).expect("remove an index");
            }
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dovecot.log")).unwrap_or_default()
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        self.stop();
    }
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

fn message(from: &str, subject: &str, id: &str, extra: &str) -> String {
    format!(
        "From: Jane Doe <{from}>\r\nTo: support@crm.example\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\n{extra}\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nMy router is broken.\r\n"
    )
}

/// Test settings with the dovecot mailbox polled every 100 ms (retried from 100 ms).
fn polling(dovecot: &Dovecot, tenant: TenantId, agent: AgentId, password: &str) -> Settings {
    let mut settings = test_settings();
    let source = ImapMailbox::new(ImapConfig::plain("127.0.0.1", dovecot.port, USER, password)).expect("mailbox");
    settings.mailboxes = vec![MailboxAccount {
        tenant,
        agent,
        source: Arc::new(source),
        settings: MailboxSettings {
            poll_interval: Duration::from_millis(100),
            batch: 50,
            retry_base: Duration::from_millis(100),
            retry_max: Duration::from_millis(400),
            pass_over_after: 5,
        },
    }];
    settings
}

/// The cases of the card of `sender`, once it exists.
async fn cases_of(api: &Api, sender: &str) -> Vec<Value> {
    let found = api.get(&format!("/api/v1/customers?email={sender}")).await.expect(StatusCode::OK);
    let Some(customer) = found["items"].as_array().and_then(|a| a.first()).map(|c| c["id"].clone()) else {
        return Vec::new();
    };
    let cases = api.get(&format!("/api/v1/cases?customer={}", customer.as_str().expect("id"))).await;
    cases.expect(StatusCode::OK)["items"].as_array().cloned().unwrap_or_default()
}

async fn inbound_mails(api: &Api, case: &str) -> Vec<Value> {
    let list = api.get(&format!("/api/v1/cases/{case}/inbound-mails")).await.expect(StatusCode::OK);
    list.as_array().cloned().unwrap_or_default()
}

/// Waits until `case` has `n` received mails (10 s at most); answers them.
async fn wait_mails(api: &Api, case: &str, n: usize) -> Vec<Value> {
    for _ in 0..400 {
        let mails = inbound_mails(api, case).await;
        if mails.len() >= n {
            return mails;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{n} mails never landed on case {case}: {:?}", inbound_mails(api, case).await);
}

/// Waits for the first case of `sender`'s card (10 s at most).
async fn wait_case(api: &Api, sender: &str) -> Value {
    for _ in 0..400 {
        if let Some(case) = cases_of(api, sender).await.into_iter().next() {
            return case;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("no case was made for {sender}");
}

async fn mail_in_through_a_real_imap_server_lands_once_on_the_right_case(backend: Backend) {
    if !dovecot_available() {
        return;
    }
    let mut dovecot = Dovecot::start().await;
    // The first start seeds the demo tenant; the pollers need its ids, so they start with
    // the second.
    let TestServer { server, db, admin_token } = TestServer::start(&backend).await;
    let demo = server.demo.clone().expect("demo");
    let (tenant, admin) = (demo.tenant, demo.admin);
    server.stop().await.expect("clean stop");
    let run = uuid::Uuid::now_v7().simple().to_string();
    let sender = format!("jane.{run}@customer.example");

    // A mail waiting before the poller starts, behind a malformed message: a new case.
    dovecot.deliver("\u{0}\u{1}\u{2} no header, no mail\r\n");
    dovecot.deliver(&message(&sender, "Router broken", &format!("first.{run}@customer.example"), ""));
    let server =
        start_on_with_settings(&db.url, false, Connectors::none(), polling(&dovecot, tenant, admin, PASSWORD)).await;
    let api = Api::new(&server.url(), Some(&admin_token));
    let case = wait_case(&api, &sender).await;
    let (case_id, number) =
        (case["id"].as_str().expect("id").to_owned(), case["number"].as_str().expect("n").to_owned());
    let mails = wait_mails(&api, &case_id, 1).await;
    assert_eq!(mails[0]["threading"], "new_case", "{mails:?}");
    assert_eq!(mails[0]["message_id"], format!("<first.{run}@customer.example>"), "{mails:?}");

    // Replies: the subject's case tag, and In-Reply-To a mail the case sent.
    dovecot.deliver(&message(&sender, &format!("Re: [#{number}] Router broken"), &format!("tag.{run}@c.example"), ""));
    let sent = api
        .post(&format!("/api/v1/cases/{case_id}/notify"), &json!({"html": "<p>Please restart it.</p>"}))
        .await
        .expect(StatusCode::CREATED);
    let sent_id = sent["message_id"].as_str().expect("message id").to_owned();
    let in_reply = format!("In-Reply-To: {sent_id}\r\nReferences: {sent_id}\r\n");
    dovecot.deliver(&message(&sender, "Re: your answer", &format!("ref.{run}@c.example"), &in_reply));
    let mails = wait_mails(&api, &case_id, 3).await;
    let how: Vec<&str> = mails.iter().filter_map(|m| m["threading"].as_str()).collect();
    assert_eq!(how, ["new_case", "subject_tag", "reference"], "{mails:?}");
    assert_eq!(cases_of(&api, &sender).await.len(), 1, "one case for the thread");

    // More polls, then a restart on the same database: nothing twice.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let follow_ups = api.get(&format!("/api/v1/cases/{case_id}/follow-ups")).await.expect(StatusCode::OK);
    let follow_ups = follow_ups.as_array().map_or(0, Vec::len);
    server.stop().await.expect("clean stop");
    let server =
        start_on_with_settings(&db.url, false, Connectors::none(), polling(&dovecot, tenant, admin, PASSWORD)).await;
    let api = Api::new(&server.url(), Some(&admin_token));
    dovecot.deliver(&message(&sender, &format!("[#{number}] one more thing"), &format!("after.{run}@c.example"), ""));
    let mails = wait_mails(&api, &case_id, 4).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(inbound_mails(&api, &case_id).await.len(), 4, "{mails:?}");
    let after = api.get(&format!("/api/v1/cases/{case_id}/follow-ups")).await.expect(StatusCode::OK);
    assert_eq!(after.as_array().map_or(0, Vec::len), follow_ups + 1, "only the new mail's follow-up");

    // The mailbox rebuilt under a new UIDVALIDITY: every message read again, none stored twice.
    let before = dovecot.uid_validity();
    dovecot.stop();
    tokio::time::sleep(Duration::from_millis(1_100)).await; // dovecot's UIDVALIDITY is a time in seconds
    dovecot.forget_uids();
    dovecot.run().await;
    dovecot.deliver(&message(&sender, &format!("[#{number}] last"), &format!("last.{run}@c.example"), ""));
    wait_mails(&api, &case_id, 5).await;
    assert_ne!(dovecot.uid_validity(), before, "dovecot renumbered the mailbox");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(inbound_mails(&api, &case_id).await.len(), 5);
    assert_eq!(cases_of(&api, &sender).await.len(), 1);
    server.stop().await.expect("clean stop");
}
on_both_backends!(mail_in_through_a_real_imap_server_lands_once_on_the_right_case);

/// A wrong password and a stopped IMAP server are retried (the server keeps serving, the
/// worker backs off): the mail arrives once the password is right and the server is back.
async fn a_wrong_password_or_a_stopped_server_is_retried_until_the_mail_comes(backend: Backend) {
    if !dovecot_available() {
        return;
    }
    let mut dovecot = Dovecot::start().await;
    let TestServer { server, db, admin_token } = TestServer::start(&backend).await;
    let demo = server.demo.clone().expect("demo");
    let (tenant, admin) = (demo.tenant, demo.admin);
    server.stop().await.expect("clean stop");
    let sender = format!("retry.{}@customer.example", uuid::Uuid::now_v7().simple());
    dovecot.deliver(&message(&sender, "Anyone there?", &format!("r1.{}@c.example", uuid::Uuid::now_v7()), ""));

    let wrong = polling(&dovecot, tenant, admin, "not-the-password");
    let server = start_on_with_settings(&db.url, false, Connectors::none(), wrong).await;
    let api = Api::new(&server.url(), Some(&admin_token));
    // dovecot answers a failed login after its auth_failure_delay (2 s).
    for _ in 0..400 {
        if dovecot.log().contains("auth failed") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(dovecot.log().contains("auth failed"), "dovecot saw the refused logins: {}", dovecot.log());
    assert!(!dovecot.log().contains("not-the-password"), "{}", dovecot.log());
    assert!(cases_of(&api, &sender).await.is_empty(), "nothing with a wrong password");
    api.get("/api/v1/cases?limit=1").await.expect(StatusCode::OK);
    server.stop().await.expect("clean stop");

    dovecot.stop();
    let right = polling(&dovecot, tenant, admin, PASSWORD);
    let server = start_on_with_settings(&db.url, false, Connectors::none(), right).await;
    let api = Api::new(&server.url(), Some(&admin_token));
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(cases_of(&api, &sender).await.is_empty(), "nothing while the IMAP server is down");
    dovecot.run().await;
    let case = wait_case(&api, &sender).await;
    let mails = wait_mails(&api, case["id"].as_str().expect("id"), 1).await;
    assert_eq!(mails.len(), 1);
    server.stop().await.expect("clean stop");
}
on_both_backends!(a_wrong_password_or_a_stopped_server_is_retried_until_the_mail_comes);

/// The adapter over TLS, implicit and `STARTTLS`, to a server whose certificate a CA of its
/// own signed: it reads the mailbox when that CA is given as an extra root, and refuses the
/// server (a certificate error, `Unavailable`) when it is not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_adapter_speaks_implicit_tls_and_starttls_and_refuses_an_unknown_certificate() {
    if !dovecot_available() {
        return;
    }
    let mut dovecot = Dovecot::start_with(true).await;
    dovecot.deliver(&message("tls@customer.example", "Over TLS", "tls.1@customer.example", ""));
    for (tls, port) in [(TlsMode::Implicit, dovecot.tls_port), (TlsMode::Starttls, dovecot.port)] {
        let mut config = ImapConfig::plain("localhost", port, USER, PASSWORD);
        config.tls = tls;
        config.extra_roots_pem = dovecot.ca_pem.clone();
        let mailbox = ImapMailbox::new(config.clone()).expect("mailbox");
        let mut session = match mailbox.open().await {
            Ok(session) => session,
            Err(e) => panic!("{tls:?}: {e}; dovecot: {}", dovecot.log()),
        };
        let uids = session.uids_after(0).await.expect("uids");
        assert_eq!(uids.len(), 1, "{tls:?}");
        let raw = session.fetch(uids[0]).await.expect("fetch").expect("the message");
        assert!(String::from_utf8_lossy(&raw).contains("Subject: Over TLS"), "{tls:?}");
        assert_eq!(session.fetch(uids[0] + 100).await.expect("fetch"), None, "no such UID");
        session.close().await;

        config.extra_roots_pem = None;
        match ImapMailbox::new(config).expect("mailbox").open().await.err() {
            Some(MailboxError::Unavailable { reason, .. }) => {
                assert!(reason.contains("certificate"), "{tls:?}: {reason}");
            }
            other => panic!("{tls:?}: expected a certificate refusal, got {other:?}"),
        }
    }
}
