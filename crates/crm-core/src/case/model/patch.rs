//! Editing a case: [`CasePatch`] applied through [`CasePatch::apply`], with the facts it
//! needs ([`CaseContext`]).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Case, MAX_SUBJECT, double_option};
use crate::case::{CaseListKind, CaseStatus, DescriptionInput, Priority, Severity, Visibility, normalise_tags};
use crate::custom_field::{Completeness, FieldDefinition, apply_custom_values};
use crate::customer::Region;
use crate::error::{FieldError, TransitionError, ValidationErrors, Validator};
use crate::ids::{AgentId, CaseId, GroupId};
use crate::text::bounded_text;

/// What a caller sends to edit a case. Absent fields stay; `assignee`/`group` take
/// `Some(None)` (JSON `null`) to clear.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CasePatch {
    /// New subject.
    #[serde(default)]
    pub subject: Option<String>,
    /// New description.
    #[serde(default)]
    pub description: Option<DescriptionInput>,
    /// New status (through the lifecycle).
    #[serde(default)]
    pub status: Option<CaseStatus>,
    /// New visibility.
    #[serde(default)]
    pub visibility: Option<Visibility>,
    /// New severity.
    #[serde(default)]
    pub severity: Option<Severity>,
    /// New priority.
    #[serde(default)]
    pub priority: Option<Priority>,
    /// New assignee (`null` to clear).
    #[serde(default, with = "double_option")]
    pub assignee: Option<Option<AgentId>>,
    /// New group (`null` to clear).
    #[serde(default, with = "double_option")]
    pub group: Option<Option<GroupId>>,
    /// Custom values to set (`null` removes).
    #[serde(default)]
    pub custom: BTreeMap<String, Value>,
    /// The case's tags, replacing the ones it has (`[]` removes them all).
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    /// New category (an active key of the tenant's list; `null` to clear).
    #[serde(default, with = "double_option")]
    pub category: Option<Option<String>>,
    /// New type (an active key of the tenant's list; `null` to clear).
    #[serde(default, rename = "type", with = "double_option")]
    pub case_type: Option<Option<String>>,
    /// Resolution code (an active key of the tenant's list): required with `status:
    /// resolved`; may also be set on a resolved or closed case.
    #[serde(default)]
    pub resolution: Option<String>,
    /// New parent case (`null` to clear).
    #[serde(default, with = "double_option")]
    pub parent: Option<Option<CaseId>>,
}

/// The facts a case command needs besides its input.
#[derive(Clone, Copy, Debug)]
pub struct CaseContext<'a> {
    /// The case custom field definitions.
    pub definitions: &'a [FieldDefinition],
    /// The tenant's phone region (for phone-typed custom fields).
    pub region: Option<Region>,
    /// Now.
    pub now: DateTime<Utc>,
}

/// Errors of [`CasePatch::apply`].
#[derive(Debug, thiserror::Error)]
pub enum CasePatchError {
    /// Bad values.
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    /// A refused status change.
    #[error(transparent)]
    Transition(#[from] TransitionError),
}

impl CasePatch {
    /// The list entries the patch sets (`category`, `type`, `resolution`), for the use case
    /// to check against the tenant's lists ([`crate::case::CaseLists::check`]).
    pub fn list_keys(&self) -> Vec<(CaseListKind, &str)> {
        [
            (CaseListKind::Category, self.category.as_ref().and_then(Option::as_deref)),
            (CaseListKind::Type, self.case_type.as_ref().and_then(Option::as_deref)),
            (CaseListKind::Resolution, self.resolution.as_deref()),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect()
    }

    /// Whether the patch reassigns the case (needs [`crate::access::Permission::CaseAssign`]
    /// unless the actor takes it for themself).
    pub fn reassigns(&self) -> bool {
        self.assignee.is_some() || self.group.is_some()
    }

    /// Applies the patch to `case` (the status last, through the lifecycle, so a case
    /// completed and opened in one patch is checked as completed). A patch that changes
    /// anything is one change: the next version.
    ///
    /// # Errors
    /// Bad values or a refused transition; `case` is untouched then.
    pub fn apply(&self, case: &mut Case, actor: AgentId, ctx: CaseContext<'_>) -> Result<(), CasePatchError> {
        let mut next = case.clone();
        let mut v = Validator::new();
        if let Some(s) = &self.subject
            && let Some(s) = v.check(bounded_text("subject", s.trim(), MAX_SUBJECT))
        {
            if s.is_empty() && next.status != CaseStatus::Draft {
                v.push(FieldError::new("subject", "must not be empty"));
            }
            next.subject = s;
        }
        if let Some(d) = &self.description
            && let Some(d) = v.check(d.parse())
        {
            next.description = d;
        }
        if let Some(x) = self.visibility {
            next.visibility = x;
        }
        if let Some(x) = self.severity {
            next.severity = x;
        }
        if let Some(x) = self.priority {
            next.priority = x;
        }
        if let Some(x) = self.assignee {
            next.assignee = x;
        }
        if let Some(x) = self.group {
            next.group = x;
        }
        if let Some(tags) = &self.tags
            && let Some(tags) = v.check(normalise_tags(tags))
        {
            next.tags = tags;
        }
        if let Some(x) = &self.category {
            next.category.clone_from(x);
        }
        if let Some(x) = &self.case_type {
            next.case_type.clone_from(x);
        }
        if let Some(x) = self.parent {
            if x == Some(case.id) {
                v.push(FieldError::new("parent", "a case cannot be its own parent"));
            }
            next.parent = x;
        }
        let target = self.status.unwrap_or(next.status);
        if let Some(code) = &self.resolution {
            if matches!(target, CaseStatus::Resolved | CaseStatus::Closed) {
                next.resolution = Some(code.clone());
            } else {
                v.push(FieldError::new("resolution", "only a resolved or closed case carries a resolution code"));
            }
        } else if target == CaseStatus::Resolved && next.resolution.is_none() {
            v.push(FieldError::new("resolution", "is required to resolve a case"));
        }
        let completeness = if target == CaseStatus::Draft { Completeness::Draft } else { Completeness::Complete };
        match apply_custom_values(ctx.definitions, &next.custom, &self.custom, false, completeness, ctx.region) {
            Ok(c) => next.custom = c,
            Err(e) => v.extend(e.errors().iter().cloned()),
        }
        v.finish()?;
        if let Some(to) = self.status.filter(|s| *s != next.status) {
            next.change_status(to, actor, ctx.now)?;
        }
        if next.status == CaseStatus::Open && next.assignee.is_none() {
            return Err(ValidationErrors::from(FieldError::new(
                "assignee",
                "an open case must stay assigned to an agent",
            ))
            .into());
        }
        if next != *case {
            next.touch(ctx.now);
        }
        *case = next;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use uuid::Uuid;

    use super::*;
    use crate::access::{Actor, Role};
    use crate::case::{CaseNumber, NewCase};
    use crate::ids::{CustomerId, TenantId};

    fn actor() -> Actor {
        Actor::with_role(TenantId::from_uuid(Uuid::from_u128(1)), AgentId::from_uuid(Uuid::from_u128(2)), Role::Agent)
    }

    fn ctx() -> CaseContext<'static> {
        CaseContext { definitions: &[], region: None, now: Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap() }
    }

    fn case() -> Case {
        NewCase::open(CustomerId::from_uuid(Uuid::from_u128(3)), "Refund")
            .build(CaseId::from_uuid(Uuid::from_u128(4)), CaseNumber::new(1), &actor(), None, ctx())
            .unwrap()
    }

    fn fields(e: CasePatchError) -> Vec<String> {
        match e {
            CasePatchError::Invalid(v) => v.errors().iter().map(|e| e.field.clone()).collect(),
            CasePatchError::Transition(t) => vec![format!("transition {t}")],
        }
    }

    #[test]
    fn resolving_needs_a_resolution_code_and_stamps_the_instant() {
        let mut c = case();
        let resolve = CasePatch { status: Some(CaseStatus::Resolved), ..CasePatch::default() };
        assert_eq!(fields(resolve.apply(&mut c, actor().agent, ctx()).unwrap_err()), ["resolution"]);
        assert_eq!(c, case(), "untouched");
        let resolve = CasePatch { resolution: Some("fixed".into()), ..resolve };
        resolve.apply(&mut c, actor().agent, ctx()).unwrap();
        assert_eq!(
            (c.status(), c.resolution(), c.resolved_at()),
            (CaseStatus::Resolved, Some("fixed"), Some(ctx().now))
        );
        assert_eq!(c.field_map().get("resolution"), Some(&Value::from("fixed")), "in the history");
    }

    #[test]
    fn a_resolved_case_closes_keeping_its_code_or_reopens_clearing_it() {
        let mut c = case();
        let resolve =
            CasePatch { status: Some(CaseStatus::Resolved), resolution: Some("fixed".into()), ..CasePatch::default() };
        resolve.apply(&mut c, actor().agent, ctx()).unwrap();
        let mut closed = c.clone();
        CasePatch { status: Some(CaseStatus::Closed), ..CasePatch::default() }
            .apply(&mut closed, actor().agent, ctx())
            .unwrap();
        assert_eq!((closed.resolution(), closed.resolved_at().is_some()), (Some("fixed"), true));
        CasePatch { status: Some(CaseStatus::Open), ..CasePatch::default() }
            .apply(&mut c, actor().agent, ctx())
            .unwrap();
        assert_eq!((c.status(), c.resolution(), c.resolved_at()), (CaseStatus::Open, None, None));
    }

    #[test]
    fn a_resolution_code_on_an_open_case_is_refused() {
        let mut c = case();
        let patch = CasePatch { resolution: Some("fixed".into()), ..CasePatch::default() };
        assert_eq!(fields(patch.apply(&mut c, actor().agent, ctx()).unwrap_err()), ["resolution"]);
    }

    #[test]
    fn tags_category_type_and_parent_are_set_cleared_and_tracked() {
        let mut c = case();
        let parent = CaseId::from_uuid(Uuid::from_u128(9));
        let patch = CasePatch {
            tags: Some(vec!["VIP".into(), "vip".into(), "Late Delivery".into()]),
            category: Some(Some("billing".into())),
            case_type: Some(Some("incident".into())),
            parent: Some(Some(parent)),
            ..CasePatch::default()
        };
        patch.apply(&mut c, actor().agent, ctx()).unwrap();
        assert_eq!(c.tags().iter().map(String::as_str).collect::<Vec<_>>(), ["late-delivery", "vip"]);
        assert_eq!((c.category(), c.case_type(), c.parent()), (Some("billing"), Some("incident"), Some(parent)));
        let map = c.field_map();
        for field in ["tags", "category", "type", "parent"] {
            assert!(map.contains_key(field), "{field} is tracked");
        }
        let clear = CasePatch {
            tags: Some(vec![]),
            category: Some(None),
            case_type: Some(None),
            parent: Some(None),
            ..CasePatch::default()
        };
        clear.apply(&mut c, actor().agent, ctx()).unwrap();
        assert_eq!(c.field_map(), case().field_map(), "cleared fields leave the map");
    }

    #[test]
    fn bad_tags_and_self_parent_are_refused_by_field() {
        let mut c = case();
        let patch = CasePatch { tags: Some(vec!["a,b".into()]), parent: Some(Some(c.id)), ..CasePatch::default() };
        assert_eq!(fields(patch.apply(&mut c, actor().agent, ctx()).unwrap_err()), ["tags", "parent"]);
    }

    #[test]
    fn the_wire_names_the_type_field_type() {
        let patch: CasePatch = serde_json::from_str(r#"{"type": null, "category": "x"}"#).unwrap();
        assert_eq!((patch.case_type, patch.category), (Some(None), Some(Some("x".into()))));
        let json = serde_json::to_value(case()).unwrap();
        assert!(json.get("type").is_some() && json.get("case_type").is_none(), "{json}");
    }
}
