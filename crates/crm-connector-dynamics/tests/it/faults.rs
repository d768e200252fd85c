//! Faults: 429 with Retry-After, 412, 503, timeouts.

use std::time::Duration;

use crm_core::ConnectorError;
use crm_core::customer::PhoneNumber;
use crm_core::external::ExternalObject;
use crm_core::ports::ExternalCrm;

use crate::fake::Fault;
use crate::helpers::{CONTACT_ID, call_activity, config, connector, dv_ref, env};

fn phone() -> PhoneNumber {
    PhoneNumber::from_e164("+14155552671").expect("phone")
}

#[tokio::test]
async fn a_429_with_a_short_retry_after_is_waited_out() {
    let (fake, crm) = env().await;
    fake.inject(Fault::Throttled(0));
    assert_eq!(crm.find_by_phone(&phone()).await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_429_with_a_long_retry_after_is_rate_limited_with_the_hint() {
    let (fake, crm) = env().await;
    fake.inject(Fault::Throttled(120));
    let error = crm.find_by_phone(&phone()).await.unwrap_err();
    let ConnectorError::RateLimited { retry_after, .. } = error else { panic!("expected rate limited: {error:?}") };
    assert_eq!(retry_after, Some(Duration::from_secs(120)));
}

#[tokio::test]
async fn a_412_keeps_the_remote_code() {
    let (fake, crm) = env().await;
    fake.inject(Fault::PreconditionFailed);
    let error = crm.find_by_phone(&phone()).await.unwrap_err();
    assert!(matches!(&error, ConnectorError::Rejected { code, .. } if code == "0x80060882"), "{error:?}");
}

#[tokio::test]
async fn a_transient_503_is_retried_for_the_upsert() {
    let (fake, crm) = env().await;
    fake.inject(Fault::Unavailable);
    crm.push_activity(&call_activity("INT-9", dv_ref(ExternalObject::Contact, CONTACT_ID))).await.unwrap();
    assert_eq!(fake.state().phonecalls.len(), 1);
}

#[tokio::test]
async fn a_persistent_503_is_transport() {
    let (fake, crm) = env().await;
    for _ in 0..3 {
        fake.inject(Fault::Unavailable);
    }
    let error = crm.find_by_phone(&phone()).await.unwrap_err();
    assert!(matches!(error, ConnectorError::Transport { .. }), "{error:?}");
}

#[tokio::test]
async fn a_slow_answer_times_out_as_transport() {
    let (fake, _) = env().await;
    let mut cfg = config(&fake.uri());
    cfg["http"]["timeout_ms"] = serde_json::json!(150);
    let crm = connector(cfg);
    crm.find_by_phone(&phone()).await.unwrap();
    for _ in 0..3 {
        fake.inject(Fault::SlowMs(600));
    }
    let error = crm.find_by_phone(&phone()).await.unwrap_err();
    assert!(matches!(error, ConnectorError::Transport { .. }), "{error:?}");
}

#[tokio::test]
async fn faults_can_be_injected_through_the_admin_route() {
    let (fake, crm) = env().await;
    let answer = reqwest::Client::new()
        .post(format!("{}/__fake__/fault", fake.uri()))
        .body(r#"{"throttled":300}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 204);
    let error = crm.find_by_phone(&phone()).await.unwrap_err();
    assert!(matches!(error, ConnectorError::RateLimited { .. }), "{error:?}");
}
