//! Cases (CAS): numbers, lifecycle, edits, history and list filters.

mod filter;
pub mod history;
mod lifecycle;
mod model;
mod number;
#[cfg(test)]
mod proptests;

pub use filter::{CaseFilter, CaseSort, CaseSortField, SortDirection, due_key};
pub use history::{CaseHistoryEntry, FieldMap};
pub use lifecycle::{CaseStatus, Priority, Severity, Visibility};
pub use model::{
    Case, CaseContext, CasePatch, CasePatchError, CaseRecord, CaseSummary, Description, DescriptionFormat,
    DescriptionInput, MAX_DESCRIPTION, MAX_SUBJECT, NewCase, ValidNewCase, double_option,
};
pub use number::CaseNumber;
