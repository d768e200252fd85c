//! The SLA timer's alarms (ADR 0028): which warnings and breaches a case's clock has
//! reached at an instant, each keyed by (metric, kind, start of the metric's cycle) so a
//! store raises each exactly once whatever the replicas, restarts and re-checks.

use chrono::{DateTime, Utc};

use super::clock::{MetricState, SlaState};
use super::policy::Metric;
use crate::event::EventKind;
use crate::ids::{CaseId, TenantId};

/// A case whose SLA timer is due: the instant its row names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlaTimer {
    /// Tenant.
    pub tenant: TenantId,
    /// Case.
    pub case: CaseId,
    /// The timer's instant as read (the claim is guarded by it).
    pub fire_at: DateTime<Utc>,
}

/// A warning or a breach.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AlarmKind {
    /// The warning share of the target reached.
    Warning,
    /// The target reached.
    Breach,
}

impl AlarmKind {
    /// Its name in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Warning => "warning",
            Self::Breach => "breach",
        }
    }
}

/// Metric names in the store.
pub fn metric_name(metric: Metric) -> &'static str {
    match metric {
        Metric::FirstResponse => "first_response",
        Metric::NextResponse => "next_response",
        Metric::Resolution => "resolution",
    }
}

/// One alarm to raise: its key and its event's kind.
#[derive(Clone, Debug, PartialEq)]
pub struct SlaAlarm {
    /// The metric.
    pub metric: Metric,
    /// Warning or breach.
    pub kind: AlarmKind,
    /// When the metric's cycle started (its creation, or the customer reply).
    pub started_at: DateTime<Utc>,
    /// The event to write when the key is new.
    pub event: EventKind,
}

/// The alarms `state` (the clock at `now`) has reached: a breach for each metric that
/// breached at or before `now`; a warning for each metric not completed and not breached
/// whose warning instant is at or before `now` (a warning overtaken by its breach is not
/// raised late).
pub fn alarms_due(case: &crate::case::Case, state: &SlaState, now: DateTime<Utc>) -> Vec<SlaAlarm> {
    let (assignee, group) = (case.assignee(), case.group());
    let metrics: [(Metric, Option<&MetricState>); 3] = [
        (Metric::FirstResponse, state.first_response.as_ref()),
        (Metric::NextResponse, state.next_response.as_ref()),
        (Metric::Resolution, state.resolution.as_ref()),
    ];
    let mut alarms = Vec::new();
    for (metric, m) in metrics {
        let Some(m) = m else { continue };
        if let Some(breached_at) = m.breached_at.filter(|b| *b <= now) {
            let event = EventKind::SlaBreached { case: case.id, metric, breached_at, assignee, group };
            alarms.push(SlaAlarm { metric, kind: AlarmKind::Breach, started_at: m.started_at, event });
        } else if let Some(warning_at) = m.warning_at.filter(|w| *w <= now && m.completed_at.is_none()) {
            let event = EventKind::SlaWarning { case: case.id, metric, warning_at, due_at: m.due_at, assignee, group };
            alarms.push(SlaAlarm { metric, kind: AlarmKind::Warning, started_at: m.started_at, event });
        }
    }
    alarms
}
