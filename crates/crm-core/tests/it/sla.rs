//! The SLA clock's golden vectors: every `tests/sla/*.json` file holds calendars, policies
//! and cases (a history, an instant, the expected state), written and computed by hand. One
//! data-driven `check` runs them all; an expectation names only the fields it checks.
//!
//! In an expectation, a `*_secs` field may be written as a duration (`"2h30m"`, `"45m"`,
//! `"1d2h"`, a day being 24 hours), and a metric as `null` when it must be absent.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use crm_core::sla::{BusinessCalendar, CalendarSpec, PolicyBook, PolicySpec, SlaEvent, SlaPolicy, sla_state};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    about: String,
    calendars: BTreeMap<String, CalendarSpec>,
    policies: BTreeMap<String, NamedPolicy>,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NamedPolicy {
    calendar: String,
    policy: PolicySpec,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    #[serde(default)]
    why: String,
    history: Vec<SlaEvent>,
    now: DateTime<Utc>,
    expect: BTreeMap<String, Value>,
}

/// Seconds of a written duration (`"1d2h30m15s"`) or a number.
fn seconds(v: &Value) -> Option<i64> {
    if let Some(n) = v.as_i64() {
        return Some(n);
    }
    let text = v.as_str()?;
    let (mut total, mut n) = (0i64, String::new());
    for c in text.chars() {
        if c.is_ascii_digit() {
            n.push(c);
            continue;
        }
        let unit = match c {
            'd' => 86_400,
            'h' => 3_600,
            'm' => 60,
            's' => 1,
            _ => return None,
        };
        total += n.parse::<i64>().ok()? * unit;
        n.clear();
    }
    n.is_empty().then_some(total)
}

fn book(file: &File) -> Result<PolicyBook, String> {
    let mut book = PolicyBook::new();
    for (name, p) in &file.policies {
        let spec = file.calendars.get(&p.calendar).ok_or(format!("policy {name}: no calendar {}", p.calendar))?;
        let calendar = BusinessCalendar::new(spec.clone()).map_err(|e| format!("calendar {}: {e}", p.calendar))?;
        let policy = SlaPolicy::new(p.policy.clone()).map_err(|e| format!("policy {name}: {e}"))?;
        book.insert(name.clone(), policy, calendar);
    }
    Ok(book)
}

/// Compares the state of one case with its expectation; the differences, one per line.
fn check(book: &PolicyBook, case: &Case) -> Vec<String> {
    let actual = match sla_state(book, &case.history, case.now) {
        Ok(state) => serde_json::to_value(state).unwrap_or_default(),
        Err(e) => serde_json::json!({ "error": e.to_string() }),
    };
    let mut wrong = Vec::new();
    for (key, want) in &case.expect {
        let got = actual.get(key).cloned().unwrap_or(Value::Null);
        match (want, &got) {
            (Value::Object(fields), Value::Object(have)) => {
                for (field, w) in fields {
                    let g = have.get(field).cloned().unwrap_or(Value::Null);
                    let same = if field.ends_with("_secs") {
                        seconds(w).is_some() && seconds(w) == seconds(&g)
                    } else {
                        *w == g
                    };
                    if !same {
                        wrong.push(format!("{key}.{field}: expected {w}, got {g}"));
                    }
                }
            }
            _ if *want == got => {}
            _ => wrong.push(format!("{key}: expected {want}, got {got}")),
        }
    }
    wrong
}

#[test]
fn golden_vectors_hold() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sla");
    let mut paths: Vec<_> = std::fs::read_dir(&dir).into_iter().flatten().flatten().map(|e| e.path()).collect();
    paths.retain(|p| p.extension().is_some_and(|e| e == "json"));
    paths.sort();
    let (mut cases, mut failures) = (0, Vec::new());
    for path in &paths {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let file: File = match serde_json::from_str(&text) {
            Ok(f) => f,
            Err(e) => {
                failures.push(format!("{}: {e}", path.display()));
                continue;
            }
        };
        assert!(!file.about.is_empty(), "{} says what it is about", path.display());
        let book = match book(&file) {
            Ok(b) => b,
            Err(e) => {
                failures.push(format!("{}: {e}", path.display()));
                continue;
            }
        };
        for case in &file.cases {
            cases += 1;
            assert!(!case.expect.is_empty(), "{}: {} expects something", path.display(), case.name);
            let _ = &case.why;
            for w in check(&book, case) {
                failures.push(format!(
                    "{} / {}: {w}",
                    path.file_name().map(|f| f.to_string_lossy()).unwrap_or_default(),
                    case.name
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{} of the golden vectors' checks failed:\n{}", failures.len(), failures.join("\n"));
    assert!(cases >= 60, "only {cases} golden vectors");
}

#[test]
fn written_durations_are_read_as_seconds() {
    assert_eq!(seconds(&Value::from("1d2h30m15s")), Some(95_415));
    assert_eq!(seconds(&Value::from(42)), Some(42));
    assert_eq!(seconds(&Value::from("2x")), None);
    assert_eq!(seconds(&Value::from("5")), None);
}
