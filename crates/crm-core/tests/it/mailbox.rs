//! Mail in from a polled mailbox (CAS-8, EML-1; ADR 0039) on the in-memory store and the
//! fake mailbox: each message received once, replies threaded, the position saved after each
//! message (at least once, idempotent by `Message-ID`), a new UIDVALIDITY restarting without
//! duplicates, bad messages passed over, failures retried with backoff.

use std::time::Duration;

use crm_core::StoreError;
use crm_core::ids::TenantId;
use crm_core::mail::received::Threading;
use crm_core::ports::{InboundMailStore, MailboxPosition, MailboxStore};
use crm_core::service::{MailboxPollError, MailboxSettings};
use crm_testkit::FakeMailbox;

use crate::helpers::Env;
use crate::inbound::{env, mail};

const ACCOUNT: &str = "support@imap.example/INBOX";

async fn position(env: &Env, tenant: TenantId) -> Option<MailboxPosition> {
    env.store.mailbox_position(tenant, ACCOUNT).await.expect("the position")
}

async fn case_of(env: &Env, tenant: TenantId, message_id: &str) -> crm_core::ids::CaseId {
    env.store.inbound_mail_by_message_id(tenant, message_id).await.expect("a read").expect("stored").case
}

#[tokio::test]
async fn each_message_is_received_once_and_the_position_follows() {
    let env = env().await;
    let (tenant, admin) = (env.tenant.tenant.id, env.tenant.admin.id);
    let mailbox = FakeMailbox::new(ACCOUNT);
    mailbox.deliver(mail("ann@a.example", "Help", "m1@a.example", "").as_bytes());
    mailbox.deliver(mail("bob@b.example", "Broken", "m2@b.example", "").as_bytes());
    let poll = env.crm.poll_mailbox(&mailbox, tenant, admin, 50).await.unwrap();
    assert_eq!((poll.fetched, poll.stored, poll.duplicates, poll.more), (2, 2, 0, false));
    assert_eq!(position(&env, tenant).await, Some(MailboxPosition { uid_validity: 1, last_uid: 2 }));
    assert_ne!(case_of(&env, tenant, "<m1@a.example>").await, case_of(&env, tenant, "<m2@b.example>").await);
    assert_eq!(mailbox.closes(), 1, "the session is closed after the poll");

    let counts = env.store.counts();
    let again = env.crm.poll_mailbox(&mailbox, tenant, admin, 50).await.unwrap();
    assert_eq!((again.fetched, again.stored), (0, 0), "nothing above the position");
    assert_eq!(mailbox.fetches(), 2, "no message fetched twice");
    assert_eq!(env.store.counts(), counts);
}

#[tokio::test]
async fn a_reply_by_tag_or_reference_lands_on_the_first_mails_case() {
    let env = env().await;
    let (tenant, admin) = (env.tenant.tenant.id, env.tenant.admin.id);
    let mailbox = FakeMailbox::new(ACCOUNT);
    mailbox.deliver(mail("ann@a.example", "Help", "m1@a.example", "").as_bytes());
    env.crm.poll_mailbox(&mailbox, tenant, admin, 50).await.unwrap();
    let case = case_of(&env, tenant, "<m1@a.example>").await;
    let number = env.crm.get_case(&env.tenant.admin_actor(), case).await.unwrap().number;
    mailbox.deliver(mail("ann@a.example", &format!("Re: [#{number}] Help"), "m2@a.example", "").as_bytes());
    mailbox.deliver(mail("ann@a.example", "Re: Help", "m3@a.example", "In-Reply-To: <m1@a.example>\r\n").as_bytes());
    let poll = env.crm.poll_mailbox(&mailbox, tenant, admin, 50).await.unwrap();
    assert_eq!(poll.stored, 2);
    let mails = env.crm.case_inbound_mails(&env.tenant.admin_actor(), case).await.unwrap();
    let how: Vec<Threading> = mails.iter().map(|m| m.threading).collect();
    assert_eq!(how, [Threading::NewCase, Threading::SubjectTag, Threading::Reference]);
}

#[tokio::test]
async fn a_message_stored_before_a_crash_is_a_duplicate_when_fetched_again() {
    let env = env().await;
    let (tenant, admin) = (env.tenant.tenant.id, env.tenant.admin.id);
    let mailbox = FakeMailbox::new(ACCOUNT);
    let raw = mail("ann@a.example", "Help", "m1@a.example", "");
    mailbox.deliver(raw.as_bytes());
    // Stored, then the process died before the position was saved.
    let first = env.crm.receive_mail(&env.tenant.admin_actor(), raw.as_bytes()).await.unwrap();
    let counts = env.store.counts();
    let poll = env.crm.poll_mailbox(&mailbox, tenant, admin, 50).await.unwrap();
    assert_eq!((poll.fetched, poll.stored, poll.duplicates), (1, 0, 1));
    assert_eq!(env.store.counts(), counts, "no second follow-up, no second case");
    let follow_ups = env.crm.follow_ups(&env.tenant.admin_actor(), first.mail.case).await.unwrap();
    assert_eq!(follow_ups.len(), 1);
    assert_eq!(position(&env, tenant).await.map(|p| p.last_uid), Some(1));
}

#[tokio::test]
async fn a_new_uid_validity_restarts_from_the_first_uid_without_duplicates() {
    let env = env().await;
    let (tenant, admin) = (env.tenant.tenant.id, env.tenant.admin.id);
    let mailbox = FakeMailbox::new(ACCOUNT);
    mailbox.deliver(mail("ann@a.example", "One", "m1@a.example", "").as_bytes());
    mailbox.deliver(mail("bob@b.example", "Two", "m2@b.example", "").as_bytes());
    env.crm.poll_mailbox(&mailbox, tenant, admin, 50).await.unwrap();
    let counts = env.store.counts();
    mailbox.rebuild(99);
    let poll = env.crm.poll_mailbox(&mailbox, tenant, admin, 50).await.unwrap();
    assert!(poll.restarted);
    assert_eq!((poll.fetched, poll.stored, poll.duplicates), (2, 0, 2));
    assert_eq!(env.store.counts(), counts, "the same mails, written once");
    assert_eq!(position(&env, tenant).await, Some(MailboxPosition { uid_validity: 99, last_uid: 2 }));
    mailbox.deliver(mail("cy@c.example", "Three", "m3@c.example", "").as_bytes());
    let poll = env.crm.poll_mailbox(&mailbox, tenant, admin, 50).await.unwrap();
    assert_eq!((poll.restarted, poll.fetched, poll.stored), (false, 1, 1));
}

#[tokio::test]
async fn a_malformed_or_vanished_message_is_passed_over_and_the_position_advances() {
    let env = env().await;
    let (tenant, admin) = (env.tenant.tenant.id, env.tenant.admin.id);
    let mailbox = FakeMailbox::new(ACCOUNT);
    mailbox.deliver(b"\x00\x01\x02 this is no mail at all");
    let gone = mailbox.deliver(mail("x@x.example", "Gone", "gone@x.example", "").as_bytes());
    mailbox.deliver(mail("ann@a.example", "Help", "m1@a.example", "").as_bytes());
    mailbox.expunge(gone);
    let poll = env.crm.poll_mailbox(&mailbox, tenant, admin, 50).await.unwrap();
    assert_eq!((poll.fetched, poll.stored), (2, 1), "the expunged one is not fetched");
    assert_eq!(poll.dropped.len(), 1, "{poll:?}");
    assert_eq!(poll.dropped[0].0, 1);
    assert!(poll.dropped[0].1.contains("message"), "{:?}", poll.dropped);
    assert_eq!(position(&env, tenant).await.map(|p| p.last_uid), Some(3));
}

#[tokio::test]
async fn a_store_failure_keeps_the_position_and_the_message_comes_again() {
    let env = env().await;
    let (tenant, admin) = (env.tenant.tenant.id, env.tenant.admin.id);
    let mailbox = FakeMailbox::new(ACCOUNT);
    mailbox.deliver(mail("ann@a.example", "One", "m1@a.example", "").as_bytes());
    mailbox.deliver(mail("bob@b.example", "Two", "m2@b.example", "").as_bytes());
    env.crm.poll_mailbox(&mailbox, tenant, admin, 1).await.unwrap();
    env.store.fail_next_write(|| StoreError::Unavailable("database restarting".into()));
    let failed = env.crm.poll_mailbox(&mailbox, tenant, admin, 50).await;
    match failed {
        Err(e @ MailboxPollError::Message { uid: 2, .. }) => {
            assert!(e.to_string().contains("database restarting"), "{e}");
        }
        other => panic!("expected a storage failure, got {other:?}"),
    }
    assert_eq!(position(&env, tenant).await.map(|p| p.last_uid), Some(1), "not past the failed message");
    let poll = env.crm.poll_mailbox(&mailbox, tenant, admin, 50).await.unwrap();
    assert_eq!((poll.fetched, poll.stored), (1, 1));
    assert_eq!(position(&env, tenant).await.map(|p| p.last_uid), Some(2));
}

#[tokio::test]
async fn a_batch_limits_a_poll_and_says_more_wait() {
    let env = env().await;
    let (tenant, admin) = (env.tenant.tenant.id, env.tenant.admin.id);
    let mailbox = FakeMailbox::new(ACCOUNT);
    for i in 0..3 {
        mailbox.deliver(mail(&format!("p{i}@a.example"), "Hi", &format!("b{i}@a.example"), "").as_bytes());
    }
    let poll = env.crm.poll_mailbox(&mailbox, tenant, admin, 2).await.unwrap();
    assert_eq!((poll.stored, poll.more), (2, true));
    let poll = env.crm.poll_mailbox(&mailbox, tenant, admin, 2).await.unwrap();
    assert_eq!((poll.stored, poll.more), (1, false));
}

#[tokio::test]
async fn an_agent_without_the_inbound_permissions_polls_nothing() {
    let env = env().await;
    let tenant = env.tenant.tenant.id;
    let mailbox = FakeMailbox::new(ACCOUNT);
    mailbox.deliver(mail("ann@a.example", "Help", "m1@a.example", "").as_bytes());
    let refused = env.crm.poll_mailbox(&mailbox, tenant, env.tenant.agent.id, 50).await;
    match refused {
        Err(e @ MailboxPollError::Agent { .. }) => assert!(e.to_string().contains("mail.inbound"), "{e}"),
        other => panic!("expected the agent refused, got {other:?}"),
    }
    let other_tenant = TenantId::from_uuid(uuid::Uuid::now_v7());
    let unknown = env.crm.poll_mailbox(&mailbox, other_tenant, env.tenant.admin.id, 50).await;
    assert!(matches!(unknown, Err(MailboxPollError::Agent { .. })), "{unknown:?}");
    assert_eq!(mailbox.opens(), 0, "the mailbox is not even opened");
    assert_eq!(position(&env, tenant).await, None);
}

#[tokio::test]
async fn the_worker_backs_off_while_the_server_fails_and_says_which_account() {
    let env = env().await;
    let (tenant, admin) = (env.tenant.tenant.id, env.tenant.admin.id);
    let mailbox = FakeMailbox::new(ACCOUNT);
    mailbox.deliver(mail("ann@a.example", "Help", "m1@a.example", "").as_bytes());
    let settings = MailboxSettings {
        poll_interval: Duration::from_secs(60),
        batch: 50,
        retry_base: Duration::from_secs(5),
        retry_max: Duration::from_secs(12),
        pass_over_after: 5,
    };
    let worker = env.crm.mailbox_worker(std::sync::Arc::new(mailbox.clone()), tenant, admin, settings);
    assert_eq!(worker.name(), "imap");
    mailbox.fail_next_open(FakeMailbox::auth_refused());
    mailbox.fail_next_open(FakeMailbox::unavailable());
    mailbox.fail_next_open(FakeMailbox::unavailable());
    let first = worker.round().await.unwrap();
    let failure = first.failure.clone().unwrap_or_default();
    assert_eq!(first.retried, 1);
    assert!(failure.contains(ACCOUNT) && failure.contains("login refused by imap.example:993"), "{failure}");
    assert_eq!(worker.idle_interval(), Duration::from_secs(5));
    let second = worker.round().await.unwrap();
    assert!(second.failure.unwrap_or_default().contains("imap.example:993 unavailable"));
    assert_eq!(worker.idle_interval(), Duration::from_secs(10), "doubled");
    worker.round().await.unwrap();
    assert_eq!(worker.idle_interval(), Duration::from_secs(12), "capped");
    let ok = worker.round().await.unwrap();
    assert_eq!((ok.claimed, ok.done, ok.retried, ok.failure), (1, 1, 0, None));
    assert_eq!(worker.idle_interval(), Duration::from_secs(60), "back to the poll interval");
}

#[tokio::test]
async fn a_poison_message_is_passed_over_after_its_attempts_and_the_rest_flows() {
    let env = env().await;
    let (tenant, admin) = (env.tenant.tenant.id, env.tenant.admin.id);
    let mailbox = FakeMailbox::new(ACCOUNT);
    mailbox.deliver(mail("ann@a.example", "Poison", "p1@a.example", "").as_bytes());
    mailbox.deliver(mail("bob@b.example", "Fine", "f2@b.example", "").as_bytes());
    let settings = MailboxSettings { pass_over_after: 3, ..MailboxSettings::default() };
    let worker = env.crm.mailbox_worker(std::sync::Arc::new(mailbox.clone()), tenant, admin, settings);
    // The database is unavailable twice: that is no fault of the message, it never counts.
    for _ in 0..2 {
        env.store.fail_next_write(|| StoreError::Unavailable("database restarting".into()));
        assert_eq!(worker.round().await.unwrap().retried, 1);
    }
    // The message itself fails three times in a row (bytes the database refuses).
    for attempt in 1..=3 {
        env.store.fail_next_write(|| StoreError::Backend("invalid byte sequence for encoding UTF8: 0x00".into()));
        let round = worker.round().await.unwrap();
        let failure = round.failure.unwrap_or_default();
        assert!(failure.contains("message uid 1") && failure.contains("0x00"), "attempt {attempt}: {failure}");
        assert_eq!(position(&env, tenant).await, None, "attempt {attempt}: not past it yet");
    }
    // The next round passes over it, says so, and receives the next message.
    let round = worker.round().await.unwrap();
    assert_eq!((round.dead, round.done), (1, 1), "{round:?}");
    let failure = round.failure.unwrap_or_default();
    assert!(failure.contains("uid 1: passed over after 3 failed attempts") && failure.contains("0x00"), "{failure}");
    assert_eq!(position(&env, tenant).await.map(|p| p.last_uid), Some(2));
    assert!(env.store.inbound_mail_by_message_id(tenant, "<p1@a.example>").await.unwrap().is_none());
    case_of(&env, tenant, "<f2@b.example>").await;
    // Nothing is passed over again: a new message flows normally.
    mailbox.deliver(mail("cy@c.example", "Later", "l3@c.example", "").as_bytes());
    let round = worker.round().await.unwrap();
    assert_eq!((round.dead, round.done, round.failure), (0, 1, None));
}
