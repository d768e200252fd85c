//! Mail in (CAS-8, EML-1) on the in-memory store: threading by the subject's tag in any
//! rendering, by references to sent and received mails, idempotency by `Message-ID`, the
//! rules (group, priority, no case, auto-reply never to a machine, rate limit), the
//! original kept, attachments stored, one write or none.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use proptest::prelude::*;
use sha2::{Digest, Sha256};

use crm_core::case::{CaseListEntryInput, CaseListKind, NewCase, Priority};
use crm_core::customer::{IdentityInput, NewCustomer};
use crm_core::follow_up::FollowUpKind;
use crm_core::mail::received::Threading;
use crm_core::mail::rules::{MailRule, MailRulesInput};
use crm_core::ports::{BlobError, BlobKey, BlobStore, BlobStream, ByteStream, InboundMailStore, MailStore, StoredBlob};
use crm_core::service::{AUTO_REPLIES_PER_SENDER, MailSimulation};

use crate::helpers::{Env, runtime};

/// Blobs in a map.
#[derive(Debug, Default)]
struct MapBlobs(Mutex<HashMap<String, Vec<u8>>>);

#[async_trait]
impl BlobStore for MapBlobs {
    async fn put(&self, mut data: ByteStream<'_>) -> Result<StoredBlob, BlobError> {
        let mut bytes = Vec::new();
        while let Some(chunk) = data.next().await {
            bytes.extend_from_slice(&chunk?);
        }
        let key = BlobKey::from_digest(&Sha256::digest(&bytes).into());
        let size = bytes.len() as u64;
        self.0.lock().expect("the map").insert(key.as_str().to_owned(), bytes);
        Ok(StoredBlob { key, size })
    }
    async fn get(&self, key: &BlobKey) -> Result<BlobStream, BlobError> {
        let bytes = self
            .0
            .lock()
            .expect("the map")
            .get(key.as_str())
            .cloned()
            .ok_or_else(|| BlobError::NotFound(key.clone()))?;
        Ok(futures::stream::iter([Ok(Bytes::from(bytes))]).boxed())
    }
    async fn delete(&self, key: &BlobKey) -> Result<(), BlobError> {
        self.0.lock().expect("the map").remove(key.as_str());
        Ok(())
    }
}

pub(crate) async fn env() -> Env {
    let mut env = Env::new().await;
    env.crm = env.crm.with_blob_store(Arc::new(MapBlobs::default()));
    env
}

pub(crate) fn mail(from: &str, subject: &str, id: &str, extra: &str) -> String {
    format!(
        "From: Jane Doe <{from}>\r\nTo: support@crm.example\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\n{extra}\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello, my router is broken.\r\n"
    )
}

pub(crate) async fn customer_case(env: &Env) -> crm_core::case::Case {
    let admin = env.tenant.admin_actor();
    let c = env
        .crm
        .create_customer(
            &admin,
            NewCustomer {
                name: "Jane".into(),
                identities: vec![IdentityInput::Email { address: "jane@customer.example".into(), label: None }],
                ..NewCustomer::default()
            },
        )
        .await
        .expect("a customer");
    env.crm.create_case(&admin, NewCase::open(c.id, "Router")).await.expect("a case")
}

#[tokio::test]
async fn a_new_mail_makes_a_card_and_a_case_and_a_redelivery_makes_nothing() {
    let env = env().await;
    let admin = env.tenant.admin_actor();
    let raw = mail("new@somewhere.example", "Help", "m1@somewhere.example", "");
    let first = env.crm.receive_mail(&admin, raw.as_bytes()).await.unwrap();
    assert!(first.created_case && first.created_customer && !first.duplicate);
    assert_eq!(first.mail.threading, Threading::NewCase);
    assert!(first.mail.raw.is_some());
    let counts = env.store.counts();
    let again = env.crm.receive_mail(&admin, raw.as_bytes()).await.unwrap();
    assert!(again.duplicate);
    assert_eq!(again.mail.id, first.mail.id);
    assert_eq!(env.store.counts(), counts, "a redelivery writes nothing");
    let follow_ups = env.crm.follow_ups(&admin, first.mail.case).await.unwrap();
    assert_eq!(follow_ups.len(), 1);
    assert_eq!(follow_ups[0].kind, FollowUpKind::InboundEmail);
    let (_, mut raw_back) = env.crm.inbound_mail_raw(&admin, first.mail.case, first.mail.id).await.unwrap();
    let mut bytes = Vec::new();
    while let Some(chunk) = raw_back.next().await {
        bytes.extend_from_slice(&chunk.unwrap());
    }
    assert_eq!(bytes, raw.as_bytes());
    assert!(env.store.events().iter().any(|e| e.kind.name() == "mail_received"));
}

#[tokio::test]
async fn a_reply_to_a_sent_mail_or_a_received_one_lands_on_its_case() {
    let env = env().await;
    let admin = env.tenant.admin_actor();
    let case = customer_case(&env).await;
    let sent = env
        .crm
        .notify(&admin, case.id, crm_core::mail::NotifyRequest { html: "<p>Hi</p>".into(), ..Default::default() })
        .await
        .unwrap();
    let reply = mail(
        "jane@customer.example",
        "Re: your question",
        "r1@customer.example",
        &format!("In-Reply-To: {}\r\n", sent.message_id),
    );
    let got = env.crm.receive_mail(&admin, reply.as_bytes()).await.unwrap();
    assert_eq!((got.mail.case, got.mail.threading), (case.id, Threading::Reference));
    let second =
        mail("jane@customer.example", "more", "r2@customer.example", "References: <x@y> <r1@customer.example>\r\n");
    let got = env.crm.receive_mail(&admin, second.as_bytes()).await.unwrap();
    assert_eq!((got.mail.case, got.mail.threading), (case.id, Threading::Reference));
    assert!(!got.created_customer, "the sender's card was found by address");
}

#[tokio::test]
async fn rules_route_set_priority_refuse_cases_and_auto_reply_only_to_people_within_the_limit() {
    let env = env().await;
    let admin = env.tenant.admin_actor();
    let group = env.tenant.group.clone();
    let mut g = group.clone();
    g.mail_addresses = vec![crm_core::customer::EmailAddress::parse("support@crm.example").unwrap()];
    g.version += 1;
    crm_core::ports::DirectoryStore::put_group(&*env.store, &g, Some(group.version), &[]).await.unwrap();
    let rules: Vec<MailRule> = serde_json::from_value(serde_json::json!([
        {"name": "spam", "condition": {"field": "subject", "op": "contains", "value": "lottery", "ignore_case": true},
         "actions": {"create_case": false, "stop": true}},
        {"name": "urgent", "condition": {"field": "subject", "op": "regex", "value": "(?i)urgent|asap"},
         "actions": {"priority": "high", "group": group.id}},
        {"name": "ack", "actions": {"auto_reply": {"from": "support@crm.example", "subject": "We got it",
         "text": "Dear {{customer.name}}, your case is {{case.number}}."}}}
    ]))
    .unwrap();
    let set = env.crm.put_mail_rules(&admin, 0, MailRulesInput { rules }).await.unwrap();
    assert_eq!(set.version, 1);

    let spam = mail("a@b.example", "You won the LOTTERY", "s1@b.example", "");
    assert!(env.crm.receive_mail(&admin, spam.as_bytes()).await.is_err(), "no case, nothing stored");
    assert!(env.store.inbound_mail_by_message_id(admin.tenant, "<s1@b.example>").await.unwrap().is_none());

    let urgent = mail("a@b.example", "URGENT: down", "u1@b.example", "");
    let got = env.crm.receive_mail(&admin, urgent.as_bytes()).await.unwrap();
    let case = env.crm.get_case(&admin, got.mail.case).await.unwrap();
    assert_eq!((case.priority(), case.group()), (Priority::High, Some(group.id)));
    assert_eq!(got.mail.rules, vec!["urgent".to_owned(), "ack".to_owned()]);
    assert!(got.mail.auto_replied);
    let queued = env.store.mails_of_case(admin.tenant, case.id).await.unwrap();
    assert_eq!(queued.len(), 1);
    assert!(queued[0].text_body.contains(&case.number.to_string()), "{}", queued[0].text_body);
    assert_eq!(queued[0].in_reply_to.as_deref(), Some("<u1@b.example>"));
    assert!(queued[0].auto_submitted, "an auto-reply goes out with Auto-Submitted: auto-replied");
    assert!(queued[0].outgoing().auto_submitted);

    let bot = mail("bot@b.example", "Out of office", "o1@b.example", "Auto-Submitted: auto-replied\r\n");
    let got = env.crm.receive_mail(&admin, bot.as_bytes()).await.unwrap();
    assert!(!got.mail.auto_replied, "never answer a machine");

    for i in 0..AUTO_REPLIES_PER_SENDER + 1 {
        let m = mail("many@b.example", "hello", &format!("n{i}@b.example"), "");
        let got = env.crm.receive_mail(&admin, m.as_bytes()).await.unwrap();
        assert_eq!(got.mail.auto_replied, i < AUTO_REPLIES_PER_SENDER, "mail {i}");
    }

    let sim =
        env.crm.simulate_mail_rules(&admin, MailSimulation { raw: Some(spam), mail: None, rules: None }).await.unwrap();
    assert_eq!(sim.decision.matched, vec!["spam".to_owned()]);
    assert!(!sim.decision.create_case);
}

#[tokio::test]
async fn a_rule_sets_the_category_of_a_new_case_and_only_an_active_one() {
    let env = env().await;
    let admin = env.tenant.admin_actor();
    let entry = |key: &str| CaseListEntryInput { key: key.into(), label: key.into(), active: None };
    env.crm.put_case_list_entry(&admin, CaseListKind::Category, entry("billing")).await.unwrap();
    let rules = |category: &str| -> Vec<MailRule> {
        serde_json::from_value(serde_json::json!([
            {"name": "invoices", "condition": {"field": "subject", "op": "contains", "value": "invoice",
             "ignore_case": true}, "actions": {"category": category}}
        ]))
        .unwrap()
    };
    let refused = env.crm.put_mail_rules(&admin, 0, MailRulesInput { rules: rules("nope") }).await.unwrap_err();
    let crm_core::Error::Validation(v) = refused else { panic!("a validation error: {refused:?}") };
    assert_eq!(v.errors()[0].field, "rules[0].actions.category");
    env.crm.put_mail_rules(&admin, 0, MailRulesInput { rules: rules("billing") }).await.unwrap();

    let got =
        env.crm.receive_mail(&admin, mail("a@b.example", "Invoice 42", "i1@b.example", "").as_bytes()).await.unwrap();
    assert_eq!(env.crm.get_case(&admin, got.mail.case).await.unwrap().category(), Some("billing"));
    let other =
        env.crm.receive_mail(&admin, mail("a@b.example", "Hello", "h1@b.example", "").as_bytes()).await.unwrap();
    assert_eq!(env.crm.get_case(&admin, other.mail.case).await.unwrap().category(), None);

    // Retired since the rules were written: the case is still made, without it, and noted.
    let retired = CaseListEntryInput { active: Some(false), ..entry("billing") };
    env.crm.put_case_list_entry(&admin, CaseListKind::Category, retired).await.unwrap();
    let got =
        env.crm.receive_mail(&admin, mail("a@b.example", "Invoice 43", "i2@b.example", "").as_bytes()).await.unwrap();
    assert_eq!(env.crm.get_case(&admin, got.mail.case).await.unwrap().category(), None);
    assert!(got.mail.notes.iter().any(|n| n.contains("category")), "{:?}", got.mail.notes);
}

#[tokio::test]
async fn attachments_are_stored_on_the_follow_up_and_a_broken_part_is_dropped_and_noted() {
    let env = env().await;
    let admin = env.tenant.admin_actor();
    let raw = "From: x@y.example\r\nSubject: files\r\nMessage-ID: <f1@y.example>\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
<p onclick=\"x()\">Hi<script>alert(1)</script></p>\r\n--b\r\nContent-Type: text/plain; name=\"../../etc/passwd\"\r\n\
Content-Disposition: attachment; filename=\"../../etc/passwd\"\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n--b--\r\n";
    let got = env.crm.receive_mail(&admin, raw.as_bytes()).await.unwrap();
    assert_eq!(got.attachments, 1);
    let atts = env
        .crm
        .attachments(&admin, got.mail.case, crm_core::attachment::AttachmentScope::All, Default::default())
        .await
        .unwrap();
    assert_eq!(atts.len(), 1);
    assert!(!atts[0].filename.contains('/'), "{}", atts[0].filename);
    let f = env.crm.follow_ups(&admin, got.mail.case).await.unwrap();
    assert!(!f[0].body.contains("script") && !f[0].body.contains("onclick"), "{}", f[0].body);
}

/// Standard base64 (the test's own: crm-core has no base64 dependency).
fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let n =
            (u32::from(c[0]) << 16) | (u32::from(*c.get(1).unwrap_or(&0)) << 8) | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(char::from(T[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// 8-bit garbage (bytes that are no UTF-8, undeclared) in the subject and the body, and a
/// decompression-bomb image (a PNG header declaring 100,000 × 100,000 pixels) attached: the
/// mail is stored, readable, with the bomb dropped and noted; never an error.
#[tokio::test]
async fn eight_bit_garbage_is_read_lossily_and_a_bomb_image_is_dropped_and_noted() {
    let env = env().await;
    let admin = env.tenant.admin_actor();
    let mut png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR".to_vec();
    png.extend_from_slice(&100_000_u32.to_be_bytes());
    png.extend_from_slice(&100_000_u32.to_be_bytes());
    png.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
    let mut raw: Vec<u8> = b"From: x@y.example\r\nSubject: caf\xe9 \xff\xfe r\xc3\r\nMessage-ID: <g1@y.example>\r\n\
MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\
Content-Transfer-Encoding: 8bit\r\n\r\nna\xefve \x80\x81\xfe bytes\r\n--b\r\nContent-Type: image/png; name=\"bomb.png\"\r\n\
Content-Disposition: attachment; filename=\"bomb.png\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        .to_vec();
    raw.extend_from_slice(base64(&png).as_bytes());
    raw.extend_from_slice(b"\r\n--b--\r\n");
    let got = env.crm.receive_mail(&admin, &raw).await.unwrap();
    assert_eq!(got.attachments, 0, "the bomb is not stored");
    assert!(got.mail.notes.iter().any(|n| n.contains("bomb.png")), "{:?}", got.mail.notes);
    assert!(got.mail.subject.contains("caf"), "{}", got.mail.subject);
    let f = env.crm.follow_ups(&admin, got.mail.case).await.unwrap();
    assert!(f[0].body.contains("bytes"), "{}", f[0].body);
}

#[tokio::test]
async fn what_is_not_a_mail_is_refused_and_nothing_is_written() {
    let env = env().await;
    let admin = env.tenant.admin_actor();
    let counts = env.store.counts();
    for raw in [&b""[..], b"\xff\xfe garbage \x00", b"no headers here"] {
        assert!(env.crm.receive_mail(&admin, raw).await.is_err());
    }
    assert_eq!(env.store.counts(), counts);
    let agent = env.tenant.agent_actor();
    let ok = mail("a@b.example", "x", "p@b.example", "");
    assert!(env.crm.receive_mail(&agent, ok.as_bytes()).await.is_err(), "agents lack mail.inbound");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn a_reply_tagged_with_the_case_number_in_any_rendering_lands_on_the_case(
        zeros in 0usize..4,
        hash in any::<bool>(),
        lower in any::<bool>(),
        sep in prop_oneof![Just(""), Just("-"), Just(" "), Just("_")],
        round in any::<bool>(),
        before in "(Re: |AW: |Fwd: |[a-z ]{0,6})",
    ) {
        runtime().block_on(async {
            let env = env().await;
            let admin = env.tenant.admin_actor();
            let case = customer_case(&env).await;
            let prefix = if lower { "cs" } else { "CS" };
            let (open, close) = if round { ('(', ')') } else { ('[', ']') };
            let digits = format!("{}{}", "0".repeat(zeros), case.number.value());
            let subject = format!("{before}{open}{}{prefix}{sep}{digits}{close} thanks", if hash { "#" } else { "" });
            let raw = mail("someone.else@other.example", &subject, "t@other.example", "");
            let got = env.crm.receive_mail(&admin, raw.as_bytes()).await.unwrap();
            prop_assert_eq!(got.mail.case, case.id, "{}", subject);
            prop_assert_eq!(got.mail.threading, Threading::SubjectTag);
            Ok(())
        })?;
    }
}
