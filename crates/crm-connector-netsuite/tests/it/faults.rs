//! What NetSuite's rate limit leaves out; the common faults (rate limits that clear, 503,
//! timeouts, expired tokens, malformed answers) are the connector conformance suite's
//! (`conformance.rs`).

use crm_core::ConnectorError;
use crm_core::customer::PhoneNumber;
use crm_core::ports::ExternalCrm;
use crm_testkit::fake_api::CommonFault;

use crate::helpers::m2m;

#[tokio::test]
async fn a_persistent_concurrency_limit_is_rate_limited_without_an_invented_hint() {
    let (fake, crm) = m2m().await;
    for _ in 0..3 {
        fake.inject(CommonFault::Throttled);
    }
    let error = crm.find_by_phone(&PhoneNumber::from_e164("+14155552671").expect("phone")).await.unwrap_err();
    // NetSuite documents no Retry-After: the caller's queue picks the delay.
    assert!(matches!(error, ConnectorError::RateLimited { retry_after: None, .. }), "{error:?}");
}
