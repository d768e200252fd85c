//! Conformance: customers, identities, lookups, search, relations and deletion.

use std::collections::BTreeSet;

use chrono::Duration;
use crm_core::custom_field::{FieldDefinition, FieldDefinitionInput, FieldEntity, FieldType};
use crm_core::customer::{
    AccountNumber, Customer, CustomerContext, CustomerQuery, CustomerRecord, CustomerSearch, EmailAddress,
    IdentityInput, IdentityKey, NameKeys, NewCustomer, PhoneNumber, Relation, RelationKind,
};
use crm_core::event::EventKind;
use crm_core::interaction::Channel;
use crm_core::page::Cursor;
use crm_core::text::words;
use serde_json::json;

use super::{Ctx, StoreFactory, assert_duplicate, assert_invalid_reference, assert_not_found, email, page, phone};
use crate::fixtures::region_fr;

pub(super) fn phone_key(written: &str) -> IdentityKey {
    IdentityKey::phone(&PhoneNumber::parse(written, Some(region_fr())).expect("a valid phone"))
}

pub(super) fn email_key(written: &str) -> IdentityKey {
    IdentityKey::email(&EmailAddress::parse(written).expect("a valid email"))
}

fn ids(customers: &[Customer]) -> Vec<String> {
    customers.iter().map(|c| format!("{} ({})", c.name(), c.id)).collect()
}

/// Account numbers given by hand or imported in the generator's own form (`AC-000006`,
/// through `insert_customer` and `update_customer`) push the tenant's sequence past them,
/// so the next generated number is free; other forms and other tenants leave it alone.
pub async fn generated_account_numbers_go_past_numbers_written_in_their_form(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let s = &ctx.store;
    let with_account = |c: Customer, account: &str| {
        Customer::restore(CustomerRecord { account_number: AccountNumber::parse(account).unwrap(), ..c.into_record() })
    };
    let start = s.next_account_sequence(ctx.tenant()).await.unwrap();
    let mut imported = Vec::new();
    for n in 1..=8 {
        let c = ctx.build_customer(NewCustomer { name: format!("Imported {n}"), ..NewCustomer::default() }).await;
        let c = with_account(c, &AccountNumber::generated(start + 10 + n).to_string());
        ctx.insert_customer(&c).await;
        imported.push(c);
    }
    let next = s.next_account_sequence(ctx.tenant()).await.unwrap();
    assert!(next > start + 18, "{next} must go past AC-{:06}", start + 18);
    let fresh = AccountNumber::generated(next);
    assert_eq!(s.find_by_account(ctx.tenant(), &fresh).await.unwrap(), None);

    // An update to a higher number in the generator's form does the same.
    let renumbered = Customer::restore(CustomerRecord {
        account_number: AccountNumber::generated(next + 50),
        version: 2,
        ..imported[0].clone().into_record()
    });
    s.update_customer(&renumbered, 1, &[]).await.unwrap();
    assert!(s.next_account_sequence(ctx.tenant()).await.unwrap() > next + 50);

    // Other forms do not move it, and another tenant's counter is its own.
    let after = s.next_account_sequence(ctx.tenant()).await.unwrap();
    let other_form = ctx.build_customer(NewCustomer { name: "Other form".into(), ..NewCustomer::default() }).await;
    ctx.insert_customer(&with_account(other_form, "AC-9999999x")).await;
    let short = ctx.build_customer(NewCustomer { name: "Short".into(), ..NewCustomer::default() }).await;
    ctx.insert_customer(&with_account(short, "AC-99")).await;
    let next_after = s.next_account_sequence(ctx.tenant()).await.unwrap();
    assert!(next_after > after && next_after < after + 1000, "{after} then {next_after}");
    let other = ctx.sibling().await;
    assert!(other.store.next_account_sequence(other.tenant()).await.unwrap() < start + 10);
}

/// Insert, get, update and delete a customer; every write lands with its event.
pub async fn customer_round_trips_through_insert_get_update_and_delete(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let c = ctx
        .build_customer(NewCustomer {
            name: "Jeanne Dupont".into(),
            identities: vec![phone("01 23 45 67 89"), email("Jeanne.Dupont@Example.com")],
            addresses: vec![crm_core::customer::PostalAddress {
                label: Some("home".into()),
                lines: vec!["1 rue de la Paix".into()],
                postal_code: Some("75002".into()),
                city: "Paris".into(),
                region: None,
                country: "FR".into(),
            }],
            origin_channel: Some(Channel::Email),
            ..NewCustomer::default()
        })
        .await;
    ctx.insert_customer(&c).await;
    let s = &ctx.store;
    assert_eq!(s.get_customer(ctx.tenant(), c.id).await.unwrap(), Some(c.clone()));

    let c = Customer::restore(CustomerRecord {
        name: "Jeanne Dupont-Martin".into(),
        last_contact_at: Some(ctx.now + Duration::minutes(3)),
        account_number: AccountNumber::parse("VIP-0001").unwrap(),
        version: 2,
        ..c.into_record()
    });
    let updated = ctx.event(EventKind::CustomerUpdated { customer: c.id, fields: vec!["name".into()] });
    s.update_customer(&c, 1, std::slice::from_ref(&updated)).await.unwrap();
    assert_eq!(s.get_customer(ctx.tenant(), c.id).await.unwrap(), Some(c.clone()));
    assert!(ctx.has_event(updated.id).await, "the update's event is in the outbox");

    let deleted = ctx.event(EventKind::CustomerDeleted { customer: c.id });
    s.delete_customer(ctx.tenant(), c.id, 2, std::slice::from_ref(&deleted)).await.unwrap();
    assert_eq!(s.get_customer(ctx.tenant(), c.id).await.unwrap(), None);
    assert!(ctx.has_event(deleted.id).await, "the delete's event is in the outbox");
    assert_not_found(s.delete_customer(ctx.tenant(), c.id, 2, &[]).await);
    assert_not_found(s.update_customer(&c, 2, &[]).await);
}

/// Account numbers are unique per tenant (on insert and update), ids are unique.
pub async fn duplicate_account_number_and_id_are_refused(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let s = &ctx.store;
    let a = ctx.customer("Anne", vec![]).await;
    let b = ctx.build_customer(NewCustomer { name: "Bernard".into(), ..NewCustomer::default() }).await;
    let b = Customer::restore(CustomerRecord { account_number: a.account_number().clone(), ..b.into_record() });
    let event = ctx.event(EventKind::CustomerCreated { customer: b.id });
    assert_duplicate(s.insert_customer(&b, std::slice::from_ref(&event)).await, "account_number");
    assert_eq!(s.get_customer(ctx.tenant(), b.id).await.unwrap(), None);
    assert!(!ctx.has_event(event.id).await, "a refused insert writes no event");

    let mut same_id = ctx.build_customer(NewCustomer { name: "Clone".into(), ..NewCustomer::default() }).await;
    same_id.id = a.id;
    assert_duplicate(s.insert_customer(&same_id, &[]).await, "id");

    // The same account number in another tenant is fine.
    let other = ctx.sibling().await;
    let elsewhere = other.build_customer(NewCustomer { name: "Ailleurs".into(), ..NewCustomer::default() }).await;
    let elsewhere =
        Customer::restore(CustomerRecord { account_number: a.account_number().clone(), ..elsewhere.into_record() });
    other.store.insert_customer(&elsewhere, &[]).await.unwrap();

    let b = ctx.customer("Bernard", vec![]).await;
    let taken = Customer::restore(CustomerRecord {
        account_number: a.account_number().clone(),
        version: 2,
        ..b.clone().into_record()
    });
    assert_duplicate(s.update_customer(&taken, 1, &[]).await, "account_number");
    assert_eq!(s.get_customer(ctx.tenant(), b.id).await.unwrap(), Some(b));
}

/// Phone (any written form), email (case-insensitive) and handle lookups; live cards only,
/// most recently contacted first, never contacted last, at most `limit`.
pub async fn customers_are_found_by_every_identity_kind(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let s = &ctx.store;
    let handle = IdentityInput::Handle { channel: Channel::WhatsApp, handle: "@Jeanne.D".into(), label: None };
    let jeanne = ctx.customer("Jeanne", vec![phone("+33 1 23 45 67 89"), email("Jeanne@Example.COM"), handle]).await;
    let found = |key: IdentityKey| {
        let s = s.clone();
        let tenant = ctx.tenant();
        async move { s.find_by_identity(tenant, &key, 10).await.unwrap() }
    };
    for written in ["01 23 45 67 89", "0123456789", "+33123456789", "01.23.45.67.89"] {
        assert_eq!(found(phone_key(written)).await, vec![jeanne.clone()], "phone written {written:?}");
    }
    assert_eq!(found(email_key("jeanne@example.com")).await, vec![jeanne.clone()]);
    assert_eq!(found(email_key("JEANNE@EXAMPLE.COM")).await, vec![jeanne.clone()]);
    let whatsapp = IdentityInput::Handle { channel: Channel::WhatsApp, handle: "@jeanne.d".into(), label: None }
        .parse(None)
        .unwrap();
    assert_eq!(found(whatsapp.key()).await, vec![jeanne.clone()]);
    let twitter = IdentityInput::Handle { channel: Channel::Twitter, handle: "@jeanne.d".into(), label: None }
        .parse(None)
        .unwrap();
    assert!(found(twitter.key()).await.is_empty(), "a handle matches on its channel only");
    assert!(found(phone_key("01 23 45 67 88")).await.is_empty());

    // Several cards with one number: most recently contacted first, never contacted last.
    let shared = "06 12 34 56 78";
    let never = ctx.customer("Never", vec![phone(shared)]).await;
    let old = ctx
        .build_customer(NewCustomer { name: "Old".into(), identities: vec![phone(shared)], ..NewCustomer::default() })
        .await;
    let old =
        Customer::restore(CustomerRecord { last_contact_at: Some(ctx.now - Duration::days(3)), ..old.into_record() });
    ctx.insert_customer(&old).await;
    let recent = ctx
        .build_customer(NewCustomer {
            name: "Recent".into(),
            identities: vec![phone(shared)],
            ..NewCustomer::default()
        })
        .await;
    let recent = Customer::restore(CustomerRecord {
        last_contact_at: Some(ctx.now - Duration::hours(1)),
        ..recent.into_record()
    });
    ctx.insert_customer(&recent).await;
    let all = found(phone_key(shared)).await;
    assert_eq!(ids(&all), ids(&[recent.clone(), old.clone(), never.clone()]));
    let two = s.find_by_identity(ctx.tenant(), &phone_key(shared), 2).await.unwrap();
    assert_eq!(ids(&two), ids(&[recent, old]));
}

/// Lookup by account number (exact), tombstones included.
pub async fn customers_are_found_by_account_number(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let s = &ctx.store;
    let c = ctx.build_customer(NewCustomer { name: "Compte".into(), ..NewCustomer::default() }).await;
    let c = Customer::restore(CustomerRecord {
        account_number: AccountNumber::parse("ACC-77").unwrap(),
        ..c.into_record()
    });
    ctx.insert_customer(&c).await;
    let _other = ctx.customer("Autre", vec![]).await;
    assert_eq!(s.find_by_account(ctx.tenant(), &AccountNumber::parse("ACC-77").unwrap()).await.unwrap(), Some(c));
    assert_eq!(s.find_by_account(ctx.tenant(), &AccountNumber::parse("ACC-78").unwrap()).await.unwrap(), None);
}

fn search(query: CustomerQuery) -> CustomerSearch {
    query.normalise().expect("a valid query")
}

async fn search_all(ctx: &Ctx, search: &CustomerSearch) -> Vec<Customer> {
    let mut all = Vec::new();
    let mut request = page(200);
    loop {
        let p = ctx.store.search_customers(ctx.tenant(), search, &request).await.unwrap();
        all.extend(p.items);
        match p.next {
            Some(next) => request.after = Some(next),
            None => return all,
        }
    }
}

fn names(customers: &[Customer]) -> BTreeSet<String> {
    customers.iter().map(|c| c.name().to_owned()).collect()
}

/// Each search criterion matches as [`CustomerSearch::matches`] says.
pub async fn search_matches_name_prefix_phonetic_phone_email_custom_and_account(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let tier = FieldDefinition::build(
        ctx.id(),
        ctx.tenant(),
        FieldDefinitionInput {
            entity: FieldEntity::Customer,
            key: "tier".into(),
            label: "Tier".into(),
            field_type: FieldType::Text,
            required: false,
            default: None,
            help_text: None,
        },
        None,
    )
    .unwrap();
    ctx.store.put_field_definition(&tier, None, &[]).await.unwrap();
    let definitions = [tier];
    let build = |name: &str, identities: Vec<IdentityInput>, custom: Option<&str>| {
        let ctx = ctx.clone();
        let name = name.to_owned();
        let custom = custom.map(|v| (String::from("tier"), json!(v))).into_iter().collect();
        let definitions = definitions.clone();
        async move {
            let seq = ctx.store.next_account_sequence(ctx.tenant()).await.unwrap();
            let c = NewCustomer { name, identities, custom, ..NewCustomer::default() }
                .build(
                    ctx.id(),
                    ctx.tenant(),
                    None,
                    Some(AccountNumber::generated(seq)),
                    CustomerContext { region: Some(region_fr()), definitions: &definitions, now: ctx.now },
                )
                .unwrap();
            ctx.insert_customer(&c).await;
            c
        }
    };
    let dupond =
        build("Marie Dupond", vec![phone("01 23 45 67 89"), email("marie.dupond@example.com")], Some("Gold")).await;
    let durand = build("Éloïse Durand", vec![phone("06 98 76 54 32"), email("eloise@durand.fr")], Some("silver")).await;
    let smith = build("John Smith", vec![email("JOHN@smith.example.com")], None).await;
    let all = [dupond.clone(), durand.clone(), smith.clone()];
    let cases: Vec<(CustomerQuery, Vec<&Customer>)> = vec![
        (CustomerQuery { name: Some("Dupont".into()), ..Default::default() }, vec![&dupond]),
        (CustomerQuery { name: Some("du".into()), ..Default::default() }, vec![&dupond, &durand]),
        (CustomerQuery { name: Some("eloise".into()), ..Default::default() }, vec![&durand]),
        (CustomerQuery { name: Some("marie dup".into()), ..Default::default() }, vec![&dupond]),
        (CustomerQuery { name: Some("zzz".into()), ..Default::default() }, vec![]),
        (CustomerQuery { phone: Some("45 67".into()), ..Default::default() }, vec![&dupond]),
        (CustomerQuery { phone: Some("+336".into()), ..Default::default() }, vec![&durand]),
        (CustomerQuery { email: Some("JOHN@".into()), ..Default::default() }, vec![&smith]),
        (CustomerQuery { email: Some("marie.dupond@example.com".into()), ..Default::default() }, vec![&dupond]),
        (CustomerQuery { email: Some("example".into()), ..Default::default() }, vec![]),
        (
            CustomerQuery { custom_key: Some("tier".into()), custom_value: Some("GOL".into()), ..Default::default() },
            vec![&dupond],
        ),
        (
            CustomerQuery { custom_key: Some("tier".into()), custom_value: Some("l".into()), ..Default::default() },
            vec![&dupond, &durand],
        ),
        (
            CustomerQuery { account_number: Some(durand.account_number().to_string()), ..Default::default() },
            vec![&durand],
        ),
        (CustomerQuery { name: Some("du".into()), phone: Some("0698".into()), ..Default::default() }, vec![]),
        (CustomerQuery { name: Some("du".into()), phone: Some("698".into()), ..Default::default() }, vec![&durand]),
        (CustomerQuery::default(), vec![&dupond, &durand, &smith]),
    ];
    for (query, expected) in cases {
        let search = search(query.clone());
        let reference: BTreeSet<String> =
            all.iter().filter(|c| search.matches(c)).map(|c| c.name().to_owned()).collect();
        let expected: BTreeSet<String> = expected.iter().map(|c| c.name().to_owned()).collect();
        assert_eq!(reference, expected, "the reference semantics for {query:?}");
        assert_eq!(names(&search_all(&ctx, &search).await), expected, "store search for {query:?}");
    }
}

/// Walking every page of a search gives each match once, in folded-name-then-id order.
pub async fn search_pages_walk_every_match_once_in_order(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let names = [
        "Zoé Martin",
        "zoe martin",
        "Émile Bernard",
        "emile bernard",
        "Adèle Petit",
        "Bruno Petit",
        "Chloé Durand",
        "Denis Leroy",
        "Denis Leroy",
        "Denis Leroy",
        "Fanny Moreau",
        "Gilles Simon",
        "Hugo Laurent",
        "Inès Lefebvre",
        "Jules Michel",
        "Karim Garcia",
        "Léa David",
        "Manon Bertrand",
        "Nina Roux",
        "Oscar Vincent",
        "Paul Fournier",
        "Quentin Morel",
        "Rose Girard",
    ];
    let mut created = Vec::new();
    for name in names {
        created.push(ctx.customer(name, vec![]).await);
    }
    let mut expected = created.clone();
    expected.sort_by_key(|c| (words(c.name()).join(" "), c.id));
    let everyone = search(CustomerQuery::default());
    for limit in [1, 4, 7, 23, 50] {
        let mut walked = Vec::new();
        let mut request = page(limit);
        let mut pages = 0;
        loop {
            let p = ctx.store.search_customers(ctx.tenant(), &everyone, &request).await.unwrap();
            pages += 1;
            assert!(p.items.len() <= limit as usize, "a page holds at most {limit}");
            if p.next.is_some() {
                assert_eq!(p.items.len(), limit as usize, "a page before the last is full");
            }
            walked.extend(p.items);
            match p.next {
                Some(next) => request.after = Some(next),
                None => break,
            }
            assert!(pages <= names.len() + 1, "the walk ends");
        }
        assert_eq!(ids(&walked), ids(&expected), "limit {limit}");
    }
    // A filtered walk too.
    let denis = search(CustomerQuery { name: Some("denis".into()), ..Default::default() });
    let mut request = page(2);
    let first = ctx.store.search_customers(ctx.tenant(), &denis, &request).await.unwrap();
    assert_eq!(first.items.len(), 2);
    request.after = first.next.clone();
    let second = ctx.store.search_customers(ctx.tenant(), &denis, &request).await.unwrap();
    assert_eq!(second.items.len(), 1);
    assert_eq!(second.next, None);
    let all: Vec<Customer> = first.items.into_iter().chain(second.items).collect();
    let expected: Vec<Customer> = expected.into_iter().filter(|c| c.name() == "Denis Leroy").collect();
    assert_eq!(ids(&all), ids(&expected));
}

/// A cursor the list did not return is refused with `InvalidReference { field: "cursor" }`,
/// in customer search and in case lists.
pub async fn bad_cursor_is_refused(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    ctx.customer("Curseur", vec![]).await;
    for garbage in ["zz", "abc", "7b", "not a cursor at all"] {
        let mut request = page(10);
        request.after = Some(Cursor::from_string(garbage.into()));
        assert_invalid_reference(
            ctx.store.search_customers(ctx.tenant(), &search(CustomerQuery::default()), &request).await,
            "cursor",
        );
        assert_invalid_reference(
            ctx.store
                .list_cases(
                    ctx.tenant(),
                    &Default::default(),
                    &crm_core::access::PrivateScope::All,
                    Default::default(),
                    &request,
                )
                .await,
            "cursor",
        );
    }
}

/// Name search and duplicate candidates follow a rename and forget a deleted card; the
/// other cards keep their place.
pub async fn name_search_follows_renames_and_deletions(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let s = &ctx.store;
    let by_name = |name: &str| search(CustomerQuery { name: Some(name.into()), ..Default::default() });
    let mut albert = ctx.customer("Albert Camus", vec![]).await;
    let other = ctx.customer("Alberte Camoin", vec![]).await;
    assert_eq!(names(&search_all(&ctx, &by_name("camus")).await), BTreeSet::from(["Albert Camus".to_owned()]));

    albert = Customer::restore(CustomerRecord { name: "Albert Durand".into(), version: 2, ..albert.into_record() });
    s.update_customer(&albert, 1, &[]).await.unwrap();
    assert!(search_all(&ctx, &by_name("camus")).await.is_empty(), "the old name is gone");
    assert_eq!(search_all(&ctx, &by_name("durand")).await, vec![albert.clone()]);
    let camus = s.find_by_phonetic(ctx.tenant(), &NameKeys::of("Camus").phonetic, 10).await.unwrap();
    assert!(camus.is_empty(), "no candidate by the old name's sound: {camus:?}");
    let durant = s.find_by_phonetic(ctx.tenant(), &NameKeys::of("Durant").phonetic, 10).await.unwrap();
    assert_eq!(durant, vec![albert.clone()]);

    s.delete_customer(ctx.tenant(), albert.id, 2, &[]).await.unwrap();
    assert!(search_all(&ctx, &by_name("durand")).await.is_empty());
    assert_eq!(search_all(&ctx, &by_name("alb")).await, vec![other.clone()]);
    // A card created after the deletion is found, the deleted one's name stays gone.
    let again = ctx.customer("Albert Durand", vec![]).await;
    assert_eq!(search_all(&ctx, &by_name("durand")).await, vec![again]);
    assert_eq!(names(&search_all(&ctx, &by_name("camoin")).await), BTreeSet::from(["Alberte Camoin".to_owned()]));
}

/// Duplicate candidates by phonetic code: live cards only, at most `limit`.
pub async fn find_by_phonetic_returns_sound_alike_live_cards(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let dupond = ctx.customer("Marie Dupond", vec![]).await;
    let dupont = ctx.customer("Jean Dupont", vec![]).await;
    let _martin = ctx.customer("Paul Martin", vec![]).await;
    let codes = NameKeys::of("Dupont").phonetic;
    let found = ctx.store.find_by_phonetic(ctx.tenant(), &codes, 10).await.unwrap();
    let found: BTreeSet<_> = found.iter().map(|c| c.id).collect();
    assert_eq!(found, BTreeSet::from([dupond.id, dupont.id]));
    assert_eq!(ctx.store.find_by_phonetic(ctx.tenant(), &codes, 1).await.unwrap().len(), 1);
    assert!(
        ctx.store.find_by_phonetic(ctx.tenant(), &NameKeys::of("Xylophone").phonetic, 10).await.unwrap().is_empty()
    );
}

/// Relations need both customers, are listed from either side and can be deleted.
pub async fn relations_are_stored_listed_and_deleted(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let s = &ctx.store;
    let a = ctx.customer("Employeur SA", vec![]).await;
    let b = ctx.customer("Employé", vec![]).await;
    let c = ctx.customer("Tiers", vec![]).await;
    let relation = Relation {
        id: ctx.id(),
        tenant: ctx.tenant(),
        from: a.id,
        to: b.id,
        kind: RelationKind::Employer,
        note: Some("since 2020".into()),
    };
    let added = ctx.event(EventKind::CustomerUpdated { customer: a.id, fields: vec!["relations".into()] });
    s.insert_relation(&relation, std::slice::from_ref(&added)).await.unwrap();
    assert!(ctx.has_event(added.id).await);
    assert_eq!(s.relations_of(ctx.tenant(), a.id).await.unwrap(), vec![relation.clone()]);
    assert_eq!(s.relations_of(ctx.tenant(), b.id).await.unwrap(), vec![relation.clone()]);
    assert!(s.relations_of(ctx.tenant(), c.id).await.unwrap().is_empty());

    let missing = Relation { id: ctx.id(), from: ctx.id(), ..relation.clone() };
    assert_invalid_reference(s.insert_relation(&missing, &[]).await, "from");
    let missing = Relation { id: ctx.id(), to: ctx.id(), ..relation.clone() };
    assert_invalid_reference(s.insert_relation(&missing, &[]).await, "to");

    let removed = ctx.event(EventKind::CustomerUpdated { customer: a.id, fields: vec!["relations".into()] });
    s.delete_relation(ctx.tenant(), relation.id, std::slice::from_ref(&removed)).await.unwrap();
    assert!(ctx.has_event(removed.id).await);
    assert!(s.relations_of(ctx.tenant(), a.id).await.unwrap().is_empty());
    assert_not_found(s.delete_relation(ctx.tenant(), relation.id, &[]).await);
}

/// A customer with cases, tasks or interactions cannot be deleted; deleting one removes
/// its relations.
pub async fn delete_customer_with_children_is_refused(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let s = &ctx.store;
    let with_case = ctx.customer("Avec dossier", vec![]).await;
    ctx.case(&with_case, |_| {}).await;
    assert_invalid_reference(s.delete_customer(ctx.tenant(), with_case.id, 1, &[]).await, "customer");
    let with_task = ctx.customer("Avec tâche", vec![]).await;
    ctx.task(&with_task, 60, |_| {}).await;
    assert_invalid_reference(s.delete_customer(ctx.tenant(), with_task.id, 1, &[]).await, "customer");
    let with_interaction = ctx.customer("Avec appel", vec![]).await;
    ctx.interaction(Some(&with_interaction)).await;
    assert_invalid_reference(s.delete_customer(ctx.tenant(), with_interaction.id, 1, &[]).await, "customer");
    for c in [&with_case, &with_task, &with_interaction] {
        assert!(s.get_customer(ctx.tenant(), c.id).await.unwrap().is_some(), "a refused delete keeps the card");
    }

    let lonely = ctx.customer("Seul", vec![]).await;
    let relation = Relation {
        id: ctx.id(),
        tenant: ctx.tenant(),
        from: lonely.id,
        to: with_case.id,
        kind: RelationKind::HouseholdMember,
        note: None,
    };
    s.insert_relation(&relation, &[]).await.unwrap();
    s.delete_customer(ctx.tenant(), lonely.id, 1, &[]).await.unwrap();
    assert!(s.relations_of(ctx.tenant(), with_case.id).await.unwrap().is_empty(), "its relations went with it");
}
