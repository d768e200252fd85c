//! The SLA settings of a tenant as stored and edited: named business calendars and SLA
//! policies ([`SlaCalendarRecord`], [`SlaPolicyRecord`]), the inputs that create and replace
//! them, and which policy applies to a case.
//!
//! A policy names the calendar it counts business time in, and is bound to a group or to
//! the whole tenant: a case is under the policy of its group, or else under the tenant's
//! (at most one policy per group and one for the tenant). The targets within the policy are
//! then chosen by the case's priority, tier and custom fields ([`SlaPolicy::rule_for`]).
//! A calendar is therefore per tenant, and per group through the policy of that group.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::calendar::{BusinessCalendar, CalendarSpec};
use super::clock::SlaState;
use super::policy::{PolicySpec, SlaPolicy};
use crate::error::{FieldError, StoreError, ValidationErrors, Validator};
use crate::ids::{CaseId, GroupId, TenantId};

/// The longest name of a calendar or policy.
pub const MAX_SLA_NAME: usize = 64;

/// The two kinds of SLA setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaSettingKind {
    /// A [`SlaCalendarRecord`].
    Calendar,
    /// A [`SlaPolicyRecord`].
    Policy,
}

impl SlaSettingKind {
    /// The kind as stored (`calendar`, `policy`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Calendar => "calendar",
            Self::Policy => "policy",
        }
    }
}

/// One SLA setting as a store keeps it: a named, versioned document of a tenant; `scope`,
/// when set, is unique per tenant and kind (a policy's group, or `tenant`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SlaSetting {
    /// The tenant.
    pub tenant: TenantId,
    /// Calendar or policy.
    pub kind: SlaSettingKind,
    /// Its name, unique per tenant and kind.
    pub name: String,
    /// What it is bound to, unique per tenant and kind when set.
    pub scope: Option<String>,
    /// Its version, 1 when created.
    pub version: u64,
    /// The record as JSON.
    pub body: Value,
}

/// A business calendar of a tenant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlaCalendarRecord {
    /// Its name (`[a-z0-9_-]`, up to 64).
    pub name: String,
    /// The calendar.
    #[cfg_attr(feature = "openapi", schema(value_type = CalendarSpec))]
    pub calendar: BusinessCalendar,
    /// Its version (the `ETag`).
    pub version: u64,
}

/// An SLA policy of a tenant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlaPolicyRecord {
    /// Its name (`[a-z0-9_-]`, up to 64).
    pub name: String,
    /// The group whose cases it applies to; none: every case of the tenant whose group has
    /// no policy of its own.
    pub group: Option<GroupId>,
    /// The calendar it counts business time in.
    pub calendar: String,
    /// The policy.
    #[cfg_attr(feature = "openapi", schema(value_type = PolicySpec))]
    pub policy: SlaPolicy,
    /// Its version (the `ETag`).
    pub version: u64,
}

/// What an administrator sends to create a calendar.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewSlaCalendar {
    /// Its name (`[a-z0-9_-]`, 1 to 64).
    pub name: String,
    /// The calendar.
    pub calendar: CalendarSpec,
}

/// What an administrator sends to replace a calendar.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SlaCalendarBody {
    /// The calendar.
    pub calendar: CalendarSpec,
}

/// What an administrator sends to create a policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewSlaPolicy {
    /// Its name (`[a-z0-9_-]`, 1 to 64).
    pub name: String,
    /// The group it applies to (none: the tenant's policy).
    #[serde(default)]
    pub group: Option<GroupId>,
    /// The name of the calendar it counts business time in.
    pub calendar: String,
    /// The policy.
    pub policy: PolicySpec,
}

/// What an administrator sends to replace a policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SlaPolicyBody {
    /// The group it applies to (none: the tenant's policy).
    #[serde(default)]
    pub group: Option<GroupId>,
    /// The name of the calendar it counts business time in.
    pub calendar: String,
    /// The policy.
    pub policy: PolicySpec,
}

/// The SLA of one case at an instant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaseSla {
    /// The case.
    pub case: CaseId,
    /// When the state was computed.
    pub at: chrono::DateTime<chrono::Utc>,
    /// The state; none when no policy applies to the case.
    pub state: Option<SlaState>,
}

/// Checks a setting's name: 1 to 64 of `a-z`, `0-9`, `_`, `-`.
///
/// # Errors
/// `name` otherwise.
pub fn check_name(name: &str) -> Result<(), FieldError> {
    let ok = (1..=MAX_SLA_NAME).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if ok { Ok(()) } else { Err(FieldError::new("name", "must be 1 to 64 of a-z, 0-9, _ and -")) }
}

/// `errors` with every field under `prefix` (`time_zone` → `calendar.time_zone`).
pub(crate) fn within(errors: ValidationErrors, prefix: &str) -> Vec<FieldError> {
    errors.errors().iter().cloned().map(|e| e.within(prefix)).collect()
}

/// A stored document that no longer reads as its record.
fn corrupt(kind: SlaSettingKind, name: &str, e: &serde_json::Error) -> StoreError {
    StoreError::Backend(format!("stored SLA {} {name:?} does not read: {e}", kind.as_str()).into())
}

impl SlaCalendarRecord {
    /// Validates a calendar; `name` is checked by the caller.
    ///
    /// # Errors
    /// Every refused field under `calendar.` (`calendar.time_zone`, `calendar.hours[1]`).
    pub fn build(name: String, spec: CalendarSpec, version: u64) -> Result<Self, ValidationErrors> {
        let mut v = Validator::new();
        v.check(check_name(&name));
        let calendar = BusinessCalendar::new(spec).map_err(|e| v.extend(within(e, "calendar"))).ok();
        v.finish()?;
        let calendar = calendar.ok_or_else(|| FieldError::new("calendar", "is not valid"))?;
        Ok(Self { name, calendar, version })
    }

    /// The record as a store keeps it.
    ///
    /// # Errors
    /// Never in practice (a calendar always serialises).
    pub fn to_setting(&self, tenant: TenantId) -> Result<SlaSetting, StoreError> {
        let body = serde_json::to_value(self).map_err(|e| corrupt(SlaSettingKind::Calendar, &self.name, &e))?;
        Ok(SlaSetting {
            tenant,
            kind: SlaSettingKind::Calendar,
            name: self.name.clone(),
            scope: None,
            version: self.version,
            body,
        })
    }

    /// The record a store kept.
    ///
    /// # Errors
    /// `Backend` when the document does not read as a calendar.
    pub fn from_setting(setting: &SlaSetting) -> Result<Self, StoreError> {
        let mut r: Self = serde_json::from_value(setting.body.clone())
            .map_err(|e| corrupt(SlaSettingKind::Calendar, &setting.name, &e))?;
        r.version = setting.version;
        Ok(r)
    }
}

impl SlaPolicyRecord {
    /// Validates a policy; the calendar's and the group's existence are checked by the
    /// caller.
    ///
    /// # Errors
    /// `name`, `calendar`, and every refused field of the policy under `policy.`
    /// (`policy.targets[0].first_response_secs`).
    pub fn build(name: String, body: SlaPolicyBody, version: u64) -> Result<Self, ValidationErrors> {
        let mut v = Validator::new();
        v.check(check_name(&name));
        v.check(check_name(&body.calendar).map_err(|e| FieldError::new("calendar", e.reason)));
        let policy = SlaPolicy::new(body.policy).map_err(|e| v.extend(within(e, "policy"))).ok();
        v.finish()?;
        let policy = policy.ok_or_else(|| FieldError::new("policy", "is not valid"))?;
        Ok(Self { name, group: body.group, calendar: body.calendar, policy, version })
    }

    /// The scope a store keeps unique: the group, or `tenant`.
    pub fn scope(&self) -> String {
        self.group.map_or_else(|| "tenant".to_owned(), |g| g.to_string())
    }

    /// The record as a store keeps it.
    ///
    /// # Errors
    /// Never in practice (a policy always serialises).
    pub fn to_setting(&self, tenant: TenantId) -> Result<SlaSetting, StoreError> {
        let body = serde_json::to_value(self).map_err(|e| corrupt(SlaSettingKind::Policy, &self.name, &e))?;
        Ok(SlaSetting {
            tenant,
            kind: SlaSettingKind::Policy,
            name: self.name.clone(),
            scope: Some(self.scope()),
            version: self.version,
            body,
        })
    }

    /// The record a store kept.
    ///
    /// # Errors
    /// `Backend` when the document does not read as a policy.
    pub fn from_setting(setting: &SlaSetting) -> Result<Self, StoreError> {
        let mut r: Self = serde_json::from_value(setting.body.clone())
            .map_err(|e| corrupt(SlaSettingKind::Policy, &setting.name, &e))?;
        r.version = setting.version;
        Ok(r)
    }
}

/// The policy a case in `group` is under: its group's, or else the tenant's.
pub fn policy_for(policies: &[SlaPolicyRecord], group: Option<GroupId>) -> Option<&SlaPolicyRecord> {
    group
        .and_then(|g| policies.iter().find(|p| p.group == Some(g)))
        .or_else(|| policies.iter().find(|p| p.group.is_none()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sla::{DayOfWeek, OpenHours, TargetRule, TimeBasis};

    fn spec(zone: &str, hours: Vec<OpenHours>) -> CalendarSpec {
        CalendarSpec { time_zone: zone.into(), hours, holidays: vec![], exceptions: vec![] }
    }

    fn hours(from: &str, until: &str) -> OpenHours {
        OpenHours { day: DayOfWeek::Monday, from: from.into(), until: until.into() }
    }

    #[test]
    fn a_bad_calendar_names_its_fields_under_calendar() {
        let err = SlaCalendarRecord::build("Bad Name".into(), spec("Mars/Base", vec![]), 1).unwrap_err();
        let fields: Vec<&str> = err.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "calendar.time_zone", "calendar.hours"]);
        let overlap = spec("Europe/Paris", vec![hours("09:00", "12:00"), hours("11:00", "13:00")]);
        let err = SlaCalendarRecord::build("ok".into(), overlap, 1).unwrap_err();
        assert!(err.errors().iter().all(|e| e.field.starts_with("calendar.hours[")), "{err}");
        let good = SlaCalendarRecord::build("ok".into(), spec("Europe/Paris", vec![hours("09:00", "17:00")]), 3);
        let good = good.map_err(|e| e.to_string());
        assert_eq!(good.as_ref().map(|r| r.version), Ok(3));
        let setting = good.as_ref().ok().and_then(|r| r.to_setting(TenantId::from_uuid(uuid::Uuid::from_u128(1))).ok());
        let back = setting.as_ref().map(SlaCalendarRecord::from_setting).and_then(Result::ok);
        assert_eq!(back.as_ref(), good.as_ref().ok());
    }

    #[test]
    fn a_zero_target_is_named_under_policy() {
        let body = SlaPolicyBody {
            group: None,
            calendar: "office".into(),
            policy: PolicySpec {
                basis: TimeBasis::Business,
                pause_statuses: vec![],
                warning_percent: None,
                targets: vec![TargetRule { resolution_secs: Some(0), ..TargetRule::default() }],
            },
        };
        let err = SlaPolicyRecord::build("std".into(), body, 1).unwrap_err();
        assert_eq!(err.to_string(), "policy.targets[0].resolution_secs: must be more than zero");
    }

    #[test]
    fn a_case_is_under_its_groups_policy_or_the_tenants() {
        let policy = |name: &str, group| SlaPolicyRecord {
            name: name.into(),
            group,
            calendar: "c".into(),
            policy: SlaPolicy::new(PolicySpec {
                basis: TimeBasis::Calendar,
                pause_statuses: vec![],
                warning_percent: None,
                targets: vec![TargetRule { resolution_secs: Some(60), ..TargetRule::default() }],
            })
            .unwrap_or_else(|e| panic!("{e}")),
            version: 1,
        };
        let (g1, g2) = (GroupId::from_uuid(uuid::Uuid::from_u128(1)), GroupId::from_uuid(uuid::Uuid::from_u128(2)));
        let all = [policy("group", Some(g1)), policy("tenant", None)];
        assert_eq!(policy_for(&all, Some(g1)).map(|p| p.name.as_str()), Some("group"));
        assert_eq!(policy_for(&all, Some(g2)).map(|p| p.name.as_str()), Some("tenant"));
        assert_eq!(policy_for(&all, None).map(|p| p.name.as_str()), Some("tenant"));
        assert_eq!(policy_for(&all[..1], None).map(|p| p.name.as_str()), None);
    }
}
