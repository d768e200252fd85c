//! `InboundMailStore`: received mails (CAS-8, EML-1) in `inbound_mails`, unique per tenant
//! by `Message-ID`, written in ONE transaction with the sender's new card, the new case and
//! its history, the follow-up, the attachments, a queued auto-reply and the events; the
//! tenants' email rules in `mail_rule_sets` (one versioned document per tenant). Migration
//! `m0023` creates both.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr, Value};
use sea_orm_migration::{MigrationName, MigrationTrait, SchemaManager};
use uuid::Uuid;

use crm_core::StoreError;
use crm_core::event::DomainEvent;
use crm_core::ids::{CaseId, FollowUpId, TenantId};
use crm_core::mail::received::{InboundMail, InboundWrite, follow_up_of_message_id};
use crm_core::mail::rules::MailRuleSet;
use crm_core::ports::{InboundMailStore, StoreResult};

use super::case::{check_new_case, insert_case_rows, insert_follow_up_in};
use super::customer::insert_customer_in;
use super::mail::insert_mail_in;
use super::{require, write_events};
use crate::connect::{SqlStore, finish};
use crate::error::{db, map_db};
use crate::migration::statements;
use crate::sql::{all, col, exec, from_doc, int, marks, one, parse_doc, text, to_doc, ts, uid};

/// `m0023`: received mails and email rules.
pub(crate) struct InboundMails;

impl MigrationName for InboundMails {
    fn name(&self) -> &str {
        "m0023_inbound_mails"
    }
}

/// The DDL of `m0023`.
const INBOUND_MAILS: &str = "
CREATE TABLE inbound_mails (
    id {uuid} NOT NULL,
    tenant_id {uuid} NOT NULL,
    case_id {uuid} NOT NULL,
    message_id {text} NOT NULL,
    from_address {text},
    auto_replied BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    doc TEXT NOT NULL,
    CONSTRAINT inbound_mails_pkey PRIMARY KEY (id),
    CONSTRAINT inbound_mails_case_fk FOREIGN KEY (case_id) REFERENCES cases (id)
);
CREATE UNIQUE INDEX inbound_mails_message_id ON inbound_mails (tenant_id, message_id);
CREATE INDEX inbound_mails_by_case ON inbound_mails (case_id, received_at, id);
CREATE INDEX inbound_mails_by_sender ON inbound_mails (tenant_id, from_address, received_at);
CREATE TABLE mail_rule_sets (
    tenant_id {uuid} NOT NULL,
    version BIGINT NOT NULL,
    doc TEXT NOT NULL,
    CONSTRAINT mail_rule_sets_pkey PRIMARY KEY (tenant_id)
)";

#[async_trait::async_trait]
impl MigrationTrait for InboundMails {
    /// In one transaction on every backend: the tables and their indexes land together.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    #[allow(elided_lifetimes_in_paths)] // the trait's own signature
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        for statement in statements(INBOUND_MAILS, conn.get_database_backend()) {
            conn.execute_unprepared(&statement).await?;
        }
        Ok(())
    }
}

async fn write_in<C: ConnectionTrait>(c: &C, write: &InboundWrite, events: &[DomainEvent]) -> StoreResult<()> {
    let mail = &write.mail;
    let taken = one(
        c,
        "SELECT 1 AS one FROM inbound_mails WHERE tenant_id = ? AND message_id = ?",
        vec![uid(mail.tenant), text(mail.message_id.clone())],
    )
    .await
    .map_err(db)?;
    if taken.is_some() {
        return Err(StoreError::duplicate("message_id", mail.message_id.clone()));
    }
    if let Some(customer) = &write.new_customer {
        insert_customer_in(c, c.get_database_backend(), customer).await?;
    }
    match &write.new_case {
        Some((case, history)) => {
            if c.get_database_backend() != sea_orm::DbBackend::Postgres {
                check_new_case(c, case).await?;
            }
            insert_case_rows(c, case, history, &[]).await?;
        }
        None => require(c, "cases", "case", mail.tenant.as_uuid(), mail.case.as_uuid()).await?,
    }
    insert_follow_up_in(c, &write.follow_up).await?;
    if let Some(r) = &write.remark {
        super::case::remark_case_in(c, r).await?;
    }
    exec(
        c,
        "INSERT INTO inbound_mails (id, tenant_id, case_id, message_id, from_address, auto_replied, received_at, doc) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        vec![
            uid(mail.id),
            uid(mail.tenant),
            uid(mail.case),
            text(mail.message_id.clone()),
            Value::String(mail.from.clone()),
            int(u64::from(mail.auto_replied)),
            Value::BigInt(Some(ts(mail.received_at))),
            text(to_doc(mail)?),
        ],
    )
    .await
    .map_err(|e| match map_db(e, "case") {
        StoreError::Conflict(crm_core::error::Conflict::Duplicate { .. }) => {
            StoreError::duplicate("message_id", mail.message_id.clone())
        }
        other => other,
    })?;
    for a in &write.attachments {
        exec(
            c,
            "INSERT INTO attachments (id, tenant_id, case_id, follow_up_id, sha256, uploaded_at, doc) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
            vec![
                uid(a.id.as_uuid()),
                uid(a.tenant),
                uid(a.case),
                Value::Uuid(a.follow_up.map(|f| f.as_uuid())),
                text(a.sha256.as_str()),
                Value::BigInt(Some(ts(a.uploaded_at))),
                text(to_doc(a)?),
            ],
        )
        .await
        .map_err(|e| map_db(e, "case"))?;
    }
    if let Some((follow_up, reply)) = &write.auto_reply {
        insert_follow_up_in(c, follow_up).await?;
        insert_mail_in(c, reply).await?;
    }
    write_events(c, events).await
}

#[async_trait]
impl InboundMailStore for SqlStore {
    async fn receive_mail(&self, write: &InboundWrite, events: &[DomainEvent]) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = write_in(&tx, write, events).await;
        finish(tx, result).await
    }

    async fn inbound_mail_by_message_id(&self, tenant: TenantId, message_id: &str) -> StoreResult<Option<InboundMail>> {
        let row = one(
            &self.read,
            "SELECT doc FROM inbound_mails WHERE tenant_id = ? AND message_id = ?",
            vec![uid(tenant), text(message_id)],
        )
        .await
        .map_err(db)?;
        row.as_ref().map(from_doc).transpose()
    }

    async fn inbound_mail(&self, tenant: TenantId, id: FollowUpId) -> StoreResult<Option<InboundMail>> {
        let row =
            one(&self.read, "SELECT doc FROM inbound_mails WHERE id = ? AND tenant_id = ?", vec![uid(id), uid(tenant)])
                .await
                .map_err(db)?;
        row.as_ref().map(from_doc).transpose()
    }

    async fn inbound_mails_of_case(&self, tenant: TenantId, case: CaseId) -> StoreResult<Vec<InboundMail>> {
        let rows = all(
            &self.read,
            "SELECT doc FROM inbound_mails WHERE case_id = ? AND tenant_id = ? ORDER BY received_at, id",
            vec![uid(case), uid(tenant)],
        )
        .await
        .map_err(db)?;
        rows.iter().map(from_doc).collect()
    }

    async fn case_of_mail_ids(&self, tenant: TenantId, refs: &[String]) -> StoreResult<Option<CaseId>> {
        if refs.is_empty() {
            return Ok(None);
        }
        let mut values = vec![uid(tenant)];
        values.extend(refs.iter().map(|r| text(r.clone())));
        let received = all(
            &self.read,
            &format!(
                "SELECT m.message_id AS mid, m.case_id AS case_id FROM inbound_mails m JOIN cases c ON c.id = m.case_id \
                 WHERE m.tenant_id = ? AND c.deleted_at IS NULL AND m.message_id IN ({})",
                marks(refs.len())
            ),
            values,
        )
        .await
        .map_err(db)?;
        let sent_ids: Vec<(usize, FollowUpId)> =
            refs.iter().enumerate().filter_map(|(i, r)| follow_up_of_message_id(r).map(|id| (i, id))).collect();
        let sent = if sent_ids.is_empty() {
            Vec::new()
        } else {
            let mut values = vec![uid(tenant)];
            values.extend(sent_ids.iter().map(|(_, id)| uid(*id)));
            all(
                &self.read,
                &format!(
                    "SELECT m.id AS id, m.case_id AS case_id FROM case_mails m JOIN cases c ON c.id = m.case_id \
                     WHERE m.tenant_id = ? AND c.deleted_at IS NULL AND m.id IN ({})",
                    marks(sent_ids.len())
                ),
                values,
            )
            .await
            .map_err(db)?
        };
        let mut best: Option<(usize, Uuid)> = None;
        for row in &received {
            let mid: String = col(row, "mid")?;
            let case: Uuid = col(row, "case_id")?;
            if let Some(i) = refs.iter().position(|r| *r == mid)
                && best.is_none_or(|(b, _)| i < b)
            {
                best = Some((i, case));
            }
        }
        for row in &sent {
            let id: Uuid = col(row, "id")?;
            let case: Uuid = col(row, "case_id")?;
            if let Some((i, _)) = sent_ids.iter().find(|(_, f)| f.as_uuid() == id)
                && best.is_none_or(|(b, _)| *i < b)
            {
                best = Some((*i, case));
            }
        }
        Ok(best.map(|(_, c)| CaseId::from_uuid(c)))
    }

    async fn auto_replies_since(&self, tenant: TenantId, from: &str, since: DateTime<Utc>) -> StoreResult<u32> {
        let row = one(
            &self.read,
            "SELECT COUNT(*) AS n FROM inbound_mails WHERE tenant_id = ? AND from_address = ? AND received_at >= ? \
             AND auto_replied = 1",
            vec![uid(tenant), text(from), Value::BigInt(Some(ts(since)))],
        )
        .await
        .map_err(db)?;
        let n = match row {
            Some(r) => col::<i64>(&r, "n")?,
            None => 0,
        };
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    async fn mail_rules(&self, tenant: TenantId) -> StoreResult<Option<MailRuleSet>> {
        let row = one(&self.read, "SELECT doc FROM mail_rule_sets WHERE tenant_id = ?", vec![uid(tenant)])
            .await
            .map_err(db)?;
        row.as_ref().map(|r| parse_doc(&col::<String>(r, "doc")?)).transpose()
    }

    async fn put_mail_rules(&self, tenant: TenantId, set: &MailRuleSet, expected_version: u64) -> StoreResult<()> {
        let doc = to_doc(set)?;
        super::put_tenant_document(self, "mail_rule_sets", "mail_rules", tenant, set.version, doc, expected_version)
            .await
    }
}
