//! The SLA instants a case row keeps (ADR 0028): computed by the clock from the case's
//! history whenever a write can change it, and written with the case.
//!
//! - Creating a case marks it in the creating transaction (its history is the new entries).
//! - Editing a case's status, priority or group re-marks it in the editing transaction (the
//!   stored history plus the new entries, and its follow-ups).
//! - A follow-up that counts as a reply (added by an agent, a sent mail, a received mail, an
//!   interaction's summary) re-marks the case in the transaction that writes it (ADR 0032,
//!   [`crate::sla::CaseRemark`]), over the version and mark generation read, tried again
//!   when the case moved meanwhile; a policy or calendar change records a re-mark request
//!   with itself, and the `sla-remark` round re-marks the tenant's cases
//!   ([`Crm::remark_sla_cases`]); the timer round re-marks the cases it fires for. Those
//!   rounds write a mark only over the row they read: a newer mark is never overwritten.

use super::Crm;
use crate::case::{Case, CaseHistoryEntry};
use crate::error::Result;
use crate::follow_up::FollowUp;
use crate::ids::{CaseId, TenantId};
use crate::sla::{
    CaseRemark, PolicyBook, RemarkRequest, SlaCalendarRecord, SlaMark, SlaPolicyRecord, SlaSettingKind, SlaState,
    sla_state,
};

/// A tenant's SLA settings, ready to fold histories with.
#[derive(Debug, Default)]
pub(super) struct SlaBook {
    /// The policies (which applies to a case is decided from these).
    pub(super) policies: Vec<SlaPolicyRecord>,
    /// The policies with their calendars.
    pub(super) book: PolicyBook,
}

/// The fields whose change can move a case's SLA clock.
fn moves_the_clock(entry: &CaseHistoryEntry) -> bool {
    matches!(entry.field.as_str(), "status" | "priority" | "group")
}

impl SlaBook {
    /// The clock's state of `case` at `now` from its whole history and follow-ups; none when
    /// no policy applies or the history cannot be folded (a policy missing its calendar).
    pub(super) fn state(
        &self,
        case: &Case,
        history: &[CaseHistoryEntry],
        follow_ups: &[FollowUp],
        now: chrono::DateTime<chrono::Utc>,
    ) -> Option<SlaState> {
        let events = crate::sla::sla_events(case, history, follow_ups, &self.policies)?;
        let now = now.max(events.last().map_or(now, |e| e.at));
        sla_state(&self.book, &events, now).ok()
    }
}

impl Crm {
    /// The SLA settings of a tenant (no permission checked: for use cases and workers).
    pub(super) async fn sla_book(&self, tenant: TenantId) -> Result<SlaBook> {
        let rows = self.store.sla_settings(tenant, SlaSettingKind::Policy).await?;
        let policies: Vec<SlaPolicyRecord> =
            rows.iter().map(SlaPolicyRecord::from_setting).collect::<std::result::Result<_, _>>()?;
        if policies.is_empty() {
            return Ok(SlaBook::default());
        }
        let rows = self.store.sla_settings(tenant, SlaSettingKind::Calendar).await?;
        let calendars: Vec<SlaCalendarRecord> =
            rows.iter().map(SlaCalendarRecord::from_setting).collect::<std::result::Result<_, _>>()?;
        let mut book = PolicyBook::new();
        for p in &policies {
            if let Some(c) = calendars.iter().find(|c| c.name == p.calendar) {
                book.insert(p.name.clone(), p.policy.clone(), c.calendar.clone());
            }
        }
        Ok(SlaBook { policies, book })
    }

    /// Marks a new case from its first history entries (before it is inserted).
    pub(super) async fn mark_new_case(&self, case: &mut Case, history: &[CaseHistoryEntry]) -> Result<()> {
        let book = self.sla_book(case.tenant).await?;
        if book.policies.is_empty() {
            return Ok(());
        }
        let mark = book.state(case, history, &[], case.created_at).map(|s| SlaMark::of(&s));
        case.set_sla(mark);
        Ok(())
    }

    /// Re-marks an edited case (before it is written) when the edit moves its clock: the
    /// stored history, then `new_entries`, and its follow-ups.
    pub(super) async fn mark_edited_case(&self, case: &mut Case, new_entries: &[CaseHistoryEntry]) -> Result<()> {
        if !new_entries.iter().any(moves_the_clock) {
            return Ok(());
        }
        let book = self.sla_book(case.tenant).await?;
        if book.policies.is_empty() && case.sla().is_none() {
            return Ok(());
        }
        let mut history = self.store.case_history(case.tenant, case.id).await?;
        history.extend_from_slice(new_entries);
        let follow_ups = self.store.follow_ups_of(case.tenant, case.id).await?;
        let mark = book.state(case, &history, &follow_ups, self.clock.now()).map(|s| SlaMark::of(&s));
        case.set_sla(mark);
        Ok(())
    }

    /// The clock's state of a stored case now, and the case re-marked with it (not written).
    pub(super) async fn sla_state_of(&self, book: &SlaBook, case: &Case) -> Result<(Option<SlaState>, Case)> {
        let history = self.store.case_history(case.tenant, case.id).await?;
        let follow_ups = self.store.follow_ups_of(case.tenant, case.id).await?;
        let state = book.state(case, &history, &follow_ups, self.clock.now());
        let mut marked = case.clone();
        marked.set_sla(state.as_ref().map(SlaMark::of));
        Ok((state, marked))
    }

    /// The case `read` re-marked for `added` follow-ups about to be written with it (ADR
    /// 0032): none when none of them is a reply, no policy applies, or the mark stays.
    ///
    /// # Errors
    /// Store failures.
    pub(super) async fn remark_for_replies(&self, read: &Case, added: &[FollowUp]) -> Result<Option<CaseRemark>> {
        let added: Vec<FollowUp> =
            added.iter().filter(|f| f.case == read.id && crate::sla::history::is_reply(f)).cloned().collect();
        if added.is_empty() {
            return Ok(None);
        }
        let book = self.sla_book(read.tenant).await?;
        if book.policies.is_empty() && read.sla().is_none() {
            return Ok(None);
        }
        let history = self.store.case_history(read.tenant, read.id).await?;
        let mut follow_ups = self.store.follow_ups_of(read.tenant, read.id).await?;
        follow_ups.extend(added);
        follow_ups.sort_by_key(|f| (f.at, f.id));
        let state = book.state(read, &history, &follow_ups, self.clock.now());
        let remark = CaseRemark::new(read, state.as_ref().map(SlaMark::of));
        Ok(remark.changes(read).then_some(remark))
    }

    /// Re-marks a stored case from its history now and writes the mark when it changed,
    /// over the version and mark generation it was read at (ADR 0032: a concurrent write
    /// re-marks itself and wins). Returns whether it wrote.
    ///
    /// # Errors
    /// Store failures other than a concurrent write.
    pub async fn refresh_case_sla(&self, tenant: TenantId, id: CaseId) -> Result<bool> {
        let Some(case) = self.store.get_case(tenant, id).await? else {
            return Ok(false);
        };
        let book = self.sla_book(tenant).await?;
        if book.policies.is_empty() && case.sla().is_none() {
            return Ok(false);
        }
        let (_, marked) = self.sla_state_of(&book, &case).await?;
        self.write_mark(&case, &marked).await
    }

    /// Writes `marked`'s mark over `case` (as read) when it differs: alone, without a new
    /// version, compare-and-set on the version and mark generation read. Returns whether
    /// it wrote (false when a concurrent write came first: its own mark is newer).
    pub(super) async fn write_mark(&self, case: &Case, marked: &Case) -> Result<bool> {
        let remark = CaseRemark::new(case, marked.sla().copied());
        if !remark.changes(case) {
            return Ok(false);
        }
        match self.store.remark_case(&remark).await {
            Ok(()) => Ok(true),
            Err(crate::StoreError::Conflict(_) | crate::StoreError::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}

/// How many times a write that re-marks a case is tried when the case moved meanwhile
/// (ADR 0032: each try re-reads the case and recomputes its mark).
pub(super) const REMARK_ATTEMPTS: usize = 8;

/// Whether a store error is a stale version (the case moved since it was read).
pub(super) fn is_stale(e: &crate::StoreError) -> bool {
    matches!(e, crate::StoreError::Conflict(crate::error::Conflict::StaleVersion { .. }))
}

impl Crm {
    /// One round of the SLA timer (ADR 0028): for up to `limit` cases whose timer is due,
    /// across tenants, re-checks the clock now (the policy, the calendar or the history may
    /// have changed since the timer was set), re-marks the case when its mark moved, and
    /// raises each warning and breach reached exactly once (`SlaWarning`, `SlaBreached`),
    /// then sets the timer to the next alarm.
    ///
    /// # Errors
    /// Store failures.
    pub async fn fire_sla_timers(&self, limit: u32) -> Result<super::RoundReport> {
        let now = self.clock.now();
        let timers = self.store.due_sla_timers(now, limit).await?;
        let mut books: std::collections::HashMap<TenantId, SlaBook> = std::collections::HashMap::new();
        let mut raised = 0u32;
        for timer in &timers {
            let (alarms, next) = match self.store.get_case(timer.tenant, timer.case).await? {
                None => (Vec::new(), None),
                Some(case) => {
                    let book = match books.entry(timer.tenant) {
                        std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                        std::collections::hash_map::Entry::Vacant(e) => e.insert(self.sla_book(timer.tenant).await?),
                    };
                    let (state, marked) = self.sla_state_of(book, &case).await?;
                    let alarms = state.map(|s| crate::sla::alarms_due(&case, &s, now)).unwrap_or_default();
                    let next = marked.sla().and_then(|m| m.next_alarm_after(now));
                    self.write_mark(&case, &marked).await?;
                    (alarms, next)
                }
            };
            let events: Vec<crate::event::DomainEvent> = alarms
                .iter()
                .map(|a| crate::event::DomainEvent {
                    id: crate::time::next_id(&*self.ids),
                    tenant: timer.tenant,
                    at: now,
                    actor: None,
                    kind: a.event.clone(),
                    audit: crate::audit::EventAudit::default(),
                })
                .collect();
            raised = raised.saturating_add(self.store.fire_sla_timer(timer, next, &alarms, &events).await?);
        }
        let n = u32::try_from(timers.len()).unwrap_or(u32::MAX);
        Ok(super::RoundReport { claimed: n, done: raised, more: n >= limit && limit > 0, ..Default::default() })
    }
}

impl Crm {
    /// A request for every case of `tenant` to be re-marked (a policy or calendar changed),
    /// for the settings write to record in its own transaction: the `sla-remark` round
    /// sweeps them from the start, a sweep under way starting over.
    pub(super) fn sla_remark_request(&self, tenant: TenantId) -> RemarkRequest {
        let token: crate::ids::EventId = crate::time::next_id(&*self.ids);
        RemarkRequest::new(tenant, token)
    }

    /// One round of re-marking (ADR 0028): for each tenant with a pending re-mark, the next
    /// `limit` cases by number are re-marked from their history with the settings in force,
    /// and the sweep's position kept; done, the request is removed (unless a newer one came
    /// meanwhile: the sweep then starts over).
    ///
    /// # Errors
    /// Store failures.
    pub async fn remark_sla_cases(&self, limit: u32) -> Result<super::RoundReport> {
        use crate::case::{CaseFilter, CaseSort, CaseSortField, SortDirection};
        let mut report = super::RoundReport::default();
        for tenant in self.store.list_tenants().await? {
            let key = RemarkRequest::key_of(tenant.id);
            let Some(value) = self.store.meta(&key).await? else { continue };
            let (token, cursor) = value.split_once(' ').map_or((value.as_str(), None), |(t, c)| (t, Some(c)));
            let book = self.sla_book(tenant.id).await?;
            let sort = CaseSort { field: CaseSortField::Number, direction: SortDirection::Asc };
            let page = crate::page::PageRequest {
                limit: limit.clamp(1, 200),
                after: cursor.map(|c| crate::page::Cursor::from_string(c.to_owned())),
            };
            let scope = crate::access::PrivateScope::All;
            let cases = self.store.list_cases(tenant.id, &CaseFilter::default(), &scope, sort, &page).await?;
            for case in &cases.items {
                let (_, marked) = self.sla_state_of(&book, case).await?;
                if self.write_mark(case, &marked).await? {
                    report.done = report.done.saturating_add(1);
                }
            }
            report.claimed = report.claimed.saturating_add(u32::try_from(cases.items.len()).unwrap_or(u32::MAX));
            // compare-and-set: a newer request that came meanwhile is kept (it starts over)
            let next = cases.next.map(|next| format!("{token} {}", next.as_str()));
            let moved = self.store.replace_meta(&key, &value, next.clone()).await?;
            if !moved || next.is_some() {
                report.more = true;
            }
        }
        Ok(report)
    }
}
