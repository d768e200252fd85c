//! Guidance as stored and on the wire (GUI-1, GUI-2): scripts with their draft and their
//! immutable published versions, the runs of a script during an interaction, a tenant's
//! alert rules, and the counts alert rules read about a customer. The rules themselves
//! are in [`crate::script`] and [`crate::alert`]; the use cases in
//! `service/guidance.rs` and `service/alerts.rs`; the port in
//! [`crate::ports::GuidanceStore`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::alert::{Alert, AlertRule, ContactCounts};
use crate::ids::{AgentId, CallListEntryId, CustomerId, InteractionId, ScriptId, ScriptRunId, TenantId};
use crate::interaction::{Channel, Direction};
use crate::script::{AnswerValue, ScriptDraft, ScriptRunRecord, Step};

/// How many scripts one tenant may hold (the list is not paged).
pub const MAX_SCRIPTS: usize = 1_000;
/// How many runs one interaction may hold.
pub const MAX_RUNS_PER_INTERACTION: usize = 100;

/// A script: its current draft (edited with its version as the ETag) and the number of
/// its latest published version.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Script {
    /// Its id.
    pub id: ScriptId,
    /// The draft being edited.
    pub draft: ScriptDraft,
    /// The draft's version, from 1; every edit and publication adds one.
    pub version: u64,
    /// The latest published version (0: never published).
    pub published: u32,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// A published version of a script: never changed once written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScriptVersion {
    /// The script.
    pub script: ScriptId,
    /// The version, from 1.
    pub version: u32,
    /// What was published.
    pub draft: ScriptDraft,
    /// When.
    pub published_at: DateTime<Utc>,
    /// By whom.
    pub published_by: AgentId,
}

/// A run of a script version during an interaction, as stored: the path and the answers
/// (the pure [`crate::script::ScriptRun`]'s record) and who ran it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredScriptRun {
    /// Its id.
    pub id: ScriptRunId,
    /// Its tenant.
    pub tenant: TenantId,
    /// The interaction it runs in.
    pub interaction: InteractionId,
    /// The interaction's customer when the run started.
    pub customer: Option<CustomerId>,
    /// The agent running it.
    pub agent: AgentId,
    /// The call-list entry the run was started for (the outbound call it scripts), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry: Option<CallListEntryId>,
    /// The path, the answers and the position.
    pub record: ScriptRunRecord,
    /// The row's version, from 1: one more per answer.
    pub version: u64,
    /// Started.
    pub started_at: DateTime<Utc>,
    /// Last answered.
    pub updated_at: DateTime<Utc>,
}

/// A run as the API shows it: the record, and the step the agent stands at with its text
/// (placeholders filled).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScriptRunView {
    /// Its id.
    pub id: ScriptRunId,
    /// The interaction it runs in.
    pub interaction: InteractionId,
    /// The agent running it.
    pub agent: AgentId,
    /// The call-list entry the run was started for, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry: Option<CallListEntryId>,
    /// The script, its pinned version, the path, the answers and the position.
    pub run: ScriptRunRecord,
    /// The step the run stands at (the end step once finished).
    pub step: Step,
    /// That step's text, placeholders filled.
    pub text: String,
    /// Whether the run reached an end step.
    pub finished: bool,
    /// The run's version (also its ETag).
    pub version: u64,
    /// Started.
    pub started_at: DateTime<Utc>,
    /// Last answered.
    pub updated_at: DateTime<Utc>,
}

/// Starts a run of a script in an interaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewScriptRun {
    /// The script.
    pub script: ScriptId,
    /// The published version to pin (default: the latest).
    #[serde(default)]
    pub version: Option<u32>,
    /// The call-list entry being called (OUT-1): the run is recorded on it too. It must be
    /// an entry of the interaction's customer.
    #[serde(default)]
    pub entry: Option<CallListEntryId>,
}

/// One answer to the step a run waits at.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ScriptAnswer {
    /// The step answered (must be the one the run waits at).
    pub step: String,
    /// The answer, typed: `{"type": "continue"}`, `{"type": "choice", "value": "price"}`,
    /// `{"type": "yes_no", "value": true}`, `{"type": "number", "value": 3}`,
    /// `{"type": "text", "value": "…"}`.
    pub value: AnswerValue,
}

/// A tenant's alert rules, edited as one set with its version as the ETag.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertRuleSet {
    /// The rules, in order.
    pub rules: Vec<AlertRule>,
    /// The set's version: 0 while none was ever written.
    pub version: u64,
    /// Last changed (none while none was ever written).
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
}

/// The rules to write as a tenant's set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AlertRulesInput {
    /// The rules, in order.
    pub rules: Vec<AlertRule>,
}

/// A dry run: rules (the given draft ones, or the tenant's stored set) evaluated against a
/// customer's facts now.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AlertDryRun {
    /// The customer.
    pub customer: CustomerId,
    /// Draft rules to try; the stored set when absent.
    #[serde(default)]
    pub rules: Option<Vec<AlertRule>>,
    /// The channel of an interaction to imagine.
    #[serde(default)]
    pub channel: Option<Channel>,
    /// The direction of an interaction to imagine.
    #[serde(default)]
    pub direction: Option<Direction>,
}

/// What a dry run found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertDryRunResult {
    /// The alerts raised, most severe first.
    pub alerts: Vec<Alert>,
    /// The facts the rules read, by field (`cases.open_critical`: 2).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub facts: serde_json::Map<String, serde_json::Value>,
}

/// What alert rules count about a customer, read by one aggregate query at screen pop.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CustomerActivity {
    /// Open cases (neither draft, closed nor deleted, not private) of critical severity.
    pub open_critical_cases: u32,
    /// Planned tasks about the customer whose time has passed.
    pub overdue_tasks: u32,
    /// Open cases (as for `open_critical_cases`) whose SLA breached at or before now (their
    /// row's `breach_at`, ADR 0028).
    pub breached_cases: u32,
    /// Interactions with the customer offered in the last 1, 7 and 30 days.
    pub contacts: ContactCounts,
    /// The customer's open entries (not closed) in active call lists (OUT-1).
    pub open_campaign_entries: u32,
}

impl CustomerActivity {
    /// Whether an interaction offered at `offered_at` counts in each window ending `now`.
    pub fn count_contact(&mut self, offered_at: DateTime<Utc>, now: DateTime<Utc>) {
        let age = now - offered_at;
        if age > chrono::Duration::days(30) {
            return;
        }
        self.contacts.last_30_days += 1;
        if age <= chrono::Duration::days(7) {
            self.contacts.last_7_days += 1;
        }
        if age <= chrono::Duration::days(1) {
            self.contacts.last_1_day += 1;
        }
    }
}
