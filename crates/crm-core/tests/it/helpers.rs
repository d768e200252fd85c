//! A world to run use cases in, and small strategies.

use std::sync::Arc;

use crm_core::access::Actor;
use crm_core::customer::IdentityInput;
use crm_core::service::Crm;
use crm_core::time::Clock;
use crm_testkit::fixtures::SeededTenant;
use crm_testkit::{ManualClock, MemoryStore, SequentialIds};
use proptest::prelude::*;

/// A fresh in-memory world with one seeded tenant.
pub(crate) struct Env {
    pub(crate) crm: Crm,
    pub(crate) store: Arc<MemoryStore>,
    pub(crate) tenant: SeededTenant,
    pub(crate) clock: Arc<ManualClock>,
}

impl Env {
    pub(crate) async fn new() -> Self {
        let store = Arc::new(MemoryStore::new());
        let clock = Arc::new(ManualClock::new(crm_testkit::fakes::default_start()));
        let ids = Arc::new(SequentialIds::new());
        let tenant = SeededTenant::create(&*store, &*ids, clock.now()).await.expect("seed tenant");
        let crm = Crm::new(store.clone(), clock.clone(), ids);
        Self { crm, store, tenant, clock }
    }

    pub(crate) fn supervisor(&self) -> Actor {
        self.tenant.supervisor_actor()
    }
}

/// A runtime for one proptest case.
pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime")
}

/// A valid French number: (national significant number, E.164).
pub(crate) fn arb_fr_phone() -> impl Strategy<Value = String> {
    ("[1-5]", "[0-9]{8}").prop_map(|(a, b)| format!("{a}{b}"))
}

/// The ways people write a French number.
pub(crate) fn written_forms(nsn: &str) -> Vec<String> {
    let d: Vec<char> = nsn.chars().collect();
    let pairs: Vec<String> = d[1..].chunks(2).map(|c| c.iter().collect()).collect();
    vec![format!("0{nsn}"), format!("+33 {} {}", d[0], pairs.join(" ")), format!("0{}.{}", d[0], pairs.join("."))]
}

/// Identity inputs: phones (as written forms) and emails.
pub(crate) fn arb_identities() -> impl Strategy<Value = Vec<IdentityInput>> {
    let phone = (arb_fr_phone(), 0usize..3)
        .prop_map(|(nsn, form)| IdentityInput::Phone { number: written_forms(&nsn)[form].clone(), label: None });
    let email = ("[a-z]{1,8}", "[A-Za-z]{0,3}").prop_map(|(local, suffix)| IdentityInput::Email {
        address: format!("{local}{suffix}@example.com"),
        label: None,
    });
    proptest::collection::vec(prop_oneof![phone, email], 0..5)
}
