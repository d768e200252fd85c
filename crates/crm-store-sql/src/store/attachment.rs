//! `AttachmentStore`: the metadata of attachments (CAS-6), one row each in `attachments`
//! (migration `m0019`, [`Attachments`]); the record itself is the row's `doc`, the columns
//! are what it is found by (its case, its blob).

use async_trait::async_trait;
use sea_orm::{ConnectionTrait, DbErr, Value};
use sea_orm_migration::{MigrationName, MigrationTrait, SchemaManager};

use crm_core::StoreError;
use crm_core::attachment::Attachment;
use crm_core::ids::{AttachmentId, CaseId, TenantId};
use crm_core::ports::{AttachmentStore, BlobKey, StoreResult};

use super::require;
use crate::connect::{SqlStore, finish};
use crate::error::db;
use crate::migration::statements;
use crate::sql::{all, exec, from_doc, one, text, to_doc, ts, uid};

/// `m0019`: the attachments of cases and follow-ups (CAS-6): the record as `doc`, its case
/// (a case's list reads `attachments_by_case`) and the SHA-256 of its blob (whether a blob
/// is still used reads `attachments_by_blob`).
pub(crate) struct Attachments;

impl MigrationName for Attachments {
    fn name(&self) -> &str {
        "m0019_attachments"
    }
}

/// The DDL of `m0019`, both backends.
const ATTACHMENTS: &str = "
CREATE TABLE attachments (
    id {uuid} NOT NULL,
    tenant_id {uuid} NOT NULL,
    case_id {uuid} NOT NULL,
    follow_up_id {uuid},
    sha256 {text} NOT NULL,
    uploaded_at BIGINT NOT NULL,
    doc TEXT NOT NULL,
    CONSTRAINT attachments_pkey PRIMARY KEY (id),
    CONSTRAINT attachments_case_fk FOREIGN KEY (case_id) REFERENCES cases (id)
);
CREATE INDEX attachments_by_case ON attachments (case_id, uploaded_at, id);
CREATE INDEX attachments_by_blob ON attachments (sha256)";

#[async_trait::async_trait]
impl MigrationTrait for Attachments {
    /// In one transaction on every backend: the table and its indexes land together.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    #[allow(elided_lifetimes_in_paths)] // the trait's own signature
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        for statement in statements(ATTACHMENTS, conn.get_database_backend()) {
            conn.execute_unprepared(&statement).await?;
        }
        Ok(())
    }
}

#[async_trait]
impl AttachmentStore for SqlStore {
    async fn insert_attachment(&self, a: &Attachment) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            require(&tx, "cases", "case", a.tenant.as_uuid(), a.case.as_uuid()).await?;
            exec(
                &tx,
                "INSERT INTO attachments (id, tenant_id, case_id, follow_up_id, sha256, uploaded_at, doc, \
                 original_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                vec![
                    uid(a.id.as_uuid()),
                    uid(a.tenant),
                    uid(a.case),
                    Value::Uuid(a.follow_up.map(|f| f.as_uuid())),
                    text(a.sha256.as_str()),
                    Value::BigInt(Some(ts(a.uploaded_at))),
                    text(to_doc(a)?),
                    a.original.as_ref().map_or(Value::String(None), |o| text(o.sha256.as_str())),
                ],
            )
            .await
            .map_err(|e| crate::error::map_db(e, "case"))?;
            Ok(())
        }
        .await;
        finish(tx, result).await
    }

    async fn attachment(&self, tenant: TenantId, id: AttachmentId) -> StoreResult<Option<Attachment>> {
        let row = one(
            &self.read,
            "SELECT doc FROM attachments WHERE id = ? AND tenant_id = ?",
            vec![uid(id.as_uuid()), uid(tenant)],
        )
        .await
        .map_err(db)?;
        row.as_ref().map(from_doc).transpose()
    }

    async fn attachments_of_case(&self, tenant: TenantId, case: CaseId) -> StoreResult<Vec<Attachment>> {
        let rows = all(
            &self.read,
            "SELECT doc FROM attachments WHERE case_id = ? AND tenant_id = ? ORDER BY uploaded_at, id",
            vec![uid(case), uid(tenant)],
        )
        .await
        .map_err(db)?;
        rows.iter().map(from_doc).collect()
    }

    async fn delete_attachment(&self, tenant: TenantId, id: AttachmentId) -> StoreResult<bool> {
        let tx = self.begin().await?;
        let result = async {
            let row = one(
                &tx,
                "SELECT doc FROM attachments WHERE id = ? AND tenant_id = ?",
                vec![uid(id.as_uuid()), uid(tenant)],
            )
            .await
            .map_err(db)?;
            let gone: Attachment =
                row.as_ref().map(from_doc).transpose()?.ok_or_else(|| StoreError::not_found("attachment", id))?;
            exec(&tx, "DELETE FROM attachments WHERE id = ?", vec![uid(id.as_uuid())]).await.map_err(db)?;
            used(&tx, &gone.sha256).await
        }
        .await;
        finish(tx, result).await
    }

    async fn blob_in_use(&self, key: &BlobKey) -> StoreResult<bool> {
        used(&self.read, key).await
    }
}

/// Whether an attachment uses the blob `key`, as its bytes or as a kept original (`m0036`).
async fn used<C: ConnectionTrait>(c: &C, key: &BlobKey) -> StoreResult<bool> {
    let row = one(
        c,
        "SELECT 1 AS one FROM attachments WHERE sha256 = ? \
         UNION ALL SELECT 1 AS one FROM attachments WHERE original_sha256 = ? LIMIT 1",
        vec![text(key.as_str()), text(key.as_str())],
    )
    .await
    .map_err(db)?;
    Ok(row.is_some())
}
