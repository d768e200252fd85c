//! Duplicate candidates and merging cards (CUS-6).
//!
//! **Scoring.** A candidate's score is in `0.0..=1.0`: each shared normalised identity adds
//! 0.6 (the first) or 0.2 (each further one); the same phonetic key for every word of the
//! shorter name adds 0.3; otherwise a Jaro–Winkler similarity of the folded names of 0.85 or
//! more adds `0.3 × similarity`. The sum is capped at 1. Candidates under
//! [`MIN_DUPLICATE_SCORE`] are dropped.
//!
//! **Merge.** Merging `source` into `target` moves everything of the source to the target:
//! identities and addresses are added (without repeats), cases, tasks, interactions and
//! relations are re-pointed by the store in the same transaction, and custom values are
//! united, with conflicts (both cards hold different values) settled by the explicit
//! [`ConflictRule`] and recorded in the [`MergeRecord`]. The source becomes a tombstone that
//! points at the target. The record keeps both cards as they were, so the merge can be
//! undone as long as the target was not changed since.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Customer, IdentityKey, NameKeys};
use crate::error::{Conflict, Error};
use crate::ids::{AgentId, CaseId, CustomerId, InteractionId, MergeId, RelationId, TaskId, TenantId};
use crate::text::words;

/// Candidates scoring below this are not suggested.
pub const MIN_DUPLICATE_SCORE: f64 = 0.3;

/// Why a card is suggested as a duplicate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DuplicateReason {
    /// Both cards hold this identity.
    SharedIdentity {
        /// The shared key.
        key: IdentityKey,
    },
    /// The names sound the same.
    PhoneticName,
    /// The names are spelled alike.
    SimilarName {
        /// Jaro–Winkler similarity of the folded names.
        similarity: f64,
    },
}

/// A suggested duplicate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DuplicateCandidate {
    /// The other card.
    pub customer: CustomerId,
    /// Its name.
    pub name: String,
    /// `0.0..=1.0`, higher is likelier.
    pub score: f64,
    /// What matched.
    pub reasons: Vec<DuplicateReason>,
}

/// Scores how likely `other` duplicates `card` (see the module docs); `None` under the
/// threshold or when `other` is `card` or a tombstone.
pub fn score_duplicate(card: &Customer, other: &Customer) -> Option<DuplicateCandidate> {
    if other.id == card.id || other.is_merged() {
        return None;
    }
    let mut reasons = Vec::new();
    let mut score: f64 = 0.0;
    let mine: BTreeSet<IdentityKey> = card.identity_keys().into_iter().collect();
    for key in other.identity_keys() {
        if mine.contains(&key) {
            score += if score == 0.0 { 0.6 } else { 0.2 };
            reasons.push(DuplicateReason::SharedIdentity { key });
        }
    }
    if names_sound_alike(card.name(), other.name()) {
        score += 0.3;
        reasons.push(DuplicateReason::PhoneticName);
    } else {
        let similarity = strsim::jaro_winkler(&words(card.name()).join(" "), &words(other.name()).join(" "));
        if similarity >= 0.85 {
            score += 0.3 * similarity;
            reasons.push(DuplicateReason::SimilarName { similarity });
        }
    }
    let score = score.min(1.0);
    (score >= MIN_DUPLICATE_SCORE).then(|| DuplicateCandidate {
        customer: other.id,
        name: other.name().to_owned(),
        score,
        reasons,
    })
}

/// Whether every word of the shorter name has a phonetic twin in the longer one.
fn names_sound_alike(a: &str, b: &str) -> bool {
    let (a, b) = (words(a), words(b));
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if short.is_empty() {
        return false;
    }
    let long_codes: BTreeSet<String> = long.iter().flat_map(|w| NameKeys::of(w).phonetic).collect();
    short.iter().all(|w| {
        let codes = NameKeys::of(w).phonetic;
        !codes.is_empty() && codes.iter().any(|c| long_codes.contains(c))
    })
}

/// How to settle a custom value or name both cards hold differently.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConflictRule {
    /// Keep the target's value (the default).
    #[default]
    KeepTarget,
    /// Take the source's value.
    KeepSource,
}

/// A settled conflict, recorded with the merge.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MergeConflict {
    /// The field (`name`, `custom.tier`).
    pub field: String,
    /// The value kept on the target.
    pub kept: Value,
    /// The value dropped.
    pub dropped: Value,
}

/// The child records the store moved from the source to the target.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MovedRecords {
    /// Cases.
    pub cases: Vec<CaseId>,
    /// Tasks.
    pub tasks: Vec<TaskId>,
    /// Interactions.
    pub interactions: Vec<InteractionId>,
    /// Relations whose `from` side was the source.
    pub relations_from: Vec<RelationId>,
    /// Relations whose `to` side was the source.
    pub relations_to: Vec<RelationId>,
}

/// The two cards after a merge, ready for the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MergePlan {
    /// The merge's id.
    pub id: MergeId,
    /// The target with everything of the source added (version bumped).
    pub target: Customer,
    /// The source as a tombstone (version bumped).
    pub tombstone: Customer,
    /// What the rule settled.
    pub conflicts: Vec<MergeConflict>,
    /// The rule used.
    pub rule: ConflictRule,
}

impl MergePlan {
    /// Plans merging `source` into `target`.
    ///
    /// # Errors
    /// [`Error::Validation`] when the two are the same card, belong to different tenants, or
    /// either is already a tombstone.
    pub fn build(
        id: MergeId,
        target: &Customer,
        source: &Customer,
        rule: ConflictRule,
        now: DateTime<Utc>,
    ) -> Result<Self, Error> {
        if target.id == source.id {
            return Err(Error::invalid("source", "cannot merge a card into itself"));
        }
        if target.tenant != source.tenant {
            return Err(Error::not_found("customer", source.id));
        }
        if source.is_merged() {
            return Err(Error::invalid("source", "is already merged into another card"));
        }
        if target.is_merged() {
            return Err(Error::invalid("target", "is merged into another card; merge into that one"));
        }
        let mut conflicts = Vec::new();
        let mut name = target.name().to_owned();
        if source.name() != target.name() {
            let (kept, dropped) = match rule {
                ConflictRule::KeepTarget => (target.name(), source.name()),
                ConflictRule::KeepSource => (source.name(), target.name()),
            };
            name = kept.to_owned();
            conflicts.push(MergeConflict { field: "name".into(), kept: kept.into(), dropped: dropped.into() });
        }
        let mut custom = target.custom().clone();
        for (key, value) in source.custom() {
            match custom.get(key) {
                None => {
                    custom.insert(key.clone(), value.clone());
                }
                Some(existing) if existing != value => {
                    let (kept, dropped) = match rule {
                        ConflictRule::KeepTarget => (existing.clone(), value.clone()),
                        ConflictRule::KeepSource => (value.clone(), existing.clone()),
                    };
                    conflicts.push(MergeConflict {
                        field: format!("custom.{key}"),
                        kept: kept.to_json(),
                        dropped: dropped.to_json(),
                    });
                    custom.insert(key.clone(), kept);
                }
                Some(_) => {}
            }
        }
        let mut merged = target.clone();
        merged.absorb(source, name, custom, now);
        let mut tombstone = source.clone();
        tombstone.bury(target.id, id, now);
        Ok(Self { id, target: merged, tombstone, conflicts, rule })
    }
}

/// A merge as recorded: enough to show it and to undo it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MergeRecord {
    /// Its id.
    pub id: MergeId,
    /// Its tenant.
    pub tenant: TenantId,
    /// The surviving card.
    pub target: CustomerId,
    /// The card merged away.
    pub source: CustomerId,
    /// The rule used.
    pub rule: ConflictRule,
    /// What the rule settled.
    pub conflicts: Vec<MergeConflict>,
    /// The target before the merge.
    pub target_before: Customer,
    /// The source before the merge.
    pub source_before: Customer,
    /// The target's version right after the merge; undo requires it unchanged.
    pub target_version_after: u64,
    /// What the store moved.
    pub moved: MovedRecords,
    /// Who merged.
    pub merged_by: AgentId,
    /// When.
    pub merged_at: DateTime<Utc>,
    /// When it was undone, if it was.
    pub undone_at: Option<DateTime<Utc>>,
    /// Who undid it.
    pub undone_by: Option<AgentId>,
}

/// The two cards restored by an undo, ready for the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UndoPlan {
    /// The target as it was before the merge (version bumped past the current one).
    pub target: Customer,
    /// The source as it was before the merge (version bumped past the tombstone's).
    pub source: Customer,
}

impl MergeRecord {
    /// Plans the undo from the cards' current states.
    ///
    /// # Errors
    /// [`Error::Conflict`] when the merge was already undone, or when the target changed
    /// after the merge (undoing would silently drop those changes).
    pub fn plan_undo(
        &self,
        target_now: &Customer,
        tombstone_now: &Customer,
        now: DateTime<Utc>,
    ) -> Result<UndoPlan, Error> {
        if self.undone_at.is_some() {
            return Err(Conflict::State(format!("merge {} was already undone", self.id)).into());
        }
        if target_now.version() != self.target_version_after {
            return Err(Conflict::State(format!(
                "customer {} changed after merge {}; undo would lose those changes",
                self.target, self.id
            ))
            .into());
        }
        let target = self.target_before.reinstated(target_now.version(), now);
        let source = self.source_before.reinstated(tombstone_now.version(), now);
        Ok(UndoPlan { target, source })
    }
}
