//! Case list filters and sorting (CAS-5).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Case, CaseStatus, Priority, Severity};
use crate::access::PrivateScope;
use crate::ids::{AgentId, CaseId, CustomerId, GroupId};
use crate::sla::SlaCondition;

/// Which cases to list. Empty lists and `None` mean "any".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseFilter {
    /// Any of these statuses.
    #[serde(default)]
    pub status: Vec<CaseStatus>,
    /// Any of these priorities.
    #[serde(default)]
    pub priority: Vec<Priority>,
    /// Any of these severities.
    #[serde(default)]
    pub severity: Vec<Severity>,
    /// Assigned to this agent.
    #[serde(default)]
    pub assignee: Option<AgentId>,
    /// Assigned to this group.
    #[serde(default)]
    pub group: Option<GroupId>,
    /// Of this customer.
    #[serde(default)]
    pub customer: Option<CustomerId>,
    /// Created at or after.
    #[serde(default)]
    pub created_from: Option<DateTime<Utc>>,
    /// Created before.
    #[serde(default)]
    pub created_to: Option<DateTime<Utc>>,
    /// Updated at or after.
    #[serde(default)]
    pub updated_from: Option<DateTime<Utc>>,
    /// Updated before.
    #[serde(default)]
    pub updated_to: Option<DateTime<Utc>>,
    /// Text the subject or description contains (case-insensitive).
    #[serde(default)]
    pub text: Option<String>,
    /// In this SLA condition at [`CaseFilter::at`] (ADR 0028): `breached`, `warning`
    /// (not breached) or `running` (neither).
    #[serde(default)]
    pub sla: Option<SlaCondition>,
    /// The instant SLA conditions are read at: the use case sets it to the clock's now.
    #[serde(skip)]
    pub at: Option<DateTime<Utc>>,
    /// Carrying this tag (normalised as tags are, [`super::normalise_tag`]).
    #[serde(default)]
    pub tag: Option<String>,
    /// Of this category.
    #[serde(default)]
    pub category: Option<String>,
    /// Of this type.
    #[serde(default)]
    pub case_type: Option<String>,
    /// Children of this case.
    #[serde(default)]
    pub parent: Option<CaseId>,
}

impl CaseFilter {
    /// Checks the filter: text without control characters, at most 200 characters; date
    /// ranges that are not empty; a tag as a tag is written. Normalises the tag (so
    /// `?tag=VIP` finds `vip`).
    ///
    /// # Errors
    /// Every bad criterion, naming it.
    pub fn validate(&mut self) -> Result<(), crate::error::ValidationErrors> {
        let mut v = crate::error::Validator::new();
        if let Some(t) = self.tag.as_deref() {
            self.tag = v.check(super::normalise_tag("tag", t));
        }
        for (field, key) in [("category", &self.category), ("type", &self.case_type)] {
            if let Some(k) = key.as_deref() {
                v.check(crate::text::required_text(field, k, 64));
            }
        }
        if let Some(t) = self.text.as_deref() {
            v.check(crate::text::bounded_text("text", t, 200));
        }
        for (field, from, to) in
            [("created_to", self.created_from, self.created_to), ("updated_to", self.updated_from, self.updated_to)]
        {
            if let (Some(from), Some(to)) = (from, to)
                && to <= from
            {
                v.push(crate::error::FieldError::new(field, "must be after the start of the range"));
            }
        }
        v.finish()
    }

    /// Whether `case` passes the filter and the private scope; the reference semantics
    /// every store implements in its query.
    pub fn matches(&self, case: &Case, scope: &PrivateScope) -> bool {
        let text = self.text.as_deref().map(str::to_lowercase);
        (self.status.is_empty() || self.status.contains(&case.status()))
            && (self.priority.is_empty() || self.priority.contains(&case.priority()))
            && (self.severity.is_empty() || self.severity.contains(&case.severity()))
            && self.assignee.is_none_or(|a| case.assignee() == Some(a))
            && self.group.is_none_or(|g| case.group() == Some(g))
            && self.customer.is_none_or(|c| case.customer() == c)
            && self.created_from.is_none_or(|t| case.created_at >= t)
            && self.created_to.is_none_or(|t| case.created_at < t)
            && self.updated_from.is_none_or(|t| case.updated_at() >= t)
            && self.updated_to.is_none_or(|t| case.updated_at() < t)
            && self.sla.is_none_or(|c| case.sla().and_then(|m| m.condition_at(self.at.unwrap_or_default())) == Some(c))
            && text.is_none_or(|t| {
                case.subject().to_lowercase().contains(&t) || case.description().body().to_lowercase().contains(&t)
            })
            && self.tag.as_ref().is_none_or(|t| case.tags().contains(t))
            && self.category.as_deref().is_none_or(|c| case.category() == Some(c))
            && self.case_type.as_deref().is_none_or(|c| case.case_type() == Some(c))
            && self.parent.is_none_or(|p| case.parent() == Some(p))
            && (case.visibility() != super::Visibility::Private || scope.admits(case.assignee(), case.group()))
    }
}

/// Sort key of a case list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CaseSortField {
    /// Creation time.
    #[default]
    CreatedAt,
    /// Last change.
    UpdatedAt,
    /// Case number.
    Number,
    /// Priority (then number).
    Priority,
    /// The next SLA deadline (ADR 0028), cases without one last in ascending order.
    DueNext,
}

/// The key of the "due next" order: the case's next SLA deadline, or the latest instant
/// there is when it has none.
pub fn due_key(case: &Case) -> DateTime<Utc> {
    case.sla().and_then(|m| m.due_at).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Ascending or descending.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SortDirection {
    /// Smallest first.
    Asc,
    /// Largest first (the default: newest first).
    #[default]
    Desc,
}

/// How to order a case list. Ties are broken by case number in the same direction, so
/// cursors are stable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseSort {
    /// Key.
    pub field: CaseSortField,
    /// Direction.
    pub direction: SortDirection,
}

impl CaseSort {
    /// Compares two cases in this order.
    pub fn compare(&self, a: &Case, b: &Case) -> std::cmp::Ordering {
        let primary = match self.field {
            CaseSortField::CreatedAt => a.created_at.cmp(&b.created_at),
            CaseSortField::UpdatedAt => a.updated_at().cmp(&b.updated_at()),
            CaseSortField::Number => std::cmp::Ordering::Equal,
            CaseSortField::Priority => a.priority().cmp(&b.priority()),
            CaseSortField::DueNext => due_key(a).cmp(&due_key(b)),
        };
        let ord = primary.then(a.number.cmp(&b.number));
        match self.direction {
            SortDirection::Asc => ord,
            SortDirection::Desc => ord.reverse(),
        }
    }
}
