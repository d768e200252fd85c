//! Alert rules at screen pop (GUI-2): 50 rules evaluated against one customer's facts,
//! context building included. The target: alerts add < 1 ms p99 to the screen pop.
//!
//! `cargo bench -p crm-core --bench alerts`

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use crm_core::alert::{AlertFacts, AlertRule, AlertRules, ContactCounts, alert_schema};
use crm_core::custom_field::{FieldKey, FieldType, FieldValue};
use crm_core::interaction::{Channel, Direction};
use serde_json::json;

fn key(k: &str) -> FieldKey {
    FieldKey::parse(k).expect("a key")
}

/// Fifty rules of the kinds supervisors write: thresholds, flags, custom fields (text,
/// regex, list, date), combined with all/any/not; half of them fire on the facts below.
fn rules() -> Vec<AlertRule> {
    let shapes = [
        json!({"field": "customer.vip", "op": "equals", "value": true}),
        json!({"field": "cases.open_critical", "op": "greater_than", "value": 0}),
        json!({"all": [{"field": "tasks.overdue", "op": "greater_or_equal", "value": 2},
                       {"not": {"field": "customer.vip", "op": "equals", "value": true}}]}),
        json!({"any": [{"field": "contacts.last_7_days", "op": "greater_or_equal", "value": 3},
                       {"field": "contacts.last_30_days", "op": "greater_than", "value": 10}]}),
        json!({"field": "customer.custom.tier", "op": "equals", "value": "GOLD", "ignore_case": true}),
        json!({"field": "customer.custom.notes", "op": "regex", "value": "(?i)\\b(cancel|terminate|lawyer)\\b"}),
        json!({"field": "customer.custom.tags", "op": "contains", "value": "churn-risk"}),
        json!({"field": "customer.custom.contract_end", "op": "less_than", "value": "2027-01-01"}),
        json!({"all": [{"field": "sla.breached", "op": "equals", "value": true},
                       {"field": "interaction.channel", "op": "equals", "value": "voice"},
                       {"field": "interaction.direction", "op": "equals", "value": "inbound"}]}),
        json!({"all": [{"field": "campaign.open_entry", "op": "equals", "value": true},
                       {"any": [{"field": "customer.custom.tier", "op": "starts_with", "value": "sil"},
                                {"field": "customer.custom.score", "op": "less_than", "value": 3.5}]}]}),
    ];
    (0..50)
        .map(|i| {
            let severity = ["info", "warning", "critical"][i % 3];
            serde_json::from_value(json!({
                "name": format!("rule {i}"),
                "condition": shapes[i % shapes.len()],
                "severity": severity,
                "message": "{{contacts.last_7_days}} contacts this week, {{tasks.overdue}} tasks overdue",
                "suggestion": "offer the retention script",
            }))
            .expect("a rule")
        })
        .collect()
}

fn facts() -> AlertFacts {
    AlertFacts {
        vip: true,
        custom: BTreeMap::from([
            (key("tier"), FieldValue::Choice("silver".into())),
            (
                key("notes"),
                FieldValue::Text(
                    "Called twice about the invoice; said he would cancel if it happens again. ".repeat(4),
                ),
            ),
            (key("tags"), FieldValue::Choices(vec!["churn-risk".into(), "newsletter".into()])),
            (key("contract_end"), FieldValue::Date("2027-03-31".parse().expect("date"))),
            (key("score"), FieldValue::Decimal("3.2".parse().expect("decimal"))),
        ]),
        open_critical_cases: 0,
        overdue_tasks: 2,
        contacts: ContactCounts { last_1_day: 1, last_7_days: 4, last_30_days: 9 },
        open_campaign_entry: true,
        sla_breached: false,
        channel: Some(Channel::Voice),
        direction: Some(Direction::Inbound),
    }
}

fn bench(c: &mut Criterion) {
    let schema = alert_schema(&[
        (key("tier"), FieldType::SingleChoice { choices: vec!["gold".into(), "silver".into()] }),
        (key("notes"), FieldType::LongText),
        (key("tags"), FieldType::MultiChoice { choices: vec!["churn-risk".into(), "newsletter".into()] }),
        (key("contract_end"), FieldType::Date),
        (key("score"), FieldType::Decimal),
    ]);
    let rules = AlertRules::compile(rules(), &schema).expect("valid rules");
    let facts = facts();
    let fired = rules.evaluate(&facts).len();
    assert_eq!(fired, 25, "half the rules fire on these facts");
    print_percentiles(&rules, &facts);
    c.bench_function("alerts: 50 rules on one customer's facts", |b| b.iter(|| rules.evaluate(black_box(&facts))));
    c.bench_function("alerts: the facts as a context", |b| b.iter(|| black_box(&facts).context()));
    let ctx = facts.context();
    c.bench_function("alerts: 50 rules on a built context", |b| b.iter(|| rules.evaluate_context(black_box(&ctx))));
    c.bench_function("alerts: compile 50 rules", |b| {
        b.iter(|| AlertRules::compile(black_box(self::rules()), &schema).expect("valid"));
    });
}

/// Criterion reports means; the target is a p99, so time 20,000 single evaluations too.
fn print_percentiles(rules: &AlertRules, facts: &AlertFacts) {
    let mut samples: Vec<Duration> = (0..20_000)
        .map(|_| {
            let started = Instant::now();
            black_box(rules.evaluate(black_box(facts)));
            started.elapsed()
        })
        .collect();
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    println!(
        "alerts: 50 rules on one customer's facts, 20,000 single evaluations: p50 {:?}, p99 {:?}, max {:?}",
        at(0.50),
        at(0.99),
        samples[samples.len() - 1]
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
