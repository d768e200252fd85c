//! SLA settings and a case's SLA (issue 33): business calendars and policies administered
//! per tenant (`admin.tenant` to change them, `case.read` to read them), and the SLA state
//! of a case computed from its stored history with the settings in force now, so a change
//! of policy or calendar recalculates every case from its history (and asks the
//! `sla-remark` round to re-mark the tenant's case rows, ADR 0028).

use super::{Crm, check_version};
use crate::access::{Actor, Permission};
use crate::error::{Conflict, Error, Result};
use crate::ids::CaseId;
use crate::sla::{
    CaseSla, NewSlaCalendar, NewSlaPolicy, PolicyBook, SlaCalendarBody, SlaCalendarRecord, SlaPolicyBody,
    SlaPolicyRecord, SlaSettingKind, sla_state,
};

/// Maps a store's `NotFound` on a setting to the use case's.
fn missing(kind: SlaSettingKind, name: &str) -> Error {
    Error::not_found(if kind == SlaSettingKind::Calendar { "sla_calendar" } else { "sla_policy" }, name)
}

impl Crm {
    /// The business calendars of the actor's tenant, by name.
    ///
    /// # Errors
    /// Forbidden without `case.read`.
    pub async fn sla_calendars(&self, actor: &Actor) -> Result<Vec<SlaCalendarRecord>> {
        actor.require(Permission::CaseRead)?;
        let rows = self.store.sla_settings(actor.tenant, SlaSettingKind::Calendar).await?;
        Ok(rows.iter().map(SlaCalendarRecord::from_setting).collect::<std::result::Result<_, _>>()?)
    }

    /// One business calendar.
    ///
    /// # Errors
    /// Forbidden without `case.read`; `NotFound`.
    pub async fn sla_calendar(&self, actor: &Actor, name: &str) -> Result<SlaCalendarRecord> {
        actor.require(Permission::CaseRead)?;
        let row = self.store.get_sla_setting(actor.tenant, SlaSettingKind::Calendar, name).await?;
        let row = row.ok_or_else(|| missing(SlaSettingKind::Calendar, name))?;
        Ok(SlaCalendarRecord::from_setting(&row)?)
    }

    /// Creates a business calendar (needs `admin.tenant`).
    ///
    /// # Errors
    /// Forbidden; every refused field named (`name`, `calendar.time_zone`,
    /// `calendar.hours[2]` …); a taken name (conflict).
    pub async fn create_sla_calendar(&self, actor: &Actor, input: NewSlaCalendar) -> Result<SlaCalendarRecord> {
        actor.require(Permission::AdminTenant)?;
        let record = SlaCalendarRecord::build(input.name, input.calendar, 1)?;
        self.store.put_sla_setting(&record.to_setting(actor.tenant)?, None, None).await?;
        Ok(record)
    }

    /// Replaces a business calendar (needs `admin.tenant`); every case under a policy
    /// counting in it is recomputed with it from then on.
    ///
    /// # Errors
    /// Forbidden; `NotFound`; refused fields; a stale version.
    pub async fn replace_sla_calendar(
        &self,
        actor: &Actor,
        name: &str,
        expected_version: u64,
        body: SlaCalendarBody,
    ) -> Result<SlaCalendarRecord> {
        let stored = self.sla_calendar(actor, name).await?;
        actor.require(Permission::AdminTenant)?;
        let expected = check_version("sla_calendar", name, stored.version, expected_version)?;
        let record = SlaCalendarRecord::build(stored.name, body.calendar, expected + 1)?;
        let remark = self.sla_remark_request(actor.tenant);
        match self.store.put_sla_setting(&record.to_setting(actor.tenant)?, Some(expected), Some(remark)).await {
            Err(crate::StoreError::NotFound { .. }) => return Err(missing(SlaSettingKind::Calendar, name)),
            other => other?,
        }
        Ok(record)
    }

    /// Deletes a business calendar no policy counts in (needs `admin.tenant`).
    ///
    /// # Errors
    /// Forbidden; `NotFound`; a stale version; a conflict naming the policies using it.
    pub async fn delete_sla_calendar(&self, actor: &Actor, name: &str, expected_version: u64) -> Result<()> {
        let stored = self.sla_calendar(actor, name).await?;
        actor.require(Permission::AdminTenant)?;
        let expected = check_version("sla_calendar", name, stored.version, expected_version)?;
        let users: Vec<String> =
            self.sla_policies(actor).await?.into_iter().filter(|p| p.calendar == name).map(|p| p.name).collect();
        if !users.is_empty() {
            return Err(Conflict::State(format!("calendar {name:?} is used by the policies {users:?}")).into());
        }
        match self.store.delete_sla_setting(actor.tenant, SlaSettingKind::Calendar, name, expected, None).await {
            Err(crate::StoreError::NotFound { .. }) => Err(missing(SlaSettingKind::Calendar, name)),
            other => Ok(other?),
        }
    }

    /// The SLA policies of the actor's tenant, by name.
    ///
    /// # Errors
    /// Forbidden without `case.read`.
    pub async fn sla_policies(&self, actor: &Actor) -> Result<Vec<SlaPolicyRecord>> {
        actor.require(Permission::CaseRead)?;
        let rows = self.store.sla_settings(actor.tenant, SlaSettingKind::Policy).await?;
        Ok(rows.iter().map(SlaPolicyRecord::from_setting).collect::<std::result::Result<_, _>>()?)
    }

    /// One SLA policy.
    ///
    /// # Errors
    /// Forbidden without `case.read`; `NotFound`.
    pub async fn sla_policy(&self, actor: &Actor, name: &str) -> Result<SlaPolicyRecord> {
        actor.require(Permission::CaseRead)?;
        let row = self.store.get_sla_setting(actor.tenant, SlaSettingKind::Policy, name).await?;
        let row = row.ok_or_else(|| missing(SlaSettingKind::Policy, name))?;
        Ok(SlaPolicyRecord::from_setting(&row)?)
    }

    /// Checks what a policy refers to: its calendar and its group exist in the tenant.
    async fn check_policy_refs(&self, actor: &Actor, record: &SlaPolicyRecord) -> Result<()> {
        if self.store.get_sla_setting(actor.tenant, SlaSettingKind::Calendar, &record.calendar).await?.is_none() {
            return Err(Error::invalid("calendar", format!("{:?} is not a calendar of this tenant", record.calendar)));
        }
        if let Some(g) = record.group
            && self.store.get_group(actor.tenant, g).await?.is_none()
        {
            return Err(Error::invalid("group", "is not a group of this tenant"));
        }
        Ok(())
    }

    /// Creates an SLA policy (needs `admin.tenant`), for a group or for the tenant.
    ///
    /// # Errors
    /// Forbidden; refused fields (`name`, `calendar` unknown, `group` unknown,
    /// `policy.targets[0].first_response_secs` zero …); a taken name, or a group (or the
    /// tenant) that has a policy already (conflict on `scope`).
    pub async fn create_sla_policy(&self, actor: &Actor, input: NewSlaPolicy) -> Result<SlaPolicyRecord> {
        actor.require(Permission::AdminTenant)?;
        let body = SlaPolicyBody { group: input.group, calendar: input.calendar, policy: input.policy };
        let record = SlaPolicyRecord::build(input.name, body, 1)?;
        self.check_policy_refs(actor, &record).await?;
        let remark = self.sla_remark_request(actor.tenant);
        self.store.put_sla_setting(&record.to_setting(actor.tenant)?, None, Some(remark)).await?;
        Ok(record)
    }

    /// Replaces an SLA policy (needs `admin.tenant`); every case under it is recomputed
    /// from its history with the new targets.
    ///
    /// # Errors
    /// As [`Crm::create_sla_policy`], plus `NotFound` and a stale version.
    pub async fn replace_sla_policy(
        &self,
        actor: &Actor,
        name: &str,
        expected_version: u64,
        body: SlaPolicyBody,
    ) -> Result<SlaPolicyRecord> {
        let stored = self.sla_policy(actor, name).await?;
        actor.require(Permission::AdminTenant)?;
        let expected = check_version("sla_policy", name, stored.version, expected_version)?;
        let record = SlaPolicyRecord::build(stored.name, body, expected + 1)?;
        self.check_policy_refs(actor, &record).await?;
        let remark = self.sla_remark_request(actor.tenant);
        match self.store.put_sla_setting(&record.to_setting(actor.tenant)?, Some(expected), Some(remark)).await {
            Err(crate::StoreError::NotFound { .. }) => return Err(missing(SlaSettingKind::Policy, name)),
            other => other?,
        }
        Ok(record)
    }

    /// Deletes an SLA policy (needs `admin.tenant`).
    ///
    /// # Errors
    /// Forbidden; `NotFound`; a stale version.
    pub async fn delete_sla_policy(&self, actor: &Actor, name: &str, expected_version: u64) -> Result<()> {
        let stored = self.sla_policy(actor, name).await?;
        actor.require(Permission::AdminTenant)?;
        let expected = check_version("sla_policy", name, stored.version, expected_version)?;
        let remark = self.sla_remark_request(actor.tenant);
        match self.store.delete_sla_setting(actor.tenant, SlaSettingKind::Policy, name, expected, Some(remark)).await {
            Err(crate::StoreError::NotFound { .. }) => return Err(missing(SlaSettingKind::Policy, name)),
            other => other?,
        }
        Ok(())
    }

    /// The SLA of a case now: its history and follow-ups folded by the clock under the
    /// policies and calendars in force ([`crate::sla::sla_events`]); no state when no
    /// policy applies.
    ///
    /// # Errors
    /// As [`Crm::get_case`].
    pub async fn case_sla(&self, actor: &Actor, id: CaseId) -> Result<CaseSla> {
        let case = self.get_case(actor, id).await?;
        let now = self.clock.now();
        let policies = self.sla_policies(actor).await?;
        let history = self.store.case_history(actor.tenant, id).await?;
        let follow_ups = self.store.follow_ups_of(actor.tenant, id).await?;
        let Some(events) = crate::sla::sla_events(&case, &history, &follow_ups, &policies) else {
            return Ok(CaseSla { case: id, at: now, state: None });
        };
        let calendars = self.sla_calendars(actor).await?;
        let mut book = PolicyBook::new();
        for p in &policies {
            if let Some(c) = calendars.iter().find(|c| c.name == p.calendar) {
                book.insert(p.name.clone(), p.policy.clone(), c.calendar.clone());
            }
        }
        let now = now.max(events.last().map_or(now, |e| e.at));
        let state = sla_state(&book, &events, now).map_err(|e| Error::Validation(e.into()))?;
        Ok(CaseSla { case: id, at: now, state: Some(state) })
    }
}
