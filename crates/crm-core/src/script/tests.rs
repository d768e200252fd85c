//! Tests of scripts: publishing faults by name, runs, and validation against an independent
//! brute-force checker on generated graphs.

use std::collections::{BTreeMap, HashMap};

use proptest::prelude::*;
use serde_json::json;
use uuid::Uuid;

use super::*;
use crate::ids::ScriptId;
use crate::rules::{EmptyContext, Schema, Value, ValueType};

fn facts_schema() -> Schema {
    Schema::new().field("customer.name", ValueType::Text).field("customer.vip", ValueType::Boolean)
}

fn sid() -> ScriptId {
    ScriptId::from_uuid(Uuid::nil())
}

fn draft(v: serde_json::Value) -> ScriptDraft {
    serde_json::from_value(v).expect("a draft")
}

fn faults_of(v: serde_json::Value) -> Vec<(Option<String>, String, String)> {
    match draft(v).publish(sid(), 1, &facts_schema()) {
        Ok(_) => Vec::new(),
        Err(ScriptFaults(f)) => f.into_iter().map(|f| (f.step, f.path, f.reason)).collect(),
    }
}

fn retention() -> serde_json::Value {
    json!({"name": "Retention", "start": "greet", "steps": [
        {"type": "say", "id": "greet", "text": "Hello {{customer.name}}.", "next": "why"},
        {"type": "choice", "id": "why", "text": "Why leave?", "choices": ["price", "service"],
         "next": {"price": "offer", "service": "sorry"}},
        {"type": "yes_no", "id": "offer", "text": "Would 20 % off keep you?", "yes": "kept", "no": "sorry"},
        {"type": "branch", "id": "sorry",
         "branches": [{"when": {"field": "customer.vip", "op": "equals", "value": true}, "next": "vip_end"},
                      {"when": {"field": "answers.why", "op": "equals", "value": "price"}, "next": "months"}],
         "otherwise": "lost"},
        {"type": "number", "id": "months", "text": "Since {{answers.why}} matters: months left?", "min": 0, "max": 36, "next": "note"},
        {"type": "free_text", "id": "note", "text": "Anything else?", "max_chars": 20, "next": "lost"},
        {"type": "end", "id": "kept", "text": "Thank {{ customer.name }}."},
        {"type": "end", "id": "vip_end", "text": "Hand over to the VIP desk."},
        {"type": "end", "id": "lost"}
    ]})
}

fn facts(vip: bool) -> HashMap<String, Value> {
    HashMap::from([
        ("customer.name".to_owned(), Value::Text("Ada {{customer.vip}}".to_owned())),
        ("customer.vip".to_owned(), Value::Boolean(vip)),
    ])
}

#[test]
fn a_sound_script_publishes_and_round_trips_as_json() {
    let script = draft(retention()).publish(sid(), 3, &facts_schema()).expect("valid");
    assert_eq!((script.version(), script.name(), script.start().id()), (3, "Retention", "greet"));
    let record: PublishedScriptRecord =
        serde_json::from_value(serde_json::to_value(&script).expect("json")).expect("read");
    let again = PublishedScript::restore(record, &facts_schema()).expect("still valid");
    assert_eq!(again.draft(), script.draft());
}

#[test]
fn faults_name_their_steps() {
    let f = faults_of(json!({"name": " ", "start": "nowhere", "steps": [
        {"type": "say", "id": "a", "text": "Hi {{customer.age}} {{oops", "next": "b"},
        {"type": "choice", "id": "b", "text": "?", "choices": ["x", "y", "x", ""], "next": {"x": "end", "z": "end"}},
        {"type": "number", "id": "n", "text": "", "min": 5, "max": 1, "next": "ghost"},
        {"type": "branch", "id": "br", "branches": [], "otherwise": "end"},
        {"type": "end", "id": "end"},
        {"type": "end", "id": "end"},
        {"type": "end", "id": "bad id!"}
    ]}));
    let has = |step: Option<&str>, path: &str, reason: &str| {
        f.iter().any(|(s, p, r)| s.as_deref() == step && p == path && r.contains(reason))
    };
    assert!(has(None, "name", ""), "{f:#?}");
    assert!(has(None, "start", "`nowhere` is not a step"), "{f:#?}");
    assert!(has(Some("a"), "steps[0].text", "is not closed"), "{f:#?}");
    assert!(has(Some("b"), "steps[1].choices[2]", "offered twice"), "{f:#?}");
    assert!(has(Some("b"), "steps[1].choices[3]", "not blank"), "{f:#?}");
    assert!(has(Some("b"), "steps[1].next", "the choice `y` leads nowhere"), "{f:#?}");
    assert!(has(Some("b"), "steps[1].next.z", "`z` is not one of the choices"), "{f:#?}");
    assert!(has(Some("n"), "steps[2].min", "above the largest"), "{f:#?}");
    assert!(has(Some("n"), "steps[2].next", "`ghost` is not a step"), "{f:#?}");
    assert!(has(Some("br"), "steps[3].branches", "at least one branch"), "{f:#?}");
    assert!(has(Some("end"), "steps[5].id", "already that of steps[4]"), "{f:#?}");
    assert!(has(Some("bad id!"), "steps[6].id", "an id is"), "{f:#?}");
    let unknown = faults_of(json!({"name": "x", "start": "a", "steps": [
        {"type": "say", "id": "a", "text": "Hi {{customer.age}}, {{answers.nothing}}", "next": "e"},
        {"type": "end", "id": "e"}
    ]}));
    assert_eq!(
        unknown.iter().map(|(_, _, r)| r.as_str()).collect::<Vec<_>>(),
        ["unknown placeholder `customer.age`", "unknown placeholder `answers.nothing`"]
    );
}

#[test]
fn graph_faults_tell_unreachable_dead_ends_and_closed_cycles_apart() {
    let f = faults_of(json!({"name": "x", "start": "a", "steps": [
        {"type": "yes_no", "id": "a", "text": "?", "yes": "loop1", "no": "e"},
        {"type": "say", "id": "loop1", "text": "", "next": "loop2"},
        {"type": "say", "id": "loop2", "text": "", "next": "loop1"},
        {"type": "say", "id": "island", "text": "", "next": "e"},
        {"type": "end", "id": "e"},
        {"type": "branch", "id": "b1", "branches": [{"when": {"field": "customer.vip", "op": "exists"}, "next": "b2"}], "otherwise": "e"},
        {"type": "branch", "id": "b2", "branches": [{"when": {"field": "customer.vip", "op": "exists"}, "next": "b1"}], "otherwise": "e"},
        {"type": "say", "id": "into", "text": "", "next": "b1"}
    ]}));
    let reasons: BTreeMap<String, String> = f.into_iter().map(|(s, _, r)| (s.unwrap_or_default(), r)).collect();
    assert!(reasons["loop1"].contains("cycle without an exit"), "{reasons:#?}");
    assert!(reasons["loop2"].contains("cycle without an exit"));
    assert!(reasons["island"].contains("not reachable"));
    assert!(reasons["into"].contains("not reachable"));
    assert!(reasons["b1"].contains("not reachable"), "{reasons:#?}");

    let loops = faults_of(json!({"name": "x", "start": "b1", "steps": [
        {"type": "branch", "id": "b1", "branches": [{"when": {"field": "customer.vip", "op": "exists"}, "next": "b2"}], "otherwise": "e"},
        {"type": "branch", "id": "b2", "branches": [{"when": {"field": "customer.vip", "op": "exists"}, "next": "b1"}], "otherwise": "e"},
        {"type": "end", "id": "e"}
    ]}));
    assert_eq!(loops.len(), 2, "{loops:#?}");
    assert!(loops.iter().all(|(_, _, r)| r.contains("loops through branches only")));

    let dead = faults_of(json!({"name": "x", "start": "a", "steps": [
        {"type": "say", "id": "a", "text": "", "next": "b"},
        {"type": "say", "id": "b", "text": "", "next": "c"},
        {"type": "say", "id": "c", "text": "", "next": "c"}
    ]}));
    let dead: BTreeMap<_, _> = dead.into_iter().map(|(s, _, r)| (s.unwrap_or_default(), r)).collect();
    assert!(dead["a"].contains("dead end") && dead["b"].contains("dead end"), "{dead:#?}");
    assert!(dead["c"].contains("cycle without an exit"));
}

#[test]
fn a_bad_branch_condition_is_named_by_its_path() {
    let f = faults_of(json!({"name": "x", "start": "n", "steps": [
        {"type": "number", "id": "n", "text": "?", "next": "b"},
        {"type": "branch", "id": "b", "branches": [
            {"when": {"all": [{"field": "answers.n", "op": "contains", "value": "3"}]}, "next": "e"}
        ], "otherwise": "e"},
        {"type": "end", "id": "e"}
    ]}));
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].1, "steps[1].branches[0].when.all[0].op");
}

#[test]
fn ten_thousand_steps_is_one_clear_fault() {
    let steps: Vec<_> = (0..10_000).map(|i| json!({"type": "end", "id": format!("s{i}")})).collect();
    let f = faults_of(json!({"name": "big", "start": "s0", "steps": steps}));
    assert_eq!(f, [(None, "steps".to_owned(), "a script holds at most 1000 steps; this one has 10000".to_owned())]);
}

#[test]
fn a_thousand_step_chain_publishes() {
    let mut steps: Vec<_> = (0..999)
        .map(|i| json!({"type": "say", "id": format!("s{i}"), "text": "", "next": format!("s{}", i + 1)}))
        .collect();
    steps.push(json!({"type": "end", "id": "s999"}));
    assert_eq!(faults_of(json!({"name": "long", "start": "s0", "steps": steps})), Vec::new());
}

#[test]
fn a_run_follows_answers_and_branches_and_records_them() {
    let script = draft(retention()).publish(sid(), 1, &facts_schema()).expect("valid");
    let f = facts(false);
    let mut run = ScriptRun::start(&script, &f).expect("starts");
    assert_eq!(run.position(), &RunPosition::At("greet".into()));
    // Placeholders are filled once: the name's own braces stay as written.
    assert_eq!(run.current_text(&script, &f), "Hello Ada {{customer.vip}}.");
    run.answer(&script, "greet", AnswerValue::Continue, &f).expect("continue");
    run.answer(&script, "why", AnswerValue::Choice("price".into()), &f).expect("choice");
    // No from the offer: through the branch (not VIP, but price) to the number question.
    let at = run.answer(&script, "offer", AnswerValue::YesNo(false), &f).expect("yes/no");
    assert_eq!(at, RunPosition::At("months".into()));
    assert_eq!(run.current_text(&script, &f), "Since price matters: months left?");
    run.answer(&script, "months", AnswerValue::Number(12.0), &f).expect("number");
    let end = run.answer(&script, "note", AnswerValue::Text("fine".into()), &f).expect("text");
    assert_eq!(end, RunPosition::Finished("lost".into()));
    assert_eq!(run.path(), ["greet", "why", "offer", "sorry", "months", "note", "lost"]);
    assert_eq!(run.answers().len(), 5);
    // A VIP goes to the VIP desk at the same branch.
    let vip = facts(true);
    let mut run = ScriptRun::start(&script, &vip).expect("starts");
    run.answer(&script, "greet", AnswerValue::Continue, &vip).expect("continue");
    let end = run.answer(&script, "why", AnswerValue::Choice("service".into()), &vip).expect("choice");
    assert_eq!(end, RunPosition::Finished("vip_end".into()));
}

#[test]
fn a_run_refuses_bad_answers_and_stays_where_it_was() {
    let script = draft(retention()).publish(sid(), 1, &facts_schema()).expect("valid");
    let f = facts(false);
    let mut run = ScriptRun::start(&script, &f).expect("starts");
    let before = run.clone();
    assert!(matches!(
        run.answer(&script, "why", AnswerValue::Choice("price".into()), &f),
        Err(RunError::NotCurrent { .. })
    ));
    assert!(matches!(run.answer(&script, "greet", AnswerValue::YesNo(true), &f), Err(RunError::WrongType { .. })));
    assert_eq!(run, before);
    run.answer(&script, "greet", AnswerValue::Continue, &f).expect("continue");
    let e = run.answer(&script, "why", AnswerValue::Choice("weather".into()), &f).unwrap_err();
    assert_eq!(e.to_string(), "`weather` is not one of the choices of step `why`");
    assert_eq!(e.field(), "value");
    run.answer(&script, "why", AnswerValue::Choice("price".into()), &f).expect("choice");
    run.answer(&script, "offer", AnswerValue::YesNo(false), &f).expect("no");
    for bad in [
        AnswerValue::Number(37.0),
        AnswerValue::Number(-1.0),
        AnswerValue::Number(f64::NAN),
        AnswerValue::Text("3".into()),
    ] {
        assert!(run.answer(&script, "months", bad.clone(), &f).is_err(), "{bad:?}");
    }
    run.answer(&script, "months", AnswerValue::Number(36.0), &f).expect("bound included");
    assert!(matches!(
        run.answer(&script, "note", AnswerValue::Text("x".repeat(21)), &f),
        Err(RunError::Refused { .. })
    ));
    run.answer(&script, "note", AnswerValue::Text("x".repeat(20)), &f).expect("at the limit");
    assert!(matches!(run.answer(&script, "note", AnswerValue::Continue, &f), Err(RunError::Finished { .. })));
}

#[test]
fn a_run_pins_its_version_and_resumes_from_its_record() {
    let v1 = draft(retention()).publish(sid(), 1, &facts_schema()).expect("valid");
    let v2 = draft(retention()).publish(sid(), 2, &facts_schema()).expect("valid");
    let f = facts(false);
    let mut run = ScriptRun::start(&v1, &f).expect("starts");
    run.answer(&v1, "greet", AnswerValue::Continue, &f).expect("continue");
    assert!(matches!(
        run.answer(&v2, "why", AnswerValue::Choice("price".into()), &f),
        Err(RunError::OtherVersion { .. })
    ));
    // Stored and read back after a reconnect: the same run, going on where it was.
    let stored = serde_json::to_string(&run).expect("json");
    let record: ScriptRunRecord = serde_json::from_str(&stored).expect("read");
    assert!(matches!(ScriptRun::restore(&v2, record.clone()), Err(RunError::OtherVersion { .. })));
    let mut resumed = ScriptRun::restore(&v1, record.clone()).expect("fits");
    assert_eq!(resumed, run);
    resumed.answer(&v1, "why", AnswerValue::Choice("price".into()), &f).expect("goes on");
    // A record that does not fit is refused.
    let mut bad = record.clone();
    bad.position = RunPosition::At("sorry".into());
    assert!(matches!(ScriptRun::restore(&v1, bad), Err(RunError::Corrupt(_))));
    let mut bad = record;
    bad.path.push("ghost".into());
    assert!(matches!(ScriptRun::restore(&v1, bad), Err(RunError::Corrupt(_))));
}

// ----- generated graphs against a brute-force checker -----

/// A generated step: its kind and its successors (indices; `>= n` is a dangling reference).
#[derive(Clone, Debug)]
enum Gen {
    Say(usize),
    YesNo(usize, usize),
    Choice(Vec<usize>),
    Branch(usize, usize),
    End,
}

fn arb_graph() -> impl Strategy<Value = (usize, Vec<Gen>)> {
    (1usize..8).prop_flat_map(|n| {
        // Mostly valid references, sometimes one past the end (dangling).
        let target = prop_oneof![9 => 0..n, 1 => Just(n)];
        let step = prop_oneof![
            target.clone().prop_map(Gen::Say),
            (target.clone(), target.clone()).prop_map(|(a, b)| Gen::YesNo(a, b)),
            prop::collection::vec(target.clone(), 1..4).prop_map(Gen::Choice),
            (target.clone(), target).prop_map(|(a, b)| Gen::Branch(a, b)),
            Just(Gen::End),
        ];
        (0..n, prop::collection::vec(step, n))
    })
}

fn to_draft(start: usize, gens: &[Gen]) -> ScriptDraft {
    let name = |i: &usize| format!("s{i}");
    let steps = gens
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let id = name(&i);
            match g {
                Gen::Say(t) => Step::Say { id, text: String::new(), next: name(t) },
                Gen::YesNo(a, b) => Step::YesNo { id, text: String::new(), yes: name(a), no: name(b) },
                Gen::Choice(ts) => Step::Choice {
                    id,
                    text: String::new(),
                    choices: (0..ts.len()).map(|c| format!("c{c}")).collect(),
                    next: ts.iter().enumerate().map(|(c, t)| (format!("c{c}"), name(t))).collect(),
                },
                Gen::Branch(a, b) => Step::Branch {
                    id,
                    branches: vec![BranchArm { when: crate::rules::Condition::exists("customer.vip"), next: name(a) }],
                    otherwise: name(b),
                },
                Gen::End => Step::End { id, text: String::new() },
            }
        })
        .collect();
    ScriptDraft { name: "generated".into(), start: name(&start), steps }
}

/// The rules, checked the slow and obvious way: a boolean matrix of edges closed under
/// composition (Floyd–Warshall), then each rule read off the closure.
fn brute_force_accepts(start: usize, gens: &[Gen]) -> bool {
    let n = gens.len();
    let succ = |g: &Gen| -> Vec<usize> {
        match g {
            Gen::Say(t) => vec![*t],
            Gen::YesNo(a, b) | Gen::Branch(a, b) => vec![*a, *b],
            Gen::Choice(ts) => ts.clone(),
            Gen::End => vec![],
        }
    };
    if gens.iter().any(|g| succ(g).iter().any(|&t| t >= n)) {
        return false; // a reference to no step
    }
    // path[i][j]: j can be reached from i in zero or more steps.
    let mut path = vec![vec![false; n]; n];
    for i in 0..n {
        path[i][i] = true;
        for t in succ(&gens[i]) {
            path[i][t] = true;
        }
    }
    for k in 0..n {
        for i in 0..n {
            for j in 0..n {
                if path[i][k] && path[k][j] {
                    path[i][j] = true;
                }
            }
        }
    }
    let is_end = |j: usize| matches!(gens[j], Gen::End);
    let every_step_reached = (0..n).all(|j| path[start][j]);
    let every_step_can_end = (0..n).all(|i| (0..n).any(|j| path[i][j] && is_end(j)));
    // Branch-only cycles: the same closure over edges between branches only, length >= 1.
    let is_branch = |i: usize| matches!(gens[i], Gen::Branch(..));
    let mut bpath = vec![vec![false; n]; n];
    for i in (0..n).filter(|&i| is_branch(i)) {
        for t in succ(&gens[i]).into_iter().filter(|&t| is_branch(t)) {
            bpath[i][t] = true;
        }
    }
    for k in 0..n {
        for i in 0..n {
            for j in 0..n {
                if bpath[i][k] && bpath[k][j] {
                    bpath[i][j] = true;
                }
            }
        }
    }
    let branch_loop = (0..n).any(|i| bpath[i][i]);
    every_step_reached && every_step_can_end && !branch_loop
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn validation_accepts_exactly_what_the_brute_force_checker_accepts((start, gens) in arb_graph()) {
        let d = to_draft(start, &gens);
        let published = d.publish(sid(), 1, &facts_schema());
        prop_assert_eq!(published.is_ok(), brute_force_accepts(start, &gens), "{:?}", published.err());
    }

    /// A run of a published script never stops at a branch or an unknown step, and takes
    /// every answer its step offers.
    #[test]
    fn a_published_script_runs_on_any_valid_answers((start, gens) in arb_graph(), picks in prop::collection::vec(0usize..4, 64)) {
        let d = to_draft(start, &gens);
        let Ok(script) = d.publish(sid(), 1, &facts_schema()) else { return Ok(()) };
        let mut run = ScriptRun::start(&script, &EmptyContext).expect("starts");
        for pick in picks {
            let RunPosition::At(at) = run.position().clone() else { return Ok(()) };
            let value = match script.step(&at).expect("a step") {
                Step::Say { .. } => AnswerValue::Continue,
                Step::YesNo { .. } => AnswerValue::YesNo(pick % 2 == 0),
                Step::Choice { choices, .. } => AnswerValue::Choice(choices[pick % choices.len()].clone()),
                other => panic!("the run waits at {other:?}"),
            };
            run.answer(&script, &at, value, &EmptyContext).expect("a valid answer");
        }
    }
}

#[test]
fn the_generator_makes_both_valid_and_invalid_graphs() {
    // Guard for the property above: a sound graph and a broken one of its shapes.
    assert!(brute_force_accepts(0, &[Gen::YesNo(1, 0), Gen::End]));
    assert!(!brute_force_accepts(0, &[Gen::Say(1), Gen::Say(1)]));
    assert!(!brute_force_accepts(0, &[Gen::Branch(1, 2), Gen::Branch(0, 2), Gen::End]));
    assert!(to_draft(0, &[Gen::Branch(1, 2), Gen::Branch(0, 2), Gen::End]).publish(sid(), 1, &facts_schema()).is_err());
}
