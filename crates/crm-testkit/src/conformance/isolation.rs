//! Conformance: tenant isolation (ADM-3). Another tenant's records behave as absent for
//! every read and every write.

use chrono::Duration;
use crm_core::access::PrivateScope;
use crm_core::case::{Case, CaseFilter, CaseRecord, CaseSort};
use crm_core::custom_field::{FieldDefinition, FieldDefinitionInput, FieldEntity, FieldType};
use crm_core::customer::{
    ConflictRule, Customer, CustomerQuery, CustomerRecord, IdentityKey, MergePlan, MergeRecord, NameKeys, PhoneNumber,
    Relation, RelationKind,
};
use crm_core::follow_up::{FollowUp, FollowUpKind};
use crm_core::interaction::{Disposition, Interaction, InteractionRecord, QueueSettings};
use crm_core::ports::TaskOwner;
use crm_core::task::{Task, TaskRecord};

use super::{Ctx, StoreFactory, assert_invalid_reference, assert_not_found, page, phone};
use crate::fixtures::region_fr;

/// Tenant B sees none of tenant A's records, cannot change, delete or reference them, and
/// A's data is intact afterwards.
pub async fn other_tenants_records_behave_as_absent(factory: &dyn StoreFactory) {
    let a = Ctx::new(factory).await;
    let b = a.sibling().await;
    let s = &a.store;
    let (ta, tb) = (a.tenant(), b.tenant());

    // Tenant A's world.
    let customer = a.customer("Isabelle Isolée", vec![phone("01 98 76 54 32")]).await;
    let friend = a.customer("Ami", vec![]).await;
    let relation =
        Relation { id: a.id(), tenant: ta, from: customer.id, to: friend.id, kind: RelationKind::Other, note: None };
    s.insert_relation(&relation, &[]).await.unwrap();
    let case = a.case(&customer, |_| {}).await;
    let follow_up = FollowUp {
        id: a.id(),
        tenant: ta,
        case: case.id,
        kind: FollowUpKind::Note,
        author: Some(a.t.agent.id),
        at: a.now,
        body: "note".into(),
        visibility: crm_core::case::Visibility::Internal,
        interaction: None,
    };
    s.insert_follow_up(&follow_up, &[], &[]).await.unwrap();
    let task = a.task(&customer, 30, |_| {}).await;
    let interaction = a.interaction(Some(&customer)).await;
    let definition = FieldDefinition::build(
        a.id(),
        ta,
        FieldDefinitionInput {
            entity: FieldEntity::Customer,
            key: "secret".into(),
            label: "Secret".into(),
            field_type: FieldType::Text,
            required: false,
            default: None,
            help_text: None,
        },
        None,
    )
    .unwrap();
    s.put_field_definition(&definition, None, &[]).await.unwrap();
    s.put_disposition(
        &Disposition { tenant: ta, code: "done".into(), label: "Done".into(), group: None, active: true },
        &[],
    )
    .await
    .unwrap();
    s.put_queue(&QueueSettings { tenant: ta, name: "vip".into(), disposition_required: true }, &[]).await.unwrap();
    let spare = a.customer("Doublon", vec![]).await;
    let merge_at = a.now + Duration::minutes(1);
    let plan = MergePlan::build(a.id(), &friend, &spare, ConflictRule::KeepTarget, merge_at).unwrap();
    let record = MergeRecord {
        id: plan.id,
        tenant: ta,
        target: friend.id,
        source: spare.id,
        rule: plan.rule,
        conflicts: plan.conflicts.clone(),
        target_before: friend.clone(),
        source_before: spare.clone(),
        target_version_after: plan.target.version(),
        moved: Default::default(),
        merged_by: a.t.supervisor.id,
        merged_at: merge_at,
        undone_at: None,
        undone_by: None,
    };
    s.merge_customers(&plan, &record, &[]).await.unwrap();
    let outbox_a = a.outbox().await;
    assert!(!outbox_a.is_empty());

    // Reads from B.
    assert_eq!(s.get_customer(tb, customer.id).await.unwrap(), None);
    let key = IdentityKey::phone(&PhoneNumber::parse("01 98 76 54 32", Some(region_fr())).unwrap());
    assert!(s.find_by_identity(tb, &key, 10).await.unwrap().is_empty());
    assert_eq!(s.find_by_account(tb, customer.account_number()).await.unwrap(), None);
    // The same number (and account number) in B finds only B's card.
    let twin = b.customer("Jumelle dans B", vec![phone("+33 1 98 76 54 32")]).await;
    let found: Vec<_> = s.find_by_identity(tb, &key, 10).await.unwrap().into_iter().map(|c| c.id).collect();
    assert_eq!(found, vec![twin.id], "the same number in B finds only B's card");
    let everyone = CustomerQuery::default().normalise().unwrap();
    let found = s.search_customers(tb, &everyone, &page(200)).await.unwrap();
    assert!(found.items.iter().all(|c| c.tenant == tb));
    let isabelle = CustomerQuery { name: Some("Isabelle".into()), ..Default::default() }.normalise().unwrap();
    assert!(s.search_customers(tb, &isabelle, &page(10)).await.unwrap().items.is_empty());
    assert!(s.find_by_phonetic(tb, &NameKeys::of("Isabelle").phonetic, 10).await.unwrap().is_empty());
    assert!(s.relations_of(tb, customer.id).await.unwrap().is_empty());
    assert_eq!(s.get_merge(tb, plan.id).await.unwrap(), None);
    assert_eq!(s.get_case(tb, case.id).await.unwrap(), None);
    assert_eq!(s.get_case_by_number(tb, case.number).await.unwrap(), None);
    let listed = s.list_cases(tb, &CaseFilter::default(), &PrivateScope::All, CaseSort::default(), &page(200)).await;
    assert!(listed.unwrap().items.is_empty());
    let by_customer = CaseFilter { customer: Some(customer.id), ..Default::default() };
    assert!(
        s.list_cases(tb, &by_customer, &PrivateScope::All, CaseSort::default(), &page(10))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(s.open_cases_of(tb, customer.id, &PrivateScope::All, 10).await.unwrap().is_empty());
    assert!(s.case_history(tb, case.id).await.unwrap().is_empty());
    assert!(s.follow_ups_of(tb, case.id).await.unwrap().is_empty());
    assert_eq!(s.get_task(tb, task.id).await.unwrap(), None);
    assert!(s.planned_tasks_of_agent(tb, a.t.agent.id, None, &page(10)).await.unwrap().items.is_empty());
    assert!(s.tasks_of(tb, TaskOwner::Customer(customer.id), &page(10)).await.unwrap().items.is_empty());
    assert!(s.tasks_of(tb, TaskOwner::Case(case.id), &page(10)).await.unwrap().items.is_empty());
    assert_not_found(s.delete_task(tb, task.id, task.version(), &[]).await);
    assert!(s.planned_tasks_of_customer(tb, customer.id, 10).await.unwrap().is_empty());
    assert_eq!(s.get_interaction(tb, interaction.id).await.unwrap(), None);
    assert!(s.interactions_of_customer(tb, customer.id, &page(10)).await.unwrap().items.is_empty());
    assert_eq!(s.get_agent(tb, a.t.agent.id).await.unwrap(), None);
    assert!(s.list_agents(tb).await.unwrap().iter().all(|x| x.tenant == tb));
    assert!(s.list_groups(tb).await.unwrap().iter().all(|g| g.tenant == tb));
    assert!(s.field_definitions(tb, FieldEntity::Customer).await.unwrap().is_empty());
    assert!(s.dispositions(tb).await.unwrap().is_empty());
    assert_eq!(s.get_queue(tb, "vip").await.unwrap(), None);
    assert!(b.outbox().await.iter().all(|e| e.event.tenant == tb));

    // Writes from B (records carrying B's tenant but A's ids, or referencing A's records).
    let stolen = Customer::restore(CustomerRecord { tenant: tb, version: 2, ..customer.clone().into_record() });
    assert_not_found(s.update_customer(&stolen, 1, &[]).await);
    assert_not_found(s.delete_customer(tb, customer.id, 1, &[]).await);
    let cross = Relation { id: b.id(), tenant: tb, ..relation.clone() };
    assert_invalid_reference(s.insert_relation(&cross, &[]).await, "from");
    assert_not_found(s.delete_relation(tb, relation.id, &[]).await);
    let mut plan_b = plan.clone();
    plan_b.target.tenant = tb;
    plan_b.tombstone.tenant = tb;
    let undo = crm_core::customer::UndoPlan { target: plan_b.target.clone(), source: plan_b.tombstone.clone() };
    assert_not_found(s.undo_merge(tb, plan.id, &undo, b.t.supervisor.id, a.now, &[]).await);

    let b_customer = b.customer("Client B", vec![]).await;
    let foreign_case =
        Case::restore(CaseRecord { customer: customer.id, ..b.build_case(&b_customer, |_| {}).await.into_record() });
    assert_invalid_reference(b.store.insert_case(&foreign_case, &[], &[]).await, "customer");
    let stolen_case = Case::restore(CaseRecord { tenant: tb, version: 2, ..case.clone().into_record() });
    assert_not_found(s.update_case(&stolen_case, 1, &[], &[]).await);
    assert_eq!(s.get_deleted_case(tb, case.id).await.unwrap(), None);
    let foreign_follow_up = FollowUp { id: b.id(), tenant: tb, ..follow_up.clone() };
    assert_invalid_reference(s.insert_follow_up(&foreign_follow_up, &[], &[]).await, "case");

    let foreign_task =
        Task::restore(TaskRecord { customer: customer.id, ..b.build_task(&b_customer, 30, |_| {}).into_record() });
    assert_invalid_reference(s.insert_task(&foreign_task, &[]).await, "customer");
    let foreign_task =
        Task::restore(TaskRecord { case: Some(case.id), ..b.build_task(&b_customer, 30, |_| {}).into_record() });
    assert_invalid_reference(s.insert_task(&foreign_task, &[]).await, "case");
    let stolen_task = Task::restore(TaskRecord { tenant: tb, version: 2, ..task.clone().into_record() });
    assert_not_found(s.update_task(&stolen_task, 1, &[]).await);

    let foreign_interaction = Interaction::restore(InteractionRecord {
        customer: Some(customer.id),
        ..b.build_interaction(None).into_record()
    });
    assert_invalid_reference(s.insert_interaction(&foreign_interaction, &[]).await, "customer");
    let stolen_interaction =
        Interaction::restore(InteractionRecord { tenant: tb, version: 2, ..interaction.clone().into_record() });
    assert_not_found(s.update_interaction(&stolen_interaction, 1, &[]).await);

    let mut stolen_agent = a.t.agent.clone();
    stolen_agent.tenant = tb;
    stolen_agent.version = 2;
    assert_not_found(s.put_agent(&stolen_agent, Some(1), &[]).await);
    let mut stolen_group = a.t.group.clone();
    stolen_group.tenant = tb;
    stolen_group.version = 2;
    assert_not_found(s.put_group(&stolen_group, Some(1), &[]).await);
    let entry = &outbox_a[0];
    assert_not_found(s.requeue(tb, entry.event.id, a.now).await);

    // A's world is intact. (B was seeded with the same agent emails and group name as A:
    // those are unique per tenant only.)
    assert_eq!(s.get_customer(ta, customer.id).await.unwrap(), Some(customer.clone()));
    assert_eq!(s.get_case(ta, case.id).await.unwrap(), Some(case));
    assert_eq!(s.get_task(ta, task.id).await.unwrap(), Some(task));
    assert_eq!(s.get_interaction(ta, interaction.id).await.unwrap(), Some(interaction));
    assert_eq!(s.get_agent(ta, a.t.agent.id).await.unwrap(), Some(a.t.agent.clone()));
    assert_eq!(s.relations_of(ta, customer.id).await.unwrap(), vec![relation]);
    assert_eq!(s.follow_ups_of(ta, follow_up.case).await.unwrap(), vec![follow_up]);
    assert_eq!(a.outbox().await, outbox_a, "B's attempts wrote nothing to A's outbox");
    assert!(s.get_merge(ta, plan.id).await.unwrap().is_some());
}

/// Tenant B sees none of tenant A's organisations, memberships and leads, and cannot
/// change, delete, join or convert them (issue 27, INT-7).
pub async fn other_tenants_organisations_and_leads_behave_as_absent(factory: &dyn StoreFactory) {
    use crm_core::customer::IdentityKey;
    use crm_core::interaction::LinkTarget;
    use crm_core::lead::Lead;
    use crm_core::organisation::Organisation;

    use super::contacts::{build_lead, build_organisation};
    use super::{assert_stale, page};

    /// The same record, claimed by another tenant (the way a forged write would look).
    fn in_tenant<T: serde::Serialize + serde::de::DeserializeOwned>(record: &T, tenant: crm_core::ids::TenantId) -> T {
        let mut json = serde_json::to_value(record).unwrap();
        json["tenant"] = serde_json::to_value(tenant).unwrap();
        serde_json::from_value(json).unwrap()
    }

    let a = Ctx::new(factory).await;
    let b = a.sibling().await;
    let s = &a.store;
    let (ta, tb) = (a.tenant(), b.tenant());
    let org = build_organisation(&a, "Acme Isolée", vec![phone("01 98 76 54 33")]);
    s.insert_organisation(&org, &[]).await.unwrap();
    let member = a.customer("Membre", vec![]).await;
    s.set_customer_organisation(ta, member.id, Some(org.id), &[]).await.unwrap();
    let interaction = a.interaction(None).await;
    let lead = build_lead(&a, "Prospect", Some(&interaction));
    let mut linked = interaction.clone();
    linked.link(LinkTarget::Lead { id: lead.id }, a.t.agent.id, a.now).unwrap();
    s.write_lead_with_interaction(&lead, None, &linked, 1, &[]).await.unwrap();

    // Reads.
    assert_eq!(s.get_organisation(tb, org.id).await.unwrap(), None);
    let key = IdentityKey::phone(&PhoneNumber::parse("01 98 76 54 33", Some(region_fr())).unwrap());
    assert!(s.organisations_by_identity(tb, &key, 10).await.unwrap().is_empty());
    assert!(s.list_organisations(tb, Some("acme".into()), &page(10)).await.unwrap().items.is_empty());
    assert!(s.members_of(tb, org.id, &page(10)).await.unwrap().items.is_empty());
    assert_eq!(s.organisation_of(tb, member.id).await.unwrap(), None);
    assert_eq!(s.get_lead(tb, lead.id).await.unwrap(), None);
    assert!(s.list_leads(tb, None, &page(10)).await.unwrap().items.is_empty());

    // Writes.
    let stolen_org: Organisation = in_tenant(&org, tb);
    assert_not_found(s.update_organisation(&stolen_org, 1, &[]).await);
    assert_not_found(s.delete_organisation(tb, org.id, 1, &[]).await);
    assert_not_found(s.set_customer_organisation(tb, member.id, None, &[]).await);
    let b_customer = b.customer("Client B", vec![]).await;
    assert_invalid_reference(s.set_customer_organisation(tb, b_customer.id, Some(org.id), &[]).await, "organisation");
    let stolen_lead: Lead = in_tenant(&lead, tb);
    assert_not_found(s.update_lead(&stolen_lead, 1, &[]).await);
    let b_interaction = b.interaction(None).await;
    assert_not_found(s.write_lead_with_interaction(&stolen_lead, Some(1), &b_interaction, 1, &[]).await);
    let b_lead = build_lead(&b, "B", None);
    let stolen_interaction = in_tenant(&linked, tb);
    assert_not_found(s.write_lead_with_interaction(&b_lead, None, &stolen_interaction, 2, &[]).await);
    let card = b.build_customer(lead.customer_input()).await;
    assert!(matches!(
        s.convert_lead(&stolen_lead, 1, &card, &[], &[]).await,
        Err(crm_core::error::StoreError::NotFound { .. })
    ));
    assert_stale(s.update_lead(&lead, 2, &[]).await);

    // A's world is intact.
    assert_eq!(s.organisation_of(ta, member.id).await.unwrap(), Some(org.id));
    assert_eq!(s.get_organisation(ta, org.id).await.unwrap(), Some(org));
    assert_eq!(s.get_lead(ta, lead.id).await.unwrap(), Some(lead));
    assert_eq!(s.get_customer(tb, card.id).await.unwrap(), None, "the refused conversion wrote nothing");
}
