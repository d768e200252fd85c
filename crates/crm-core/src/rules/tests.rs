//! Tests of the condition language: the JSON form, validation paths, evaluation, and
//! properties (double negation, singletons, De Morgan, contradictions never match).

use std::collections::HashMap;

use chrono::{NaiveDate, TimeZone, Utc};
use proptest::prelude::*;
use serde_json::json;

use super::*;

fn schema() -> Schema {
    Schema::new()
        .field("subject", ValueType::Text)
        .field("n", ValueType::Number)
        .field("m", ValueType::Number)
        .field("vip", ValueType::Boolean)
        .field("due", ValueType::Date)
        .field("at", ValueType::Instant)
        .field("tags", ValueType::List)
        .prefix("custom.", ValueType::Text)
}

fn parse(v: serde_json::Value) -> Condition {
    serde_json::from_value(v).expect("a condition")
}

fn faults(v: serde_json::Value) -> Vec<(String, String)> {
    match parse(v).compile(&schema()) {
        Ok(_) => Vec::new(),
        Err(e) => e.errors().iter().map(|e| (e.field.clone(), e.reason.clone())).collect(),
    }
}

fn ctx(pairs: &[(&str, Value)]) -> HashMap<String, Value> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()
}

fn check(v: serde_json::Value, context: &HashMap<String, Value>) -> bool {
    parse(v).compile(&schema()).expect("valid").matches(context)
}

#[test]
fn json_form_round_trips() {
    let text = json!({"all": [
        {"field": "vip", "op": "equals", "value": true},
        {"any": [
            {"field": "subject", "op": "contains", "value": "refund", "ignore_case": true},
            {"field": "subject", "op": "regex", "value": "^re:"}
        ]},
        {"not": {"field": "n", "op": "greater_than", "value": 0.5}},
        {"field": "custom.tier", "op": "exists"}
    ]});
    let c = parse(text.clone());
    assert_eq!(serde_json::to_value(&c).expect("json"), text);
    assert!(c.compile(&schema()).is_ok());
}

#[test]
fn a_node_with_two_kinds_or_a_test_without_op_is_refused_when_read() {
    for bad in [
        json!({"all": [], "any": []}),
        json!({}),
        json!({"field": "n"}),
        json!({"all": [{"field": "n", "op": "exists"}], "op": "exists"}),
        json!({"field": "n", "op": "exists", "colour": 1}),
        json!({"field": "n", "op": "like", "value": 1}),
    ] {
        assert!(serde_json::from_value::<Condition>(bad.clone()).is_err(), "{bad}");
    }
}

#[test]
fn faults_name_the_path_of_their_node() {
    let f = faults(json!({"all": [
        {"field": "vip", "op": "equals", "value": true},
        {"any": [
            {"field": "n", "op": "contains", "value": "x"},
            {"field": "nope", "op": "exists"},
            {"field": "subject", "op": "regex", "value": "(unclosed"},
            {"field": "due", "op": "less_than", "value": "tomorrow"}
        ]},
        {"any": []},
        {"not": {"field": "subject", "op": "equals"}},
        {"field": "subject", "op": "regex", "value": "a", "ignore_case": true},
        {"field": "vip", "op": "exists", "value": true}
    ]}));
    let paths: Vec<&str> = f.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "condition.all[1].any[0].op",
            "condition.all[1].any[1].field",
            "condition.all[1].any[2].value",
            "condition.all[1].any[3].value",
            "condition.all[2].any",
            "condition.all[3].not.value",
            "condition.all[4].ignore_case",
            "condition.all[5].value",
        ]
    );
    assert!(f[0].1.contains("`contains` does not apply to the number field `n`"), "{f:?}");
    assert!(f[1].1.contains("unknown field `nope`"));
    assert!(f[2].1.starts_with("not a valid regular expression"), "{}", f[2].1);
    assert!(f[4].1.contains("at least one"));
}

#[test]
fn oversized_patterns_and_trees_are_refused() {
    let long = "a".repeat(MAX_PATTERN_LEN + 1);
    let f = faults(json!({"field": "subject", "op": "regex", "value": long}));
    assert_eq!(f[0].0, "condition.value");
    assert!(f[0].1.contains("at most"));
    // Small to write, huge to compile: refused by the size limit, not built.
    let f = faults(json!({"field": "subject", "op": "regex", "value": r"\w{1000}{1000}"}));
    assert!(f[0].1.contains("too big") || f[0].1.contains("not a valid"), "{f:?}");
    let mut deep = json!({"field": "vip", "op": "exists"});
    for _ in 0..(MAX_DEPTH + 2) {
        deep = json!({"not": deep});
    }
    assert!(faults(deep).iter().any(|(_, r)| r.contains("levels deep")));
    let wide: Vec<_> = (0..=MAX_NODES).map(|_| json!({"field": "vip", "op": "exists"})).collect();
    let f = faults(json!({"any": wide}));
    assert_eq!(f.len(), 1, "one fault for the size, not one per node");
}

#[test]
fn regex_matching_takes_linear_time_on_a_classic_catastrophic_pattern() {
    let filter =
        parse(json!({"field": "subject", "op": "regex", "value": "^(a+)+$"})).compile(&schema()).expect("valid");
    let evil = format!("{}!", "a".repeat(50_000));
    let started = std::time::Instant::now();
    assert!(!filter.matches(&ctx(&[("subject", Value::Text(evil))])));
    assert!(started.elapsed() < std::time::Duration::from_secs(2), "backtracking?");
}

#[test]
fn contradictions_are_refused_naming_the_innermost_all() {
    for (c, path) in [
        (
            json!({"all": [{"field": "n", "op": "greater_than", "value": 5}, {"field": "n", "op": "less_than", "value": 3}]}),
            "condition",
        ),
        (
            json!({"all": [{"field": "n", "op": "greater_or_equal", "value": 3}, {"field": "n", "op": "less_than", "value": 3}]}),
            "condition",
        ),
        (
            json!({"all": [{"field": "n", "op": "equals", "value": 3}, {"field": "n", "op": "not_equals", "value": 3}]}),
            "condition",
        ),
        (
            json!({"all": [{"field": "vip", "op": "equals", "value": true}, {"field": "vip", "op": "equals", "value": false}]}),
            "condition",
        ),
        (
            json!({"any": [{"field": "vip", "op": "exists"}, {"all": [{"field": "subject", "op": "equals", "value": "a"}, {"field": "subject", "op": "equals", "value": "b"}]}]}),
            "condition.any[1]",
        ),
        (
            json!({"all": [{"field": "subject", "op": "equals", "value": "Hello"}, {"field": "subject", "op": "starts_with", "value": "x"}]}),
            "condition",
        ),
        (
            json!({"all": [{"field": "subject", "op": "equals", "value": "Hello"}, {"field": "subject", "op": "not_equals", "value": "hello", "ignore_case": true}]}),
            "condition",
        ),
        (
            json!({"all": [{"not": {"field": "tags", "op": "exists"}}, {"field": "tags", "op": "contains", "value": "x"}]}),
            "condition",
        ),
        (
            json!({"all": [{"field": "due", "op": "less_than", "value": "2026-01-01"}, {"all": [{"field": "due", "op": "greater_than", "value": "2026-06-01"}]}]}),
            "condition",
        ),
        (
            json!({"all": [{"all": [{"field": "n", "op": "equals", "value": 1}, {"field": "n", "op": "equals", "value": 2}]}]}),
            "condition.all[0]",
        ),
    ] {
        let f = faults(c.clone());
        assert_eq!(f.len(), 1, "{c}: {f:?}");
        assert_eq!(f[0].0, path, "{c}");
        assert!(f[0].1.starts_with("can never match"), "{f:?}");
    }
    // Satisfiable ones pass.
    for c in [
        json!({"all": [{"field": "n", "op": "greater_or_equal", "value": 3}, {"field": "n", "op": "less_or_equal", "value": 3}]}),
        json!({"all": [{"field": "subject", "op": "equals", "value": "Hello"}, {"field": "subject", "op": "equals", "value": "hello", "ignore_case": true}]}),
        json!({"all": [{"field": "subject", "op": "equals", "value": "Hello"}, {"field": "subject", "op": "starts_with", "value": "he", "ignore_case": true}]}),
        json!({"any": [{"field": "n", "op": "greater_than", "value": 5}, {"field": "n", "op": "less_than", "value": 3}]}),
    ] {
        assert_eq!(faults(c.clone()), Vec::new(), "{c}");
    }
}

#[test]
fn evaluation_of_each_type() {
    let day = NaiveDate::from_ymd_opt(2026, 12, 7).expect("date");
    let at = Utc.with_ymd_and_hms(2026, 12, 7, 9, 30, 0).single().expect("instant");
    let c = ctx(&[
        ("subject", Value::Text("RE: Refund please".into())),
        ("n", Value::Number(3.0)),
        ("vip", Value::Boolean(true)),
        ("due", Value::Date(day)),
        ("at", Value::Instant(at)),
        ("tags", Value::List(vec!["Gold".into(), "churn-risk".into()])),
    ]);
    assert!(check(json!({"field": "subject", "op": "contains", "value": "refund", "ignore_case": true}), &c));
    assert!(!check(json!({"field": "subject", "op": "contains", "value": "refund"}), &c));
    assert!(check(json!({"field": "subject", "op": "starts_with", "value": "RE:"}), &c));
    assert!(check(json!({"field": "subject", "op": "ends_with", "value": "please"}), &c));
    assert!(check(json!({"field": "subject", "op": "regex", "value": "(?i)^re:\\s+refund"}), &c));
    assert!(check(json!({"field": "n", "op": "greater_or_equal", "value": 3}), &c));
    assert!(!check(json!({"field": "n", "op": "greater_than", "value": 3}), &c));
    assert!(check(json!({"field": "vip", "op": "not_equals", "value": false}), &c));
    assert!(check(json!({"field": "due", "op": "less_than", "value": "2026-12-08"}), &c));
    assert!(check(json!({"field": "at", "op": "greater_than", "value": "2026-12-07T10:00:00+02:00"}), &c));
    assert!(check(json!({"field": "tags", "op": "contains", "value": "gold", "ignore_case": true}), &c));
    assert!(!check(json!({"field": "tags", "op": "contains", "value": "gold"}), &c));
    assert!(check(json!({"field": "tags", "op": "regex", "value": "^churn"}), &c));
    // A missing field: every test false, `not_equals` too; `not` of it true.
    assert!(!check(json!({"field": "custom.tier", "op": "not_equals", "value": "x"}), &c));
    assert!(check(json!({"not": {"field": "custom.tier", "op": "exists"}}), &c));
    // A value of another type than the schema's: false.
    let odd = ctx(&[("n", Value::Text("3".into()))]);
    assert!(!check(json!({"field": "n", "op": "equals", "value": 3}), &odd));
}

// ----- properties -----

const FIELDS: [&str; 4] = ["subject", "n", "vip", "tags"];

fn arb_test() -> impl Strategy<Value = Condition> {
    let text = prop_oneof![Just("a"), Just("ab"), Just("B"), Just("")].prop_map(str::to_owned);
    prop_oneof![
        (
            prop_oneof![
                Just(Operator::Equals),
                Just(Operator::NotEquals),
                Just(Operator::Contains),
                Just(Operator::StartsWith),
                Just(Operator::EndsWith)
            ],
            text.clone(),
            any::<bool>()
        )
            .prop_map(|(op, v, ic)| Condition::Test(Test {
                field: "subject".into(),
                op,
                value: Some(Literal::Text(v)),
                ignore_case: ic
            })),
        (
            prop_oneof![
                Just(Operator::Equals),
                Just(Operator::NotEquals),
                Just(Operator::LessThan),
                Just(Operator::LessOrEqual),
                Just(Operator::GreaterThan),
                Just(Operator::GreaterOrEqual)
            ],
            0..4i32
        )
            .prop_map(|(op, v)| Condition::test("n", op, Literal::Number(f64::from(v)))),
        (prop_oneof![Just(Operator::Equals), Just(Operator::NotEquals)], any::<bool>())
            .prop_map(|(op, b)| Condition::test("vip", op, Literal::Boolean(b))),
        text.prop_map(|v| Condition::test("tags", Operator::Contains, Literal::Text(v))),
        Just("^a").prop_map(|p| Condition::test("subject", Operator::Regex, Literal::Text(p.to_owned()))),
        prop::sample::select(FIELDS.to_vec()).prop_map(Condition::exists),
    ]
}

fn arb_condition() -> impl Strategy<Value = Condition> {
    arb_test().prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 1..4).prop_map(Condition::All),
            prop::collection::vec(inner.clone(), 1..4).prop_map(Condition::Any),
            inner.prop_map(Condition::negate),
        ]
    })
}

fn arb_context() -> impl Strategy<Value = HashMap<String, Value>> {
    let text = prop_oneof![Just("a"), Just("ab"), Just("AB"), Just("b"), Just("")].prop_map(str::to_owned);
    (
        prop::option::of(text.clone()),
        prop::option::of(0..4i32),
        prop::option::of(any::<bool>()),
        prop::option::of(prop::collection::vec(text, 0..3)),
    )
        .prop_map(|(s, n, b, l)| {
            let mut c = HashMap::new();
            if let Some(s) = s {
                c.insert("subject".to_owned(), Value::Text(s));
            }
            if let Some(n) = n {
                c.insert("n".to_owned(), Value::Number(f64::from(n)));
            }
            if let Some(b) = b {
                c.insert("vip".to_owned(), Value::Boolean(b));
            }
            if let Some(l) = l {
                c.insert("tags".to_owned(), Value::List(l));
            }
            c
        })
}

/// Compiles without the contradiction check, so equivalent forms compare on evaluation alone.
fn eval(c: &Condition, context: &HashMap<String, Value>) -> bool {
    let mut faults = Vec::new();
    let mut nodes = 0;
    let node =
        compile::compile_tree(c, &schema(), &mut nodes, &mut faults).expect("generated conditions are well typed");
    compile::evaluate(&node, context)
}

proptest! {
    #[test]
    fn double_negation_changes_nothing(c in arb_condition(), x in arb_context()) {
        prop_assert_eq!(eval(&c.clone().negate().negate(), &x), eval(&c, &x));
    }

    #[test]
    fn all_or_any_of_one_is_that_one(c in arb_condition(), x in arb_context()) {
        prop_assert_eq!(eval(&Condition::All(vec![c.clone()]), &x), eval(&c, &x));
        prop_assert_eq!(eval(&Condition::Any(vec![c.clone()]), &x), eval(&c, &x));
    }

    #[test]
    fn de_morgan_holds(cs in prop::collection::vec(arb_condition(), 1..4), x in arb_context()) {
        let not_all = Condition::All(cs.clone()).negate();
        let any_not = Condition::Any(cs.iter().cloned().map(Condition::negate).collect());
        prop_assert_eq!(eval(&not_all, &x), eval(&any_not, &x));
        let not_any = Condition::Any(cs.clone()).negate();
        let all_not = Condition::All(cs.into_iter().map(Condition::negate).collect());
        prop_assert_eq!(eval(&not_any, &x), eval(&all_not, &x));
    }

    #[test]
    fn json_round_trip_keeps_the_condition(c in arb_condition()) {
        let back: Condition = serde_json::from_str(&serde_json::to_string(&c).expect("json")).expect("read");
        prop_assert_eq!(back, c);
    }

    /// What validation calls impossible matches no context: the check is sound.
    #[test]
    fn a_condition_refused_as_impossible_matches_nothing(
        tests in prop::collection::vec(arb_test(), 2..5),
        xs in prop::collection::vec(arb_context(), 64),
    ) {
        let c = Condition::All(tests);
        if let Err(e) = c.compile(&schema()) {
            prop_assert!(e.errors().iter().all(|f| f.reason.starts_with("can never match")), "{:?}", e);
            for x in &xs {
                prop_assert!(!eval(&c, x), "{:?} matched {:?}", c, x);
            }
        }
    }
}

#[test]
fn the_soundness_property_sees_contradictions_at_all() {
    // Guard for the property above: its generator does produce refused conditions.
    let c = Condition::All(vec![
        Condition::test("n", Operator::LessThan, Literal::Number(1.0)),
        Condition::test("n", Operator::GreaterThan, Literal::Number(2.0)),
    ]);
    assert!(c.compile(&schema()).is_err());
}
