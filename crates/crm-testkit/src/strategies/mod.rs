//! proptest strategies for every aggregate and command of `crm-core`: phone numbers in the
//! forms people write them (with the expected E.164), emails in any case (with the expected
//! key), identities, customers, cases, status changes, tasks, interactions and sequences of
//! interaction steps (actions, notes, dispositions, link and unlink of external records).
//!
//! Commands (`NewCustomer`, `NewCase` …) are generated valid for a tenant in region FR and
//! time zone Europe/Paris; whole values (`Customer`, `Case` …) are built through crm-core's
//! own constructors and methods, so they hold every invariant (handy for serde round-trips).
//!
//! ```
//! use proptest::prelude::*;
//! use crm_core::customer::PhoneNumber;
//! use crm_testkit::strategies::phone_number;
//!
//! proptest!(|(p in phone_number())| {
//!     let parsed = PhoneNumber::parse(&p.written, Some(p.region)).unwrap();
//!     prop_assert_eq!(parsed.as_e164(), p.e164.as_str());
//! });
//! ```

mod case;
mod contact;
mod interaction;
mod task;

use std::fmt::Debug;

use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;
use uuid::Uuid;

pub use case::{case, case_patch, case_status_changes, case_status_walk, new_case};
pub use contact::{
    WrittenEmail, WrittenPhone, customer, customer_patch, email_address, identity, identity_input, identity_inputs,
    new_customer, person_name, phone_number, phone_number_in, postal_address,
};
pub use interaction::{InteractionStep, StepError, interaction, interaction_steps, new_interaction};
pub use task::{new_task, task};

/// Any typed id (`CustomerId`, `CaseId` …) from a random UUID.
pub fn id<I: From<Uuid> + Debug>() -> impl Strategy<Value = I> {
    any::<u128>().prop_map(|n| I::from(Uuid::from_u128(n)))
}

/// An instant within two years around [`crate::fakes::default_start`], to the second.
pub fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    (-63_072_000i64..63_072_000).prop_map(|s| crate::fakes::default_start() + Duration::seconds(s))
}

/// A short subject-like text of words, never blank.
pub fn words_text(max_words: usize) -> impl Strategy<Value = String> {
    const WORDS: &[&str] = &[
        "printer",
        "invoice",
        "refund",
        "broken",
        "delivery",
        "late",
        "password",
        "reset",
        "contract",
        "renewal",
        "écran",
        "facture",
        "livraison",
        "remboursement",
        "urgent",
        "question",
        "account",
        "billing",
        "line",
        "fibre",
    ];
    prop::collection::vec(prop::sample::select(WORDS), 1..=max_words.max(1)).prop_map(|w| w.join(" "))
}
