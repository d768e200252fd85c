//! Mail out (CAS-7, EML-2, FUP-1): notify a case's customer, the case's mails with their
//! delivery state, the mail queue's dead letters and their requeue, and the `mail` worker's
//! round that sends queued mails through the [`Mailer`] port.
//!
//! Exactly once, as far as SMTP allows: the mail and its follow-up are written in one
//! transaction; the worker leases a mail before sending it, so two replicas never send it at
//! once; its `Message-ID` was fixed when queued, so the one case left (the server accepted
//! the mail and the replica died before recording it) resends the same message, which
//! receivers and their threading see as one.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;

use super::Crm;
use super::delivery::{DeliveryReport, RetryPolicy};
use super::workers::{RoundReport, Worker};
use crate::access::{Actor, Permission};
use crate::attachment::Attachment;
use crate::case::Visibility;
use crate::customer::{EmailAddress, Identity};
use crate::error::{Error, Result};
use crate::event::EventKind;
use crate::follow_up::{FollowUp, FollowUpKind};
use crate::ids::{CaseId, FollowUpId};
use crate::mail::{
    CaseMail, MAX_MAIL_ATTACHMENTS, MAX_REFERENCES, MailState, NotifyChoices, NotifyContext, NotifyRequest,
};
use crate::ports::{BlobError, MailError, Mailer, OutgoingMail, OutgoingPart};
use crate::time::{next_id, span};

/// The tunables of the mail worker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailSettings {
    /// How often the queue is polled when idle.
    pub poll_interval: Duration,
    /// How long a claimed mail is leased (longer than an SMTP transaction may take).
    pub lease: Duration,
    /// Mails per round.
    pub batch: u32,
    /// Mails of a round in flight at once (the relay's connection pool should hold as
    /// many connections).
    pub concurrency: usize,
    /// When a mail the server could not take is tried again, and when it is a dead letter.
    pub retry: RetryPolicy,
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_millis(250),
            lease: Duration::from_secs(300),
            batch: 50,
            concurrency: 8,
            retry: RetryPolicy::default(),
        }
    }
}

/// [`MAX_REFERENCES`] as the store's count.
const MAX_REFERENCES_U32: u32 = MAX_REFERENCES as u32;

/// The most mails a queue listing returns.
pub const MAX_MAIL_LIST: u32 = 500;

/// Every From an agent may use: its login address, its default From, its groups' shared
/// addresses.
fn allowed_from(agent: &crate::access::Agent, groups: &[Option<crate::access::Group>]) -> Vec<EmailAddress> {
    let mut allowed: Vec<EmailAddress> = vec![agent.email.clone()];
    allowed.extend(agent.profile.default_from.iter().cloned());
    for g in groups.iter().flatten() {
        allowed.extend(g.mail_addresses.iter().cloned());
    }
    allowed
}

/// A customer's email addresses, in the card's order.
fn email_addresses(customer: Option<&crate::customer::Customer>) -> Vec<EmailAddress> {
    match customer {
        Some(c) => c
            .identities()
            .iter()
            .filter_map(|i| match i {
                Identity::Email { address, .. } => Some(address.clone()),
                _ => None,
            })
            .collect(),
        None => Vec::new(),
    }
}

impl Crm {
    /// Notifies the customer of a case by mail (CAS-7): validates the request against what
    /// the agent may use (From: its default address, its login address or a shared address
    /// of one of its groups), then writes the follow-up (kind `outbound_email`, public) and
    /// the queued mail in one transaction. The `mail` worker sends it.
    ///
    /// # Errors
    /// Forbidden without `case.edit`; `NotFound` for a case the actor cannot see; every bad
    /// field of the request.
    pub async fn notify(&self, actor: &Actor, case: CaseId, request: NotifyRequest) -> Result<CaseMail> {
        actor.require(Permission::CaseEdit)?;
        // The reads are independent but for the customer (the case's) and the groups (the
        // agent's): two rounds of concurrent reads, and of the case's earlier mails only the
        // last `Message-ID`s.
        let (record, agent, earlier) = futures::try_join!(
            async { self.load_case(actor, case).await },
            async {
                self.store
                    .get_agent(actor.tenant, actor.agent)
                    .await?
                    .ok_or_else(|| Error::not_found("agent", actor.agent))
            },
            async { Ok::<_, Error>(self.store.last_message_ids(actor.tenant, case, MAX_REFERENCES_U32).await?) },
        )?;
        let group_reads = agent.groups.iter().map(|g| self.store.get_group(actor.tenant, *g));
        // The attachments named (only when not too many: the rule refuses that anyway).
        let wanted = if request.attachments.len() <= MAX_MAIL_ATTACHMENTS { &request.attachments[..] } else { &[] };
        let attachment_reads = wanted.iter().map(|a| self.store.attachment(actor.tenant, *a));
        let (customer, groups, found) = futures::try_join!(
            self.store.get_customer(actor.tenant, record.customer()),
            futures::future::try_join_all(group_reads),
            futures::future::try_join_all(attachment_reads),
        )?;
        let attachments: Vec<Attachment> = found.into_iter().flatten().filter(|a| a.case == case).collect();
        let allowed = allowed_from(&agent, &groups);
        let customer_addresses = email_addresses(customer.as_ref());
        let ctx = NotifyContext {
            number: record.number,
            case_subject: record.subject(),
            default_from: agent.profile.default_from.as_ref().or(Some(&agent.email)),
            allowed_from: &allowed,
            customer_addresses: &customer_addresses,
            signature: agent.profile.signature.as_deref(),
            earlier: &earlier,
            attachments: &attachments,
        };
        let id: FollowUpId = next_id(&*self.ids);
        let now = self.clock.now();
        let mail = request.build(&ctx, id, actor.tenant, case, now)?;
        let follow_up = FollowUp {
            id,
            tenant: actor.tenant,
            case,
            kind: FollowUpKind::OutboundEmail,
            author: Some(actor.agent),
            at: now,
            body: mail.html_body.clone(),
            visibility: Visibility::Public,
            interaction: None,
        };
        let events = [self.event(actor, EventKind::FollowUpAdded { case, follow_up: id })];
        // The reply re-marks the case in the same transaction (ADR 0032), over the row read.
        let mut read = Some(record);
        for _ in 0..super::sla_marks::REMARK_ATTEMPTS {
            let case_now = match read.take() {
                Some(c) => c,
                None => self.load_case(actor, case).await?,
            };
            let remark = self.remark_for_replies(&case_now, std::slice::from_ref(&follow_up)).await?;
            match self.store.queue_mail(&follow_up, &mail, remark.as_slice(), &events).await {
                Err(e) if remark.is_some() && super::sla_marks::is_stale(&e) => {}
                other => return other.map(|()| mail).map_err(Into::into),
            }
        }
        Err(Error::Conflict(crate::error::Conflict::State("the case is too busy, try again".into())))
    }

    /// What the notify form of a case offers the actor (the console's): the From addresses
    /// [`Crm::notify`] accepts from it, its default first; the customer's addresses; the
    /// subject's tag and default.
    ///
    /// # Errors
    /// As [`Crm::notify`]: forbidden without `case.edit`, `NotFound` for a case the actor
    /// cannot see.
    pub async fn notify_choices(&self, actor: &Actor, case: CaseId) -> Result<NotifyChoices> {
        actor.require(Permission::CaseEdit)?;
        let (record, agent) = futures::try_join!(async { self.load_case(actor, case).await }, async {
            self.store.get_agent(actor.tenant, actor.agent).await?.ok_or_else(|| Error::not_found("agent", actor.agent))
        })?;
        let group_reads = agent.groups.iter().map(|g| self.store.get_group(actor.tenant, *g));
        let (customer, groups) = futures::try_join!(
            self.store.get_customer(actor.tenant, record.customer()),
            futures::future::try_join_all(group_reads),
        )?;
        let mut from: Vec<EmailAddress> = agent.profile.default_from.iter().cloned().collect();
        for a in allowed_from(&agent, &groups) {
            if !from.iter().any(|f| f.key() == a.key()) {
                from.push(a);
            }
        }
        Ok(NotifyChoices {
            from,
            to: email_addresses(customer.as_ref()),
            tag: crate::mail::subject_tag(record.number),
            subject: record.subject().to_owned(),
        })
    }

    /// A case's mails with their delivery state, oldest first.
    ///
    /// # Errors
    /// As [`Crm::get_case`].
    pub async fn case_mails(&self, actor: &Actor, case: CaseId) -> Result<Vec<CaseMail>> {
        self.get_case(actor, case).await?;
        Ok(self.store.mails_of_case(actor.tenant, case).await?)
    }

    /// The tenant's mails in a state (the dead letters: `failed`), oldest first.
    ///
    /// # Errors
    /// Forbidden without `admin.tenant`.
    pub async fn mails_in_state(&self, actor: &Actor, state: MailState, limit: u32) -> Result<Vec<CaseMail>> {
        actor.require(Permission::AdminTenant)?;
        Ok(self.store.mails_in_state(actor.tenant, state, limit.clamp(1, MAX_MAIL_LIST)).await?)
    }

    /// Puts a dead letter back in the queue, due now.
    ///
    /// # Errors
    /// Forbidden without `admin.tenant`; `NotFound`; `Conflict` unless the mail failed.
    pub async fn requeue_mail(&self, actor: &Actor, id: FollowUpId) -> Result<CaseMail> {
        actor.require(Permission::AdminTenant)?;
        Ok(self.store.requeue_mail(actor.tenant, id, self.clock.now()).await?)
    }

    /// One round of the mail worker: claims up to `settings.batch` due mails, sends each
    /// through `mailer` and records the outcome: sent with the server's reply; queued again
    /// with backoff when the server was unavailable; failed (a dead letter) when it refused
    /// for good or after the policy's last attempt.
    ///
    /// # Errors
    /// Store failures: the claimed mails come back when their lease ends.
    pub async fn deliver_mails(&self, mailer: &dyn Mailer, settings: &MailSettings) -> Result<DeliveryReport> {
        let now = self.clock.now();
        let mails = self.store.claim_mails(now, now + span(settings.lease), settings.batch).await?;
        let mut report =
            DeliveryReport { claimed: u32::try_from(mails.len()).unwrap_or(u32::MAX), ..Default::default() };
        // Several claimed mails in flight at once over the relay's pool; each outcome is
        // recorded as soon as it is known (a crash meanwhile leaves the others leased, and
        // their lease ends).
        let outcomes = futures::stream::iter(mails)
            .map(|mail| async move { self.send_claimed_mail(mailer, settings, &mail).await })
            .buffer_unordered(settings.concurrency.max(1))
            .collect::<Vec<_>>()
            .await;
        for outcome in outcomes {
            match outcome? {
                Outcome::Delivered => report.delivered += 1,
                Outcome::Retried => report.retried += 1,
                Outcome::Dead => report.dead += 1,
            }
        }
        Ok(report)
    }

    /// What the mailer sends for `mail`: with its attachments' bytes read from the blob
    /// store. A blob that is gone (the attachment was deleted meanwhile) is a permanent
    /// failure; a blob store that cannot be read now, a temporary one.
    async fn outgoing_with_parts(&self, mail: &CaseMail) -> std::result::Result<OutgoingMail, MailError> {
        let mut out = mail.outgoing();
        if mail.attachments.is_empty() {
            return Ok(out);
        }
        let Some(blobs) = &self.blobs else {
            return Err(MailError::Unavailable("no blob store is configured: the attachments cannot be read".into()));
        };
        for a in &mail.attachments {
            let gone = |e: BlobError| match e {
                BlobError::NotFound(_) => {
                    MailError::Rejected(format!("attachment {} ({:?}) is no longer stored", a.id, a.filename))
                }
                other => MailError::Unavailable(Box::new(other)),
            };
            let mut stream = blobs.get(&a.blob).await.map_err(gone)?;
            let mut data = Vec::with_capacity(usize::try_from(a.size).unwrap_or(0));
            while let Some(chunk) = stream.next().await {
                data.extend_from_slice(&chunk.map_err(gone)?);
            }
            out.parts.push(OutgoingPart {
                filename: a.filename.clone(),
                content_type: a.content_type.clone(),
                content_id: a.inline.then(|| a.content_id()),
                data,
            });
        }
        Ok(out)
    }

    /// Sends one claimed mail and records the outcome.
    async fn send_claimed_mail(
        &self,
        mailer: &dyn Mailer,
        settings: &MailSettings,
        mail: &CaseMail,
    ) -> Result<Outcome> {
        let sent = match self.outgoing_with_parts(mail).await {
            Ok(out) => mailer.send(&out).await,
            Err(e) => Err(e),
        };
        match sent {
            Ok(reply) => {
                self.store.mail_sent(mail.id, &reply, self.clock.now()).await?;
                Ok(Outcome::Delivered)
            }
            Err(e) => {
                let retry_at = match &e {
                    MailError::Rejected(_) => None,
                    MailError::Unavailable(_) => settings.retry.next_attempt(
                        mail.attempts + 1,
                        self.clock.now(),
                        None,
                        mail.id.as_uuid().as_u128(),
                    ),
                };
                let reply = match &e {
                    MailError::Rejected(r) => r.clone(),
                    MailError::Unavailable(source) => format!("{e}: {source}"),
                };
                self.store.mail_failed(mail.id, &reply, retry_at).await?;
                Ok(if retry_at.is_some() { Outcome::Retried } else { Outcome::Dead })
            }
        }
    }

    /// The `mail` worker: [`Crm::deliver_mails`] rounds through `mailer`. The program adds
    /// it to [`Crm::workers`] when a mail relay is configured (without one, mails wait,
    /// queued).
    pub fn mail_worker(&self, mailer: Arc<dyn Mailer>, settings: MailSettings) -> Arc<dyn Worker> {
        Arc::new(MailWorker { crm: self.clone(), mailer, settings })
    }
}

/// What became of one claimed mail.
enum Outcome {
    Delivered,
    Retried,
    Dead,
}

struct MailWorker {
    crm: Crm,
    mailer: Arc<dyn Mailer>,
    settings: MailSettings,
}

impl fmt::Debug for MailWorker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailWorker").field("mailer", &self.mailer).finish_non_exhaustive()
    }
}

#[async_trait]
impl Worker for MailWorker {
    fn name(&self) -> &'static str {
        "mail"
    }

    fn idle_interval(&self) -> Duration {
        self.settings.poll_interval
    }

    async fn round(&self) -> Result<RoundReport> {
        let r = self.crm.deliver_mails(&*self.mailer, &self.settings).await?;
        Ok(RoundReport {
            claimed: r.claimed,
            done: r.delivered,
            retried: r.retried,
            dead: r.dead,
            more: r.claimed >= self.settings.batch && self.settings.batch > 0,
            failure: None,
        })
    }
}
