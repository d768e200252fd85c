//! The condition tree as written ([`Condition`]): tests on fields combined with `all`, `any`
//! and `not`, and its JSON form. A condition is checked and compiled against a [`Schema`]
//! before use ([`Condition::compile`]).
//!
//! [`Schema`]: super::Schema

use std::fmt;

use serde::{Deserialize, Serialize};

/// What a test does with its field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Operator {
    /// The field equals the value (texts, numbers, booleans, dates, instants).
    Equals,
    /// The field has a value and it differs from the value.
    NotEquals,
    /// Text: the field contains the value. List: an element equals the value.
    Contains,
    /// Text: the field starts with the value.
    StartsWith,
    /// Text: the field ends with the value.
    EndsWith,
    /// Text: the field matches the regular expression (linear time, no look-around or
    /// back-references); list: an element matches.
    Regex,
    /// Numbers, dates, instants: the field is less than the value.
    LessThan,
    /// Numbers, dates, instants: the field is less than or equal to the value.
    LessOrEqual,
    /// Numbers, dates, instants: the field is greater than the value.
    GreaterThan,
    /// Numbers, dates, instants: the field is greater than or equal to the value.
    GreaterOrEqual,
    /// The field has a value (any type; the test takes no `value`).
    Exists,
}

impl Operator {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Operator::Equals => "equals",
            Operator::NotEquals => "not_equals",
            Operator::Contains => "contains",
            Operator::StartsWith => "starts_with",
            Operator::EndsWith => "ends_with",
            Operator::Regex => "regex",
            Operator::LessThan => "less_than",
            Operator::LessOrEqual => "less_or_equal",
            Operator::GreaterThan => "greater_than",
            Operator::GreaterOrEqual => "greater_or_equal",
            Operator::Exists => "exists",
        }
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A test's value as written: a boolean, a number, or a string (dates, instants and regular
/// expressions are strings, read according to the field's type).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum Literal {
    /// `true` or `false`.
    Boolean(bool),
    /// A JSON number.
    Number(f64),
    /// A string.
    Text(String),
}

/// One test on one field.
#[derive(Clone, Debug, PartialEq)]
pub struct Test {
    /// The field's name in the context (`customer.vip`, `subject`, `answers.reason`).
    pub field: String,
    /// The operator.
    pub op: Operator,
    /// The value compared with; `None` only for `exists`.
    pub value: Option<Literal>,
    /// Texts and list elements compared without regard to case (not for `regex`: write
    /// `(?i)` in the pattern).
    pub ignore_case: bool,
}

/// A condition: a test, or tests combined. Its JSON form is an object with exactly one of
/// `all`, `any`, `not`, or `field` (a test, with `op`, `value` and `ignore_case`); see the
/// [module documentation](super) for examples.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ConditionNode", into = "ConditionNode")]
pub enum Condition {
    /// Every condition holds (never empty).
    All(Vec<Condition>),
    /// At least one condition holds (never empty).
    Any(Vec<Condition>),
    /// The condition does not hold.
    Not(Box<Condition>),
    /// A test on a field.
    Test(Test),
}

impl Condition {
    /// A test with a value.
    pub fn test(field: impl Into<String>, op: Operator, value: Literal) -> Self {
        Condition::Test(Test { field: field.into(), op, value: Some(value), ignore_case: false })
    }

    /// `exists` on a field.
    pub fn exists(field: impl Into<String>) -> Self {
        Condition::Test(Test { field: field.into(), op: Operator::Exists, value: None, ignore_case: false })
    }

    /// `not` of this condition.
    #[must_use]
    pub fn negate(self) -> Self {
        Condition::Not(Box::new(self))
    }
}

/// The JSON object of one node, as read and written; turned into a [`Condition`] only when
/// exactly one kind of node is present.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
struct ConditionNode {
    /// Every condition holds (at least one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(no_recursion))]
    all: Option<Vec<Condition>>,
    /// At least one condition holds (at least one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(no_recursion))]
    any: Option<Vec<Condition>>,
    /// The condition does not hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(no_recursion))]
    not: Option<Box<Condition>>,
    /// A test: the field's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    field: Option<String>,
    /// A test: the operator (required with `field`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    op: Option<Operator>,
    /// A test: the value (required unless `op` is `exists`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    value: Option<Literal>,
    /// A test: compare texts without regard to case.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    ignore_case: bool,
}

impl TryFrom<ConditionNode> for Condition {
    type Error = String;

    fn try_from(node: ConditionNode) -> Result<Self, String> {
        let kinds = [node.all.is_some(), node.any.is_some(), node.not.is_some(), node.field.is_some()];
        if kinds.iter().filter(|k| **k).count() != 1 {
            return Err("a condition has exactly one of `all`, `any`, `not` or `field`".to_owned());
        }
        let test_part = node.op.is_some() || node.value.is_some() || node.ignore_case;
        if node.field.is_none() && test_part {
            return Err("`op`, `value` and `ignore_case` belong to a test (with `field`)".to_owned());
        }
        if let Some(all) = node.all {
            return Ok(Condition::All(all));
        }
        if let Some(any) = node.any {
            return Ok(Condition::Any(any));
        }
        if let Some(not) = node.not {
            return Ok(Condition::Not(not));
        }
        let field = node.field.unwrap_or_default();
        let op = node.op.ok_or_else(|| format!("the test on `{field}` has no `op`"))?;
        Ok(Condition::Test(Test { field, op, value: node.value, ignore_case: node.ignore_case }))
    }
}

impl From<Condition> for ConditionNode {
    fn from(c: Condition) -> Self {
        match c {
            Condition::All(all) => ConditionNode { all: Some(all), ..Self::default() },
            Condition::Any(any) => ConditionNode { any: Some(any), ..Self::default() },
            Condition::Not(not) => ConditionNode { not: Some(not), ..Self::default() },
            Condition::Test(t) => ConditionNode {
                field: Some(t.field),
                op: Some(t.op),
                value: t.value,
                ignore_case: t.ignore_case,
                ..Self::default()
            },
        }
    }
}

// The schema of a condition is its node's object; the node's fields refer back to
// `Condition` by name, so the document holds one recursive component.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Condition {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        <ConditionNode as utoipa::PartialSchema>::schema()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Condition {
    fn schemas(schemas: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>) {
        use utoipa::PartialSchema;
        schemas.push((<Operator as utoipa::ToSchema>::name().into(), Operator::schema()));
        schemas.push((<Literal as utoipa::ToSchema>::name().into(), Literal::schema()));
    }
}
