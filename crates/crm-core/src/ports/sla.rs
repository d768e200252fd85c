//! [`SlaStore`]: the SLA settings of a tenant (issue 33): business calendars and SLA
//! policies, kept as named, versioned documents the core reads and validates
//! ([`crate::sla::SlaSetting`]). The store only enforces what needs a transaction: unique
//! names, one policy per scope, and versions.

use async_trait::async_trait;

use super::store::StoreResult;
use crate::ids::TenantId;
use chrono::{DateTime, Utc};

use crate::event::DomainEvent;
use crate::sla::{CaseRemark, RemarkRequest, SlaAlarm, SlaSetting, SlaSettingKind, SlaTimer};

/// The SLA settings of each tenant.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait SlaStore: Send + Sync {
    /// Every setting of `kind` in `tenant`, by name.
    ///
    /// # Errors
    /// Backend failures only.
    async fn sla_settings(&self, tenant: TenantId, kind: SlaSettingKind) -> StoreResult<Vec<SlaSetting>>;

    /// The setting of `kind` named `name` in `tenant`.
    ///
    /// # Errors
    /// Backend failures only.
    async fn get_sla_setting(
        &self,
        tenant: TenantId,
        kind: SlaSettingKind,
        name: &str,
    ) -> StoreResult<Option<SlaSetting>>;

    /// Inserts the setting (`expected_version` none) or replaces version `expected_version`
    /// of it, and records `remark` if any (the tenant's cases are to be re-marked, ADR
    /// 0032), in one transaction.
    ///
    /// # Errors
    /// Inserting: `Conflict::Duplicate` on `name` when the tenant has a setting of this kind
    /// by that name. Replacing: `NotFound` when it has none; `StaleVersion`. Both:
    /// `Conflict::Duplicate` on `scope` when another setting of this kind of the tenant has
    /// the same scope (a scope is unique per tenant and kind; none is never a clash).
    /// Nothing is written on error.
    async fn put_sla_setting(
        &self,
        setting: &SlaSetting,
        expected_version: Option<u64>,
        remark: Option<RemarkRequest>,
    ) -> StoreResult<()>;

    /// Deletes version `expected_version` of the setting and records `remark` if any, in one
    /// transaction.
    ///
    /// # Errors
    /// `NotFound`; `StaleVersion`. Nothing is written on error.
    async fn delete_sla_setting(
        &self,
        tenant: TenantId,
        kind: SlaSettingKind,
        name: &str,
        expected_version: u64,
        remark: Option<RemarkRequest>,
    ) -> StoreResult<()>;

    /// Writes a case's new mark alone (the `sla-remark` and `sla-timers` rounds; ADR 0032):
    /// the row (document and SLA columns) becomes `remark.case()`.
    ///
    /// # Errors
    /// `NotFound`; MUST be `StaleVersion` when the row's version or mark generation is not
    /// the one `remark` expects (a concurrent write came first: nothing is written, so an
    /// older mark never overwrites a newer one).
    async fn remark_case(&self, remark: &CaseRemark) -> StoreResult<()>;

    /// The cases whose SLA timer is due at `now` (the row's timer instant, set from
    /// [`crate::sla::SlaMark::first_alarm`] by every case write, at or before `now`),
    /// earliest first, at most `limit`, across tenants.
    ///
    /// # Errors
    /// Backend failures only.
    async fn due_sla_timers(&self, now: DateTime<Utc>, limit: u32) -> StoreResult<Vec<SlaTimer>>;

    /// Fires a case's timer in one transaction: each alarm whose key (case, metric, kind,
    /// cycle start) was never raised is recorded with its event (`events[i]` for
    /// `alarms[i]`); then the timer moves from `timer.fire_at` to `next`, unless a write
    /// changed it meanwhile (it is then left as that write set it). Returns how many alarms
    /// were raised: each key is raised exactly once, whatever the callers racing.
    ///
    /// # Errors
    /// Backend failures; nothing is written then.
    async fn fire_sla_timer(
        &self,
        timer: &SlaTimer,
        next: Option<DateTime<Utc>>,
        alarms: &[SlaAlarm],
        events: &[DomainEvent],
    ) -> StoreResult<u32>;
}
