//! The tenant's case lists (categories, types, resolution codes) and the checks a case
//! command makes against them and against its parent case (issue 27: CAS-1, CAS-2).

use super::Crm;
use crate::access::{Actor, Permission};
use crate::case::{
    Case, CaseListEntry, CaseListEntryInput, CaseListKind, CaseLists, MAX_CASE_DEPTH, check_parent_case,
    check_parent_chain, children_block_closing,
};
use crate::error::{Conflict, Error, Result, ValidationErrors, Validator};
use crate::ids::CaseId;

impl Crm {
    /// Adds or replaces an entry of one of the tenant's case lists; `active: false` retires
    /// it (kept on the cases that carry it, no longer settable).
    ///
    /// # Errors
    /// Forbidden without `admin.dispositions`; bad input, naming the field.
    pub async fn put_case_list_entry(
        &self,
        actor: &Actor,
        kind: CaseListKind,
        input: CaseListEntryInput,
    ) -> Result<CaseListEntry> {
        actor.require(Permission::AdminDispositions)?;
        let entry = input.build(actor.tenant, kind)?;
        self.store.put_case_list_entry(&entry).await?;
        Ok(entry)
    }

    /// The entries of one of the tenant's case lists, retired ones included, by key.
    ///
    /// # Errors
    /// Forbidden without `case.read`.
    pub async fn case_list_entries(&self, actor: &Actor, kind: CaseListKind) -> Result<Vec<CaseListEntry>> {
        actor.require(Permission::CaseRead)?;
        Ok(self.store.case_list_entries(actor.tenant, Some(kind)).await?)
    }

    /// Deletes an entry no case carries (live or softly deleted); one in use is refused
    /// with the count, to be retired instead.
    ///
    /// # Errors
    /// Forbidden without `admin.dispositions`; `NotFound`; a conflict naming the use.
    pub async fn delete_case_list_entry(&self, actor: &Actor, kind: CaseListKind, key: &str) -> Result<()> {
        actor.require(Permission::AdminDispositions)?;
        Ok(self.store.delete_case_list_entry(actor.tenant, kind, key).await?)
    }

    /// Checks the list keys a command names against the tenant's lists (one read, only
    /// when it names any).
    pub(super) async fn check_list_keys(&self, actor: &Actor, keys: &[(CaseListKind, &str)]) -> Result<()> {
        if keys.is_empty() {
            return Ok(());
        }
        let lists = CaseLists::new(self.store.case_list_entries(actor.tenant, None).await?);
        let mut v = Validator::new();
        for (kind, key) in keys {
            v.check(lists.check(*kind, key));
        }
        Ok(v.finish()?)
    }

    /// Checks that `case` (its id, and for an existing case its subtree) may hang under
    /// `parent`: a live case of the tenant the actor sees, not closed, no cycle, the depth
    /// limit.
    pub(super) async fn check_parent(&self, actor: &Actor, case: CaseId, existing: bool, parent: CaseId) -> Result<()> {
        let refuse = |e: crate::error::FieldError| Error::Validation(ValidationErrors::from(e));
        let parent_case = match self.store.get_case(actor.tenant, parent).await? {
            Some(c) if c.visible_to(actor) => c,
            _ => return Err(Error::invalid("parent", format!("case {parent} does not exist"))),
        };
        check_parent_case(&parent_case).map_err(refuse)?;
        let mut ancestors = Vec::new();
        let mut next = parent_case.parent();
        while let Some(id) = next {
            if ancestors.len() > MAX_CASE_DEPTH || id == case {
                ancestors.push(id);
                break;
            }
            ancestors.push(id);
            next = self.any_case(actor, id).await?.and_then(|c| c.parent());
        }
        let depth = if existing { self.subtree_depth(actor, case).await? } else { 1 };
        check_parent_chain(case, parent, &ancestors, depth).map_err(refuse)
    }

    /// A case live or softly deleted (a deleted case keeps its place in the tree: it may be
    /// restored).
    async fn any_case(&self, actor: &Actor, id: CaseId) -> Result<Option<Case>> {
        Ok(match self.store.get_case(actor.tenant, id).await? {
            Some(c) => Some(c),
            None => self.store.get_deleted_case(actor.tenant, id).await?,
        })
    }

    /// The number of levels of `case` and its descendants, counted up to one past the
    /// limit (deeper is refused anyway).
    async fn subtree_depth(&self, actor: &Actor, case: CaseId) -> Result<usize> {
        let mut level = vec![case];
        let mut depth = 0;
        while !level.is_empty() && depth <= MAX_CASE_DEPTH {
            depth += 1;
            let mut below = Vec::new();
            for id in level {
                below.extend(self.store.case_children(actor.tenant, id).await?.into_iter().map(|c| c.id));
            }
            level = below;
        }
        Ok(depth)
    }

    /// Refuses to close `case` while a child of it is still open or resolved.
    pub(super) async fn check_children_closed(&self, actor: &Actor, case: CaseId) -> Result<()> {
        let children = self.store.case_children(actor.tenant, case).await?;
        match children_block_closing(&children) {
            Some(reason) => Err(Error::Conflict(Conflict::State(reason))),
            None => Ok(()),
        }
    }
}
