//! Faults only Salesforce has; the common ones (rate limits that clear, 503, timeouts,
//! expired tokens, malformed answers) are the connector conformance suite's
//! (`conformance.rs`).

use crm_core::ConnectorError;
use crm_core::customer::PhoneNumber;
use crm_core::external::ExternalObject;
use crm_core::ports::ExternalCrm;

use crate::fake::Fault;
use crate::helpers::{call_activity, org, sf_ref};

#[tokio::test]
async fn the_daily_request_limit_is_rate_limited_without_hot_retry() {
    let (fake, crm) = org().await;
    fake.inject(Fault::RequestLimit);
    let error = crm.find_by_phone(&PhoneNumber::from_e164("+14155551212").expect("phone")).await.unwrap_err();
    assert!(matches!(error, ConnectorError::RateLimited { .. }), "{error:?}");
    assert_eq!(fake.state().seen.len(), 1);
}

#[tokio::test]
async fn salesforce_faults_can_be_posted_to_the_admin_route() {
    let (fake, crm) = org().await;
    let answer = reqwest::Client::new()
        .post(format!("{}/__fake__/fault", fake.uri()))
        .body(r#""entity_deleted""#)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 204);
    let error = crm
        .push_activity(&call_activity("INT-10", sf_ref(ExternalObject::Case, "500D000000000001")))
        .await
        .unwrap_err();
    assert!(matches!(error, ConnectorError::NotFound { .. }), "{error:?}");
}
