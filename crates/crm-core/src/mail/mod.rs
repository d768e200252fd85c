//! Mail in and out. Out (EML-2, CAS-7): a notify on a case is a follow-up (FUP-1) and a queued mail
//! written in one transaction; the `mail` worker sends it through the [`crate::ports::Mailer`]
//! port, with the `Message-ID` fixed when it was queued, retries with backoff and a dead
//! letter (`failed`) a person can requeue. In (CAS-8, EML-1): [`inbound`] parses a raw
//! message, [`received`] is what is stored of it, [`rules`] are the tenant's email rules.

mod html;
pub mod inbound;
mod parts;
pub mod received;
pub mod rules;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use html::{case_number_in_subject, escape_html, html_to_text, sanitize_html, subject_tag, tagged_subject};
pub use parts::{MAX_MAIL_ATTACHMENT_BYTES, MAX_MAIL_ATTACHMENTS, MailAttachment};

use crate::attachment::Attachment;
use crate::case::CaseNumber;
use crate::customer::EmailAddress;
use crate::error::{FieldError, ValidationErrors, Validator};
use crate::ids::{AttachmentId, CaseId, FollowUpId, TenantId};
use crate::ports::OutgoingMail;
use crate::text::bounded_text;

/// The longest subject.
pub const MAX_SUBJECT: usize = 998;
/// The largest HTML body (bytes, before sanitising).
pub const MAX_MAIL_BODY: usize = 1_000_000;
/// The most recipients (To, Cc and Bcc together).
pub const MAX_RECIPIENTS: usize = 100;
/// How many earlier `Message-ID`s a notify names in `References`.
pub const MAX_REFERENCES: usize = 20;

/// Where a mail is on its way out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MailState {
    /// Waiting for the worker (also after a failure that will be retried).
    Queued,
    /// Accepted by the mail server.
    Sent,
    /// Given up (a permanent refusal or too many failures): a dead letter, requeued by hand.
    Failed,
}

impl MailState {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            MailState::Queued => "queued",
            MailState::Sent => "sent",
            MailState::Failed => "failed",
        }
    }
}

/// A mail sent from a case, with its delivery state: the follow-up of the same id is its
/// entry in the case's history (FUP-1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaseMail {
    /// Its id, the id of its follow-up.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: FollowUpId,
    /// Its tenant.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub tenant: TenantId,
    /// The case.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub case: CaseId,
    /// `Message-ID`, fixed when queued (a resend after a crash carries the same one).
    pub message_id: String,
    /// `In-Reply-To`: the case's latest earlier mail.
    pub in_reply_to: Option<String>,
    /// `References`: the case's earlier mails, oldest first.
    pub references: Vec<String>,
    /// From.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub from: EmailAddress,
    /// To.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub to: Vec<EmailAddress>,
    /// Cc.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub cc: Vec<EmailAddress>,
    /// Bcc.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub bcc: Vec<EmailAddress>,
    /// Subject, tagged with the case number.
    pub subject: String,
    /// The sanitised HTML part (signature included).
    pub html_body: String,
    /// The plain-text part generated from it.
    pub text_body: String,
    /// Delivery state.
    pub state: MailState,
    /// Failed attempts so far.
    pub attempts: u32,
    /// Not before this instant (while queued).
    pub next_attempt_at: DateTime<Utc>,
    /// The mail server's last reply (its acceptance, or why it failed).
    pub reply: Option<String>,
    /// Queued at.
    pub queued_at: DateTime<Utc>,
    /// Accepted by the server at.
    pub sent_at: Option<DateTime<Utc>>,
    /// An auto-reply of the email rules (sent with `Auto-Submitted: auto-replied`), not a
    /// person's mail.
    #[serde(default)]
    pub auto_submitted: bool,
    /// The stored attachments it carries (attached, or inline images).
    #[serde(default)]
    pub attachments: Vec<MailAttachment>,
}

impl CaseMail {
    /// What the [`crate::ports::Mailer`] sends.
    pub fn outgoing(&self) -> OutgoingMail {
        OutgoingMail {
            from: self.from.clone(),
            to: self.to.clone(),
            cc: self.cc.clone(),
            bcc: self.bcc.clone(),
            subject: self.subject.clone(),
            html_body: self.html_body.clone(),
            text_body: self.text_body.clone(),
            message_id: self.message_id.clone(),
            in_reply_to: self.in_reply_to.clone(),
            references: self.references.clone(),
            auto_submitted: self.auto_submitted,
            parts: Vec::new(),
        }
    }
}

/// What an agent sends to notify the customer of a case (CAS-7). Absent fields take their
/// defaults: From the agent's default address, To the customer's first address, the
/// subject the case's own.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NotifyRequest {
    /// From: the agent's default address or a shared address of one of its groups.
    #[serde(default)]
    pub from: Option<String>,
    /// To (default: the customer's first email address).
    #[serde(default)]
    pub to: Option<Vec<String>>,
    /// Cc.
    #[serde(default)]
    pub cc: Vec<String>,
    /// Bcc.
    #[serde(default)]
    pub bcc: Vec<String>,
    /// Subject (default: the case's); the case tag `[#CS-000123]` is put in front.
    #[serde(default)]
    pub subject: Option<String>,
    /// The HTML body (sanitised).
    pub html: String,
    /// Append the agent's signature (default true).
    #[serde(default)]
    pub signature: Option<bool>,
    /// Stored attachments of the case or its follow-ups to send with it (at most 20, 18 MiB
    /// together). An image the HTML shows as `<img src="cid:<its id>">` goes inline.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub attachments: Vec<AttachmentId>,
}

/// What a notify form offers the agent (CAS-7, [`crate::service::Crm::notify_choices`]): the
/// From addresses it may use, its default first; the customer's addresses, the default To
/// first; the tag the subject gets and the case's subject (the default one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotifyChoices {
    /// Every From the agent may use, the default first, each once.
    pub from: Vec<EmailAddress>,
    /// The customer's addresses (the first is the default To).
    pub to: Vec<EmailAddress>,
    /// The case tag put in front of the subject (`[#CS-000123]`).
    pub tag: String,
    /// The case's subject.
    pub subject: String,
}

/// What the use case knows when it builds a notify: the defaults and what the agent may use.
#[derive(Clone, Debug)]
pub struct NotifyContext<'a> {
    /// The case number.
    pub number: CaseNumber,
    /// The case's subject.
    pub case_subject: &'a str,
    /// The agent's default From.
    pub default_from: Option<&'a EmailAddress>,
    /// Every From the agent may use (its own addresses and its groups' shared ones).
    pub allowed_from: &'a [EmailAddress],
    /// The customer's addresses (the first is the default To).
    pub customer_addresses: &'a [EmailAddress],
    /// The agent's signature.
    pub signature: Option<&'a str>,
    /// The case's earlier mails' `Message-ID`s, oldest first.
    pub earlier: &'a [String],
    /// The requested attachments found on the case (the request's other ids are not).
    pub attachments: &'a [Attachment],
}

fn addresses(v: &mut Validator, field: &str, input: &[String]) -> Vec<EmailAddress> {
    input
        .iter()
        .enumerate()
        .filter_map(|(i, a)| {
            v.check(EmailAddress::parse(a).map_err(|e| FieldError::new(format!("{field}[{i}]"), e.reason)))
        })
        .collect()
}

/// The `Message-ID` of a queued mail: its id at the From address's domain.
pub fn message_id(id: FollowUpId, from: &EmailAddress) -> String {
    let domain = from.as_str().rsplit_once('@').map_or("localhost", |(_, d)| d);
    format!("<{}@{}>", id.as_uuid(), domain.to_ascii_lowercase())
}

impl NotifyRequest {
    /// Validates into a queued mail.
    ///
    /// # Errors
    /// Every bad field, named: an address that does not parse or is longer than 254
    /// characters, a From the agent may not use, no recipient, a subject with a line break
    /// (header injection) or too long, an empty or oversized body, an attachment that is
    /// not the case's, named twice, too many or too large together.
    pub fn build(
        self,
        ctx: &NotifyContext<'_>,
        id: FollowUpId,
        tenant: TenantId,
        case: CaseId,
        now: DateTime<Utc>,
    ) -> Result<CaseMail, ValidationErrors> {
        let mut v = Validator::new();
        let from = match &self.from {
            Some(f) => v.check(EmailAddress::parse(f).map_err(|e| FieldError::new("from", e.reason))).and_then(|f| {
                if ctx.allowed_from.iter().any(|a| a.key() == f.key()) {
                    Some(f)
                } else {
                    v.push(FieldError::new("from", "is not your address or a shared address of one of your groups"));
                    None
                }
            }),
            None => {
                let d = ctx.default_from.cloned();
                if d.is_none() {
                    v.push(FieldError::new("from", "is required: you have no default From address"));
                }
                d
            }
        };
        let to = match &self.to {
            Some(to) => addresses(&mut v, "to", to),
            None => ctx.customer_addresses.first().cloned().into_iter().collect(),
        };
        match &self.to {
            Some(given) if given.is_empty() => v.push(FieldError::new("to", "at least one recipient is needed")),
            None if to.is_empty() => {
                v.push(FieldError::new("to", "is required: the customer has no email address"));
            }
            _ => {}
        }
        let cc = addresses(&mut v, "cc", &self.cc);
        let bcc = addresses(&mut v, "bcc", &self.bcc);
        let count = self.to.as_ref().map_or(to.len(), Vec::len) + self.cc.len() + self.bcc.len();
        if count > MAX_RECIPIENTS {
            v.push(FieldError::new("to", format!("at most {MAX_RECIPIENTS} recipients, got {count}")));
        }
        let subject = self.subject.as_deref().unwrap_or(ctx.case_subject);
        if subject.contains(['\r', '\n']) {
            v.push(FieldError::new("subject", "must be one line (no line breaks)"));
        }
        let subject = v.check(bounded_text("subject", subject, MAX_SUBJECT - 20));
        if self.html.len() > MAX_MAIL_BODY {
            v.push(FieldError::new("html", format!("must be at most {MAX_MAIL_BODY} bytes")));
        }
        let mut html = sanitize_html(&self.html);
        let text = html_to_text(&html);
        if text.trim().is_empty() && !html.contains("<img") {
            v.push(FieldError::new("html", "must not be empty"));
        }
        let attachments = parts::mail_attachments(&mut v, &self.attachments, ctx.attachments, &html);
        v.finish()?;
        let Some(from) = from else { return Err(FieldError::new("from", "is required").into()) };
        if self.signature.unwrap_or(true)
            && let Some(sig) = ctx.signature.filter(|s| !s.trim().is_empty())
        {
            html.push_str("<p>-- <br>");
            html.push_str(&escape_html(sig.trim()));
            html.push_str("</p>");
        }
        let text_body = html_to_text(&html);
        let start = ctx.earlier.len().saturating_sub(MAX_REFERENCES);
        Ok(CaseMail {
            id,
            tenant,
            case,
            message_id: message_id(id, &from),
            in_reply_to: ctx.earlier.last().cloned(),
            references: ctx.earlier[start..].to_vec(),
            from,
            to,
            cc,
            bcc,
            subject: tagged_subject(ctx.number, &subject.unwrap_or_default()),
            html_body: html,
            text_body,
            state: MailState::Queued,
            attempts: 0,
            next_attempt_at: now,
            reply: None,
            queued_at: now,
            sent_at: None,
            auto_submitted: false,
            attachments,
        })
    }
}

#[cfg(test)]
mod tests;
