//! Duplicate candidates, merge and undo (CUS-6).

use std::collections::BTreeMap;

use super::Crm;
use crate::access::{Actor, Permission};
use crate::customer::{ConflictRule, Customer, DuplicateCandidate, MergePlan, MergeRecord, score_duplicate};
use crate::error::{Error, Result};
use crate::event::EventKind;
use crate::ids::{CustomerId, MergeId};
use crate::time::next_id;

/// A merge not yet done: both cards as they are and what the merge would make of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MergePreview {
    /// The surviving card, as it is.
    pub target: Customer,
    /// The card that would be merged away, as it is.
    pub source: Customer,
    /// The plan (`plan.target` is the card afterwards; its id is not a merge's).
    pub plan: MergePlan,
}

/// How many cards per identity or sound are examined for duplicates.
const CANDIDATE_POOL: u32 = 50;

impl Crm {
    /// Cards that may be the same person as `id`, best first (scoring in
    /// [`crate::customer::score_duplicate`]).
    ///
    /// # Errors
    /// Forbidden without `customer.read`; `NotFound`.
    pub async fn duplicate_candidates(&self, actor: &Actor, id: CustomerId) -> Result<Vec<DuplicateCandidate>> {
        actor.require(Permission::CustomerRead)?;
        let card = self.load_customer(actor, id).await?;
        let mut pool: BTreeMap<CustomerId, Customer> = BTreeMap::new();
        for key in card.identity_keys() {
            for c in self.store.find_by_identity(actor.tenant, &key, CANDIDATE_POOL).await? {
                pool.insert(c.id, c);
            }
        }
        let codes = card.name_keys().phonetic;
        if !codes.is_empty() {
            for c in self.store.find_by_phonetic(actor.tenant, &codes, CANDIDATE_POOL).await? {
                pool.insert(c.id, c);
            }
        }
        let mut candidates: Vec<DuplicateCandidate> = pool.values().filter_map(|o| score_duplicate(&card, o)).collect();
        candidates.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.customer.cmp(&b.customer)));
        Ok(candidates)
    }

    /// Merges card `source` into card `target` (CUS-6): atomic, recorded, undoable.
    ///
    /// # Errors
    /// Forbidden without `customer.merge`; `NotFound`; a self-merge or a tombstone; a card
    /// changed meanwhile (`Conflict`).
    pub async fn merge_customers(
        &self,
        actor: &Actor,
        target: CustomerId,
        source: CustomerId,
        rule: ConflictRule,
    ) -> Result<MergeRecord> {
        actor.require(Permission::CustomerMerge)?;
        let target_card = self.load_customer(actor, target).await?;
        let source_card = self.load_customer(actor, source).await?;
        let now = self.clock.now();
        let id: MergeId = next_id(&*self.ids);
        let plan = MergePlan::build(id, &target_card, &source_card, rule, now)?;
        let mut record = MergeRecord {
            id,
            tenant: actor.tenant,
            target,
            source,
            rule,
            conflicts: plan.conflicts.clone(),
            target_before: target_card,
            source_before: source_card,
            target_version_after: plan.target.version(),
            moved: Default::default(),
            merged_by: actor.agent,
            merged_at: now,
            undone_at: None,
            undone_by: None,
        };
        let events = [self.event(actor, EventKind::CustomersMerged { merge: id, target, source })];
        record.moved = self.store.merge_customers(&plan, &record, &events).await?;
        Ok(record)
    }

    /// What merging `source` into `target` would do, written nowhere (the console's preview
    /// before the agent confirms): the two cards as they are now and the plan the rule
    /// gives (the target afterwards and the conflicts it settles).
    ///
    /// # Errors
    /// Forbidden without `customer.merge`; `NotFound`; a self-merge or a tombstone.
    pub async fn preview_merge(
        &self,
        actor: &Actor,
        target: CustomerId,
        source: CustomerId,
        rule: ConflictRule,
    ) -> Result<MergePreview> {
        actor.require(Permission::CustomerMerge)?;
        let (target_card, source_card) =
            futures::try_join!(self.load_customer(actor, target), self.load_customer(actor, source))?;
        let id: MergeId = next_id(&*self.ids);
        let plan = MergePlan::build(id, &target_card, &source_card, rule, self.clock.now())?;
        Ok(MergePreview { target: target_card, source: source_card, plan })
    }

    /// A merge record.
    ///
    /// # Errors
    /// Forbidden without `customer.read`; `NotFound`.
    pub async fn get_merge(&self, actor: &Actor, id: MergeId) -> Result<MergeRecord> {
        actor.require(Permission::CustomerRead)?;
        self.store.get_merge(actor.tenant, id).await?.ok_or_else(|| Error::not_found("merge", id))
    }

    /// Undoes a merge: both cards as they were, the moved records back on the source.
    ///
    /// # Errors
    /// Forbidden without `customer.merge`; `NotFound`; `Conflict` when already undone or
    /// when the target changed since the merge.
    pub async fn undo_merge(&self, actor: &Actor, id: MergeId) -> Result<(Customer, Customer)> {
        actor.require(Permission::CustomerMerge)?;
        let record = self.store.get_merge(actor.tenant, id).await?.ok_or_else(|| Error::not_found("merge", id))?;
        let target_now = self.load_customer(actor, record.target).await?;
        let tombstone = self.load_customer(actor, record.source).await?;
        let now = self.clock.now();
        let plan = record.plan_undo(&target_now, &tombstone, now)?;
        let events =
            [self.event(actor, EventKind::MergeUndone { merge: id, target: record.target, source: record.source })];
        self.store.undo_merge(actor.tenant, id, &plan, actor.agent, now, &events).await?;
        Ok((plan.target, plan.source))
    }
}
