//! [`InboundMailStore`] for [`MemoryStore`]: received mails written with their card, case,
//! follow-up, attachments and auto-reply under the one lock (every check first, then every
//! change: all or nothing), and the tenants' email rules.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crm_core::error::StoreError;
use crm_core::event::DomainEvent;
use crm_core::ids::{CaseId, FollowUpId, TenantId};
use crm_core::mail::received::{InboundMail, InboundWrite, follow_up_of_message_id};
use crm_core::mail::rules::MailRuleSet;
use crm_core::ports::{InboundMailStore, StoreResult};

use super::{MemoryStore, check_version, invalid_reference};
use crate::memory::mail::MailRow;

#[async_trait]
impl InboundMailStore for MemoryStore {
    async fn receive_mail(&self, write: &InboundWrite, events: &[DomainEvent]) -> StoreResult<()> {
        let mut state = self.write()?;
        let mail = &write.mail;
        if state.inbound_mails.values().any(|m| m.tenant == mail.tenant && m.message_id == mail.message_id) {
            return Err(StoreError::duplicate("message_id", mail.message_id.clone()));
        }
        if let Some(c) = &write.new_customer {
            state.check_new_customer(c)?;
        }
        match &write.new_case {
            Some((case, _)) => {
                let new_card =
                    write.new_customer.as_ref().is_some_and(|c| c.id == case.customer() && c.tenant == case.tenant);
                if new_card {
                    if state.cases.contains_key(&case.id) {
                        return Err(StoreError::duplicate("id", case.id.to_string()));
                    }
                    if state.cases.values().any(|c| c.tenant == case.tenant && c.number == case.number) {
                        return Err(StoreError::duplicate("number", case.number.to_string()));
                    }
                } else {
                    state.check_new_case(case)?;
                }
            }
            None => {
                if !state.case_exists(mail.tenant, mail.case) {
                    return Err(invalid_reference("case", format_args!("case {}", mail.case)));
                }
            }
        }
        let mut ids = vec![write.follow_up.id];
        if let Some((f, _)) = &write.auto_reply {
            ids.push(f.id);
        }
        if ids.iter().any(|id| state.follow_ups.contains_key(id) || state.mails.contains_key(id)) {
            return Err(StoreError::duplicate("id", write.follow_up.id.to_string()));
        }
        if write.attachments.iter().any(|a| state.attachments.contains_key(&a.id)) {
            return Err(StoreError::duplicate("id", "attachment".to_owned()));
        }
        if let Some(r) = &write.remark {
            state.check_remark(r)?;
        }
        let rows = state.stage_events(events)?;
        if let Some(r) = &write.remark {
            state.put_case(r.case(), &[]);
        }
        if let Some(c) = &write.new_customer {
            state.customers.insert(c.id, c.clone());
        }
        if let Some((case, history)) = &write.new_case {
            state.put_case(case, history);
        }
        state.follow_ups.insert(write.follow_up.id, write.follow_up.clone());
        state.inbound_mails.insert(mail.id, mail.clone());
        for a in &write.attachments {
            state.attachments.insert(a.id, a.clone());
        }
        if let Some((f, m)) = &write.auto_reply {
            state.follow_ups.insert(f.id, f.clone());
            state.mails.insert(m.id, MailRow { mail: m.clone(), leased_until: None });
        }
        state.commit_events(rows);
        Ok(())
    }

    async fn inbound_mail_by_message_id(&self, tenant: TenantId, message_id: &str) -> StoreResult<Option<InboundMail>> {
        Ok(self.read()?.inbound_mails.values().find(|m| m.tenant == tenant && m.message_id == message_id).cloned())
    }

    async fn inbound_mail(&self, tenant: TenantId, id: FollowUpId) -> StoreResult<Option<InboundMail>> {
        Ok(self.read()?.inbound_mails.get(&id).filter(|m| m.tenant == tenant).cloned())
    }

    async fn inbound_mails_of_case(&self, tenant: TenantId, case: CaseId) -> StoreResult<Vec<InboundMail>> {
        let state = self.read()?;
        let mut mails: Vec<InboundMail> =
            state.inbound_mails.values().filter(|m| m.tenant == tenant && m.case == case).cloned().collect();
        mails.sort_by_key(|m| (m.received_at, m.id));
        Ok(mails)
    }

    async fn case_of_mail_ids(&self, tenant: TenantId, refs: &[String]) -> StoreResult<Option<CaseId>> {
        let state = self.read()?;
        let live =
            |case: CaseId| state.cases.get(&case).is_some_and(|c| c.tenant == tenant && c.deleted_at().is_none());
        for r in refs {
            if let Some(m) = state.inbound_mails.values().find(|m| m.tenant == tenant && &m.message_id == r)
                && live(m.case)
            {
                return Ok(Some(m.case));
            }
            if let Some(id) = follow_up_of_message_id(r)
                && let Some(row) = state.mails.get(&id).filter(|row| row.mail.tenant == tenant)
                && live(row.mail.case)
            {
                return Ok(Some(row.mail.case));
            }
        }
        Ok(None)
    }

    async fn auto_replies_since(&self, tenant: TenantId, from: &str, since: DateTime<Utc>) -> StoreResult<u32> {
        let state = self.read()?;
        let n = state
            .inbound_mails
            .values()
            .filter(|m| {
                m.tenant == tenant && m.auto_replied && m.from.as_deref() == Some(from) && m.received_at >= since
            })
            .count();
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    async fn mail_rules(&self, tenant: TenantId) -> StoreResult<Option<MailRuleSet>> {
        Ok(self.read()?.mail_rules.get(&tenant).cloned())
    }

    async fn put_mail_rules(&self, tenant: TenantId, set: &MailRuleSet, expected_version: u64) -> StoreResult<()> {
        let mut state = self.write()?;
        let stored = state.mail_rules.get(&tenant).map_or(0, |s| s.version);
        check_version("mail_rules", tenant, stored, expected_version)?;
        state.mail_rules.insert(tenant, set.clone());
        Ok(())
    }
}
