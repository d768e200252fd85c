//! The condition language shared by the inbound email rules (EML-1) and the rule-based
//! alerts (GUI-2), and used by the interactive scripts' branches (GUI-1): tests on named,
//! typed fields of a context, combined with `all`, `any` and `not`.
//!
//! A [`Condition`] is what a supervisor writes (JSON below). It is checked against the
//! [`Schema`] of the context it will read (which fields exist, and their [`ValueType`]) and
//! compiled into a [`Filter`] by [`Condition::compile`]; faults name the path of their node.
//! A [`Filter`] is evaluated against any [`Context`] (a map of [`Value`]s, or a type that
//! looks fields up itself).
//!
//! # JSON form
//!
//! A node is an object with exactly one of `all` (a non-empty list: every one holds), `any`
//! (a non-empty list: one holds), `not` (a node), or `field` (a test):
//!
//! ```json
//! {"all": [
//!   {"field": "customer.vip", "op": "equals", "value": true},
//!   {"any": [
//!     {"field": "subject", "op": "contains", "value": "refund", "ignore_case": true},
//!     {"field": "from", "op": "regex", "value": "@example\\.(com|org)$"}
//!   ]},
//!   {"not": {"field": "open_critical_cases", "op": "greater_than", "value": 0}},
//!   {"field": "custom.contract_end", "op": "less_than", "value": "2027-01-01"},
//!   {"field": "custom.tier", "op": "exists"}
//! ]}
//! ```
//!
//! | field type | operators | `value` |
//! |---|---|---|
//! | `text` | `equals`, `not_equals`, `contains`, `starts_with`, `ends_with` (with `ignore_case`), `regex` | a string |
//! | `number` | `equals`, `not_equals`, `less_than`, `less_or_equal`, `greater_than`, `greater_or_equal` | a number |
//! | `boolean` | `equals`, `not_equals` | `true` or `false` |
//! | `date` | as numbers | `"2026-12-07"` |
//! | `instant` | as numbers | `"2026-12-07T09:30:00Z"` (RFC 3339) |
//! | `list` (of texts) | `contains` (an element equals; with `ignore_case`), `regex` (an element matches) | a string |
//! | any | `exists` | none |
//!
//! A test on a field the context does not have is false (its `not` is true), and so is
//! `not_equals`: "has a value, and another one". Regular expressions are the `regex`
//! crate's: finite automata, matching in linear time (no look-around, no back-references),
//! at most [`MAX_PATTERN_LEN`] bytes and a bounded compiled size. A condition holds at most
//! [`MAX_NODES`] nodes, [`MAX_DEPTH`] levels deep.
//!
//! # Validation
//!
//! [`Condition::compile`] refuses, each with the path of the faulty node
//! (`condition.all[1].any[0].value`): an unknown field, an operator its type does not have,
//! a missing, superfluous or ill-typed value, a regular expression that does not compile or
//! is too big, an empty `all` or `any`, a condition too large or too deep, and an `all`
//! whose tests on one field contradict each other, so it can never match.

mod compile;
mod condition;
mod never;
#[cfg(test)]
mod tests;
mod value;

pub use compile::{Filter, MAX_DEPTH, MAX_NODES, MAX_PATTERN_LEN};
pub use condition::{Condition, Literal, Operator, Test};
pub use value::{Context, EmptyContext, Layered, Schema, Value, ValueType};
