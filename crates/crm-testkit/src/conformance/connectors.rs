//! Conformance: connectors configured through the API (ADM-3, EXT-1): one per tenant and
//! product, written with versions and their events, listed for every tenant.

use crm_core::event::EventKind;
use crm_core::external::ExternalSystem;
use crm_core::ports::StoredConnector;

use super::{Ctx, StoreFactory, assert_duplicate, assert_not_found, assert_stale};

fn connector(ctx: &Ctx, system: ExternalSystem, version: u64, sealed: &str) -> StoredConnector {
    StoredConnector {
        tenant: ctx.tenant(),
        system,
        settings: serde_json::json!({"login_url": "https://acme.example", "auth": {"client_secret": "[redacted]"}}),
        sealed: sealed.to_owned(),
        version,
        updated_at: ctx.now,
    }
}

/// A connector is inserted once per tenant and product, replaced at its version (a stale
/// or unknown one refused, nothing written), deleted at its version; each accepted write
/// leaves its event; the list holds every tenant's, by tenant then product.
pub async fn connectors_are_written_with_versions_per_tenant_and_product(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let s = &ctx.store;
    let other = ctx.sibling().await;
    let written = |system, version| ctx.event(EventKind::ConnectorWritten { system, version });
    let sf = connector(&ctx, ExternalSystem::Salesforce, 1, "sealed-1");
    s.put_connector(&sf, None, &[written(ExternalSystem::Salesforce, 1)]).await.unwrap();
    let ns = connector(&ctx, ExternalSystem::NetSuite, 1, "sealed-ns");
    s.put_connector(&ns, None, &[]).await.unwrap();
    s.put_connector(&connector(&other, ExternalSystem::Salesforce, 1, "theirs"), None, &[]).await.unwrap();
    assert_duplicate(s.put_connector(&sf, None, &[written(ExternalSystem::Salesforce, 1)]).await, "system");

    let mut changed = connector(&ctx, ExternalSystem::Salesforce, 2, "sealed-2");
    changed.settings["login_url"] = "https://other.example".into();
    assert_stale(s.put_connector(&changed, Some(5), &[written(ExternalSystem::Salesforce, 6)]).await);
    assert_not_found(s.put_connector(&connector(&ctx, ExternalSystem::Dynamics, 2, "x"), Some(1), &[]).await);
    s.put_connector(&changed, Some(1), &[written(ExternalSystem::Salesforce, 2)]).await.unwrap();
    assert_stale(s.put_connector(&changed, Some(1), &[]).await);

    let mine = |all: Vec<StoredConnector>| -> Vec<StoredConnector> {
        all.into_iter().filter(|c| c.tenant == ctx.tenant() || c.tenant == other.tenant()).collect()
    };
    let listed = mine(s.all_connectors().await.unwrap());
    let mut expected = vec![changed.clone(), ns.clone(), connector(&other, ExternalSystem::Salesforce, 1, "theirs")];
    expected.sort_by_key(|c| (c.tenant, c.system));
    assert_eq!(listed, expected);

    assert_stale(s.delete_connector(ctx.tenant(), ExternalSystem::Salesforce, 1, &[]).await);
    assert_not_found(s.delete_connector(ctx.tenant(), ExternalSystem::Dynamics, 1, &[]).await);
    let deleted = ctx.event(EventKind::ConnectorDeleted { system: ExternalSystem::Salesforce });
    s.delete_connector(ctx.tenant(), ExternalSystem::Salesforce, 2, std::slice::from_ref(&deleted)).await.unwrap();
    let left = mine(s.all_connectors().await.unwrap());
    assert_eq!(left.iter().filter(|c| c.tenant == ctx.tenant()).collect::<Vec<_>>(), [&ns]);
    assert_eq!(left.iter().filter(|c| c.tenant == other.tenant()).count(), 1, "another tenant's stays");

    let kinds: Vec<String> = ctx.outbox().await.iter().map(|e| e.event.kind.name().to_owned()).collect();
    assert_eq!(
        kinds,
        ["connector_deleted", "connector_written", "connector_written"],
        "one event per accepted write, none for a refused one (newest first)"
    );
}
