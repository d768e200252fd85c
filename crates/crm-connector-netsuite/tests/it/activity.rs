//! The wrap-up push: phoneCall upserted by external id.

use crm_core::ConnectorError;
use crm_core::external::ExternalObject;
use crm_core::ports::ExternalCrm;

use crate::helpers::{call_activity, m2m, ns_ref};

#[tokio::test]
async fn a_call_is_put_on_its_external_id() {
    let (fake, crm) = m2m().await;
    let pushed = crm.push_activity(&call_activity("INT-8812", ns_ref(ExternalObject::Contact, "1203"))).await.unwrap();
    assert_eq!(pushed.id, "eid:INT-8812");
    let seen = fake.state().seen[0].clone();
    assert_eq!((seen.method.as_str(), seen.path.as_str()), ("PUT", "/services/rest/record/v1/phoneCall/eid:INT-8812"));
    insta::assert_json_snapshot!("phone_call_body", seen.body);
}

#[tokio::test]
async fn pushing_the_same_activity_twice_leaves_one_phone_call() {
    let (fake, crm) = m2m().await;
    let activity = call_activity("0193-abc-2", ns_ref(ExternalObject::Account, "647"));
    let first = crm.push_activity(&activity).await.unwrap();
    let second = crm.push_activity(&activity).await.unwrap();
    assert_eq!(first, second);
    let state = fake.state();
    assert_eq!(state.phone_calls.len(), 1);
    assert!(state.phone_calls.contains_key("0193-abc-2"));
}

#[tokio::test]
async fn a_gone_target_is_not_found() {
    let (_fake, crm) = m2m().await;
    let error = crm.push_activity(&call_activity("INT-1", ns_ref(ExternalObject::Contact, "4040"))).await.unwrap_err();
    assert!(matches!(error, ConnectorError::NotFound { .. }), "{error:?}");
}

#[tokio::test]
async fn characters_outside_the_external_id_alphabet_are_replaced() {
    let (fake, crm) = m2m().await;
    crm.push_activity(&call_activity("INT 1/2", ns_ref(ExternalObject::Account, "647"))).await.unwrap();
    assert!(fake.state().phone_calls.contains_key("INT_1_2"));
}
