//! Conformance: the outbound store (OUT-1, OUT-2): records round trip, the next-contact claim
//! follows the core's rule and order, a lease keeps an entry with one agent, and 16
//! concurrent claimers never get the same entry.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{Duration, NaiveTime};
use crm_core::customer::{Customer, IdentityInput, PhoneNumber};
use crm_core::error::StoreError;
use crm_core::event::EventKind;
use crm_core::ids::{AgentId, CallListEntryId};
use crm_core::outbound::{
    CallList, CallListEntry, CallingWindow, Campaign, CampaignPurpose, DoNotCall, EntryClaim, NewCallList, NewCampaign,
    NewEntry, OutcomeInput,
};

use super::{Ctx, StoreFactory, assert_stale};
use crate::fixtures::PARIS;

/// A campaign, and a list open all day long, stored.
pub(super) async fn campaign_and_list(ctx: &Ctx, max_attempts: u32) -> (Campaign, CallList) {
    let campaign = NewCampaign {
        name: "Winter".into(),
        purpose: CampaignPurpose::Marketing,
        starts_at: None,
        ends_at: None,
        qualification: vec![],
    }
    .build(ctx.id(), ctx.tenant(), ctx.now)
    .unwrap();
    ctx.store.insert_campaign(&campaign).await.unwrap();
    let all_day = CallingWindow {
        from: NaiveTime::from_hms_opt(0, 0, 0).unwrap(),
        until: NaiveTime::from_hms_opt(23, 59, 59).unwrap(),
    };
    let list = NewCallList {
        name: "Leads".into(),
        active: None,
        assignment: Default::default(),
        script: None,
        window: Some(all_day),
        max_attempts: Some(max_attempts),
        lease_seconds: Some(600),
        outcomes: None,
    }
    .build(ctx.id(), ctx.tenant(), campaign.id, ctx.now)
    .unwrap();
    ctx.store.insert_call_list(&list).await.unwrap();
    (campaign, list)
}

pub(super) fn new_entry(customer: &Customer, priority: i32, zone: Option<&str>) -> NewEntry {
    NewEntry {
        customer: customer.id,
        phone: None,
        priority: Some(priority),
        time_zone: zone.map(str::to_owned),
        due_at: None,
        custom: BTreeMap::new(),
    }
}

pub(super) fn build(ctx: &Ctx, list: &CallList, customer: &Customer, input: NewEntry) -> CallListEntry {
    input.build(ctx.id(), list, customer, Some(crate::fixtures::region_fr()), PARIS, ctx.now).unwrap()
}

pub(super) async fn phone_customer(ctx: &Ctx, name: &str, number: &str) -> Customer {
    ctx.customer(name, vec![IdentityInput::Phone { number: number.into(), label: None }]).await
}

/// The stored list (with its zones).
async fn stored_list(ctx: &Ctx, list: &CallList) -> CallList {
    ctx.store.get_call_list(ctx.tenant(), list.id).await.unwrap().unwrap()
}

/// Campaigns, lists, entries and do-not-call numbers round trip, stale versions are refused,
/// and another tenant sees none of them.
pub async fn outbound_records_round_trip(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let s = &ctx.store;
    let tenant = ctx.tenant();
    let (campaign, list) = campaign_and_list(&ctx, 3).await;
    assert_eq!(s.get_campaign(tenant, campaign.id).await.unwrap(), Some(campaign.clone()));
    assert_eq!(s.campaigns(tenant).await.unwrap(), vec![campaign.clone()]);
    let mut renamed = campaign.clone();
    crm_core::outbound::CampaignPatch { name: Some("Spring".into()), ..Default::default() }
        .apply(&mut renamed)
        .unwrap();
    s.update_campaign(&renamed, 1).await.unwrap();
    assert_stale(s.update_campaign(&renamed, 1).await);
    assert_eq!(s.get_campaign(tenant, campaign.id).await.unwrap().unwrap().name, "Spring");

    // A list needs a campaign of the tenant.
    let other = ctx.sibling().await;
    let mut foreign = list.clone();
    foreign.id = ctx.id();
    foreign.tenant = other.tenant();
    assert!(matches!(s.insert_call_list(&foreign).await, Err(StoreError::InvalidReference { .. })));

    let c1 = phone_customer(&ctx, "Ada", "+33 1 23 45 67 89").await;
    let c2 = phone_customer(&ctx, "Bob", "+1 212 555 0100").await;
    let e1 = build(&ctx, &list, &c1, new_entry(&c1, 5, None));
    let e2 = build(&ctx, &list, &c2, new_entry(&c2, 1, Some("Asia/Tokyo")));
    s.insert_entries(tenant, list.id, &[e1.clone(), e2.clone()]).await.unwrap();
    assert_eq!(s.get_entry(tenant, e1.id).await.unwrap(), Some(e1.clone()));
    let stored = stored_list(&ctx, &list).await;
    assert_eq!(stored.zones, BTreeSet::from(["Europe/Paris".to_owned(), "Asia/Tokyo".to_owned()]));
    let mut paused = stored.clone();
    crm_core::outbound::CallListPatch { active: Some(false), ..Default::default() }.apply(&mut paused).unwrap();
    s.update_call_list(&paused, 1).await.unwrap();
    assert_stale(s.update_call_list(&paused, 1).await);
    let again = stored_list(&ctx, &list).await;
    assert!(!again.active && again.zones == stored.zones, "an update keeps the store's zones");
    assert_eq!(s.call_lists(tenant, campaign.id).await.unwrap(), vec![again]);

    let page1 = s.entries(tenant, list.id, None, 1).await.unwrap();
    let page2 = s.entries(tenant, list.id, Some(page1[0].id), 5).await.unwrap();
    let mut ids: Vec<CallListEntryId> = page1.iter().chain(&page2).map(|e| e.id).collect();
    ids.sort();
    let mut expected = vec![e1.id, e2.id];
    expected.sort();
    assert_eq!(ids, expected, "pages walk every entry once in id order");
    assert!(
        matches!(s.insert_entries(tenant, list.id, std::slice::from_ref(&e1)).await, Err(StoreError::Conflict(_))),
        "a taken id"
    );
    assert!(s.insert_entries(other.tenant(), list.id, &[]).await.is_err(), "another tenant's list is absent");

    let number = PhoneNumber::parse("+33 1 23 45 67 89", None).unwrap();
    let dnc = DoNotCall { phone: number.clone(), reason: Some("asked".into()), added_at: ctx.now };
    s.add_do_not_call(tenant, &dnc).await.unwrap();
    s.add_do_not_call(tenant, &DoNotCall { reason: None, ..dnc.clone() }).await.unwrap();
    assert_eq!(s.do_not_call(tenant, None, 10).await.unwrap(), vec![dnc.clone()], "the first stays");
    assert_eq!(s.do_not_call(tenant, Some(number.as_e164().to_owned()), 10).await.unwrap(), vec![]);
    assert!(s.do_not_call(other.tenant(), None, 10).await.unwrap().is_empty());
    assert!(s.remove_do_not_call(tenant, &number).await.unwrap());
    assert!(!s.remove_do_not_call(tenant, &number).await.unwrap());

    // Another tenant sees nothing.
    let o = other.tenant();
    assert_eq!(s.get_campaign(o, campaign.id).await.unwrap(), None);
    assert_eq!(s.get_call_list(o, list.id).await.unwrap(), None);
    assert_eq!(s.get_entry(o, e1.id).await.unwrap(), None);
    assert!(s.entries(o, list.id, None, 10).await.unwrap().is_empty());
    assert_eq!(s.list_progress(o, list.id).await.unwrap().total, 0);
}

/// The claim hands out entries in the core's order and only eligible ones (due, not
/// reserved for another agent, below the maximum attempts, in an open zone, not on the
/// do-not-call list); a leased entry goes to nobody else until its lease ends; an outcome is
/// written with its event, guarded by the version; progress counts the entries.
pub async fn next_contact_follows_the_rule_the_order_and_the_lease(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let s = &ctx.store;
    let tenant = ctx.tenant();
    let (campaign, list) = campaign_and_list(&ctx, 2).await;
    let a1 = ctx.t.agent.id;
    let a2: AgentId = ctx.t.supervisor.id;
    let ada = phone_customer(&ctx, "Ada", "+33 1 23 45 67 89").await;
    let bob = phone_customer(&ctx, "Bob", "+33 1 98 76 54 32").await;
    let cy = phone_customer(&ctx, "Cy", "+33 6 12 34 56 78").await;
    let dee = phone_customer(&ctx, "Dee", "+33 6 98 76 54 32").await;
    let low = build(&ctx, &list, &ada, new_entry(&ada, 1, None));
    let high = build(&ctx, &list, &bob, new_entry(&bob, 9, None));
    let later =
        build(&ctx, &list, &cy, NewEntry { due_at: Some(ctx.now + Duration::minutes(20)), ..new_entry(&cy, 50, None) });
    let blocked = build(&ctx, &list, &dee, new_entry(&dee, 40, None));
    s.insert_entries(tenant, list.id, &[low.clone(), high.clone(), later.clone(), blocked.clone()]).await.unwrap();
    s.add_do_not_call(tenant, &DoNotCall { phone: blocked.phone.clone(), reason: None, added_at: ctx.now })
        .await
        .unwrap();
    let list = stored_list(&ctx, &list).await;

    let claim = |agent: AgentId, at: chrono::DateTime<chrono::Utc>| EntryClaim::new(&list, agent, at);
    // A zone that is closed: nothing.
    let closed = EntryClaim { open_zones: vec!["Asia/Tokyo".into()], ..claim(a1, ctx.now) };
    assert_eq!(s.claim_next_entry(&closed).await.unwrap(), None);

    let first = s.claim_next_entry(&claim(a1, ctx.now)).await.unwrap().unwrap();
    assert_eq!(first.id, high.id, "the highest priority that is due and not on the do-not-call list");
    let lease = first.lease().unwrap();
    assert_eq!((lease.agent, lease.until, first.version()), (a1, ctx.now + Duration::seconds(600), 2));
    assert_eq!(s.get_entry(tenant, high.id).await.unwrap(), Some(first.clone()), "the claim is stored");
    let second = s.claim_next_entry(&claim(a2, ctx.now)).await.unwrap().unwrap();
    assert_eq!(second.id, low.id, "a leased entry goes to nobody else");
    assert_eq!(s.claim_next_entry(&claim(a2, ctx.now + Duration::seconds(1))).await.unwrap(), None);

    // The outcome: a callback reserved for agent 1, written with its event.
    let mut entry = first.clone();
    let input = OutcomeInput {
        disposition: "callback".into(),
        callback_at: Some(ctx.now + Duration::minutes(30)),
        same_agent: true,
        answers: BTreeMap::new(),
    };
    entry.record_outcome(&list, &campaign, a1, input, ctx.now).unwrap();
    let event = ctx.event(EventKind::OutboundOutcomeRecorded {
        entry: entry.id,
        list: list.id,
        customer: entry.customer,
        agent: a1,
        disposition: "callback".into(),
        closed: false,
    });
    s.update_entry(&entry, 2, std::slice::from_ref(&event)).await.unwrap();
    assert!(ctx.has_event(event.id).await, "the event is written with the outcome");
    let stale_event = ctx.event(event.kind.clone());
    assert_stale(s.update_entry(&entry, 2, std::slice::from_ref(&stale_event)).await);
    assert!(!ctx.has_event(stale_event.id).await);
    assert_eq!(s.get_entry(tenant, high.id).await.unwrap(), Some(entry.clone()));

    // After its lease, agent 2's entry comes back; at the callback time the reserved entry
    // goes to agent 1 only, before the lower priority.
    let at = ctx.now + Duration::minutes(31);
    let to_a1 = s.claim_next_entry(&claim(a1, at)).await.unwrap().unwrap();
    assert_eq!(to_a1.id, later.id, "priority 50 is due now");
    let to_a2 = s.claim_next_entry(&claim(a2, at)).await.unwrap().unwrap();
    assert_eq!(to_a2.id, low.id, "the reserved callback is not agent 2's; the expired lease is");
    let back = s.claim_next_entry(&claim(a1, at)).await.unwrap().unwrap();
    assert_eq!(back.id, high.id, "the callback goes to the agent it is reserved for");

    // Maximum attempts: an entry with that many attempts is not handed out.
    let mut done = back.clone();
    let no_answer = |d: &str| OutcomeInput {
        disposition: d.into(),
        callback_at: None,
        same_agent: false,
        answers: BTreeMap::new(),
    };
    done.record_outcome(&list, &campaign, a1, no_answer("no_answer"), at).unwrap();
    s.update_entry(&done, back.version(), &[]).await.unwrap();
    assert_eq!(done.state(), crm_core::outbound::EntryState::Closed, "two attempts of two");
    let mut won = to_a1.clone();
    won.record_outcome(&list, &campaign, a1, no_answer("success"), at).unwrap();
    s.update_entry(&won, to_a1.version(), &[]).await.unwrap();
    let p = s.list_progress(tenant, list.id).await.unwrap();
    assert_eq!((p.total, p.done, p.pending, p.reachable, p.succeeded), (4, 2, 2, 2, 1));
    assert!((p.success_rate - 0.5).abs() < 1e-9);
}

/// 16 claimers at once on one list: every entry is handed out exactly once.
pub async fn concurrent_claimers_never_get_the_same_entry(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let tenant = ctx.tenant();
    let (_, list) = campaign_and_list(&ctx, 3).await;
    let customer = phone_customer(&ctx, "Many", "+33 1 23 45 67 89").await;
    let entries: Vec<CallListEntry> =
        (0..160).map(|i| build(&ctx, &list, &customer, new_entry(&customer, i % 4, None))).collect();
    ctx.store.insert_entries(tenant, list.id, &entries).await.unwrap();
    let list = Arc::new(stored_list(&ctx, &list).await);
    let mut handles = Vec::new();
    for _ in 0..16 {
        let store = ctx.store.clone();
        let list = list.clone();
        let now = ctx.now;
        handles.push(tokio::spawn(async move {
            let agent: AgentId = crm_core::time::next_id(&crm_core::time::UuidV7Generator);
            let mut got = Vec::new();
            while let Some(e) = store.claim_next_entry(&EntryClaim::new(&list, agent, now)).await.unwrap() {
                assert_eq!(e.lease().map(|l| l.agent), Some(agent));
                got.push(e.id);
            }
            got
        }));
    }
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.await.unwrap());
    }
    let distinct: BTreeSet<CallListEntryId> = all.iter().copied().collect();
    assert_eq!(distinct.len(), all.len(), "no entry was handed out twice");
    assert_eq!(distinct, entries.iter().map(|e| e.id).collect(), "every entry was handed out");
}
