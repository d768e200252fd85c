//! The audit log (ADM-4): one entry per write, append-only, chained per tenant by SHA-256
//! so that a changed, removed or inserted entry is found by [`ChainVerifier`].
//!
//! How an entry comes to be (ADR 0020): every write already hands its domain events to one
//! store method, which writes them to the outbox in the write's transaction. The events of
//! a write carry, besides their public shape, an [`EventAudit`] note (never serialized):
//! who acted through what ([`RequestContext`]: request id, source address, channel, API
//! token) and, where the use case knows them, the changed fields' values before and after.
//! The store turns the batch into ONE pending [`AuditEntry`] ([`AuditEntry::of_write`]) in
//! the same transaction, so a write and its audit entry are committed together or not at
//! all, and a new feature's writes are audited without code of its own. A single worker
//! round ([`crate::ports::AuditStore::chain_audit`]) then appends the pending entries to the
//! tenant's chain under the tenant's chain-head lock ([`chain`]), so concurrent writers
//! never wait for each other on the chain.

mod chain;

pub use chain::{ChainBreak, ChainHead, ChainVerifier, GENESIS, chain, entry_hash};

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::FieldError;
use crate::event::{DomainEvent, EventKind};
use crate::ids::{AgentId, EventId, TenantId, TokenId};

/// Through what a write came.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = AuditChannel))]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// The HTTP API (an integration or a script).
    #[default]
    Api,
    /// The agents' console (the API, called by the console: header `X-Crm-Channel: console`).
    Console,
    /// A telephony system (CTI).
    Cti,
    /// Mail (a message received or sent).
    Mail,
    /// A rule or a background worker of the application itself.
    Rule,
    /// The operator's command line (a trusted caller acting as no agent: bootstrap, tenant
    /// administration, seeds).
    Operator,
}

impl Channel {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Channel::Api => "api",
            Channel::Console => "console",
            Channel::Cti => "cti",
            Channel::Mail => "mail",
            Channel::Rule => "rule",
            Channel::Operator => "operator",
        }
    }
}

impl std::str::FromStr for Channel {
    type Err = FieldError;

    fn from_str(s: &str) -> Result<Self, FieldError> {
        match s {
            "api" => Ok(Channel::Api),
            "console" => Ok(Channel::Console),
            "cti" => Ok(Channel::Cti),
            "mail" => Ok(Channel::Mail),
            "rule" => Ok(Channel::Rule),
            "operator" => Ok(Channel::Operator),
            other => {
                Err(FieldError::new("channel", format!("{other:?} is not api, console, cti, mail, rule or operator")))
            }
        }
    }
}

/// Where a request came from, as the transport saw it; part of the [`crate::access::Actor`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RequestContext {
    /// The request's id (`X-Request-Id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The peer's address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ip: Option<String>,
    /// Through what.
    #[serde(default)]
    pub channel: Channel,
    /// The API token the request presented.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<TokenId>,
}

/// A changed field: its value before and after the write (secrets redacted).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldChange {
    /// The field's name in the record's JSON shape.
    pub field: String,
    /// Before (`null` for a created record).
    #[cfg_attr(feature = "openapi", schema(value_type = Value))]
    pub before: Value,
    /// After (`null` for a deleted record).
    #[cfg_attr(feature = "openapi", schema(value_type = Value))]
    pub after: Value,
}

/// What replaces a secret's value.
pub const REDACTED: &str = "[redacted]";

/// Whether a field's value is a secret, never written to the audit log.
pub fn is_secret(field: &str) -> bool {
    let f = field.to_ascii_lowercase();
    ["secret", "password", "token", "hash", "api_key", "credential"].iter().any(|s| f.contains(s))
}

/// The top-level fields of `before` and `after` (as JSON objects) whose values differ, in
/// field order; secrets redacted, and the bookkeeping fields `version` and `updated_at`
/// left out. `before = None` is a creation, `after = None` a deletion.
pub fn changes_between(before: Option<&impl Serialize>, after: Option<&impl Serialize>) -> Vec<FieldChange> {
    let object = |v: Option<Value>| match v {
        Some(Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    let before = object(before.and_then(|b| serde_json::to_value(b).ok()));
    let after = object(after.and_then(|a| serde_json::to_value(a).ok()));
    let mut fields: Vec<&String> = before.keys().chain(after.keys()).collect();
    fields.sort();
    fields.dedup();
    fields
        .into_iter()
        .filter(|f| !matches!(f.as_str(), "version" | "updated_at"))
        .filter_map(|f| {
            let b = before.get(f).cloned().unwrap_or(Value::Null);
            let a = after.get(f).cloned().unwrap_or(Value::Null);
            (b != a).then(|| {
                if is_secret(f) {
                    FieldChange { field: f.clone(), before: Value::from(REDACTED), after: Value::from(REDACTED) }
                } else {
                    FieldChange { field: f.clone(), before: b, after: a }
                }
            })
        })
        .collect()
}

/// What a use case adds to its events for the audit log: the request and the changes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditNote {
    /// The request.
    pub context: RequestContext,
    /// The changed fields, when the use case knows them.
    pub changes: Vec<FieldChange>,
}

/// The audit note riding on a [`DomainEvent`]: never serialized (the outbox, the live feed
/// and webhooks do not see it), and no part of an event's identity (two events that differ
/// only by it are equal).
#[derive(Clone, Debug, Default)]
pub struct EventAudit(pub Option<Arc<AuditNote>>);

impl PartialEq for EventAudit {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for EventAudit {}

impl EventAudit {
    /// A note.
    pub fn new(note: AuditNote) -> Self {
        Self(Some(Arc::new(note)))
    }
}

/// Who acted: an agent, through an API token when the request presented one; neither for
/// the application's own work.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditActor {
    /// The agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<AgentId>,
    /// The API token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<TokenId>,
}

/// The record a write changed.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditTarget {
    /// Its kind (`case`, `customer`, `task`, `interaction`, `merge`, …).
    pub kind: String,
    /// Its id.
    pub id: String,
}

/// One write, as the audit log records it (before it is chained).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    /// Its id: the id of the write's first event.
    pub id: EventId,
    /// The tenant.
    pub tenant: TenantId,
    /// When the write happened.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: AuditActor,
    /// What: the wire name of the write's first event (`case_created`).
    pub action: String,
    /// On what.
    pub target: AuditTarget,
    /// Every event of the write, in order (the action first).
    pub events: Vec<String>,
    /// The changed fields (secrets redacted), when the use case knows them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FieldChange>,
    /// The request's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The caller's address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ip: Option<String>,
    /// Through what.
    pub channel: Channel,
}

impl AuditEntry {
    /// The entry of a write whose events are `events` (`None` for a write without events).
    /// The first event names the action and the target; the first audit note found gives
    /// the request; without one (the application's own work, e.g. a reminder coming due)
    /// the channel is [`Channel::Rule`].
    pub fn of_write(events: &[DomainEvent]) -> Option<AuditEntry> {
        let first = events.first()?;
        let note = events.iter().find_map(|e| e.audit.0.clone());
        let (context, changes) = match note.as_deref() {
            Some(n) => (n.context.clone(), n.changes.clone()),
            None => (RequestContext { channel: Channel::Rule, ..RequestContext::default() }, Vec::new()),
        };
        Some(AuditEntry {
            id: first.id,
            tenant: first.tenant,
            at: first.at,
            actor: AuditActor { agent: first.actor, token: context.token },
            action: first.kind.name().to_owned(),
            target: target_of(&first.kind),
            events: events.iter().map(|e| e.kind.name().to_owned()).collect(),
            changes,
            request_id: context.request_id,
            source_ip: context.source_ip,
            channel: context.channel,
        })
    }
}

/// The record an event is about. Kinds without a rule here (added later) name their first
/// field holding an id.
pub fn target_of(kind: &EventKind) -> AuditTarget {
    let t = |kind: &str, id: &dyn std::fmt::Display| AuditTarget { kind: kind.to_owned(), id: id.to_string() };
    match kind {
        EventKind::CustomerCreated { customer }
        | EventKind::CustomerUpdated { customer, .. }
        | EventKind::CustomerDeleted { customer } => t("customer", customer),
        EventKind::CustomersMerged { merge, .. } | EventKind::MergeUndone { merge, .. } => t("merge", merge),
        EventKind::CaseCreated { case, .. }
        | EventKind::CaseUpdated { case, .. }
        | EventKind::CaseAssigned { case, .. }
        | EventKind::CaseDeleted { case }
        | EventKind::CaseRestored { case }
        | EventKind::SlaWarning { case, .. }
        | EventKind::SlaBreached { case, .. }
        | EventKind::FollowUpAdded { case, .. }
        | EventKind::MailReceived { case, .. } => t("case", case),
        EventKind::TaskCreated { task, .. }
        | EventKind::TaskUpdated { task, .. }
        | EventKind::TaskDeleted { task, .. }
        | EventKind::TaskReminderDue { task, .. } => t("task", task),
        EventKind::InteractionCreated { interaction, .. }
        | EventKind::InteractionStateChanged { interaction, .. }
        | EventKind::InteractionLinked { interaction, .. }
        | EventKind::InteractionUnlinked { interaction, .. }
        | EventKind::MessageAdded { interaction, .. } => t("interaction", interaction),
        EventKind::ActivityPushRequested { push } => t("interaction", &push.interaction),
        EventKind::ExternalCreateRequested { interaction, .. }
        | EventKind::ExternalCreateRefused { interaction, .. } => t("interaction", interaction),
        EventKind::AgentCreated { agent }
        | EventKind::AgentUpdated { agent, .. }
        | EventKind::AgentPasswordSet { agent } => t("agent", agent),
        EventKind::GroupCreated { group }
        | EventKind::GroupUpdated { group, .. }
        | EventKind::GroupDeleted { group } => t("group", group),
        EventKind::RoleWritten { role, .. } | EventKind::RoleDeleted { role } => t("role", role),
        EventKind::ApiTokenCreated { token, .. } | EventKind::ApiTokenRevoked { token } => t("api_token", token),
        EventKind::CustomFieldWritten { custom_field, .. }
        | EventKind::CustomFieldRetired { custom_field, .. }
        | EventKind::CustomFieldDeleted { custom_field } => t("custom_field", custom_field),
        EventKind::DispositionWritten { code } => t("disposition", code),
        EventKind::QueueWritten { queue } => t("queue", queue),
        EventKind::TenantUpdated { tenant, .. } => t("tenant", tenant),
        EventKind::ConnectorWritten { system, .. } | EventKind::ConnectorDeleted { system } => t("connector", system),
        #[allow(unreachable_patterns)]
        other => generic_target(other),
    }
}

/// The first field of the event's JSON shape holding an id (a UUID), by field name.
fn generic_target(kind: &EventKind) -> AuditTarget {
    let json = serde_json::to_value(kind).unwrap_or(Value::Null);
    let found = json.as_object().and_then(|fields| {
        fields.iter().find_map(|(name, v)| {
            let s = v.as_str()?;
            uuid::Uuid::parse_str(s).ok().map(|_| AuditTarget { kind: name.clone(), id: s.to_owned() })
        })
    });
    found.unwrap_or_else(|| AuditTarget { kind: kind.name().to_owned(), id: String::new() })
}

/// An entry of a tenant's chain: the entry, its place, and the hashes linking it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditRecord {
    /// Its place in the tenant's chain (1, 2, …; gaps only before the first kept entry).
    pub seq: u64,
    /// The entry.
    pub entry: AuditEntry,
    /// The previous entry's hash ([`GENESIS`] for the first).
    pub prev_hash: String,
    /// SHA-256 (hex) of `prev_hash` and this entry ([`entry_hash`]).
    pub hash: String,
}

/// Which entries to list; every filter optional, all of them must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    /// By this agent.
    pub actor: Option<AgentId>,
    /// On records of this kind.
    pub target_kind: Option<String>,
    /// On this record.
    pub target_id: Option<String>,
    /// This action.
    pub action: Option<String>,
    /// At or after.
    pub from: Option<DateTime<Utc>>,
    /// Before.
    pub to: Option<DateTime<Utc>>,
}

impl AuditFilter {
    /// Whether `r` passes (the reference every store's query implements).
    pub fn matches(&self, r: &AuditRecord) -> bool {
        let e = &r.entry;
        self.actor.is_none_or(|a| e.actor.agent == Some(a))
            && self.target_kind.as_ref().is_none_or(|k| &e.target.kind == k)
            && self.target_id.as_ref().is_none_or(|i| &e.target.id == i)
            && self.action.as_ref().is_none_or(|a| &e.action == a)
            && self.from.is_none_or(|f| e.at >= f)
            && self.to.is_none_or(|t| e.at < t)
    }

    /// Refuses a time range that can never match.
    ///
    /// # Errors
    /// A [`FieldError`] on `to` when it is not after `from`.
    pub fn validate(&self) -> Result<(), FieldError> {
        match (self.from, self.to) {
            (Some(f), Some(t)) if t <= f => Err(FieldError::new("to", "must be after `from`")),
            _ => Ok(()),
        }
    }
}

/// The CSV header of an export ([`AuditRecord::csv_row`]).
pub const CSV_HEADER: &str = "seq,id,at,actor_agent,actor_token,action,target_kind,target_id,channel,request_id,source_ip,events,changes,prev_hash,hash";

impl AuditRecord {
    /// The record as one CSV line (RFC 4180 quoting; the changes as JSON), without newline.
    pub fn csv_row(&self) -> String {
        let e = &self.entry;
        let opt = |v: Option<String>| v.unwrap_or_default();
        let fields = [
            self.seq.to_string(),
            e.id.to_string(),
            e.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            opt(e.actor.agent.map(|a| a.to_string())),
            opt(e.actor.token.map(|t| t.to_string())),
            e.action.clone(),
            e.target.kind.clone(),
            e.target.id.clone(),
            e.channel.as_str().to_owned(),
            opt(e.request_id.clone()),
            opt(e.source_ip.clone()),
            e.events.join(" "),
            if e.changes.is_empty() { String::new() } else { serde_json::to_string(&e.changes).unwrap_or_default() },
            self.prev_hash.clone(),
            self.hash.clone(),
        ];
        fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(",")
    }
}

/// One CSV field, quoted when it must be.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_owned() }
}

#[cfg(test)]
mod tests;
