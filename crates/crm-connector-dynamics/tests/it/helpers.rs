//! Building a connector against the fake, and sample inputs.

use chrono::{TimeZone, Utc};
use crm_connector_dynamics::{DynamicsConfig, DynamicsConnector};
use crm_core::external::{ActivityPush, ExternalObject, ExternalRef, ExternalSystem};
use crm_core::interaction::{Channel, Direction};
use serde_json::{Value, json};

use crate::fake::{CLIENT_ID, CLIENT_SECRET, Fake, TENANT};

pub(crate) const ACCOUNT_ID: &str = "00000000-0000-0000-0000-000000000001";
pub(crate) const CONTACT_ID: &str = "49b0be2e-0000-0000-0000-000000000002";

pub(crate) fn config(uri: &str) -> Value {
    json!({
        "environment_url": uri,
        "authority_url": uri,
        "tenant_id": TENANT,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "http": {"timeout_ms": 1000, "max_retries": 2, "base_delay_ms": 5, "max_delay_ms": 20, "max_retry_after_ms": 200},
    })
}

pub(crate) fn connector(config: Value) -> DynamicsConnector {
    let config: DynamicsConfig = serde_json::from_value(config).expect("config");
    DynamicsConnector::new(config).expect("connector")
}

/// A fake environment with one account and one contact, and a connector pointed at it.
pub(crate) async fn env() -> (Fake, DynamicsConnector) {
    let fake = Fake::start().await;
    fake.state().seed("accounts", json!({"accountid": ACCOUNT_ID, "name": "Acme", "telephone1": "+14155552671", "emailaddress1": "info@acme.example"}));
    fake.state().seed(
        "contacts",
        json!({"contactid": CONTACT_ID, "fullname": "Yvonne McKay", "firstname": "Yvonne", "lastname": "McKay",
               "telephone1": "+14155552671", "mobilephone": "+14155552672", "emailaddress1": "yvonne@acme.example",
               "_parentcustomerid_value": ACCOUNT_ID,
               "_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname": "account"}),
    );
    let crm = connector(config(&fake.uri()));
    (fake, crm)
}

pub(crate) fn dv_ref(object: ExternalObject, id: &str) -> ExternalRef {
    ExternalRef { system: ExternalSystem::Dynamics, object, id: id.to_owned() }
}

pub(crate) fn call_activity(key: &str, target: ExternalRef) -> ActivityPush {
    ActivityPush {
        external_key: key.to_owned(),
        interaction: "01935f6e-7b4c-7d2a-9c1e-4a5b6c7d8e9f".parse().expect("id"),
        target,
        subject: String::from("Inbound call – Resolved"),
        channel: Channel::Voice,
        direction: Direction::Inbound,
        contact_name: Some(String::from("Yvonne McKay")),
        started_at: Utc.with_ymd_and_hms(2026, 11, 23, 9, 30, 0).single().expect("date"),
        duration_seconds: Some(245),
        disposition: Some(String::from("Resolved")),
        notes: String::from("notes..."),
    }
}
