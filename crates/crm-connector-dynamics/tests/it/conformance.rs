//! The connector conformance suite of `crm_testkit::connector_conformance`, run against the
//! fake Dataverse environment.

use async_trait::async_trait;
use crm_connector_dynamics::DynamicsConnector;
use crm_core::customer::PhoneNumber;
use crm_core::external::{ActivityPush, ExternalCreate, ExternalObject};
use crm_testkit::connector_conformance::{ConnectorHarness, Observe, Observed, sample_person};
use serde_json::Value;

use crate::fake::{Fake, State};
use crate::helpers::{CONTACT_ID, call_activity, config, connector, dv_ref, seed};

/// The fake environment, seeded with one account and one contact, and a connector.
pub(crate) struct Environment;

#[async_trait]
impl ConnectorHarness for Environment {
    type Fake = State;
    type Connector = DynamicsConnector;

    async fn connect(fake: &Fake, http: Value) -> DynamicsConnector {
        seed(fake);
        let mut config = config(&fake.uri());
        config["http"] = http;
        connector(config)
    }

    fn tokens_minted(connector: &DynamicsConnector) -> u64 {
        connector.tokens_minted()
    }

    fn phone() -> PhoneNumber {
        PhoneNumber::from_e164("+14155552671").expect("phone")
    }

    fn creation() -> ExternalCreate {
        ExternalCreate::Contact(sample_person(None))
    }

    fn seed_phone(fake: &mut State, n: usize, written: &str) {
        let id = format!("eeeeeeee-0000-0000-0000-0000000001{n:02}");
        fake.seed(
            "contacts",
            serde_json::json!({"contactid": id, "fullname": format!("Form {n}"), "telephone1": written}),
        );
    }

    /// One query per table: contacts, leads, accounts.
    fn search_requests() -> usize {
        1
    }

    fn activity(key: &str) -> ActivityPush {
        call_activity(key, dv_ref(ExternalObject::Contact, CONTACT_ID))
    }
}

impl Observe for State {
    fn observed(&self) -> Observed {
        Observed {
            api_requests: self.seen.len(),
            tokens_issued: self.tokens.minted,
            activities: self.phonecalls.len(),
            records_created: self.created_records,
        }
    }
}

crm_testkit::connector_conformance_tests!(Environment);
