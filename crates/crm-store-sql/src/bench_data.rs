//! The synthetic tenant of the benchmarks: the store's own (`benches/store.rs`) and the
//! server's (`crm-server bench-seed`, driven by `cargo xtask bench server`) seed the same
//! customers and cases from here, so that their figures compare (issue #5 asks for the
//! ratio of the server's to the store's).
//!
//! Customer `i` (from 0) is named `{first} {last} {i}` from 16 first and 16 last names
//! (each last name is 1/16 of the customers), holds the mobile [`mobile`]`(i)`, the
//! landline [`landline`]`(i)` and the email [`email`]`(i)`, was last contacted up to a week
//! before the seed's time, and has one open case numbered [`case_number`]`(i)`.
//!
//! ```
//! use crm_core::access::{Actor, Role};
//! use crm_core::ids::{AgentId, TenantId};
//! use crm_store_sql::bench_data::{self, BenchData};
//!
//! let tenant = TenantId::from_uuid(uuid::Uuid::now_v7());
//! let actor = Actor::with_role(tenant, AgentId::from_uuid(uuid::Uuid::now_v7()), Role::Agent);
//! let data = BenchData { actor, at: chrono::DateTime::UNIX_EPOCH };
//! let (customers, cases) = data.batch(0..4).unwrap();
//! assert_eq!(customers.len(), 4);
//! assert_eq!(cases[2].customer(), customers[2].id);
//! assert_eq!(bench_data::mobile(2), "+33600000002");
//! ```

use std::ops::Range;

use chrono::{DateTime, Utc};

use crm_core::Error;
use crm_core::access::Actor;
use crm_core::case::{Case, CaseContext, CaseNumber, NewCase};
use crm_core::customer::{
    AccountNumber, Customer, CustomerRecord, CustomerStatus, EmailAddress, Identity, PhoneNumber,
};
use crm_core::time::{UuidV7Generator, next_id};

/// The first names of the seeded customers, in turn.
pub const FIRST_NAMES: [&str; 16] = [
    "Jeanne", "Louis", "Camille", "Hugo", "Chloé", "Lucas", "Emma", "Nathan", "Léa", "Jules", "Manon", "Arthur",
    "Inès", "Paul", "Sarah", "Tom",
];

/// The last names of the seeded customers, each for 16 customers in a row.
pub const LAST_NAMES: [&str; 16] = [
    "Dupont", "Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau", "Laurent",
    "Simon", "Michel", "Lefebvre", "Leroy", "Roux",
];

/// The name of customer `i`.
#[must_use]
pub fn name(i: usize) -> String {
    format!("{} {} {i}", FIRST_NAMES[i % 16], LAST_NAMES[(i / 16) % 16])
}

/// The mobile number of customer `i` (E.164), the key of the screen-pop scenarios.
#[must_use]
pub fn mobile(i: usize) -> String {
    format!("+336{i:08}")
}

/// The landline number of customer `i` (E.164).
#[must_use]
pub fn landline(i: usize) -> String {
    format!("+331{i:08}")
}

/// The email address of customer `i`.
#[must_use]
pub fn email(i: usize) -> String {
    format!("client{i}@example.com")
}

/// The number of customer `i`'s case: far above the tenant's sequence, so the cases a
/// benchmark creates afterwards never collide with the seeded ones.
#[must_use]
pub fn case_number(i: usize) -> CaseNumber {
    CaseNumber::new(1_000_000_000 + i as u64)
}

/// Who the seeded records belong to and when they are written.
#[derive(Clone, Debug)]
pub struct BenchData {
    /// The agent who creates them, in its tenant.
    pub actor: Actor,
    /// Their creation time.
    pub at: DateTime<Utc>,
}

impl BenchData {
    /// Customer `i`.
    ///
    /// # Errors
    /// `Validation` if a generated value does not parse (a bug of this module).
    pub fn customer(&self, i: usize) -> Result<Customer, Error> {
        let minutes = i64::try_from(i % 10_000).unwrap_or(0);
        Ok(Customer::restore(CustomerRecord {
            id: next_id(&UuidV7Generator),
            tenant: self.actor.tenant,
            account_number: AccountNumber::generated(i as u64 + 1),
            name: name(i),
            identities: vec![
                Identity::Phone { number: PhoneNumber::parse(&mobile(i), None)?, label: Some("mobile".into()) },
                Identity::Phone { number: PhoneNumber::parse(&landline(i), None)?, label: Some("home".into()) },
                Identity::Email { address: EmailAddress::parse(&email(i))?, label: None },
            ],
            addresses: Vec::new(),
            custom: Default::default(),
            status: CustomerStatus::Active,
            origin_channel: None,
            last_contact_at: Some(self.at - chrono::Duration::minutes(minutes)),
            unread_messages: 0,
            created_by: Some(self.actor.agent),
            created_at: self.at,
            updated_at: self.at,
            version: 1,
        }))
    }

    /// An open case of `customer` numbered `number` (the seeded case of customer `i` is
    /// numbered [`case_number`]`(i)`).
    ///
    /// # Errors
    /// `Validation` if the case does not validate (a bug of this module).
    pub fn case_for(&self, customer: &Customer, number: CaseNumber) -> Result<Case, Error> {
        let case = NewCase::open(customer.id, format!("Question of {}", customer.name())).build(
            next_id(&UuidV7Generator),
            number,
            &self.actor,
            None,
            CaseContext { definitions: &[], region: None, now: self.at },
        )?;
        let mut case = case;
        // an SLA mark on nine cases of ten, deadlines spread over ±35 days (ADR 0028)
        let n = i64::try_from(number.value()).unwrap_or(0);
        if n % 10 != 0 {
            let due = self.at + chrono::Duration::minutes((n * 7919) % 100_000 - 50_000);
            let warning = Some(due - chrono::Duration::minutes(60));
            case.set_sla(Some(crm_core::sla::SlaMark { due_at: Some(due), warning_at: warning, breach_at: Some(due) }));
        }
        Ok(case)
    }

    /// Customers `range` and their cases, built on two threads (parsing the phone numbers
    /// takes most of the time), in order.
    ///
    /// # Errors
    /// As [`BenchData::customer`] and [`BenchData::case_for`].
    pub fn batch(&self, range: Range<usize>) -> Result<(Vec<Customer>, Vec<Case>), Error> {
        let make = |part: Range<usize>| -> Result<(Vec<Customer>, Vec<Case>), Error> {
            let customers = part.clone().map(|i| self.customer(i)).collect::<Result<Vec<_>, _>>()?;
            let cases = customers
                .iter()
                .zip(part)
                .map(|(c, i)| self.case_for(c, case_number(i)))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((customers, cases))
        };
        let mid = range.start + range.len() / 2;
        let (first, second) = std::thread::scope(|s| {
            let first = s.spawn(|| make(range.start..mid));
            let second = make(mid..range.end);
            (first.join(), second)
        });
        let (mut customers, mut cases) = first.unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
        let (more_customers, more_cases) = second?;
        customers.extend(more_customers);
        cases.extend(more_cases);
        Ok((customers, cases))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crm_core::access::Role;
    use crm_core::customer::IdentityKey;
    use crm_core::ids::{AgentId, TenantId};

    fn data() -> BenchData {
        let tenant = TenantId::from_uuid(uuid::Uuid::now_v7());
        let actor = Actor::with_role(tenant, AgentId::from_uuid(uuid::Uuid::now_v7()), Role::Agent);
        BenchData { actor, at: DateTime::UNIX_EPOCH }
    }

    #[test]
    fn a_batch_is_its_customers_in_order_each_with_its_own_case() {
        let (customers, cases) = data().batch(10..15).unwrap();
        let names: Vec<_> = customers.iter().map(|c| c.name().to_owned()).collect();
        assert_eq!(names, (10..15).map(name).collect::<Vec<_>>());
        for ((customer, case), i) in customers.iter().zip(&cases).zip(10..) {
            assert_eq!(case.customer(), customer.id);
            assert_eq!(case.number, case_number(i));
            let keys: Vec<_> = customer.identity_keys().into_iter().map(|k| k.as_str().to_owned()).collect();
            assert!(
                keys.contains(&IdentityKey::phone(&PhoneNumber::parse(&mobile(i), None).unwrap()).as_str().to_owned())
            );
        }
    }

    #[test]
    fn each_last_name_holds_one_customer_in_sixteen() {
        let dubois = (0..4096).filter(|&i| name(i).contains(" Dubois ")).count();
        assert_eq!(dubois, 256);
    }
}
