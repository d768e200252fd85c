//! Creating a case: [`NewCase`] validated once ([`NewCase::validate`]), then numbered and
//! built ([`ValidNewCase::build`]).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use super::{Case, CaseContext, Description, MAX_SUBJECT, NewCase};
use crate::access::Actor;
use crate::case::{CaseNumber, CaseStatus, Priority, Severity, Visibility, normalise_tags};
use crate::custom_field::{Completeness, CustomValues, apply_custom_values};
use crate::error::{FieldError, ValidationErrors, Validator};
use crate::ids::{AgentId, CaseId, CustomerId, GroupId, InteractionId, TenantId};
use crate::interaction::Channel;
use crate::text::bounded_text;

impl NewCase {
    /// The list entries the input names (`category`, `type`), for the use case to check
    /// against the tenant's lists ([`crate::case::CaseLists::check`]).
    pub fn list_keys(&self) -> Vec<(crate::case::CaseListKind, &str)> {
        use crate::case::CaseListKind;
        [(CaseListKind::Category, &self.category), (CaseListKind::Type, &self.case_type)]
            .into_iter()
            .filter_map(|(k, v)| v.as_deref().map(|v| (k, v)))
            .collect()
    }

    /// An open case for `customer` with `subject`, every other field at its default.
    pub fn open(customer: CustomerId, subject: impl Into<String>) -> Self {
        Self {
            customer,
            subject: subject.into(),
            description: None,
            draft: false,
            visibility: None,
            severity: None,
            priority: None,
            assignee: None,
            group: None,
            origin_channel: None,
            custom: BTreeMap::new(),
            tags: Vec::new(),
            category: None,
            case_type: None,
            parent: None,
        }
    }

    /// Validates the input into a case. Drafts may lack a subject and required custom
    /// values; an open case gets the creator as assignee when none is given. The same as
    /// [`NewCase::validate`] then [`ValidNewCase::build`].
    ///
    /// # Errors
    /// Every refused value, each naming its field.
    pub fn build(
        self,
        id: CaseId,
        number: CaseNumber,
        actor: &Actor,
        origin_interaction: Option<InteractionId>,
        ctx: CaseContext<'_>,
    ) -> Result<Case, ValidationErrors> {
        Ok(self.validate(actor, origin_interaction, ctx)?.build(id, number))
    }

    /// Validates the input, before the case has an id and a number (so refused input
    /// burns no number).
    ///
    /// # Errors
    /// Every refused value, each naming its field.
    pub fn validate(
        self,
        actor: &Actor,
        origin_interaction: Option<InteractionId>,
        ctx: CaseContext<'_>,
    ) -> Result<ValidNewCase, ValidationErrors> {
        let mut v = Validator::new();
        let subject = v.check(bounded_text("subject", self.subject.trim(), MAX_SUBJECT)).unwrap_or_default();
        if !self.draft && subject.is_empty() {
            v.push(FieldError::new("subject", "must not be empty (save as draft to keep an incomplete case)"));
        }
        let description = match &self.description {
            Some(d) => v.check(d.parse()).unwrap_or_default(),
            None => Description::default(),
        };
        let tags = v.check(normalise_tags(&self.tags)).unwrap_or_default();
        let completeness = if self.draft { Completeness::Draft } else { Completeness::Complete };
        let custom =
            apply_custom_values(ctx.definitions, &CustomValues::new(), &self.custom, true, completeness, ctx.region)
                .unwrap_or_else(|e| {
                    v.extend(e.errors().iter().cloned());
                    CustomValues::new()
                });
        v.finish()?;
        let status = if self.draft { CaseStatus::Draft } else { CaseStatus::Open };
        let assignee = match (self.assignee, status) {
            (Some(a), _) => Some(a),
            (None, CaseStatus::Open) => Some(actor.agent),
            (None, _) => None,
        };
        Ok(ValidNewCase {
            tenant: actor.tenant,
            customer: self.customer,
            subject,
            description,
            status,
            visibility: self.visibility.unwrap_or(Visibility::Internal),
            severity: self.severity.unwrap_or(Severity::Medium),
            priority: self.priority.unwrap_or(Priority::Normal),
            assignee,
            group: self.group,
            origin_channel: self.origin_channel,
            origin_interaction,
            created_by: actor.agent,
            created_at: ctx.now,
            custom,
            tags,
            category: self.category,
            case_type: self.case_type,
            parent: self.parent,
        })
    }
}

/// A [`NewCase`] that passed validation and waits for its id and number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidNewCase {
    tenant: TenantId,
    customer: CustomerId,
    subject: String,
    description: Description,
    status: CaseStatus,
    visibility: Visibility,
    severity: Severity,
    priority: Priority,
    assignee: Option<AgentId>,
    group: Option<GroupId>,
    origin_channel: Option<Channel>,
    origin_interaction: Option<InteractionId>,
    created_by: AgentId,
    created_at: DateTime<Utc>,
    custom: CustomValues,
    tags: BTreeSet<String>,
    category: Option<String>,
    case_type: Option<String>,
    parent: Option<CaseId>,
}

impl ValidNewCase {
    /// The parent the new case names, which the use case checks
    /// ([`crate::case::check_parent_chain`]) before the case is built.
    pub fn parent(&self) -> Option<CaseId> {
        self.parent
    }
}

impl ValidNewCase {
    /// The case, at version 1.
    pub fn build(self, id: CaseId, number: CaseNumber) -> Case {
        Case {
            id,
            tenant: self.tenant,
            number,
            customer: self.customer,
            subject: self.subject,
            description: self.description,
            status: self.status,
            visibility: self.visibility,
            severity: self.severity,
            priority: self.priority,
            assignee: self.assignee,
            group: self.group,
            origin_channel: self.origin_channel,
            origin_interaction: self.origin_interaction,
            created_by: self.created_by,
            created_at: self.created_at,
            updated_at: self.created_at,
            closed_at: None,
            custom: self.custom,
            version: 1,
            deleted_at: None,
            sla: None,
            sla_gen: 0,
            tags: self.tags,
            category: self.category,
            case_type: self.case_type,
            resolution: None,
            resolved_at: None,
            parent: self.parent,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use uuid::Uuid;

    use super::*;
    use crate::access::Role;

    fn actor() -> Actor {
        Actor::with_role(TenantId::from_uuid(Uuid::from_u128(1)), AgentId::from_uuid(Uuid::from_u128(2)), Role::Agent)
    }

    fn ctx() -> CaseContext<'static> {
        CaseContext { definitions: &[], region: None, now: Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap() }
    }

    #[test]
    fn a_validated_case_is_numbered_and_built_at_version_one() {
        let input = NewCase::open(CustomerId::from_uuid(Uuid::from_u128(3)), "Cannot log in");
        let (id, number) = (CaseId::from_uuid(Uuid::from_u128(4)), CaseNumber::new(42));
        let valid = input.clone().validate(&actor(), None, ctx()).unwrap();
        let case = valid.build(id, number);
        assert_eq!(case, input.build(id, number, &actor(), None, ctx()).unwrap());
        assert_eq!((case.id, case.number, case.version()), (id, number, 1));
        assert_eq!(case.status(), CaseStatus::Open);
        assert_eq!(case.assignee(), Some(actor().agent), "an open case is assigned to its creator");
    }

    #[test]
    fn refused_input_is_refused_before_any_number() {
        let input = NewCase::open(CustomerId::from_uuid(Uuid::from_u128(3)), "  ");
        let errors = input.validate(&actor(), None, ctx()).unwrap_err();
        assert_eq!(errors.errors()[0].field, "subject");
    }

    #[test]
    fn moving_a_case_to_another_customer_is_a_new_version_but_not_an_edit() {
        let mut case = NewCase::open(CustomerId::from_uuid(Uuid::from_u128(3)), "Refund")
            .build(CaseId::from_uuid(Uuid::from_u128(4)), CaseNumber::new(1), &actor(), None, ctx())
            .unwrap();
        let before = case.clone();
        let target = CustomerId::from_uuid(Uuid::from_u128(5));
        case.move_to_customer(target);
        assert_eq!((case.customer(), case.version()), (target, before.version() + 1));
        assert_eq!(case.updated_at(), before.updated_at());
        assert_eq!(Case::restore(case.clone().into_record()), case, "a record restores the same case");
    }
}
