//! Conformance: what changing and deleting a custom field definition reads and writes
//! (`FieldValueStore`).

use crm_core::case::{CaseContext, NewCase};
use crm_core::custom_field::{
    FieldDefinition, FieldDefinitionInput, FieldEntity, FieldKey, FieldType, FieldUse, FieldValue,
};
use crm_core::customer::{AccountNumber, CustomerContext, NewCustomer};
use crm_core::error::{Conflict, StoreError};
use serde_json::json;

use super::{Ctx, StoreFactory, assert_not_found, assert_stale};
use crate::fixtures::region_fr;

/// A single-choice field `tier` (gold, silver) of `entity`, stored.
async fn tier(ctx: &Ctx, entity: FieldEntity) -> FieldDefinition {
    let input = FieldDefinitionInput {
        entity,
        key: "tier".into(),
        label: "Tier".into(),
        field_type: FieldType::SingleChoice { choices: vec!["gold".into(), "silver".into()] },
        required: false,
        default: None,
        help_text: Some("Loyalty tier".into()),
    };
    let def = FieldDefinition::build(ctx.id(), ctx.tenant(), input, None).unwrap();
    ctx.store.put_field_definition(&def, None, &[]).await.unwrap();
    def
}

/// The values a walk of every page (two records a page) finds, in order.
async fn walk(ctx: &Ctx, def: &FieldDefinition) -> Vec<FieldUse> {
    let mut found: Vec<FieldUse> = Vec::new();
    loop {
        let after = found.last().map(|u| u.record);
        let page = ctx.store.custom_value_page(ctx.tenant(), def.entity, &def.key, after, 2).await.unwrap();
        let done = page.len() < 2;
        found.extend(page);
        if done {
            return found;
        }
    }
}

fn choice(value: &str) -> Option<FieldValue> {
    Some(FieldValue::Choice(value.into()))
}

/// A definition is read by id in its tenant only; the pages list every live record once,
/// in id order, with its value and whether it must be complete; a definition is deleted at
/// its version, and only while no record carries a value.
pub async fn custom_field_values_are_listed_and_a_used_field_is_not_deleted(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let s = &ctx.store;
    let def = tier(&ctx, FieldEntity::Customer).await;
    assert_eq!(s.field_definition(ctx.tenant(), def.id).await.unwrap(), Some(def.clone()));
    let other = ctx.sibling().await;
    assert_eq!(s.field_definition(other.tenant(), def.id).await.unwrap(), None, "another tenant's");

    let definitions = [def.clone()];
    let mut customers = Vec::new();
    for value in [Some("gold"), None, Some("silver")] {
        let seq = s.next_account_sequence(ctx.tenant()).await.unwrap();
        let custom = value.map(|v| ("tier".to_owned(), json!(v))).into_iter().collect();
        let c = NewCustomer { name: format!("Client {value:?}"), custom, ..NewCustomer::default() }
            .build(
                ctx.id(),
                ctx.tenant(),
                None,
                Some(AccountNumber::generated(seq)),
                CustomerContext { region: Some(region_fr()), definitions: &definitions, now: ctx.now },
            )
            .unwrap();
        ctx.insert_customer(&c).await;
        customers.push(c);
    }
    other.customer("Not ours", vec![]).await;
    customers.sort_by_key(|c| c.id.as_uuid());
    let expected: Vec<FieldUse> = customers
        .iter()
        .map(|c| FieldUse { record: c.id.as_uuid(), value: c.custom().get(&def.key).cloned(), complete: true })
        .collect();
    assert_eq!(walk(&ctx, &def).await, expected);

    assert_stale(s.delete_field_definition(ctx.tenant(), def.id, def.version + 1, &[]).await);
    assert_not_found(s.delete_field_definition(other.tenant(), def.id, def.version, &[]).await);
    match s.delete_field_definition(ctx.tenant(), def.id, def.version, &[]).await {
        Err(StoreError::Conflict(Conflict::State(reason))) => assert!(reason.contains("2 customers"), "{reason}"),
        other => panic!("expected the field in use, got {other:?}"),
    }
    assert!(s.field_definition(ctx.tenant(), def.id).await.unwrap().is_some(), "kept");
    for c in customers.iter().filter(|c| !c.custom().is_empty()) {
        s.delete_customer(ctx.tenant(), c.id, c.version(), &[]).await.unwrap();
    }
    s.delete_field_definition(ctx.tenant(), def.id, def.version, &[]).await.unwrap();
    assert_eq!(s.field_definition(ctx.tenant(), def.id).await.unwrap(), None);
    assert_not_found(s.delete_field_definition(ctx.tenant(), def.id, def.version, &[]).await);
}

/// Case values are listed with drafts marked as not needing to be complete, and a case
/// field with values is not deleted.
pub async fn case_field_values_mark_drafts_and_keep_a_used_field(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let def = tier(&ctx, FieldEntity::Case).await;
    let customer = ctx.customer("Client", vec![]).await;
    let definitions = [def.clone()];
    let mut cases = Vec::new();
    for (value, draft) in [(Some("gold"), false), (None, true), (None, false)] {
        let number = ctx.store.next_case_number(ctx.tenant()).await.unwrap();
        let input = NewCase {
            customer: customer.id,
            subject: "Subject".into(),
            description: None,
            draft,
            visibility: None,
            severity: None,
            priority: None,
            assignee: None,
            group: None,
            origin_channel: None,
            custom: value.map(|v| ("tier".to_owned(), json!(v))).into_iter().collect(),
            tags: Vec::new(),
            category: None,
            case_type: None,
            parent: None,
        };
        let ctx_case = CaseContext { definitions: &definitions, region: Some(region_fr()), now: ctx.now };
        let case = input.build(ctx.id(), number, &ctx.agent(), None, ctx_case).unwrap();
        ctx.insert_case(&case).await;
        cases.push((case.id.as_uuid(), value, !draft));
    }
    cases.sort_by_key(|(id, ..)| *id);
    let expected: Vec<FieldUse> = cases
        .iter()
        .map(|&(record, value, complete)| FieldUse { record, value: value.and_then(choice), complete })
        .collect();
    assert_eq!(walk(&ctx, &def).await, expected);
    match ctx.store.delete_field_definition(ctx.tenant(), def.id, def.version, &[]).await {
        Err(StoreError::Conflict(Conflict::State(reason))) => assert!(reason.contains("1 cases"), "{reason}"),
        other => panic!("expected the field in use, got {other:?}"),
    }
    let unused = FieldDefinition { id: ctx.id(), key: FieldKey::parse("unused").unwrap(), ..def };
    ctx.store.put_field_definition(&unused, None, &[]).await.unwrap();
    assert_eq!(walk(&ctx, &unused).await.iter().filter(|u| u.value.is_some()).count(), 0);
    ctx.store.delete_field_definition(ctx.tenant(), unused.id, unused.version, &[]).await.unwrap();
}
