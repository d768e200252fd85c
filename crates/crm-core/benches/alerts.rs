//! Alert rules at screen pop (GUI-2): 50 rules evaluated against one customer's facts,
//! context building included. The target: alerts add < 1 ms p99 to the screen pop.
//!
//! `cargo bench -p crm-core --bench alerts`

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use crm_core::alert::{AlertFacts, AlertRule, AlertRules, ContactCounts, alert_schema};
use crm_core::custom_field::{FieldKey, FieldType, FieldValue};
use crm_core::interaction::{Channel, Direction};
use serde_json::json;

fn key(k: &str) -> FieldKey {
    FieldKey::parse(k).expect("a key")
}

/// Fifty rules of the kinds supervisors write: thresholds, flags, custom fields (text,
/// regex, list, date), combined with all/any/not; about half fire on the facts below.
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
            serde_json::from_value(json!({
                "name": format!("rule {i}"),
                "condition": shapes[i % shapes.len()],
                "severity": ["info", "warning", "critical"][i % 3],
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
            (key("tier"), FieldValue::Choice("gold".into())),
            (
                key("notes"),
                FieldValue::Text(
                    "Called twice about the invoice; said he would cancel if it happens again. ".repeat(4),
                ),
            ),
            (key("tags"), FieldValue::Choices(vec!["churn-risk".into(), "newsletter".into()])),
            (key("contract_end"), FieldValue::Date("2026-12-31".parse().expect("date"))),
            (key("score"), FieldValue::Decimal("3.2".parse().expect("decimal"))),
        ]),
        open_critical_cases: 1,
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
    assert!((20..=35).contains(&fired), "{fired} of 50 rules fire");
    c.bench_function("alerts: 50 rules on one customer's facts", |b| b.iter(|| rules.evaluate(black_box(&facts))));
    c.bench_function("alerts: compile 50 rules", |b| {
        b.iter(|| AlertRules::compile(black_box(self::rules()), &schema).expect("valid"));
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
