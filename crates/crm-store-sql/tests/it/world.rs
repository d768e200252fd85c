//! A tenant in a store with helpers to build valid records through the crm-core
//! constructors.

use chrono::{DateTime, TimeZone, Utc};
use crm_core::case::{Case, CaseContext, CaseHistoryEntry, NewCase, history};
use crm_core::customer::{AccountNumber, Customer, CustomerContext, IdentityInput, NewCustomer};
use crm_core::event::{DomainEvent, EventKind};
use crm_core::ports::Store;
use crm_core::time::{UuidV7Generator, next_id};
use crm_testkit::fixtures::{SeededTenant, region_fr};
use uuid::Uuid;

/// One test's tenant.
pub(crate) struct World<'s> {
    pub(crate) store: &'s dyn Store,
    pub(crate) t: SeededTenant,
    pub(crate) now: DateTime<Utc>,
}

impl<'s> World<'s> {
    pub(crate) async fn new(store: &'s dyn Store) -> Self {
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).single().unwrap();
        let t = SeededTenant::create(store, &UuidV7Generator, now).await.expect("seed a tenant");
        Self { store, t, now }
    }

    pub(crate) fn id<I: From<Uuid>>(&self) -> I {
        next_id(&UuidV7Generator)
    }

    pub(crate) fn event(&self, kind: EventKind) -> DomainEvent {
        DomainEvent {
            id: self.id(),
            tenant: self.t.tenant.id,
            at: self.now,
            actor: Some(self.t.agent.id),
            kind,
            audit: Default::default(),
        }
    }

    pub(crate) async fn build_customer(&self, name: &str, identities: Vec<IdentityInput>) -> Customer {
        let seq = self.store.next_account_sequence(self.t.tenant.id).await.unwrap();
        let ctx = CustomerContext { region: Some(region_fr()), definitions: &[], now: self.now };
        NewCustomer { name: name.into(), identities, ..NewCustomer::default() }
            .build(self.id(), self.t.tenant.id, Some(self.t.agent.id), Some(AccountNumber::generated(seq)), ctx)
            .expect("a valid customer")
    }

    pub(crate) async fn customer(&self, name: &str, identities: Vec<IdentityInput>) -> Customer {
        let c = self.build_customer(name, identities).await;
        let events = [self.event(EventKind::CustomerCreated { customer: c.id })];
        self.store.insert_customer(&c, &events).await.expect("insert customer");
        c
    }

    pub(crate) async fn build_case(&self, customer: &Customer) -> Case {
        let number = self.store.next_case_number(self.t.tenant.id).await.unwrap();
        let input = NewCase {
            customer: customer.id,
            subject: format!("Case of {}", customer.name()),
            description: None,
            draft: false,
            visibility: None,
            severity: None,
            priority: None,
            assignee: None,
            group: None,
            origin_channel: None,
            custom: Default::default(),
            tags: Vec::new(),
            category: None,
            case_type: None,
            parent: None,
        };
        let ctx = CaseContext { definitions: &[], region: Some(region_fr()), now: self.now };
        input.build(self.id(), number, &self.t.agent_actor(), None, ctx).expect("a valid case")
    }

    pub(crate) fn creation_history(&self, case: &Case) -> Vec<CaseHistoryEntry> {
        history::diff(
            &Default::default(),
            &case.field_map(),
            case.tenant,
            case.id,
            case.version(),
            self.t.agent.id,
            self.now,
        )
    }

    pub(crate) async fn case(&self, customer: &Customer) -> Case {
        let case = self.build_case(customer).await;
        let events = [self.event(EventKind::CaseCreated {
            case: case.id,
            number: case.number,
            customer: case.customer(),
            assignee: case.assignee(),
        })];
        self.store.insert_case(&case, &self.creation_history(&case), &events).await.expect("insert case");
        case
    }
}

pub(crate) fn phone(number: &str) -> IdentityInput {
    IdentityInput::Phone { number: number.into(), label: None }
}

pub(crate) fn email(address: &str) -> IdentityInput {
    IdentityInput::Email { address: address.into(), label: None }
}
