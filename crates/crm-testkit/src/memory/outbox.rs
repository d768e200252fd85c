//! [`OutboxStore`] for [`MemoryStore`]: leased claims, delivery outcomes, dead letters.

use std::cmp::Reverse;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_core::error::{Conflict, StoreError};
use crm_core::event::{DomainEvent, OutboxEntry, OutboxStatus, Topic};
use crm_core::ids::{EventId, TenantId};
use crm_core::page::{Page, PageRequest};
use crm_core::ports::{OutboxStore, StoreResult};
use crm_core::search::FeedPosition;

use super::{MemoryStore, OutboxRow, decode_cursor, limit, paginate};

#[async_trait]
impl OutboxStore for MemoryStore {
    async fn claim_outbox(
        &self,
        topic: Topic,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit_: u32,
    ) -> StoreResult<Vec<OutboxEntry>> {
        let mut state = self.write()?;
        let mut due: Vec<(DateTime<Utc>, EventId)> = state
            .outbox
            .values()
            .filter(|r| r.entry.topic == topic && r.entry.status == OutboxStatus::Pending)
            .filter(|r| r.entry.next_attempt_at <= now && r.leased_until.is_none_or(|l| l <= now))
            .map(|r| (r.entry.event.at, r.entry.event.id))
            .collect();
        // Oldest first: by event time, then id.
        due.sort();
        due.truncate(limit(limit_));
        let mut claimed = Vec::with_capacity(due.len());
        for (_, id) in due {
            if let Some(row) = state.outbox.get_mut(&id) {
                row.leased_until = Some(lease_until);
                claimed.push(row.entry.clone());
            }
        }
        Ok(claimed)
    }

    async fn mark_delivered(&self, id: EventId) -> StoreResult<()> {
        let mut state = self.write()?;
        let row = state.outbox.get_mut(&id).ok_or_else(|| StoreError::not_found("outbox entry", id))?;
        row.entry.status = OutboxStatus::Delivered;
        row.leased_until = None;
        Ok(())
    }

    async fn events_after(&self, after: &FeedPosition, limit_: u32) -> StoreResult<Vec<DomainEvent>> {
        let state = self.read()?;
        let mut events: Vec<&DomainEvent> =
            state.outbox.values().map(|r| &r.entry.event).filter(|e| FeedPosition::of(e) > *after).collect();
        events.sort_by_key(|e| FeedPosition::of(e));
        Ok(events.into_iter().take(limit(limit_)).cloned().collect())
    }

    async fn prune_delivered(&self, before: DateTime<Utc>, max: u32) -> StoreResult<u64> {
        let mut state = self.write()?;
        let old: Vec<EventId> = state
            .outbox
            .values()
            .filter(|r| r.entry.status == OutboxStatus::Delivered && r.entry.event.at < before)
            .map(|r| r.entry.event.id)
            .take(max as usize)
            .collect();
        for id in &old {
            state.outbox.remove(id);
        }
        Ok(old.len() as u64)
    }

    async fn mark_failed(&self, id: EventId, error: &str, retry_at: Option<DateTime<Utc>>) -> StoreResult<()> {
        let mut state = self.write()?;
        let row = state.outbox.get_mut(&id).ok_or_else(|| StoreError::not_found("outbox entry", id))?;
        row.entry.attempts = row.entry.attempts.saturating_add(1);
        row.entry.last_error = Some(error.to_owned());
        row.leased_until = None;
        match retry_at {
            Some(at) => {
                row.entry.status = OutboxStatus::Pending;
                row.entry.next_attempt_at = at;
            }
            None => row.entry.status = OutboxStatus::Dead,
        }
        Ok(())
    }

    async fn requeue(&self, tenant: TenantId, id: EventId, now: DateTime<Utc>) -> StoreResult<()> {
        let mut state = self.write()?;
        let row: &mut OutboxRow = state
            .outbox
            .get_mut(&id)
            .filter(|r| r.entry.event.tenant == tenant)
            .ok_or_else(|| StoreError::not_found("outbox entry", id))?;
        if row.entry.status != OutboxStatus::Dead {
            return Err(Conflict::State(format!("outbox entry {id} is not dead")).into());
        }
        row.entry.status = OutboxStatus::Pending;
        row.entry.next_attempt_at = now;
        row.leased_until = None;
        Ok(())
    }

    async fn list_outbox(
        &self,
        tenant: TenantId,
        status: Option<OutboxStatus>,
        page: &PageRequest,
    ) -> StoreResult<Page<OutboxEntry>> {
        let cursor: Option<(DateTime<Utc>, EventId)> = decode_cursor(page)?;
        let state = self.read()?;
        let mut found: Vec<&OutboxEntry> = state
            .outbox
            .values()
            .map(|r| &r.entry)
            .filter(|e| e.event.tenant == tenant && status.is_none_or(|s| e.status == s))
            .filter(|e| cursor.is_none_or(|c| (e.event.at, e.event.id) < c))
            .collect();
        // Newest first: by event time, then id, both descending.
        found.sort_by_key(|e| Reverse((e.event.at, e.event.id)));
        Ok(paginate(found, page, |e: &OutboxEntry| (e.event.at, e.event.id)))
    }
}
