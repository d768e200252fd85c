//! The way a store rebuilds a case: [`CaseRecord`], plain data, and [`Case::restore`].

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Case;
use crate::case::{CaseNumber, CaseStatus, Description, Priority, Severity, Visibility};
use crate::custom_field::CustomValues;
use crate::ids::{AgentId, CaseId, CustomerId, GroupId, InteractionId, TenantId};
use crate::interaction::Channel;

/// A case as a store keeps it: every field public, no rule checked. The way back in is
/// [`Case::restore`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseRecord {
    /// Its id.
    pub id: CaseId,
    /// Its tenant.
    pub tenant: TenantId,
    /// Sequential number, unique per tenant.
    pub number: CaseNumber,
    /// The customer it belongs to.
    pub customer: CustomerId,
    /// Subject (may be empty on a draft).
    pub subject: String,
    /// Description.
    pub description: Description,
    /// Status.
    pub status: CaseStatus,
    /// Visibility.
    pub visibility: Visibility,
    /// Severity.
    pub severity: Severity,
    /// Priority.
    pub priority: Priority,
    /// Assigned agent.
    pub assignee: Option<AgentId>,
    /// Assigned group.
    pub group: Option<GroupId>,
    /// Channel it came in on.
    pub origin_channel: Option<Channel>,
    /// The interaction it was created from (INT-7).
    pub origin_interaction: Option<InteractionId>,
    /// Who created it.
    pub created_by: AgentId,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// When it was last closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// Custom values.
    pub custom: CustomValues,
    /// Optimistic-concurrency version.
    pub version: u64,
    /// When it was (soft) deleted; `None` while live.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<DateTime<Utc>>,
    /// Its SLA instants as of its last write (ADR 0028).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla: Option<crate::sla::SlaMark>,
    /// How many times its mark was written apart from an edit (ADR 0032).
    #[serde(default, rename = "sla_generation", skip_serializing_if = "super::is_zero")]
    pub sla_gen: u64,
    /// Free tags, normalised (none on cases stored before issue 27).
    #[serde(default)]
    pub tags: BTreeSet<String>,
    /// Category key.
    #[serde(default)]
    pub category: Option<String>,
    /// Type key.
    #[serde(default, rename = "type")]
    pub case_type: Option<String>,
    /// Resolution code.
    #[serde(default)]
    pub resolution: Option<String>,
    /// When it was last resolved.
    #[serde(default)]
    pub resolved_at: Option<DateTime<Utc>>,
    /// Parent case.
    #[serde(default)]
    pub parent: Option<CaseId>,
}

impl From<CaseRecord> for Case {
    fn from(r: CaseRecord) -> Self {
        Case::restore(r)
    }
}

impl From<Case> for CaseRecord {
    fn from(c: Case) -> Self {
        c.into_record()
    }
}

impl Case {
    /// Rebuilds a case from storage. For stores (and tests that need a case in a given
    /// state): it trusts its input and checks no rule.
    pub fn restore(r: CaseRecord) -> Self {
        Self {
            id: r.id,
            tenant: r.tenant,
            number: r.number,
            customer: r.customer,
            subject: r.subject,
            description: r.description,
            status: r.status,
            visibility: r.visibility,
            severity: r.severity,
            priority: r.priority,
            assignee: r.assignee,
            group: r.group,
            origin_channel: r.origin_channel,
            origin_interaction: r.origin_interaction,
            created_by: r.created_by,
            created_at: r.created_at,
            updated_at: r.updated_at,
            closed_at: r.closed_at,
            custom: r.custom,
            version: r.version,
            deleted_at: r.deleted_at,
            sla: r.sla,
            sla_gen: r.sla_gen,
            tags: r.tags,
            category: r.category,
            case_type: r.case_type,
            resolution: r.resolution,
            resolved_at: r.resolved_at,
            parent: r.parent,
        }
    }

    /// The case as plain data.
    pub fn into_record(self) -> CaseRecord {
        CaseRecord {
            id: self.id,
            tenant: self.tenant,
            number: self.number,
            customer: self.customer,
            subject: self.subject,
            description: self.description,
            status: self.status,
            visibility: self.visibility,
            severity: self.severity,
            priority: self.priority,
            assignee: self.assignee,
            group: self.group,
            origin_channel: self.origin_channel,
            origin_interaction: self.origin_interaction,
            created_by: self.created_by,
            created_at: self.created_at,
            updated_at: self.updated_at,
            closed_at: self.closed_at,
            custom: self.custom,
            version: self.version,
            deleted_at: self.deleted_at,
            sla: self.sla,
            sla_gen: self.sla_gen,
            tags: self.tags,
            category: self.category,
            case_type: self.case_type,
            resolution: self.resolution,
            resolved_at: self.resolved_at,
            parent: self.parent,
        }
    }
}
