//! Building connectors against the fake, and sample inputs.

use std::sync::Arc;

use crm_connector_netsuite::{NetSuiteConfig, NetSuiteConnector};
use crm_core::external::{ActivityPush, ExternalObject, ExternalRef, ExternalSystem};
use crm_core::time::SystemClock;
use crm_testkit::connector_conformance::{TIMEOUT_MS, http_settings, sample_call};
use serde_json::{Value, json};

use crate::fake::{
    ACCOUNT, CERTIFICATE_ID, CLIENT_ID, CONSUMER_KEY, CONSUMER_SECRET, EC_PRIVATE, EC384_PRIVATE, EC521_PRIVATE, Fake,
    RSA_PRIVATE, TOKEN_ID, TOKEN_SECRET,
};

fn http() -> Value {
    http_settings(TIMEOUT_MS)
}

pub(crate) fn m2m_config(uri: &str, algorithm: &str) -> Value {
    let key = match algorithm {
        "es256" => EC_PRIVATE,
        "es384" => EC384_PRIVATE,
        "es512" => EC521_PRIVATE,
        _ => RSA_PRIVATE,
    };
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
        "auth": {"flow": "token_based", "consumer_key": CONSUMER_KEY, "consumer_secret": CONSUMER_SECRET,
                 "token_id": TOKEN_ID, "token_secret": TOKEN_SECRET},
        "http": http(),
    })
}

pub(crate) fn connector(config: Value) -> NetSuiteConnector {
    let config: NetSuiteConfig = serde_json::from_value(config).expect("config");
    NetSuiteConnector::new(config, Arc::new(SystemClock)).expect("connector")
}

/// Seeds `fake` with one customer and one contact.
pub(crate) fn seed(fake: &Fake) {
    fake.state().seed("customer", json!({"id": "647", "entityid": "Acme", "companyname": "Acme", "email": "info@acme.example", "phone": "+14155552671"}));
    fake.state().seed("contact", json!({"id": "1203", "entityid": "Jane Doe", "firstname": "Jane", "lastname": "Doe", "email": "Jane@Acme.example", "mobilephone": "+14155552671", "company": "647"}));
}

/// A fake account with one customer and one contact.
pub(crate) async fn account() -> Fake {
    let fake = Fake::start().await;
    seed(&fake);
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
    sample_call(key, target)
}
