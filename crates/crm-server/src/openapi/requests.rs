//! Schemas of the request bodies, for the OpenAPI document only: the handlers deserialize
//! the core's command types (`crm_core::customer::NewCustomer` …). Each type here mirrors
//! one of them field for field (same names, same serde shape, unknown fields refused), and
//! the tests below check that a complete example is accepted by both, so the document and
//! the core cannot drift apart silently.

#![allow(missing_docs)] // the fields are documented where they live, in crm-core

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

macro_rules! string_enum {
    ($($(#[$doc:meta])* $name:ident { $($variant:ident),+ $(,)? })+) => {$(
        $(#[$doc])*
        #[derive(Debug, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }
    )+};
}

string_enum! {
    /// The medium of an interaction.
    Channel { Voice, Email, Chat, Sms, Fax, Facebook, Twitter, WhatsApp, OtherSocial }
    /// Inbound or outbound.
    Direction { Inbound, Outbound }
    /// Who may see a case.
    Visibility { Public, Internal, Private }
    /// How bad the problem is.
    Severity { Low, Medium, High, Critical }
    /// How soon to act.
    Priority { Low, Normal, High, Urgent }
    /// A case status.
    CaseStatus { Draft, Open, Pending, OnHold, Closed }
    /// A task's kind.
    TaskKind { Call, Email, Meeting, Chat, Other }
    /// A task's status.
    TaskStatus { Planned, Done, Cancelled }
    /// What a follow-up records.
    FollowUpKind { Note, OutboundEmail, InboundEmail, CallSummary, InteractionNote }
    /// A built-in role.
    Role { Agent, Supervisor, Administrator }
    /// The records a custom field applies to.
    FieldEntity { Customer, Case }
    /// Plain text or HTML (sanitised).
    DescriptionFormat { Text, Html }
    /// An external CRM.
    ExternalSystem { Salesforce, Dynamics, NetSuite }
    /// A kind of external record.
    ExternalObject { Account, Contact, Lead, Case }
}

/// A phone number, email address or handle, before normalisation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum IdentityInput {
    /// A phone number in any common written form.
    Phone {
        number: String,
        #[serde(default)]
        label: Option<String>,
    },
    /// An email address.
    Email {
        address: String,
        #[serde(default)]
        label: Option<String>,
    },
    /// A chat or social handle.
    Handle {
        channel: Channel,
        handle: String,
        #[serde(default)]
        label: Option<String>,
    },
}

/// A postal address.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostalAddress {
    #[serde(default)]
    pub label: Option<String>,
    pub lines: Vec<String>,
    #[serde(default)]
    pub postal_code: Option<String>,
    pub city: String,
    #[serde(default)]
    pub region: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: String,
}

/// A new customer (CUS-1).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCustomer {
    /// Generated (`AC-000042`) when absent.
    #[serde(default)]
    pub account_number: Option<String>,
    pub name: String,
    #[serde(default)]
    pub identities: Vec<IdentityInput>,
    #[serde(default)]
    pub addresses: Vec<PostalAddress>,
    /// Custom values by key.
    #[serde(default)]
    pub custom: BTreeMap<String, Value>,
    #[serde(default)]
    pub origin_channel: Option<Channel>,
}

/// Changes to a customer: absent fields stay, lists replace, custom values merge (`null`
/// removes one).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerPatch {
    #[serde(default)]
    pub account_number: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub identities: Option<Vec<IdentityInput>>,
    #[serde(default)]
    pub addresses: Option<Vec<PostalAddress>>,
    #[serde(default)]
    pub custom: BTreeMap<String, Value>,
}

/// A description.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DescriptionInput {
    #[serde(default)]
    pub format: Option<DescriptionFormat>,
    pub body: String,
}

/// A new case (CAS-1); `draft` relaxes validation (CAS-2).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCase {
    pub customer: Uuid,
    /// Required unless `draft`.
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub description: Option<DescriptionInput>,
    #[serde(default)]
    pub draft: bool,
    #[serde(default)]
    pub visibility: Option<Visibility>,
    #[serde(default)]
    pub severity: Option<Severity>,
    #[serde(default)]
    pub priority: Option<Priority>,
    #[serde(default)]
    pub assignee: Option<Uuid>,
    #[serde(default)]
    pub group: Option<Uuid>,
    #[serde(default)]
    pub origin_channel: Option<Channel>,
    #[serde(default)]
    pub custom: BTreeMap<String, Value>,
}

/// Changes to a case; `status` moves through the lifecycle; `assignee`/`group` `null`
/// clears.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CasePatch {
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub description: Option<DescriptionInput>,
    #[serde(default)]
    pub status: Option<CaseStatus>,
    #[serde(default)]
    pub visibility: Option<Visibility>,
    #[serde(default)]
    pub severity: Option<Severity>,
    #[serde(default)]
    pub priority: Option<Priority>,
    #[serde(default)]
    pub assignee: Option<Uuid>,
    #[serde(default)]
    pub group: Option<Uuid>,
    #[serde(default)]
    pub custom: BTreeMap<String, Value>,
}

/// A new follow-up (FUP-1).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFollowUp {
    #[serde(default)]
    pub kind: Option<FollowUpKind>,
    pub body: String,
    /// Public or internal.
    #[serde(default)]
    pub visibility: Option<Visibility>,
}

/// A local time with a zone, or an RFC 3339 instant.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleInput {
    /// `2026-11-23T14:30` (with `time_zone`, default the tenant's) or RFC 3339.
    pub at: String,
    #[serde(default)]
    pub time_zone: Option<String>,
}

/// A new task (TSK-1).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTask {
    pub kind: TaskKind,
    pub subject: String,
    #[serde(default)]
    pub notes: String,
    pub customer: Uuid,
    #[serde(default)]
    pub case: Option<Uuid>,
    #[serde(default)]
    pub assignee: Option<Uuid>,
    pub scheduled: ScheduleInput,
    #[serde(default)]
    pub duration_minutes: Option<u32>,
    /// Minutes before the task the reminder fires.
    #[serde(default)]
    pub reminder_minutes: Option<u32>,
}

/// Changes to a task; `reminder_minutes: null` removes the reminder.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskPatch {
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
    #[serde(default)]
    pub assignee: Option<Uuid>,
    #[serde(default)]
    pub scheduled: Option<ScheduleInput>,
    #[serde(default)]
    pub duration_minutes: Option<u32>,
    #[serde(default)]
    pub reminder_minutes: Option<u32>,
    #[serde(default)]
    pub status: Option<TaskStatus>,
}

/// A message of a digital conversation.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TranscriptMessage {
    pub at: chrono::DateTime<chrono::Utc>,
    /// `customer`, `agent` or `bot`.
    pub from: String,
    pub text: String,
}

/// A new interaction (INT-1).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInteraction {
    pub channel: Channel,
    pub direction: Direction,
    #[serde(default)]
    pub customer: Option<Uuid>,
    /// The caller number, sender address or handle.
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub contact_name: Option<String>,
    #[serde(default)]
    pub internal_agent: Option<Uuid>,
    #[serde(default)]
    pub agent: Option<Uuid>,
    #[serde(default)]
    pub queue: Option<String>,
    #[serde(default)]
    pub context: BTreeMap<String, String>,
    #[serde(default)]
    pub transcript: Vec<TranscriptMessage>,
}

/// A lifecycle action (INT-2).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum InteractionAction {
    Accept,
    Decline,
    Abandon,
    Hold,
    Resume,
    Consult,
    Conference,
    /// To another agent, or back to the queue without `to`.
    Transfer {
        #[serde(default)]
        to: Option<Uuid>,
    },
    Unassign,
    End,
    CompleteWrapUp,
}

/// A record in an external CRM.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ExternalRef {
    pub system: ExternalSystem,
    pub object: ExternalObject,
    pub id: String,
}

/// A record to link to an interaction (INT-6).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LinkTarget {
    Customer { id: Uuid },
    Case { id: Uuid },
    External { reference: ExternalRef },
}

/// A disposition code to add or replace (INT-3).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DispositionInput {
    pub code: String,
    pub label: String,
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub active: Option<bool>,
}

/// A new agent (ADM-1).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAgent {
    pub name: String,
    pub email: String,
    pub role: Role,
    #[serde(default)]
    pub groups: Vec<Uuid>,
}

/// Changes to an agent (ADM-1, ADM-2); absent fields are kept.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentPatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub role: Option<Role>,
    /// The whole set of groups.
    #[serde(default)]
    pub groups: Option<Vec<Uuid>>,
    #[serde(default)]
    pub active: Option<bool>,
}

/// Changes to the caller's profile; `null` clears `default_from` or `signature`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatch {
    #[serde(default)]
    pub default_from: Option<String>,
    #[serde(default)]
    pub signature: Option<String>,
    #[serde(default)]
    pub preferred_case_columns: Option<Vec<String>>,
}

/// A person to create remotely.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ExternalPerson {
    #[serde(default)]
    pub first_name: Option<String>,
    pub last_name: String,
    /// E.164.
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// Required for Salesforce leads.
    #[serde(default)]
    pub company: Option<String>,
    #[serde(default)]
    pub account: Option<ExternalRef>,
}

/// A case to create remotely.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ExternalCase {
    pub subject: String,
    #[serde(default)]
    pub description: Option<String>,
    /// low, normal, high or urgent.
    pub priority: String,
    pub origin: Channel,
    #[serde(default)]
    pub contact: Option<ExternalRef>,
    #[serde(default)]
    pub account: Option<ExternalRef>,
}

/// What to create in an external CRM (INT-7).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ExternalCreate {
    Case(ExternalCase),
    Contact(ExternalPerson),
    Lead(ExternalPerson),
}

/// The type of a custom field.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FieldType {
    Text,
    LongText,
    Integer,
    Decimal,
    Boolean,
    Date,
    Datetime,
    SingleChoice { choices: Vec<String> },
    MultiChoice { choices: Vec<String> },
    Email,
    Phone,
    Url,
}

/// A new custom field definition (CUS-2).
#[derive(Debug, Deserialize, ToSchema)]
pub struct FieldDefinitionInput {
    pub entity: FieldEntity,
    pub key: String,
    pub label: String,
    pub field_type: FieldType,
    #[serde(default)]
    pub required: bool,
    /// In the field's type.
    #[serde(default)]
    pub default: Option<Value>,
}

#[cfg(test)]
mod tests {
    use serde::de::DeserializeOwned;
    use serde_json::json;

    fn both<Doc: DeserializeOwned, Core: DeserializeOwned>(example: serde_json::Value) {
        serde_json::from_value::<Doc>(example.clone()).unwrap_or_else(|e| panic!("doc type refuses {example}: {e}"));
        serde_json::from_value::<Core>(example.clone()).unwrap_or_else(|e| panic!("core type refuses {example}: {e}"));
    }

    const U: &str = "01a2081f-3935-76de-8ddf-2e370ae52ada";

    #[test]
    fn every_documented_request_body_is_what_the_core_accepts() {
        use crm_core as c;
        both::<super::NewCustomer, c::customer::NewCustomer>(json!({
            "account_number": "A-1", "name": "n", "origin_channel": "whats_app", "custom": {"vip": true},
            "identities": [{"type": "phone", "number": "1", "label": "m"}, {"type": "email", "address": "a@b.c"},
                           {"type": "handle", "channel": "twitter", "handle": "@x"}],
            "addresses": [{"label": "l", "lines": ["1"], "postal_code": "p", "city": "c", "region": "r", "country": "FR"}]
        }));
        both::<super::CustomerPatch, c::customer::CustomerPatch>(json!({
            "account_number": "A", "name": "n", "identities": [], "addresses": [], "custom": {"x": null}
        }));
        both::<super::NewCase, c::case::NewCase>(json!({
            "customer": U, "subject": "s", "description": {"format": "html", "body": "<b>b</b>"}, "draft": true,
            "visibility": "private", "severity": "critical", "priority": "urgent", "assignee": U, "group": U,
            "origin_channel": "voice", "custom": {}
        }));
        both::<super::CasePatch, c::case::CasePatch>(json!({
            "subject": "s", "description": {"body": "b"}, "status": "on_hold", "visibility": "public",
            "severity": "low", "priority": "low", "assignee": null, "group": U, "custom": {}
        }));
        both::<super::NewFollowUp, c::follow_up::NewFollowUp>(
            json!({"kind": "call_summary", "body": "b", "visibility": "public"}),
        );
        both::<super::NewTask, c::task::NewTask>(json!({
            "kind": "meeting", "subject": "s", "notes": "n", "customer": U, "case": U, "assignee": U,
            "scheduled": {"at": "2026-11-23T14:30", "time_zone": "Europe/Paris"}, "duration_minutes": 30, "reminder_minutes": 10
        }));
        both::<super::TaskPatch, c::task::TaskPatch>(json!({
            "subject": "s", "notes": "n", "assignee": U, "scheduled": {"at": "2026-11-23T14:30"}, "duration_minutes": 5,
            "reminder_minutes": null, "status": "done"
        }));
        both::<super::NewInteraction, c::interaction::NewInteraction>(json!({
            "channel": "sms", "direction": "outbound", "customer": U, "address": "a", "contact_name": "n",
            "internal_agent": U, "agent": U, "queue": "q", "context": {"k": "v"},
            "transcript": [{"at": "2026-11-23T14:30:00Z", "from": "bot", "text": "t"}]
        }));
        for action in
            [json!({"action": "accept"}), json!({"action": "transfer", "to": U}), json!({"action": "complete_wrap_up"})]
        {
            both::<super::InteractionAction, c::interaction::InteractionAction>(action);
        }
        for target in [
            json!({"type": "case", "id": U}),
            json!({"type": "external", "reference": {"system": "net_suite", "object": "lead", "id": "42"}}),
        ] {
            both::<super::LinkTarget, c::interaction::LinkTarget>(target);
        }
        both::<super::ExternalCreate, c::external::ExternalCreate>(json!({
            "kind": "contact", "first_name": "f", "last_name": "l", "phone": "+33123456789", "email": "a@b.c",
            "company": "c", "account": {"system": "salesforce", "object": "account", "id": "001"}
        }));
        both::<super::ExternalCreate, c::external::ExternalCreate>(json!({
            "kind": "case", "subject": "s", "description": "d", "priority": "high", "origin": "voice",
            "contact": null, "account": {"system": "dynamics", "object": "account", "id": "x"}
        }));
        both::<super::DispositionInput, c::interaction::DispositionInput>(
            json!({"code": "c", "label": "l", "group": "g", "active": false}),
        );
        both::<super::NewAgent, c::service::NewAgent>(
            json!({"name": "n", "email": "e@x.y", "role": "supervisor", "groups": [U]}),
        );
        both::<super::AgentPatch, c::service::AgentPatch>(
            json!({"name": "n", "role": "agent", "groups": [U], "active": false}),
        );
        both::<super::ProfilePatch, c::service::ProfilePatch>(
            json!({"default_from": null, "signature": "s", "preferred_case_columns": ["number"]}),
        );
        both::<super::FieldDefinitionInput, c::custom_field::FieldDefinitionInput>(json!({
            "entity": "case", "key": "tier", "label": "Tier", "field_type": {"type": "single_choice", "choices": ["a"]},
            "required": true, "default": "a"
        }));
    }
}
