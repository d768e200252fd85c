//! [`MailStore`]: the mails sent from cases (EML-2, CAS-7): queued with their follow-up in
//! one transaction, claimed with a lease by the mail worker, marked sent or failed.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::store::StoreResult;
use crate::event::DomainEvent;
use crate::follow_up::FollowUp;
use crate::ids::{CaseId, FollowUpId, TenantId};
use crate::mail::{CaseMail, MailState};

/// The outgoing mail queue and the case's mails.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait MailStore: Send + Sync {
    /// Writes the follow-up, its mail (state queued), the case re-marked for the reply
    /// (`remark`, ADR 0032) and `events` in ONE transaction: all or nothing.
    ///
    /// # Errors
    /// `InvalidReference` when the case is not the tenant's and `StaleVersion` for a stale
    /// `remark` (as [`crate::ports::CaseStore::insert_follow_up`]); `Duplicate` for a
    /// follow-up id already used.
    async fn queue_mail(
        &self,
        follow_up: &FollowUp,
        mail: &CaseMail,
        remarks: &[crate::sla::CaseRemark],
        events: &[DomainEvent],
    ) -> StoreResult<()>;

    /// Claims up to `limit` queued mails due at `now`, oldest due first, across tenants,
    /// leasing each until `lease_until`: a leased mail is not returned to another caller
    /// before then (two workers never send one mail at once).
    async fn claim_mails(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<CaseMail>>;

    /// Records the mail server's acceptance: state sent, its reply, when.
    ///
    /// # Errors
    /// `NotFound`.
    async fn mail_sent(&self, id: FollowUpId, reply: &str, at: DateTime<Utc>) -> StoreResult<()>;

    /// Records a failed attempt: `attempts + 1`, the reply, and either the next attempt at
    /// `retry_at` (still queued) or, with `None`, the dead letter (state failed).
    ///
    /// # Errors
    /// `NotFound`.
    async fn mail_failed(&self, id: FollowUpId, reply: &str, retry_at: Option<DateTime<Utc>>) -> StoreResult<()>;

    /// Puts a failed mail back in the queue, due at `now`, its lease and attempts kept.
    ///
    /// # Errors
    /// `NotFound` (also for another tenant's mail); `Conflict(State)` unless failed.
    async fn requeue_mail(&self, tenant: TenantId, id: FollowUpId, now: DateTime<Utc>) -> StoreResult<CaseMail>;

    /// One mail of the tenant.
    async fn mail(&self, tenant: TenantId, id: FollowUpId) -> StoreResult<Option<CaseMail>>;

    /// The `Message-ID`s of a case's last `max` mails, oldest first (what a notify's
    /// `In-Reply-To` and `References` name): only those, not the mails.
    async fn last_message_ids(&self, tenant: TenantId, case: CaseId, max: u32) -> StoreResult<Vec<String>>;

    /// A case's mails, oldest first.
    async fn mails_of_case(&self, tenant: TenantId, case: CaseId) -> StoreResult<Vec<CaseMail>>;

    /// The tenant's mails in a state, oldest queued first, at most `limit` (the dead letters
    /// with `Failed`).
    async fn mails_in_state(&self, tenant: TenantId, state: MailState, limit: u32) -> StoreResult<Vec<CaseMail>>;
}
