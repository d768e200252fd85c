//! [`CaseStore`] for [`MemoryStore`]: case numbers, cases, history, lists and follow-ups.

use std::cmp::{Ordering, Reverse};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_core::access::PrivateScope;
use crm_core::case::{
    Case, CaseFilter, CaseHistoryEntry, CaseNumber, CaseSort, CaseSortField, Priority, SortDirection, Visibility,
};
use crm_core::error::StoreError;
use crm_core::event::DomainEvent;
use crm_core::follow_up::FollowUp;
use crm_core::ids::{CaseId, CustomerId, TenantId};
use crm_core::interaction::Interaction;
use crm_core::page::{Page, PageRequest};
use crm_core::ports::{CaseStore, StoreResult};

use super::{MemoryStore, State, check_version, decode_cursor, invalid_reference, limit, paginate};

/// A position in a case list: the sort field it was made for, the sort value (an instant
/// or a priority, depending on the field) and the case number that breaks ties.
type CasePosition = (CaseSortField, Option<DateTime<Utc>>, Option<Priority>, CaseNumber);

fn position(field: CaseSortField, case: &Case) -> CasePosition {
    match field {
        CaseSortField::CreatedAt => (field, Some(case.created_at), None, case.number),
        CaseSortField::UpdatedAt => (field, Some(case.updated_at()), None, case.number),
        CaseSortField::Number => (field, None, None, case.number),
        CaseSortField::Priority => (field, None, Some(case.priority()), case.number),
        CaseSortField::DueNext => (field, case.sla().and_then(|m| m.due_at), None, case.number),
    }
}

/// Whether `case` comes strictly after `cursor` in `sort` order (the same order as
/// [`CaseSort::compare`]).
fn after(sort: CaseSort, case: &Case, cursor: &CasePosition) -> bool {
    let (_, at, priority, number) = position(sort.field, case);
    let ord = if sort.field == CaseSortField::DueNext {
        // no deadline sorts after every deadline (`crm_core::case::due_key`)
        let key = |at: Option<DateTime<Utc>>| at.unwrap_or(DateTime::<Utc>::MAX_UTC);
        (key(at), number).cmp(&(key(cursor.1), cursor.3))
    } else {
        (at, priority, number).cmp(&(cursor.1, cursor.2, cursor.3))
    };
    match sort.direction {
        SortDirection::Asc => ord == Ordering::Greater,
        SortDirection::Desc => ord == Ordering::Less,
    }
}

impl State {
    /// Checks a new case can be inserted with its history and events.
    pub(super) fn check_new_case(&self, case: &Case) -> StoreResult<()> {
        if self.cases.contains_key(&case.id) {
            return Err(StoreError::duplicate("id", case.id.to_string()));
        }
        if self.cases.values().any(|c| c.tenant == case.tenant && c.number == case.number) {
            return Err(StoreError::duplicate("number", case.number.to_string()));
        }
        if !self.customer_exists(case.tenant, case.customer()) {
            return Err(invalid_reference("customer", format_args!("customer {}", case.customer())));
        }
        Ok(())
    }

    pub(super) fn put_case(&mut self, case: &Case, history: &[CaseHistoryEntry]) {
        self.cases.insert(case.id, case.clone());
        match case.sla().and_then(crm_core::sla::SlaMark::first_alarm) {
            Some(at) => self.sla_timers.insert(case.id, (case.tenant, at)),
            None => self.sla_timers.remove(&case.id),
        };
        self.history.entry(case.id).or_default().extend(history.iter().cloned());
    }

    /// Checks a case re-marked apart from an edit (ADR 0032): the row must still have the
    /// version and mark generation it was read at.
    pub(super) fn check_remark(&self, remark: &crm_core::sla::CaseRemark) -> StoreResult<()> {
        let case = remark.case();
        let stored = self.checked_case(case.tenant, case.id, remark.expected_version())?;
        if stored.sla_gen() != remark.expected_sla_gen() {
            return Err(StoreError::stale("case", case.id, remark.expected_version()));
        }
        Ok(())
    }

    /// The stored case of the tenant, checked against `expected`.
    fn checked_case(&self, tenant: TenantId, id: CaseId, expected: u64) -> StoreResult<&Case> {
        let stored =
            self.cases.get(&id).filter(|c| c.tenant == tenant).ok_or_else(|| StoreError::not_found("case", id))?;
        check_version("case", id, stored.version(), expected)?;
        Ok(stored)
    }
}

#[async_trait]
impl CaseStore for MemoryStore {
    async fn next_case_number(&self, tenant: TenantId) -> StoreResult<CaseNumber> {
        let mut state = self.write()?;
        let seq = state.case_sequences.entry(tenant).or_insert(0);
        *seq += 1;
        Ok(CaseNumber::new(*seq))
    }

    async fn insert_case(&self, case: &Case, history: &[CaseHistoryEntry], events: &[DomainEvent]) -> StoreResult<()> {
        let mut state = self.write()?;
        state.check_new_case(case)?;
        let rows = state.stage_events(events)?;
        state.put_case(case, history);
        state.commit_events(rows);
        Ok(())
    }

    async fn insert_case_from_interaction(
        &self,
        case: &Case,
        history: &[CaseHistoryEntry],
        interaction: &Interaction,
        interaction_expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let mut state = self.write()?;
        state.check_new_case(case)?;
        let stored = state
            .interactions
            .get(&interaction.id)
            .filter(|i| i.tenant == case.tenant && interaction.tenant == case.tenant)
            .ok_or_else(|| StoreError::not_found("interaction", interaction.id))?;
        check_version("interaction", interaction.id, stored.version(), interaction_expected_version)?;
        let rows = state.stage_events(events)?;
        state.put_case(case, history);
        state.interactions.insert(interaction.id, interaction.clone());
        state.commit_events(rows);
        Ok(())
    }

    async fn update_case(
        &self,
        case: &Case,
        expected_version: u64,
        history: &[CaseHistoryEntry],
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let mut state = self.write()?;
        let stored = state.checked_case(case.tenant, case.id, expected_version)?;
        if stored.sla_gen() != case.sla_gen() {
            return Err(StoreError::stale("case", case.id, expected_version));
        }
        if !state.customer_exists(case.tenant, case.customer()) {
            return Err(invalid_reference("customer", format_args!("customer {}", case.customer())));
        }
        let rows = state.stage_events(events)?;
        state.put_case(case, history);
        state.commit_events(rows);
        Ok(())
    }

    async fn get_deleted_case(&self, tenant: TenantId, id: CaseId) -> StoreResult<Option<Case>> {
        let state = self.read()?;
        Ok(state.cases.get(&id).filter(|c| c.tenant == tenant && c.is_deleted()).cloned())
    }

    async fn get_case(&self, tenant: TenantId, id: CaseId) -> StoreResult<Option<Case>> {
        let state = self.read()?;
        Ok(state.cases.get(&id).filter(|c| c.tenant == tenant && !c.is_deleted()).cloned())
    }

    async fn get_case_by_number(&self, tenant: TenantId, number: CaseNumber) -> StoreResult<Option<Case>> {
        let state = self.read()?;
        Ok(state.cases.values().find(|c| c.tenant == tenant && c.number == number && !c.is_deleted()).cloned())
    }

    async fn list_cases(
        &self,
        tenant: TenantId,
        filter: &CaseFilter,
        scope: &PrivateScope,
        sort: CaseSort,
        page: &PageRequest,
    ) -> StoreResult<Page<Case>> {
        let cursor: Option<CasePosition> = decode_cursor(page)?;
        if cursor.as_ref().is_some_and(|c| c.0 != sort.field) {
            return Err(StoreError::InvalidReference {
                field: "cursor".into(),
                reason: "the cursor was made for another sort order".into(),
            });
        }
        let state = self.read()?;
        let mut found: Vec<&Case> = state
            .cases
            .values()
            .filter(|c| c.tenant == tenant && !c.is_deleted() && filter.matches(c, scope))
            .filter(|c| cursor.as_ref().is_none_or(|p| after(sort, c, p)))
            .collect();
        found.sort_by(|a, b| sort.compare(a, b));
        Ok(paginate(found, page, |c: &Case| position(sort.field, c)))
    }

    async fn open_cases_of(
        &self,
        tenant: TenantId,
        customer: CustomerId,
        scope: &PrivateScope,
        limit_: u32,
    ) -> StoreResult<Vec<Case>> {
        let state = self.read()?;
        let mut found: Vec<&Case> = state
            .cases
            .values()
            .filter(|c| c.tenant == tenant && c.customer() == customer && c.status().is_open() && !c.is_deleted())
            .filter(|c| c.visibility() != Visibility::Private || scope.admits(c.assignee(), c.group()))
            .collect();
        found.sort_by_key(|c| (Reverse(c.updated_at()), Reverse(c.number)));
        Ok(found.into_iter().take(limit(limit_)).cloned().collect())
    }

    async fn case_history(&self, tenant: TenantId, case: CaseId) -> StoreResult<Vec<CaseHistoryEntry>> {
        let state = self.read()?;
        let mut entries: Vec<CaseHistoryEntry> =
            state.history.get(&case).into_iter().flatten().filter(|e| e.tenant == tenant).cloned().collect();
        // Stable: entries of one version and field keep their insertion order.
        entries.sort_by(|a, b| (a.version, &a.field).cmp(&(b.version, &b.field)));
        Ok(entries)
    }

    async fn insert_follow_up(
        &self,
        follow_up: &FollowUp,
        remarks: &[crm_core::sla::CaseRemark],
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let mut state = self.write()?;
        if !state.case_exists(follow_up.tenant, follow_up.case) {
            return Err(invalid_reference("case", format_args!("case {}", follow_up.case)));
        }
        if state.follow_ups.contains_key(&follow_up.id) {
            return Err(StoreError::duplicate("id", follow_up.id.to_string()));
        }
        for r in remarks {
            state.check_remark(r)?;
        }
        let rows = state.stage_events(events)?;
        for r in remarks {
            state.put_case(r.case(), &[]);
        }
        state.follow_ups.insert(follow_up.id, follow_up.clone());
        state.commit_events(rows);
        Ok(())
    }

    async fn follow_ups_of(&self, tenant: TenantId, case: CaseId) -> StoreResult<Vec<FollowUp>> {
        let state = self.read()?;
        let mut found: Vec<&FollowUp> =
            state.follow_ups.values().filter(|f| f.tenant == tenant && f.case == case).collect();
        found.sort_by_key(|f| (f.at, f.id));
        Ok(found.into_iter().cloned().collect())
    }
}
