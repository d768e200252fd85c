//! `MailStore`: the mails sent from cases (CAS-7, EML-2) in `case_mails`, queued with their
//! follow-up and events in one transaction, claimed with a lease (`FOR UPDATE SKIP LOCKED`
//! on PostgreSQL, the single writer on SQLite). What never changes is the row's `doc`; the
//! delivery state (state, attempts, next attempt, lease, reply, sent at) is in columns, so
//! an outcome is one `UPDATE` without reading the mail back. Migration `m0017` creates it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, QueryResult, Value};
use sea_orm_migration::{MigrationName, MigrationTrait, SchemaManager};
use uuid::Uuid;

use crm_core::StoreError;
use crm_core::error::Conflict;
use crm_core::event::DomainEvent;
use crm_core::follow_up::FollowUp;
use crm_core::ids::{CaseId, FollowUpId, TenantId};
use crm_core::mail::{CaseMail, MailState};
use crm_core::ports::{MailStore, StoreResult};

use super::case::insert_follow_up_in;
use super::write_events;
use crate::connect::{SqlStore, finish};
use crate::error::db;
use crate::sql::{all, col, exec, from_ts, int, limit, marks, one, parse_doc, text, to_doc, ts, ts_opt, uid};

/// `m0017`: the mails sent from cases.
pub(crate) struct CaseMails;

impl MigrationName for CaseMails {
    fn name(&self) -> &str {
        "m0017_case_mails"
    }
}

/// The DDL of `m0017`.
const CASE_MAILS: &str = "
CREATE TABLE case_mails (
    id {uuid} NOT NULL,
    tenant_id {uuid} NOT NULL,
    case_id {uuid} NOT NULL,
    state {text} NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    lease_until BIGINT,
    reply TEXT,
    sent_at BIGINT,
    queued_at BIGINT NOT NULL,
    doc TEXT NOT NULL,
    CONSTRAINT case_mails_pkey PRIMARY KEY (id)
);
CREATE INDEX case_mails_due ON case_mails (state, next_attempt_at, id);
CREATE INDEX case_mails_by_case ON case_mails (case_id, queued_at, id);
CREATE INDEX case_mails_by_state ON case_mails (tenant_id, state, queued_at, id)
";

#[async_trait::async_trait]
impl MigrationTrait for CaseMails {
    #[allow(elided_lifetimes_in_paths)] // the trait's own signature
    async fn up(&self, manager: &SchemaManager) -> Result<(), sea_orm::DbErr> {
        let conn = manager.get_connection();
        for sql in crate::migration::statements(CASE_MAILS, conn.get_database_backend()) {
            conn.execute_unprepared(&sql).await?;
        }
        Ok(())
    }
}

const COLUMNS: &str = "state, attempts, next_attempt_at, reply, sent_at, doc";

fn state_of(name: &str) -> MailState {
    match name {
        "sent" => MailState::Sent,
        "failed" => MailState::Failed,
        _ => MailState::Queued,
    }
}

fn mail_from_row(row: &QueryResult) -> StoreResult<CaseMail> {
    let mut mail: CaseMail = parse_doc(&col::<String>(row, "doc")?)?;
    mail.state = state_of(&col::<String>(row, "state")?);
    mail.attempts = u32::try_from(col::<i64>(row, "attempts")?).unwrap_or(u32::MAX);
    mail.next_attempt_at = from_ts(col(row, "next_attempt_at")?);
    mail.reply = col(row, "reply")?;
    mail.sent_at = col::<Option<i64>>(row, "sent_at")?.map(from_ts);
    Ok(mail)
}

/// Inserts a queued mail in the caller's transaction.
pub(crate) async fn insert_mail_in<C: ConnectionTrait>(c: &C, mail: &CaseMail) -> StoreResult<()> {
    exec(
        c,
        "INSERT INTO case_mails (id, tenant_id, case_id, state, attempts, next_attempt_at, reply, sent_at, queued_at, doc) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        vec![
            uid(mail.id),
            uid(mail.tenant),
            uid(mail.case),
            text(mail.state.as_str()),
            int(u64::from(mail.attempts)),
            Value::BigInt(Some(ts(mail.next_attempt_at))),
            Value::String(mail.reply.clone()),
            ts_opt(mail.sent_at),
            Value::BigInt(Some(ts(mail.queued_at))),
            text(to_doc(mail)?),
        ],
    )
    .await
    .map_err(|e| crate::error::map_db(e, "mail"))?;
    Ok(())
}

#[async_trait]
impl MailStore for SqlStore {
    async fn queue_mail(
        &self,
        follow_up: &FollowUp,
        mail: &CaseMail,
        remarks: &[crm_core::sla::CaseRemark],
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            insert_follow_up_in(&tx, follow_up).await?;
            for r in remarks {
                super::case::remark_case_in(&tx, r).await?;
            }
            insert_mail_in(&tx, mail).await?;
            write_events(&tx, events).await
        }
        .await;
        finish(tx, result).await
    }

    async fn claim_mails(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        max: u32,
    ) -> StoreResult<Vec<CaseMail>> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let due = format!(
            "FROM case_mails WHERE state = 'queued' AND next_attempt_at <= ? \
             AND (lease_until IS NULL OR lease_until <= ?) ORDER BY next_attempt_at, id{}",
            limit(max.into())
        );
        let now = Value::BigInt(Some(ts(now)));
        let lease = Value::BigInt(Some(ts(lease_until)));
        if self.is_postgres() {
            let sql = format!(
                "UPDATE case_mails SET lease_until = ? WHERE id IN (SELECT id {due} FOR UPDATE SKIP LOCKED) \
                 RETURNING {COLUMNS}"
            );
            let rows = all(&self.write, &sql, vec![lease, now.clone(), now]).await.map_err(db)?;
            let mut mails = rows.iter().map(mail_from_row).collect::<StoreResult<Vec<_>>>()?;
            mails.sort_by_key(|m| (m.next_attempt_at, m.id));
            return Ok(mails);
        }
        let tx = self.begin().await?;
        let result = async {
            let rows = all(&tx, &format!("SELECT id, {COLUMNS} {due}"), vec![now.clone(), now]).await.map_err(db)?;
            if rows.is_empty() {
                return Ok(Vec::new());
            }
            let ids = rows.iter().map(|r| col::<Uuid>(r, "id")).collect::<StoreResult<Vec<Uuid>>>()?;
            let mut values = vec![lease];
            values.extend(ids.iter().map(|id| uid(*id)));
            exec(&tx, &format!("UPDATE case_mails SET lease_until = ? WHERE id IN ({})", marks(ids.len())), values)
                .await
                .map_err(db)?;
            rows.iter().map(mail_from_row).collect()
        }
        .await;
        finish(tx, result).await
    }

    async fn mail_sent(&self, id: FollowUpId, reply: &str, at: DateTime<Utc>) -> StoreResult<()> {
        let n = exec(
            &self.write,
            "UPDATE case_mails SET state = 'sent', reply = ?, sent_at = ?, lease_until = NULL WHERE id = ?",
            vec![text(reply), Value::BigInt(Some(ts(at))), uid(id)],
        )
        .await
        .map_err(db)?;
        if n == 0 { Err(StoreError::not_found("mail", id)) } else { Ok(()) }
    }

    async fn mail_failed(&self, id: FollowUpId, reply: &str, retry_at: Option<DateTime<Utc>>) -> StoreResult<()> {
        let n =
            match retry_at {
                Some(at) => exec(
                    &self.write,
                    "UPDATE case_mails SET attempts = attempts + 1, reply = ?, lease_until = NULL, next_attempt_at = ? \
                     WHERE id = ?",
                    vec![text(reply), Value::BigInt(Some(ts(at))), uid(id)],
                )
                .await,
                None => exec(
                    &self.write,
                    "UPDATE case_mails SET attempts = attempts + 1, reply = ?, lease_until = NULL, state = 'failed' \
                     WHERE id = ?",
                    vec![text(reply), uid(id)],
                )
                .await,
            }
            .map_err(db)?;
        if n == 0 { Err(StoreError::not_found("mail", id)) } else { Ok(()) }
    }

    async fn requeue_mail(&self, tenant: TenantId, id: FollowUpId, now: DateTime<Utc>) -> StoreResult<CaseMail> {
        let tx = self.begin().await?;
        let result = async {
            let sql = format!("SELECT {COLUMNS} FROM case_mails WHERE id = ? AND tenant_id = ?");
            let row = one(&tx, &sql, vec![uid(id), uid(tenant)]).await.map_err(db)?;
            let Some(row) = row else { return Err(StoreError::not_found("mail", id)) };
            let mut mail = mail_from_row(&row)?;
            if mail.state != MailState::Failed {
                return Err(Conflict::State(format!("mail {id} is {}, not failed", mail.state.as_str())).into());
            }
            exec(
                &tx,
                "UPDATE case_mails SET state = 'queued', next_attempt_at = ?, lease_until = NULL WHERE id = ?",
                vec![Value::BigInt(Some(ts(now))), uid(id)],
            )
            .await
            .map_err(db)?;
            mail.state = MailState::Queued;
            mail.next_attempt_at = now;
            Ok(mail)
        }
        .await;
        finish(tx, result).await
    }

    async fn mail(&self, tenant: TenantId, id: FollowUpId) -> StoreResult<Option<CaseMail>> {
        let sql = format!("SELECT {COLUMNS} FROM case_mails WHERE id = ? AND tenant_id = ?");
        let row = one(&self.read, &sql, vec![uid(id), uid(tenant)]).await.map_err(db)?;
        row.as_ref().map(mail_from_row).transpose()
    }

    async fn last_message_ids(&self, tenant: TenantId, case: CaseId, max: u32) -> StoreResult<Vec<String>> {
        if max == 0 {
            return Ok(Vec::new());
        }
        // Only the `Message-ID`s leave the database (not the documents and their bodies),
        // the newest `max` through `case_mails_by_case`.
        let id =
            if self.is_postgres() { "CAST(doc AS json) ->> 'message_id'" } else { "json_extract(doc, '$.message_id')" };
        let sql = format!(
            "SELECT {id} AS message_id FROM case_mails WHERE case_id = ? AND tenant_id = ? \
             ORDER BY queued_at DESC, id DESC{}",
            limit(max.into())
        );
        let rows = all(&self.read, &sql, vec![uid(case), uid(tenant)]).await.map_err(db)?;
        let mut ids = rows.iter().map(|r| col::<String>(r, "message_id")).collect::<StoreResult<Vec<_>>>()?;
        ids.reverse();
        Ok(ids)
    }

    async fn mails_of_case(&self, tenant: TenantId, case: CaseId) -> StoreResult<Vec<CaseMail>> {
        let sql =
            format!("SELECT {COLUMNS} FROM case_mails WHERE case_id = ? AND tenant_id = ? ORDER BY queued_at, id");
        let rows = all(&self.read, &sql, vec![uid(case), uid(tenant)]).await.map_err(db)?;
        rows.iter().map(mail_from_row).collect()
    }

    async fn mails_in_state(&self, tenant: TenantId, state: MailState, max: u32) -> StoreResult<Vec<CaseMail>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM case_mails WHERE tenant_id = ? AND state = ? ORDER BY queued_at, id{}",
            limit(max.into())
        );
        let rows = all(&self.read, &sql, vec![uid(tenant), text(state.as_str())]).await.map_err(db)?;
        rows.iter().map(mail_from_row).collect()
    }
}
