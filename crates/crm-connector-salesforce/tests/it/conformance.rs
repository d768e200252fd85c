//! The connector conformance suite of `crm_testkit::connector_conformance`, run against the
//! fake org with a JWT-bearer connector.

use async_trait::async_trait;
use crm_connector_salesforce::SalesforceConnector;
use crm_core::customer::PhoneNumber;
use crm_core::external::{ActivityPush, ExternalCreate, ExternalObject};
use crm_testkit::connector_conformance::{ConnectorHarness, Observe, Observed, sample_person};
use serde_json::{Value, json};

use crate::fake::{Fake, State};
use crate::helpers::{call_activity, connector, jwt_config, sf_ref};

/// The fake org, seeded with one contact, and a JWT-bearer connector.
pub(crate) struct Org;

#[async_trait]
impl ConnectorHarness for Org {
    type Fake = State;
    type Connector = SalesforceConnector;

    async fn connect(fake: &Fake, http: Value) -> SalesforceConnector {
        fake.state().seed("Contact", "003D000000000001", json!({"Name": "Jane Doe", "Phone": "(415) 555-1212"}));
        let mut config = jwt_config(&fake.uri());
        config["http"] = http;
        connector(config)
    }

    fn tokens_minted(connector: &SalesforceConnector) -> u64 {
        connector.tokens_minted()
    }

    fn phone() -> PhoneNumber {
        PhoneNumber::from_e164("+14155551212").expect("phone")
    }

    fn creation() -> ExternalCreate {
        ExternalCreate::Contact(sample_person(None))
    }

    fn seed_phone(fake: &mut State, n: usize, written: &str) {
        let id = format!("003D0000000001{n:02}");
        fake.seed("Contact", &id, json!({"Name": format!("Form {n}"), "Phone": written}));
    }

    fn search_requests() -> usize {
        1
    }

    fn activity(key: &str) -> ActivityPush {
        call_activity(key, sf_ref(ExternalObject::Contact, "003D000000000001"))
    }
}

impl Observe for State {
    fn observed(&self) -> Observed {
        Observed {
            api_requests: self.seen.len(),
            tokens_issued: self.tokens.minted,
            activities: self.tasks.len(),
            records_created: self.created_records,
        }
    }
}

crm_testkit::connector_conformance_tests!(Org);
