//! A received mail as stored (CAS-8): its row beside its follow-up (kind `inbound_email`),
//! how it was threaded, and the raw original kept in the blob store (downloadable as
//! `.eml`). What [`crate::ports::InboundMailStore::receive_mail`] writes in one transaction
//! is an [`InboundWrite`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::inbound::{Automatic, ParsedMail};
use super::{CaseMail, case_number_in_subject};
use crate::attachment::Attachment;
use crate::case::{Case, CaseHistoryEntry};
use crate::customer::Customer;
use crate::follow_up::FollowUp;
use crate::ids::{CaseId, FollowUpId, TenantId};
use crate::ports::BlobKey;

/// How a received mail found its case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Threading {
    /// The case number tag in its subject (`[#CS-000123]`, any rendering).
    SubjectTag,
    /// `In-Reply-To` or `References` named a mail of the case (sent or received).
    Reference,
    /// A new case, made by the rules.
    NewCase,
}

/// A received mail, stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InboundMail {
    /// Its id, the id of its follow-up.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: FollowUpId,
    /// Its tenant.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub tenant: TenantId,
    /// The case it is on.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub case: CaseId,
    /// `Message-ID` (unique per tenant: a redelivery is the same mail).
    pub message_id: String,
    /// `In-Reply-To` and `References`, newest first.
    pub thread_ids: Vec<String>,
    /// The sender's address (lower case), when it parsed.
    pub from: Option<String>,
    /// To.
    pub to: Vec<String>,
    /// Cc.
    pub cc: Vec<String>,
    /// Subject.
    pub subject: String,
    /// Sent by a machine (never answered).
    pub automatic: Option<Automatic>,
    /// How it found its case.
    pub threading: Threading,
    /// The rules that matched (for a new case).
    pub rules: Vec<String>,
    /// Whether an auto-reply was queued for it.
    pub auto_replied: bool,
    /// What was dropped or cut on parsing.
    pub notes: Vec<String>,
    /// The raw original in the blob store (SHA-256), when kept.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub raw: Option<BlobKey>,
    /// Its size in bytes.
    pub size: u64,
    /// Received at.
    pub received_at: DateTime<Utc>,
}

/// Everything one received mail writes, in ONE transaction: the card of an unknown sender,
/// a new case, the follow-up, the mail's row, its attachments, an auto-reply to queue.
#[derive(Clone, Debug, PartialEq)]
pub struct InboundWrite {
    /// A new card for an unknown sender.
    pub new_customer: Option<Customer>,
    /// A new case with its first history entries.
    pub new_case: Option<(Case, Vec<CaseHistoryEntry>)>,
    /// The follow-up (kind `inbound_email`).
    pub follow_up: FollowUp,
    /// The mail's row.
    pub mail: InboundMail,
    /// The mail's attachments, on the follow-up.
    pub attachments: Vec<Attachment>,
    /// An auto-reply queued (with its own follow-up) for the `mail` worker.
    pub auto_reply: Option<(FollowUp, CaseMail)>,
    /// The existing case re-marked for the reply (ADR 0032): written over the row it was
    /// read from, or the whole write is refused as stale.
    pub remark: Option<crate::sla::CaseRemark>,
}

/// What receiving a mail did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReceivedMail {
    /// The mail as stored (the earlier one, for a redelivery).
    pub mail: InboundMail,
    /// True when this Message-ID had been received before: nothing was written.
    pub duplicate: bool,
    /// Whether a case was created for it.
    pub created_case: bool,
    /// The customer's card was created for an unknown sender.
    pub created_customer: bool,
    /// The attachments stored.
    pub attachments: u32,
}

/// The case a mail's subject is tagged with, by number (threading's first rule).
pub fn subject_case_number(mail: &ParsedMail) -> Option<crate::case::CaseNumber> {
    case_number_in_subject(&mail.subject)
}

/// The follow-up id a `Message-ID` this engine generated names (`<uuid@domain>`, see
/// [`super::message_id`]); `None` for any other form.
pub fn follow_up_of_message_id(id: &str) -> Option<FollowUpId> {
    let inner = id.trim().trim_start_matches('<').trim_end_matches('>');
    let (local, _) = inner.split_once('@')?;
    uuid::Uuid::parse_str(local).ok().map(FollowUpId::from_uuid)
}
