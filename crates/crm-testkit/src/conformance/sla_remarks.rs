//! Conformance: a case's SLA mark written apart from an edit of the case (ADR 0032). A
//! [`CaseRemark`] is written only over the version and mark generation it was read at,
//! with the write that caused it or not at all: of racing re-marks from one read exactly
//! one is written, an edit read before a re-mark is refused (and a re-mark read before an
//! edit), a follow-up or a mail with a stale re-mark writes nothing. A re-mark request is
//! recorded by its settings write and replaced only by the caller that read it.

use chrono::Duration;
use crm_core::access::PrivateScope;
use crm_core::case::{Case, CaseFilter, CaseSort, CaseSortField, CaseStatus, SortDirection, Visibility};
use crm_core::follow_up::{FollowUp, FollowUpKind};
use crm_core::sla::{CaseRemark, RemarkRequest, SlaCondition, SlaMark, SlaSettingKind};

use super::cases::moved_to;
use super::mail::mail;
use super::sla::setting;
use super::{Ctx, StoreFactory, assert_stale, page};

const RACERS: i64 = 4;

async fn stored(ctx: &Ctx, case: &Case) -> Case {
    ctx.store.get_case(ctx.tenant(), case.id).await.unwrap().expect("the case")
}

/// Racing re-marks from one read: one is written, the others refused as stale; edits,
/// re-marks, follow-ups and mails read before another write are refused and write nothing.
pub async fn case_marks_are_written_only_over_the_row_they_were_read_from(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let s = &ctx.store;
    let customer = ctx.customer("Remarked", vec![]).await;
    let case = ctx.build_case(&customer, |_| {}).await;
    ctx.insert_case(&case).await;
    let read = stored(&ctx, &case).await;
    assert_eq!(read.sla_gen(), 0, "a new case is at generation 0");
    let mark = |m: i64| {
        let at = Some(ctx.now + Duration::minutes(m));
        Some(SlaMark { due_at: at, warning_at: None, breach_at: at })
    };

    let mut racers = Vec::new();
    for i in 0..RACERS {
        let (store, remark) = (ctx.store.clone(), CaseRemark::new(&read, mark(10 + i)));
        racers.push(tokio::spawn(async move { store.remark_case(&remark).await.map(|()| i) }));
    }
    let mut won = Vec::new();
    for r in racers {
        match r.await.expect("a racer finished") {
            Ok(i) => won.push(i),
            other => assert_stale(other),
        }
    }
    assert_eq!(won.len(), 1, "exactly one re-mark of one read is written");
    let after = stored(&ctx, &case).await;
    assert_eq!(after.sla(), mark(10 + won[0]).as_ref());
    assert_eq!(after.sla_gen(), 1);
    // The list and the timer read the winner's columns.
    let filter = CaseFilter { sla: Some(SlaCondition::Running), at: Some(ctx.now), ..CaseFilter::default() };
    let sort = CaseSort { field: CaseSortField::DueNext, direction: SortDirection::Asc };
    let listed = s.list_cases(ctx.tenant(), &filter, &PrivateScope::All, sort, &page(50)).await.unwrap();
    assert!(listed.items.iter().any(|c| c.id == case.id && c.sla() == after.sla()), "listed as running");
    let due = ctx.now + Duration::minutes(10 + won[0]);
    let timers = s.due_sla_timers(due, 10_000).await.unwrap();
    assert!(timers.iter().any(|t| t.case == case.id && t.fire_at == due), "the timer is the winner's");

    // An edit read before the re-mark is refused: its older mark never lands.
    assert_stale(s.update_case(&read, read.version(), &[], &[]).await);
    assert_eq!(stored(&ctx, &case).await, after);
    // A re-mark read before an edit is refused too.
    let edited = moved_to(after.clone(), CaseStatus::Pending, &ctx);
    let late = CaseRemark::new(&after, mark(500));
    s.update_case(&edited, after.version(), &[], &[]).await.unwrap();
    assert_stale(s.remark_case(&late).await);
    let now = stored(&ctx, &case).await;
    assert_eq!((now.version(), now.sla_gen(), now.sla()), (edited.version(), 1, after.sla()));

    // A reply with a stale re-mark writes nothing; with a fresh one both land together.
    let reply = FollowUp {
        id: ctx.id(),
        tenant: ctx.tenant(),
        case: case.id,
        kind: FollowUpKind::InboundEmail,
        author: None,
        at: ctx.now,
        body: "still broken".into(),
        visibility: Visibility::Public,
        interaction: None,
    };
    assert_stale(s.insert_follow_up(&reply, std::slice::from_ref(&late), &[]).await);
    assert!(s.follow_ups_of(ctx.tenant(), case.id).await.unwrap().is_empty(), "nothing written");
    let fresh = CaseRemark::new(&now, mark(60));
    s.insert_follow_up(&reply, std::slice::from_ref(&fresh), &[]).await.unwrap();
    let replied = stored(&ctx, &case).await;
    assert_eq!((replied.sla(), replied.sla_gen()), (mark(60).as_ref(), 2));
    assert_eq!(s.follow_ups_of(ctx.tenant(), case.id).await.unwrap(), vec![reply]);

    // A sent mail with a stale re-mark writes nothing; with a fresh one it lands.
    let (f, m) = mail(&ctx, case.id, ctx.now + Duration::minutes(1));
    assert_stale(s.queue_mail(&f, &m, std::slice::from_ref(&fresh), &[]).await);
    assert_eq!(s.follow_ups_of(ctx.tenant(), case.id).await.unwrap().len(), 1, "nothing written");
    let met = CaseRemark::new(&replied, None);
    s.queue_mail(&f, &m, std::slice::from_ref(&met), &[]).await.unwrap();
    let answered = stored(&ctx, &case).await;
    assert_eq!((answered.sla(), answered.sla_gen()), (None, 3), "the mark cleared");
    // An edit over the row as it is now keeps its generation.
    let closed = moved_to(answered.clone(), CaseStatus::Closed, &ctx);
    s.update_case(&closed, answered.version(), &[], &[]).await.unwrap();
    assert_eq!(stored(&ctx, &case).await.sla_gen(), 3);
}

/// A settings write records its re-mark request in its transaction (a refused write
/// records none); a request is replaced or removed only by a caller that read it, one of
/// racing callers at most.
pub async fn remark_requests_are_recorded_with_their_settings_and_replaced_once(factory: &dyn StoreFactory) {
    use SlaSettingKind::Calendar;
    let ctx = Ctx::new(factory).await;
    let s = &ctx.store;
    let first = RemarkRequest::new(ctx.tenant(), ctx.id::<crm_core::ids::EventId>());
    let office = setting(&ctx, Calendar, "office", None, 1);
    s.put_sla_setting(&office, None, Some(first.clone())).await.unwrap();
    assert_eq!(s.meta(&first.key).await.unwrap().as_deref(), Some(first.token.as_str()));
    let refused = RemarkRequest::new(ctx.tenant(), ctx.id::<crm_core::ids::EventId>());
    assert!(s.put_sla_setting(&office, None, Some(refused.clone())).await.is_err(), "a taken name");
    assert_stale(s.delete_sla_setting(ctx.tenant(), Calendar, "office", 7, Some(refused.clone())).await);
    assert_eq!(s.meta(&first.key).await.unwrap().as_deref(), Some(first.token.as_str()), "none recorded");
    let second = RemarkRequest::new(ctx.tenant(), ctx.id::<crm_core::ids::EventId>());
    s.delete_sla_setting(ctx.tenant(), Calendar, "office", 1, Some(second.clone())).await.unwrap();
    assert_eq!(s.meta(&second.key).await.unwrap().as_deref(), Some(second.token.as_str()));

    let mut racers = Vec::new();
    for i in 0..RACERS {
        let (store, key, token) = (ctx.store.clone(), second.key.clone(), second.token.clone());
        racers.push(tokio::spawn(async move {
            let next = format!("{token} cursor-{i}");
            store.replace_meta(&key, &token, Some(next)).await.unwrap()
        }));
    }
    let mut moved = 0;
    for r in racers {
        moved += usize::from(r.await.expect("a racer finished"));
    }
    assert_eq!(moved, 1, "one caller moves the request");
    let now = s.meta(&second.key).await.unwrap().expect("still requested");
    assert!(now.starts_with(&second.token) && now.contains("cursor-"), "{now}");
    assert!(!s.replace_meta(&second.key, &second.token, None).await.unwrap(), "not the value read");
    assert!(s.replace_meta(&second.key, &now, None).await.unwrap());
    assert_eq!(s.meta(&second.key).await.unwrap(), None, "removed");
    assert!(!s.replace_meta(&second.key, &now, Some("x".to_owned())).await.unwrap(), "nothing to replace");
    assert_eq!(s.meta(&second.key).await.unwrap(), None);
}
