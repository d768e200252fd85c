//! `$filter` searches across contacts, leads and accounts in one `$batch`, with paging.

use crm_core::customer::{EmailAddress, PhoneNumber};
use crm_core::external::ExternalObject;
use crm_core::ports::ExternalCrm;
use serde_json::json;

use crate::helpers::{ACCOUNT_ID, CONTACT_ID, config, connector, dv_ref, env};

#[tokio::test]
async fn find_by_phone_filters_phone_columns_of_each_table() {
    let (fake, crm) = env().await;
    fake.state().seed("leads", json!({"leadid": "aaaaaaaa-0000-0000-0000-000000000003", "fullname": "Lee Lead", "mobilephone": "+14155552671"}));
    let phone = PhoneNumber::from_e164("+14155552671").unwrap();
    let found = crm.find_by_phone(&phone).await.unwrap();

    let kinds: Vec<_> = found.iter().map(|r| r.reference.object).collect();
    assert_eq!(kinds, [ExternalObject::Contact, ExternalObject::Lead, ExternalObject::Account]);
    let contact = &found[0];
    assert_eq!(contact.reference.id, CONTACT_ID);
    assert_eq!(contact.name, "Yvonne McKay");
    assert_eq!(contact.phones, ["+14155552671", "+14155552672"]);
    assert_eq!(contact.account, Some(dv_ref(ExternalObject::Account, ACCOUNT_ID)));
    assert_eq!(
        contact.url.as_deref(),
        Some(format!("{}/main.aspx?pagetype=entityrecord&etn=contact&id={CONTACT_ID}", fake.uri()).as_str())
    );

    let seen = fake.state().seen.clone();
    assert_eq!(seen.len(), 1, "ONE request for the three tables: {seen:?}");
    assert_eq!((seen[0].method.as_str(), seen[0].path.as_str()), ("POST", "/api/data/v9.2/$batch"));
    assert!(seen[0].headers["content-type"].starts_with("multipart/mixed; boundary=batch_"));
    for (name, value) in [("odata-maxversion", "4.0"), ("odata-version", "4.0"), ("accept", "application/json")] {
        assert_eq!(seen[0].headers.get(name).map(String::as_str), Some(value), "{name}");
    }
    let batched = fake.state().batched.clone();
    let paths: Vec<&str> = batched.iter().map(|b| b.path.as_str()).collect();
    assert_eq!(paths, ["/api/data/v9.2/contacts", "/api/data/v9.2/leads", "/api/data/v9.2/accounts"]);
    let first = &batched[0];
    for (name, value) in [("accept", "application/json"), ("if-none-match", "null")] {
        assert_eq!(first.headers.get(name).map(String::as_str), Some(value), "{name}");
    }
    assert!(first.headers["prefer"].contains("odata.maxpagesize=50"));
    let queries: Vec<String> =
        batched.iter().map(|s| s.query.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")).collect();
    insta::assert_snapshot!("phone_filters", queries.join("\n"));
}

#[tokio::test]
async fn find_by_email_escapes_quotes_and_ignores_case() {
    let (fake, crm) = env().await;
    fake.state().seed("contacts", json!({"contactid": "bbbbbbbb-0000-0000-0000-000000000004", "fullname": "Pat O'Bryan", "emailaddress1": "O'Bryan@Example.com"}));
    let email = EmailAddress::parse("o'bryan@example.com").unwrap();
    let found = crm.find_by_email(&email).await.unwrap();
    assert_eq!(found.len(), 1);
    let filter = fake.state().batched[0].query.iter().find(|(k, _)| k == "$filter").map(|(_, v)| v.clone()).unwrap();
    assert_eq!(filter, "emailaddress1 eq 'o''bryan@example.com'");
}

#[tokio::test]
async fn no_match_is_an_empty_list() {
    let (_fake, crm) = env().await;
    let phone = PhoneNumber::from_e164("+33123456789").unwrap();
    assert!(crm.find_by_phone(&phone).await.unwrap().is_empty());
}

#[tokio::test]
async fn pages_are_followed_through_next_link_with_the_same_prefer() {
    let (fake, _) = env().await;
    for i in 0..5 {
        fake.state().seed("contacts", json!({"contactid": format!("cccccccc-0000-0000-0000-00000000001{i}"), "fullname": "Many", "emailaddress1": "many@example.com"}));
    }
    let mut cfg = config(&fake.uri());
    cfg["mapping"] = json!({"page_size": 2});
    let crm = connector(cfg);
    let found = crm.find_by_email(&EmailAddress::parse("many@example.com").unwrap()).await.unwrap();
    assert_eq!(found.len(), 5);
    let seen = fake.state().seen.clone();
    let followed: Vec<_> = seen.iter().filter(|s| s.query.iter().any(|(k, _)| k == "$skiptoken")).collect();
    assert_eq!(followed.len(), 2);
    assert!(followed.iter().all(|s| s.headers["prefer"].contains("odata.maxpagesize=2")));
}

#[tokio::test]
async fn paging_stops_at_the_bound() {
    let (fake, _) = env().await;
    for i in 0..5 {
        fake.state().seed("contacts", json!({"contactid": format!("dddddddd-0000-0000-0000-00000000001{i}"), "fullname": "B", "emailaddress1": "bound@example.com"}));
    }
    let mut cfg = config(&fake.uri());
    cfg["mapping"] = json!({"page_size": 1, "max_pages": 3});
    let found = connector(cfg).find_by_email(&EmailAddress::parse("bound@example.com").unwrap()).await.unwrap();
    assert_eq!(found.len(), 3);
}
