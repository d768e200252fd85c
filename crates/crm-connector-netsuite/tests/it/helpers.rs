//! Building connectors against the fake, and sample inputs.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use crm_connector_netsuite::{NetSuiteConfig, NetSuiteConnector};
use crm_core::external::{ActivityPush, ExternalObject, ExternalRef, ExternalSystem};
use crm_core::interaction::{Channel, Direction};
use crm_core::time::SystemClock;
use serde_json::{Value, json};

use crate::fake::{
    ACCOUNT, CERTIFICATE_ID, CLIENT_ID, CONSUMER_KEY, CONSUMER_SECRET, EC_PRIVATE, Fake, RSA_PRIVATE, TOKEN_ID,
    TOKEN_SECRET,
};

fn http() -> Value {
    json!({"timeout_ms": 1000, "max_retries": 2, "base_delay_ms": 5, "max_delay_ms": 20, "max_retry_after_ms": 200})
}

pub(crate) fn m2m_config(uri: &str, algorithm: &str) -> Value {
    let key = if algorithm == "es256" { EC_PRIVATE } else { RSA_PRIVATE };
    json!({
        "account_id": ACCOUNT,
        "base_url": uri,
        "auth": {"method": "client_credentials", "client_id": CLIENT_ID, "certificate_id": CERTIFICATE_ID,
                 "private_key_pem": key, "algorithm": algorithm},
        "http": http(),
    })
}

pub(crate) fn tba_config(uri: &str) -> Value {
    json!({
        "account_id": ACCOUNT,
        "base_url": uri,
        "auth": {"method": "token_based", "consumer_key": CONSUMER_KEY, "consumer_secret": CONSUMER_SECRET,
                 "token_id": TOKEN_ID, "token_secret": TOKEN_SECRET},
        "http": http(),
    })
}

pub(crate) fn connector(config: Value) -> NetSuiteConnector {
    let config: NetSuiteConfig = serde_json::from_value(config).expect("config");
    NetSuiteConnector::new(config, Arc::new(SystemClock)).expect("connector")
}

/// A fake account with one customer and one contact.
pub(crate) async fn account() -> Fake {
    let fake = Fake::start().await;
    fake.state().seed("customer", json!({"id": "647", "entityid": "Acme", "companyname": "Acme", "email": "info@acme.example", "phone": "+14155552671"}));
    fake.state().seed("contact", json!({"id": "1203", "entityid": "Jane Doe", "firstname": "Jane", "lastname": "Doe", "email": "Jane@Acme.example", "mobilephone": "+14155552671", "company": "647"}));
    fake
}

/// A fake account and an M2M (PS256) connector.
pub(crate) async fn m2m() -> (Fake, NetSuiteConnector) {
    let fake = account().await;
    let crm = connector(m2m_config(&fake.uri(), "ps256"));
    (fake, crm)
}

pub(crate) fn ns_ref(object: ExternalObject, id: &str) -> ExternalRef {
    ExternalRef { system: ExternalSystem::NetSuite, object, id: id.to_owned() }
}

pub(crate) fn call_activity(key: &str, target: ExternalRef) -> ActivityPush {
    ActivityPush {
        external_key: key.to_owned(),
        interaction: "01935f6e-7b4c-7d2a-9c1e-4a5b6c7d8e9f".parse().expect("id"),
        target,
        subject: String::from("Inbound call – Resolved"),
        channel: Channel::Voice,
        direction: Direction::Inbound,
        contact_name: Some(String::from("Jane Doe")),
        started_at: Utc.with_ymd_and_hms(2026, 11, 23, 9, 30, 0).single().expect("date"),
        duration_seconds: Some(245),
        disposition: Some(String::from("Resolved")),
        notes: String::from("notes..."),
    }
}
