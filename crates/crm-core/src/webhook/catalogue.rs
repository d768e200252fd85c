//! The event catalogue: each [`EventKind`] delivered to webhooks as a typed, versioned
//! event with a stable JSON shape (the envelope [`WebhookEvent`]).
//!
//! The type of an event is `<aggregate>.<change>` (`case.created`, `customer.merged`): the
//! list is [`EVENT_TYPES`]. Its `data` is the [`EventKind`]'s own fields (without its
//! `type`), so each type's data has the schema of its variant; `version` goes up only if a
//! field is removed or changes meaning (adding a field does not change it).

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::event::{DomainEvent, EventKind};
use crate::ids::{AgentId, EventId, TenantId};

/// The version of every event type's shape today.
pub const EVENT_VERSION: u32 = 1;

/// The type of the "send test event" call's event (not an [`EventKind`]).
pub const TEST_EVENT_TYPE: &str = "webhook.test";

/// One event type of the catalogue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventType {
    /// Its name (`case.created`).
    pub name: &'static str,
    /// The [`EventKind`] it comes from (`case_created`): the schema of its `data`.
    pub kind: &'static str,
    /// The version of its shape.
    pub version: u32,
    /// What happened, for people.
    pub description: &'static str,
}

const fn t(name: &'static str, kind: &'static str, description: &'static str) -> EventType {
    EventType { name, kind, version: EVENT_VERSION, description }
}

/// Every event type a webhook can subscribe to, by aggregate.
pub const EVENT_TYPES: &[EventType] = &[
    t("customer.created", "customer_created", "A customer was created."),
    t("customer.updated", "customer_updated", "A customer changed (the changed fields are listed)."),
    t("customer.deleted", "customer_deleted", "A customer was deleted."),
    t("customer.merged", "customers_merged", "Two customer cards were merged."),
    t("customer.unmerged", "merge_undone", "A merge of two customer cards was undone."),
    t("case.created", "case_created", "A case was created."),
    t("case.updated", "case_updated", "A case changed (status changes included; the changed fields are listed)."),
    t("case.assigned", "case_assigned", "A case was (re)assigned."),
    t("case.deleted", "case_deleted", "A case was (softly) deleted."),
    t("case.restored", "case_restored", "A deleted case was restored."),
    t("case.sla_warning", "sla_warning", "A case's SLA metric reached its warning share of the target."),
    t("case.sla_breached", "sla_breached", "A case's SLA metric breached its target."),
    t("case.follow_up_added", "follow_up_added", "A follow-up was added to a case."),
    t("case.mail_received", "mail_received", "A mail was received on a case (its inbound_email follow-up)."),
    t("task.created", "task_created", "A task was created."),
    t("task.updated", "task_updated", "A task changed."),
    t("task.deleted", "task_deleted", "A task was deleted."),
    t("task.reminder_due", "task_reminder_due", "A task's reminder came due."),
    t("interaction.created", "interaction_created", "An interaction was created."),
    t("interaction.state_changed", "interaction_state_changed", "An interaction changed state."),
    t("interaction.linked", "interaction_linked", "A record was linked to an interaction."),
    t("interaction.unlinked", "interaction_unlinked", "A record was unlinked from an interaction."),
    t("interaction.message_added", "message_added", "A message was added to a conversation."),
    t("interaction.script_run_finished", "script_run_finished", "An interactive script run reached its end."),
    t(
        "interaction.external_create_refused",
        "external_create_refused",
        "An external CRM refused a record asked for during an interaction (the remote's reason is given).",
    ),
    t(
        "outbound.outcome_recorded",
        "outbound_outcome_recorded",
        "An outbound call-list attempt's outcome was recorded.",
    ),
    t("article.written", "article_written", "A knowledge article was created or changed."),
    t("standard_response.written", "standard_response_written", "A standard response was created or changed."),
    t("standard_response.deleted", "standard_response_deleted", "A standard response was deleted."),
    t("organisation.created", "organisation_created", "An organisation was created."),
    t("organisation.updated", "organisation_updated", "An organisation changed (the changed fields are listed)."),
    t("organisation.deleted", "organisation_deleted", "An organisation was deleted."),
    t("customer.organisation_changed", "customer_organisation_changed", "A customer joined or left an organisation."),
    t("lead.created", "lead_created", "A lead was created (during an interaction, when given)."),
    t("lead.updated", "lead_updated", "A lead changed (its status among the fields)."),
    t("lead.converted", "lead_converted", "A lead became a customer."),
    t("agent.created", "agent_created", "An agent was created."),
    t(
        "agent.updated",
        "agent_updated",
        "An agent changed: name, role, groups, active flag or profile (the changed fields are listed).",
    ),
    t("agent.password_set", "agent_password_set", "An agent's console password was set (never with the password)."),
    t("group.created", "group_created", "A group was created."),
    t("group.updated", "group_updated", "A group changed (the changed fields are listed)."),
    t("group.deleted", "group_deleted", "A group was deleted."),
    t("role.written", "role_written", "A tenant-defined role was created or changed (its version now)."),
    t("role.deleted", "role_deleted", "A tenant-defined role was deleted."),
    t("api_token.created", "api_token_created", "An API token was issued (never with its secret)."),
    t("api_token.revoked", "api_token_revoked", "An API token was revoked."),
    t(
        "custom_field.written",
        "custom_field_written",
        "A custom field definition was created or changed (its version now).",
    ),
    t("custom_field.retired", "custom_field_retired", "A custom field definition was retired."),
    t("custom_field.deleted", "custom_field_deleted", "A custom field definition was deleted."),
    t("disposition.written", "disposition_written", "A disposition code was added or replaced."),
    t("queue.written", "queue_written", "A queue's settings were written."),
    t(
        "tenant.updated",
        "tenant_updated",
        "The tenant changed: settings, name or suspension (the changed fields are listed).",
    ),
    t("webhook.disabled", "webhook_disabled", "A webhook subscription was disabled after failing too long."),
    t(
        "connector.written",
        "connector_written",
        "The tenant's connector to an external CRM was configured or changed (never its secrets).",
    ),
    t("connector.deleted", "connector_deleted", "The tenant's connector to an external CRM was removed."),
];

/// The catalogue's entry of a type name.
pub fn event_type(name: &str) -> Option<&'static EventType> {
    EVENT_TYPES.iter().find(|t| t.name == name)
}

/// The webhook type of an event kind; `None` for internal events (external CRM pushes and
/// creates).
/// A kind the catalogue does not list yet is named after its wire name (`a_b_c` → `a.b_c`),
/// so a new event is never silently dropped.
pub fn type_of(kind: &EventKind) -> Option<String> {
    if matches!(kind, EventKind::ActivityPushRequested { .. } | EventKind::ExternalCreateRequested { .. }) {
        return None;
    }
    let name = kind.name();
    if let Some(t) = EVENT_TYPES.iter().find(|t| t.kind == name) {
        return Some(t.name.to_owned());
    }
    Some(match name.split_once('_') {
        Some((aggregate, change)) => format!("{aggregate}.{change}"),
        None => format!("event.{name}"),
    })
}

/// The aggregate an event is about (`case:<id>`): deliveries of one aggregate to one
/// subscription are made in event order.
pub fn aggregate_of(kind: &EventKind) -> String {
    if let EventKind::DispositionWritten { code } = kind {
        return format!("disposition:{code}");
    }
    let json = serde_json::to_value(kind).unwrap_or_default();
    for key in [
        "case",
        "lead",
        "customer",
        "target",
        "task",
        "interaction",
        "webhook",
        "merge",
        "organisation",
        "article",
        "response",
        "token",
        "group",
        "role",
        "custom_field",
        "agent",
        "tenant",
        "queue",
    ] {
        if let Some(id) = json.get(key).and_then(|v| v.as_str()) {
            let key = if key == "target" { "customer" } else { key };
            return format!("{key}:{id}");
        }
    }
    format!("event:{}", kind.name())
}

/// An event as a webhook receives it (the request body).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookEvent {
    /// The event type (`case.created`).
    #[serde(rename = "type")]
    pub event_type: String,
    /// The version of the type's shape.
    pub version: u32,
    /// The event id: the idempotency key (a redelivery carries the same id, also in the
    /// `webhook-id` header).
    pub id: EventId,
    /// When it happened (RFC 3339, UTC).
    pub timestamp: DateTime<Utc>,
    /// The tenant.
    pub tenant: TenantId,
    /// Who caused it (absent for system work).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<AgentId>,
    /// The event's fields (the schema of its [`EventKind`] variant, without `type`).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub data: serde_json::Value,
}

impl WebhookEvent {
    /// The webhook event of a domain event; `None` for internal events.
    pub fn of(event: &DomainEvent) -> Option<Self> {
        let event_type = type_of(&event.kind)?;
        let mut data = serde_json::to_value(&event.kind).unwrap_or_default();
        if let Some(map) = data.as_object_mut() {
            map.remove("type");
        }
        Some(Self {
            event_type,
            version: EVENT_VERSION,
            id: event.id,
            timestamp: event.at,
            tenant: event.tenant,
            actor: event.actor,
            data,
        })
    }

    /// The body sent: compact JSON, fields in a fixed order, the time in RFC 3339 with
    /// microseconds.
    pub fn body(&self) -> String {
        let mut v = serde_json::json!({
            "type": self.event_type,
            "version": self.version,
            "id": self.id,
            "timestamp": self.timestamp.to_rfc3339_opts(SecondsFormat::Micros, true),
            "tenant": self.tenant,
        });
        if let (Some(map), Some(actor)) = (v.as_object_mut(), self.actor) {
            map.insert("actor".into(), serde_json::json!(actor));
        }
        if let Some(map) = v.as_object_mut() {
            map.insert("data".into(), self.data.clone());
        }
        v.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{CaseId, CustomerId, TaskId};

    fn id<T: From<uuid::Uuid>>(n: u128) -> T {
        T::from(uuid::Uuid::from_u128(n))
    }

    #[test]
    fn every_catalogued_kind_is_named_and_internal_pushes_are_not() {
        let kind = EventKind::CaseCreated {
            case: id(1),
            number: "CS-000001".parse().unwrap(),
            customer: id(2),
            assignee: None,
        };
        assert_eq!(type_of(&kind).as_deref(), Some("case.created"));
        assert_eq!(aggregate_of(&kind), format!("case:{}", CaseId::from(uuid::Uuid::from_u128(1))));
        let merged = EventKind::CustomersMerged { merge: id(3), target: id(4), source: id(5) };
        assert_eq!(type_of(&merged).as_deref(), Some("customer.merged"));
        assert_eq!(aggregate_of(&merged), format!("customer:{}", CustomerId::from(uuid::Uuid::from_u128(4))));
        let task = EventKind::TaskDeleted { task: id(6), assignee: id(7) };
        assert_eq!(aggregate_of(&task), format!("task:{}", TaskId::from(uuid::Uuid::from_u128(6))));
        // Names are unique and every kind listed maps back to its name.
        for (i, t) in EVENT_TYPES.iter().enumerate() {
            assert!(EVENT_TYPES[..i].iter().all(|o| o.name != t.name && o.kind != t.kind), "{}", t.name);
            assert!(t.name.split_once('.').is_some_and(|(a, c)| !a.is_empty() && !c.is_empty()));
        }
    }

    #[test]
    fn the_envelope_carries_type_id_timestamp_and_the_kind_fields_as_data() {
        let event = DomainEvent {
            id: id(9),
            tenant: id(8),
            at: DateTime::parse_from_rfc3339("2026-12-07T09:30:00.123456Z").unwrap().with_timezone(&Utc),
            actor: None,
            kind: EventKind::CaseUpdated { case: id(1), fields: vec!["status".into()] },
            audit: Default::default(),
        };
        let envelope = WebhookEvent::of(&event).unwrap();
        let body: serde_json::Value = serde_json::from_str(&envelope.body()).unwrap();
        assert_eq!(body["type"], "case.updated");
        assert_eq!(body["version"], 1);
        assert_eq!(body["id"], serde_json::json!(event.id));
        assert_eq!(body["timestamp"], "2026-12-07T09:30:00.123456Z");
        assert_eq!(body["data"]["fields"], serde_json::json!(["status"]));
        assert!(body["data"].get("type").is_none());
        assert!(body.get("actor").is_none());
        let back: WebhookEvent = serde_json::from_value(body).unwrap();
        assert_eq!(back, envelope);
    }
}
