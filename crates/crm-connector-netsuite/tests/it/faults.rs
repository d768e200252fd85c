//! Faults: concurrency limit, 503, timeouts.

use crm_core::ConnectorError;
use crm_core::customer::PhoneNumber;
use crm_core::external::ExternalObject;
use crm_core::ports::ExternalCrm;

use crate::fake::Fault;
use crate::helpers::{account, call_activity, connector, m2m, m2m_config, ns_ref};

fn phone() -> PhoneNumber {
    PhoneNumber::from_e164("+14155552671").expect("phone")
}

#[tokio::test]
async fn the_concurrency_limit_is_retried_with_backoff() {
    let (fake, crm) = m2m().await;
    fake.inject(Fault::Concurrency);
    assert_eq!(crm.find_by_phone(&phone()).await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_persistent_concurrency_limit_is_rate_limited() {
    let (fake, crm) = m2m().await;
    for _ in 0..3 {
        fake.inject(Fault::Concurrency);
    }
    let error = crm.find_by_phone(&phone()).await.unwrap_err();
    assert!(matches!(error, ConnectorError::RateLimited { retry_after: None, .. }), "{error:?}");
}

#[tokio::test]
async fn a_transient_503_is_retried_for_the_upsert() {
    let (fake, crm) = m2m().await;
    fake.inject(Fault::Unavailable);
    crm.push_activity(&call_activity("INT-2", ns_ref(ExternalObject::Account, "647"))).await.unwrap();
    assert_eq!(fake.state().phone_calls.len(), 1);
}

#[tokio::test]
async fn a_persistent_503_is_transport() {
    let (fake, crm) = m2m().await;
    for _ in 0..3 {
        fake.inject(Fault::Unavailable);
    }
    let error = crm.find_by_phone(&phone()).await.unwrap_err();
    assert!(matches!(error, ConnectorError::Transport { .. }), "{error:?}");
}

#[tokio::test]
async fn a_slow_answer_times_out_as_transport() {
    let fake = account().await;
    let mut config = m2m_config(&fake.uri(), "ps256");
    config["http"]["timeout_ms"] = serde_json::json!(150);
    let crm = connector(config);
    crm.find_by_phone(&phone()).await.unwrap();
    for _ in 0..3 {
        fake.inject(Fault::SlowMs(600));
    }
    let error = crm.find_by_phone(&phone()).await.unwrap_err();
    assert!(matches!(error, ConnectorError::Transport { .. }), "{error:?}");
}

#[tokio::test]
async fn faults_can_be_injected_through_the_admin_route() {
    let (fake, crm) = m2m().await;
    for _ in 0..3 {
        let answer = reqwest::Client::new()
            .post(format!("{}/__fake__/fault", fake.uri()))
            .body(r#""unavailable""#)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 204);
    }
    let error = crm.find_by_phone(&phone()).await.unwrap_err();
    assert!(matches!(error, ConnectorError::Transport { .. }), "{error:?}");
}
