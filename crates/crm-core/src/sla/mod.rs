//! SLA policies and business hours: a deterministic clock for every case (issue 33).
//!
//! - [`calendar`]: business calendars ([`BusinessCalendar`]): an IANA time zone, weekly
//!   hours (overnight shifts included), holidays and exceptions.
//! - [`policy`]: SLA policies ([`SlaPolicy`]): targets per priority, tier or custom field,
//!   for first response, next response and resolution; business or calendar time; pause
//!   statuses; a warning share.
//! - [`clock`]: the clock, a pure fold of the case's history ([`sla_state`], [`SlaClock`])
//!   into a [`SlaState`]: per metric the due instant, elapsed and paused time, and whether it
//!   is running, paused, met or breached.
//! - `timeline` (private): a calendar's open intervals as instants with running sums.
//!
//! Everything counts whole seconds in `i64`; no floating point. The wire forms
//! ([`CalendarSpec`], [`PolicySpec`], [`SlaEvent`], [`SlaState`]) derive `utoipa::ToSchema`
//! with the `openapi` feature.
//! - [`alarm`]: the warnings and breaches the SLA timer raises ([`alarms_due`]).
//! - [`mark`]: the instants a case's row keeps for lists and timers ([`SlaMark`]).
//! - [`config`]: calendars and policies as a tenant stores them, and which policy applies
//!   to a case; [`history`]: a case's SLA events from its stored history and follow-ups.
//!
//! ```
//! use chrono::{DateTime, Utc};
//! use crm_core::case::Priority;
//! use crm_core::sla::*;
//!
//! let calendar = BusinessCalendar::new(CalendarSpec {
//!     time_zone: "Europe/Paris".into(),
//!     hours: [DayOfWeek::Monday, DayOfWeek::Tuesday]
//!         .map(|day| OpenHours { day, from: "09:00".into(), until: "17:00".into() })
//!         .to_vec(),
//!     holidays: vec![],
//!     exceptions: vec![],
//! })?;
//! let policy = SlaPolicy::new(PolicySpec {
//!     basis: TimeBasis::Business,
//!     pause_statuses: vec![],
//!     warning_percent: None,
//!     targets: vec![TargetRule { first_response_secs: Some(4 * 3600), ..TargetRule::default() }],
//! })?;
//! let mut book = PolicyBook::new();
//! book.insert("standard", policy, calendar);
//! let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
//! // created Monday 2026-01-05 at 15:00 Paris (14:00 UTC): two hours on Monday, two on Tuesday
//! let history = [SlaEvent {
//!     at: at("2026-01-05T14:00:00Z"),
//!     kind: SlaEventKind::Created {
//!         policy: "standard".into(),
//!         status: crm_core::case::CaseStatus::Open,
//!         priority: Priority::Normal,
//!         tier: None,
//!         fields: Default::default(),
//!     },
//! }];
//! let state = sla_state(&book, &history, at("2026-01-05T14:00:00Z"))?;
//! let first = state.first_response.unwrap();
//! assert_eq!(first.due_at, Some(at("2026-01-06T10:00:00Z")));
//! assert_eq!(first.status, MetricStatus::Running);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod alarm;
pub mod calendar;
pub mod clock;
pub mod config;
pub mod history;
pub mod mark;
pub mod policy;
#[cfg(test)]
mod proptests;
pub mod report;
mod timeline;

pub use alarm::{AlarmKind, SlaAlarm, SlaTimer, alarms_due};
pub use calendar::{BusinessCalendar, CalendarSpec, DayException, DayOfWeek, Holiday, OpenHours, TimeSpan};
pub use clock::{
    MetricState, MetricStatus, PolicyBook, SlaClock, SlaEngine, SlaEvent, SlaEventKind, SlaState, sla_state,
};
pub use config::{
    CaseSla, NewSlaCalendar, NewSlaPolicy, SlaCalendarBody, SlaCalendarRecord, SlaPolicyBody, SlaPolicyRecord,
    SlaSetting, SlaSettingKind, check_name, policy_for,
};
pub use history::sla_events;
pub use mark::{CaseRemark, RemarkRequest, SlaCondition, SlaMark};
pub use policy::{CaseFacts, FieldCondition, Metric, PolicySpec, SlaPolicy, TargetRule, TimeBasis};
pub use report::{MAX_REPORT_CASES, SlaReport, SlaReportQuery, SlaReportRow, SlaTally};
