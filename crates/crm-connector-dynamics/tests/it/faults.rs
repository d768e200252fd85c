//! Faults only Dataverse has; the common ones (rate limits that clear, 503, timeouts,
//! expired tokens, malformed answers) are the connector conformance suite's
//! (`conformance.rs`).

use std::time::Duration;

use crm_core::ConnectorError;
use crm_core::customer::PhoneNumber;
use crm_core::ports::ExternalCrm;

use crate::fake::Fault;
use crate::helpers::env;

fn phone() -> PhoneNumber {
    PhoneNumber::from_e164("+14155552671").expect("phone")
}

#[tokio::test]
async fn a_retry_after_longer_than_the_ceiling_ends_the_call_with_the_hint() {
    let (fake, crm) = env().await;
    fake.inject(Fault::RetryAfter(120));
    let error = crm.find_by_phone(&phone()).await.unwrap_err();
    let ConnectorError::RateLimited { retry_after, .. } = error else { panic!("expected rate limited: {error:?}") };
    assert_eq!(retry_after, Some(Duration::from_secs(120)));
    assert_eq!(fake.state().seen.len(), 1, "no retry inside the call");
}

#[tokio::test]
async fn a_412_keeps_the_remote_code() {
    let (fake, crm) = env().await;
    fake.inject(Fault::PreconditionFailed);
    let error = crm.find_by_phone(&phone()).await.unwrap_err();
    assert!(matches!(&error, ConnectorError::Rejected { code, .. } if code == "0x80060882"), "{error:?}");
}

#[tokio::test]
async fn dataverse_faults_can_be_posted_to_the_admin_route() {
    let (fake, crm) = env().await;
    let answer = reqwest::Client::new()
        .post(format!("{}/__fake__/fault", fake.uri()))
        .body(r#"{"retry_after":300}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 204);
    let error = crm.find_by_phone(&phone()).await.unwrap_err();
    assert!(
        matches!(error, ConnectorError::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(300)),
        "{error:?}"
    );
}
