//! Cases (CAS): numbers, lifecycle, edits, history, list filters, tags, the tenant's
//! category/type/resolution lists and parent/child cases.

mod filter;
mod hierarchy;
pub mod history;
mod lifecycle;
mod lists;
mod model;
mod number;
#[cfg(test)]
mod proptests;
mod tags;

pub use filter::{CaseFilter, CaseSort, CaseSortField, SortDirection, due_key};
pub use hierarchy::{MAX_CASE_DEPTH, check_parent_case, check_parent_chain, children_block_closing};
pub use history::{CaseHistoryEntry, FieldMap};
pub use lifecycle::{CaseStatus, Priority, Severity, Visibility};
pub use lists::{CaseListEntry, CaseListEntryInput, CaseListKind, CaseLists, list_entry_in_use};
pub use model::{
    Case, CaseContext, CasePatch, CasePatchError, CaseRecord, CaseSummary, Description, DescriptionFormat,
    DescriptionInput, MAX_DESCRIPTION, MAX_SUBJECT, NewCase, ValidNewCase, double_option,
};
pub use number::CaseNumber;
pub use tags::{MAX_TAG_LENGTH, MAX_TAGS, normalise_tag, normalise_tags};
