//! [`GuidanceStore`]: scripts (drafts and immutable published versions), their runs during
//! interactions, a tenant's alert rules, and the aggregate counts alert rules read about a
//! customer (GUI-1, GUI-2).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::store::StoreResult;
use crate::event::DomainEvent;
use crate::guidance::{AlertRuleSet, CustomerActivity, Script, ScriptVersion, StoredScriptRun};
use crate::ids::{CallListEntryId, CustomerId, InteractionId, ScriptId, ScriptRunId, TenantId};
use crate::page::{Page, PageRequest};

/// Scripts, runs and alert rules.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait GuidanceStore: Send + Sync {
    /// Inserts a new script of `tenant`.
    ///
    /// # Errors
    /// MUST be `Duplicate { field: "id" }` when the id is taken.
    async fn insert_script(&self, tenant: TenantId, script: &Script) -> StoreResult<()>;

    /// The script `id` of `tenant`, if it exists there.
    ///
    /// # Errors
    /// Backend failures only.
    async fn get_script(&self, tenant: TenantId, id: ScriptId) -> StoreResult<Option<Script>>;

    /// Every script of `tenant`, by name then id (at most
    /// [`crate::guidance::MAX_SCRIPTS`] are ever created).
    ///
    /// # Errors
    /// Backend failures only.
    async fn list_scripts(&self, tenant: TenantId) -> StoreResult<Vec<Script>>;

    /// One page of the scripts of `tenant`, by name then id; the cursor holds the last
    /// script's name and id.
    ///
    /// # Errors
    /// MUST be `InvalidReference { field: "cursor" }` for a cursor this list did not return.
    async fn scripts_page(&self, tenant: TenantId, page: &PageRequest) -> StoreResult<Page<Script>>;

    /// Replaces version `expected_version` of the script's draft with `script` (whose
    /// version is the next one).
    ///
    /// # Errors
    /// MUST be `NotFound` when `tenant` has no such script, `StaleVersion` when the stored
    /// version is not `expected_version`.
    async fn update_script(&self, tenant: TenantId, script: &Script, expected_version: u64) -> StoreResult<()>;

    /// Publishes: in ONE transaction, replaces version `expected_version` of the script with
    /// `script` (its `published` raised to `published.version`) and inserts `published`.
    ///
    /// # Errors
    /// As [`GuidanceStore::update_script`]; MUST be a `Duplicate { field: "version" }`
    /// when that version exists, with nothing written.
    async fn publish_script(
        &self,
        tenant: TenantId,
        script: &Script,
        expected_version: u64,
        published: &ScriptVersion,
    ) -> StoreResult<()>;

    /// The published versions of a script, oldest first (empty for an unknown script).
    ///
    /// # Errors
    /// Backend failures only.
    async fn script_versions(&self, tenant: TenantId, id: ScriptId) -> StoreResult<Vec<ScriptVersion>>;

    /// One published version.
    ///
    /// # Errors
    /// Backend failures only.
    async fn script_version(&self, tenant: TenantId, id: ScriptId, version: u32) -> StoreResult<Option<ScriptVersion>>;

    /// Inserts a new run with its events, in one transaction.
    ///
    /// # Errors
    /// MUST be `InvalidReference { field: "interaction" }` when the run's interaction is
    /// not in its tenant, `Duplicate { field: "id" }` for a taken id; nothing written then.
    async fn insert_script_run(&self, run: &StoredScriptRun, events: &[DomainEvent]) -> StoreResult<()>;

    /// Replaces version `expected_version` of a run with `run` and writes `events`, in one
    /// transaction.
    ///
    /// # Errors
    /// MUST be `NotFound` when the tenant has no such run, `StaleVersion` when the stored
    /// version is not `expected_version`; nothing written then.
    async fn update_script_run(
        &self,
        run: &StoredScriptRun,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()>;

    /// The run `id` of `tenant`.
    ///
    /// # Errors
    /// Backend failures only.
    async fn get_script_run(&self, tenant: TenantId, id: ScriptRunId) -> StoreResult<Option<StoredScriptRun>>;

    /// The runs of an interaction, oldest first.
    ///
    /// # Errors
    /// Backend failures only.
    async fn script_runs_of(&self, tenant: TenantId, interaction: InteractionId) -> StoreResult<Vec<StoredScriptRun>>;

    /// The runs started for a call-list entry (`StoredScriptRun::entry`), oldest first.
    ///
    /// # Errors
    /// Backend failures only.
    async fn script_runs_of_entry(&self, tenant: TenantId, entry: CallListEntryId)
    -> StoreResult<Vec<StoredScriptRun>>;

    /// The tenant's alert rules; `None` while never written.
    ///
    /// # Errors
    /// Backend failures only.
    async fn alert_rules(&self, tenant: TenantId) -> StoreResult<Option<AlertRuleSet>>;

    /// Writes the tenant's alert rules (`set.version` the next one) over version
    /// `expected_version` (0: none written yet).
    ///
    /// # Errors
    /// MUST be `StaleVersion` when the stored version (0 when none) is not
    /// `expected_version`; nothing written then.
    async fn put_alert_rules(&self, tenant: TenantId, set: &AlertRuleSet, expected_version: u64) -> StoreResult<()>;

    /// What alert rules count about a customer at `now` (see [`CustomerActivity`]), in one
    /// read.
    ///
    /// # Errors
    /// Backend failures only (an unknown customer counts nothing).
    async fn customer_activity(
        &self,
        tenant: TenantId,
        customer: CustomerId,
        now: DateTime<Utc>,
    ) -> StoreResult<CustomerActivity>;
}
