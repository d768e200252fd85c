//! The wrap-up push: phonecall with a UUID v5 id, created with `If-None-Match: *`,
//! completed with `If-Match: *`, idempotent.

use crm_core::ConnectorError;
use crm_core::external::ExternalObject;
use crm_core::interaction::Direction;
use crm_core::ports::ExternalCrm;
use uuid::Uuid;

use crate::helpers::{ACCOUNT_ID, CONTACT_ID, call_activity, dv_ref, env};

#[tokio::test]
async fn a_call_becomes_a_completed_phonecall_with_a_derived_id() {
    let (fake, crm) = env().await;
    let activity = call_activity("INT-8812", dv_ref(ExternalObject::Contact, CONTACT_ID));
    let pushed = crm.push_activity(&activity).await.unwrap();
    let namespace = crm_connector_dynamics::config::DEFAULT_ACTIVITY_NAMESPACE;
    assert_eq!(pushed.id, Uuid::new_v5(&namespace, b"INT-8812").to_string());

    let state = fake.state();
    let (create, complete) = (&state.seen[0], &state.seen[1]);
    assert_eq!(create.method, "PATCH");
    assert_eq!(create.path, format!("/api/data/v9.2/phonecalls({})", pushed.id));
    assert_eq!(create.headers.get("if-none-match").map(String::as_str), Some("*"));
    assert!(!create.headers.contains_key("if-match"));
    assert_eq!(complete.headers.get("if-match").map(String::as_str), Some("*"));
    insta::assert_json_snapshot!("phonecall_create_body", create.body);
    insta::assert_json_snapshot!("phonecall_complete_body", complete.body);
    let row = &state.phonecalls[&Uuid::parse_str(&pushed.id).unwrap()];
    assert_eq!((row["statecode"].as_i64(), row["statuscode"].as_i64()), (Some(1), Some(4)));
}

#[tokio::test]
async fn pushing_the_same_activity_twice_leaves_one_phonecall() {
    let (fake, crm) = env().await;
    let activity = call_activity("INT-8812", dv_ref(ExternalObject::Contact, CONTACT_ID));
    let first = crm.push_activity(&activity).await.unwrap();
    let second = crm.push_activity(&activity).await.unwrap();
    assert_eq!(first, second);
    assert_eq!(fake.state().phonecalls.len(), 1);
}

#[tokio::test]
async fn an_outbound_call_on_an_account_is_made_and_addressed_to_it() {
    let (fake, crm) = env().await;
    let mut activity = call_activity("INT-7", dv_ref(ExternalObject::Account, ACCOUNT_ID));
    activity.direction = Direction::Outbound;
    activity.disposition = None;
    let pushed = crm.push_activity(&activity).await.unwrap();
    let state = fake.state();
    let body = &state.seen[0].body;
    assert_eq!(body["directioncode"], true);
    assert_eq!(body["regardingobjectid_account_phonecall@odata.bind"], format!("/accounts({ACCOUNT_ID})"));
    assert_eq!(body["phonecall_activity_parties"][0]["participationtypemask"], 2);
    let row = &state.phonecalls[&Uuid::parse_str(&pushed.id).unwrap()];
    assert_eq!(row["statuscode"].as_i64(), Some(2));
}

#[tokio::test]
async fn a_missing_target_is_not_found() {
    let (_fake, crm) = env().await;
    let activity = call_activity("INT-8", dv_ref(ExternalObject::Contact, "99999999-9999-9999-9999-999999999999"));
    let error = crm.push_activity(&activity).await.unwrap_err();
    assert!(matches!(error, ConnectorError::NotFound { .. }), "{error:?}");
}
