//! Building a connector against the fake, and sample inputs.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use crm_connector_salesforce::{SalesforceConfig, SalesforceConnector};
use crm_core::external::{ActivityPush, ExternalObject, ExternalRef, ExternalSystem};
use crm_core::interaction::{Channel, Direction};
use crm_core::time::SystemClock;
use serde_json::{Value, json};

use crate::fake::{CONSUMER_KEY, Fake, PRIVATE_KEY, USERNAME};

/// Fast HTTP settings: short timeouts and millisecond backoff.
pub(crate) fn fast_http() -> Value {
    json!({"timeout_ms": 1000, "max_retries": 2, "base_delay_ms": 5, "max_delay_ms": 20, "max_retry_after_ms": 200})
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
    ActivityPush {
        external_key: key.to_owned(),
        interaction: "01935f6e-7b4c-7d2a-9c1e-4a5b6c7d8e9f".parse().expect("id"),
        target,
        subject: String::from("Call: Jane Doe"),
        channel: Channel::Voice,
        direction: Direction::Inbound,
        contact_name: Some(String::from("Jane Doe")),
        started_at: Utc.with_ymd_and_hms(2026, 11, 23, 9, 30, 0).single().expect("date"),
        duration_seconds: Some(245),
        disposition: Some(String::from("Resolved")),
        notes: String::from("notes..."),
    }
}
