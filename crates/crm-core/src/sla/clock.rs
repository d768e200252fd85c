//! The SLA clock: a fold over a case's history.
//!
//! [`sla_state`] replays the history from creation; [`SlaClock`] is the same fold one event
//! at a time, and serialisable, so a store may keep the folded clock and apply new events to
//! it: both give the same state (a property test holds them to it). Because the state is
//! recomputed from the history, changing a policy or a calendar and replaying yields the new
//! figures with every pause still counted.
//!
//! The rules, per metric:
//! - **first response** starts at creation and completes at the first agent reply, or when
//!   the case closes; a reopen does not restart it.
//! - **next response** starts at a customer reply once the first response has completed,
//!   unless a cycle is already running (a second customer reply does not reset it), and
//!   completes at the next agent reply or when the case closes. The state is the latest
//!   cycle's; `breached_cycles` counts every cycle that breached.
//! - **resolution** starts at creation, completes when the case is resolved or closes (the
//!   first of the two; issue 27) and resumes where it
//!   stopped when the case reopens (time spent closed counts neither as elapsed nor paused).
//! - While the case is in a status the policy pauses in, running metrics accrue **paused**
//!   time instead of elapsed time (both in the policy's basis: business seconds for a
//!   business-time policy).
//! - A metric **breaches** when its elapsed time reaches the target while it is still
//!   running or paused; completing at that very instant is meeting it. A breach is final: a
//!   later, longer target does not undo it. A shorter target (priority or policy change)
//!   that elapsed time already exceeds breaches the metric at the change. Warnings follow the
//!   same rule with the policy's warning share of the target.
//! - The targets in force are those of the current policy for the case's current priority,
//!   tier and fields; elapsed time is kept across changes of priority and policy.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::calendar::BusinessCalendar;
use super::policy::{CaseFacts, Metric, SlaPolicy, TimeBasis};
use super::timeline::Timeline;
use crate::case::{CaseStatus, Priority};
use crate::error::FieldError;

/// Named policies, each with the calendar it counts business time in. Equal calendars are
/// kept once, so the policies sharing one share its business time while a history is folded.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PolicyBook {
    calendars: Vec<BusinessCalendar>,
    entries: BTreeMap<String, (SlaPolicy, usize)>,
}

impl PolicyBook {
    /// An empty book.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces the policy `name`.
    pub fn insert(&mut self, name: impl Into<String>, policy: SlaPolicy, calendar: BusinessCalendar) {
        let index = match self.calendars.iter().position(|c| *c == calendar) {
            Some(i) => i,
            None => {
                self.calendars.push(calendar);
                self.calendars.len() - 1
            }
        };
        self.entries.insert(name.into(), (policy, index));
    }

    /// The policy `name` and its calendar.
    pub fn get(&self, name: &str) -> Option<(&SlaPolicy, &BusinessCalendar)> {
        self.entries.get(name).map(|(p, c)| (p, &self.calendars[*c]))
    }
}

/// What happened to a case, as far as its SLA is concerned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlaEvent {
    /// When (whole seconds count; a fraction is dropped).
    pub at: DateTime<Utc>,
    /// What.
    #[serde(flatten)]
    pub kind: SlaEventKind,
}

/// The kinds of [`SlaEvent`]; a reopen is a status change out of `closed`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum SlaEventKind {
    /// The case was created; always the first event.
    Created {
        /// The policy's name in the [`PolicyBook`].
        policy: String,
        /// Its status at creation.
        #[serde(default = "open")]
        status: CaseStatus,
        /// Its priority.
        priority: Priority,
        /// The customer's tier.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tier: Option<String>,
        /// Custom field values, as text.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        fields: BTreeMap<String, String>,
    },
    /// The case's status changed.
    StatusChanged {
        /// The new status.
        status: CaseStatus,
    },
    /// An agent answered the customer.
    AgentReplied,
    /// The customer wrote.
    CustomerReplied,
    /// The case's priority changed.
    PriorityChanged {
        /// The new priority.
        priority: Priority,
    },
    /// Another policy applies from now on (the case moved to another group …).
    PolicyChanged {
        /// The policy's name in the [`PolicyBook`].
        policy: String,
    },
}

fn open() -> CaseStatus {
    CaseStatus::Open
}

/// Where a metric stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MetricStatus {
    /// Counting.
    Running,
    /// Standing still in a pause status.
    Paused,
    /// Completed within its target.
    Met,
    /// Its target was reached before it completed (it may still be running).
    Breached,
}

/// One metric of a case's SLA.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MetricState {
    /// Where it stands.
    pub status: MetricStatus,
    /// The target in force, seconds.
    pub target_secs: i64,
    /// Time counted, seconds (business seconds for a business-time policy).
    pub elapsed_secs: i64,
    /// Time spent paused, seconds, in the same basis.
    pub paused_secs: i64,
    /// When it started (the customer reply, for a next response).
    pub started_at: DateTime<Utc>,
    /// When the target is reached if nothing else happens: for a running metric its
    /// deadline, for a breached one the instant it breached; none while paused or once
    /// completed.
    pub due_at: Option<DateTime<Utc>>,
    /// When the warning share of the target is (or was) reached; none if the policy sets
    /// no warning, or while paused before reaching it.
    pub warning_at: Option<DateTime<Utc>>,
    /// When it breached.
    pub breached_at: Option<DateTime<Utc>>,
    /// When it completed.
    pub completed_at: Option<DateTime<Utc>>,
    /// Cycles of this metric that breached (next response; 0 or 1 otherwise).
    pub breached_cycles: u32,
}

/// The SLA of a case at an instant: each metric with a target in force.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlaState {
    /// The policy in force.
    pub policy: String,
    /// First response.
    pub first_response: Option<MetricState>,
    /// Next response (the latest cycle; none before the first customer reply after it).
    pub next_response: Option<MetricState>,
    /// Resolution.
    pub resolution: Option<MetricState>,
}

/// The business time of the policies of one book, cached while a history is folded.
#[derive(Debug)]
pub struct SlaEngine<'b> {
    book: &'b PolicyBook,
    /// One timeline per calendar of the book, made when first needed.
    timelines: Vec<Option<Timeline<'b>>>,
    /// The policy looked up last (histories rarely change policy).
    last: Option<(&'b str, &'b SlaPolicy, usize)>,
}

impl<'b> SlaEngine<'b> {
    /// An engine over `book`.
    pub fn new(book: &'b PolicyBook) -> Self {
        Self { book, timelines: book.calendars.iter().map(|_| None).collect(), last: None }
    }

    fn resolve(&mut self, name: &str) -> Option<(&'b SlaPolicy, usize)> {
        if let Some((n, p, c)) = self.last
            && n == name
        {
            return Some((p, c));
        }
        let (key, (policy, calendar)) = self.book.entries.get_key_value(name)?;
        self.last = Some((key.as_str(), policy, *calendar));
        Some((policy, *calendar))
    }

    fn policy(&mut self, name: &str) -> Option<&'b SlaPolicy> {
        self.resolve(name).map(|(p, _)| p)
    }

    fn timeline(&mut self, policy: &SlaPolicy, index: usize) -> Option<&mut Timeline<'b>> {
        if policy.basis() == TimeBasis::Calendar {
            return None;
        }
        let book = self.book;
        let slot = self.timelines.get_mut(index)?;
        Some(slot.get_or_insert_with(|| Timeline::new(&book.calendars[index])))
    }

    /// Time counted by `policy` (whose calendar is `index`) in `[from, to)`.
    fn between(&mut self, (policy, index): (&SlaPolicy, usize), from: i64, to: i64) -> i64 {
        if to <= from {
            return 0;
        }
        match self.timeline(policy, index) {
            Some(t) => t.between(from, to),
            None => to - from,
        }
    }

    /// The instant `amount` (> 0) counted seconds after `from`.
    fn add(&mut self, (policy, index): (&SlaPolicy, usize), from: i64, amount: i64) -> Option<i64> {
        match self.timeline(policy, index) {
            Some(t) => t.add(from, amount),
            None => from.checked_add(amount),
        }
    }
}

/// One metric's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Meter {
    started_at: Option<i64>,
    elapsed: i64,
    paused: i64,
    completed_at: Option<i64>,
    breached_at: Option<i64>,
    warned_at: Option<i64>,
    breached_cycles: u32,
}

impl Meter {
    fn started(at: i64) -> Self {
        Self { started_at: Some(at), ..Self::default() }
    }

    fn active(&self) -> bool {
        self.started_at.is_some() && self.completed_at.is_none()
    }

    fn complete(&mut self, at: i64) {
        if self.active() {
            self.completed_at = Some(at);
        }
    }
}

/// A case's SLA clock after some prefix of its history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaClock {
    policy: String,
    status: CaseStatus,
    facts: CaseFacts,
    last: i64,
    meters: [Meter; 3],
}

fn index(m: Metric) -> usize {
    match m {
        Metric::FirstResponse => 0,
        Metric::NextResponse => 1,
        Metric::Resolution => 2,
    }
}

fn unknown_policy(name: &str) -> FieldError {
    FieldError::new("policy", format!("{name:?} is not a known policy"))
}

impl SlaClock {
    /// The clock of a case just created.
    ///
    /// # Errors
    /// `kind` when the event is not a creation; `policy` when the book has no such policy.
    pub fn start(engine: &mut SlaEngine<'_>, event: &SlaEvent) -> Result<Self, FieldError> {
        let SlaEventKind::Created { policy, status, priority, tier, fields } = &event.kind else {
            return Err(FieldError::new("kind", "a history starts with the case's creation"));
        };
        engine.policy(policy).ok_or_else(|| unknown_policy(policy))?;
        let at = event.at.timestamp();
        let mut meters = [Meter::default(); 3];
        meters[index(Metric::FirstResponse)] = Meter::started(at);
        meters[index(Metric::Resolution)] = Meter::started(at);
        let mut clock = Self {
            policy: policy.clone(),
            status: *status,
            facts: CaseFacts { priority: Some(*priority), tier: tier.clone(), fields: fields.clone() },
            last: at,
            meters,
        };
        if status.is_done() {
            clock.close(at);
        }
        Ok(clock)
    }

    fn close(&mut self, at: i64) {
        for m in &mut self.meters {
            m.complete(at);
        }
    }

    /// Counts time from the last event to `to`; `completes(metric)` tells whether the event
    /// at `to` completes that metric (meeting a target reached at that very instant).
    fn advance(&mut self, engine: &mut SlaEngine<'_>, to: i64, completes: impl Fn(Metric) -> bool) {
        let from = self.last;
        let Some(counter) = engine.resolve(&self.policy) else { return };
        let policy = counter.0;
        let paused = policy.pauses_in(self.status);
        let counted = engine.between(counter, from, to);
        let rule = policy.rule_for(&self.facts);
        for metric in Metric::ALL {
            let target = rule.and_then(|r| r.target(metric)).map(i64::from);
            let warning = target.and_then(|t| policy.warning_for(t));
            let m = &mut self.meters[index(metric)];
            if !m.active() {
                continue;
            }
            if paused {
                m.paused += counted;
                continue;
            }
            let before = m.elapsed;
            m.elapsed += counted;
            for (threshold, mark, is_breach) in [(warning, &mut m.warned_at, false), (target, &mut m.breached_at, true)]
            {
                let Some(threshold) = threshold else { continue };
                if mark.is_none() && before < threshold && m.elapsed >= threshold {
                    let at = engine.add(counter, from, threshold - before).unwrap_or(to).min(to);
                    if at < to || !completes(metric) {
                        *mark = Some(at);
                        if is_breach {
                            m.breached_cycles += 1;
                        }
                    }
                }
            }
        }
        self.last = to;
    }

    /// Marks thresholds that the elapsed time already exceeds under the targets in force
    /// (after a change of priority or policy).
    fn settle(&mut self, engine: &mut SlaEngine<'_>, at: i64) {
        let Some(policy) = engine.policy(&self.policy) else { return };
        let rule = policy.rule_for(&self.facts);
        for metric in Metric::ALL {
            let target = rule.and_then(|r| r.target(metric)).map(i64::from);
            let warning = target.and_then(|t| policy.warning_for(t));
            let m = &mut self.meters[index(metric)];
            if !m.active() {
                continue;
            }
            if m.warned_at.is_none() && warning.is_some_and(|w| m.elapsed >= w) {
                m.warned_at = Some(at);
            }
            if m.breached_at.is_none() && target.is_some_and(|t| m.elapsed >= t) {
                m.breached_at = Some(at);
                m.breached_cycles += 1;
            }
        }
    }

    /// Applies the next event of the history.
    ///
    /// # Errors
    /// `at` when the event is earlier than the one before; `kind` for a second creation;
    /// `policy` for an unknown policy.
    pub fn apply(&mut self, engine: &mut SlaEngine<'_>, event: &SlaEvent) -> Result<(), FieldError> {
        let at = event.at.timestamp();
        if at < self.last {
            return Err(FieldError::new("at", "is before the event before it"));
        }
        // resolved or closed: the work is done (issue 27: resolving is the resolution
        // instant; closing a resolved case changes no clock)
        let closed = self.status.is_done();
        let completes = |m: Metric| match &event.kind {
            SlaEventKind::AgentReplied => m != Metric::Resolution,
            SlaEventKind::StatusChanged { status } => status.is_done() && !closed,
            _ => false,
        };
        match &event.kind {
            SlaEventKind::Created { .. } => return Err(FieldError::new("kind", "the case was already created")),
            SlaEventKind::PolicyChanged { policy } => {
                engine.policy(policy).ok_or_else(|| unknown_policy(policy))?;
            }
            _ => {}
        }
        self.advance(engine, at, completes);
        match &event.kind {
            SlaEventKind::Created { .. } => {}
            SlaEventKind::StatusChanged { status } => {
                if status.is_done() {
                    self.close(at);
                } else if closed {
                    // a reopen: resolution resumes where it stopped
                    self.meters[index(Metric::Resolution)].completed_at = None;
                }
                self.status = *status;
            }
            SlaEventKind::AgentReplied => {
                if !closed {
                    self.meters[index(Metric::FirstResponse)].complete(at);
                    self.meters[index(Metric::NextResponse)].complete(at);
                }
            }
            SlaEventKind::CustomerReplied => {
                let first_done = !self.meters[index(Metric::FirstResponse)].active();
                let next = &mut self.meters[index(Metric::NextResponse)];
                if !closed && first_done && !next.active() {
                    let cycles = next.breached_cycles;
                    *next = Meter { breached_cycles: cycles, ..Meter::started(at) };
                }
            }
            SlaEventKind::PriorityChanged { priority } => self.facts.priority = Some(*priority),
            SlaEventKind::PolicyChanged { policy } => self.policy.clone_from(policy),
        }
        // Only a new target or a resumed metric can find its elapsed time already past a
        // threshold; time counted up to `at` was checked by `advance`.
        if matches!(
            event.kind,
            SlaEventKind::PriorityChanged { .. }
                | SlaEventKind::PolicyChanged { .. }
                | SlaEventKind::StatusChanged { .. }
        ) {
            self.settle(engine, at);
        }
        Ok(())
    }

    /// The state at `now`.
    ///
    /// # Errors
    /// `now` when it is before the last event applied.
    pub fn state(&self, engine: &mut SlaEngine<'_>, now: DateTime<Utc>) -> Result<SlaState, FieldError> {
        let now_secs = now.timestamp();
        if now_secs < self.last {
            return Err(FieldError::new("now", "is before the last event of the history"));
        }
        let mut clock = self.clone();
        clock.advance(engine, now_secs, |_| false);
        let counter = engine.resolve(&clock.policy).ok_or_else(|| unknown_policy(&clock.policy))?;
        let policy = counter.0;
        let paused = policy.pauses_in(clock.status);
        let mut metric = |metric: Metric| -> Option<MetricState> {
            let target = policy.target(&clock.facts, metric)?;
            let m = clock.meters[index(metric)];
            let started_at = instant(m.started_at?);
            let running = m.active() && !paused;
            let status = match (m.active(), m.breached_at.is_some()) {
                (_, true) => MetricStatus::Breached,
                (false, false) => MetricStatus::Met,
                (true, false) if paused => MetricStatus::Paused,
                (true, false) => MetricStatus::Running,
            };
            let due = match m.breached_at {
                Some(b) if m.active() => Some(b),
                None if running => engine.add(counter, now_secs, target - m.elapsed),
                _ => None,
            };
            let warning = match (m.warned_at, policy.warning_for(target)) {
                (Some(w), _) => Some(w),
                (None, Some(w)) if running => engine.add(counter, now_secs, w - m.elapsed),
                _ => None,
            };
            Some(MetricState {
                status,
                target_secs: target,
                elapsed_secs: m.elapsed,
                paused_secs: m.paused,
                started_at,
                due_at: due.map(instant),
                warning_at: warning.map(instant),
                breached_at: m.breached_at.map(instant),
                completed_at: m.completed_at.map(instant),
                breached_cycles: m.breached_cycles,
            })
        };
        Ok(SlaState {
            first_response: metric(Metric::FirstResponse),
            next_response: metric(Metric::NextResponse),
            resolution: metric(Metric::Resolution),
            policy: clock.policy.clone(),
        })
    }
}

fn instant(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The SLA state of a case at `now`, from its whole history (oldest first).
///
/// # Errors
/// A [`FieldError`] naming the event (`history[3].at: is before the event before it`,
/// `history[0].kind: …`, `history[5].policy: …`), or `now` when it is before the last event.
pub fn sla_state(book: &PolicyBook, history: &[SlaEvent], now: DateTime<Utc>) -> Result<SlaState, FieldError> {
    let mut engine = SlaEngine::new(book);
    let first = history.first().ok_or_else(|| FieldError::new("history", "is empty"))?;
    let mut clock = SlaClock::start(&mut engine, first).map_err(|e| e.within("history[0]"))?;
    for (i, e) in history.iter().enumerate().skip(1) {
        clock.apply(&mut engine, e).map_err(|err| err.within(&format!("history[{i}]")))?;
    }
    clock.state(&mut engine, now)
}
