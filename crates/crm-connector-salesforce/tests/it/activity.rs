//! The wrap-up push: Task upsert keyed by the external-id field, idempotent.

use crm_core::ConnectorError;
use crm_core::external::ExternalObject;
use crm_core::interaction::{Channel, Direction};
use crm_core::ports::ExternalCrm;

use crate::helpers::{call_activity, org, sf_ref};

#[tokio::test]
async fn a_call_is_upserted_as_a_task_on_the_external_id() {
    let (fake, crm) = org().await;
    let activity = call_activity("INT-8812", sf_ref(ExternalObject::Case, "500D000000000001"));
    let pushed = crm.push_activity(&activity).await.unwrap();
    assert!(pushed.id.starts_with("00T"));
    let seen = fake.state().seen.clone();
    assert_eq!(
        (seen[0].method.as_str(), seen[0].path.as_str()),
        ("PATCH", "/services/data/v62.0/sobjects/Task/Interaction_Id__c/INT-8812")
    );
    insta::assert_json_snapshot!("task_upsert_case_body", seen[0].body);
}

#[tokio::test]
async fn a_contact_target_is_the_who_and_an_outbound_call_is_outbound() {
    let (fake, crm) = org().await;
    let mut activity = call_activity("INT-1", sf_ref(ExternalObject::Contact, "003D000000000001"));
    activity.direction = Direction::Outbound;
    crm.push_activity(&activity).await.unwrap();
    let body = fake.state().seen[0].body.clone();
    assert_eq!(body["WhoId"], "003D000000000001");
    assert!(body.get("WhatId").is_none());
    assert_eq!(body["CallType"], "Outbound");
}

#[tokio::test]
async fn a_chat_is_a_plain_task_with_the_disposition_in_the_text() {
    let (fake, crm) = org().await;
    let mut activity = call_activity("INT-2", sf_ref(ExternalObject::Lead, "00QD000000000001"));
    activity.channel = Channel::Chat;
    crm.push_activity(&activity).await.unwrap();
    insta::assert_json_snapshot!("task_upsert_chat_body", fake.state().seen[0].body);
}

#[tokio::test]
async fn pushing_the_same_activity_twice_leaves_one_task() {
    let (fake, crm) = org().await;
    let activity = call_activity("INT-8812", sf_ref(ExternalObject::Contact, "003D000000000001"));
    let first = crm.push_activity(&activity).await.unwrap();
    let second = crm.push_activity(&activity).await.unwrap();
    assert_eq!(first, second);
    let state = fake.state();
    assert_eq!(state.tasks.len(), 1);
    let keys: Vec<&str> = state.seen.iter().map(|s| s.path.as_str()).collect();
    assert!(keys.iter().all(|p| *p == "/services/data/v62.0/sobjects/Task/Interaction_Id__c/INT-8812"));
    // Second delivery: TaskSubtype refused on the existing Task, resent without it.
    assert_eq!(state.seen.len(), 3);
    assert!(state.seen[2].body.get("TaskSubtype").is_none());
}

#[tokio::test]
async fn an_external_key_with_reserved_characters_stays_one_path_segment() {
    let (fake, crm) = org().await;
    let activity = call_activity("INT/1 ?x", sf_ref(ExternalObject::Contact, "003D000000000001"));
    crm.push_activity(&activity).await.unwrap();
    let state = fake.state();
    assert!(state.tasks.contains_key("INT/1 ?x"), "{:?}", state.tasks.keys().collect::<Vec<_>>());
}

#[tokio::test]
async fn a_deleted_target_is_not_found() {
    let (fake, crm) = org().await;
    fake.state().deleted.insert(String::from("003D00000000DEAD"));
    let activity = call_activity("INT-3", sf_ref(ExternalObject::Contact, "003D00000000DEAD"));
    let error = crm.push_activity(&activity).await.unwrap_err();
    assert!(matches!(error, ConnectorError::NotFound { .. }), "{error:?}");
}

#[tokio::test]
async fn an_ambiguous_external_id_is_rejected() {
    let (fake, crm) = org().await;
    fake.state().ambiguous_keys.insert(String::from("INT-4"));
    let activity = call_activity("INT-4", sf_ref(ExternalObject::Contact, "003D000000000001"));
    let error = crm.push_activity(&activity).await.unwrap_err();
    assert!(matches!(&error, ConnectorError::Rejected { code, .. } if code == "MULTIPLE_CHOICES"), "{error:?}");
}

#[tokio::test]
async fn an_unknown_external_id_field_is_not_found() {
    let fake = crate::fake::Fake::start().await;
    let mut config = crate::helpers::jwt_config(&fake.uri());
    config["mapping"] = serde_json::json!({"activity_external_id_field": "Missing__c"});
    let crm = crate::helpers::connector(config);
    let activity = call_activity("INT-5", sf_ref(ExternalObject::Contact, "003D000000000001"));
    let error = crm.push_activity(&activity).await.unwrap_err();
    assert!(matches!(error, ConnectorError::NotFound { .. }), "{error:?}");
}

#[tokio::test]
async fn an_update_answered_204_without_body_reads_the_task_id_back() {
    let (fake, crm) = org().await;
    fake.state().legacy_upsert = true;
    let activity = call_activity("INT-6", sf_ref(ExternalObject::Contact, "003D000000000001"));
    let first = crm.push_activity(&activity).await.unwrap();
    let second = crm.push_activity(&activity).await.unwrap();
    assert_eq!(first, second);
    let state = fake.state();
    let last = state.seen.last().unwrap();
    assert_eq!((last.method.as_str(), last.query_param("fields")), ("GET", Some("Id")));
}
