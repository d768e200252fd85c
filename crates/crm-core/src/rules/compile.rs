//! Checking a [`Condition`] against a [`Schema`] and compiling it into a [`Filter`]: every
//! operator fits its field's type, every value parses, every regular expression compiles
//! within its bounds, no `all`/`any` is empty, and no `all` holds tests that contradict each
//! other (so can never match). Each fault names the path of its node
//! (`condition.all[1].any[0].value`).

use std::cmp::Ordering;

use chrono::{DateTime, NaiveDate, Utc};
use regex::{Regex, RegexBuilder};

use super::condition::{Condition, Literal, Operator, Test};
use super::value::{Context, Schema, Value, ValueType};
use crate::error::{FieldError, ValidationErrors};

/// The longest regular expression a test may hold, in bytes.
pub const MAX_PATTERN_LEN: usize = 1_000;
/// The most nodes (tests and combinators) one condition may hold.
pub const MAX_NODES: usize = 1_000;
/// The deepest a condition may nest.
pub const MAX_DEPTH: usize = 32;
/// The most memory one compiled regular expression may take (its program and its lazy DFA's
/// cache each), so a pattern like `\w{1000}{1000}` is refused rather than built.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// A checked, compiled condition, ready to evaluate against a [`Context`]. Evaluation takes
/// time linear in the condition and the values it reads (regular expressions included).
#[derive(Clone, Debug)]
pub struct Filter {
    root: Node,
}

#[derive(Clone, Debug)]
pub(super) enum Node {
    All(Vec<Node>),
    Any(Vec<Node>),
    Not(Box<Node>),
    Test { field: String, check: Check },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    fn holds(self, ord: Option<Ordering>) -> bool {
        let Some(ord) = ord else { return false };
        match self {
            Cmp::Eq => ord == Ordering::Equal,
            Cmp::Ne => ord != Ordering::Equal,
            Cmp::Lt => ord == Ordering::Less,
            Cmp::Le => ord != Ordering::Greater,
            Cmp::Gt => ord == Ordering::Greater,
            Cmp::Ge => ord != Ordering::Less,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum TextOp {
    Equals,
    NotEquals,
    Contains,
    StartsWith,
    EndsWith,
}

#[derive(Clone, Debug)]
pub(super) enum Check {
    Exists,
    /// `value` is already lower case when `ignore_case`.
    Text {
        op: TextOp,
        value: String,
        ignore_case: bool,
    },
    Regex(Regex),
    ListContains {
        value: String,
        ignore_case: bool,
    },
    Number(Cmp, f64),
    Boolean(Cmp, bool),
    Date(Cmp, NaiveDate),
    Instant(Cmp, DateTime<Utc>),
}

impl Filter {
    /// Whether the context meets the condition.
    pub fn matches(&self, ctx: &dyn Context) -> bool {
        self.root.matches(ctx)
    }
}

impl Node {
    fn matches(&self, ctx: &dyn Context) -> bool {
        match self {
            Node::All(nodes) => nodes.iter().all(|n| n.matches(ctx)),
            Node::Any(nodes) => nodes.iter().any(|n| n.matches(ctx)),
            Node::Not(node) => !node.matches(ctx),
            Node::Test { field, check } => ctx.value(field).is_some_and(|v| check.holds(v)),
        }
    }
}

impl Check {
    fn holds(&self, v: &Value) -> bool {
        match (self, v) {
            (Check::Exists, _) => true,
            (Check::Text { op, value, ignore_case }, Value::Text(s)) => {
                if *ignore_case {
                    text_holds(*op, &s.to_lowercase(), value)
                } else {
                    text_holds(*op, s, value)
                }
            }
            (Check::Regex(re), Value::Text(s)) => re.is_match(s),
            (Check::Regex(re), Value::List(items)) => items.iter().any(|s| re.is_match(s)),
            (Check::ListContains { value, ignore_case }, Value::List(items)) => {
                items.iter().any(|s| if *ignore_case { s.to_lowercase() == *value } else { s == value })
            }
            (Check::Number(cmp, lit), Value::Number(n)) => cmp.holds(n.partial_cmp(lit)),
            (Check::Boolean(cmp, lit), Value::Boolean(b)) => cmp.holds(Some(b.cmp(lit))),
            (Check::Date(cmp, lit), Value::Date(d)) => cmp.holds(Some(d.cmp(lit))),
            (Check::Instant(cmp, lit), Value::Instant(t)) => cmp.holds(Some(t.cmp(lit))),
            // A value of another type than the schema said: the test does not hold.
            _ => false,
        }
    }
}

pub(super) fn text_holds(op: TextOp, s: &str, value: &str) -> bool {
    match op {
        TextOp::Equals => s == value,
        TextOp::NotEquals => s != value,
        TextOp::Contains => s.contains(value),
        TextOp::StartsWith => s.starts_with(value),
        TextOp::EndsWith => s.ends_with(value),
    }
}

impl Condition {
    /// Checks the condition against the fields `schema` offers and compiles it; the faults'
    /// paths start at `condition`.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use crm_core::rules::{Condition, Schema, Value, ValueType};
    ///
    /// let schema = Schema::new().field("open_critical_cases", ValueType::Number);
    /// let rule: Condition = serde_json::from_str(
    ///     r#"{"field": "open_critical_cases", "op": "greater_than", "value": 0}"#,
    /// ).unwrap();
    /// let filter = rule.compile(&schema).unwrap();
    /// let ctx = HashMap::from([("open_critical_cases".to_owned(), Value::Number(2.0))]);
    /// assert!(filter.matches(&ctx));
    ///
    /// let bad: Condition = serde_json::from_str(
    ///     r#"{"all": [{"field": "open_critical_cases", "op": "contains", "value": "x"}]}"#,
    /// ).unwrap();
    /// let errors = bad.compile(&schema).unwrap_err();
    /// assert_eq!(errors.errors()[0].field, "condition.all[0].op");
    /// ```
    ///
    /// # Errors
    /// [`ValidationErrors`], one per fault: an unknown field, an operator the field's type
    /// does not have, a missing or ill-typed value, a bad or oversized regular expression, an
    /// empty `all` or `any`, more than [`MAX_NODES`] nodes or [`MAX_DEPTH`] levels, and an
    /// `all` whose tests contradict each other (it could never match).
    pub fn compile(&self, schema: &Schema) -> Result<Filter, ValidationErrors> {
        let mut faults = Vec::new();
        let mut nodes = 0;
        let root = compile_node(self, schema, "condition", 0, &mut nodes, &mut faults);
        if let (Some(root), true) = (&root, faults.is_empty()) {
            super::never::report_contradictions(root, "condition", &mut faults);
        }
        match (root, ValidationErrors::from_vec(faults)) {
            (_, Some(errors)) => Err(errors),
            (Some(root), None) => Ok(Filter { root }),
            (None, None) => Err(FieldError::new("condition", "is not valid").into()),
        }
    }
}

/// The node compiled, or `None` after pushing its faults.
fn compile_node(
    c: &Condition,
    schema: &Schema,
    path: &str,
    depth: usize,
    nodes: &mut usize,
    faults: &mut Vec<FieldError>,
) -> Option<Node> {
    *nodes += 1;
    if *nodes == MAX_NODES + 1 {
        faults.push(FieldError::new(path, format!("a condition holds at most {MAX_NODES} nodes")));
    }
    if depth > MAX_DEPTH {
        faults.push(FieldError::new(path, format!("a condition nests at most {MAX_DEPTH} levels deep")));
        return None;
    }
    if *nodes > MAX_NODES {
        return None;
    }
    match c {
        Condition::All(cs) | Condition::Any(cs) => {
            let key = if matches!(c, Condition::All(_)) { "all" } else { "any" };
            if cs.is_empty() {
                faults.push(FieldError::new(format!("{path}.{key}"), "must hold at least one condition"));
                return None;
            }
            let children: Vec<Option<Node>> = cs
                .iter()
                .enumerate()
                .map(|(i, c)| compile_node(c, schema, &format!("{path}.{key}[{i}]"), depth + 1, nodes, faults))
                .collect();
            let children: Option<Vec<Node>> = children.into_iter().collect();
            let children = children?;
            Some(if key == "all" { Node::All(children) } else { Node::Any(children) })
        }
        Condition::Not(inner) => compile_node(inner, schema, &format!("{path}.not"), depth + 1, nodes, faults)
            .map(|n| Node::Not(Box::new(n))),
        Condition::Test(t) => match compile_test(t, schema, path) {
            Ok(check) => Some(Node::Test { field: t.field.clone(), check }),
            Err(e) => {
                faults.push(e);
                None
            }
        },
    }
}

fn compile_test(t: &Test, schema: &Schema, path: &str) -> Result<Check, FieldError> {
    let at = |part: &str| format!("{path}.{part}");
    if t.field.is_empty() {
        return Err(FieldError::new(at("field"), "must name a field"));
    }
    let ty =
        schema.type_of(&t.field).ok_or_else(|| FieldError::new(at("field"), format!("unknown field `{}`", t.field)))?;
    if t.op == Operator::Exists {
        if t.value.is_some() {
            return Err(FieldError::new(at("value"), "`exists` takes no value"));
        }
        if t.ignore_case {
            return Err(FieldError::new(at("ignore_case"), "`exists` compares no text"));
        }
        return Ok(Check::Exists);
    }
    let unfit = || FieldError::new(at("op"), format!("`{}` does not apply to the {ty} field `{}`", t.op, t.field));
    let text_ops =
        [Operator::Equals, Operator::NotEquals, Operator::Contains, Operator::StartsWith, Operator::EndsWith];
    let fits = match ty {
        ValueType::Text => text_ops.contains(&t.op) || t.op == Operator::Regex,
        ValueType::List => matches!(t.op, Operator::Contains | Operator::Regex),
        ValueType::Boolean => matches!(t.op, Operator::Equals | Operator::NotEquals),
        ValueType::Number | ValueType::Date | ValueType::Instant => cmp_of(t.op).is_some(),
    };
    if !fits {
        return Err(unfit());
    }
    if t.ignore_case && !(matches!(ty, ValueType::Text | ValueType::List) && t.op != Operator::Regex) {
        let reason = if t.op == Operator::Regex {
            "applies to texts; in a regular expression write `(?i)`"
        } else {
            "applies to texts only"
        };
        return Err(FieldError::new(at("ignore_case"), reason));
    }
    let value = t.value.as_ref().ok_or_else(|| FieldError::new(at("value"), format!("`{}` needs a value", t.op)))?;
    let wrong = |what: &str| FieldError::new(at("value"), format!("must be {what} for the {ty} field `{}`", t.field));
    let cmp = cmp_of(t.op).unwrap_or(Cmp::Eq);
    match (ty, value) {
        (ValueType::Text | ValueType::List, Literal::Text(s)) if t.op == Operator::Regex => {
            compile_regex(s).map(Check::Regex).map_err(|reason| FieldError::new(at("value"), reason))
        }
        (ValueType::List, Literal::Text(s)) => {
            Ok(Check::ListContains { value: fold(s, t.ignore_case), ignore_case: t.ignore_case })
        }
        (ValueType::Text, Literal::Text(s)) => {
            let op = match t.op {
                Operator::Equals => TextOp::Equals,
                Operator::NotEquals => TextOp::NotEquals,
                Operator::Contains => TextOp::Contains,
                Operator::StartsWith => TextOp::StartsWith,
                _ => TextOp::EndsWith,
            };
            Ok(Check::Text { op, value: fold(s, t.ignore_case), ignore_case: t.ignore_case })
        }
        (ValueType::Text | ValueType::List, _) => Err(wrong("a string")),
        (ValueType::Number, Literal::Number(n)) if n.is_finite() => Ok(Check::Number(cmp, *n)),
        (ValueType::Number, _) => Err(wrong("a number")),
        (ValueType::Boolean, Literal::Boolean(b)) => Ok(Check::Boolean(cmp, *b)),
        (ValueType::Boolean, _) => Err(wrong("true or false")),
        (ValueType::Date, Literal::Text(s)) => {
            s.parse::<NaiveDate>().map(|d| Check::Date(cmp, d)).map_err(|_| wrong("a date (`2026-12-07`)"))
        }
        (ValueType::Date, _) => Err(wrong("a date (`2026-12-07`)")),
        (ValueType::Instant, Literal::Text(s)) => DateTime::parse_from_rfc3339(s)
            .map(|t| Check::Instant(cmp, t.with_timezone(&Utc)))
            .map_err(|_| wrong("an RFC 3339 instant (`2026-12-07T09:30:00Z`)")),
        (ValueType::Instant, _) => Err(wrong("an RFC 3339 instant (`2026-12-07T09:30:00Z`)")),
    }
}

fn fold(s: &str, ignore_case: bool) -> String {
    if ignore_case { s.to_lowercase() } else { s.to_owned() }
}

pub(super) fn cmp_of(op: Operator) -> Option<Cmp> {
    Some(match op {
        Operator::Equals => Cmp::Eq,
        Operator::NotEquals => Cmp::Ne,
        Operator::LessThan => Cmp::Lt,
        Operator::LessOrEqual => Cmp::Le,
        Operator::GreaterThan => Cmp::Gt,
        Operator::GreaterOrEqual => Cmp::Ge,
        _ => return None,
    })
}

/// Compiles a pattern with the `regex` crate (finite automata: matching is linear in the
/// text, whatever the pattern), bounded in length and in compiled size.
fn compile_regex(pattern: &str) -> Result<Regex, String> {
    if pattern.len() > MAX_PATTERN_LEN {
        return Err(format!("a regular expression holds at most {MAX_PATTERN_LEN} bytes"));
    }
    RegexBuilder::new(pattern).size_limit(REGEX_SIZE_LIMIT).dfa_size_limit(REGEX_SIZE_LIMIT).build().map_err(|e| {
        let detail = match &e {
            regex::Error::CompiledTooBig(_) => "it would compile too big".to_owned(),
            other => other.to_string().lines().map(str::trim).rfind(|l| !l.is_empty()).unwrap_or("").to_owned(),
        };
        format!("not a valid regular expression: {detail}")
    })
}

/// The tree compiled without the contradiction check (tests compare equivalent forms).
#[cfg(test)]
pub(super) fn compile_tree(
    c: &Condition,
    schema: &Schema,
    nodes: &mut usize,
    faults: &mut Vec<FieldError>,
) -> Option<Node> {
    compile_node(c, schema, "condition", 0, nodes, faults)
}

#[cfg(test)]
pub(super) fn evaluate(node: &Node, ctx: &dyn Context) -> bool {
    node.matches(ctx)
}
