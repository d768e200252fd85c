//! [`InboundMailStore`]: received mails (CAS-8, EML-1), written with their follow-up, case,
//! card and attachments in one transaction, found again by `Message-ID` (idempotency and
//! threading), and the tenant's email rules.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::store::StoreResult;
use crate::event::DomainEvent;
use crate::ids::{CaseId, FollowUpId, TenantId};
use crate::mail::received::{InboundMail, InboundWrite};
use crate::mail::rules::MailRuleSet;

/// Received mails and email rules.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait InboundMailStore: Send + Sync {
    /// Writes everything `write` holds and `events` in ONE transaction: the new card, the
    /// new case and its history, the follow-up, the mail's row, its attachments, the queued
    /// auto-reply and its follow-up. All or nothing.
    ///
    /// # Errors
    /// MUST be `Conflict::Duplicate { field: "message_id" }` when the tenant already has a
    /// received mail with `write.mail.message_id` (nothing written: a redelivery);
    /// `InvalidReference` when the case (not created here) is not the tenant's.
    async fn receive_mail(&self, write: &InboundWrite, events: &[DomainEvent]) -> StoreResult<()>;

    /// The tenant's received mail with this `Message-ID`.
    ///
    /// # Errors
    /// Backend failures only.
    async fn inbound_mail_by_message_id(&self, tenant: TenantId, message_id: &str) -> StoreResult<Option<InboundMail>>;

    /// One received mail of the tenant.
    ///
    /// # Errors
    /// Backend failures only.
    async fn inbound_mail(&self, tenant: TenantId, id: FollowUpId) -> StoreResult<Option<InboundMail>>;

    /// A case's received mails, oldest first.
    ///
    /// # Errors
    /// Backend failures only.
    async fn inbound_mails_of_case(&self, tenant: TenantId, case: CaseId) -> StoreResult<Vec<InboundMail>>;

    /// The case of the first of `refs` (`Message-ID`s, in the caller's order of
    /// preference) that names a mail of the tenant: a received one by its `Message-ID`, or
    /// a sent one by the follow-up id its generated `Message-ID` carries
    /// ([`crate::mail::received::follow_up_of_message_id`]). `None` when none does. MUST
    /// NOT return another tenant's case, nor a deleted case.
    ///
    /// # Errors
    /// Backend failures only.
    async fn case_of_mail_ids(&self, tenant: TenantId, refs: &[String]) -> StoreResult<Option<CaseId>>;

    /// How many auto-replies were queued since `since` for mails from `from` (lower case).
    ///
    /// # Errors
    /// Backend failures only.
    async fn auto_replies_since(&self, tenant: TenantId, from: &str, since: DateTime<Utc>) -> StoreResult<u32>;

    /// The tenant's email rules; `None` while never written.
    ///
    /// # Errors
    /// Backend failures only.
    async fn mail_rules(&self, tenant: TenantId) -> StoreResult<Option<MailRuleSet>>;

    /// Writes the tenant's email rules (`set.version` the next one) over version
    /// `expected_version` (0: none written yet).
    ///
    /// # Errors
    /// MUST be `StaleVersion` when the stored version (0 when none) is not
    /// `expected_version`; nothing written then.
    async fn put_mail_rules(&self, tenant: TenantId, set: &MailRuleSet, expected_version: u64) -> StoreResult<()>;
}
