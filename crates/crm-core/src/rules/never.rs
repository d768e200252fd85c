//! Finding conditions that can never match: an `all` whose tests on one field contradict
//! each other (`> 5` and `< 3`, `equals "a"` and `equals "b"`, a test and `not exists`).
//! Only what is certain is reported: a condition reported here matches no context at all
//! (a property test holds it to that); many impossible conditions go unnoticed.

use std::collections::BTreeMap;

use super::compile::{Check, Cmp, Node, TextOp};
use crate::error::FieldError;

/// Pushes a fault for each `all` that can never match, naming the innermost one.
pub(super) fn report_contradictions(root: &Node, path: &str, faults: &mut Vec<FieldError>) {
    walk(root, path, faults);
}

/// Walks post-order; true when this node is an `all` reported, or holds (through nested
/// `all`s) one that was, so the outer ones are not reported again for the same reason.
fn walk(node: &Node, path: &str, faults: &mut Vec<FieldError>) -> bool {
    match node {
        Node::All(children) => {
            let mut inner_reported = false;
            for (i, c) in children.iter().enumerate() {
                let reported = walk(c, &format!("{path}.all[{i}]"), faults);
                inner_reported |= reported && matches!(c, Node::All(_));
            }
            if inner_reported {
                return true;
            }
            let mut by_field: BTreeMap<&str, FieldTests<'_>> = BTreeMap::new();
            collect(node, &mut by_field);
            for (field, tests) in &by_field {
                if let Some(reason) = tests.contradiction() {
                    faults.push(FieldError::new(path, format!("can never match: the tests on `{field}` {reason}")));
                    return true;
                }
            }
            false
        }
        Node::Any(children) => {
            for (i, c) in children.iter().enumerate() {
                walk(c, &format!("{path}.any[{i}]"), faults);
            }
            false
        }
        Node::Not(inner) => {
            walk(inner, &format!("{path}.not"), faults);
            false
        }
        Node::Test { .. } => false,
    }
}

#[derive(Default)]
struct FieldTests<'a> {
    /// A `not exists` on the field holds in the conjunction.
    absent: bool,
    checks: Vec<&'a Check>,
}

/// The tests that must all hold when `node` (an `all`) holds: its own tests, its
/// `not exists`, and those of the `all`s it holds.
fn collect<'a>(node: &'a Node, out: &mut BTreeMap<&'a str, FieldTests<'a>>) {
    let Node::All(children) = node else { return };
    for c in children {
        match c {
            Node::Test { field, check } => out.entry(field.as_str()).or_default().checks.push(check),
            Node::Not(inner) => {
                if let Node::Test { field, check: Check::Exists } = inner.as_ref() {
                    out.entry(field.as_str()).or_default().absent = true;
                }
            }
            Node::All(_) => collect(c, out),
            Node::Any(_) => {}
        }
    }
}

impl FieldTests<'_> {
    fn contradiction(&self) -> Option<&'static str> {
        if self.absent && !self.checks.is_empty() {
            return Some("need a value that `not exists` forbids");
        }
        let numbers: Vec<(Cmp, f64)> = self
            .checks
            .iter()
            .filter_map(|c| if let Check::Number(cmp, v) = c { Some((*cmp, *v)) } else { None })
            .collect();
        let dates: Vec<_> = self
            .checks
            .iter()
            .filter_map(|c| if let Check::Date(cmp, v) = c { Some((*cmp, *v)) } else { None })
            .collect();
        let instants: Vec<_> = self
            .checks
            .iter()
            .filter_map(|c| if let Check::Instant(cmp, v) = c { Some((*cmp, *v)) } else { None })
            .collect();
        let booleans: Vec<_> = self
            .checks
            .iter()
            .filter_map(|c| if let Check::Boolean(cmp, v) = c { Some((*cmp, *v)) } else { None })
            .collect();
        if interval_conflict(&numbers) || interval_conflict(&dates) || interval_conflict(&instants) {
            return Some("leave no value between them");
        }
        if !booleans.is_empty() && ![false, true].iter().any(|b| booleans.iter().all(|(cmp, v)| holds(*cmp, b, v))) {
            return Some("leave neither true nor false");
        }
        if self.text_conflict() {
            return Some("ask for texts that cannot be the same");
        }
        None
    }

    /// An `equals` against another `equals`, a `not_equals` or a `contains`/`starts_with`/
    /// `ends_with` it does not meet.
    fn text_conflict(&self) -> bool {
        let texts: Vec<(TextOp, &str, bool)> = self
            .checks
            .iter()
            .filter_map(|c| match c {
                Check::Text { op, value, ignore_case } => Some((*op, value.as_str(), *ignore_case)),
                _ => None,
            })
            .collect();
        texts.iter().filter(|(op, ..)| *op == TextOp::Equals).any(|&(_, a, a_ic)| {
            texts.iter().any(|&(op, b, b_ic)| match (op, a_ic, b_ic) {
                // Both folded, or the exact one folded to compare with the folded one.
                (TextOp::Equals, _, _) if a_ic || b_ic => fold_once(a, a_ic) != fold_once(b, b_ic),
                (TextOp::Equals, false, false) => a != b,
                // The only texts that meet `a` exactly, or `a` ignoring case, all fold to `a`.
                (TextOp::NotEquals, _, true) => fold_once(a, a_ic) == b,
                (TextOp::NotEquals, false, false) => a == b,
                (op, false, false) => op != TextOp::NotEquals && !super::compile::text_holds(op, a, b),
                (op, false, true) => op != TextOp::NotEquals && !super::compile::text_holds(op, &a.to_lowercase(), b),
                _ => false,
            })
        })
    }
}

/// `s` in lower case unless it already is (a folded literal).
fn fold_once(s: &str, folded: bool) -> String {
    if folded { s.to_owned() } else { s.to_lowercase() }
}

fn holds<T: PartialOrd>(cmp: Cmp, x: &T, lit: &T) -> bool {
    match cmp {
        Cmp::Eq => x == lit,
        Cmp::Ne => x != lit,
        Cmp::Lt => x < lit,
        Cmp::Le => x <= lit,
        Cmp::Gt => x > lit,
        Cmp::Ge => x >= lit,
    }
}

/// Whether comparisons on one ordered field leave no value: two different `equals`, an
/// `equals` outside the bounds or excluded, or bounds that cross (or meet, open or excluded).
fn interval_conflict<T: PartialOrd + Copy>(tests: &[(Cmp, T)]) -> bool {
    let mut lo: Option<(T, bool)> = None;
    let mut hi: Option<(T, bool)> = None;
    let mut equal: Option<T> = None;
    let mut excluded = Vec::new();
    for &(cmp, v) in tests {
        match cmp {
            Cmp::Eq => match equal {
                Some(e) if e != v => return true,
                _ => equal = Some(v),
            },
            Cmp::Ne => excluded.push(v),
            Cmp::Gt | Cmp::Ge => {
                let inclusive = cmp == Cmp::Ge;
                if lo.is_none_or(|(l, l_inc)| v > l || (v == l && l_inc && !inclusive)) {
                    lo = Some((v, inclusive));
                }
            }
            Cmp::Lt | Cmp::Le => {
                let inclusive = cmp == Cmp::Le;
                if hi.is_none_or(|(h, h_inc)| v < h || (v == h && h_inc && !inclusive)) {
                    hi = Some((v, inclusive));
                }
            }
        }
    }
    if let Some(e) = equal {
        let above = lo.is_none_or(|(l, inc)| e > l || (inc && e == l));
        let below = hi.is_none_or(|(h, inc)| e < h || (inc && e == h));
        return !(above && below) || excluded.contains(&e);
    }
    match (lo, hi) {
        (Some((l, l_inc)), Some((h, h_inc))) => l > h || (l == h && (!l_inc || !h_inc || excluded.contains(&l))),
        _ => false,
    }
}
