//! The case aggregate (CAS-1, CAS-3) and the commands that create and edit it.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::history::FieldMap;
use super::{CaseNumber, CaseStatus, Priority, Severity, Visibility};
use crate::access::Actor;
use crate::custom_field::CustomValues;
use crate::error::{FieldError, TransitionError};
use crate::ids::{AgentId, CaseId, CustomerId, GroupId, InteractionId, TenantId};
use crate::interaction::Channel;
use crate::text::bounded_text;

mod deletion;
mod new;
mod patch;
mod record;

pub use new::ValidNewCase;
pub use patch::{CaseContext, CasePatch, CasePatchError};
pub use record::CaseRecord;

/// The longest subject.
pub const MAX_SUBJECT: usize = 255;
/// The longest description.
pub const MAX_DESCRIPTION: usize = 100_000;

/// Plain text or sanitised HTML.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "format", content = "body", rename_all = "snake_case")]
pub enum Description {
    /// Plain text.
    Text(String),
    /// HTML, sanitised on the way in (scripts, event handlers and unsafe URLs removed).
    Html(String),
}

impl Description {
    /// Validates plain text.
    ///
    /// # Errors
    /// When it is too long.
    pub fn text(body: &str) -> Result<Self, FieldError> {
        bounded_text("description", body, MAX_DESCRIPTION).map(Self::Text)
    }

    /// Sanitises HTML.
    ///
    /// # Errors
    /// When it is too long.
    pub fn html(body: &str) -> Result<Self, FieldError> {
        if body.len() > MAX_DESCRIPTION {
            return Err(FieldError::new("description", format!("must be at most {MAX_DESCRIPTION} bytes")));
        }
        Ok(Self::Html(ammonia::clean(body)))
    }

    /// The body.
    pub fn body(&self) -> &str {
        match self {
            Description::Text(b) | Description::Html(b) => b,
        }
    }
}

impl Default for Description {
    fn default() -> Self {
        Self::Text(String::new())
    }
}

/// A description as a caller sends it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DescriptionInput {
    /// `text` (default) or `html`.
    #[serde(default)]
    pub format: DescriptionFormat,
    /// The body.
    pub body: String,
}

/// The format of a description.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DescriptionFormat {
    /// Plain text.
    #[default]
    Text,
    /// HTML.
    Html,
}

impl DescriptionInput {
    /// Validates (and sanitises HTML).
    ///
    /// # Errors
    /// When it is too long.
    pub fn parse(&self) -> Result<Description, FieldError> {
        match self.format {
            DescriptionFormat::Text => Description::text(&self.body),
            DescriptionFormat::Html => Description::html(&self.body),
        }
    }
}

/// A case.
///
/// The identity fields, fixed at creation, are public; everything that changes afterwards
/// is private and changes only through [`Case::transition`], [`CasePatch::apply`] and
/// [`Case::move_to_customer`], which keep its invariants (an open case has an assignee, a
/// closed one a `closed_at`, a non-draft one a subject) and bump its version once per
/// change. Stores rebuild it with [`Case::restore`] (serde does too).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(from = "CaseRecord")]
pub struct Case {
    /// Its id.
    pub id: CaseId,
    /// Its tenant.
    pub tenant: TenantId,
    /// Sequential number, unique per tenant.
    pub number: CaseNumber,
    /// The customer it belongs to.
    customer: CustomerId,
    /// Subject (may be empty on a draft).
    subject: String,
    /// Description.
    description: Description,
    /// Status.
    status: CaseStatus,
    /// Visibility.
    visibility: Visibility,
    /// Severity.
    severity: Severity,
    /// Priority.
    priority: Priority,
    /// Assigned agent.
    assignee: Option<AgentId>,
    /// Assigned group.
    group: Option<GroupId>,
    /// Channel it came in on.
    pub origin_channel: Option<Channel>,
    /// The interaction it was created from (INT-7).
    pub origin_interaction: Option<InteractionId>,
    /// Who created it.
    pub created_by: AgentId,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    updated_at: DateTime<Utc>,
    /// When it was last closed.
    closed_at: Option<DateTime<Utc>>,
    /// Custom values.
    custom: CustomValues,
    /// Optimistic-concurrency version.
    version: u64,
    /// When it was (soft) deleted: hidden from lists and lookups, restorable for a while.
    deleted_at: Option<DateTime<Utc>>,
    /// Its SLA instants as of its last write (ADR 0028): derived data, written with the
    /// case, never a change in its history and no new version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sla: Option<crate::sla::SlaMark>,
    /// How many times its mark was written apart from an edit (ADR 0032): the
    /// compare-and-set guard of every write of the row with its version.
    #[serde(default, rename = "sla_generation", skip_serializing_if = "is_zero")]
    #[cfg_attr(feature = "openapi", schema(read_only))]
    sla_gen: u64,
    /// Free tags, normalised ([`super::normalise_tags`]).
    tags: BTreeSet<String>,
    /// Category: a key of the tenant's category list.
    category: Option<String>,
    /// Type: a key of the tenant's type list.
    #[serde(rename = "type")]
    case_type: Option<String>,
    /// How it was resolved: a key of the tenant's resolution list; set exactly while
    /// resolved, and kept when a resolved case is closed.
    resolution: Option<String>,
    /// When it was last resolved (the SLA's resolution instant); cleared on reopen.
    resolved_at: Option<DateTime<Utc>>,
    /// Its parent case (same tenant, no cycle, at most [`super::MAX_CASE_DEPTH`] levels).
    parent: Option<CaseId>,
}

impl Case {
    /// The customer it belongs to.
    pub fn customer(&self) -> CustomerId {
        self.customer
    }

    /// Subject (may be empty on a draft).
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// Description.
    pub fn description(&self) -> &Description {
        &self.description
    }

    /// Status.
    pub fn status(&self) -> CaseStatus {
        self.status
    }

    /// Visibility.
    pub fn visibility(&self) -> Visibility {
        self.visibility
    }

    /// Severity.
    pub fn severity(&self) -> Severity {
        self.severity
    }

    /// Priority.
    pub fn priority(&self) -> Priority {
        self.priority
    }

    /// Assigned agent (always one while open).
    pub fn assignee(&self) -> Option<AgentId> {
        self.assignee
    }

    /// Assigned group.
    pub fn group(&self) -> Option<GroupId> {
        self.group
    }

    /// Last changed.
    pub fn updated_at(&self) -> DateTime<Utc> {
        self.updated_at
    }

    /// When it was last closed (set exactly while closed).
    pub fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.closed_at
    }

    /// Custom values.
    pub fn custom(&self) -> &CustomValues {
        &self.custom
    }

    /// Optimistic-concurrency version: 1 on creation, +1 on every change.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// When it was (soft) deleted; `None` while live.
    pub fn deleted_at(&self) -> Option<DateTime<Utc>> {
        self.deleted_at
    }

    /// Its SLA instants as of its last write (none when no policy applies; ADR 0028).
    pub fn sla(&self) -> Option<&crate::sla::SlaMark> {
        self.sla.as_ref()
    }

    /// Sets its SLA instants: derived from its history by the SLA clock, so neither a
    /// change in the history nor a new version.
    pub fn set_sla(&mut self, mark: Option<crate::sla::SlaMark>) {
        self.sla = mark.filter(|m| !m.is_empty());
    }

    /// How many times its mark was written apart from an edit (a reply, a re-mark; ADR
    /// 0032). A store writes the row only over the version and generation it was read at.
    pub fn sla_gen(&self) -> u64 {
        self.sla_gen
    }

    /// The next mark generation (for [`crate::sla::CaseRemark`]).
    pub(crate) fn advance_sla_gen(&mut self) {
        self.sla_gen = self.sla_gen.saturating_add(1);
    }

    /// Whether it is (soft) deleted.
    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }

    /// Its tags, normalised, in order.
    pub fn tags(&self) -> &BTreeSet<String> {
        &self.tags
    }

    /// Its category (a key of the tenant's list).
    pub fn category(&self) -> Option<&str> {
        self.category.as_deref()
    }

    /// Its type (a key of the tenant's list).
    pub fn case_type(&self) -> Option<&str> {
        self.case_type.as_deref()
    }

    /// Its resolution code (while resolved, and once closed after it).
    pub fn resolution(&self) -> Option<&str> {
        self.resolution.as_deref()
    }

    /// When it was last resolved; `None` when it was not, or reopened since.
    pub fn resolved_at(&self) -> Option<DateTime<Utc>> {
        self.resolved_at
    }

    /// Its parent case.
    pub fn parent(&self) -> Option<CaseId> {
        self.parent
    }

    /// The one place the version moves: one change, one version.
    fn next_version(&mut self) {
        self.version += 1;
    }

    /// An edit: the next version, changed `now`.
    fn touch(&mut self, now: DateTime<Utc>) {
        self.updated_at = now;
        self.next_version();
    }

    /// The tracked fields as a map, for history diffs and replay (CAS-4).
    pub fn field_map(&self) -> FieldMap {
        let mut m = FieldMap::new();
        let mut put = |k: &str, v: Value| {
            if !v.is_null() {
                m.insert(k.to_owned(), v);
            }
        };
        put("customer", json!(self.customer));
        put("subject", json!(self.subject));
        put("description", json!(self.description));
        put("status", json!(self.status));
        put("visibility", json!(self.visibility));
        put("severity", json!(self.severity));
        put("priority", json!(self.priority));
        put("assignee", json!(self.assignee));
        put("group", json!(self.group));
        for (k, v) in &self.custom {
            put(&format!("custom.{k}"), v.to_json());
        }
        put("deleted_at", json!(self.deleted_at));
        if !self.tags.is_empty() {
            put("tags", json!(self.tags));
        }
        put("category", json!(self.category));
        put("type", json!(self.case_type));
        put("resolution", json!(self.resolution));
        put("parent", json!(self.parent));
        m
    }

    /// Moves the case to `to` as one change (next version). Opening assigns it to `actor`
    /// when it has no assignee; closing stamps `closed_at`, resolving `resolved_at`;
    /// reopening clears both and the resolution code. Resolving needs a resolution code:
    /// set it with [`CasePatch`] (`resolution` and `status` together).
    ///
    /// # Errors
    /// [`TransitionError`] when the lifecycle forbids the move, when a non-draft case
    /// would have no subject, or a resolved one no resolution code; the case is untouched
    /// then.
    pub fn transition(&mut self, to: CaseStatus, actor: AgentId, now: DateTime<Utc>) -> Result<(), TransitionError> {
        self.change_status(to, actor, now)?;
        self.touch(now);
        Ok(())
    }

    /// [`Case::transition`] without the version bump, for changes that move the status
    /// among other fields.
    fn change_status(&mut self, to: CaseStatus, actor: AgentId, now: DateTime<Utc>) -> Result<(), TransitionError> {
        let refuse = |reason: Option<&str>| TransitionError {
            entity: "case",
            from: self.status.to_string(),
            to: to.to_string(),
            reason: reason.map(str::to_owned),
        };
        if !self.status.can_become(to) {
            return Err(refuse(None));
        }
        if self.subject.trim().is_empty() {
            return Err(refuse(Some("a case needs a subject before it leaves draft")));
        }
        if to == CaseStatus::Resolved && self.resolution.is_none() {
            return Err(refuse(Some("a case needs a resolution code to be resolved")));
        }
        if to == CaseStatus::Open && self.assignee.is_none() {
            self.assignee = Some(actor);
        }
        match to {
            CaseStatus::Closed => self.closed_at = Some(now),
            CaseStatus::Resolved => self.resolved_at = Some(now),
            CaseStatus::Open if matches!(self.status, CaseStatus::Closed | CaseStatus::Resolved) => {
                self.closed_at = None;
                self.resolved_at = None;
                self.resolution = None;
            }
            _ => {}
        }
        self.status = to;
        self.updated_at = now;
        Ok(())
    }

    /// Re-points the case at another customer (the merge of two cards and its undo,
    /// CUS-6): the next version, so a holder of the old record reloads it rather than
    /// moving it back. Not an edit: `updated_at` stays.
    pub fn move_to_customer(&mut self, to: CustomerId) {
        self.customer = to;
        self.next_version();
    }

    /// Whether `actor` may see this case at all (tenant and private visibility).
    pub fn visible_to(&self, actor: &Actor) -> bool {
        self.tenant == actor.tenant
            && (self.visibility != Visibility::Private || actor.can_see_private(self.assignee, self.group))
    }
}

/// A case as the customer card and lists show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaseSummary {
    /// Id.
    pub id: CaseId,
    /// Number.
    pub number: CaseNumber,
    /// Subject.
    pub subject: String,
    /// Status.
    pub status: CaseStatus,
    /// Priority.
    pub priority: Priority,
    /// Severity.
    pub severity: Severity,
    /// Assignee.
    pub assignee: Option<AgentId>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<&Case> for CaseSummary {
    fn from(c: &Case) -> Self {
        Self {
            id: c.id,
            number: c.number,
            subject: c.subject.clone(),
            status: c.status,
            priority: c.priority,
            severity: c.severity,
            assignee: c.assignee,
            updated_at: c.updated_at,
        }
    }
}

/// What a caller sends to create a case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewCase {
    /// The customer.
    pub customer: CustomerId,
    /// Subject (required unless `draft`).
    #[serde(default)]
    pub subject: String,
    /// Description.
    #[serde(default)]
    pub description: Option<DescriptionInput>,
    /// Save as draft (CAS-2): relaxed validation, status `draft`.
    #[serde(default)]
    pub draft: bool,
    /// Visibility (default internal).
    #[serde(default)]
    pub visibility: Option<Visibility>,
    /// Severity (default medium).
    #[serde(default)]
    pub severity: Option<Severity>,
    /// Priority (default normal).
    #[serde(default)]
    pub priority: Option<Priority>,
    /// Assignee (default: the creator, for an open case).
    #[serde(default)]
    pub assignee: Option<AgentId>,
    /// Group.
    #[serde(default)]
    pub group: Option<GroupId>,
    /// Origin channel.
    #[serde(default)]
    pub origin_channel: Option<Channel>,
    /// Custom values.
    #[serde(default)]
    pub custom: BTreeMap<String, Value>,
    /// Tags (normalised: trimmed, lower case, inner spaces as `-`; at most 20 of 50
    /// characters).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Category: an active key of the tenant's category list.
    #[serde(default)]
    pub category: Option<String>,
    /// Type: an active key of the tenant's type list.
    #[serde(default, rename = "type")]
    pub case_type: Option<String>,
    /// Parent case (same tenant; no cycle; depth limit).
    #[serde(default)]
    pub parent: Option<CaseId>,
}

/// Serde helper: a missing field is `None`, an explicit `null` is `Some(None)`.
pub mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Serialises the inner option.
    ///
    /// # Errors
    /// As the serializer.
    pub fn serialize<T: Serialize, S: Serializer>(v: &Option<Option<T>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            None => s.serialize_none(),
            Some(inner) => inner.serialize(s),
        }
    }

    /// Deserialises a present field (null or value) as `Some(..)`.
    ///
    /// # Errors
    /// As the deserializer.
    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

/// Whether a counter is zero (not serialised then).
#[allow(clippy::trivially_copy_pass_by_ref)] // serde's signature
fn is_zero(n: &u64) -> bool {
    *n == 0
}
