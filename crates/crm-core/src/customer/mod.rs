//! Customers and customer cards (CUS): identities and their normalisation, addresses,
//! custom values, relations, the screen-pop card, duplicates and merge.

mod address;
mod card;
mod email;
mod identity;
mod merge;
mod model;
mod phone;
mod relation;

pub use address::PostalAddress;
pub use card::{
    CARD_LAST_INTERACTIONS, CARD_OPEN_CASES, CARD_PENDING_TASKS, CustomerCard, CustomerQuery, CustomerSearch,
    LookupKey, NameTerm,
};
pub use email::{EmailAddress, MAX_EMAIL_LEN};
pub use identity::{Identity, IdentityInput, IdentityKey};
pub use merge::{
    ConflictRule, DuplicateCandidate, DuplicateReason, MIN_DUPLICATE_SCORE, MergeConflict, MergePlan, MergeRecord,
    MovedRecords, UndoPlan, score_duplicate,
};
pub use model::{
    AccountNumber, Customer, CustomerContext, CustomerPatch, CustomerRecord, CustomerStatus, MAX_IDENTITIES, NameKeys,
    NewCustomer,
};
pub(crate) use model::{parse_addresses, parse_identities};
pub use phone::{MAX_DIGITS as MAX_PHONE_DIGITS, PhoneNumber, Region};
pub use relation::{Relation, RelationKind};
