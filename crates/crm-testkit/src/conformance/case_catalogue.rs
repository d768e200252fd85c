//! Conformance: the tenant's case lists (categories, types, resolution codes), a case's
//! tags, category, type, resolution and parent as stored and filtered (issue 27).

use chrono::Duration;
use crm_core::access::PrivateScope;
use crm_core::case::{
    Case, CaseContext, CaseFilter, CaseListEntry, CaseListKind, CasePatch, CaseSort, CaseStatus, history,
};
use crm_core::ids::CaseId;

use super::{Ctx, StoreFactory, assert_not_found, assert_state_conflict, page};

fn entry(ctx: &Ctx, kind: CaseListKind, key: &str, active: bool) -> CaseListEntry {
    CaseListEntry { tenant: ctx.tenant(), kind, key: key.into(), label: key.to_uppercase(), active }
}

/// Applies `patch` to a stored case and writes it with its history, as the use case does.
async fn patched(ctx: &Ctx, case: &Case, patch: CasePatch) -> Case {
    let mut next = case.clone();
    let now = ctx.now + Duration::minutes(i64::try_from(case.version()).unwrap_or_default());
    patch.apply(&mut next, ctx.t.agent.id, CaseContext { definitions: &[], region: None, now }).unwrap();
    let changes =
        history::diff(&case.field_map(), &next.field_map(), ctx.tenant(), case.id, next.version(), ctx.t.agent.id, now);
    ctx.store.update_case(&next, case.version(), &changes, &[]).await.unwrap();
    next
}

/// Entries are replaced by (tenant, kind, key), listed by kind then key with retired ones,
/// and never seen by another tenant.
pub async fn case_list_entries_round_trip_per_tenant_and_kind(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let s = &ctx.store;
    for (kind, key) in
        [(CaseListKind::Type, "question"), (CaseListKind::Category, "technical"), (CaseListKind::Category, "billing")]
    {
        s.put_case_list_entry(&entry(&ctx, kind, key, true)).await.unwrap();
    }
    let retired = entry(&ctx, CaseListKind::Category, "technical", false);
    s.put_case_list_entry(&retired).await.unwrap();
    let categories = s.case_list_entries(ctx.tenant(), Some(CaseListKind::Category)).await.unwrap();
    assert_eq!(categories, [entry(&ctx, CaseListKind::Category, "billing", true), retired.clone()]);
    let all = s.case_list_entries(ctx.tenant(), None).await.unwrap();
    let keys: Vec<(CaseListKind, &str)> = all.iter().map(|e| (e.kind, e.key.as_str())).collect();
    assert_eq!(
        keys,
        [(CaseListKind::Category, "billing"), (CaseListKind::Category, "technical"), (CaseListKind::Type, "question")]
    );
    let other = ctx.sibling().await;
    assert!(s.case_list_entries(other.tenant(), None).await.unwrap().is_empty());
    assert_not_found(s.delete_case_list_entry(other.tenant(), CaseListKind::Category, "billing").await);
    s.delete_case_list_entry(ctx.tenant(), CaseListKind::Type, "question").await.unwrap();
    assert!(s.case_list_entries(ctx.tenant(), Some(CaseListKind::Type)).await.unwrap().is_empty());
    assert_not_found(s.delete_case_list_entry(ctx.tenant(), CaseListKind::Type, "question").await);
}

/// An entry a case carries (as category, type or resolution; live or softly deleted) is
/// not deleted; once no case carries it, it is.
pub async fn a_case_list_entry_in_use_is_not_deleted(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let (s, tenant) = (&ctx.store, ctx.tenant());
    for (kind, key) in
        [(CaseListKind::Category, "billing"), (CaseListKind::Type, "incident"), (CaseListKind::Resolution, "fixed")]
    {
        s.put_case_list_entry(&entry(&ctx, kind, key, true)).await.unwrap();
    }
    let customer = ctx.customer("Client", vec![]).await;
    let case = ctx
        .case(&customer, |c| {
            c.category = Some("billing".into());
            c.case_type = Some("incident".into());
        })
        .await;
    let resolve =
        CasePatch { status: Some(CaseStatus::Resolved), resolution: Some("fixed".into()), ..CasePatch::default() };
    let resolved = patched(&ctx, &case, resolve).await;
    assert_eq!(s.get_case(tenant, case.id).await.unwrap(), Some(resolved.clone()), "resolved round-trips");
    for (kind, key) in
        [(CaseListKind::Category, "billing"), (CaseListKind::Type, "incident"), (CaseListKind::Resolution, "fixed")]
    {
        assert_state_conflict(s.delete_case_list_entry(tenant, kind, key).await);
    }
    // A softly deleted case still carries its entries (it may be restored).
    let mut deleted = resolved.clone();
    deleted.soft_delete(ctx.now + Duration::hours(1)).unwrap();
    s.update_case(&deleted, resolved.version(), &[], &[]).await.unwrap();
    assert_state_conflict(s.delete_case_list_entry(tenant, CaseListKind::Category, "billing").await);
    assert_eq!(s.case_list_entries(tenant, None).await.unwrap().len(), 3, "nothing deleted");
    // Another tenant's case with the same key does not count.
    let other = ctx.sibling().await;
    other.store.put_case_list_entry(&entry(&other, CaseListKind::Category, "spare", true)).await.unwrap();
    s.put_case_list_entry(&entry(&ctx, CaseListKind::Category, "spare", true)).await.unwrap();
    let other_customer = other.customer("Other", vec![]).await;
    other.case(&other_customer, |c| c.category = Some("spare".into())).await;
    s.delete_case_list_entry(tenant, CaseListKind::Category, "spare").await.unwrap();
}

/// Tags, category, type and parent are stored with the case and filter the list as
/// [`CaseFilter::matches`] says; changing the tags replaces them.
pub async fn tags_category_type_and_parent_filter_the_case_list(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let (s, tenant) = (&ctx.store, ctx.tenant());
    let customer = ctx.customer("Client", vec![]).await;
    let parent = ctx
        .case(&customer, |c| {
            c.tags = vec!["vip".into(), "billing".into()];
            c.category = Some("billing".into());
        })
        .await;
    let child = ctx
        .case(&customer, |c| {
            c.tags = vec!["vip".into()];
            c.case_type = Some("incident".into());
            c.parent = Some(parent.id);
        })
        .await;
    let plain = ctx.case(&customer, |c| c.category = Some("technical".into())).await;
    assert_eq!(s.get_case(tenant, child.id).await.unwrap(), Some(child.clone()));
    let all = [parent.clone(), child.clone(), plain.clone()];
    let filters = [
        CaseFilter { tag: Some("vip".into()), ..CaseFilter::default() },
        CaseFilter { tag: Some("billing".into()), ..CaseFilter::default() },
        CaseFilter { tag: Some("none".into()), ..CaseFilter::default() },
        CaseFilter { category: Some("billing".into()), ..CaseFilter::default() },
        CaseFilter { case_type: Some("incident".into()), ..CaseFilter::default() },
        CaseFilter { parent: Some(parent.id), ..CaseFilter::default() },
        CaseFilter { tag: Some("vip".into()), category: Some("billing".into()), ..CaseFilter::default() },
    ];
    for filter in &filters {
        let listed = s.list_cases(tenant, filter, &PrivateScope::All, CaseSort::default(), &page(10)).await.unwrap();
        let mut expected: Vec<&Case> = all.iter().filter(|c| filter.matches(c, &PrivateScope::All)).collect();
        expected.sort_by(|a, b| CaseSort::default().compare(a, b));
        let ids = |cases: &[&Case]| cases.iter().map(|c| c.id).collect::<Vec<CaseId>>();
        assert_eq!(ids(&listed.items.iter().collect::<Vec<_>>()), ids(&expected), "{filter:?}");
    }
    // New tags replace the old ones, in the filter too.
    let retagged = patched(&ctx, &child, CasePatch { tags: Some(vec!["late".into()]), ..CasePatch::default() }).await;
    let vip = CaseFilter { tag: Some("vip".into()), ..CaseFilter::default() };
    let listed = s.list_cases(tenant, &vip, &PrivateScope::All, CaseSort::default(), &page(10)).await.unwrap();
    assert_eq!(listed.items, std::slice::from_ref(&parent));
    let late = CaseFilter { tag: Some("late".into()), ..CaseFilter::default() };
    let listed = s.list_cases(tenant, &late, &PrivateScope::All, CaseSort::default(), &page(10)).await.unwrap();
    assert_eq!(listed.items, [retagged]);
}

/// A case's children are its live children, by number, of its tenant only.
pub async fn case_children_are_the_live_children_by_number(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let (s, tenant) = (&ctx.store, ctx.tenant());
    let customer = ctx.customer("Client", vec![]).await;
    let parent = ctx.case(&customer, |_| {}).await;
    let first = ctx.case(&customer, |c| c.parent = Some(parent.id)).await;
    let second = ctx.case(&customer, |c| c.parent = Some(parent.id)).await;
    ctx.case(&customer, |_| {}).await;
    assert_eq!(s.case_children(tenant, parent.id).await.unwrap(), [first.clone(), second.clone()]);
    let mut deleted = second.clone();
    deleted.soft_delete(ctx.now + Duration::hours(1)).unwrap();
    s.update_case(&deleted, second.version(), &[], &[]).await.unwrap();
    assert_eq!(s.case_children(tenant, parent.id).await.unwrap(), std::slice::from_ref(&first));
    let unlinked = patched(&ctx, &first, CasePatch { parent: Some(None), ..CasePatch::default() }).await;
    assert_eq!(unlinked.parent(), None);
    assert!(s.case_children(tenant, parent.id).await.unwrap().is_empty());
    let other = ctx.sibling().await;
    assert!(s.case_children(other.tenant(), parent.id).await.unwrap().is_empty());
}
