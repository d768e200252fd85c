//! Building a connector against the fake, and sample inputs.

use std::sync::Arc;

use crm_connector_salesforce::{SalesforceConfig, SalesforceConnector};
use crm_core::external::{ActivityPush, ExternalObject, ExternalRef, ExternalSystem};
use crm_core::time::SystemClock;
use crm_testkit::connector_conformance::{TIMEOUT_MS, http_settings, sample_call};
use serde_json::{Value, json};

use crate::fake::{CONSUMER_KEY, Fake, PRIVATE_KEY, USERNAME};

/// Fast HTTP settings: short timeouts and millisecond backoff (the conformance suite's).
pub(crate) fn fast_http() -> Value {
    http_settings(TIMEOUT_MS)
}

pub(crate) fn jwt_config(login_url: &str) -> Value {
    json!({
        "login_url": login_url,
        "auth": {"flow": "jwt_bearer", "consumer_key": CONSUMER_KEY, "username": USERNAME, "private_key_pem": PRIVATE_KEY},
        "http": fast_http(),
    })
}

pub(crate) fn connector(config: Value) -> SalesforceConnector {
    let config: SalesforceConfig = serde_json::from_value(config).expect("config");
    SalesforceConnector::new(config, Arc::new(SystemClock)).expect("connector")
}

/// A fake org and a JWT-bearer connector pointed at it.
pub(crate) async fn org() -> (Fake, SalesforceConnector) {
    let fake = Fake::start().await;
    let crm = connector(jwt_config(&fake.uri()));
    (fake, crm)
}

pub(crate) fn sf_ref(object: ExternalObject, id: &str) -> ExternalRef {
    ExternalRef { system: ExternalSystem::Salesforce, object, id: id.to_owned() }
}

pub(crate) fn call_activity(key: &str, target: ExternalRef) -> ActivityPush {
    ActivityPush { subject: String::from("Call: Jane Doe"), ..sample_call(key, target) }
}
