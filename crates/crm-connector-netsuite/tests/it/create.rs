//! Creating support cases, contacts and customers-as-leads: `eid:` upserts on the create
//! key, the internal id read back.

use crm_core::ConnectorError;
use crm_core::external::{ExternalCase, ExternalCreate, ExternalObject, ExternalPerson};
use crm_core::interaction::Channel;
use crm_core::ports::ExternalCrm;
use serde_json::json;

use crate::helpers::{account, connector, m2m, m2m_config, ns_ref};

fn jane(company: Option<&str>) -> ExternalPerson {
    ExternalPerson {
        first_name: Some(String::from("Jane")),
        last_name: String::from("Doe"),
        phone: Some(String::from("+14155552671")),
        email: Some(String::from("jane@x.com")),
        company: company.map(str::to_owned),
        account: Some(ns_ref(ExternalObject::Account, "647")),
    }
}

#[tokio::test]
async fn a_contact_is_upserted_on_its_key_and_its_id_read_back() {
    let (fake, crm) = m2m().await;
    let created = crm.create("INT-1-x-1", &ExternalCreate::Contact(jane(None))).await.unwrap();
    assert_eq!((created.object, created.id.as_str()), (ExternalObject::Contact, "601"));
    let seen = fake.state().seen.clone();
    assert_eq!(
        (seen[0].method.as_str(), seen[0].path.as_str()),
        ("PUT", "/services/rest/record/v1/contact/eid:INT-1-x-1")
    );
    assert_eq!(
        (seen[1].method.as_str(), seen[1].path.as_str()),
        ("GET", "/services/rest/record/v1/contact/eid:INT-1-x-1")
    );
    let seen = seen[0].clone();
    insta::assert_json_snapshot!("create_contact_body", seen.body);
}

#[tokio::test]
async fn a_lead_is_a_customer_with_the_configured_status() {
    let fake = account().await;
    let mut config = m2m_config(&fake.uri(), "ps256");
    config["mapping"] = json!({"lead_entity_status": "6", "subsidiary": "1"});
    let crm = connector(config);
    let created = crm.create("INT-1-x-1", &ExternalCreate::Lead(jane(Some("Acme Corp")))).await.unwrap();
    assert_eq!(created.object, ExternalObject::Lead);
    let seen = fake.state().seen[0].clone();
    assert_eq!(seen.path, "/services/rest/record/v1/customer/eid:INT-1-x-1");
    insta::assert_json_snapshot!("create_lead_body", seen.body);
}

#[tokio::test]
async fn a_support_case_links_company_and_contact() {
    let (fake, crm) = m2m().await;
    let case = ExternalCase {
        subject: String::from("Caller cannot log in"),
        description: Some(String::from("...")),
        priority: String::from("high"),
        origin: Channel::Voice,
        contact: Some(ns_ref(ExternalObject::Contact, "1203")),
        account: Some(ns_ref(ExternalObject::Account, "647")),
    };
    let created = crm.create("INT-1-x-1", &ExternalCreate::Case(case)).await.unwrap();
    assert_eq!(created.object, ExternalObject::Case);
    let seen = fake.state().seen[0].clone();
    assert_eq!(seen.path, "/services/rest/record/v1/supportCase/eid:INT-1-x-1");
    insta::assert_json_snapshot!("create_case_body", seen.body);
}

#[tokio::test]
async fn a_bad_reference_is_rejected_with_the_remote_code_and_path() {
    let (_fake, crm) = m2m().await;
    let mut person = jane(None);
    person.account = Some(ns_ref(ExternalObject::Account, "9999"));
    let error = crm.create("INT-1-x-1", &ExternalCreate::Contact(person)).await.unwrap_err();
    let ConnectorError::Rejected { code, field, message, .. } = error else { panic!("expected rejected: {error:?}") };
    assert_eq!(code, "INVALID_KEY_OR_REF");
    assert_eq!(field.as_deref(), Some("company"));
    assert!(message.contains("9999"), "{message}");
}
