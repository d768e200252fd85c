//! The MUST clauses of `MailStore` (CAS-7, EML-2): a mail is queued with its follow-up and
//! events or not at all; claims lease (never one mail to two workers during its lease);
//! outcomes are recorded; dead letters are listed and requeued, only the tenant's.
//!
//! The claims are cross-tenant: the mails here are due about 600 (and 800) days before the
//! suite's `now`, and every assertion on a claim looks at this test's tenant only.

use chrono::{DateTime, Duration, Utc};
use crm_core::case::Visibility;
use crm_core::customer::EmailAddress;
use crm_core::error::StoreError;
use crm_core::event::EventKind;
use crm_core::follow_up::{FollowUp, FollowUpKind};
use crm_core::ids::{CaseId, FollowUpId};
use crm_core::mail::{CaseMail, MailState};

use super::{Ctx, StoreFactory, assert_not_found, assert_state_conflict};

fn address(s: &str) -> EmailAddress {
    EmailAddress::parse(s).unwrap()
}

/// A follow-up and its queued mail, due at `at`.
pub(super) fn mail(ctx: &Ctx, case: CaseId, at: DateTime<Utc>) -> (FollowUp, CaseMail) {
    let id: FollowUpId = ctx.id();
    let follow_up = FollowUp {
        id,
        tenant: ctx.tenant(),
        case,
        kind: FollowUpKind::OutboundEmail,
        author: Some(ctx.t.agent.id),
        at,
        body: "<p>Hello</p>".into(),
        visibility: Visibility::Public,
        interaction: None,
    };
    let from = address("agent@crm.example");
    let mail = CaseMail {
        id,
        tenant: ctx.tenant(),
        case,
        message_id: crm_core::mail::message_id(id, &from),
        in_reply_to: None,
        references: vec![],
        from,
        to: vec![address("jane@customer.example")],
        cc: vec![],
        bcc: vec![address("audit@crm.example")],
        subject: "[#CS-000001] Hello".into(),
        html_body: "<p>Hello</p>".into(),
        text_body: "Hello".into(),
        state: MailState::Queued,
        attempts: 0,
        next_attempt_at: at,
        reply: None,
        queued_at: at,
        sent_at: None,
        auto_submitted: false,
        attachments: vec![],
    };
    (follow_up, mail)
}

async fn claim_ours(ctx: &Ctx, now: DateTime<Utc>) -> Vec<FollowUpId> {
    let claimed = ctx.store.claim_mails(now, now + Duration::minutes(5), 500).await.unwrap();
    claimed.into_iter().filter(|m| m.tenant == ctx.tenant()).map(|m| m.id).collect()
}

/// Queued with its follow-up and events in one transaction (a missing case writes none of
/// them); read back as written; claimed oldest due first with a lease; sent and failed
/// outcomes recorded; dead letters listed and requeued, only the tenant's.
pub async fn mails_are_queued_claimed_and_dead_lettered(factory: &dyn StoreFactory) {
    let mut ctx = Ctx::new(factory).await;
    ctx.now -= Duration::days(600);
    let s = &ctx.store;
    let tenant = ctx.tenant();
    let customer = ctx.customer("Mail", vec![]).await;
    let case = ctx.case(&customer, |_| {}).await;

    // All or nothing: an unknown case writes no follow-up, no mail, no event.
    let (f, m) = mail(&ctx, ctx.id(), ctx.now);
    let event = ctx.event(EventKind::FollowUpAdded { case: f.case, follow_up: f.id });
    let refused = s.queue_mail(&f, &m, &[], std::slice::from_ref(&event)).await;
    assert!(matches!(refused, Err(StoreError::InvalidReference { .. } | StoreError::NotFound { .. })), "{refused:?}");
    assert_eq!(s.mail(tenant, m.id).await.unwrap(), None);
    assert!(ctx.outbox().await.iter().all(|e| e.event.id != event.id), "no event of a refused mail");

    let (f1, m1) = mail(&ctx, case.id, ctx.now + Duration::seconds(1));
    let (f2, m2) = mail(&ctx, case.id, ctx.now);
    for (f, m) in [(&f1, &m1), (&f2, &m2)] {
        let event = ctx.event(EventKind::FollowUpAdded { case: case.id, follow_up: f.id });
        s.queue_mail(f, m, &[], &[event]).await.unwrap();
    }
    assert!(
        matches!(
            s.queue_mail(&f1, &m1, &[], &[]).await,
            Err(StoreError::Conflict(crm_core::error::Conflict::Duplicate { .. }))
        ),
        "a second queue of one id is a duplicate"
    );
    assert_eq!(s.mail(tenant, m1.id).await.unwrap().as_ref(), Some(&m1));
    assert_eq!(s.mail(ctx.sibling().await.tenant(), m1.id).await.unwrap(), None, "another tenant's mail is absent");
    let follow_ups = s.follow_ups_of(tenant, case.id).await.unwrap();
    assert_eq!(follow_ups.len(), 2);
    assert!(follow_ups.iter().all(|f| f.kind == FollowUpKind::OutboundEmail));
    assert_eq!(s.mails_of_case(tenant, case.id).await.unwrap(), vec![m2.clone(), m1.clone()]);

    // Oldest due first; leased until the lease ends.
    let at = ctx.now + Duration::minutes(1);
    assert_eq!(claim_ours(&ctx, at).await, vec![m2.id, m1.id]);
    assert!(claim_ours(&ctx, at).await.is_empty(), "leased mails are not claimed again");
    assert_eq!(claim_ours(&ctx, at + Duration::minutes(6)).await, vec![m2.id, m1.id], "an expired lease frees them");

    // Sent: state, reply and time kept; never claimed again.
    s.mail_sent(m2.id, "250 2.0.0 Ok: queued as 42", at).await.unwrap();
    let sent = s.mail(tenant, m2.id).await.unwrap().unwrap();
    assert_eq!(
        (sent.state, sent.reply.as_deref(), sent.sent_at),
        (MailState::Sent, Some("250 2.0.0 Ok: queued as 42"), Some(at))
    );
    // A failure with a retry: still queued, one attempt more, not due before the retry.
    s.mail_failed(m1.id, "421 try later", Some(at + Duration::minutes(30))).await.unwrap();
    let retried = s.mail(tenant, m1.id).await.unwrap().unwrap();
    assert_eq!((retried.state, retried.attempts), (MailState::Queued, 1));
    assert_eq!(retried.reply.as_deref(), Some("421 try later"));
    assert!(claim_ours(&ctx, at + Duration::minutes(20)).await.is_empty(), "not due before the retry");
    assert_eq!(claim_ours(&ctx, at + Duration::minutes(30)).await, vec![m1.id]);
    // Without a retry: the dead letter, listed as failed.
    s.mail_failed(m1.id, "550 no such user", None).await.unwrap();
    let dead = s.mail(tenant, m1.id).await.unwrap().unwrap();
    assert_eq!((dead.state, dead.attempts, dead.reply.as_deref()), (MailState::Failed, 2, Some("550 no such user")));
    assert_eq!(s.mails_in_state(tenant, MailState::Failed, 10).await.unwrap(), vec![dead.clone()]);
    assert_eq!(s.mails_in_state(tenant, MailState::Sent, 10).await.unwrap(), vec![sent]);
    assert!(claim_ours(&ctx, at + Duration::hours(2)).await.is_empty(), "a dead letter is not claimed");

    // Requeue: only failed mails, only the tenant's.
    let other = ctx.sibling().await;
    assert_not_found(s.requeue_mail(other.tenant(), m1.id, at).await);
    assert_not_found(s.requeue_mail(tenant, ctx.id(), at).await);
    assert_state_conflict(s.requeue_mail(tenant, m2.id, at).await);
    let back = s.requeue_mail(tenant, m1.id, at + Duration::hours(3)).await.unwrap();
    assert_eq!((back.state, back.next_attempt_at, back.attempts), (MailState::Queued, at + Duration::hours(3), 2));
    assert_eq!(s.mail(tenant, m1.id).await.unwrap().unwrap(), back);
    assert_eq!(claim_ours(&ctx, at + Duration::hours(3)).await, vec![m1.id], "a requeued mail is claimable at once");
    s.mail_sent(m1.id, "250 ok", at + Duration::hours(3)).await.unwrap();

    // Unknown ids.
    assert_not_found(s.mail_sent(ctx.id(), "x", at).await);
    assert_not_found(s.mail_failed(ctx.id(), "x", None).await);
}

const WORKERS: usize = 6;
const MAILS: usize = 30;

/// Several workers claiming at once never get the same mail while it is leased.
pub async fn mails_are_claimed_by_one_worker_at_a_time(factory: &dyn StoreFactory) {
    let mut ctx = Ctx::new(factory).await;
    ctx.now -= Duration::days(800);
    let customer = ctx.customer("Mail workers", vec![]).await;
    let case = ctx.case(&customer, |_| {}).await;
    let mut ids = Vec::new();
    for i in 0..MAILS {
        let (f, m) = mail(&ctx, case.id, ctx.now + Duration::seconds(i64::try_from(i).unwrap_or(0)));
        ctx.store.queue_mail(&f, &m, &[], &[]).await.unwrap();
        ids.push(m.id);
    }
    let now = ctx.now + Duration::days(1);
    let mut workers = Vec::new();
    for _ in 0..WORKERS {
        let store = ctx.store.clone();
        workers.push(tokio::spawn(async move {
            let mut claimed = Vec::new();
            loop {
                let batch = store.claim_mails(now, now + Duration::hours(1), 4).await.expect("claim mails");
                if batch.is_empty() {
                    return claimed;
                }
                claimed.extend(batch.into_iter().map(|m| (m.tenant, m.id)));
            }
        }));
    }
    let mut ours = Vec::new();
    for worker in workers {
        let tenant = ctx.tenant();
        ours.extend(
            worker.await.expect("a worker finished").into_iter().filter(|(t, _)| *t == tenant).map(|(_, id)| id),
        );
    }
    let mut unique = ours.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ours.len(), "a mail was handed to two workers during its lease");
    let again = ctx.store.claim_mails(now, now + Duration::hours(1), 500).await.unwrap();
    assert!(again.iter().all(|m| m.tenant != ctx.tenant()), "a leased mail was handed out again");
    for id in ids {
        ctx.store.mail_sent(id, "250 ok", now).await.unwrap();
    }
}

/// `last_message_ids`: the `Message-ID`s of a case's newest `max` mails, oldest first; none
/// of another case's or another tenant's. (Due thousands of days after the suite's `now`,
/// so no other test's cross-tenant claim takes them.)
pub async fn a_cases_last_message_ids_are_the_newest_oldest_first(factory: &dyn StoreFactory) {
    let mut ctx = Ctx::new(factory).await;
    ctx.now += Duration::days(4_000);
    let s = &ctx.store;
    let tenant = ctx.tenant();
    let customer = ctx.customer("Threads", vec![]).await;
    let case = ctx.case(&customer, |_| {}).await;
    let other = ctx.case(&customer, |_| {}).await;
    assert!(s.last_message_ids(tenant, case.id, 20).await.unwrap().is_empty());
    let mut ids = Vec::new();
    // Queued out of order: the order is the queue time's, not the write's.
    for (i, secs) in [3_i64, 1, 4, 2, 5].into_iter().enumerate() {
        let (f, mut m) = mail(&ctx, case.id, ctx.now + Duration::seconds(secs));
        m.auto_submitted = i == 0;
        s.queue_mail(&f, &m, &[], &[]).await.unwrap();
        ids.push((secs, m.message_id));
    }
    let (f, m) = mail(&ctx, other.id, ctx.now + Duration::seconds(9));
    s.queue_mail(&f, &m, &[], &[]).await.unwrap();
    ids.sort();
    let expected: Vec<String> = ids.into_iter().map(|(_, id)| id).collect();
    assert_eq!(s.last_message_ids(tenant, case.id, 3).await.unwrap(), expected[2..].to_vec());
    assert_eq!(s.last_message_ids(tenant, case.id, 20).await.unwrap(), expected);
    assert!(s.last_message_ids(tenant, case.id, 0).await.unwrap().is_empty());
    let sibling = ctx.sibling().await;
    assert!(s.last_message_ids(sibling.tenant(), case.id, 20).await.unwrap().is_empty(), "another tenant's case");
    let auto: Vec<bool> = s.mails_of_case(tenant, case.id).await.unwrap().iter().map(|m| m.auto_submitted).collect();
    assert_eq!(auto.iter().filter(|a| **a).count(), 1, "the auto-reply mark is kept");
}
