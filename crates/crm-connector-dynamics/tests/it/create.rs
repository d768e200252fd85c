//! Creating incidents, contacts and leads: create-only PATCHes on a key-derived id, binds,
//! refusals.

use crm_core::ConnectorError;
use crm_core::external::{ExternalCase, ExternalCreate, ExternalObject, ExternalPerson};
use crm_core::interaction::Channel;
use crm_core::ports::ExternalCrm;

use crate::helpers::{ACCOUNT_ID, CONTACT_ID, dv_ref, env};

fn jane(account: Option<&str>) -> ExternalPerson {
    ExternalPerson {
        first_name: Some(String::from("Jane")),
        last_name: String::from("Doe"),
        phone: Some(String::from("+1 555 0100")),
        email: Some(String::from("jane@x.com")),
        company: Some(String::from("Acme")),
        account: account.map(|id| dv_ref(ExternalObject::Account, id)),
    }
}

#[tokio::test]
async fn a_contact_is_created_on_an_id_derived_from_its_key() {
    let (fake, crm) = env().await;
    let created = crm.create("INT-1-x-1", &ExternalCreate::Contact(jane(Some(ACCOUNT_ID)))).await.unwrap();
    assert_eq!(created.object, ExternalObject::Contact);
    let state = fake.state();
    let stored = state.rows["contacts"].iter().find(|r| r["contactid"] == created.id.as_str());
    assert!(stored.is_some(), "id {} not stored", created.id);
    let seen = &state.seen[0];
    assert_eq!(
        (seen.method.as_str(), seen.path.as_str()),
        ("PATCH", format!("/api/data/v9.2/contacts({})", created.id).as_str())
    );
    assert_eq!(seen.headers.get("if-none-match").map(String::as_str), Some("*"));
    assert_eq!(seen.headers.get("content-type").map(String::as_str), Some("application/json"));
    insta::assert_json_snapshot!("create_contact_body", seen.body);
}

#[tokio::test]
async fn an_incident_binds_the_customer_and_primary_contact() {
    let (fake, crm) = env().await;
    let case = ExternalCase {
        subject: String::from("Caller cannot log in"),
        description: Some(String::from("...")),
        priority: String::from("high"),
        origin: Channel::Voice,
        contact: Some(dv_ref(ExternalObject::Contact, CONTACT_ID)),
        account: Some(dv_ref(ExternalObject::Account, ACCOUNT_ID)),
    };
    let created = crm.create("INT-1-x-1", &ExternalCreate::Case(case)).await.unwrap();
    assert_eq!(created.object, ExternalObject::Case);
    insta::assert_json_snapshot!("create_incident_body", fake.state().seen[0].body);
}

#[tokio::test]
async fn a_lead_is_created_with_a_topic() {
    let (fake, crm) = env().await;
    crm.create("INT-1-x-1", &ExternalCreate::Lead(jane(None))).await.unwrap();
    insta::assert_json_snapshot!("create_lead_body", fake.state().seen[0].body);
}

#[tokio::test]
async fn a_bind_to_a_missing_account_is_rejected_with_the_remote_code() {
    let (_fake, crm) = env().await;
    let error = crm
        .create("INT-1-x-1", &ExternalCreate::Contact(jane(Some("99999999-9999-9999-9999-999999999999"))))
        .await
        .unwrap_err();
    let ConnectorError::Rejected { code, message, .. } = error else { panic!("expected rejected: {error:?}") };
    assert_eq!(code, "0x80040217");
    assert!(message.contains("Does Not Exist"), "{message}");
}

#[tokio::test]
async fn an_incident_without_customer_is_rejected() {
    let (_fake, crm) = env().await;
    let case = ExternalCase {
        subject: String::from("No customer"),
        description: None,
        priority: String::from("normal"),
        origin: Channel::Email,
        contact: None,
        account: None,
    };
    let error = crm.create("INT-1-x-1", &ExternalCreate::Case(case)).await.unwrap_err();
    assert!(matches!(&error, ConnectorError::Rejected { code, .. } if code == "0x80040200"), "{error:?}");
}

#[tokio::test]
async fn a_lookup_id_that_is_not_a_guid_is_refused_before_sending() {
    let (fake, crm) = env().await;
    let error = crm.create("INT-1-x-1", &ExternalCreate::Contact(jane(Some("001') or true")))).await.unwrap_err();
    assert!(matches!(&error, ConnectorError::Rejected { code, .. } if code == "INVALID_REFERENCE"), "{error:?}");
    assert!(fake.state().seen.is_empty());
}

/// With `create_alternate_key`, a create is a create-only upsert on that alternate key:
/// the first names its row in `OData-EntityId`, a second one with the same key meets 412
/// and reads the same row back by the key; a key the environment does not define is a
/// refusal naming the resource.
#[tokio::test]
async fn with_an_alternate_key_a_create_is_an_upsert_on_it_and_a_second_finds_the_first() {
    let fake = crate::fake::Fake::start().await;
    crate::helpers::seed(&fake);
    let mut config = crate::helpers::config(&fake.uri());
    config["mapping"] = serde_json::json!({"create_alternate_key": "crm_key"});
    let crm = crate::helpers::connector(config);
    let first = crm.create("INT-2-contact-1", &ExternalCreate::Contact(jane(None))).await.unwrap();
    let again = crm.create("INT-2-contact-1", &ExternalCreate::Contact(jane(None))).await.unwrap();
    assert_eq!(first, again, "the same row");
    {
        let state = fake.state();
        let rows: Vec<_> = state.rows["contacts"].iter().filter(|r| r["crm_key"] == "INT-2-contact-1").collect();
        assert_eq!(rows.len(), 1, "one row for the key");
        assert_eq!(rows[0]["contactid"], first.id.as_str());
        let paths: Vec<(&str, &str)> = state.seen.iter().map(|s| (s.method.as_str(), s.path.as_str())).collect();
        let keyed = "/api/data/v9.2/contacts(crm_key='INT-2-contact-1')";
        assert_eq!(paths, [("PATCH", keyed), ("PATCH", keyed), ("GET", keyed)], "create, 412, read back");
    }
    let mut config = crate::helpers::config(&fake.uri());
    config["mapping"] = serde_json::json!({"create_alternate_key": "no_such_key"});
    let error = crate::helpers::connector(config)
        .create("INT-3-contact-1", &ExternalCreate::Contact(jane(None)))
        .await
        .expect_err("an undefined key");
    assert!(matches!(&error, ConnectorError::Rejected { message, .. } if message.contains("not valid")), "{error:?}");
}
