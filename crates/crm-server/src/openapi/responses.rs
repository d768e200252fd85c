//! Schemas of the response bodies, for the OpenAPI document: the handlers serialise the
//! core's types (`crm_core::customer::Customer` …) as they are. Each type here mirrors one
//! of them field for field and refuses unknown fields; the end-to-end tests deserialise
//! real responses into these types, so the document and the wire cannot drift apart.

#![allow(missing_docs)] // the fields are documented where they live, in crm-core

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::requests::{
    CaseStatus, Channel, DescriptionFormat, Direction, ExternalRef, FieldEntity, FieldType, FollowUpKind,
    PostalAddress, Priority, Role, Severity, TaskKind, TaskStatus, TranscriptMessage, Visibility,
};

macro_rules! string_enum {
    ($($(#[$doc:meta])* $name:ident { $($variant:ident),+ $(,)? })+) => {$(
        $(#[$doc])*
        #[derive(Debug, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }
    )+};
}

string_enum! {
    /// Where an interaction is in its life.
    InteractionState { Offered, Declined, Active, Held, Consulting, Conferenced, WrapUp, Closed }
    /// A relation's kind.
    RelationKind { HouseholdMember, Employer, Employee, Other }
    /// How a merge settled conflicts.
    ConflictRule { KeepTarget, KeepSource }
}

/// A normalised identity.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Identity {
    /// E.164.
    Phone {
        number: String,
        #[serde(default)]
        label: Option<String>,
    },
    Email {
        address: String,
        #[serde(default)]
        label: Option<String>,
    },
    Handle {
        channel: Channel,
        handle: String,
        #[serde(default)]
        label: Option<String>,
    },
}

/// A validated custom value.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum FieldValue {
    Text(String),
    Integer(i64),
    /// Exact, as a string.
    Decimal(String),
    Boolean(bool),
    /// `2026-11-23`.
    Date(String),
    Datetime(DateTime<Utc>),
    Choice(String),
    Choices(Vec<String>),
    Email(String),
    Phone(String),
    Url(String),
}

/// Live or merged into another card.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "state", rename_all = "snake_case", deny_unknown_fields)]
pub enum CustomerStatus {
    Active,
    Merged { into: Uuid, merge: Uuid },
}

/// A customer card (CUS-1).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Customer {
    pub id: Uuid,
    pub tenant: Uuid,
    pub account_number: String,
    pub name: String,
    pub identities: Vec<Identity>,
    pub addresses: Vec<PostalAddress>,
    pub custom: BTreeMap<String, FieldValue>,
    pub status: CustomerStatus,
    pub origin_channel: Option<Channel>,
    pub last_contact_at: Option<DateTime<Utc>>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: u64,
}

/// A case as cards show it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseSummary {
    pub id: Uuid,
    /// Shown as `CS-000123`.
    #[schema(example = "CS-000123")]
    pub number: String,
    pub subject: String,
    pub status: CaseStatus,
    pub priority: Priority,
    pub severity: Severity,
    pub assignee: Option<Uuid>,
    pub updated_at: DateTime<Utc>,
}

/// A task (TSK-1).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Task {
    pub id: Uuid,
    pub tenant: Uuid,
    pub kind: TaskKind,
    pub subject: String,
    pub notes: String,
    pub customer: Uuid,
    pub case: Option<Uuid>,
    pub assignee: Uuid,
    pub scheduled_at: DateTime<Utc>,
    /// IANA zone.
    pub time_zone: String,
    pub duration_minutes: u32,
    pub status: TaskStatus,
    pub reminder_minutes: Option<u32>,
    pub reminder_at: Option<DateTime<Utc>>,
    pub reminder_sent_at: Option<DateTime<Utc>>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: u64,
}

/// An interaction as histories show it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InteractionSummary {
    pub id: Uuid,
    pub channel: Channel,
    pub direction: Direction,
    pub state: InteractionState,
    pub agent: Option<Uuid>,
    pub offered_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub disposition: Option<String>,
}

/// A relation between two customers (CUS-7).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Relation {
    pub id: Uuid,
    pub tenant: Uuid,
    pub from: Uuid,
    pub to: Uuid,
    pub kind: RelationKind,
    pub note: Option<String>,
}

/// The screen-pop card (CUS-4).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerCard {
    pub customer: Customer,
    pub open_cases: Vec<CaseSummary>,
    pub pending_tasks: Vec<Task>,
    pub last_interactions: Vec<InteractionSummary>,
    pub relations: Vec<Relation>,
}

/// A description.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Description {
    pub format: DescriptionFormat,
    pub body: String,
}

/// A case (CAS-1).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub id: Uuid,
    pub tenant: Uuid,
    /// Shown as `CS-000123`.
    #[schema(example = "CS-000123")]
    pub number: String,
    pub customer: Uuid,
    pub subject: String,
    pub description: Description,
    pub status: CaseStatus,
    pub visibility: Visibility,
    pub severity: Severity,
    pub priority: Priority,
    pub assignee: Option<Uuid>,
    pub group: Option<Uuid>,
    pub origin_channel: Option<Channel>,
    pub origin_interaction: Option<Uuid>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub custom: BTreeMap<String, FieldValue>,
    pub version: u64,
}

/// One recorded change of a case field (CAS-4).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseHistoryEntry {
    pub tenant: Uuid,
    pub case: Uuid,
    pub version: u64,
    pub at: DateTime<Utc>,
    pub actor: Uuid,
    pub field: String,
    pub old: Value,
    pub new: Value,
}

/// A follow-up (FUP-1).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowUp {
    pub id: Uuid,
    pub tenant: Uuid,
    pub case: Uuid,
    pub kind: FollowUpKind,
    pub author: Option<Uuid>,
    pub at: DateTime<Utc>,
    pub body: String,
    pub visibility: Visibility,
    pub interaction: Option<Uuid>,
}

/// Who the agent talks to.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Counterpart {
    Contact { address: Option<String>, name: Option<String> },
    Agent { agent: Uuid },
}

/// A note on an interaction.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InteractionNote {
    pub id: Uuid,
    pub author: Uuid,
    pub at: DateTime<Utc>,
    pub text: String,
}

/// A linked record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum LinkedRecord {
    Customer { id: Uuid },
    Case { id: Uuid },
    External { reference: ExternalRef },
}

/// A link of an interaction (INT-6).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InteractionLink {
    pub target: LinkedRecord,
    pub linked_by: Uuid,
    pub linked_at: DateTime<Utc>,
}

/// An interaction (INT-1).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Interaction {
    pub id: Uuid,
    pub tenant: Uuid,
    pub channel: Channel,
    pub direction: Direction,
    pub customer: Option<Uuid>,
    pub counterpart: Counterpart,
    pub agent: Option<Uuid>,
    pub queue: Option<String>,
    pub state: InteractionState,
    pub offered_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub wrap_up_done_at: Option<DateTime<Utc>>,
    pub talk_seconds: u32,
    pub connected_since: Option<DateTime<Utc>>,
    pub context: BTreeMap<String, String>,
    pub transcript: Vec<TranscriptMessage>,
    pub notes: Vec<InteractionNote>,
    pub disposition: Option<String>,
    pub disposition_required: bool,
    pub links: Vec<InteractionLink>,
    pub pushes: u32,
    pub version: u64,
}

/// An agent's planned tasks (TSK-3).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Agenda {
    pub overdue: Vec<Task>,
    pub due: Vec<Task>,
    pub upcoming: Vec<Task>,
}

/// A disposition code (INT-3).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Disposition {
    pub tenant: Uuid,
    pub code: String,
    pub label: String,
    pub group: Option<String>,
    pub active: bool,
}

/// A queue's settings.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QueueSettings {
    pub tenant: Uuid,
    pub name: String,
    pub disposition_required: bool,
}

/// An agent's preferences.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentProfile {
    pub default_from: Option<String>,
    pub signature: Option<String>,
    pub preferred_case_columns: Vec<String>,
}

/// An agent (ADM-1).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Agent {
    pub id: Uuid,
    pub tenant: Uuid,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub groups: Vec<Uuid>,
    pub profile: AgentProfile,
    pub active: bool,
    pub version: u64,
}

/// A group (ADM-1).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Group {
    pub id: Uuid,
    pub tenant: Uuid,
    pub name: String,
    pub mail_addresses: Vec<String>,
    pub version: u64,
}

/// A custom field definition (CUS-2).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldDefinition {
    pub id: Uuid,
    pub tenant: Uuid,
    pub entity: FieldEntity,
    pub key: String,
    pub label: String,
    pub field_type: FieldType,
    pub required: bool,
    pub default: Option<FieldValue>,
    pub version: u64,
}

/// Why a card is suggested as a duplicate.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum DuplicateReason {
    SharedIdentity { key: String },
    PhoneticName,
    SimilarName { similarity: f64 },
}

/// A suggested duplicate (CUS-6).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DuplicateCandidate {
    pub customer: Uuid,
    pub name: String,
    /// 0 to 1, higher is likelier.
    pub score: f64,
    pub reasons: Vec<DuplicateReason>,
}

/// A settled merge conflict.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeConflict {
    pub field: String,
    pub kept: Value,
    pub dropped: Value,
}

/// What a merge moved.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MovedRecords {
    pub cases: Vec<Uuid>,
    pub tasks: Vec<Uuid>,
    pub interactions: Vec<Uuid>,
    pub relations_from: Vec<Uuid>,
    pub relations_to: Vec<Uuid>,
}

/// A merge (CUS-6).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeRecord {
    pub id: Uuid,
    pub tenant: Uuid,
    pub target: Uuid,
    pub source: Uuid,
    pub rule: ConflictRule,
    pub conflicts: Vec<MergeConflict>,
    pub target_before: Customer,
    pub source_before: Customer,
    pub target_version_after: u64,
    pub moved: MovedRecords,
    pub merged_by: Uuid,
    pub merged_at: DateTime<Utc>,
    pub undone_at: Option<DateTime<Utc>>,
    pub undone_by: Option<Uuid>,
}

/// Both cards after an undo.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UndoneMerge {
    pub target: Customer,
    pub source: Customer,
}

/// A page of customers.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerPage {
    pub items: Vec<Customer>,
    /// The next page's cursor; `null` on the last.
    pub next: Option<String>,
}

/// A page of cases.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CasePage {
    pub items: Vec<Case>,
    pub next: Option<String>,
}

/// A page of interactions.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InteractionPage {
    pub items: Vec<Interaction>,
    pub next: Option<String>,
}

/// What an incoming call produced (EXT-2).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScreenPop {
    pub interaction: Interaction,
    pub cards: Vec<CustomerCard>,
}

/// A record found in an external CRM (EXT-1).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExternalRecord {
    pub reference: ExternalRef,
    pub name: String,
    pub phones: Vec<String>,
    pub emails: Vec<String>,
    pub account: Option<ExternalRef>,
    pub url: Option<String>,
}

/// A remote record created during an interaction, and the interaction linked to it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatedExternal {
    pub reference: ExternalRef,
    pub interaction: Interaction,
}

string_enum! {
    /// Delivery state of an outbox entry.
    OutboxStatus { Pending, Delivered, Dead }
    /// Which worker delivers an event.
    Topic { Notification, ExternalPush }
}

/// A domain event as the outbox holds it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutboxEvent {
    pub id: Uuid,
    pub tenant: Uuid,
    pub at: DateTime<Utc>,
    pub actor: Option<Uuid>,
    /// The event, tagged by `type` (`activity_push_requested` carries the `push`).
    #[schema(value_type = Object)]
    pub kind: Value,
}

/// An outbox entry (INT-6): an event and its delivery state.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutboxEntry {
    pub event: OutboxEvent,
    pub topic: Topic,
    pub status: OutboxStatus,
    /// Failed attempts so far.
    pub attempts: u32,
    /// Not before this instant.
    pub next_attempt_at: DateTime<Utc>,
    /// The last failure.
    pub last_error: Option<String>,
}

/// A page of outbox entries.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutboxPage {
    pub items: Vec<OutboxEntry>,
    pub next: Option<String>,
}
