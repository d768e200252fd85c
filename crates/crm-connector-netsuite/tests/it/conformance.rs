//! The connector conformance suite of `crm_testkit::connector_conformance`, run against the
//! fake account with an M2M (PS256) connector: the suite needs bearer tokens, which TBA
//! does not use.

use async_trait::async_trait;
use crm_connector_netsuite::NetSuiteConnector;
use crm_core::customer::PhoneNumber;
use crm_core::external::{ActivityPush, ExternalCreate, ExternalObject};
use crm_testkit::connector_conformance::{ConnectorHarness, Observe, Observed, sample_person};
use serde_json::Value;

use crate::fake::{Fake, State};
use crate::helpers::{call_activity, connector, m2m_config, ns_ref, seed};

/// The fake account, seeded with one customer and one contact, and an M2M connector.
pub(crate) struct Account;

#[async_trait]
impl ConnectorHarness for Account {
    type Fake = State;
    type Connector = NetSuiteConnector;

    async fn connect(fake: &Fake, http: Value) -> NetSuiteConnector {
        seed(fake);
        let mut config = m2m_config(&fake.uri(), "ps256");
        config["http"] = http;
        connector(config)
    }

    fn tokens_minted(connector: &NetSuiteConnector) -> u64 {
        connector.tokens_minted()
    }

    fn phone() -> PhoneNumber {
        PhoneNumber::from_e164("+14155552671").expect("phone")
    }

    fn creation() -> ExternalCreate {
        ExternalCreate::Contact(sample_person(Some(ns_ref(ExternalObject::Account, "647"))))
    }

    fn seed_phone(fake: &mut State, n: usize, written: &str) {
        fake.seed(
            "contact",
            serde_json::json!({"id": format!("50{n:02}"), "entityid": format!("Form {n}"), "firstname": "Form", "lastname": n.to_string(), "phone": written}),
        );
    }

    /// One SuiteQL query per table: customers, contacts.
    fn search_requests() -> usize {
        1
    }

    fn activity(key: &str) -> ActivityPush {
        call_activity(key, ns_ref(ExternalObject::Account, "647"))
    }
}

impl Observe for State {
    fn observed(&self) -> Observed {
        Observed {
            api_requests: self.seen.len(),
            tokens_issued: self.tokens.minted,
            activities: self.phone_calls.len(),
            records_created: self.created_records,
        }
    }
}

crm_testkit::connector_conformance_tests!(Account);
