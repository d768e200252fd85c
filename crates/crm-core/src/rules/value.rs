//! The typed values a condition reads ([`Value`]), their types ([`ValueType`]), the fields a
//! kind of context offers ([`Schema`]) and the context itself ([`Context`]).

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

/// The type of a field: it decides which operators a test on the field may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ValueType {
    /// Text (`equals`, `not_equals`, `contains`, `starts_with`, `ends_with`, `regex`).
    Text,
    /// A number (`equals`, `not_equals`, and the four comparisons).
    Number,
    /// True or false (`equals`, `not_equals`).
    Boolean,
    /// A calendar date, `2026-12-07` (`equals`, `not_equals`, and the four comparisons).
    Date,
    /// An instant, RFC 3339 (`equals`, `not_equals`, and the four comparisons).
    Instant,
    /// A list of texts (`contains`: an element equals the value; `regex`: an element matches).
    List,
}

impl ValueType {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            ValueType::Text => "text",
            ValueType::Number => "number",
            ValueType::Boolean => "boolean",
            ValueType::Date => "date",
            ValueType::Instant => "instant",
            ValueType::List => "list",
        }
    }
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One value of a context.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Value {
    /// Text.
    Text(String),
    /// A number; never NaN in a context built by the core.
    Number(f64),
    /// True or false.
    Boolean(bool),
    /// A calendar date.
    Date(NaiveDate),
    /// An instant.
    Instant(DateTime<Utc>),
    /// A list of texts.
    List(Vec<String>),
}

impl Value {
    /// The value's type.
    pub const fn value_type(&self) -> ValueType {
        match self {
            Value::Text(_) => ValueType::Text,
            Value::Number(_) => ValueType::Number,
            Value::Boolean(_) => ValueType::Boolean,
            Value::Date(_) => ValueType::Date,
            Value::Instant(_) => ValueType::Instant,
            Value::List(_) => ValueType::List,
        }
    }
}

/// The plain text of a value, as a script's placeholder shows it: numbers without a needless
/// `.0`, dates ISO 8601, instants RFC 3339 to the second, lists joined by `, `.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Text(s) => f.write_str(s),
            Value::Number(n) => write!(f, "{n}"),
            Value::Boolean(b) => f.write_str(if *b { "yes" } else { "no" }),
            Value::Date(d) => write!(f, "{d}"),
            Value::Instant(t) => f.write_str(&t.to_rfc3339_opts(SecondsFormat::Secs, true)),
            Value::List(items) => f.write_str(&items.join(", ")),
        }
    }
}

/// Where a condition reads its fields: a screen-pop's alert facts, an inbound mail, a
/// script's answers. A field the context does not have makes every test on it false (so
/// `{"not": …}` of it true), except that `exists` is how a rule asks for it.
pub trait Context {
    /// The field's value, if the context has one.
    fn value(&self, field: &str) -> Option<&Value>;
}

impl Context for HashMap<String, Value> {
    fn value(&self, field: &str) -> Option<&Value> {
        self.get(field)
    }
}

impl Context for BTreeMap<String, Value> {
    fn value(&self, field: &str) -> Option<&Value> {
        self.get(field)
    }
}

/// A context with no field at all (a script validated or run without customer or case).
#[derive(Clone, Copy, Debug, Default)]
pub struct EmptyContext;

impl Context for EmptyContext {
    fn value(&self, _field: &str) -> Option<&Value> {
        None
    }
}

/// Two contexts read as one: the first's fields win (a script's answers over the facts).
#[derive(Clone, Copy)]
pub struct Layered<'a> {
    /// Read first.
    pub top: &'a dyn Context,
    /// Read when `top` has no such field.
    pub bottom: &'a dyn Context,
}

impl fmt::Debug for Layered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Layered")
    }
}

impl Context for Layered<'_> {
    fn value(&self, field: &str) -> Option<&Value> {
        self.top.value(field).or_else(|| self.bottom.value(field))
    }
}

/// The fields a kind of context offers, with their types: exact names (`customer.vip`) and
/// prefixes for open families (`custom.` for custom fields, `headers.` for mail headers).
/// Validation refuses a test on a field the schema does not name.
///
/// ```
/// use crm_core::rules::{Schema, ValueType};
/// let schema = Schema::new()
///     .field("customer.vip", ValueType::Boolean)
///     .prefix("headers.", ValueType::Text);
/// assert_eq!(schema.type_of("customer.vip"), Some(ValueType::Boolean));
/// assert_eq!(schema.type_of("headers.x-priority"), Some(ValueType::Text));
/// assert_eq!(schema.type_of("headers."), None);
/// assert_eq!(schema.type_of("customer.name"), None);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Schema {
    fields: BTreeMap<String, ValueType>,
    prefixes: Vec<(String, ValueType)>,
}

impl Schema {
    /// A schema with no field.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or retypes) an exact field.
    #[must_use]
    pub fn field(mut self, name: impl Into<String>, ty: ValueType) -> Self {
        self.insert(name, ty);
        self
    }

    /// Adds a family of fields: every name that starts with `prefix` and goes on after it.
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<String>, ty: ValueType) -> Self {
        self.prefixes.push((prefix.into(), ty));
        self
    }

    /// Adds (or retypes) an exact field, in place.
    pub fn insert(&mut self, name: impl Into<String>, ty: ValueType) {
        self.fields.insert(name.into(), ty);
    }

    /// The type of a field, or `None` when the schema does not offer it. An exact field wins
    /// over a prefix; among prefixes, the longest.
    pub fn type_of(&self, field: &str) -> Option<ValueType> {
        if let Some(ty) = self.fields.get(field) {
            return Some(*ty);
        }
        self.prefixes
            .iter()
            .filter(|(p, _)| field.len() > p.len() && field.starts_with(p.as_str()))
            .max_by_key(|(p, _)| p.len())
            .map(|(_, ty)| *ty)
    }

    /// The exact fields, by name.
    pub fn fields(&self) -> impl Iterator<Item = (&str, ValueType)> {
        self.fields.iter().map(|(k, v)| (k.as_str(), *v))
    }
}
