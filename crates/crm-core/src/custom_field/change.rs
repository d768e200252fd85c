//! Changing a custom field definition (CUS-2): its label, help text, choices, required
//! flag and default, and retiring it; and the check of a change against the values records
//! already carry, so that no record silently becomes invalid.
//!
//! The key, the entity and the type of a field never change: a record's stored value keeps
//! the meaning it was written with.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::{FieldDefinition, FieldType, FieldValue};
use crate::customer::Region;
use crate::error::{Conflict, FieldError, StoreError, ValidationErrors, Validator};
use crate::text::{bounded_text, required_text};

/// How many offending records an error names (the count is always complete).
pub const MAX_LISTED_RECORDS: usize = 20;

/// What an administrator sends to change a definition. Absent fields stay; `help_text` and
/// `default` take `null` to clear.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FieldDefinitionChange {
    /// New label.
    #[serde(default)]
    pub label: Option<String>,
    /// New help text (`null` clears it).
    #[serde(default, with = "crate::case::double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub help_text: Option<Option<String>>,
    /// Whether a complete record must carry a value. Turning it on is refused while records
    /// have none (the error names them).
    #[serde(default)]
    pub required: Option<bool>,
    /// The whole new list of choices (choice fields only). Dropping a choice is refused
    /// while records carry it (the error names them).
    #[serde(default)]
    pub choices: Option<Vec<String>>,
    /// New default, as JSON in the field's type (`null` clears it).
    #[serde(default, with = "crate::case::double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub default: Option<Option<Value>>,
    /// Retire (`true`: hidden from forms, no new value, values kept) or bring back.
    #[serde(default)]
    pub retired: Option<bool>,
}

/// One record's value of a field, as a store lists them to check a change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldUse {
    /// The customer or case id.
    pub record: Uuid,
    /// Its value, if it has one.
    pub value: Option<FieldValue>,
    /// Whether the record must be complete (a case in draft need not, CAS-2).
    pub complete: bool,
}

/// The conflict a store returns when a definition to delete still has values on `count`
/// records.
pub fn in_use(definition: &FieldDefinition, count: u64) -> StoreError {
    StoreError::Conflict(Conflict::State(format!(
        "custom field {} has values on {count} {}: retire it to keep them, or remove them first",
        definition.key,
        definition.entity.records()
    )))
}

/// A help text: absent or blank is none; at most 500 characters.
pub(super) fn help_text(input: Option<&str>) -> Result<Option<String>, FieldError> {
    match input.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => bounded_text("help_text", text, 500).map(Some),
    }
}

/// The faults of a list of choices: empty, blank or long entries, repeats. Fields are named
/// `{prefix}[i]`.
pub(super) fn check_choices(prefix: &str, choices: &[String]) -> Vec<FieldError> {
    let mut faults = Vec::new();
    if choices.is_empty() {
        faults.push(FieldError::new(prefix, "must list at least one choice"));
    }
    let mut seen = BTreeSet::new();
    for (i, c) in choices.iter().enumerate() {
        if let Err(e) = required_text(&format!("{prefix}[{i}]"), c, 100) {
            faults.push(e);
        } else if !seen.insert(c) {
            faults.push(FieldError::new(format!("{prefix}[{i}]"), "is listed twice"));
        }
    }
    faults
}

impl FieldDefinition {
    /// The definition after `change`, one version up. Values already stored are not looked
    /// at here: [`FieldDefinition::needs_usage_check`] says whether the change must be
    /// checked against them with a [`UsageCheck`].
    ///
    /// # Errors
    /// Every bad part of the change, each naming its field (`label`, `help_text`,
    /// `choices[i]`, `default`).
    pub fn change(&self, change: FieldDefinitionChange, region: Option<Region>) -> Result<Self, ValidationErrors> {
        let mut v = Validator::new();
        let mut next = self.clone();
        if let Some(label) = change.label.and_then(|l| v.check(required_text("label", &l, 100))) {
            next.label = label;
        }
        if let Some(help) = change.help_text
            && let Some(help) = v.check(help_text(help.as_deref()))
        {
            next.help_text = help;
        }
        next.required = change.required.unwrap_or(next.required);
        next.retired = change.retired.unwrap_or(next.retired);
        if let Some(choices) = change.choices {
            match &mut next.field_type {
                FieldType::SingleChoice { choices: current } | FieldType::MultiChoice { choices: current } => {
                    let faults = check_choices("choices", &choices);
                    if faults.is_empty() {
                        *current = choices;
                    }
                    v.extend(faults);
                }
                _ => v.push(FieldError::new("choices", "only single_choice and multi_choice fields have choices")),
            }
        }
        match change.default {
            Some(Some(raw)) if !raw.is_null() => {
                next.default = v.check(next.validate(&raw, region).map_err(|e| FieldError::new("default", e.reason)));
            }
            Some(_) => next.default = None,
            None => {
                if let Some(default) = &next.default
                    && next.validate(&default.to_json(), region).is_err()
                {
                    v.push(FieldError::new("default", "is no longer one of the choices: give a new default or null"));
                }
            }
        }
        v.finish()?;
        next.version = self.version + 1;
        Ok(next)
    }

    /// Whether going from `self` to `next` can make a stored record invalid: a choice
    /// dropped, or a value becoming required.
    pub fn needs_usage_check(&self, next: &FieldDefinition) -> bool {
        let in_force = |d: &FieldDefinition| d.required && !d.retired;
        let dropped = match (&self.field_type, &next.field_type) {
            (
                FieldType::SingleChoice { choices: before } | FieldType::MultiChoice { choices: before },
                FieldType::SingleChoice { choices: after } | FieldType::MultiChoice { choices: after },
            ) => before.iter().any(|c| !after.contains(c)),
            _ => false,
        };
        dropped || (in_force(next) && !in_force(self))
    }
}

/// The check of a changed definition against every record's value: fed the records one at
/// a time ([`UsageCheck::visit`]), it counts those the change would make invalid.
#[derive(Debug)]
pub struct UsageCheck<'a> {
    next: &'a FieldDefinition,
    region: Option<Region>,
    invalid: Offenders,
    missing: Offenders,
}

/// Records that break one rule: how many, and the first few.
#[derive(Debug, Default)]
struct Offenders {
    count: u64,
    first: Vec<Uuid>,
}

impl Offenders {
    fn add(&mut self, record: Uuid) {
        self.count += 1;
        if self.first.len() < MAX_LISTED_RECORDS {
            self.first.push(record);
        }
    }

    fn error(&self, field: &str, records: &str, what: &str, fix: &str) -> Option<FieldError> {
        (self.count > 0).then(|| {
            let ids: Vec<String> = self.first.iter().map(Uuid::to_string).collect();
            let more = if self.count > self.first.len() as u64 { ", …" } else { "" };
            FieldError::new(field, format!("{} {records} {what} ({}{more}); {fix}", self.count, ids.join(", ")))
        })
    }
}

impl<'a> UsageCheck<'a> {
    /// A check of `next` (the changed definition).
    pub fn new(next: &'a FieldDefinition, region: Option<Region>) -> Self {
        Self { next, region, invalid: Offenders::default(), missing: Offenders::default() }
    }

    /// Checks one record.
    pub fn visit(&mut self, record: &FieldUse) {
        match &record.value {
            Some(value) if self.next.validate(&value.to_json(), self.region).is_err() => {
                self.invalid.add(record.record);
            }
            None if record.complete && self.next.required && !self.next.retired => self.missing.add(record.record),
            _ => {}
        }
    }

    /// The verdict; `records` names what the records are (`customers`, `cases`).
    ///
    /// # Errors
    /// On `choices` when records carry a value the change drops, on `required` when
    /// complete records have none; each error counts them and names the first
    /// [`MAX_LISTED_RECORDS`].
    pub fn finish(self, records: &str) -> Result<(), ValidationErrors> {
        let errors: Vec<FieldError> = [
            self.invalid.error("choices", records, "carry a value the change drops", "change their values first"),
            self.missing.error("required", records, "have no value", "give them one first, or keep the field optional"),
        ]
        .into_iter()
        .flatten()
        .collect();
        ValidationErrors::from_vec(errors).map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::custom_field::{FieldDefinitionInput, FieldEntity};
    use crate::ids::{FieldDefinitionId, TenantId};
    use serde_json::json;

    fn tier() -> FieldDefinition {
        FieldDefinition::build(
            FieldDefinitionId::from_uuid(Uuid::now_v7()),
            TenantId::from_uuid(Uuid::nil()),
            FieldDefinitionInput {
                entity: FieldEntity::Customer,
                key: "tier".into(),
                label: "Tier".into(),
                field_type: FieldType::SingleChoice { choices: vec!["gold".into(), "silver".into()] },
                required: false,
                default: Some(json!("silver")),
                help_text: Some("  Loyalty tier  ".into()),
            },
            None,
        )
        .unwrap()
    }

    fn change(value: Value) -> FieldDefinitionChange {
        serde_json::from_value(value).unwrap()
    }

    fn fields(e: &ValidationErrors) -> Vec<&str> {
        e.errors().iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn a_change_edits_what_it_names_and_bumps_the_version() {
        let d = tier();
        assert_eq!(d.help_text.as_deref(), Some("Loyalty tier"));
        let next = d
            .change(
                change(json!({"label": "Loyalty", "help_text": null, "choices": ["gold", "silver", "bronze"]})),
                None,
            )
            .unwrap();
        assert_eq!((next.label.as_str(), next.help_text.as_deref(), next.version), ("Loyalty", None, 2));
        assert_eq!(next.default, d.default, "absent fields stay");
        assert!(!d.needs_usage_check(&next), "adding a choice breaks nothing");
        let retired = next.change(change(json!({"retired": true, "default": null})), None).unwrap();
        assert!(retired.retired && retired.default.is_none());
    }

    #[test]
    fn bad_changes_name_their_fields() {
        let d = tier();
        let e =
            d.change(change(json!({"label": " ", "choices": ["gold", "gold"], "help_text": "x".repeat(501)})), None);
        assert_eq!(fields(&e.unwrap_err()), ["label", "help_text", "choices[1]"]);
        let e = d.change(change(json!({"choices": ["gold"]})), None).unwrap_err();
        assert_eq!(fields(&e), ["default"], "the default \"silver\" would be dropped");
        let text = FieldDefinition { field_type: FieldType::Text, default: None, ..d };
        assert_eq!(fields(&text.change(change(json!({"choices": ["a"]})), None).unwrap_err()), ["choices"]);
        assert!(serde_json::from_value::<FieldDefinitionChange>(json!({"key": "other"})).is_err(), "the key is fixed");
    }

    #[test]
    fn dropping_a_choice_or_requiring_a_value_is_checked_against_the_records() {
        let d = tier();
        let next = d.change(change(json!({"choices": ["silver"], "required": true})), None).unwrap();
        assert!(d.needs_usage_check(&next));
        let (gold, silver, none, draft) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let mut check = UsageCheck::new(&next, None);
        for (record, value, complete) in [
            (gold, Some(FieldValue::Choice("gold".into())), true),
            (silver, Some(FieldValue::Choice("silver".into())), true),
            (none, None, true),
            (draft, None, false),
        ] {
            check.visit(&FieldUse { record, value, complete });
        }
        let e = check.finish("customers").unwrap_err();
        assert_eq!(fields(&e), ["choices", "required"]);
        assert_eq!(
            e.errors()[0].reason,
            format!("1 customers carry a value the change drops ({gold}); change their values first")
        );
        assert!(e.errors()[1].reason.contains(&none.to_string()) && !e.errors()[1].reason.contains(&draft.to_string()));
        let retired = next.change(change(json!({"retired": true})), None).unwrap();
        let mut check = UsageCheck::new(&retired, None);
        check.visit(&FieldUse { record: none, value: None, complete: true });
        assert!(check.finish("customers").is_ok(), "a retired field requires nothing");
    }

    #[test]
    fn an_error_names_the_first_records_and_counts_them_all() {
        let d = tier();
        let next = d.change(change(json!({"required": true})), None).unwrap();
        let mut check = UsageCheck::new(&next, None);
        for _ in 0..25 {
            check.visit(&FieldUse { record: Uuid::now_v7(), value: None, complete: true });
        }
        let e = check.finish("cases").unwrap_err();
        let reason = &e.errors()[0].reason;
        assert!(reason.starts_with("25 cases have no value ("), "{reason}");
        assert_eq!(reason.matches('-').count(), 4 * MAX_LISTED_RECORDS, "twenty ids");
        assert!(reason.contains(", …)"));
    }
}
