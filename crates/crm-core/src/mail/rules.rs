//! Email rules (EML-1): a tenant's ordered rules, each a condition in the shared condition
//! language ([`crate::rules`]) over the fields of a received mail ([`mail_schema`]) and
//! actions: route to a group, set the priority, create a case, answer with an auto-reply
//! (a template with the composer's placeholders), stop. Rules run in order; every matching
//! rule's actions apply (a later one's group or priority wins) until one with `stop`.
//!
//! The fields a condition reads:
//!
//! | field | type |
//! |---|---|
//! | `from`, `from.domain`, `from.name`, `subject`, `body` | text |
//! | `to`, `cc`, `recipients` (to and cc) | list |
//! | `headers.<lower-case name>` | text |
//! | `automatic` | boolean (an auto-reply, bounce or bulk mail) |
//! | `customer.known`, `customer.vip` | boolean |
//! | `customer.custom.<key>` | the custom field's type |

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::inbound::ParsedMail;
use crate::alert::{custom_field_type, custom_value};
use crate::case::Priority;
use crate::custom_field::{CustomValues, FieldKey, FieldType};
use crate::error::{FieldError, ValidationErrors};
use crate::ids::GroupId;
use crate::knowledge::compose::placeholders_of;
use crate::rules::{Condition, Filter, Schema, Value, ValueType};
use crate::text::{bounded_text, required_text};

/// The most rules in a tenant's set.
pub const MAX_MAIL_RULES: usize = 200;
/// The longest rule name (characters).
pub const MAX_MAIL_RULE_NAME: usize = 100;
/// The longest auto-reply template (bytes).
pub const MAX_AUTO_REPLY: usize = 16 * 1024;
/// The longest body text a condition reads (bytes): longer bodies are read cut.
pub const MAX_RULE_BODY: usize = 64 * 1024;

/// An auto-reply: a subject and a text with placeholders (`{{case.number}}`,
/// `{{customer.name}}` …, as the composer knows them).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AutoReply {
    /// The From of the reply: one of the tenant's groups' shared addresses.
    pub from: String,
    /// The subject (the case tag is put in front).
    pub subject: String,
    /// The text, with placeholders.
    pub text: String,
}

/// What a matching rule does.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MailActions {
    /// Route the case to this group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub group: Option<GroupId>,
    /// Set the case's priority.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    /// Set the case's category: an active key of the tenant's category list (ADR 0030).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Create a case for a mail that matches no case (default: true when no rule says).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_case: Option<bool>,
    /// Answer the sender (never an auto-reply, bounce or bulk mail; rate-limited per sender).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_reply: Option<AutoReply>,
    /// Run no later rule.
    #[serde(default)]
    pub stop: bool,
}

/// One email rule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MailRule {
    /// Its name, unique in the set.
    pub name: String,
    /// When it applies (none: always).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<Condition>,
    /// What it does.
    #[serde(default)]
    pub actions: MailActions,
}

/// A tenant's email rules, edited as one set with its version as the ETag.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MailRuleSet {
    /// The rules, in order.
    pub rules: Vec<MailRule>,
    /// The set's version: 0 while none was ever written.
    pub version: u64,
    /// Last changed.
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
}

/// The rules to write as a tenant's set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MailRulesInput {
    /// The rules, in order.
    pub rules: Vec<MailRule>,
}

/// What the rules decided for a mail.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MailDecision {
    /// The rules that matched, in order (the last one may have stopped the run).
    pub matched: Vec<String>,
    /// The group a new case goes to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub group: Option<GroupId>,
    /// The priority of a new case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    /// The category of a new case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Whether a mail that matches no case makes one.
    pub create_case: bool,
    /// The auto-reply to send (before the loop and rate checks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_reply: Option<AutoReply>,
}

/// The fields email rules may read, with the tenant's customer custom fields.
pub fn mail_schema(custom: &[(FieldKey, FieldType)]) -> Schema {
    let mut schema = Schema::new()
        .field("from", ValueType::Text)
        .field("from.domain", ValueType::Text)
        .field("from.name", ValueType::Text)
        .field("subject", ValueType::Text)
        .field("body", ValueType::Text)
        .field("to", ValueType::List)
        .field("cc", ValueType::List)
        .field("recipients", ValueType::List)
        .field("automatic", ValueType::Boolean)
        .field("customer.known", ValueType::Boolean)
        .field("customer.vip", ValueType::Boolean)
        .prefix("headers.", ValueType::Text);
    for (key, ty) in custom {
        schema.insert(format!("customer.custom.{key}"), custom_field_type(ty));
    }
    schema
}

/// The customer a mail's sender matched, as rules read it.
#[derive(Clone, Copy, Debug)]
pub struct MatchedCustomer<'a> {
    /// Whether the card is flagged VIP.
    pub vip: bool,
    /// Its custom values.
    pub custom: &'a CustomValues,
}

/// The context rules read for a mail (see [`mail_schema`]).
pub fn mail_context(mail: &ParsedMail, customer: Option<MatchedCustomer<'_>>) -> HashMap<String, Value> {
    let mut ctx = HashMap::with_capacity(16 + mail.headers.len());
    let mut put = |k: &str, v: Value| {
        ctx.insert(k.to_owned(), v);
    };
    if let Some(from) = &mail.from {
        let key = from.key();
        put("from.domain", Value::Text(key.rsplit_once('@').map(|(_, d)| d.to_owned()).unwrap_or_default()));
        put("from", Value::Text(key));
    }
    if let Some(name) = &mail.from_name {
        put("from.name", Value::Text(name.clone()));
    }
    put("subject", Value::Text(mail.subject.clone()));
    let body = if mail.text.len() > MAX_RULE_BODY {
        let mut end = MAX_RULE_BODY;
        while !mail.text.is_char_boundary(end) {
            end -= 1;
        }
        &mail.text[..end]
    } else {
        &mail.text
    };
    put("body", Value::Text(body.to_owned()));
    put("to", Value::List(mail.to.clone()));
    put("cc", Value::List(mail.cc.clone()));
    put("recipients", Value::List(mail.to.iter().chain(&mail.cc).cloned().collect()));
    put("automatic", Value::Boolean(mail.automatic.is_some()));
    put("customer.known", Value::Boolean(customer.is_some()));
    put("customer.vip", Value::Boolean(customer.is_some_and(|c| c.vip)));
    for (name, value) in &mail.headers {
        ctx.insert(format!("headers.{name}"), Value::Text(value.clone()));
    }
    if let Some(c) = customer {
        for (key, value) in c.custom {
            if let Some(v) = custom_value(value) {
                ctx.insert(format!("customer.custom.{key}"), v);
            }
        }
    }
    ctx
}

/// A checked set of email rules, ready to run.
#[derive(Clone, Debug)]
pub struct MailRules {
    rules: Vec<(MailRule, Option<Filter>)>,
}

impl MailRules {
    /// Checks every rule against `schema` (see [`mail_schema`]) and compiles them.
    ///
    /// # Errors
    /// [`ValidationErrors`] naming each fault's path (`rules[2].condition.any[0].op`,
    /// `rules[0].actions.auto_reply.text`): too many rules, a blank or repeated name, a
    /// condition the language refuses, an auto-reply with an unknown placeholder, a From
    /// that is not an address, or a line break in its subject.
    pub fn compile(rules: Vec<MailRule>, schema: &Schema) -> Result<Self, ValidationErrors> {
        if rules.len() > MAX_MAIL_RULES {
            return Err(FieldError::new("rules", format!("a set holds at most {MAX_MAIL_RULES} rules")).into());
        }
        let mut faults = Vec::new();
        let mut names = BTreeSet::new();
        let mut compiled = Vec::with_capacity(rules.len());
        for (i, rule) in rules.into_iter().enumerate() {
            let at = format!("rules[{i}]");
            if let Err(e) = required_text("name", &rule.name, MAX_MAIL_RULE_NAME) {
                faults.push(e.within(&at));
            }
            if !names.insert(rule.name.trim().to_owned()) {
                faults.push(FieldError::new(format!("{at}.name"), format!("another rule is named `{}`", rule.name)));
            }
            if let Some(reply) = &rule.actions.auto_reply {
                let at = format!("{at}.actions.auto_reply");
                if let Err(e) = crate::customer::EmailAddress::parse(&reply.from) {
                    faults.push(FieldError::new(format!("{at}.from"), e.reason));
                }
                if reply.subject.contains(['\r', '\n']) {
                    faults.push(FieldError::new(format!("{at}.subject"), "must be one line (no line breaks)"));
                }
                if let Err(e) = bounded_text("subject", &reply.subject, 900) {
                    faults.push(e.within(&at));
                }
                if reply.text.len() > MAX_AUTO_REPLY {
                    faults.push(FieldError::new(format!("{at}.text"), format!("at most {MAX_AUTO_REPLY} bytes")));
                } else if let Err(e) = placeholders_of(&reply.text) {
                    faults.push(e.within(&at));
                }
                if reply.text.trim().is_empty() {
                    faults.push(FieldError::new(format!("{at}.text"), "must not be empty"));
                }
            }
            let filter = match &rule.condition {
                None => None,
                Some(c) => match c.compile(schema) {
                    Ok(f) => Some(f),
                    Err(errors) => {
                        faults.extend(errors.errors().iter().cloned().map(|e| e.within(&at)));
                        None
                    }
                },
            };
            compiled.push((rule, filter));
        }
        match ValidationErrors::from_vec(faults) {
            Some(errors) => Err(errors),
            None => Ok(Self { rules: compiled }),
        }
    }

    /// No rule: every mail that matches no case makes one.
    pub fn empty() -> Self {
        Self { rules: Vec::new() }
    }

    /// The rules, in order.
    pub fn rules(&self) -> impl Iterator<Item = &MailRule> {
        self.rules.iter().map(|(r, _)| r)
    }

    /// Runs the rules over a mail's context: every matching rule's actions apply in order
    /// (a later group, priority or category wins; the first auto-reply is kept) until a rule stops.
    pub fn decide(&self, ctx: &HashMap<String, Value>) -> MailDecision {
        let mut decision = MailDecision { create_case: true, ..MailDecision::default() };
        let mut create: Option<bool> = None;
        for (rule, filter) in &self.rules {
            if filter.as_ref().is_some_and(|f| !f.matches(ctx)) {
                continue;
            }
            decision.matched.push(rule.name.clone());
            let a = &rule.actions;
            if a.group.is_some() {
                decision.group = a.group;
            }
            if a.priority.is_some() {
                decision.priority = a.priority;
            }
            if a.category.is_some() {
                decision.category.clone_from(&a.category);
            }
            if a.create_case.is_some() {
                create = a.create_case;
            }
            if decision.auto_reply.is_none() {
                decision.auto_reply.clone_from(&a.auto_reply);
            }
            if a.stop {
                break;
            }
        }
        decision.create_case = create.unwrap_or(true);
        decision
    }
}
