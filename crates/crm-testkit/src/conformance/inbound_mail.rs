//! The MUST clauses of `InboundMailStore` (CAS-8, EML-1): a received mail is written whole
//! (new card, new case, follow-up, row, attachments, auto-reply, events) or not at all, once
//! per tenant and `Message-ID`; references find the case of a sent or received mail of the
//! tenant only; auto-replies are counted per sender; rule sets are replaced at their version.

use chrono::Duration;
use crm_core::attachment::{Attachment, AttachmentOrigin};
use crm_core::case::Visibility;
use crm_core::customer::{AccountNumber, Customer, EmailAddress, Identity};
use crm_core::error::{Conflict, StoreError};
use crm_core::event::EventKind;
use crm_core::follow_up::{FollowUp, FollowUpKind};
use crm_core::ids::{CaseId, FollowUpId};
use crm_core::interaction::Channel;
use crm_core::mail::received::{InboundMail, InboundWrite, Threading};
use crm_core::mail::rules::{MailRule, MailRuleSet};
use crm_core::mail::{CaseMail, MailState, message_id};
use crm_core::ports::BlobKey;

use super::{Ctx, StoreFactory};

fn address(s: &str) -> EmailAddress {
    EmailAddress::parse(s).unwrap()
}

fn follow_up(ctx: &Ctx, id: FollowUpId, case: CaseId, kind: FollowUpKind) -> FollowUp {
    FollowUp {
        id,
        tenant: ctx.tenant(),
        case,
        kind,
        author: None,
        at: ctx.now,
        body: "<p>Hello</p>".into(),
        visibility: Visibility::Public,
        interaction: None,
    }
}

fn row(ctx: &Ctx, id: FollowUpId, case: CaseId, message: &str, auto_replied: bool) -> InboundMail {
    InboundMail {
        id,
        tenant: ctx.tenant(),
        case,
        message_id: message.into(),
        thread_ids: vec![],
        from: Some("jane@customer.example".into()),
        to: vec!["support@crm.example".into()],
        cc: vec![],
        subject: "Help".into(),
        automatic: None,
        threading: Threading::NewCase,
        rules: vec!["ack".into()],
        auto_replied,
        notes: vec![],
        raw: Some(BlobKey::from_digest(&[7; 32])),
        size: 42,
        received_at: ctx.now,
    }
}

fn reply(ctx: &Ctx, case: CaseId) -> (FollowUp, CaseMail) {
    let id: FollowUpId = ctx.id();
    let from = address("support@crm.example");
    let mail = CaseMail {
        id,
        tenant: ctx.tenant(),
        case,
        message_id: message_id(id, &from),
        in_reply_to: None,
        references: vec![],
        from,
        to: vec![address("jane@customer.example")],
        cc: vec![],
        bcc: vec![],
        subject: "[#CS-1] We got it".into(),
        html_body: "<p>Thanks</p>".into(),
        text_body: "Thanks".into(),
        state: MailState::Queued,
        attempts: 0,
        next_attempt_at: ctx.now,
        reply: None,
        queued_at: ctx.now,
        sent_at: None,
        auto_submitted: true,
        attachments: vec![],
    };
    (follow_up(ctx, id, case, FollowUpKind::OutboundEmail), mail)
}

/// A new card, a new case, the follow-up, the row, an attachment and an auto-reply in one
/// write; a second write of the same `Message-ID` is a duplicate and writes nothing; a
/// missing case writes nothing; reads are the tenant's only.
pub async fn received_mails_are_written_whole_once_per_message_id(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let s = &ctx.store;
    let tenant = ctx.tenant();
    let admin = ctx.t.admin_actor();
    let seq = s.next_account_sequence(tenant).await.unwrap();
    let card = Customer::first_contact(
        ctx.id(),
        &admin,
        AccountNumber::generated(seq),
        "Jane".into(),
        Identity::Email { address: address("jane@customer.example"), label: None },
        Channel::Email,
        ctx.now,
    );
    let case = ctx.build_case(&card, |_| {}).await;
    let id: FollowUpId = ctx.id();
    let attachment = Attachment {
        id: ctx.id(),
        tenant,
        case: case.id,
        follow_up: Some(id),
        filename: "a.txt".into(),
        content_type: "text/plain".into(),
        size: 5,
        sha256: BlobKey::from_digest(&[1; 32]),
        origin: AttachmentOrigin::File,
        uploaded_by: ctx.t.admin.id,
        uploaded_at: ctx.now,
        original: None,
    };
    let auto = reply(&ctx, case.id);
    let write = InboundWrite {
        new_customer: Some(card.clone()),
        new_case: Some((case.clone(), ctx.creation_history(&case))),
        follow_up: follow_up(&ctx, id, case.id, FollowUpKind::InboundEmail),
        mail: row(&ctx, id, case.id, "<m1@customer.example>", true),
        attachments: vec![attachment.clone()],
        auto_reply: Some(auto.clone()),
        remark: None,
    };
    let events = [
        ctx.event(EventKind::CustomerCreated { customer: card.id }),
        ctx.event(EventKind::MailReceived { case: case.id, follow_up: id }),
    ];
    s.receive_mail(&write, &events).await.unwrap();
    assert_eq!(s.get_customer(tenant, card.id).await.unwrap().map(|c| c.id), Some(card.id));
    assert_eq!(s.get_case(tenant, case.id).await.unwrap().map(|c| c.id), Some(case.id));
    assert_eq!(s.inbound_mail(tenant, id).await.unwrap().as_ref(), Some(&write.mail));
    assert_eq!(
        s.inbound_mail_by_message_id(tenant, "<m1@customer.example>").await.unwrap().as_ref(),
        Some(&write.mail)
    );
    assert_eq!(s.inbound_mails_of_case(tenant, case.id).await.unwrap(), vec![write.mail.clone()]);
    assert_eq!(s.follow_ups_of(tenant, case.id).await.unwrap().len(), 2, "the mail's and the auto-reply's");
    assert_eq!(s.mails_of_case(tenant, case.id).await.unwrap(), vec![auto.1.clone()]);
    assert_eq!(s.attachments_of_case(tenant, case.id).await.unwrap(), vec![attachment]);
    let outbox = ctx.outbox().await;
    assert!(events.iter().all(|e| outbox.iter().any(|o| o.event.id == e.id)), "the events are written");

    // The same Message-ID again: a duplicate, nothing written.
    let id2: FollowUpId = ctx.id();
    let again = InboundWrite {
        new_customer: None,
        new_case: None,
        follow_up: follow_up(&ctx, id2, case.id, FollowUpKind::InboundEmail),
        mail: row(&ctx, id2, case.id, "<m1@customer.example>", false),
        attachments: vec![],
        auto_reply: None,
        remark: None,
    };
    let event = ctx.event(EventKind::MailReceived { case: case.id, follow_up: id2 });
    let refused = s.receive_mail(&again, std::slice::from_ref(&event)).await;
    assert!(
        matches!(&refused, Err(StoreError::Conflict(Conflict::Duplicate { field, .. })) if field == "message_id"),
        "{refused:?}"
    );
    assert_eq!(s.follow_ups_of(tenant, case.id).await.unwrap().len(), 2);
    assert!(ctx.outbox().await.iter().all(|o| o.event.id != event.id), "no event of a refused mail");

    // A case that is not the tenant's: nothing written.
    let other = ctx.sibling().await;
    let foreign = other.build_case(&other.customer("Other", vec![]).await, |_| {}).await;
    other.insert_case(&foreign).await;
    let id3: FollowUpId = ctx.id();
    let mut stray = again.clone();
    stray.follow_up = follow_up(&ctx, id3, foreign.id, FollowUpKind::InboundEmail);
    stray.mail = row(&ctx, id3, foreign.id, "<m3@customer.example>", false);
    assert!(s.receive_mail(&stray, &[]).await.is_err());
    assert_eq!(s.inbound_mail(tenant, id3).await.unwrap(), None);
    assert_eq!(s.inbound_mail(other.tenant(), id).await.unwrap(), None, "another tenant's mail is absent");
    assert_eq!(s.inbound_mail_by_message_id(other.tenant(), "<m1@customer.example>").await.unwrap(), None);

    // Another message on the case, then the references.
    let mut second = again.clone();
    second.mail.message_id = "<m2@customer.example>".into();
    s.receive_mail(&second, &[]).await.unwrap();
    let refs = |r: &[&str]| r.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    assert_eq!(s.case_of_mail_ids(tenant, &refs(&["<nope@x>", "<m2@customer.example>"])).await.unwrap(), Some(case.id));
    assert_eq!(s.case_of_mail_ids(tenant, &refs(&[auto.1.message_id.as_str()])).await.unwrap(), Some(case.id));
    assert_eq!(s.case_of_mail_ids(tenant, &refs(&["<nope@x>"])).await.unwrap(), None);
    assert_eq!(s.case_of_mail_ids(tenant, &[]).await.unwrap(), None);
    assert_eq!(s.case_of_mail_ids(other.tenant(), &refs(&["<m1@customer.example>"])).await.unwrap(), None);
    assert_eq!(s.case_of_mail_ids(other.tenant(), &refs(&[auto.1.message_id.as_str()])).await.unwrap(), None);

    // Auto-replies counted per sender since an instant.
    let from = "jane@customer.example";
    assert_eq!(s.auto_replies_since(tenant, from, ctx.now - Duration::hours(1)).await.unwrap(), 1);
    assert_eq!(s.auto_replies_since(tenant, from, ctx.now + Duration::hours(1)).await.unwrap(), 0);
    assert_eq!(s.auto_replies_since(tenant, "x@y.example", ctx.now - Duration::hours(1)).await.unwrap(), 0);
    assert_eq!(s.auto_replies_since(other.tenant(), from, ctx.now - Duration::hours(1)).await.unwrap(), 0);
}

/// A tenant's email rules are written at version 0 then replaced at their version; a stale
/// version writes nothing; tenants do not share them.
pub async fn mail_rule_sets_are_replaced_at_their_version(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let s = &ctx.store;
    let tenant = ctx.tenant();
    assert_eq!(s.mail_rules(tenant).await.unwrap(), None);
    let rule: MailRule = serde_json::from_value(serde_json::json!({"name": "all"})).unwrap();
    let v1 = MailRuleSet { rules: vec![rule.clone()], version: 1, updated_at: Some(ctx.now) };
    s.put_mail_rules(tenant, &v1, 0).await.unwrap();
    assert_eq!(s.mail_rules(tenant).await.unwrap().as_ref(), Some(&v1));
    let stale = s.put_mail_rules(tenant, &v1, 0).await;
    assert!(matches!(stale, Err(StoreError::Conflict(Conflict::StaleVersion { .. }))), "{stale:?}");
    let v2 = MailRuleSet { rules: vec![], version: 2, updated_at: Some(ctx.now) };
    assert!(s.put_mail_rules(tenant, &v2, 5).await.is_err());
    s.put_mail_rules(tenant, &v2, 1).await.unwrap();
    assert_eq!(s.mail_rules(tenant).await.unwrap().as_ref(), Some(&v2));
    assert_eq!(s.mail_rules(ctx.sibling().await.tenant()).await.unwrap(), None);
}
