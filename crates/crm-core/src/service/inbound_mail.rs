//! Mail in (CAS-8, EML-1): [`Crm::receive_mail`] parses a raw message, finds its case
//! (the subject's case tag, then `In-Reply-To`/`References`, then the tenant's email
//! rules), matches the sender to a card (or makes one), keeps the raw original and the
//! attachments in the blob store, and writes the card, the case, the follow-up, the mail's
//! row, the attachments and an auto-reply in ONE transaction. A redelivery (the same
//! `Message-ID`) writes nothing and answers the mail already stored.
//!
//! Also the tenant's email rules (read, replace under `If-Match`) and their simulator.

use std::collections::BTreeMap;

use bytes::Bytes;
use chrono::Duration;
use futures::StreamExt;

use super::{Crm, check_version};
use crate::access::{Actor, Permission};
use crate::attachment::{Attachment, AttachmentOrigin, SNIFF_PREFIX, sanitize_filename, sniff};
use crate::case::history::{FieldMap, diff};
use crate::case::{Case, CaseContext, CaseListKind, CaseLists, NewCase};
use crate::custom_field::{FieldEntity, FieldKey, FieldValue};
use crate::customer::{AccountNumber, Customer, CustomerStatus, Identity};
use crate::error::{Conflict, Error, FieldError, Result, StoreError, Validator};
use crate::event::{DomainEvent, EventKind};
use crate::follow_up::{FollowUp, FollowUpKind};
use crate::ids::{CaseId, FollowUpId};
use crate::interaction::Channel;
use crate::knowledge::compose::{InsertMode, compose};
use crate::mail::inbound::{ParsedMail, parse_mail};
use crate::mail::received::{InboundMail, InboundWrite, ReceivedMail, Threading};
use crate::mail::rules::{
    MailDecision, MailRuleSet, MailRules, MailRulesInput, MatchedCustomer, mail_context, mail_schema,
};
use crate::mail::{CaseMail, MailState, case_number_in_subject, message_id, tagged_subject};
use crate::ports::BlobKey;
use crate::time::next_id;

/// At most this many auto-replies to one sender in [`AUTO_REPLY_WINDOW_HOURS`].
pub const AUTO_REPLIES_PER_SENDER: u32 = 3;
/// The window of the auto-reply rate limit, in hours.
pub const AUTO_REPLY_WINDOW_HOURS: i64 = 24;

/// What to run the email rules on in the simulator.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MailSimulation {
    /// A raw RFC 5322 message.
    #[serde(default)]
    pub raw: Option<String>,
    /// Or a mail already received (its follow-up id).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub mail: Option<FollowUpId>,
    /// Draft rules (default: the tenant's stored set).
    #[serde(default)]
    pub rules: Option<Vec<crate::mail::rules::MailRule>>,
}

/// What the simulator answers: what receiving the mail would do, with no effect.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MailSimulationResult {
    /// How it would find its case.
    pub threading: Threading,
    /// The existing case it would land on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub case: Option<CaseId>,
    /// What the rules decided (for a mail that matches no case).
    pub decision: MailDecision,
    /// Whether an auto-reply would be sent (not to a machine's mail).
    pub would_auto_reply: bool,
    /// Sent by a machine.
    pub automatic: bool,
    /// Whether the sender matched a card.
    pub customer_known: bool,
}

/// Where a mail lands.
struct Landing {
    threading: Threading,
    case: Option<Case>,
}

impl Crm {
    /// Receives a raw message (CAS-8): parsed, threaded (subject tag, then `In-Reply-To` /
    /// `References`, then the rules) and written whole.
    ///
    /// # Errors
    /// Forbidden without `mail.inbound` (and `case.edit`); `TooLarge` or a validation error
    /// on `message` for what is not a mail; a validation error when no case matches and
    /// the rules create none; storage failures (nothing written).
    pub async fn receive_mail(&self, actor: &Actor, raw: &[u8]) -> Result<ReceivedMail> {
        actor.require(Permission::MailInbound)?;
        actor.require(Permission::CaseEdit)?;
        let parsed = parse_mail(raw)?;
        if let Some(mail) = self.store.inbound_mail_by_message_id(actor.tenant, &parsed.message_id).await? {
            return Ok(duplicate(mail));
        }
        let mut notes = parsed.notes.clone();
        let customer = self.sender_card(actor, &parsed).await?;
        let landing = self.landing(actor, &parsed).await?;
        let decision = match &landing.case {
            Some(_) => MailDecision::default(),
            None => self.decide(actor, &parsed, customer.as_ref(), None).await?,
        };
        if landing.case.is_none() && !decision.create_case {
            return Err(Error::invalid("message", "no case matches the mail and the email rules create none"));
        }
        let now = self.clock.now();
        let mut events: Vec<DomainEvent> = Vec::new();
        let (customer, new_customer) = match customer {
            Some(c) => (Some(c), None),
            None => match &parsed.from {
                Some(from) if landing.case.is_none() => {
                    let seq = self.store.next_account_sequence(actor.tenant).await?;
                    let name = parsed.from_name.clone().unwrap_or_else(|| from.as_str().to_owned());
                    let identity = Identity::Email { address: from.clone(), label: None };
                    let card = Customer::first_contact(
                        next_id(&*self.ids),
                        actor,
                        AccountNumber::generated(seq),
                        name,
                        identity,
                        Channel::Email,
                        now,
                    );
                    events.push(self.event(actor, EventKind::CustomerCreated { customer: card.id }));
                    (Some(card.clone()), Some(card))
                }
                _ => (None, None),
            },
        };
        let (case, new_case) = match landing.case {
            Some(c) => (c, None),
            None => {
                let Some(customer) = &customer else {
                    return Err(Error::invalid("message", "the sender's address is missing: no case can be made"));
                };
                let (case, history) = self.case_for_mail(actor, &parsed, customer, &decision, &mut notes).await?;
                events.push(self.event(
                    actor,
                    EventKind::CaseCreated {
                        case: case.id,
                        number: case.number,
                        customer: case.customer(),
                        assignee: case.assignee(),
                    },
                ));
                (case.clone(), Some((case, history)))
            }
        };
        let id: FollowUpId = next_id(&*self.ids);
        let raw_key = self.keep_raw(raw, &mut notes).await;
        let attachments = self.keep_parts(actor, &parsed, case.id, id, &mut notes).await;
        let auto_reply = match &decision.auto_reply {
            Some(reply) => self.auto_reply(actor, &parsed, &case, customer.as_ref(), reply, &mut notes).await?,
            None => None,
        };
        let mail = InboundMail {
            id,
            tenant: actor.tenant,
            case: case.id,
            message_id: parsed.message_id.clone(),
            thread_ids: parsed.thread_ids(),
            from: parsed.from.as_ref().map(crate::customer::EmailAddress::key),
            to: parsed.to.clone(),
            cc: parsed.cc.clone(),
            subject: parsed.subject.clone(),
            automatic: parsed.automatic,
            threading: landing.threading,
            rules: decision.matched.clone(),
            auto_replied: auto_reply.is_some(),
            notes: notes.clone(),
            raw: raw_key,
            size: raw.len() as u64,
            received_at: now,
        };
        let mut body = parsed.html.clone().unwrap_or_else(|| crate::mail::escape_html(&parsed.text));
        for note in &notes {
            body.push_str(&format!("<p><em>{}</em></p>", crate::mail::escape_html(note)));
        }
        let follow_up = FollowUp {
            id,
            tenant: actor.tenant,
            case: case.id,
            kind: FollowUpKind::InboundEmail,
            author: None,
            at: now,
            body: truncate(body, crate::follow_up::MAX_FOLLOW_UP_BODY),
            visibility: crate::case::Visibility::Public,
            interaction: None,
        };
        events.push(self.event(actor, EventKind::FollowUpAdded { case: case.id, follow_up: id }));
        events.push(self.event(actor, EventKind::MailReceived { case: case.id, follow_up: id }));
        if let Some((f, _)) = &auto_reply {
            events.push(self.event(actor, EventKind::FollowUpAdded { case: case.id, follow_up: f.id }));
        }
        let created = (new_customer.is_some(), new_case.is_some());
        // The customer's reply re-marks an existing case in the same transaction (ADR 0032).
        let remark = match &new_case {
            None => self.remark_for_replies(&case, std::slice::from_ref(&follow_up)).await?,
            Some(_) => None,
        };
        let mut write = InboundWrite { new_customer, new_case, follow_up, mail, attachments, auto_reply, remark };
        let mut result = self.store.receive_mail(&write, &events).await;
        for _ in 1..super::sla_marks::REMARK_ATTEMPTS {
            match &result {
                Err(e) if write.remark.is_some() && super::sla_marks::is_stale(e) => {}
                _ => break,
            }
            let Some(now) = self.store.get_case(actor.tenant, case.id).await? else { break };
            write.remark = self.remark_for_replies(&now, std::slice::from_ref(&write.follow_up)).await?;
            result = self.store.receive_mail(&write, &events).await;
        }
        match result {
            Ok(()) => Ok(ReceivedMail {
                attachments: u32::try_from(write.attachments.len()).unwrap_or(u32::MAX),
                created_case: created.1,
                created_customer: created.0,
                mail: write.mail,
                duplicate: false,
            }),
            // A redelivery raced this one: the first one wins, this one is the same mail.
            Err(StoreError::Conflict(Conflict::Duplicate { field, .. })) if field == "message_id" => {
                match self.store.inbound_mail_by_message_id(actor.tenant, &parsed.message_id).await? {
                    Some(mail) => Ok(duplicate(mail)),
                    None => Err(Error::Store(StoreError::Unavailable("the mail's first delivery vanished".into()))),
                }
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The card of the sender's address (a merged card's survivor), if any.
    async fn sender_card(&self, actor: &Actor, parsed: &ParsedMail) -> Result<Option<Customer>> {
        let Some(from) = &parsed.from else { return Ok(None) };
        let key = Identity::Email { address: from.clone(), label: None }.key();
        let card = self.store.find_by_identity(actor.tenant, &key, 1).await?.into_iter().next();
        match card {
            Some(c) => match *c.status() {
                CustomerStatus::Merged { into, .. } => Ok(self.store.get_customer(actor.tenant, into).await?),
                _ => Ok(Some(c)),
            },
            None => Ok(None),
        }
    }

    /// The case a mail threads onto: its subject's tag, then its references.
    async fn landing(&self, actor: &Actor, parsed: &ParsedMail) -> Result<Landing> {
        if let Some(number) = case_number_in_subject(&parsed.subject)
            && let Some(case) = self.store.get_case_by_number(actor.tenant, number).await?
        {
            return Ok(Landing { threading: Threading::SubjectTag, case: Some(case) });
        }
        let refs = parsed.thread_ids();
        if !refs.is_empty()
            && let Some(id) = self.store.case_of_mail_ids(actor.tenant, &refs).await?
            && let Some(case) = self.store.get_case(actor.tenant, id).await?
        {
            return Ok(Landing { threading: Threading::Reference, case: Some(case) });
        }
        Ok(Landing { threading: Threading::NewCase, case: None })
    }

    /// Runs the rules (the draft ones given, or the tenant's stored set) over a mail.
    async fn decide(
        &self,
        actor: &Actor,
        parsed: &ParsedMail,
        customer: Option<&Customer>,
        draft: Option<Vec<crate::mail::rules::MailRule>>,
    ) -> Result<MailDecision> {
        let schema = self.mail_rules_schema(actor).await?;
        let rules = match draft {
            Some(rules) => MailRules::compile(rules, &schema)?,
            None => {
                let stored = self.store.mail_rules(actor.tenant).await?.map(|s| s.rules).unwrap_or_default();
                // Stored rules were checked when written; a custom field removed since
                // makes the set fail: then no rule runs (a new case, as without rules).
                MailRules::compile(stored, &schema).unwrap_or_else(|_| MailRules::empty())
            }
        };
        let vip_key = FieldKey::parse(super::VIP_FIELD).ok();
        let matched = customer.map(|c| MatchedCustomer {
            vip: vip_key.as_ref().is_some_and(|k| matches!(c.custom().get(k), Some(FieldValue::Boolean(true)))),
            custom: c.custom(),
        });
        Ok(rules.decide(&mail_context(parsed, matched)))
    }

    async fn mail_rules_schema(&self, actor: &Actor) -> Result<crate::rules::Schema> {
        let fields = self.store.field_definitions(actor.tenant, FieldEntity::Customer).await?;
        let custom: Vec<_> = fields.into_iter().map(|f| (f.key, f.field_type)).collect();
        Ok(mail_schema(&custom))
    }

    /// A new case for a mail: open (a draft when the tenant's required case fields make an
    /// open one impossible), with the rules' group, priority and category (a category
    /// retired since the rules were written is left out and noted).
    async fn case_for_mail(
        &self,
        actor: &Actor,
        parsed: &ParsedMail,
        customer: &Customer,
        decision: &MailDecision,
        notes: &mut Vec<String>,
    ) -> Result<(Case, Vec<crate::case::CaseHistoryEntry>)> {
        let definitions = self.store.field_definitions(actor.tenant, FieldEntity::Case).await?;
        let tenant = self.tenant(actor.tenant).await?;
        let subject = if parsed.subject.trim().is_empty() { "(no subject)".to_owned() } else { parsed.subject.clone() };
        let subject: String = subject.chars().take(crate::case::MAX_SUBJECT).collect();
        let mut input = NewCase::open(customer.id, subject);
        input.group = decision.group;
        input.priority = decision.priority;
        if let Some(category) = &decision.category {
            let lists = CaseLists::new(self.store.case_list_entries(actor.tenant, None).await?);
            match lists.check(CaseListKind::Category, category) {
                Ok(()) => input.category = Some(category.clone()),
                Err(e) => notes.push(format!("the rules' category was not set: {}", e.reason)),
            }
        }
        input.origin_channel = Some(Channel::Email);
        let ctx =
            || CaseContext { definitions: &definitions, region: Some(tenant.default_region), now: self.clock.now() };
        let valid = match input.clone().validate(actor, None, ctx()) {
            Ok(v) => v,
            Err(_) => NewCase { draft: true, ..input }.validate(actor, None, ctx())?,
        };
        let number = self.store.next_case_number(actor.tenant).await?;
        let case = valid.build(next_id(&*self.ids), number);
        let history = diff(&FieldMap::new(), &case.field_map(), actor.tenant, case.id, 1, actor.agent, case.created_at);
        Ok((case, history))
    }

    /// Keeps the raw original in the blob store (when one is configured).
    async fn keep_raw(&self, raw: &[u8], notes: &mut Vec<String>) -> Option<BlobKey> {
        let Some(blobs) = &self.blobs else {
            notes.push("the original message was not kept: no blob store is configured".into());
            return None;
        };
        let data = futures::stream::iter([Ok(Bytes::copy_from_slice(raw))]).boxed();
        match blobs.put(data).await {
            Ok(stored) => Some(stored.key),
            Err(e) => {
                notes.push(format!("the original message was not kept: {e}"));
                None
            }
        }
    }

    /// Stores the mail's attachments in the blob store; a part the attachment rules refuse
    /// (too large, a pixel bomb) is dropped and noted.
    async fn keep_parts(
        &self,
        actor: &Actor,
        parsed: &ParsedMail,
        case: CaseId,
        follow_up: FollowUpId,
        notes: &mut Vec<String>,
    ) -> Vec<Attachment> {
        let mut kept = Vec::new();
        if parsed.parts.is_empty() {
            return kept;
        }
        let Some(blobs) = &self.blobs else {
            notes.push(format!("{} attachment(s) not kept: no blob store is configured", parsed.parts.len()));
            return kept;
        };
        for part in &parsed.parts {
            let filename = sanitize_filename(&part.filename).unwrap_or_else(|_| "attachment".to_owned());
            let sniffed = sniff(&part.bytes[..part.bytes.len().min(SNIFF_PREFIX)]);
            let size = part.bytes.len() as u64;
            if let Err(e) = self.attachment_limits.check_content(AttachmentOrigin::File, &sniffed, size) {
                notes.push(format!("attachment {filename:?} dropped: {e}"));
                continue;
            }
            if size > self.attachment_limits.max_for(AttachmentOrigin::File) {
                notes.push(format!(
                    "attachment {filename:?} dropped: larger than {} bytes",
                    self.attachment_limits.max_for(AttachmentOrigin::File)
                ));
                continue;
            }
            let data = futures::stream::iter([Ok(Bytes::copy_from_slice(&part.bytes))]).boxed();
            match blobs.put(data).await {
                Ok(stored) => kept.push(Attachment {
                    id: next_id(&*self.ids),
                    tenant: actor.tenant,
                    case,
                    follow_up: Some(follow_up),
                    filename,
                    content_type: sniffed.content_type,
                    size: stored.size,
                    sha256: stored.key,
                    origin: AttachmentOrigin::File,
                    uploaded_by: actor.agent,
                    uploaded_at: self.clock.now(),
                    original: None,
                }),
                Err(e) => notes.push(format!("attachment {filename:?} not kept: {e}")),
            }
        }
        kept
    }

    /// The auto-reply to queue, unless the mail came from a machine, the sender is past
    /// its rate limit, or the From is not one of the tenant's groups' shared addresses.
    async fn auto_reply(
        &self,
        actor: &Actor,
        parsed: &ParsedMail,
        case: &Case,
        customer: Option<&Customer>,
        reply: &crate::mail::rules::AutoReply,
        notes: &mut Vec<String>,
    ) -> Result<Option<(FollowUp, CaseMail)>> {
        let Some(to) = &parsed.from else { return Ok(None) };
        if parsed.automatic.is_some() {
            notes.push("no auto-reply: the mail was sent by a machine".into());
            return Ok(None);
        }
        let now = self.clock.now();
        let since = now - Duration::hours(AUTO_REPLY_WINDOW_HOURS);
        if self.store.auto_replies_since(actor.tenant, &to.key(), since).await? >= AUTO_REPLIES_PER_SENDER {
            notes.push("no auto-reply: the sender had enough of them today".into());
            return Ok(None);
        }
        let groups = self.store.list_groups(actor.tenant).await?;
        let from = groups
            .iter()
            .flat_map(|g| g.mail_addresses.iter())
            .find(|a| a.key() == reply.from.trim().to_ascii_lowercase());
        let Some(from) = from.cloned() else {
            notes.push(format!("no auto-reply: {} is not a shared address of a group", reply.from));
            return Ok(None);
        };
        let mut values = BTreeMap::new();
        values.insert("case.number", case.number.to_string());
        values.insert("case.subject", case.subject().to_owned());
        if let Some(c) = customer {
            values.insert("customer.name", c.name().to_owned());
            values.insert("customer.account_number", c.account_number().to_string());
        }
        let composed = compose(&reply.text, &values, &BTreeMap::new(), InsertMode::Full, |_| String::new());
        let id: FollowUpId = next_id(&*self.ids);
        let mail = CaseMail {
            id,
            tenant: actor.tenant,
            case: case.id,
            message_id: message_id(id, &from),
            in_reply_to: Some(parsed.message_id.clone()),
            references: vec![parsed.message_id.clone()],
            from,
            to: vec![to.clone()],
            cc: Vec::new(),
            bcc: Vec::new(),
            subject: tagged_subject(case.number, &reply.subject),
            html_body: composed.html.clone(),
            text_body: composed.text,
            state: MailState::Queued,
            attempts: 0,
            next_attempt_at: now,
            reply: None,
            queued_at: now,
            sent_at: None,
            auto_submitted: true,
            attachments: Vec::new(),
        };
        let follow_up = FollowUp {
            id,
            tenant: actor.tenant,
            case: case.id,
            kind: FollowUpKind::OutboundEmail,
            author: None,
            at: now,
            body: composed.html,
            visibility: crate::case::Visibility::Public,
            interaction: None,
        };
        Ok(Some((follow_up, mail)))
    }

    /// The raw original of a received mail on a case, as `.eml`.
    ///
    /// # Errors
    /// As [`Crm::get_case`]; `NotFound` for a mail not of the case or without a kept
    /// original.
    pub async fn inbound_mail_raw(
        &self,
        actor: &Actor,
        case: CaseId,
        mail: FollowUpId,
    ) -> Result<(InboundMail, crate::ports::BlobStream)> {
        self.get_case(actor, case).await?;
        let found = self.store.inbound_mail(actor.tenant, mail).await?.filter(|m| m.case == case);
        let Some(found) = found else { return Err(Error::not_found("mail", mail)) };
        let Some(key) = &found.raw else { return Err(Error::not_found("mail original", mail)) };
        let Some(blobs) = &self.blobs else { return Err(Error::not_found("mail original", mail)) };
        let stream = blobs.get(key).await?;
        Ok((found, stream))
    }

    /// A case's received mails, oldest first.
    ///
    /// # Errors
    /// As [`Crm::get_case`].
    pub async fn case_inbound_mails(&self, actor: &Actor, case: CaseId) -> Result<Vec<InboundMail>> {
        self.get_case(actor, case).await?;
        Ok(self.store.inbound_mails_of_case(actor.tenant, case).await?)
    }

    /// The tenant's email rules (an empty set of version 0 while none were written).
    ///
    /// # Errors
    /// Forbidden without `mail.inbound`.
    pub async fn mail_rules(&self, actor: &Actor) -> Result<MailRuleSet> {
        actor.require(Permission::MailInbound)?;
        Ok(self.store.mail_rules(actor.tenant).await?.unwrap_or(MailRuleSet {
            rules: Vec::new(),
            version: 0,
            updated_at: None,
        }))
    }

    /// Replaces version `expected_version` of the tenant's email rules (0 when none were
    /// written; [`super::ANY_VERSION`] for any).
    ///
    /// # Errors
    /// Forbidden without `mail.inbound`; every fault of the rules, naming its path; a group
    /// that is not the tenant's; `StaleVersion`.
    pub async fn put_mail_rules(
        &self,
        actor: &Actor,
        expected_version: u64,
        input: MailRulesInput,
    ) -> Result<MailRuleSet> {
        let current = self.mail_rules(actor).await?;
        let expected = check_version("mail_rules", actor.tenant, current.version, expected_version)?;
        let schema = self.mail_rules_schema(actor).await?;
        MailRules::compile(input.rules.clone(), &schema)?;
        let groups = self.store.list_groups(actor.tenant).await?;
        for (i, rule) in input.rules.iter().enumerate() {
            if let Some(g) = rule.actions.group
                && !groups.iter().any(|x| x.id == g)
            {
                return Err(Error::invalid(format!("rules[{i}].actions.group"), "is not a group of the tenant"));
            }
        }
        if input.rules.iter().any(|r| r.actions.category.is_some()) {
            let lists = CaseLists::new(self.store.case_list_entries(actor.tenant, None).await?);
            let mut v = Validator::new();
            for (i, rule) in input.rules.iter().enumerate() {
                if let Some(c) = &rule.actions.category
                    && let Err(e) = lists.check(CaseListKind::Category, c)
                {
                    v.push(FieldError::new(format!("rules[{i}].actions.category"), e.reason));
                }
            }
            v.finish()?;
        }
        let set = MailRuleSet { rules: input.rules, version: expected + 1, updated_at: Some(self.clock.now()) };
        self.store.put_mail_rules(actor.tenant, &set, expected).await?;
        Ok(set)
    }

    /// Runs a mail (raw, or one already received) through draft rules (or the stored ones)
    /// and answers what receiving it would do, with no effect.
    ///
    /// # Errors
    /// Forbidden without `mail.inbound`; a validation error on `raw` or `mail` (none or
    /// both given, or what [`parse_mail`] refuses); `NotFound` for an unknown mail or one
    /// without a kept original; the faults of draft rules.
    pub async fn simulate_mail_rules(&self, actor: &Actor, run: MailSimulation) -> Result<MailSimulationResult> {
        actor.require(Permission::MailInbound)?;
        let raw: Vec<u8> = match (&run.raw, run.mail) {
            (Some(raw), None) => raw.as_bytes().to_vec(),
            (None, Some(id)) => {
                let found = self.store.inbound_mail(actor.tenant, id).await?;
                let key = found.and_then(|m| m.raw).ok_or_else(|| Error::not_found("mail original", id))?;
                let blobs = self.blobs.as_ref().ok_or_else(|| Error::not_found("mail original", id))?;
                let mut stream = blobs.get(&key).await?;
                let mut bytes = Vec::new();
                while let Some(chunk) = stream.next().await {
                    bytes.extend_from_slice(&chunk?);
                }
                bytes
            }
            _ => return Err(Error::invalid("raw", "give either `raw` (a message) or `mail` (a received mail's id)")),
        };
        let parsed = parse_mail(&raw)?;
        let customer = self.sender_card(actor, &parsed).await?;
        let landing = self.landing(actor, &parsed).await?;
        let decision = self.decide(actor, &parsed, customer.as_ref(), run.rules).await?;
        let would_auto_reply = landing.case.is_none() && decision.auto_reply.is_some() && parsed.automatic.is_none();
        Ok(MailSimulationResult {
            threading: landing.threading,
            case: landing.case.map(|c| c.id),
            decision,
            would_auto_reply,
            automatic: parsed.automatic.is_some(),
            customer_known: customer.is_some(),
        })
    }
}

fn duplicate(mail: InboundMail) -> ReceivedMail {
    ReceivedMail { mail, duplicate: true, created_case: false, created_customer: false, attachments: 0 }
}

fn truncate(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}
