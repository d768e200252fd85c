//! SuiteQL searches: `Prefer: transient`, paging, escaping.

use crm_core::customer::{EmailAddress, PhoneNumber};
use crm_core::external::ExternalObject;
use crm_core::ports::ExternalCrm;
use serde_json::json;

use crate::helpers::{account, connector, m2m, m2m_config, ns_ref};

#[tokio::test]
async fn find_by_phone_queries_customers_and_contacts_with_suiteql() {
    let (fake, crm) = m2m().await;
    let found = crm.find_by_phone(&PhoneNumber::from_e164("+14155552671").unwrap()).await.unwrap();
    let refs: Vec<_> = found.iter().map(|r| (r.reference.object, r.reference.id.as_str())).collect();
    assert_eq!(refs, [(ExternalObject::Account, "647"), (ExternalObject::Contact, "1203")]);
    assert_eq!(found[0].name, "Acme");
    assert_eq!(found[1].name, "Jane Doe");
    assert_eq!(found[1].account, Some(ns_ref(ExternalObject::Account, "647")));
    assert_eq!(found[1].phones, ["+14155552671"]);

    let seen = fake.state().seen.clone();
    assert_eq!(seen.len(), 1, "ONE request for both tables: {seen:?}");
    assert_eq!(seen[0].path, "/services/rest/query/v1/suiteql");
    assert_eq!(seen[0].headers["prefer"], "transient");
    let queries: Vec<String> = seen.iter().map(|s| s.body["q"].as_str().unwrap_or_default().to_owned()).collect();
    insta::assert_snapshot!("phone_suiteql", queries.join("\n"));
}

#[tokio::test]
async fn find_by_email_is_case_insensitive_and_escapes_quotes() {
    let (fake, crm) = m2m().await;
    fake.state().seed(
        "contact",
        json!({"id": "1300", "firstname": "Pat", "lastname": "O'Brien", "email": "o'brien@acme.example"}),
    );
    let found = crm.find_by_email(&EmailAddress::parse("O'Brien@acme.example").unwrap()).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].name, "Pat O'Brien");
    let q = fake.state().seen[0].body["q"].as_str().unwrap().to_owned();
    assert!(q.ends_with("WHERE LOWER(email) = 'o''brien@acme.example'"), "{q}");
}

#[tokio::test]
async fn pages_follow_has_more_with_offsets_in_multiples_of_limit() {
    let fake = account().await;
    for i in 0..5 {
        fake.state().seed(
            "customer",
            json!({"id": format!("70{i}"), "companyname": format!("C{i}"), "email": "many@example.com"}),
        );
    }
    let mut config = m2m_config(&fake.uri(), "ps256");
    config["mapping"] = json!({"page_size": 2});
    let crm = connector(config);
    let found = crm.find_by_email(&EmailAddress::parse("many@example.com").unwrap()).await.unwrap();
    assert_eq!(found.len(), 5);
    let seen = fake.state().seen.clone();
    let offsets: Vec<String> = seen
        .iter()
        .filter(|s| s.body["q"].as_str().is_some_and(|q| q.contains("FROM customer")))
        .filter_map(|s| s.query.iter().find(|(k, _)| k == "offset").map(|(_, v)| v.clone()))
        .collect();
    assert_eq!(offsets, ["0", "2", "4"]);
}

#[tokio::test]
async fn paging_stops_at_the_bound() {
    let fake = account().await;
    for i in 0..5 {
        fake.state()
            .seed("customer", json!({"id": format!("80{i}"), "companyname": "B", "email": "bound@example.com"}));
    }
    let mut config = m2m_config(&fake.uri(), "ps256");
    config["mapping"] = json!({"page_size": 1, "max_pages": 2});
    let found = connector(config).find_by_email(&EmailAddress::parse("bound@example.com").unwrap()).await.unwrap();
    assert_eq!(found.len(), 2);
}

#[tokio::test]
async fn no_match_is_an_empty_list() {
    let (_fake, crm) = m2m().await;
    assert!(crm.find_by_phone(&PhoneNumber::from_e164("+33123456789").unwrap()).await.unwrap().is_empty());
}
