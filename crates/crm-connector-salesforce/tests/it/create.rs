//! Creating cases, contacts and leads: upserts on the create key, request bodies, 201 ids,
//! remote refusals.

use crm_core::ConnectorError;
use crm_core::external::{ExternalCase, ExternalCreate, ExternalObject, ExternalPerson};
use crm_core::interaction::Channel;
use crm_core::ports::ExternalCrm;

use crate::fake::{Fake, Fault};
use crate::helpers::{connector, jwt_config, org, sf_ref};

fn jane() -> ExternalPerson {
    ExternalPerson {
        first_name: Some(String::from("Jane")),
        last_name: String::from("Doe"),
        phone: Some(String::from("+15550100")),
        email: Some(String::from("jane@x.com")),
        company: None,
        account: Some(sf_ref(ExternalObject::Account, "001D000000IqhSLIAZ")),
    }
}

#[tokio::test]
async fn a_contact_is_created_with_a_201_id() {
    let (fake, crm) = org().await;
    let created = crm.create("INT-1-x-1", &ExternalCreate::Contact(jane())).await.unwrap();
    assert_eq!(created.object, ExternalObject::Contact);
    assert!(created.id.starts_with("003"));
    let seen = fake.state().seen.clone();
    assert_eq!(
        (seen[0].method.as_str(), seen[0].path.as_str()),
        ("PATCH", "/services/data/v62.0/sobjects/Contact/Crm_Key__c/INT-1-x-1")
    );
    insta::assert_json_snapshot!("create_contact_body", seen[0].body);
}

#[tokio::test]
async fn a_case_maps_priority_and_origin() {
    let (fake, crm) = org().await;
    let case = ExternalCase {
        subject: String::from("Caller cannot log in"),
        description: Some(String::from("...")),
        priority: String::from("high"),
        origin: Channel::Voice,
        contact: Some(sf_ref(ExternalObject::Contact, "003D000000000001")),
        account: Some(sf_ref(ExternalObject::Account, "001D000000000001")),
    };
    let created = crm.create("INT-1-x-1", &ExternalCreate::Case(case)).await.unwrap();
    assert_eq!(created.object, ExternalObject::Case);
    let seen = fake.state().seen.clone();
    assert_eq!(seen[0].path, "/services/data/v62.0/sobjects/Case/Crm_Key__c/INT-1-x-1");
    insta::assert_json_snapshot!("create_case_body", seen[0].body);
}

#[tokio::test]
async fn a_lead_with_a_company_is_created() {
    let (fake, crm) = org().await;
    let lead = ExternalPerson { company: Some(String::from("Acme")), account: None, ..jane() };
    let created = crm.create("INT-1-x-1", &ExternalCreate::Lead(lead)).await.unwrap();
    assert_eq!(created.object, ExternalObject::Lead);
    insta::assert_json_snapshot!("create_lead_body", fake.state().seen[0].body);
}

#[tokio::test]
async fn a_lead_without_company_is_rejected_with_the_remote_code_and_field() {
    let (_fake, crm) = org().await;
    let lead = ExternalPerson { company: None, account: None, ..jane() };
    let error = crm.create("INT-1-x-1", &ExternalCreate::Lead(lead)).await.unwrap_err();
    let ConnectorError::Rejected { code, message, field, .. } = error else { panic!("expected rejected: {error:?}") };
    assert_eq!(code, "REQUIRED_FIELD_MISSING");
    assert_eq!(message, "Required fields are missing: [Company]");
    assert_eq!(field.as_deref(), Some("Company"));
}

#[tokio::test]
async fn a_duplicate_rule_refusal_keeps_the_code_and_names_the_match() {
    let (fake, crm) = org().await;
    fake.inject(Fault::Duplicates);
    let error = crm.create("INT-1-x-1", &ExternalCreate::Contact(jane())).await.unwrap_err();
    let ConnectorError::Rejected { code, message, .. } = error else { panic!("expected rejected: {error:?}") };
    assert_eq!(code, "DUPLICATES_DETECTED");
    assert!(message.contains("003D000000DUPE1") && message.contains("Standard_Contact_Duplicate_Rule"), "{message}");
}

#[tokio::test]
async fn the_duplicate_rule_header_saves_a_flagged_record_when_configured() {
    let fake = Fake::start().await;
    let mut config = jwt_config(&fake.uri());
    config["duplicate_rules"] = serde_json::json!({"allow_save": true, "include_record_details": true});
    let crm = connector(config);
    fake.inject(Fault::Duplicates);
    let created = crm.create("INT-1-x-1", &ExternalCreate::Contact(jane())).await.expect("saved despite the rule");
    assert_eq!(created.object, ExternalObject::Contact);
    let state = fake.state();
    let create = state.seen.iter().find(|s| s.method != "GET" && s.path.contains("/sobjects/Contact")).expect("create");
    assert_eq!(
        create.headers["sforce-duplicate-rule-header"],
        "allowSave=true, includeRecordDetails=true, runAsCurrentUser=false"
    );
}

#[tokio::test]
async fn the_api_usage_salesforce_reports_is_kept_for_the_metrics() {
    let (_fake, crm) = org().await;
    assert_eq!(crm.api_usage(), None, "nothing answered yet");
    crm.create("INT-1-x-1", &ExternalCreate::Contact(jane())).await.unwrap();
    let usage = crm.api_usage().expect("usage after a call");
    assert_eq!(usage.limit, 5_000);
    assert!(usage.used >= 1, "{usage:?}");
}
