//! SLA attainment per group and period: how many cases met, breached, or are still within
//! each metric, tallied from their [`SlaState`]s. Integers only: attainment is in per mille
//! (met × 1000 / (met + breached), rounded down).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::clock::{MetricState, MetricStatus, SlaState};
use super::policy::Metric;
use crate::error::FieldError;
use crate::ids::GroupId;

/// The most cases one report reads; a period with more is reported on its first cases and
/// marked incomplete.
pub const MAX_REPORT_CASES: usize = 10_000;

/// Which cases a report covers: created in `[from, to)`, of `group` when given.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaReportQuery {
    /// Created at or after.
    pub from: DateTime<Utc>,
    /// Created before.
    pub to: DateTime<Utc>,
    /// Only the cases of this group.
    pub group: Option<GroupId>,
}

impl SlaReportQuery {
    /// Checks the period.
    ///
    /// # Errors
    /// `to` when it is not after `from`.
    pub fn validate(&self) -> Result<(), FieldError> {
        if self.to <= self.from { Err(FieldError::new("to", "must be after from")) } else { Ok(()) }
    }
}

/// One group's figures for one metric.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlaReportRow {
    /// The group (none: cases without a group).
    pub group: Option<GroupId>,
    /// The metric.
    pub metric: Metric,
    /// Cases whose metric completed within its target.
    pub met: u64,
    /// Cases whose metric breached.
    pub breached: u64,
    /// Cases whose metric is still running or paused, not breached.
    pub in_progress: u64,
    /// `met × 1000 / (met + breached)`; none when neither.
    pub attainment_per_mille: Option<u64>,
}

/// SLA attainment over a period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlaReport {
    /// Cases created at or after.
    pub from: DateTime<Utc>,
    /// Cases created before.
    pub to: DateTime<Utc>,
    /// The group asked for.
    pub group: Option<GroupId>,
    /// Cases read.
    pub cases: u64,
    /// Of those, cases no policy applies to.
    pub without_policy: u64,
    /// False when the period holds more than [`MAX_REPORT_CASES`] cases and only the first
    /// were read.
    pub complete: bool,
    /// Per group (cases without a group first, then by id), per metric.
    pub rows: Vec<SlaReportRow>,
}

/// Tallies states into rows.
#[derive(Clone, Debug, Default)]
pub struct SlaTally {
    counts: BTreeMap<(Option<GroupId>, Metric), SlaReportRow>,
    cases: u64,
    without_policy: u64,
}

impl SlaTally {
    /// An empty tally.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one case of `group` with its state (none: no policy applies).
    pub fn add(&mut self, group: Option<GroupId>, state: Option<&SlaState>) {
        self.cases += 1;
        let Some(state) = state else {
            self.without_policy += 1;
            return;
        };
        let metrics: [(Metric, &Option<MetricState>); 3] = [
            (Metric::FirstResponse, &state.first_response),
            (Metric::NextResponse, &state.next_response),
            (Metric::Resolution, &state.resolution),
        ];
        for (metric, m) in metrics {
            let Some(m) = m else { continue };
            let row = self.counts.entry((group, metric)).or_insert_with(|| SlaReportRow {
                group,
                metric,
                met: 0,
                breached: 0,
                in_progress: 0,
                attainment_per_mille: None,
            });
            match m.status {
                MetricStatus::Met => row.met += 1,
                MetricStatus::Breached => row.breached += 1,
                MetricStatus::Running | MetricStatus::Paused => row.in_progress += 1,
            }
        }
    }

    /// The report.
    pub fn finish(self, query: &SlaReportQuery, complete: bool) -> SlaReport {
        let rows = self
            .counts
            .into_values()
            .map(|mut r| {
                let decided = r.met + r.breached;
                r.attainment_per_mille = (decided > 0).then(|| r.met * 1000 / decided);
                r
            })
            .collect();
        SlaReport {
            from: query.from,
            to: query.to,
            group: query.group,
            cases: self.cases,
            without_policy: self.without_policy,
            complete,
            rows,
        }
    }
}

impl SlaReport {
    /// The rows as CSV with a header: `group,metric,met,breached,in_progress,attainment_per_mille`
    /// (an empty group is cases without one; an empty attainment, none decided).
    pub fn to_csv(&self) -> String {
        let mut out = String::from("group,metric,met,breached,in_progress,attainment_per_mille\n");
        for r in &self.rows {
            let metric = match r.metric {
                Metric::FirstResponse => "first_response",
                Metric::NextResponse => "next_response",
                Metric::Resolution => "resolution",
            };
            let group = r.group.map(|g| g.to_string()).unwrap_or_default();
            let attainment = r.attainment_per_mille.map(|a| a.to_string()).unwrap_or_default();
            out.push_str(&format!("{group},{metric},{},{},{},{attainment}\n", r.met, r.breached, r.in_progress));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metric(status: MetricStatus) -> Option<MetricState> {
        let at: DateTime<Utc> = DateTime::from_timestamp(0, 0).unwrap_or_default();
        Some(MetricState {
            status,
            target_secs: 60,
            elapsed_secs: 0,
            paused_secs: 0,
            started_at: at,
            due_at: None,
            warning_at: None,
            breached_at: None,
            completed_at: None,
            breached_cycles: 0,
        })
    }

    fn state(first: MetricStatus, resolution: MetricStatus) -> SlaState {
        SlaState {
            policy: "p".into(),
            first_response: metric(first),
            next_response: None,
            resolution: metric(resolution),
        }
    }

    #[test]
    fn attainment_is_met_over_decided_in_per_mille() {
        let g = GroupId::from_uuid(uuid::Uuid::from_u128(7));
        let mut t = SlaTally::new();
        t.add(Some(g), Some(&state(MetricStatus::Met, MetricStatus::Running)));
        t.add(Some(g), Some(&state(MetricStatus::Met, MetricStatus::Breached)));
        t.add(Some(g), Some(&state(MetricStatus::Breached, MetricStatus::Paused)));
        t.add(None, None);
        let q = SlaReportQuery { from: DateTime::default(), to: DateTime::default(), group: None };
        let r = t.finish(&q, true);
        assert_eq!((r.cases, r.without_policy), (4, 1));
        let first = &r.rows[0];
        assert_eq!((first.met, first.breached, first.in_progress, first.attainment_per_mille), (2, 1, 0, Some(666)));
        let resolution = &r.rows[1];
        assert_eq!((resolution.breached, resolution.in_progress, resolution.attainment_per_mille), (1, 2, Some(0)));
        assert_eq!(
            r.to_csv(),
            format!(
                "group,metric,met,breached,in_progress,attainment_per_mille\n\
                 {g},first_response,2,1,0,666\n{g},resolution,0,1,2,0\n"
            )
        );
    }
}
