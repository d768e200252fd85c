//! A case's SLA as stored on its row for lists and timers (ADR 0028): three instants taken
//! from the clock's [`SlaState`] that do not depend on the instant the state was computed
//! at, so a mark written with a case stays equal to the clock's until the case's history
//! changes, and "breached", "warning" and "due next" at any later instant are comparisons
//! of stored columns with that instant.
//!
//! - `due_at`: the earliest deadline of a metric still counting (running, or breached and
//!   not completed: then the instant it breached); none when every metric is paused or
//!   complete. The key of the "due next" sort.
//! - `warning_at`: the earliest warning instant of a metric not completed (reached or to
//!   come; a paused metric keeps one it reached).
//! - `breach_at`: the earliest instant a metric breached or will breach if nothing else
//!   happens (a running metric's deadline).
//!
//! The property test `the_mark_does_not_depend_on_when_it_is_computed` holds these to the
//! clock after random histories: the mark of the state at the last event equals the mark
//! of the state at any later instant, and [`SlaMark::condition_at`] equals
//! [`SlaCondition::of_state`] there.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::clock::{MetricState, MetricStatus, SlaState};

/// A case's SLA instants, as its row keeps them (see the module doc).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlaMark {
    /// The earliest deadline of a metric still counting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<DateTime<Utc>>,
    /// The earliest warning instant of a metric not completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning_at: Option<DateTime<Utc>>,
    /// The earliest instant a metric breached or will breach.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breach_at: Option<DateTime<Utc>>,
}

/// Where a case's SLA stands at an instant, as the case list filters on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SlaCondition {
    /// A metric breached (a breach is final).
    Breached,
    /// Not breached; a metric not completed reached its warning.
    Warning,
    /// Neither; a metric is counting towards its deadline.
    Running,
}

fn min(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

fn metrics(state: &SlaState) -> impl Iterator<Item = &MetricState> {
    [state.first_response.as_ref(), state.next_response.as_ref(), state.resolution.as_ref()].into_iter().flatten()
}

/// Whether a metric is still counting towards (or past) its deadline.
fn counting(m: &MetricState) -> bool {
    m.completed_at.is_none() && m.status != MetricStatus::Paused
}

impl SlaMark {
    /// The mark of a state (at any instant at or after the case's last SLA event).
    pub fn of(state: &SlaState) -> Self {
        let mut mark = Self::default();
        for m in metrics(state) {
            if counting(m) {
                mark.due_at = min(mark.due_at, m.due_at);
            }
            if m.completed_at.is_none() {
                mark.warning_at = min(mark.warning_at, m.warning_at);
            }
            let breach = match m.breached_at {
                Some(b) => Some(b),
                None if m.status == MetricStatus::Running => m.due_at,
                None => None,
            };
            mark.breach_at = min(mark.breach_at, breach);
        }
        mark
    }

    /// Whether nothing is marked (no policy, or every metric met).
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// The case's condition at `now`: breached once `breach_at` has passed, warning once
    /// `warning_at` has, running while a deadline is set; none otherwise.
    pub fn condition_at(&self, now: DateTime<Utc>) -> Option<SlaCondition> {
        if self.breach_at.is_some_and(|b| b <= now) {
            Some(SlaCondition::Breached)
        } else if self.warning_at.is_some_and(|w| w <= now) {
            Some(SlaCondition::Warning)
        } else if self.due_at.is_some() {
            Some(SlaCondition::Running)
        } else {
            None
        }
    }

    /// The next instant a warning or a breach is to be raised after `after` (the timer's
    /// next firing), or none.
    pub fn next_alarm_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        [self.warning_at, self.breach_at].into_iter().flatten().filter(|t| *t > after).min()
    }

    /// The first instant a warning or a breach is due (the timer's firing when the case is
    /// written); none when there is nothing to raise.
    pub fn first_alarm(&self) -> Option<DateTime<Utc>> {
        min(self.warning_at, self.breach_at)
    }
}

impl SlaCondition {
    /// The condition read from the clock's state at its instant: breached when a metric
    /// breached; warning when a metric not completed has a warning instant at or before
    /// `now`; running when a metric is running.
    pub fn of_state(state: &SlaState, now: DateTime<Utc>) -> Option<Self> {
        if metrics(state).any(|m| m.breached_at.is_some()) {
            Some(Self::Breached)
        } else if metrics(state).any(|m| m.completed_at.is_none() && m.warning_at.is_some_and(|w| w <= now)) {
            Some(Self::Warning)
        } else if metrics(state).any(|m| m.status == MetricStatus::Running) {
            Some(Self::Running)
        } else {
            None
        }
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Breached => "breached",
            Self::Warning => "warning",
            Self::Running => "running",
        }
    }
}

/// A case re-marked apart from an edit of it (a reply, a settings re-mark, a timer; ADR
/// 0032): the case as read, carrying its new mark and the next mark generation. A store
/// writes it with the write that caused it, in one transaction, and only over the row it
/// was read from: the row's version MUST be [`CaseRemark::expected_version`] and its mark
/// generation [`CaseRemark::expected_sla_gen`], else the whole write is refused as stale
/// (so an older mark never overwrites a newer one).
#[derive(Clone, Debug, PartialEq)]
pub struct CaseRemark {
    case: crate::case::Case,
}

impl CaseRemark {
    /// `read` (as the store returned it) with `mark`.
    pub fn new(read: &crate::case::Case, mark: Option<SlaMark>) -> Self {
        let mut case = read.clone();
        case.set_sla(mark);
        case.advance_sla_gen();
        Self { case }
    }

    /// The case to write (its mark set, its generation the next one).
    pub fn case(&self) -> &crate::case::Case {
        &self.case
    }

    /// The version the row must still have.
    pub fn expected_version(&self) -> u64 {
        self.case.version()
    }

    /// The mark generation the row must still have.
    pub fn expected_sla_gen(&self) -> u64 {
        self.case.sla_gen().saturating_sub(1)
    }

    /// Whether the mark differs from the one read (`read` the case it was made from).
    pub fn changes(&self, read: &crate::case::Case) -> bool {
        self.case.sla() != read.sla()
    }
}

/// A request to re-mark every case of a tenant (its SLA settings changed; ADR 0028, 0032):
/// the value `token` under `key` in the installation's key/value facts
/// ([`crate::ports::MetaStore`]), written by the settings write's own transaction. The
/// `sla-remark` round sweeps the tenant's cases and keeps its position after the token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemarkRequest {
    /// The key (`sla.remark.<tenant>`).
    pub key: String,
    /// A new token (a newer request restarts a sweep under way).
    pub token: String,
}

impl RemarkRequest {
    /// A request for `tenant` with a fresh `token`.
    pub fn new(tenant: crate::ids::TenantId, token: impl std::fmt::Display) -> Self {
        Self { key: Self::key_of(tenant), token: token.to_string() }
    }

    /// The key of `tenant`'s request.
    pub fn key_of(tenant: crate::ids::TenantId) -> String {
        format!("sla.remark.{tenant}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(s, 0).unwrap_or_default()
    }

    #[test]
    fn the_condition_moves_from_running_to_warning_to_breached() {
        let mark = SlaMark { due_at: Some(t(100)), warning_at: Some(t(80)), breach_at: Some(t(100)) };
        assert_eq!(mark.condition_at(t(10)), Some(SlaCondition::Running));
        assert_eq!(mark.condition_at(t(80)), Some(SlaCondition::Warning));
        assert_eq!(mark.condition_at(t(100)), Some(SlaCondition::Breached));
        assert_eq!(mark.next_alarm_after(t(10)), Some(t(80)));
        assert_eq!(mark.next_alarm_after(t(80)), Some(t(100)));
        assert_eq!(mark.next_alarm_after(t(100)), None);
        assert_eq!(SlaMark::default().condition_at(t(0)), None);
        assert!(SlaMark::default().is_empty());
    }
}
