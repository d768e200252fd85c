//! Parent and child cases (CAS-1, issue 27): a case may name a parent case of its tenant;
//! the parents form a forest, never a cycle, at most [`MAX_CASE_DEPTH`] levels deep. A
//! parent cannot be closed while one of its children is still open or resolved
//! ([`children_block_closing`]): closing is the statement that the whole piece of work is
//! done. Resolving a parent is allowed (its children may still be worked on), and so is
//! deleting one (its children keep the link; a softly deleted parent is restorable).

use crate::case::{Case, CaseStatus};
use crate::error::FieldError;
use crate::ids::CaseId;

/// The most levels of cases (a root is level 1).
pub const MAX_CASE_DEPTH: usize = 5;

/// Checks that `case` may become a child of `parent`.
///
/// `ancestors` are `parent`'s own ancestors, nearest first (as far as the use case walked
/// them: at most [`MAX_CASE_DEPTH`]); `subtree_depth` is the number of levels of `case`
/// and its descendants (1 for a case without children).
///
/// ```
/// use crm_core::case::{MAX_CASE_DEPTH, check_parent_chain};
/// # use crm_core::ids::CaseId;
/// # let id = |n| CaseId::from_uuid(uuid::Uuid::from_u128(n));
/// assert!(check_parent_chain(id(1), id(2), &[id(3)], 1).is_ok());
/// assert!(check_parent_chain(id(1), id(2), &[id(1)], 1).is_err(), "a cycle");
/// assert!(check_parent_chain(id(1), id(2), &[], MAX_CASE_DEPTH).is_err(), "too deep");
/// ```
///
/// # Errors
/// A `parent` field error: the case itself, a descendant of the case (a cycle), or a tree
/// deeper than [`MAX_CASE_DEPTH`].
pub fn check_parent_chain(
    case: CaseId,
    parent: CaseId,
    ancestors: &[CaseId],
    subtree_depth: usize,
) -> Result<(), FieldError> {
    if parent == case || ancestors.contains(&case) {
        return Err(FieldError::new("parent", "would make a cycle: the parent is the case or one of its children"));
    }
    let depth = ancestors.len() + 1 + subtree_depth;
    if depth > MAX_CASE_DEPTH {
        return Err(FieldError::new(
            "parent",
            format!("would nest cases {depth} levels deep; at most {MAX_CASE_DEPTH} are allowed"),
        ));
    }
    Ok(())
}

/// Checks that `parent` may be a parent at all: live (the use case only finds live cases)
/// and not closed (a closed case takes no new open work).
///
/// # Errors
/// A `parent` field error for a closed parent.
pub fn check_parent_case(parent: &Case) -> Result<(), FieldError> {
    if parent.status() == CaseStatus::Closed {
        return Err(FieldError::new("parent", format!("{} is closed; reopen it first", parent.number)));
    }
    Ok(())
}

/// Why a case cannot be closed while these are its children: how many are still open or
/// resolved (`None` when every child is a draft or closed). A count, not their numbers:
/// a child may be private to someone else.
///
/// ```
/// # use crm_core::case::children_block_closing;
/// assert_eq!(children_block_closing(&[]), None);
/// ```
pub fn children_block_closing(children: &[Case]) -> Option<String> {
    let open = children.iter().filter(|c| !matches!(c.status(), CaseStatus::Closed | CaseStatus::Draft)).count();
    let what = if open == 1 { "1 child case is".to_owned() } else { format!("{open} child cases are") };
    (open > 0).then(|| format!("{what} still open; close them before their parent"))
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    fn id(n: u128) -> CaseId {
        CaseId::from_uuid(Uuid::from_u128(n))
    }

    #[test]
    fn a_case_cannot_be_its_own_ancestor() {
        assert!(check_parent_chain(id(1), id(1), &[], 1).is_err());
        assert!(check_parent_chain(id(1), id(2), &[id(3), id(1)], 1).is_err());
        assert!(check_parent_chain(id(1), id(2), &[id(3), id(4)], 1).is_ok());
    }

    #[test]
    fn depth_counts_the_parents_chain_and_the_moved_subtree() {
        // parent at level 3 (two ancestors), case with one level of children: 3 + 2 = 5
        assert!(check_parent_chain(id(1), id(2), &[id(3), id(4)], 2).is_ok());
        let e = check_parent_chain(id(1), id(2), &[id(3), id(4)], 3).unwrap_err();
        assert_eq!(e.field, "parent");
        assert!(e.reason.contains("6 levels"), "{}", e.reason);
    }
}
