//! Conformance: the SLA settings of a tenant (`SlaStore`): named, versioned, unique per
//! tenant and kind, a scope held by one setting at a time, other tenants' invisible.

use crm_core::error::{Conflict, StoreError};
use crm_core::sla::{SlaSetting, SlaSettingKind};
use serde_json::json;

use super::{Ctx, StoreFactory, assert_not_found, assert_stale};

pub(super) fn setting(ctx: &Ctx, kind: SlaSettingKind, name: &str, scope: Option<&str>, version: u64) -> SlaSetting {
    SlaSetting {
        tenant: ctx.tenant(),
        kind,
        name: name.into(),
        scope: scope.map(Into::into),
        version,
        body: json!({ "name": name, "version": version, "hours": ["09:00-17:00"] }),
    }
}

fn assert_duplicate<T: std::fmt::Debug>(result: Result<T, StoreError>, field: &str) {
    match result {
        Err(StoreError::Conflict(Conflict::Duplicate { field: f, .. })) if f == field => {}
        other => panic!("expected Conflict(Duplicate) on {field}, got {other:?}"),
    }
}

/// Settings round-trip by kind and name, are listed by name, replaced and deleted at their
/// version; names are unique per tenant and kind, scopes too; another tenant sees none.
pub async fn sla_settings_round_trip_with_versions_and_unique_scopes(factory: &dyn StoreFactory) {
    use SlaSettingKind::{Calendar, Policy};
    let ctx = Ctx::new(factory).await;
    let s = &ctx.store;
    let t = ctx.tenant();
    let office = setting(&ctx, Calendar, "office", None, 1);
    let night = setting(&ctx, Calendar, "night", None, 1);
    s.put_sla_setting(&office, None, None).await.unwrap();
    s.put_sla_setting(&night, None, None).await.unwrap();
    // a policy may share a calendar's name: names are per kind
    let std = setting(&ctx, Policy, "office", Some("tenant"), 1);
    s.put_sla_setting(&std, None, None).await.unwrap();
    assert_eq!(s.sla_settings(t, Calendar).await.unwrap(), vec![night.clone(), office.clone()], "by name");
    assert_eq!(s.sla_settings(t, Policy).await.unwrap(), vec![std.clone()]);
    assert_eq!(s.get_sla_setting(t, Calendar, "office").await.unwrap(), Some(office.clone()));
    assert_eq!(s.get_sla_setting(t, Calendar, "nope").await.unwrap(), None);

    assert_duplicate(s.put_sla_setting(&office, None, None).await, "name");
    // two policies for the tenant: the scope is taken
    assert_duplicate(s.put_sla_setting(&setting(&ctx, Policy, "other", Some("tenant"), 1), None, None).await, "scope");
    assert_eq!(s.get_sla_setting(t, Policy, "other").await.unwrap(), None, "nothing written");
    let group = setting(&ctx, Policy, "vip", Some("group-1"), 1);
    s.put_sla_setting(&group, None, None).await.unwrap();
    // replacing into a taken scope is refused too, and replacing into its own is not
    assert_duplicate(s.put_sla_setting(&setting(&ctx, Policy, "vip", Some("tenant"), 2), Some(1), None).await, "scope");
    let vip2 = setting(&ctx, Policy, "vip", Some("group-1"), 2);
    s.put_sla_setting(&vip2, Some(1), None).await.unwrap();
    assert_eq!(s.get_sla_setting(t, Policy, "vip").await.unwrap(), Some(vip2.clone()));
    assert_stale(s.put_sla_setting(&setting(&ctx, Policy, "vip", Some("group-1"), 2), Some(1), None).await);
    assert_not_found(s.put_sla_setting(&setting(&ctx, Calendar, "ghost", None, 2), Some(1), None).await);

    // another tenant: nothing visible, and names and scopes are its own
    let other = ctx.sibling().await;
    assert_eq!(s.sla_settings(other.tenant(), Calendar).await.unwrap(), vec![]);
    assert_eq!(s.get_sla_setting(other.tenant(), Calendar, "office").await.unwrap(), None);
    assert_not_found(s.delete_sla_setting(other.tenant(), Calendar, "office", 1, None).await);
    s.put_sla_setting(&setting(&other, Policy, "std", Some("tenant"), 1), None, None).await.unwrap();
    s.put_sla_setting(&setting(&other, Calendar, "office", None, 1), None, None).await.unwrap();

    assert_stale(s.delete_sla_setting(t, Policy, "vip", 1, None).await);
    s.delete_sla_setting(t, Policy, "vip", 2, None).await.unwrap();
    assert_eq!(s.get_sla_setting(t, Policy, "vip").await.unwrap(), None);
    assert_not_found(s.delete_sla_setting(t, Policy, "vip", 2, None).await);
    assert_eq!(s.sla_settings(t, Calendar).await.unwrap(), vec![night, office], "untouched");
    // a freed scope can be taken again
    s.put_sla_setting(&setting(&ctx, Policy, "vip-again", Some("group-1"), 1), None, None).await.unwrap();
}
