//! Screen-pop searches: SOSL by phone, SOQL by email with escaping and paging.

use crm_core::customer::{EmailAddress, PhoneNumber};
use crm_core::external::ExternalObject;
use crm_core::ports::ExternalCrm;
use serde_json::json;

use crate::helpers::{org, sf_ref};

#[tokio::test]
async fn find_by_phone_searches_phone_fields_of_contacts_leads_and_accounts() {
    let (fake, crm) = org().await;
    fake.state().seed("Contact", "003D000000000001", json!({"Name": "Jane Doe", "Phone": "+1 (415) 555-1212", "Email": "jane@x.com", "AccountId": "001D000000000001"}));
    fake.state().seed(
        "Lead",
        "00QD000000000001",
        json!({"Name": "Lee Lead", "MobilePhone": "4155551212", "Company": "Acme"}),
    );
    fake.state().seed("Account", "001D000000000001", json!({"Name": "Acme", "Phone": "+14155551212"}));
    fake.state().seed("Contact", "003D000000000002", json!({"Name": "Other", "Phone": "+1 212 555 0000"}));

    let phone = PhoneNumber::from_e164("+14155551212").unwrap();
    let found = crm.find_by_phone(&phone).await.unwrap();

    let refs: Vec<_> = found.iter().map(|r| (r.reference.object, r.reference.id.as_str())).collect();
    assert_eq!(
        refs,
        [
            (ExternalObject::Contact, "003D000000000001"),
            (ExternalObject::Lead, "00QD000000000001"),
            (ExternalObject::Account, "001D000000000001")
        ]
    );
    let jane = &found[0];
    assert_eq!(jane.name, "Jane Doe");
    assert_eq!(jane.phones, ["+1 (415) 555-1212"]);
    assert_eq!(jane.emails, ["jane@x.com"]);
    assert_eq!(jane.account, Some(sf_ref(ExternalObject::Account, "001D000000000001")));
    assert_eq!(jane.url.as_deref(), Some(format!("{}/003D000000000001", fake.uri()).as_str()));
    let seen = fake.state().seen.clone();
    assert_eq!(seen[0].path, "/services/data/v62.0/search/");
    insta::assert_snapshot!("sosl_phone_query", seen[0].query_param("q").unwrap_or_default());
}

#[tokio::test]
async fn no_match_is_an_empty_list() {
    let (_fake, crm) = org().await;
    let phone = PhoneNumber::from_e164("+33123456789").unwrap();
    assert!(crm.find_by_phone(&phone).await.unwrap().is_empty());
    let email = EmailAddress::parse("nobody@example.com").unwrap();
    assert!(crm.find_by_email(&email).await.unwrap().is_empty());
}

#[tokio::test]
async fn find_by_email_queries_contacts_and_leads_case_insensitively() {
    let (fake, crm) = org().await;
    fake.state().seed("Contact", "003A", json!({"Name": "Jane", "Email": "Jane@Example.com"}));
    fake.state().seed("Lead", "00QA", json!({"Name": "Jane Lead", "Email": "jane@example.com", "Company": "Acme"}));
    let email = EmailAddress::parse("jane@example.com").unwrap();

    let found = crm.find_by_email(&email).await.unwrap();
    let ids: Vec<_> = found.iter().map(|r| r.reference.id.as_str()).collect();
    assert_eq!(ids, ["003A", "00QA"]);
    let seen = fake.state().seen.clone();
    assert_eq!(seen.len(), 1, "ONE request for both tables: {seen:?}");
    assert_eq!((seen[0].method.as_str(), seen[0].path.as_str()), ("POST", "/services/data/v62.0/composite"));
    assert_eq!(seen[0].body["allOrNone"], false);
    insta::assert_snapshot!("soql_email_queries", composite_queries(&seen[0]).join("\n"));
}

/// The SOQL of each subrequest of a Composite API request, decoded.
fn composite_queries(seen: &crm_testkit::fake_api::Seen) -> Vec<String> {
    let subrequests = seen.body["compositeRequest"].as_array().cloned().unwrap_or_default();
    subrequests
        .iter()
        .map(|sub| {
            assert_eq!(sub["method"], "GET");
            let url = reqwest::Url::parse(&format!("http://x{}", sub["url"].as_str().unwrap_or_default()))
                .expect("a subrequest path");
            assert_eq!(url.path(), "/services/data/v62.0/query/");
            url.query_pairs().find(|(k, _)| k == "q").map(|(_, v)| v.into_owned()).unwrap_or_default()
        })
        .collect()
}

#[tokio::test]
async fn quotes_in_an_email_are_escaped_in_soql() {
    let (fake, crm) = org().await;
    fake.state().seed("Contact", "003Q", json!({"Name": "Pat O'Brien", "Email": "o'brien@example.com"}));
    let email = EmailAddress::parse("o'brien@example.com").unwrap();
    let found = crm.find_by_email(&email).await.unwrap();
    assert_eq!(found.len(), 1);
    let seen = fake.state().seen.clone();
    let decoded = composite_queries(&seen[0]).join("\n");
    assert!(decoded.contains("WHERE Email = 'o\\'brien@example.com'"), "{decoded}");
}

#[tokio::test]
async fn soql_results_are_paged_through_next_records_url() {
    let (fake, crm) = org().await;
    fake.state().query_page_size = 2;
    for i in 0..5 {
        fake.state().seed(
            "Contact",
            &format!("003P{i}"),
            json!({"Name": format!("P{i}"), "Email": "many@example.com"}),
        );
    }
    let email = EmailAddress::parse("many@example.com").unwrap();
    let found = crm.find_by_email(&email).await.unwrap();
    assert_eq!(found.len(), 5);
    let seen = fake.state().seen.clone();
    let pages: Vec<&str> = seen.iter().map(|s| s.path.as_str()).filter(|p| p.contains("/query/01g")).collect();
    assert_eq!(pages.len(), 2, "{seen:?}");
}

#[tokio::test]
async fn paging_stops_at_the_configured_bound() {
    let fake = crate::fake::Fake::start().await;
    let mut config = crate::helpers::jwt_config(&fake.uri());
    config["mapping"] = json!({"max_query_pages": 2});
    let crm = crate::helpers::connector(config);
    fake.state().query_page_size = 1;
    for i in 0..5 {
        fake.state().seed("Contact", &format!("003B{i}"), json!({"Name": "B", "Email": "bound@example.com"}));
    }
    let email = EmailAddress::parse("bound@example.com").unwrap();
    assert_eq!(crm.find_by_email(&email).await.unwrap().len(), 2);
}
