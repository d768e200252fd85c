//! A tenant's webhook subscription: where to send, which event types (with `aggregate.*`
//! and `*` wildcards), an optional filter on the event's fields in the condition language
//! ([`crate::rules`]), the enabled flag, the signing secrets (rotation keeps the old one
//! signing for an overlap period) and the endpoint's health (circuit breaker, automatic
//! disabling), which the delivery worker keeps.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::catalogue::{EVENT_TYPES, WebhookEvent};
use super::target::TargetPolicy;
use crate::error::{FieldError, ValidationErrors};
use crate::ids::{TenantId, WebhookId};
use crate::rules::{Condition, Context, Schema, Value, ValueType};

/// At most this many subscriptions per tenant.
pub const MAX_WEBHOOKS_PER_TENANT: usize = 100;
/// At most this many event-type patterns per subscription.
pub const MAX_EVENT_TYPES: usize = 50;
/// The longest rotation overlap accepted.
pub const MAX_OVERLAP_HOURS: i64 = 7 * 24;

/// One signing secret; the current one has no end, a rotated-out one signs until its end.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningSecret {
    /// `whsec_<base64>`.
    pub secret: String,
    /// When it stops signing (`None`: the current secret).
    pub expires_at: Option<DateTime<Utc>>,
}

/// How an endpoint has been doing, kept by the delivery worker.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EndpointHealth {
    /// Failed attempts in a row.
    pub failures: u32,
    /// Since when every attempt fails (`None` after a success).
    pub failing_since: Option<DateTime<Utc>>,
    /// The circuit breaker is open (no attempt) until then.
    pub breaker_until: Option<DateTime<Utc>>,
    /// When the worker disabled the subscription for failing too long.
    pub disabled_at: Option<DateTime<Utc>>,
}

/// A webhook subscription.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Subscription {
    /// Its id.
    pub id: WebhookId,
    /// The tenant.
    pub tenant: TenantId,
    /// Where events are posted.
    pub url: String,
    /// For people.
    pub description: String,
    /// Event-type patterns: a type, `aggregate.*` or `*`.
    pub event_types: Vec<String>,
    /// Only events whose fields match (`type`, `actor`, `data.<field>`).
    pub filter: Option<Condition>,
    /// Whether events are delivered (set by people).
    pub enabled: bool,
    /// The signing secrets, current last.
    pub secrets: Vec<SigningSecret>,
    /// Version, for concurrent edits.
    pub version: u64,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed by people.
    pub updated_at: DateTime<Utc>,
    /// Health, kept by the worker (stored apart from the document).
    #[serde(skip)]
    pub health: EndpointHealth,
}

/// A new subscription, or the whole of an edited one.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WebhookInput {
    /// `https` URL (`http` only to an allowed loopback address).
    pub url: String,
    /// For people.
    #[serde(default)]
    pub description: String,
    /// Event types to receive: a type of the catalogue (`case.created`), `aggregate.*`
    /// (`case.*`) or `*`.
    pub event_types: Vec<String>,
    /// Only events whose fields match this condition (fields `type`, `actor`,
    /// `data.<field>`; `data.fields` is a list, `data.unread` a number).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub filter: Option<Condition>,
    /// Deliver events (default true). Enabling a disabled subscription resets its health.
    #[serde(default = "yes")]
    pub enabled: bool,
}

const fn yes() -> bool {
    true
}

/// A subscription as the API shows it (secrets never shown again).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookView {
    /// Id.
    pub id: WebhookId,
    /// URL.
    pub url: String,
    /// Description.
    pub description: String,
    /// Event-type patterns.
    pub event_types: Vec<String>,
    /// Field filter.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub filter: Option<Condition>,
    /// Set by people.
    pub enabled: bool,
    /// Whether events are being delivered (enabled and not disabled by the worker).
    pub active: bool,
    /// Secrets currently signing (2 during a rotation's overlap).
    pub signing_secrets: u32,
    /// Version (also the `ETag`).
    pub version: u64,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed by people.
    pub updated_at: DateTime<Utc>,
    /// Health.
    pub health: EndpointHealth,
}

/// A subscription with its new secret: the only time the secret is shown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookWithSecret {
    /// The subscription.
    pub webhook: WebhookView,
    /// The new signing secret (`whsec_` + base64); shown once.
    pub secret: String,
}

/// The schema of the fields a filter may test.
pub fn filter_schema() -> Schema {
    Schema::new()
        .field("type", ValueType::Text)
        .field("actor", ValueType::Text)
        .field("data.fields", ValueType::List)
        .field("data.unread", ValueType::Number)
        .field("data.scheduled_at", ValueType::Instant)
        .field("data.failing_since", ValueType::Instant)
        .prefix("data.", ValueType::Text)
}

/// The fields of an event a filter reads.
#[derive(Debug)]
pub struct EventFields(BTreeMap<String, Value>);

impl EventFields {
    /// The fields of `event`: strings as text, numbers, booleans, lists of strings; nested
    /// objects as `data.a.b`.
    pub fn of(event: &WebhookEvent) -> Self {
        fn flatten(prefix: &str, v: &serde_json::Value, out: &mut BTreeMap<String, Value>) {
            match v {
                serde_json::Value::String(s) => {
                    let value = match DateTime::parse_from_rfc3339(s) {
                        Ok(t) if prefix.ends_with("_at") || prefix.ends_with("_since") => {
                            Value::Instant(t.with_timezone(&Utc))
                        }
                        _ => Value::Text(s.clone()),
                    };
                    out.insert(prefix.to_owned(), value);
                }
                serde_json::Value::Number(n) => {
                    if let Some(f) = n.as_f64() {
                        out.insert(prefix.to_owned(), Value::Number(f));
                    }
                }
                serde_json::Value::Bool(b) => {
                    out.insert(prefix.to_owned(), Value::Boolean(*b));
                }
                serde_json::Value::Array(items) => {
                    let texts = items.iter().filter_map(|i| i.as_str().map(str::to_owned)).collect();
                    out.insert(prefix.to_owned(), Value::List(texts));
                }
                serde_json::Value::Object(map) => {
                    for (k, v) in map {
                        flatten(&format!("{prefix}.{k}"), v, out);
                    }
                }
                serde_json::Value::Null => {}
            }
        }
        let mut out = BTreeMap::new();
        out.insert("type".to_owned(), Value::Text(event.event_type.clone()));
        if let Some(actor) = event.actor {
            out.insert("actor".to_owned(), Value::Text(actor.to_string()));
        }
        flatten("data", &event.data, &mut out);
        Self(out)
    }
}

impl Context for EventFields {
    fn value(&self, field: &str) -> Option<&Value> {
        self.0.get(field)
    }
}

/// Whether an event-type pattern covers `event_type`.
pub fn pattern_matches(pattern: &str, event_type: &str) -> bool {
    pattern == "*"
        || pattern == event_type
        || pattern
            .strip_suffix(".*")
            .is_some_and(|aggregate| event_type.strip_prefix(aggregate).is_some_and(|rest| rest.starts_with('.')))
}

/// Checks one pattern: a catalogued type, `aggregate.*` of a catalogued aggregate, or `*`.
fn check_pattern(pattern: &str) -> Result<(), String> {
    if pattern == "*" || super::catalogue::event_type(pattern).is_some() {
        return Ok(());
    }
    match pattern.strip_suffix(".*") {
        Some(aggregate) if EVENT_TYPES.iter().any(|t| t.name.split_once('.').is_some_and(|(a, _)| a == aggregate)) => {
            Ok(())
        }
        Some(_) => Err(format!("{pattern} covers no event type (GET /api/v1/webhooks/event-types lists them)")),
        None => Err(format!("{pattern} is not an event type (GET /api/v1/webhooks/event-types lists them)")),
    }
}

impl WebhookInput {
    /// Checks every field; faults name their field (`url`, `event_types[2]`,
    /// `filter.all[0].op`).
    ///
    /// # Errors
    /// [`ValidationErrors`], one per fault.
    pub fn validate(&self, policy: &TargetPolicy) -> Result<(), ValidationErrors> {
        let mut faults = Vec::new();
        if let Err(reason) = policy.check_url(self.url.trim()) {
            faults.push(FieldError::new("url", reason));
        }
        if self.description.chars().count() > 500 {
            faults.push(FieldError::new("description", "is longer than 500 characters"));
        }
        if self.event_types.is_empty() {
            faults.push(FieldError::new("event_types", "must name at least one event type (or `*`)"));
        }
        if self.event_types.len() > MAX_EVENT_TYPES {
            faults.push(FieldError::new("event_types", format!("has more than {MAX_EVENT_TYPES} patterns")));
        }
        for (i, p) in self.event_types.iter().enumerate() {
            if let Err(reason) = check_pattern(p) {
                faults.push(FieldError::new(format!("event_types[{i}]"), reason));
            }
        }
        if let Some(filter) = &self.filter
            && let Err(errors) = filter.compile(&filter_schema())
        {
            faults.extend(errors.errors().iter().map(|e| {
                let rest = e.field.strip_prefix("condition").unwrap_or(&e.field);
                FieldError::new(format!("filter{rest}"), e.reason.clone())
            }));
        }
        ValidationErrors::from_vec(faults).map_or(Ok(()), Err)
    }
}

impl Subscription {
    /// Whether events are delivered to it.
    pub fn active(&self) -> bool {
        self.enabled && self.health.disabled_at.is_none()
    }

    /// Whether it wants `event` (its type covered by a pattern, and its filter matching).
    pub fn wants(&self, event: &WebhookEvent) -> bool {
        if !self.event_types.iter().any(|p| pattern_matches(p, &event.event_type)) {
            return false;
        }
        match &self.filter {
            None => true,
            Some(c) => c.compile(&filter_schema()).is_ok_and(|f| f.matches(&EventFields::of(event))),
        }
    }

    /// The secrets that sign at `now`.
    pub fn signing_secrets(&self, now: DateTime<Utc>) -> Vec<&str> {
        self.secrets.iter().filter(|s| s.expires_at.is_none_or(|end| end > now)).map(|s| s.secret.as_str()).collect()
    }

    /// Makes `secret` the current one; the current one keeps signing until `now +
    /// overlap`, secrets already expired are dropped.
    pub fn rotate(&mut self, secret: String, now: DateTime<Utc>, overlap: chrono::Duration) {
        self.secrets.retain(|s| s.expires_at.is_none_or(|end| end > now));
        for s in &mut self.secrets {
            let end = now + overlap;
            s.expires_at = Some(s.expires_at.map_or(end, |e| e.min(end)));
        }
        self.secrets.retain(|s| s.expires_at.is_none_or(|end| end > now));
        self.secrets.push(SigningSecret { secret, expires_at: None });
    }

    /// Applies an edit (the whole input); enabling resets the health.
    pub fn apply(&mut self, input: WebhookInput, now: DateTime<Utc>) {
        if input.enabled && !self.active() {
            self.health = EndpointHealth::default();
        }
        self.url = input.url.trim().to_owned();
        self.description = input.description;
        self.event_types = input.event_types;
        self.filter = input.filter;
        self.enabled = input.enabled;
        self.updated_at = now;
        self.version += 1;
    }

    /// What the API shows.
    pub fn view(&self, now: DateTime<Utc>) -> WebhookView {
        WebhookView {
            id: self.id,
            url: self.url.clone(),
            description: self.description.clone(),
            event_types: self.event_types.clone(),
            filter: self.filter.clone(),
            enabled: self.enabled,
            active: self.active(),
            signing_secrets: u32::try_from(self.signing_secrets(now).len()).unwrap_or(u32::MAX),
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
            health: self.health.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(types: &[&str]) -> WebhookInput {
        WebhookInput {
            url: "https://hooks.example.com/crm".into(),
            event_types: types.iter().map(|s| (*s).to_owned()).collect(),
            enabled: true,
            ..WebhookInput::default()
        }
    }

    #[test]
    fn patterns_with_wildcards_cover_their_aggregate_only() {
        assert!(pattern_matches("case.*", "case.created"));
        assert!(pattern_matches("*", "task.deleted"));
        assert!(!pattern_matches("case.*", "customer.created"));
        assert!(!pattern_matches("cas.*", "case.created"));
        assert!(pattern_matches("case.created", "case.created"));
        assert!(input(&["case.*", "customer.created", "*"]).validate(&TargetPolicy::default()).is_ok());
        let errors = input(&["case.*", "case.exploded", "bogus.*"]).validate(&TargetPolicy::default()).unwrap_err();
        let fields: Vec<&str> = errors.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["event_types[1]", "event_types[2]"]);
        assert_eq!(input(&[]).validate(&TargetPolicy::default()).unwrap_err().errors()[0].field, "event_types");
    }

    #[test]
    fn filters_are_checked_named_and_applied_to_the_event_fields() {
        let mut w = input(&["case.*"]);
        w.filter = Some(
            serde_json::from_value(serde_json::json!({"all": [
                {"field": "data.fields", "op": "contains", "value": "status"},
                {"field": "type", "op": "equals", "value": "case.updated"}
            ]}))
            .unwrap(),
        );
        assert!(w.validate(&TargetPolicy::default()).is_ok());
        let never = serde_json::json!({"all": [
            {"field": "type", "op": "equals", "value": "case.updated"},
            {"field": "type", "op": "equals", "value": "case.created"}
        ]});
        let mut bad = w.clone();
        bad.filter = Some(serde_json::from_value(never).unwrap());
        let errors = bad.validate(&TargetPolicy::default()).unwrap_err();
        assert!(errors.errors()[0].field.starts_with("filter"), "{errors:?}");
        bad.filter = Some(
            serde_json::from_value(serde_json::json!({"field": "data.unread", "op": "contains", "value": "x"}))
                .unwrap(),
        );
        assert_eq!(bad.validate(&TargetPolicy::default()).unwrap_err().errors()[0].field, "filter.op");

        let now = DateTime::parse_from_rfc3339("2026-12-07T10:00:00Z").unwrap().with_timezone(&Utc);
        let sub = Subscription {
            id: WebhookId::from_uuid(uuid::Uuid::now_v7()),
            tenant: TenantId::from_uuid(uuid::Uuid::now_v7()),
            url: w.url.clone(),
            description: String::new(),
            event_types: w.event_types.clone(),
            filter: w.filter,
            enabled: true,
            secrets: vec![],
            version: 1,
            created_at: now,
            updated_at: now,
            health: EndpointHealth::default(),
        };
        let event = |t: &str, fields: &[&str]| WebhookEvent {
            event_type: t.into(),
            version: 1,
            id: crate::ids::EventId::from_uuid(uuid::Uuid::now_v7()),
            timestamp: now,
            tenant: sub.tenant,
            actor: None,
            data: serde_json::json!({"case": "x", "fields": fields}),
        };
        assert!(sub.wants(&event("case.updated", &["status", "title"])));
        assert!(!sub.wants(&event("case.updated", &["title"])));
        assert!(!sub.wants(&event("customer.updated", &["status"])));
    }

    #[test]
    fn rotation_keeps_the_old_secret_signing_for_the_overlap_only() {
        let now = DateTime::parse_from_rfc3339("2026-12-07T10:00:00Z").unwrap().with_timezone(&Utc);
        let mut sub: Subscription = Subscription {
            id: WebhookId::from_uuid(uuid::Uuid::now_v7()),
            tenant: TenantId::from_uuid(uuid::Uuid::now_v7()),
            url: "https://x.example".into(),
            description: String::new(),
            event_types: vec!["*".into()],
            filter: None,
            enabled: true,
            secrets: vec![SigningSecret { secret: "whsec_AAAA".into(), expires_at: None }],
            version: 1,
            created_at: now,
            updated_at: now,
            health: EndpointHealth::default(),
        };
        sub.rotate("whsec_BBBB".into(), now, chrono::Duration::hours(1));
        assert_eq!(sub.signing_secrets(now), ["whsec_AAAA", "whsec_BBBB"]);
        assert_eq!(sub.signing_secrets(now + chrono::Duration::hours(2)), ["whsec_BBBB"]);
        // A second rotation during the overlap does not extend the first secret's life.
        sub.rotate("whsec_CCCC".into(), now + chrono::Duration::minutes(30), chrono::Duration::hours(24));
        assert_eq!(sub.signing_secrets(now + chrono::Duration::minutes(90)), ["whsec_BBBB", "whsec_CCCC"]);
        assert_eq!(sub.secrets.len(), 3);
    }
}
