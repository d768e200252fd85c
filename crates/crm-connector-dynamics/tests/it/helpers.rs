//! Building a connector against the fake, and sample inputs.

use crm_connector_dynamics::{DynamicsConfig, DynamicsConnector};
use crm_core::external::{ActivityPush, ExternalObject, ExternalRef, ExternalSystem};
use crm_testkit::connector_conformance::{TIMEOUT_MS, http_settings, sample_call};
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
        "http": http_settings(TIMEOUT_MS),
    })
}

pub(crate) fn connector(config: Value) -> DynamicsConnector {
    let config: DynamicsConfig = serde_json::from_value(config).expect("config");
    DynamicsConnector::new(config, std::sync::Arc::new(crm_core::time::SystemClock)).expect("connector")
}

/// Seeds `fake` with one account and one contact.
pub(crate) fn seed(fake: &Fake) {
    fake.state().seed("accounts", json!({"accountid": ACCOUNT_ID, "name": "Acme", "telephone1": "+14155552671", "emailaddress1": "info@acme.example"}));
    fake.state().seed(
        "contacts",
        json!({"contactid": CONTACT_ID, "fullname": "Yvonne McKay", "firstname": "Yvonne", "lastname": "McKay",
               "telephone1": "+14155552671", "mobilephone": "+14155552672", "emailaddress1": "yvonne@acme.example",
               "_parentcustomerid_value": ACCOUNT_ID,
               "_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname": "account"}),
    );
}

/// A fake environment with one account and one contact, and a connector pointed at it.
pub(crate) async fn env() -> (Fake, DynamicsConnector) {
    let fake = Fake::start().await;
    seed(&fake);
    let crm = connector(config(&fake.uri()));
    (fake, crm)
}

pub(crate) fn dv_ref(object: ExternalObject, id: &str) -> ExternalRef {
    ExternalRef { system: ExternalSystem::Dynamics, object, id: id.to_owned() }
}

pub(crate) fn call_activity(key: &str, target: ExternalRef) -> ActivityPush {
    ActivityPush { contact_name: Some(String::from("Yvonne McKay")), ..sample_call(key, target) }
}
