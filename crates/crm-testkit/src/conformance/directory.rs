//! Conformance: tenants, agents, groups, custom field definitions, dispositions and queues.

use crm_core::access::{Agent, Group, Role};
use crm_core::custom_field::{FieldDefinition, FieldDefinitionInput, FieldEntity, FieldType};
use crm_core::customer::EmailAddress;
use crm_core::ids::{AgentId, GroupId, TenantId};
use crm_core::interaction::{Disposition, QueueSettings};

use super::{Ctx, StoreFactory, assert_duplicate, assert_not_found, assert_stale};

fn definition(ctx: &Ctx, entity: FieldEntity, key: &str) -> FieldDefinition {
    FieldDefinition::build(
        ctx.id(),
        ctx.tenant(),
        FieldDefinitionInput {
            entity,
            key: key.into(),
            label: key.to_uppercase(),
            field_type: FieldType::Text,
            required: false,
            default: None,
            help_text: None,
        },
        None,
    )
    .expect("a valid definition")
}

/// Directory records round-trip; agent emails, group names and field keys (per entity) are
/// unique per tenant; lists come in their documented order.
pub async fn directory_records_round_trip_with_uniqueness(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let (s, tenant) = (&ctx.store, ctx.tenant());

    // Tenants.
    assert_eq!(s.get_tenant(tenant).await.unwrap(), Some(ctx.t.tenant.clone()));
    assert_duplicate(s.insert_tenant(&ctx.t.tenant).await, "id");
    assert_eq!(s.get_tenant(ctx.id::<TenantId>()).await.unwrap(), None);

    // Agents: by name; unique email; versioned updates.
    let names: Vec<String> = s.list_agents(tenant).await.unwrap().into_iter().map(|a| a.name).collect();
    assert_eq!(names, ["Alice Admin", "Bruno Agent", "Sophie Superviseur"]);
    let twin = Agent { id: ctx.id(), name: "Twin".into(), ..ctx.t.agent.clone() };
    assert_duplicate(s.put_agent(&twin, None, &[]).await, "email");
    assert_eq!(s.get_agent(tenant, twin.id).await.unwrap(), None);
    let mut renamed = ctx.t.agent.clone();
    renamed.name = "Aaron Agent".into();
    renamed.role = Role::Supervisor;
    renamed.version = 2;
    s.put_agent(&renamed, Some(1), &[]).await.unwrap();
    assert_eq!(s.get_agent(tenant, renamed.id).await.unwrap(), Some(renamed.clone()));
    assert_eq!(s.list_agents(tenant).await.unwrap().first(), Some(&renamed));
    let mut taken = ctx.t.admin.clone();
    taken.email = ctx.t.supervisor.email.clone();
    taken.version = 2;
    assert_duplicate(s.put_agent(&taken, Some(1), &[]).await, "email");
    let ghost = Agent { id: ctx.id::<AgentId>(), email: EmailAddress::parse("ghost@example.com").unwrap(), ..renamed };
    assert_not_found(s.put_agent(&ghost, Some(1), &[]).await);

    // Groups: by name; unique name.
    let sales = Group { id: ctx.id(), tenant, name: "Sales".into(), mail_addresses: vec![], version: 1 };
    s.put_group(&sales, None, &[]).await.unwrap();
    let accounts = Group { id: ctx.id(), tenant, name: "Accounts".into(), mail_addresses: vec![], version: 1 };
    s.put_group(&accounts, None, &[]).await.unwrap();
    let names: Vec<String> = s.list_groups(tenant).await.unwrap().into_iter().map(|g| g.name).collect();
    assert_eq!(names, ["Accounts", "Sales", "Support"]);
    let clash = Group { id: ctx.id(), name: "Sales".into(), ..accounts.clone() };
    assert_duplicate(s.put_group(&clash, None, &[]).await, "name");
    let mut renamed = accounts.clone();
    renamed.name = "Billing".into();
    renamed.version = 2;
    s.put_group(&renamed, Some(1), &[]).await.unwrap();
    let mut clash = renamed.clone();
    clash.name = "Sales".into();
    clash.version = 3;
    assert_duplicate(s.put_group(&clash, Some(2), &[]).await, "name");
    assert_not_found(s.put_group(&Group { id: ctx.id::<GroupId>(), ..renamed.clone() }, Some(2), &[]).await);
    let names: Vec<String> = s.list_groups(tenant).await.unwrap().into_iter().map(|g| g.name).collect();
    assert_eq!(names, ["Billing", "Sales", "Support"]);

    // Field definitions: by key; unique key per entity.
    let tier = definition(&ctx, FieldEntity::Customer, "tier");
    s.put_field_definition(&tier, None, &[]).await.unwrap();
    let alpha = definition(&ctx, FieldEntity::Customer, "alpha");
    s.put_field_definition(&alpha, None, &[]).await.unwrap();
    let case_tier = definition(&ctx, FieldEntity::Case, "tier");
    s.put_field_definition(&case_tier, None, &[]).await.unwrap();
    assert_duplicate(s.put_field_definition(&definition(&ctx, FieldEntity::Customer, "tier"), None, &[]).await, "key");
    assert_eq!(s.field_definitions(tenant, FieldEntity::Customer).await.unwrap(), vec![alpha.clone(), tier.clone()]);
    assert_eq!(s.field_definitions(tenant, FieldEntity::Case).await.unwrap(), vec![case_tier]);
    let mut relabelled = tier.clone();
    relabelled.label = "Loyalty tier".into();
    relabelled.required = true;
    relabelled.version = 2;
    s.put_field_definition(&relabelled, Some(1), &[]).await.unwrap();
    assert_stale(s.put_field_definition(&relabelled, Some(1), &[]).await);
    assert_eq!(
        s.field_definitions(tenant, FieldEntity::Customer).await.unwrap(),
        vec![alpha.clone(), relabelled.clone()]
    );

    // Dispositions: upsert by code, listed by group then code.
    let disposition = |code: &str, group: &str| Disposition {
        tenant,
        code: code.into(),
        label: code.replace('_', " "),
        group: Some(group.into()),
        active: true,
    };
    for d in [
        disposition("sold", "Sales"),
        disposition("resolved", "Support"),
        disposition("callback", "Sales"),
        disposition("escalated", "Support"),
    ] {
        s.put_disposition(&d, &[]).await.unwrap();
    }
    let mut retired = disposition("callback", "Sales");
    retired.active = false;
    retired.label = "Call back (retired)".into();
    s.put_disposition(&retired, &[]).await.unwrap();
    let listed = s.dispositions(tenant).await.unwrap();
    let codes: Vec<&str> = listed.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(codes, ["callback", "sold", "escalated", "resolved"]);
    assert_eq!(listed[0], retired, "a put replaces the code");

    // Queues: upsert by name.
    let queue = QueueSettings { tenant, name: "support".into(), disposition_required: false };
    s.put_queue(&queue, &[]).await.unwrap();
    assert_eq!(s.get_queue(tenant, "support").await.unwrap(), Some(queue.clone()));
    let strict = QueueSettings { disposition_required: true, ..queue };
    s.put_queue(&strict, &[]).await.unwrap();
    assert_eq!(s.get_queue(tenant, "support").await.unwrap(), Some(strict));
    assert_eq!(s.get_queue(tenant, "sales").await.unwrap(), None);
}

/// `customer_with_definitions` returns exactly `get_customer` and `field_definitions`: with
/// and without definitions, for a missing customer, a customer of another tenant, and the
/// definitions in key order.
pub async fn customer_with_definitions_equals_the_two_reads(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let (s, tenant) = (&ctx.store, ctx.tenant());
    let customer = ctx.customer("Contexte", vec![]).await;
    let both = |id, entity| async move {
        let expected = (s.get_customer(tenant, id).await.unwrap(), s.field_definitions(tenant, entity).await.unwrap());
        (s.customer_with_definitions(tenant, id, entity).await.unwrap(), expected)
    };
    let (got, expected) = both(customer.id, FieldEntity::Case).await;
    assert_eq!(got, expected);
    assert_eq!(got, (Some(customer.clone()), vec![]));
    for (entity, key) in [
        (FieldEntity::Case, "zone"),
        (FieldEntity::Case, "b"),
        (FieldEntity::Case, "a_b"),
        (FieldEntity::Customer, "tier"),
    ] {
        s.put_field_definition(&definition(&ctx, entity, key), None, &[]).await.unwrap();
    }
    for entity in [FieldEntity::Case, FieldEntity::Customer] {
        let (got, expected) = both(customer.id, entity).await;
        assert_eq!(got, expected, "{entity:?}");
    }
    let (got, _) = both(customer.id, FieldEntity::Case).await;
    let keys: Vec<String> = got.1.iter().map(|d| d.key.as_str().to_owned()).collect();
    assert_eq!(keys, ["a_b", "b", "zone"]);
    // A missing customer, and one of another tenant: no customer, the definitions still.
    let (got, expected) = both(ctx.id(), FieldEntity::Case).await;
    assert_eq!(got, expected);
    assert_eq!((got.0, got.1.len()), (None, 3));
    let other = ctx.sibling().await;
    let theirs = other.customer("Ailleurs", vec![]).await;
    let (got, expected) = both(theirs.id, FieldEntity::Case).await;
    assert_eq!(got, expected);
    assert!(got.0.is_none());
}

/// A tenant's settings are replaced by `update_tenant` (an unknown tenant is `NotFound`),
/// and `list_tenants` lists every tenant, by name then id.
pub async fn tenants_are_updated_and_listed(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let other = ctx.sibling().await;
    let s = &ctx.store;
    let mut tenant = ctx.t.tenant.clone();
    tenant.default_region = crm_core::customer::Region::parse("US").unwrap();
    tenant.time_zone = chrono_tz::America::New_York;
    s.update_tenant(&tenant, &[]).await.unwrap();
    assert_eq!(s.get_tenant(tenant.id).await.unwrap(), Some(tenant.clone()));
    assert_eq!(s.get_tenant(other.tenant()).await.unwrap(), Some(other.t.tenant.clone()), "the other is untouched");

    let missing = crm_core::access::Tenant { id: ctx.id(), ..tenant.clone() };
    assert_not_found(s.update_tenant(&missing, &[]).await);
    assert_eq!(s.get_tenant(missing.id).await.unwrap(), None);

    let listed = s.list_tenants().await.unwrap();
    let mine: Vec<TenantId> =
        listed.iter().map(|t| t.id).filter(|id| [tenant.id, other.tenant()].contains(id)).collect();
    assert_eq!(mine.len(), 2, "{listed:?}");
    assert!(listed.contains(&tenant));
    assert!(listed.windows(2).all(|w| (&w[0].name, w[0].id) <= (&w[1].name, w[1].id)), "by name then id");
}
