//! Rule-based alerts (GUI-2), the pure part: supervisors write [`AlertRule`]s in the
//! [`rules`](crate::rules) condition language over the facts of a customer and the current
//! interaction ([`AlertFacts`], filled by the service from the store); [`AlertRules`] checks
//! them once and evaluates them at screen pop and during the interaction.
//!
//! The fields a rule may read (the [`alert_schema`]):
//!
//! | field | type | fact |
//! |---|---|---|
//! | `customer.vip` | boolean | [`AlertFacts::vip`] |
//! | `customer.custom.<key>` | by the custom field's type | [`AlertFacts::custom`] |
//! | `cases.open_critical` | number | [`AlertFacts::open_critical_cases`] |
//! | `tasks.overdue` | number | [`AlertFacts::overdue_tasks`] |
//! | `contacts.last_1_day`, `contacts.last_7_days`, `contacts.last_30_days` | number | [`AlertFacts::contacts`] |
//! | `campaign.open_entry` | boolean | [`AlertFacts::open_campaign_entry`] |
//! | `sla.breached` | boolean | [`AlertFacts::sla_breached`] |
//! | `interaction.channel`, `interaction.direction` | text | [`AlertFacts::channel`], [`AlertFacts::direction`] |
//!
//! A rule's message and suggestion may hold the same fields as placeholders
//! (`{{contacts.last_7_days}} contacts this week`).
//!
//! ```
//! use crm_core::alert::{AlertFacts, AlertRule, AlertRules, Severity, alert_schema};
//!
//! let rule: AlertRule = serde_json::from_str(r#"{
//!     "name": "frequent caller",
//!     "condition": {"field": "contacts.last_7_days", "op": "greater_or_equal", "value": 3},
//!     "severity": "warning",
//!     "message": "{{contacts.last_7_days}} contacts this week",
//!     "suggestion": "offer the retention script"
//! }"#).unwrap();
//! let rules = AlertRules::compile(vec![rule], &alert_schema(&[])).unwrap();
//! let mut facts = AlertFacts::default();
//! facts.contacts.last_7_days = 4;
//! let alerts = rules.evaluate(&facts);
//! assert_eq!(alerts[0].message, "4 contacts this week");
//! assert_eq!(alerts[0].severity, Severity::Warning);
//! ```

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

use crate::custom_field::{FieldKey, FieldType, FieldValue};
use crate::error::{FieldError, ValidationErrors};
use crate::interaction::{Channel, Direction};
use crate::rules::{Condition, Context, Filter, Schema, Value, ValueType};
use crate::script::template;
use crate::text::{bounded_text, required_text};

/// The most rules one tenant's set may hold.
pub const MAX_ALERT_RULES: usize = 200;
/// The longest rule name, in characters.
pub const MAX_RULE_NAME_CHARS: usize = 100;
/// The longest message or suggestion, in characters.
pub const MAX_ALERT_TEXT_CHARS: usize = 500;

/// How loudly the agent's screen shows an alert. Named `AlertSeverity` in the OpenAPI
/// document, apart from a case's `Severity`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = AlertSeverity))]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// For information (a suggestion, a reminder).
    Info,
    /// Worth the agent's attention.
    Warning,
    /// To act on now.
    Critical,
}

/// A rule: when its condition holds on the facts, the agent sees its message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AlertRule {
    /// Its name, unique in the set (not blank, at most [`MAX_RULE_NAME_CHARS`] characters).
    pub name: String,
    /// When it fires.
    pub condition: Condition,
    /// How loudly.
    pub severity: Severity,
    /// What the agent reads (not blank, at most [`MAX_ALERT_TEXT_CHARS`] characters;
    /// placeholders allowed).
    pub message: String,
    /// What the agent could do (e.g. "offer the retention script"); optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
}

/// An alert raised for the agent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Alert {
    /// The rule's name.
    pub rule: String,
    /// How loudly.
    pub severity: Severity,
    /// The message, placeholders filled.
    pub message: String,
    /// The suggestion, placeholders filled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
}

/// Numbers of contacts (interactions of the customer) in recent windows, ending now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactCounts {
    /// In the last 24 hours.
    pub last_1_day: u32,
    /// In the last 7 days.
    pub last_7_days: u32,
    /// In the last 30 days.
    pub last_30_days: u32,
}

/// What alert rules know about a customer and the current interaction: plain facts the
/// service gathers from the store (one read at screen pop); the rules never read the store.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AlertFacts {
    /// The customer is a VIP: its boolean custom field `vip` is true
    /// (`crm_core::service::VIP_FIELD`).
    pub vip: bool,
    /// The customer's custom field values.
    pub custom: BTreeMap<FieldKey, FieldValue>,
    /// Open cases of the customer with critical priority.
    pub open_critical_cases: u32,
    /// Open tasks about the customer past their due time.
    pub overdue_tasks: u32,
    /// Recent contacts.
    pub contacts: ContactCounts,
    /// The customer has an open entry (not closed) in an active call list (OUT-1).
    pub open_campaign_entry: bool,
    /// One of the customer's open (not private) cases has breached its SLA (the case rows'
    /// SLA marks, ADR 0028).
    pub sla_breached: bool,
    /// The current interaction's channel, if there is one.
    pub channel: Option<Channel>,
    /// The current interaction's direction, if there is one.
    pub direction: Option<Direction>,
}

impl AlertFacts {
    /// The facts as the fields rules read (see the [module documentation](self)).
    pub fn context(&self) -> HashMap<String, Value> {
        let mut ctx = HashMap::with_capacity(12 + self.custom.len());
        let mut put = |k: &str, v: Value| {
            ctx.insert(k.to_owned(), v);
        };
        put("customer.vip", Value::Boolean(self.vip));
        put("cases.open_critical", Value::Number(f64::from(self.open_critical_cases)));
        put("tasks.overdue", Value::Number(f64::from(self.overdue_tasks)));
        put("contacts.last_1_day", Value::Number(f64::from(self.contacts.last_1_day)));
        put("contacts.last_7_days", Value::Number(f64::from(self.contacts.last_7_days)));
        put("contacts.last_30_days", Value::Number(f64::from(self.contacts.last_30_days)));
        put("campaign.open_entry", Value::Boolean(self.open_campaign_entry));
        put("sla.breached", Value::Boolean(self.sla_breached));
        if let Some(c) = self.channel {
            put("interaction.channel", Value::Text(c.as_str().to_owned()));
        }
        if let Some(d) = self.direction {
            put("interaction.direction", Value::Text(d.as_str().to_owned()));
        }
        for (key, value) in &self.custom {
            if let Some(v) = custom_value(value) {
                ctx.insert(format!("customer.custom.{key}"), v);
            }
        }
        ctx
    }
}

/// A custom value as a rule reads it.
pub fn custom_value(v: &FieldValue) -> Option<Value> {
    Some(match v {
        FieldValue::Text(s) | FieldValue::Choice(s) | FieldValue::Url(s) => Value::Text(s.clone()),
        FieldValue::Email(e) => Value::Text(e.to_string()),
        FieldValue::Phone(p) => Value::Text(p.to_string()),
        FieldValue::Integer(i) => Value::Number(*i as f64),
        FieldValue::Decimal(d) => Value::Number(d.to_f64()?),
        FieldValue::Boolean(b) => Value::Boolean(*b),
        FieldValue::Date(d) => Value::Date(*d),
        FieldValue::Datetime(t) => Value::Instant(*t),
        FieldValue::Choices(items) => Value::List(items.clone()),
    })
}

/// The type a rule reads a custom field's values as.
pub fn custom_field_type(t: &FieldType) -> ValueType {
    match t {
        FieldType::Text
        | FieldType::LongText
        | FieldType::SingleChoice { .. }
        | FieldType::Email
        | FieldType::Phone
        | FieldType::Url => ValueType::Text,
        FieldType::Integer | FieldType::Decimal => ValueType::Number,
        FieldType::Boolean => ValueType::Boolean,
        FieldType::Date => ValueType::Date,
        FieldType::Datetime => ValueType::Instant,
        FieldType::MultiChoice { .. } => ValueType::List,
    }
}

/// The fields alert rules may read, with the tenant's customer custom fields.
pub fn alert_schema(custom: &[(FieldKey, FieldType)]) -> Schema {
    let mut schema = Schema::new()
        .field("customer.vip", ValueType::Boolean)
        .field("cases.open_critical", ValueType::Number)
        .field("tasks.overdue", ValueType::Number)
        .field("contacts.last_1_day", ValueType::Number)
        .field("contacts.last_7_days", ValueType::Number)
        .field("contacts.last_30_days", ValueType::Number)
        .field("campaign.open_entry", ValueType::Boolean)
        .field("sla.breached", ValueType::Boolean)
        .field("interaction.channel", ValueType::Text)
        .field("interaction.direction", ValueType::Text);
    for (key, ty) in custom {
        schema.insert(format!("customer.custom.{key}"), custom_field_type(ty));
    }
    schema
}

/// A checked set of rules, ready to evaluate.
#[derive(Clone, Debug)]
pub struct AlertRules {
    rules: Vec<(AlertRule, Filter)>,
}

impl AlertRules {
    /// Checks every rule against `schema` (see [`alert_schema`]) and compiles them.
    ///
    /// # Errors
    /// [`ValidationErrors`] naming each fault's path (`rules[2].condition.any[0].op`,
    /// `rules[0].message`): more than [`MAX_ALERT_RULES`] rules, a blank, too long or
    /// repeated name, a blank or too long message or suggestion, an unknown placeholder,
    /// and every fault [`Condition::compile`] finds.
    pub fn compile(rules: Vec<AlertRule>, schema: &Schema) -> Result<Self, ValidationErrors> {
        if rules.len() > MAX_ALERT_RULES {
            return Err(FieldError::new("rules", format!("a set holds at most {MAX_ALERT_RULES} rules")).into());
        }
        let mut faults = Vec::new();
        let mut names = BTreeSet::new();
        let mut compiled = Vec::with_capacity(rules.len());
        for (i, rule) in rules.into_iter().enumerate() {
            let at = format!("rules[{i}]");
            let mut check = |r: Result<String, FieldError>| {
                if let Err(e) = r {
                    faults.push(e.within(&at));
                }
            };
            check(required_text("name", &rule.name, MAX_RULE_NAME_CHARS));
            check(required_text("message", &rule.message, MAX_ALERT_TEXT_CHARS));
            if let Some(s) = &rule.suggestion {
                check(bounded_text("suggestion", s, MAX_ALERT_TEXT_CHARS));
            }
            if !names.insert(rule.name.trim().to_owned()) {
                faults.push(FieldError::new(format!("{at}.name"), format!("another rule is named `{}`", rule.name)));
            }
            let texts = [("message", Some(&rule.message)), ("suggestion", rule.suggestion.as_ref())];
            for (field, text) in texts {
                let Some(text) = text else { continue };
                match template::unknown_placeholders(text, schema) {
                    Ok(unknown) => faults.extend(
                        unknown
                            .into_iter()
                            .map(|n| FieldError::new(format!("{at}.{field}"), format!("unknown placeholder `{n}`"))),
                    ),
                    Err(reason) => faults.push(FieldError::new(format!("{at}.{field}"), reason)),
                }
            }
            match rule.condition.compile(schema) {
                Ok(filter) => compiled.push((rule, filter)),
                Err(errors) => faults.extend(errors.errors().iter().cloned().map(|e| e.within(&at))),
            }
        }
        match ValidationErrors::from_vec(faults) {
            Some(errors) => Err(errors),
            None => Ok(Self { rules: compiled }),
        }
    }

    /// The rules, in order.
    pub fn rules(&self) -> impl Iterator<Item = &AlertRule> {
        self.rules.iter().map(|(r, _)| r)
    }

    /// The alerts the facts raise: most severe first, then in the rules' order.
    pub fn evaluate(&self, facts: &AlertFacts) -> Vec<Alert> {
        self.evaluate_context(&facts.context())
    }

    /// The alerts a context raises (as [`AlertRules::evaluate`], for a context built
    /// elsewhere, e.g. a dry run).
    pub fn evaluate_context(&self, ctx: &dyn Context) -> Vec<Alert> {
        let render = |text: &str| match template::parse(text) {
            Ok(pieces) => template::render_pieces(&pieces, ctx),
            Err(_) => text.to_owned(),
        };
        let mut alerts: Vec<Alert> = self
            .rules
            .iter()
            .filter(|(_, filter)| filter.matches(ctx))
            .map(|(rule, _)| Alert {
                rule: rule.name.clone(),
                severity: rule.severity,
                message: render(&rule.message),
                suggestion: rule.suggestion.as_deref().map(render),
            })
            .collect();
        // A stable sort keeps the rules' order within a severity.
        alerts.sort_by_key(|a| std::cmp::Reverse(a.severity));
        alerts
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn rule(name: &str, condition: serde_json::Value, severity: &str) -> AlertRule {
        serde_json::from_value(json!({
            "name": name, "condition": condition, "severity": severity, "message": format!("{name} fired")
        }))
        .expect("a rule")
    }

    fn tier() -> (FieldKey, FieldType) {
        (
            FieldKey::parse("tier").expect("key"),
            FieldType::SingleChoice { choices: vec!["gold".into(), "silver".into()] },
        )
    }

    #[test]
    fn rules_fire_on_the_facts_most_severe_first() {
        let rules = AlertRules::compile(
            vec![
                rule("vip", json!({"field": "customer.vip", "op": "equals", "value": true}), "info"),
                rule("critical", json!({"field": "cases.open_critical", "op": "greater_than", "value": 0}), "critical"),
                rule("gold", json!({"field": "customer.custom.tier", "op": "equals", "value": "gold"}), "info"),
                rule(
                    "sla",
                    json!({"all": [{"field": "sla.breached", "op": "equals", "value": true},
                                           {"field": "interaction.channel", "op": "equals", "value": "voice"}]}),
                    "warning",
                ),
                rule("campaign", json!({"field": "campaign.open_entry", "op": "equals", "value": true}), "info"),
            ],
            &alert_schema(&[tier()]),
        )
        .expect("valid");
        let facts = AlertFacts {
            vip: true,
            custom: BTreeMap::from([(tier().0, FieldValue::Choice("gold".into()))]),
            open_critical_cases: 2,
            sla_breached: true,
            channel: Some(Channel::Voice),
            ..AlertFacts::default()
        };
        let fired: Vec<_> = rules.evaluate(&facts).into_iter().map(|a| a.rule).collect();
        assert_eq!(fired, ["critical", "sla", "vip", "gold"]);
        assert!(rules.evaluate(&AlertFacts::default()).is_empty());
    }

    #[test]
    fn faults_name_the_rule_and_the_node() {
        let mut bad = rule("a", json!({"any": [{"field": "customer.custom.nope", "op": "exists"}]}), "info");
        bad.message = "{{tasks.overdue}} overdue, {{tasks.late}}".into();
        let errors = AlertRules::compile(
            vec![
                rule("ok", json!({"field": "tasks.overdue", "op": "greater_than", "value": 0}), "info"),
                bad,
                rule(" ", json!({"field": "customer.vip", "op": "exists"}), "info"),
                rule("ok", json!({"field": "customer.vip", "op": "exists"}), "info"),
            ],
            &alert_schema(&[]),
        )
        .unwrap_err();
        let fields: Vec<_> = errors.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["rules[1].message", "rules[1].condition.any[0].field", "rules[2].name", "rules[3].name"]);
        assert!(errors.errors()[0].reason.contains("`tasks.late`"));
    }

    #[test]
    fn custom_values_are_read_with_their_types() {
        let schema = alert_schema(&[(FieldKey::parse("score").expect("key"), FieldType::Decimal)]);
        let rules = AlertRules::compile(
            vec![rule(
                "low score",
                json!({"field": "customer.custom.score", "op": "less_than", "value": 2.5}),
                "warning",
            )],
            &schema,
        )
        .expect("valid");
        let mut facts = AlertFacts::default();
        facts
            .custom
            .insert(FieldKey::parse("score").expect("key"), FieldValue::Decimal("2.25".parse().expect("decimal")));
        assert_eq!(rules.evaluate(&facts).len(), 1);
    }
}

#[cfg(all(test, feature = "openapi"))]
mod openapi_tests {
    use utoipa::{PartialSchema, ToSchema};

    use super::AlertRule;
    use crate::script::{ScriptDraft, ScriptRunRecord};

    /// The recursive condition is one named component: schemas are collected without
    /// looping, and the node refers back to `Condition` by name.
    #[test]
    fn wire_types_have_finite_schemas_with_a_recursive_condition() {
        let mut schemas = Vec::new();
        AlertRule::schemas(&mut schemas);
        ScriptDraft::schemas(&mut schemas);
        ScriptRunRecord::schemas(&mut schemas);
        let names: Vec<&str> = schemas.iter().map(|(n, _)| n.as_str()).collect();
        for expected in ["Condition", "Operator", "Literal", "AlertSeverity", "Step", "BranchArm", "RunPosition"] {
            assert!(names.contains(&expected), "{expected} missing from {names:?}");
        }
        let condition = serde_json::to_string(&crate::rules::Condition::schema()).expect("json");
        assert!(condition.contains("#/components/schemas/Condition"), "{condition}");
        assert!(condition.contains("\"all\"") && condition.contains("\"field\""), "{condition}");
    }
}
