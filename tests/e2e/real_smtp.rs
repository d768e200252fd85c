//! Mail out through a REAL SMTP server (aiosmtpd, `tests/smtp_sink.py`, Debian's
//! `python3-aiosmtpd`) on loopback, through `crm-mail`'s lettre transport: a notify arrives
//! with its headers, both parts and threading headers; with the SMTP server stopped, mails
//! wait (retried with backoff) and, once it is back, every one is delivered exactly once.
//!
//! The test starts and stops the sink itself (it must stop it mid-way). `CRM_TEST_SMTP_PYTHON`
//! names the Python with aiosmtpd (default `/usr/bin/python3`). Without it the test says it
//! did not run, and fails under `CI` (`.ci/run` installs `python3-aiosmtpd`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crm_mail::{SmtpConfig, SmtpMailer};
use mail_parser::MimeHeaders;

use crate::helpers::{Api, Backend, TestServer, test_settings};
use crate::{on_both_backends, on_every_store};

fn python() -> String {
    std::env::var("CRM_TEST_SMTP_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".to_owned())
}

pub(crate) fn sink_available() -> bool {
    let ok = Command::new(python())
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(std::env::var_os("CI").is_none(), "CI needs python3-aiosmtpd for the SMTP tests");
        eprintln!("SMTP tests did not run: no aiosmtpd for {} (apt-get install python3-aiosmtpd)", python());
    }
    ok
}

/// A running sink; killed on drop.
pub(crate) struct Sink {
    child: Child,
}

impl Sink {
    pub(crate) async fn start(port: u16, dir: &Path) -> Self {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("smtp_sink.py");
        let sink = Self {
            child: Command::new(python())
                .arg(script)
                .arg(port.to_string())
                .arg(dir)
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("start the SMTP sink"),
        };
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return sink;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the SMTP sink did not listen on {port}");
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The received mails, by file number.
pub(crate) fn received(dir: &Path) -> BTreeMap<u32, String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .filter_map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    let n = name.strip_suffix(".eml")?.parse().ok()?;
                    Some((n, std::fs::read_to_string(e.path()).ok()?))
                })
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) async fn wait_received(dir: &Path, n: usize) -> BTreeMap<u32, String> {
    for _ in 0..1_200 {
        let got = received(dir);
        if got.len() >= n {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{n} mails never arrived at the SMTP sink (got {})", received(dir).len());
}

pub(crate) fn header<'a>(raw: &'a str, name: &str) -> Option<&'a str> {
    raw.lines().find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(": ")))
}

async fn notify(api: &Api, case: &str, html: &str) -> Value {
    api.post(&format!("/api/v1/cases/{case}/notify"), &json!({"html": html})).await.expect(StatusCode::CREATED)
}

async fn notify_goes_through_a_real_smtp_server_exactly_once_across_an_outage(backend: Backend) {
    if !sink_available() {
        return;
    }
    let port = match backend {
        Backend::Memory => 2525,
        Backend::Sqlite => 2526,
        Backend::Postgres(_) => 2527,
    };
    let dir_holder = tempfile::tempdir().expect("temp dir");
    let dir: PathBuf = dir_holder.path().to_path_buf();
    let sink = Sink::start(port, &dir).await;
    let mut settings = test_settings();
    settings.mailer = Some(Arc::new(SmtpMailer::new(&SmtpConfig::plain("127.0.0.1", port)).expect("mailer")));
    settings.mail.retry = crm_core::service::RetryPolicy {
        max_attempts: 1_000,
        base_delay: Duration::from_millis(100),
        max_delay: Duration::from_millis(300),
    };
    let t = TestServer::start_with_settings(&backend, settings).await;
    let api = t.admin();
    let customer = api
        .post(
            "/api/v1/customers",
            &json!({"name": "Smtp Sam", "identities": [{"type": "email", "address": "sam@customer.example"}]}),
        )
        .await
        .expect(StatusCode::CREATED);
    let case = api
        .post("/api/v1/cases", &json!({"customer": customer["id"], "subject": "Invoice missing"}))
        .await
        .expect(StatusCode::CREATED);
    let (case, number) = (case["id"].as_str().expect("id").to_owned(), case["number"].as_str().expect("n").to_owned());

    // One notify: the right envelope, headers and parts.
    let first = notify(&api, &case, "<p>Here is <b>your</b> invoice.<script>x()</script></p>").await;
    let got = wait_received(&dir, 1).await;
    let raw = got.values().next().expect("one mail");
    assert_eq!(header(raw, "X-Envelope-To"), Some("sam@customer.example"));
    assert_eq!(header(raw, "From"), first["from"].as_str());
    assert_eq!(header(raw, "To"), Some("sam@customer.example"));
    assert_eq!(header(raw, "Subject"), Some(format!("[#{number}] Invoice missing").as_str()));
    assert_eq!(header(raw, "Message-ID"), first["message_id"].as_str());
    assert!(raw.contains("multipart/alternative"), "{raw}");
    assert!(raw.contains("Content-Type: text/plain") && raw.contains("Content-Type: text/html"), "{raw}");
    assert!(raw.contains("Here is your invoice."), "the plain-text part: {raw}");
    assert!(!raw.contains("script"), "{raw}");
    for _ in 0..100 {
        let mails = api.get(&format!("/api/v1/cases/{case}/mails")).await.expect(StatusCode::OK);
        if mails[0]["state"] == "sent" {
            assert!(mails[0]["reply"].as_str().is_some_and(|r| r.contains("queued as sink-1")), "{mails}");
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }

    // The SMTP server goes away; five mails are queued meanwhile and retried.
    drop(sink);
    let mut ids = vec![first["message_id"].as_str().expect("id").to_owned()];
    for i in 0..5 {
        let m = notify(&api, &case, &format!("<p>Update {i}</p>")).await;
        assert_eq!(m["in_reply_to"].as_str(), ids.last().map(String::as_str), "threaded on the previous mail");
        ids.push(m["message_id"].as_str().expect("id").to_owned());
    }
    for _ in 0..200 {
        let mails = api.get(&format!("/api/v1/cases/{case}/mails")).await.expect(StatusCode::OK);
        if mails.as_array().expect("list").iter().skip(1).all(|m| m["attempts"].as_u64() >= Some(1)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let mails = api.get(&format!("/api/v1/cases/{case}/mails")).await.expect(StatusCode::OK);
    assert!(mails.as_array().expect("list").iter().skip(1).all(|m| m["state"] == "queued"), "{mails}");
    assert_eq!(received(&dir).len(), 1, "nothing arrives while the server is down");

    // Back: every mail arrives exactly once, threaded on the previous one.
    let _sink = Sink::start(port, &dir).await;
    let got = wait_received(&dir, 6).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got = if received(&dir).len() == got.len() { got } else { received(&dir) };
    let mut seen: Vec<String> =
        got.values().map(|raw| header(raw, "Message-ID").expect("a Message-ID").to_owned()).collect();
    seen.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(seen, expected, "every queued mail delivered exactly once");
    let last = got.values().find(|raw| header(raw, "Message-ID") == ids.last().map(String::as_str)).expect("last");
    assert_eq!(header(last, "In-Reply-To"), Some(ids[4].as_str()));
    assert!(header(last, "References").is_some_and(|r| r.contains(ids[0].as_str())), "{last}");
}
on_both_backends!(notify_goes_through_a_real_smtp_server_exactly_once_across_an_outage);

/// Uploads one file to `path`; answers the stored attachment's id.
async fn upload(api: &Api, path: &str, filename: &str, content_type: &str, bytes: &[u8]) -> String {
    let stored = crate::attachments::upload(api, path, filename, content_type, bytes).await.expect(StatusCode::CREATED);
    stored["id"].as_str().expect("an attachment id").to_owned()
}

/// A 1 × 1 PNG (a real one: its type is sniffed on upload).
const PIXEL_PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0D, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00, 0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00,
    0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

/// A notify with an inline image (`cid:`) and an attached file, from the case's stored
/// attachments, arrives as `multipart/mixed` ⊃ `multipart/related` ⊃ `multipart/alternative`,
/// the image with its `Content-ID`, the file with its name and its bytes.
async fn notify_carries_inline_images_and_attachments_from_the_blob_store(backend: Backend) {
    if !sink_available() {
        return;
    }
    let port = match backend {
        Backend::Memory => 2532,
        Backend::Sqlite => 2533,
        Backend::Postgres(_) => 2534,
    };
    let dir_holder = tempfile::tempdir().expect("temp dir");
    let dir: PathBuf = dir_holder.path().to_path_buf();
    let _sink = Sink::start(port, &dir).await;
    let mut settings = test_settings();
    settings.mailer = Some(Arc::new(SmtpMailer::new(&SmtpConfig::plain("127.0.0.1", port)).expect("mailer")));
    let t = TestServer::start_with_settings(&backend, settings).await;
    let api = t.admin();
    let customer = api
        .post(
            "/api/v1/customers",
            &json!({"name": "Parts Pat", "identities": [{"type": "email", "address": "pat@customer.example"}]}),
        )
        .await
        .expect(StatusCode::CREATED);
    let case = api
        .post("/api/v1/cases", &json!({"customer": customer["id"], "subject": "Files"}))
        .await
        .expect(StatusCode::CREATED);
    let case = case["id"].as_str().expect("id").to_owned();
    let on_case = format!("/api/v1/cases/{case}/attachments");
    let logo = upload(&api, &on_case, "logo.png", "image/png", PIXEL_PNG).await;
    let notes = "Terms: the router is yours.\n".repeat(40);
    let terms = upload(&api, &on_case, "terms.txt", "text/plain", notes.as_bytes()).await;
    let html = format!(r#"<p>Our logo <img src="cid:{logo}" alt="logo"> and the terms attached.</p>"#);
    let m = api
        .post(&format!("/api/v1/cases/{case}/notify"), &json!({"html": html, "attachments": [terms, logo]}))
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(m["attachments"].as_array().map(Vec::len), Some(2), "{m}");
    assert_eq!(m["attachments"][1]["inline"], true, "{m}");
    let got = wait_received(&dir, 1).await;
    let raw = got.values().next().expect("one mail");
    let at = |needle: &str| raw.find(needle).unwrap_or_else(|| panic!("{needle} missing in\n{raw}"));
    assert!(at("multipart/mixed") < at("multipart/related") && at("multipart/related") < at("multipart/alternative"));
    at(&format!("Content-ID: <{logo}>"));
    at("Content-Disposition: attachment; filename=\"terms.txt\"");
    // Both files arrive whole: the text file (bare line feeds) as base64, lines SMTP takes.
    let parsed = mail_parser::MessageParser::default().parse(raw.as_bytes()).expect("a MIME message");
    let part =
        |name: &str| parsed.attachments().find(|a| a.attachment_name() == Some(name)).map(|a| a.contents().to_vec());
    assert_eq!(part("terms.txt").as_deref(), Some(notes.as_bytes()), "{raw}");
    let image = parsed.attachments().find(|a| a.content_id() == Some(logo.as_str())).expect("the inline image");
    assert_eq!(image.contents(), PIXEL_PNG);
}
on_every_store!(notify_carries_inline_images_and_attachments_from_the_blob_store);

/// The figures of `docs/benchmarks.md` (mail out): the notify request's latency (it only
/// queues; the worker sleeps meanwhile: a 20 s idle interval), then the rate at which the
/// worker delivers the queued mails to the local SMTP sink (first to last arrival), with the
/// default mail settings (8 mails in flight over a pool of 8 connections).
///
/// `CRM_BENCH_MAIL=1 cargo test -p crm-e2e --release --test e2e -- real_smtp::mail_out_figures --exact --nocapture`
///
/// A benchmark: without `CRM_BENCH_MAIL` it says so and does nothing. The figures count only
/// from a release build: a debug build refuses to run unless `CRM_BENCH_MAIL_COUNT` asks for
/// a small smoke run (at most 200 mails), and labels its output as not figures.
/// `CRM_BENCH_MAIL_COUNT` (default 1,000) sets the number of notifies, `CRM_BENCH_MAIL_CASES`
/// (default 100) the cases they are spread over (each case threads on its earlier mails).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_out_figures() {
    if std::env::var("CRM_BENCH_MAIL").is_err() {
        eprintln!("mail_out_figures: skipped (set CRM_BENCH_MAIL=1 to run the benchmark)");
        return;
    }
    let env_count = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<usize>().ok());
    let build = if cfg!(debug_assertions) { "debug" } else { "release" };
    let n = env_count("CRM_BENCH_MAIL_COUNT").unwrap_or(1_000).max(2);
    if cfg!(debug_assertions) {
        assert!(
            env_count("CRM_BENCH_MAIL_COUNT").is_some_and(|c| c <= 200),
            "the mail benchmark's figures need a release build (cargo test --release …); a debug build \
             runs only as a smoke run with CRM_BENCH_MAIL_COUNT of at most 200"
        );
    }
    let cases_wanted = env_count("CRM_BENCH_MAIL_CASES").unwrap_or(100).clamp(1, n);
    if !sink_available() {
        return;
    }
    let port = 2528;
    let dir_holder = tempfile::tempdir().expect("temp dir");
    let dir = dir_holder.path().to_path_buf();
    let _sink = Sink::start(port, &dir).await;
    let mut settings = test_settings();
    settings.mail.batch = 100;
    settings.mail.poll_interval = Duration::from_secs(20);
    settings.mailer = Some(Arc::new(SmtpMailer::new(&SmtpConfig::plain("127.0.0.1", port)).expect("mailer")));
    let t = TestServer::start_with_settings(&Backend::Sqlite, settings).await;
    let api = t.admin();
    let customer = api
        .post(
            "/api/v1/customers",
            &json!({"name": "Bench Bo", "identities": [{"type": "email", "address": "bo@customer.example"}]}),
        )
        .await
        .expect(StatusCode::CREATED);
    let mut cases = Vec::with_capacity(cases_wanted);
    for i in 0..cases_wanted {
        let case = api
            .post("/api/v1/cases", &json!({"customer": customer["id"], "subject": format!("Benchmark {i}")}))
            .await
            .expect(StatusCode::CREATED);
        cases.push(case["id"].as_str().expect("id").to_owned());
    }
    let html = format!("<p>{}</p>", "Your request is being handled. ".repeat(60));
    let mut latencies = Vec::with_capacity(n);
    for i in 0..n {
        let start = std::time::Instant::now();
        notify(&api, &cases[i % cases.len()], &html).await;
        latencies.push(start.elapsed());
    }
    latencies.sort();
    let at = |q: f64| latencies[((n as f64 * q) as usize).min(n - 1)];
    println!(
        "mail_out_figures ({build} build): notify, {n} requests one after another on {} cases: \
         p50 {:?}, p99 {:?}, max {:?}",
        cases.len(),
        at(0.5),
        at(0.99),
        at(1.0)
    );
    let got = wait_until(&dir, n, Duration::from_secs(300)).await;
    let mut times: Vec<std::time::SystemTime> = std::fs::read_dir(&dir)
        .expect("dir")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".eml"))
        .filter_map(|e| e.metadata().ok()?.modified().ok())
        .collect();
    times.sort();
    let span = times[times.len() - 1].duration_since(times[0]).unwrap_or_default();
    println!(
        "mail_out_figures ({build} build): delivered {got} of {n} mails in {span:?} (first to last arrival): \
         {:.0} mails/s",
        (got - 1) as f64 / span.as_secs_f64()
    );
    let ids: std::collections::BTreeSet<String> =
        received(&dir).values().filter_map(|raw| header(raw, "Message-ID").map(str::to_owned)).collect();
    assert_eq!((got, ids.len()), (n, n), "every mail delivered, each once");
    if cfg!(debug_assertions) {
        println!("mail_out_figures: a debug build's smoke run, NOT figures: run it with --release");
    }
}

async fn wait_until(dir: &Path, n: usize, limit: Duration) -> usize {
    let start = std::time::Instant::now();
    while start.elapsed() < limit {
        let got = received(dir).len();
        if got >= n {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    received(dir).len()
}
