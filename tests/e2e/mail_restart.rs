//! Mail out across an SMTP outage AND a `kill -9` of the server (issue 28): the real
//! `crm-server` binary runs as a child process on a SQLite file (or a fresh PostgreSQL
//! database) with `[mail.smtp]` pointing at a real SMTP server (aiosmtpd,
//! `tests/smtp_sink.py`). The SMTP server is stopped, mails are queued and tried, the server
//! is killed with SIGKILL and started again on the same database, more mails are queued,
//! and once the SMTP server is back every queued mail arrives exactly once (counted by
//! `Message-ID` at the sink) and is `sent` in the API.
//!
//! The binary: see `crate::process` (`target/debug/crm-server` or `CRM_TEST_SERVER_BIN`).

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Api, Backend, TestDb};
use crate::on_both_backends;
use crate::process::{ServerProcess, free_port, server_binary};
use crate::real_smtp::{Sink, header, received, sink_available, wait_received};

async fn notify(api: &Api, case: &str, html: &str) -> String {
    let m = api.post(&format!("/api/v1/cases/{case}/notify"), &json!({"html": html})).await.expect(StatusCode::CREATED);
    m["message_id"].as_str().expect("a Message-ID").to_owned()
}

async fn mails(api: &Api, case: &str) -> Vec<Value> {
    let list = api.get(&format!("/api/v1/cases/{case}/mails")).await.expect(StatusCode::OK);
    list.as_array().expect("a list").clone()
}

async fn every_queued_mail_is_delivered_once_across_an_smtp_outage_and_a_kill_9(backend: Backend) {
    if !sink_available() {
        return;
    }
    let Some(bin) = server_binary("the mail restart test") else { return };
    let smtp_port = match backend {
        Backend::Postgres(_) => 2531,
        _ => 2530,
    };
    let db = TestDb::fresh(&backend).await;
    let work = tempfile::tempdir().expect("temp dir");
    let sink_dir = work.path().join("sink");
    let port = free_port();
    let config = work.path().join("crm.toml");
    std::fs::write(
        &config,
        format!(
            "database_url = \"{}\"\nlisten = \"127.0.0.1:{port}\"\n\n\
             [attachments]\nstore = \"fs\"\ndir = \"{}\"\n\n\
             [mail]\nlease_secs = 5\n\n\
             [mail.smtp]\nhost = \"127.0.0.1\"\nport = {smtp_port}\ntls = \"none\"\ntimeout_seconds = 5\n\n\
             [mail.retry]\nmax_attempts = 1000\nbase_delay_secs = 1\nmax_delay_secs = 1\n",
            db.url,
            work.path().join("blobs").display()
        ),
    )
    .expect("write the configuration");

    let sink = Sink::start(smtp_port, &sink_dir).await;
    let server = ServerProcess::start(&bin, &config, port);
    let token = server.token.clone().expect("the first start prints the demo administrator's token");
    let api = Api::new(&server.url, Some(&token));
    let customer = api
        .post(
            "/api/v1/customers",
            &json!({"name": "Restart Rita", "identities": [{"type": "email", "address": "rita@customer.example"}]}),
        )
        .await
        .expect(StatusCode::CREATED);
    let case = api
        .post("/api/v1/cases", &json!({"customer": customer["id"], "subject": "Outage"}))
        .await
        .expect(StatusCode::CREATED);
    let case = case["id"].as_str().expect("id").to_owned();
    let mut expected = vec![notify(&api, &case, "<p>Before the outage</p>").await];
    wait_received(&sink_dir, 1).await;

    // The SMTP server goes away; mails are queued and tried (and retried) meanwhile.
    drop(sink);
    for i in 0..8 {
        expected.push(notify(&api, &case, &format!("<p>During the outage {i}</p>")).await);
    }
    let mut tried = false;
    for _ in 0..400 {
        if mails(&api, &case).await.iter().skip(1).all(|m| m["attempts"].as_u64() >= Some(1)) {
            tried = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(tried, "the worker tried every mail during the outage: {:?}", mails(&api, &case).await);

    // kill -9, then the same binary on the same database.
    server.kill_9();
    let server = ServerProcess::start(&bin, &config, port);
    assert!(server.token.is_none(), "a restart seeds nothing");
    let api = Api::new(&server.url, Some(&token));
    for i in 0..3 {
        expected.push(notify(&api, &case, &format!("<p>After the restart {i}</p>")).await);
    }
    let listed = mails(&api, &case).await;
    assert_eq!(listed.len(), expected.len(), "every mail survived the kill: {listed:?}");
    assert!(listed.iter().skip(1).all(|m| m["state"] == "queued"), "{listed:?}");
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(received(&sink_dir).len(), 1, "nothing arrives while the SMTP server is down");

    // Back: every queued mail arrives exactly once.
    let _sink = Sink::start(smtp_port, &sink_dir).await;
    wait_received(&sink_dir, expected.len()).await;
    let mut sent = false;
    for _ in 0..400 {
        if mails(&api, &case).await.iter().all(|m| m["state"] == "sent") {
            sent = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(sent, "every mail is sent in the API: {:?}", mails(&api, &case).await);
    // Past a retry interval and a lease: a mail sent twice would show up by now.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for raw in received(&sink_dir).values() {
        *counts.entry(header(raw, "Message-ID").expect("a Message-ID").to_owned()).or_default() += 1;
    }
    let want: BTreeMap<String, usize> = expected.iter().map(|id| (id.clone(), 1)).collect();
    assert_eq!(counts, want, "every queued mail delivered exactly once, by Message-ID");
    drop(server);
}
on_both_backends!(every_queued_mail_is_delivered_once_across_an_smtp_outage_and_a_kill_9);
