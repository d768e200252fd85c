//! Custom fields (CUS-2): administrators define extra fields on customers and cases; values
//! are validated against their definition, and a bad value is an error naming the field
//! (`custom.<key>`).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::customer::{EmailAddress, PhoneNumber, Region};
use crate::error::{FieldError, Validator};
use crate::ids::{FieldDefinitionId, TenantId};
use crate::text::{bounded_text, required_text};

mod change;

pub use change::{FieldDefinitionChange, FieldUse, MAX_LISTED_RECORDS, UsageCheck, in_use};

/// Which records a definition applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FieldEntity {
    /// Customers.
    Customer,
    /// Cases.
    Case,
}

impl FieldEntity {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            FieldEntity::Customer => "customer",
            FieldEntity::Case => "case",
        }
    }

    /// What its records are called in messages (`customers`).
    pub const fn records(self) -> &'static str {
        match self {
            FieldEntity::Customer => "customers",
            FieldEntity::Case => "cases",
        }
    }
}

/// The type of a custom field and its type-specific settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FieldType {
    /// One line of text, at most 255 characters.
    Text,
    /// Free text, at most 10,000 characters.
    LongText,
    /// A whole number.
    Integer,
    /// A decimal number, exact (no float rounding).
    Decimal,
    /// True or false.
    Boolean,
    /// A calendar date (`2026-11-23`).
    Date,
    /// An instant (RFC 3339).
    Datetime,
    /// One of the listed choices.
    SingleChoice {
        /// The allowed values.
        choices: Vec<String>,
    },
    /// Any subset of the listed choices.
    MultiChoice {
        /// The allowed values.
        choices: Vec<String>,
    },
    /// An email address.
    Email,
    /// A phone number (stored E.164).
    Phone,
    /// An http(s) URL.
    Url,
}

/// A validated custom value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum FieldValue {
    /// Text or long text.
    Text(String),
    /// Integer.
    Integer(i64),
    /// Decimal.
    Decimal(Decimal),
    /// Boolean.
    Boolean(bool),
    /// Date.
    Date(NaiveDate),
    /// Instant.
    Datetime(DateTime<Utc>),
    /// Single choice.
    Choice(String),
    /// Multi choice, sorted and without repeats.
    Choices(Vec<String>),
    /// Email.
    Email(EmailAddress),
    /// Phone.
    Phone(PhoneNumber),
    /// URL.
    Url(String),
}

impl FieldValue {
    /// The value in its plain JSON form (what the API returns and what history records).
    pub fn to_json(&self) -> Value {
        match self {
            FieldValue::Text(s) | FieldValue::Choice(s) | FieldValue::Url(s) => Value::String(s.clone()),
            FieldValue::Integer(i) => Value::from(*i),
            FieldValue::Decimal(d) => Value::String(d.to_string()),
            FieldValue::Boolean(b) => Value::Bool(*b),
            FieldValue::Date(d) => Value::String(d.to_string()),
            FieldValue::Datetime(t) => Value::String(t.to_rfc3339()),
            FieldValue::Choices(v) => Value::from(v.clone()),
            FieldValue::Email(e) => Value::String(e.to_string()),
            FieldValue::Phone(p) => Value::String(p.to_string()),
        }
    }

    /// The text a search on custom values matches (lower case).
    pub fn search_text(&self) -> String {
        match self.to_json() {
            Value::String(s) => s.to_lowercase(),
            Value::Array(items) => items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" ").to_lowercase(),
            other => other.to_string(),
        }
    }
}

/// A field key: lower-case ASCII letters, digits and underscores, starting with a letter,
/// at most 64 characters (`loyalty_tier`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(value_type = String, pattern = "^[a-z][a-z0-9_]{0,63}$", examples("loyalty_tier"))
)]
#[serde(try_from = "String", into = "String")]
pub struct FieldKey(String);

impl FieldKey {
    /// Parses a key.
    ///
    /// # Errors
    /// A [`FieldError`] on `key` when the key breaks the rules.
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let ok = !input.is_empty()
            && input.len() <= 64
            && input.starts_with(|c: char| c.is_ascii_lowercase())
            && input.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if ok {
            Ok(Self(input.to_owned()))
        } else {
            Err(FieldError::new(
                "key",
                "must be 1 to 64 lower-case letters, digits or underscores, starting with a letter",
            ))
        }
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for FieldKey {
    type Error = FieldError;

    fn try_from(s: String) -> Result<Self, FieldError> {
        Self::parse(&s)
    }
}

impl From<FieldKey> for String {
    fn from(k: FieldKey) -> String {
        k.0
    }
}

impl fmt::Display for FieldKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A custom field definition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldDefinition {
    /// Its id.
    pub id: FieldDefinitionId,
    /// Its tenant.
    pub tenant: TenantId,
    /// Customers or cases.
    pub entity: FieldEntity,
    /// The key values are stored under; unique per tenant and entity.
    pub key: FieldKey,
    /// Label shown to agents.
    pub label: String,
    /// Type and settings.
    pub field_type: FieldType,
    /// Whether a complete record must carry a value (drafts are exempt, CAS-2).
    pub required: bool,
    /// Value used when a new record gives none.
    pub default: Option<FieldValue>,
    /// A line of help shown under the field in forms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help_text: Option<String>,
    /// A retired field is hidden from forms and accepts no new value; the values records
    /// already carry are kept (and can be removed).
    #[serde(default)]
    pub retired: bool,
    /// Optimistic-concurrency version.
    pub version: u64,
}

/// What an administrator sends to define a field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldDefinitionInput {
    /// Customers or cases.
    pub entity: FieldEntity,
    /// Key.
    #[cfg_attr(feature = "openapi", schema(value_type = FieldKey))]
    pub key: String,
    /// Label.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::required_text))]
    pub label: String,
    /// Type and settings.
    pub field_type: FieldType,
    /// Required flag.
    #[serde(default)]
    pub required: bool,
    /// Default value, as JSON in the field's type.
    #[serde(default)]
    pub default: Option<Value>,
    /// A line of help shown under the field in forms (at most 500 characters).
    #[serde(default)]
    pub help_text: Option<String>,
}

impl FieldDefinition {
    /// Validates an administrator's input into a definition.
    ///
    /// # Errors
    /// Every bad part of the input, each naming its field.
    pub fn build(
        id: FieldDefinitionId,
        tenant: TenantId,
        input: FieldDefinitionInput,
        region: Option<Region>,
    ) -> Result<Self, crate::error::ValidationErrors> {
        let mut v = Validator::new();
        let key = v.check(FieldKey::parse(&input.key));
        let label = v.check(required_text("label", &input.label, 100));
        let help_text = v.check(change::help_text(input.help_text.as_deref()));
        if let FieldType::SingleChoice { choices } | FieldType::MultiChoice { choices } = &input.field_type {
            v.extend(change::check_choices("field_type.choices", choices));
        }
        let mut def = Self {
            id,
            tenant,
            entity: input.entity,
            key: key.unwrap_or_else(|| FieldKey("invalid".into())),
            label: label.unwrap_or_default(),
            field_type: input.field_type,
            required: input.required,
            default: None,
            help_text: help_text.flatten(),
            retired: false,
            version: 1,
        };
        if let Some(raw) = input.default.filter(|d| !d.is_null()) {
            def.default = v.check(def.validate(&raw, region).map_err(|e| FieldError::new("default", e.reason)));
        }
        v.finish()?;
        Ok(def)
    }

    /// Validates one raw value for this field. The error's field is `custom.<key>`.
    ///
    /// # Errors
    /// When the value does not fit the type or the choices.
    pub fn validate(&self, raw: &Value, region: Option<Region>) -> Result<FieldValue, FieldError> {
        let field = format!("custom.{}", self.key);
        let err = |reason: String| FieldError::new(field.clone(), reason);
        let expect_str = |what: &str| raw.as_str().ok_or_else(|| err(format!("must be {what}")));
        match &self.field_type {
            FieldType::Text => Ok(FieldValue::Text(bounded_text(&field, expect_str("a string")?, 255)?)),
            FieldType::LongText => Ok(FieldValue::Text(bounded_text(&field, expect_str("a string")?, 10_000)?)),
            FieldType::Integer => {
                raw.as_i64().map(FieldValue::Integer).ok_or_else(|| err("must be a whole number".into()))
            }
            FieldType::Decimal => {
                let text = match raw {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    _ => return Err(err("must be a decimal number".into())),
                };
                Decimal::from_str(text.trim())
                    .map(FieldValue::Decimal)
                    .map_err(|_| err(format!("{text:?} is not a decimal number")))
            }
            FieldType::Boolean => {
                raw.as_bool().map(FieldValue::Boolean).ok_or_else(|| err("must be true or false".into()))
            }
            FieldType::Date => {
                let s = expect_str("a date (YYYY-MM-DD)")?;
                NaiveDate::from_str(s)
                    .map(FieldValue::Date)
                    .map_err(|_| err(format!("{s:?} is not a date (YYYY-MM-DD)")))
            }
            FieldType::Datetime => {
                let s = expect_str("an RFC 3339 date-time")?;
                DateTime::parse_from_rfc3339(s)
                    .map(|t| FieldValue::Datetime(t.with_timezone(&Utc)))
                    .map_err(|_| err(format!("{s:?} is not an RFC 3339 date-time")))
            }
            FieldType::SingleChoice { choices } => {
                let s = expect_str("one of the choices")?;
                if choices.iter().any(|c| c == s) {
                    Ok(FieldValue::Choice(s.to_owned()))
                } else {
                    Err(err(format!("{s:?} is not one of {}", choices.join(", "))))
                }
            }
            FieldType::MultiChoice { choices } => {
                let items = raw.as_array().ok_or_else(|| err("must be a list of choices".into()))?;
                let mut picked = Vec::with_capacity(items.len());
                for item in items {
                    let s = item.as_str().ok_or_else(|| err("must be a list of strings".into()))?;
                    if !choices.iter().any(|c| c == s) {
                        return Err(err(format!("{s:?} is not one of {}", choices.join(", "))));
                    }
                    picked.push(s.to_owned());
                }
                picked.sort();
                picked.dedup();
                Ok(FieldValue::Choices(picked))
            }
            FieldType::Email => {
                EmailAddress::parse(expect_str("an email address")?).map(FieldValue::Email).map_err(|e| err(e.reason))
            }
            FieldType::Phone => PhoneNumber::parse(expect_str("a phone number")?, region)
                .map(FieldValue::Phone)
                .map_err(|e| err(e.reason)),
            FieldType::Url => {
                let s = expect_str("a URL")?;
                match url::Url::parse(s) {
                    Ok(u) if matches!(u.scheme(), "http" | "https") && s.len() <= 2048 => {
                        Ok(FieldValue::Url(u.to_string()))
                    }
                    Ok(_) => Err(err("must be an http or https URL of at most 2048 characters".into())),
                    Err(e) => Err(err(format!("{s:?} is not a URL: {e}"))),
                }
            }
        }
    }
}

/// The custom values of one record, by key.
pub type CustomValues = BTreeMap<FieldKey, FieldValue>;

/// How strictly to validate a record's custom values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Completeness {
    /// A draft: required fields may be missing (CAS-2).
    Draft,
    /// A complete record: every required field must have a value.
    Complete,
}

/// Validates a set of raw values against the definitions of one entity: unknown keys are
/// refused, `null` removes a value, defaults fill missing fields on creation. A retired
/// field accepts no new value, is never required and fills no default; the value a record
/// carries is kept.
///
/// `current` is the record's present values (empty on creation); the result is the new set.
///
/// # Errors
/// Every refused value, each naming `custom.<key>`.
pub fn apply_custom_values(
    definitions: &[FieldDefinition],
    current: &CustomValues,
    raw: &BTreeMap<String, Value>,
    creating: bool,
    completeness: Completeness,
    region: Option<Region>,
) -> Result<CustomValues, crate::error::ValidationErrors> {
    let mut v = Validator::new();
    let mut values = current.clone();
    for (key, value) in raw {
        let Some(def) = definitions.iter().find(|d| d.key.as_str() == key) else {
            v.push(FieldError::new(format!("custom.{key}"), "is not a defined custom field"));
            continue;
        };
        if value.is_null() {
            values.remove(&def.key);
        } else if def.retired {
            v.push(FieldError::new(
                format!("custom.{key}"),
                "is retired: it accepts no new value (null removes the one kept)",
            ));
        } else if let Some(ok) = v.check(def.validate(value, region)) {
            values.insert(def.key.clone(), ok);
        }
    }
    for def in definitions.iter().filter(|d| !d.retired) {
        if creating
            && !values.contains_key(&def.key)
            && let Some(default) = &def.default
        {
            values.insert(def.key.clone(), default.clone());
        }
        if completeness == Completeness::Complete && def.required && !values.contains_key(&def.key) {
            v.push(FieldError::new(format!("custom.{}", def.key), "is required"));
        }
    }
    v.finish()?;
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use uuid::Uuid;

    fn def(key: &str, field_type: FieldType, required: bool) -> FieldDefinition {
        FieldDefinition::build(
            FieldDefinitionId::from_uuid(Uuid::now_v7()),
            TenantId::from_uuid(Uuid::nil()),
            FieldDefinitionInput {
                entity: FieldEntity::Customer,
                key: key.into(),
                label: key.into(),
                field_type,
                required,
                default: None,
                help_text: None,
            },
            None,
        )
        .unwrap()
    }

    #[test]
    fn each_type_accepts_its_values_and_refuses_others_naming_the_field() {
        let cases: Vec<(FieldType, Value, Value)> = vec![
            (FieldType::Text, json!("gold"), json!(3)),
            (FieldType::LongText, json!("a\nb"), json!(true)),
            (FieldType::Integer, json!(42), json!("42")),
            (FieldType::Decimal, json!("12.50"), json!("twelve")),
            (FieldType::Boolean, json!(true), json!("yes")),
            (FieldType::Date, json!("2026-11-23"), json!("23/11/2026")),
            (FieldType::Datetime, json!("2026-11-23T10:00:00+01:00"), json!("2026-11-23")),
            (FieldType::SingleChoice { choices: vec!["a".into(), "b".into()] }, json!("a"), json!("c")),
            (FieldType::MultiChoice { choices: vec!["a".into(), "b".into()] }, json!(["b", "a"]), json!(["z"])),
            (FieldType::Email, json!("a@example.com"), json!("nope")),
            (FieldType::Phone, json!("+33 1 23 45 67 89"), json!("12")),
            (FieldType::Url, json!("https://example.com/x"), json!("ftp://example.com")),
        ];
        for (field_type, good, bad) in cases {
            let d = def("f", field_type.clone(), false);
            assert!(d.validate(&good, None).is_ok(), "{field_type:?} should accept {good}");
            let err = d.validate(&bad, None).unwrap_err();
            assert_eq!(err.field, "custom.f", "{field_type:?}");
        }
    }

    #[test]
    fn unknown_and_missing_required_fields_are_reported_together() {
        let defs = vec![def("tier", FieldType::Text, true)];
        let raw = BTreeMap::from([("nope".to_owned(), json!(1))]);
        let err =
            apply_custom_values(&defs, &CustomValues::new(), &raw, true, Completeness::Complete, None).unwrap_err();
        let fields: Vec<_> = err.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["custom.nope", "custom.tier"]);
        assert!(
            apply_custom_values(&defs, &CustomValues::new(), &BTreeMap::new(), true, Completeness::Draft, None).is_ok()
        );
    }

    #[test]
    fn null_removes_a_value_and_defaults_fill_new_records() {
        let mut d = def("tier", FieldType::Text, false);
        d.default = Some(FieldValue::Text("bronze".into()));
        let values = apply_custom_values(
            &[d.clone()],
            &CustomValues::new(),
            &BTreeMap::new(),
            true,
            Completeness::Complete,
            None,
        )
        .unwrap();
        assert_eq!(values.get(&d.key), Some(&FieldValue::Text("bronze".into())));
        let raw = BTreeMap::from([("tier".to_owned(), Value::Null)]);
        let values = apply_custom_values(&[d], &values, &raw, false, Completeness::Complete, None).unwrap();
        assert!(values.is_empty());
    }

    #[test]
    fn a_retired_field_keeps_values_but_takes_no_new_one() {
        let mut d = def("tier", FieldType::Text, true);
        d.retired = true;
        d.default = Some(FieldValue::Text("bronze".into()));
        let kept = CustomValues::from([(d.key.clone(), FieldValue::Text("gold".into()))]);
        let none = BTreeMap::new();
        let values = apply_custom_values(&[d.clone()], &kept, &none, false, Completeness::Complete, None).unwrap();
        assert_eq!(values, kept, "kept, and not required");
        let fresh = apply_custom_values(&[d.clone()], &CustomValues::new(), &none, true, Completeness::Complete, None);
        assert!(fresh.unwrap().is_empty(), "no default");
        let raw = BTreeMap::from([("tier".to_owned(), json!("silver"))]);
        let err = apply_custom_values(&[d.clone()], &kept, &raw, false, Completeness::Complete, None).unwrap_err();
        assert_eq!(err.errors()[0].field, "custom.tier");
        let raw = BTreeMap::from([("tier".to_owned(), Value::Null)]);
        assert!(apply_custom_values(&[d], &kept, &raw, false, Completeness::Complete, None).unwrap().is_empty());
    }

    #[test]
    fn bad_keys_are_refused() {
        for k in ["", "Tier", "1tier", "tier-x", &"a".repeat(65)] {
            assert!(FieldKey::parse(k).is_err(), "{k}");
        }
    }
}
