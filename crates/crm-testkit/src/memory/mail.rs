//! [`MailStore`] for [`MemoryStore`]: the queued mails with their lease, written with their
//! follow-up and events under the one lock.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crm_core::error::{Conflict, StoreError};
use crm_core::event::DomainEvent;
use crm_core::follow_up::FollowUp;
use crm_core::ids::{CaseId, FollowUpId, TenantId};
use crm_core::mail::{CaseMail, MailState};
use crm_core::ports::{MailStore, StoreResult};

use super::{MemoryStore, invalid_reference};

/// A mail and the lease the port does not expose.
#[derive(Clone, Debug)]
pub(crate) struct MailRow {
    pub(crate) mail: CaseMail,
    pub(crate) leased_until: Option<DateTime<Utc>>,
}

#[async_trait]
impl MailStore for MemoryStore {
    async fn queue_mail(
        &self,
        follow_up: &FollowUp,
        mail: &CaseMail,
        remarks: &[crm_core::sla::CaseRemark],
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let mut state = self.write()?;
        if !state.case_exists(follow_up.tenant, follow_up.case) {
            return Err(invalid_reference("case", format_args!("case {}", follow_up.case)));
        }
        if state.follow_ups.contains_key(&follow_up.id) || state.mails.contains_key(&mail.id) {
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
        state.mails.insert(mail.id, MailRow { mail: mail.clone(), leased_until: None });
        state.commit_events(rows);
        Ok(())
    }

    async fn claim_mails(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<CaseMail>> {
        let mut state = self.write()?;
        let mut due: Vec<&mut MailRow> = state
            .mails
            .values_mut()
            .filter(|r| {
                r.mail.state == MailState::Queued
                    && r.mail.next_attempt_at <= now
                    && r.leased_until.is_none_or(|l| l <= now)
            })
            .collect();
        due.sort_by_key(|r| (r.mail.next_attempt_at, r.mail.id));
        Ok(due
            .into_iter()
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .map(|r| {
                r.leased_until = Some(lease_until);
                r.mail.clone()
            })
            .collect())
    }

    async fn mail_sent(&self, id: FollowUpId, reply: &str, at: DateTime<Utc>) -> StoreResult<()> {
        let mut state = self.write()?;
        let row = state.mails.get_mut(&id).ok_or_else(|| StoreError::not_found("mail", id))?;
        row.mail.state = MailState::Sent;
        row.mail.reply = Some(reply.to_owned());
        row.mail.sent_at = Some(at);
        row.leased_until = None;
        Ok(())
    }

    async fn mail_failed(&self, id: FollowUpId, reply: &str, retry_at: Option<DateTime<Utc>>) -> StoreResult<()> {
        let mut state = self.write()?;
        let row = state.mails.get_mut(&id).ok_or_else(|| StoreError::not_found("mail", id))?;
        row.mail.attempts += 1;
        row.mail.reply = Some(reply.to_owned());
        row.leased_until = None;
        match retry_at {
            Some(at) => row.mail.next_attempt_at = at,
            None => row.mail.state = MailState::Failed,
        }
        Ok(())
    }

    async fn requeue_mail(&self, tenant: TenantId, id: FollowUpId, now: DateTime<Utc>) -> StoreResult<CaseMail> {
        let mut state = self.write()?;
        let row = state
            .mails
            .get_mut(&id)
            .filter(|r| r.mail.tenant == tenant)
            .ok_or_else(|| StoreError::not_found("mail", id))?;
        if row.mail.state != MailState::Failed {
            return Err(Conflict::State(format!("mail {id} is {}, not failed", row.mail.state.as_str())).into());
        }
        row.mail.state = MailState::Queued;
        row.mail.next_attempt_at = now;
        row.leased_until = None;
        Ok(row.mail.clone())
    }

    async fn mail(&self, tenant: TenantId, id: FollowUpId) -> StoreResult<Option<CaseMail>> {
        let state = self.read()?;
        Ok(state.mails.get(&id).filter(|r| r.mail.tenant == tenant).map(|r| r.mail.clone()))
    }

    async fn last_message_ids(&self, tenant: TenantId, case: CaseId, max: u32) -> StoreResult<Vec<String>> {
        let state = self.read()?;
        let mut found: Vec<&CaseMail> =
            state.mails.values().map(|r| &r.mail).filter(|m| m.tenant == tenant && m.case == case).collect();
        found.sort_by_key(|m| (m.queued_at, m.id));
        let start = found.len().saturating_sub(usize::try_from(max).unwrap_or(usize::MAX));
        Ok(found[start..].iter().map(|m| m.message_id.clone()).collect())
    }

    async fn mails_of_case(&self, tenant: TenantId, case: CaseId) -> StoreResult<Vec<CaseMail>> {
        let state = self.read()?;
        let mut found: Vec<&CaseMail> =
            state.mails.values().map(|r| &r.mail).filter(|m| m.tenant == tenant && m.case == case).collect();
        found.sort_by_key(|m| (m.queued_at, m.id));
        Ok(found.into_iter().cloned().collect())
    }

    async fn mails_in_state(&self, tenant: TenantId, state: MailState, limit: u32) -> StoreResult<Vec<CaseMail>> {
        let s = self.read()?;
        let mut found: Vec<&CaseMail> =
            s.mails.values().map(|r| &r.mail).filter(|m| m.tenant == tenant && m.state == state).collect();
        found.sort_by_key(|m| (m.queued_at, m.id));
        Ok(found.into_iter().take(usize::try_from(limit).unwrap_or(usize::MAX)).cloned().collect())
    }
}
