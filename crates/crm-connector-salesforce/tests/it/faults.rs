//! Faults: rate limits, 503, timeouts.

use crm_core::ConnectorError;
use crm_core::customer::PhoneNumber;
use crm_core::external::ExternalObject;
use crm_core::ports::ExternalCrm;

use crate::fake::Fault;
use crate::helpers::{call_activity, org, sf_ref};

fn phone() -> PhoneNumber {
    PhoneNumber::from_e164("+14155551212").expect("phone")
}

#[tokio::test]
async fn the_daily_request_limit_is_rate_limited_without_hot_retry() {
    let (fake, crm) = org().await;
    fake.inject(Fault::RequestLimit);
    let error = crm.find_by_phone(&phone()).await.unwrap_err();
    assert!(matches!(error, ConnectorError::RateLimited { .. }), "{error:?}");
    assert_eq!(fake.state().seen.len(), 1);
}

#[tokio::test]
async fn the_concurrent_long_transaction_limit_is_retried() {
    let (fake, crm) = org().await;
    fake.inject(Fault::ConcurrentLongTxn);
    crm.find_by_phone(&phone()).await.unwrap();
    assert_eq!(fake.state().seen.len(), 2);
}

#[tokio::test]
async fn a_transient_503_is_retried_for_searches_and_upserts() {
    let (fake, crm) = org().await;
    fake.inject(Fault::Unavailable);
    crm.find_by_phone(&phone()).await.unwrap();
    fake.inject(Fault::Unavailable);
    crm.push_activity(&call_activity("INT-9", sf_ref(ExternalObject::Contact, "003D000000000001"))).await.unwrap();
    assert_eq!(fake.state().tasks.len(), 1);
}

#[tokio::test]
async fn a_persistent_503_is_transport() {
    let (fake, crm) = org().await;
    for _ in 0..3 {
        fake.inject(Fault::Unavailable);
    }
    let error = crm.find_by_phone(&phone()).await.unwrap_err();
    assert!(matches!(error, ConnectorError::Transport { .. }), "{error:?}");
    assert!(error.is_retryable());
}

#[tokio::test]
async fn a_slow_answer_times_out_as_transport() {
    let fake = crate::fake::Fake::start().await;
    let mut config = crate::helpers::jwt_config(&fake.uri());
    config["http"]["timeout_ms"] = serde_json::json!(150);
    let crm = crate::helpers::connector(config);
    for _ in 0..3 {
        fake.inject(Fault::SlowMs(600));
    }
    let error = crm.find_by_phone(&phone()).await.unwrap_err();
    assert!(matches!(error, ConnectorError::Transport { .. }), "{error:?}");
}

#[tokio::test]
async fn faults_can_be_injected_through_the_admin_route() {
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
