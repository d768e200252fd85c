//! Conformance: organisations, memberships and leads (`ContactStore`, issue 27, INT-7),
//! and the writes that create or convert them with an interaction or a customer in one
//! transaction.

use crm_core::customer::{Customer, IdentityKey, NewCustomer, PhoneNumber};
use crm_core::event::EventKind;
use crm_core::ids::CustomerId;
use crm_core::interaction::{Interaction, LinkTarget};
use crm_core::lead::{Lead, LeadPatch, LeadStatus, NewLead};
use crm_core::organisation::{NewOrganisation, Organisation, OrganisationPatch};
use crm_core::page::PageRequest;

use super::{
    Ctx, StoreFactory, assert_duplicate, assert_invalid_reference, assert_not_found, assert_stale,
    assert_state_conflict, email, page, phone,
};
use crate::fixtures::region_fr;

/// Builds (does not store) an organisation of the context's tenant.
pub fn build_organisation(ctx: &Ctx, name: &str, identities: Vec<crm_core::customer::IdentityInput>) -> Organisation {
    let input = NewOrganisation { name: name.into(), identities, ..NewOrganisation::default() };
    input.build(ctx.id(), &ctx.agent(), Some(region_fr()), ctx.now).expect("a valid organisation")
}

/// Builds (does not store) a lead of the context's tenant.
pub fn build_lead(ctx: &Ctx, name: &str, interaction: Option<&Interaction>) -> Lead {
    let input = NewLead { name: name.into(), identities: vec![email("lead@example.com")], ..NewLead::default() };
    input.build(ctx.id(), &ctx.agent(), Some(region_fr()), interaction.map(|i| i.id), ctx.now).expect("a valid lead")
}

/// Every page of a list, walked with its cursor.
async fn walk<T, F, Fut>(mut read: F) -> Vec<T>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: std::future::Future<Output = crm_core::page::Page<T>>,
{
    let mut all = Vec::new();
    let mut request = page(2);
    loop {
        let got = read(request.clone()).await;
        all.extend(got.items);
        match got.next {
            Some(next) => request = PageRequest { after: Some(next), ..request },
            None => return all,
        }
    }
}

/// Organisations round-trip with their versions; a duplicate id and a stale version are
/// refused; they are found by their own identities and by name (word prefixes, accents
/// ignored) in name order, page by page.
pub async fn organisations_round_trip_and_are_found_by_identity_and_name(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let s = &ctx.store;
    let tenant = ctx.tenant();
    let acme = build_organisation(&ctx, "Société Acme", vec![phone("01 40 00 00 01"), email("desk@acme.example")]);
    let beta = build_organisation(&ctx, "Beta Acmé Industries", vec![]);
    let gamma = build_organisation(&ctx, "Gamma", vec![]);
    let created = [ctx.event(EventKind::OrganisationCreated { organisation: acme.id })];
    s.insert_organisation(&acme, &created).await.unwrap();
    assert!(ctx.has_event(created[0].id).await, "the event is written with the organisation");
    for o in [&beta, &gamma] {
        s.insert_organisation(o, &[]).await.unwrap();
    }
    assert_duplicate(s.insert_organisation(&acme, &[]).await, "id");
    assert_eq!(s.get_organisation(ctx.tenant(), acme.id).await.unwrap(), Some(acme.clone()));

    let key = IdentityKey::phone(&PhoneNumber::parse("+33140000001", None).unwrap());
    assert_eq!(s.organisations_by_identity(ctx.tenant(), &key, 10).await.unwrap(), vec![acme.clone()]);
    let key = IdentityKey::email(&crm_core::customer::EmailAddress::parse("DESK@acme.example").unwrap());
    assert_eq!(s.organisations_by_identity(ctx.tenant(), &key, 10).await.unwrap(), vec![acme.clone()]);

    let mut renamed = acme.clone();
    let patch = OrganisationPatch { identities: Some(vec![]), ..OrganisationPatch::default() };
    renamed.apply(&patch, None, ctx.now).unwrap();
    s.update_organisation(&renamed, 1, &[]).await.unwrap();
    assert_stale(s.update_organisation(&renamed, 1, &[]).await);
    assert_eq!(s.get_organisation(ctx.tenant(), acme.id).await.unwrap(), Some(renamed.clone()));
    assert!(s.organisations_by_identity(ctx.tenant(), &key, 10).await.unwrap().is_empty(), "identities replaced");

    let named = |q: &'static str| {
        walk(move |p| async move { s.list_organisations(tenant, Some(q.to_owned()), &p).await.unwrap() })
    };
    assert_eq!(named("acme").await, vec![beta.clone(), renamed.clone()], "by folded name");
    assert_eq!(named("ACM soc").await, vec![renamed.clone()]);
    assert!(named("cme").await.is_empty(), "word prefixes only");
    let every = walk(|p| async move { s.list_organisations(tenant, None, &p).await.unwrap() }).await;
    assert_eq!(every, vec![beta, gamma, renamed]);
}

/// A customer belongs to at most one organisation: set, replaced, cleared; members are
/// listed with a cursor; a missing customer or organisation is refused; an organisation
/// with members is not deleted, one without is.
pub async fn memberships_are_set_listed_and_guard_deletion(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let s = &ctx.store;
    let tenant = ctx.tenant();
    let (acme, beta) = (build_organisation(&ctx, "Acme", vec![]), build_organisation(&ctx, "Beta", vec![]));
    s.insert_organisation(&acme, &[]).await.unwrap();
    s.insert_organisation(&beta, &[]).await.unwrap();
    let mut members: Vec<Customer> = Vec::new();
    for name in ["Ann", "Bob", "Cid"] {
        let c = ctx.customer(name, vec![]).await;
        s.set_customer_organisation(ctx.tenant(), c.id, Some(acme.id), &[]).await.unwrap();
        members.push(c);
    }
    members.sort_by_key(|c| c.id);
    let listed = walk(|p| async move { s.members_of(tenant, acme.id, &p).await.unwrap() }).await;
    assert_eq!(listed, members);

    let moved = members[0].id;
    let event = [ctx.event(EventKind::CustomerOrganisationChanged {
        customer: moved,
        organisation: Some(beta.id),
        previous: Some(acme.id),
    })];
    s.set_customer_organisation(ctx.tenant(), moved, Some(beta.id), &event).await.unwrap();
    assert!(ctx.has_event(event[0].id).await);
    assert_eq!(s.organisation_of(ctx.tenant(), moved).await.unwrap(), Some(beta.id), "one organisation at most");
    assert_eq!(s.members_of(ctx.tenant(), acme.id, &page(10)).await.unwrap().items, members[1..].to_vec());

    let missing: CustomerId = ctx.id();
    assert_not_found(s.set_customer_organisation(ctx.tenant(), missing, Some(acme.id), &[]).await);
    let nowhere = build_organisation(&ctx, "Nowhere", vec![]);
    assert_invalid_reference(
        s.set_customer_organisation(ctx.tenant(), moved, Some(nowhere.id), &[]).await,
        "organisation",
    );
    assert_eq!(s.organisation_of(ctx.tenant(), moved).await.unwrap(), Some(beta.id), "a refused change writes nothing");

    assert_state_conflict(s.delete_organisation(ctx.tenant(), beta.id, 1, &[]).await);
    s.set_customer_organisation(ctx.tenant(), moved, None, &[]).await.unwrap();
    assert_eq!(s.organisation_of(ctx.tenant(), moved).await.unwrap(), None);
    assert_stale(s.delete_organisation(ctx.tenant(), beta.id, 2, &[]).await);
    s.delete_organisation(ctx.tenant(), beta.id, 1, &[]).await.unwrap();
    assert_eq!(s.get_organisation(ctx.tenant(), beta.id).await.unwrap(), None);
    assert_not_found(s.delete_organisation(ctx.tenant(), beta.id, 1, &[]).await);
}

/// Leads round-trip with their versions and are listed newest first, by status when
/// asked, page by page.
pub async fn leads_round_trip_and_are_listed_newest_first(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let s = &ctx.store;
    let tenant = ctx.tenant();
    let mut leads = Vec::new();
    for (i, name) in ["Ada", "Bea", "Cy"].into_iter().enumerate() {
        let mut at = ctx.clone();
        at.now = ctx.now + chrono::Duration::minutes(i64::try_from(i).unwrap());
        let lead = build_lead(&at, name, None);
        s.insert_lead(&lead, &[]).await.unwrap();
        leads.push(lead);
    }
    assert_duplicate(s.insert_lead(&leads[0], &[]).await, "id");
    let mut qualified = leads[1].clone();
    qualified.apply(&LeadPatch { status: Some(LeadStatus::Qualified), ..LeadPatch::default() }, None, ctx.now).unwrap();
    s.update_lead(&qualified, 1, &[]).await.unwrap();
    assert_stale(s.update_lead(&qualified, 1, &[]).await);
    assert_eq!(s.get_lead(ctx.tenant(), qualified.id).await.unwrap(), Some(qualified.clone()));

    let all = walk(|p| async move { s.list_leads(tenant, None, &p).await.unwrap() }).await;
    assert_eq!(all, vec![leads[2].clone(), qualified.clone(), leads[0].clone()]);
    let only = s.list_leads(ctx.tenant(), Some(LeadStatus::Qualified), &page(10)).await.unwrap();
    assert_eq!(only.items, vec![qualified]);
}

/// A lead or a customer created during an interaction is written with the interaction,
/// or (a stale interaction, a taken account number) nothing is.
pub async fn contacts_created_in_an_interaction_are_written_with_it_or_not_at_all(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let s = &ctx.store;
    let interaction = ctx.interaction(None).await;
    let lead = build_lead(&ctx, "Ada", Some(&interaction));
    let mut linked = interaction.clone();
    linked.link(LinkTarget::Lead { id: lead.id }, ctx.t.agent.id, ctx.now).unwrap();
    let events = [ctx.event(EventKind::LeadCreated { lead: lead.id, interaction: Some(interaction.id) })];

    assert_stale(s.write_lead_with_interaction(&lead, None, &linked, 7, &events).await);
    assert_eq!(s.get_lead(ctx.tenant(), lead.id).await.unwrap(), None, "nothing written");
    assert!(!ctx.has_event(events[0].id).await);
    s.write_lead_with_interaction(&lead, None, &linked, 1, &events).await.unwrap();
    assert_eq!(s.get_lead(ctx.tenant(), lead.id).await.unwrap(), Some(lead.clone()));
    assert_eq!(s.get_interaction(ctx.tenant(), interaction.id).await.unwrap(), Some(linked.clone()));
    assert!(ctx.has_event(events[0].id).await);
    assert_duplicate(s.write_lead_with_interaction(&lead, None, &linked, 2, &[]).await, "id");

    // The same lead linked to a second interaction: lead and interaction at their versions.
    let second = ctx.interaction(None).await;
    let (mut lead2, mut second_linked) = (lead.clone(), second.clone());
    lead2.record_interaction(second.id, ctx.now).unwrap();
    second_linked.link(LinkTarget::Lead { id: lead.id }, ctx.t.agent.id, ctx.now).unwrap();
    assert_stale(s.write_lead_with_interaction(&lead2, Some(5), &second_linked, 1, &[]).await);
    assert_eq!(s.get_interaction(ctx.tenant(), second.id).await.unwrap(), Some(second.clone()), "nothing written");
    s.write_lead_with_interaction(&lead2, Some(1), &second_linked, 1, &[]).await.unwrap();
    assert_eq!(s.get_lead(ctx.tenant(), lead.id).await.unwrap(), Some(lead2));

    // A customer from an interaction.
    let taken = ctx.customer("Taken", vec![]).await;
    let customer = ctx.build_customer(NewCustomer { name: "Bea".into(), ..NewCustomer::default() }).await;
    let mut with_card = second_linked.clone();
    with_card.link(LinkTarget::Customer { id: customer.id }, ctx.t.agent.id, ctx.now).unwrap();
    let clash = ctx
        .build_customer(NewCustomer {
            name: "Clash".into(),
            account_number: Some(taken.account_number().to_string()),
            ..NewCustomer::default()
        })
        .await;
    assert_duplicate(s.insert_customer_from_interaction(&clash, &with_card, 2, &[]).await, "account_number");
    assert_stale(s.insert_customer_from_interaction(&customer, &with_card, 1, &[]).await);
    assert_eq!(s.get_customer(ctx.tenant(), customer.id).await.unwrap(), None, "nothing written");
    let created = [ctx.event(EventKind::CustomerCreated { customer: customer.id })];
    s.insert_customer_from_interaction(&customer, &with_card, 2, &created).await.unwrap();
    assert_eq!(s.get_customer(ctx.tenant(), customer.id).await.unwrap(), Some(customer.clone()));
    let stored = s.get_interaction(ctx.tenant(), second.id).await.unwrap().unwrap();
    assert_eq!((stored.customer(), stored.version()), (Some(customer.id), 3));
    let history = s.interactions_of_customer(ctx.tenant(), customer.id, &page(10)).await.unwrap();
    assert_eq!(history.items, vec![stored]);
}

/// A conversion writes the customer, the converted lead and its interactions (now on the
/// card) together; a stale lead or interaction writes nothing.
pub async fn a_lead_conversion_is_written_whole_or_not_at_all(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let s = &ctx.store;
    let interaction = ctx.interaction(None).await;
    let lead = build_lead(&ctx, "Ada", Some(&interaction));
    let mut linked = interaction.clone();
    linked.link(LinkTarget::Lead { id: lead.id }, ctx.t.agent.id, ctx.now).unwrap();
    s.write_lead_with_interaction(&lead, None, &linked, 1, &[]).await.unwrap();

    let customer = ctx.build_customer(lead.customer_input()).await;
    let mut converted = lead.clone();
    converted.convert(customer.id, ctx.now).unwrap();
    let mut moved = linked.clone();
    moved.link(LinkTarget::Customer { id: customer.id }, ctx.t.agent.id, ctx.now).unwrap();
    let events = [ctx.event(EventKind::LeadConverted { lead: lead.id, customer: customer.id })];

    assert_stale(s.convert_lead(&converted, 1, &customer, &[(moved.clone(), 1)], &events).await);
    assert_stale(s.convert_lead(&converted, 2, &customer, &[(moved.clone(), 2)], &events).await);
    assert_eq!(s.get_customer(ctx.tenant(), customer.id).await.unwrap(), None, "nothing written");
    assert_eq!(s.get_lead(ctx.tenant(), lead.id).await.unwrap(), Some(lead.clone()));
    assert!(!ctx.has_event(events[0].id).await);

    s.convert_lead(&converted, 1, &customer, &[(moved.clone(), 2)], &events).await.unwrap();
    assert_eq!(s.get_customer(ctx.tenant(), customer.id).await.unwrap(), Some(customer.clone()));
    let stored = s.get_lead(ctx.tenant(), lead.id).await.unwrap().unwrap();
    assert_eq!((stored.status(), stored.converted_to()), (LeadStatus::Converted, Some(customer.id)));
    let history = s.interactions_of_customer(ctx.tenant(), customer.id, &page(10)).await.unwrap();
    assert_eq!(history.items, vec![moved], "the lead's interactions are on the card");
    assert!(ctx.has_event(events[0].id).await);
}
