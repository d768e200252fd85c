//! `SlaStore`: the SLA settings of each tenant in `sla_settings` (`m0012`), one row per
//! tenant, kind and name, the document in `doc`; a scope is unique per tenant and kind
//! (a unique index; `NULL` scopes never clash). Writes check name, version and scope in
//! their transaction, so the error names the field whichever backend answers.

use async_trait::async_trait;
use sea_orm::{QueryResult, Value};

use crm_core::StoreError;
use crm_core::ids::TenantId;
use crm_core::ports::{SlaStore, StoreResult};
use crm_core::sla::{SlaSetting, SlaSettingKind};

use crate::connect::{SqlStore, finish};
use crate::error::db;
use crate::sql::{all, col, exec, int, one, parse_doc, text, to_doc, uid};

const COLUMNS: &str = "tenant_id, kind, name, scope, version, doc";

fn decode(row: &QueryResult, tenant: TenantId, kind: SlaSettingKind) -> StoreResult<SlaSetting> {
    let version: i64 = col(row, "version")?;
    let doc: String = col(row, "doc")?;
    Ok(SlaSetting {
        tenant,
        kind,
        name: col(row, "name")?,
        scope: col(row, "scope")?,
        version: u64::try_from(version).unwrap_or(0),
        body: parse_doc(&doc)?,
    })
}

#[async_trait]
impl SlaStore for SqlStore {
    async fn sla_settings(&self, tenant: TenantId, kind: SlaSettingKind) -> StoreResult<Vec<SlaSetting>> {
        let sql = format!("SELECT {COLUMNS} FROM sla_settings WHERE tenant_id = ? AND kind = ? ORDER BY name");
        let rows = all(&self.read, &sql, vec![uid(tenant), text(kind.as_str())]).await.map_err(db)?;
        rows.iter().map(|r| decode(r, tenant, kind)).collect()
    }

    async fn get_sla_setting(
        &self,
        tenant: TenantId,
        kind: SlaSettingKind,
        name: &str,
    ) -> StoreResult<Option<SlaSetting>> {
        let sql = format!("SELECT {COLUMNS} FROM sla_settings WHERE tenant_id = ? AND kind = ? AND name = ?");
        let row = one(&self.read, &sql, vec![uid(tenant), text(kind.as_str()), text(name)]).await.map_err(db)?;
        row.as_ref().map(|r| decode(r, tenant, kind)).transpose()
    }

    async fn put_sla_setting(&self, setting: &SlaSetting, expected_version: Option<u64>) -> StoreResult<()> {
        let tenant = uid(setting.tenant);
        let kind = text(setting.kind.as_str());
        let name = text(setting.name.as_str());
        let scope = Value::String(setting.scope.clone());
        let doc = text(to_doc(&setting.body)?);
        let tx = self.begin().await?;
        let result = async {
            let stored = one(
                &tx,
                "SELECT version FROM sla_settings WHERE tenant_id = ? AND kind = ? AND name = ?",
                vec![tenant.clone(), kind.clone(), name.clone()],
            )
            .await
            .map_err(db)?;
            let stored: Option<i64> = stored.map(|r| col(&r, "version")).transpose()?;
            match (stored, expected_version) {
                (Some(_), None) => return Err(StoreError::duplicate("name", setting.name.clone())),
                (None, Some(_)) => return Err(StoreError::not_found("sla_setting", &setting.name)),
                (Some(v), Some(e)) if u64::try_from(v).ok() != Some(e) => {
                    return Err(StoreError::stale("sla_setting", &setting.name, e));
                }
                _ => {}
            }
            if let Some(s) = &setting.scope {
                let taken = one(
                    &tx,
                    "SELECT name FROM sla_settings WHERE tenant_id = ? AND kind = ? AND scope = ? AND name <> ?",
                    vec![tenant.clone(), kind.clone(), text(s.as_str()), name.clone()],
                )
                .await
                .map_err(db)?;
                if taken.is_some() {
                    return Err(StoreError::duplicate("scope", s.clone()));
                }
            }
            if let Some(e) = expected_version {
                exec(
                    &tx,
                    "UPDATE sla_settings SET scope = ?, version = ?, doc = ? \
                     WHERE tenant_id = ? AND kind = ? AND name = ? AND version = ?",
                    vec![scope, int(setting.version), doc, tenant, kind, name, int(e)],
                )
                .await
                .map_err(db)?;
            } else {
                exec(
                    &tx,
                    &format!("INSERT INTO sla_settings ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)"),
                    vec![tenant, kind, name, scope, int(setting.version), doc],
                )
                .await
                .map_err(db)?;
            }
            Ok(())
        }
        .await;
        finish(tx, result).await
    }

    async fn delete_sla_setting(
        &self,
        tenant: TenantId,
        kind: SlaSettingKind,
        name: &str,
        expected_version: u64,
    ) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            let key = vec![uid(tenant), text(kind.as_str()), text(name)];
            let stored =
                one(&tx, "SELECT version FROM sla_settings WHERE tenant_id = ? AND kind = ? AND name = ?", key.clone())
                    .await
                    .map_err(db)?;
            let stored: i64 = stored
                .map(|r| col(&r, "version"))
                .transpose()?
                .ok_or_else(|| StoreError::not_found("sla_setting", name))?;
            if u64::try_from(stored).ok() != Some(expected_version) {
                return Err(StoreError::stale("sla_setting", name, expected_version));
            }
            exec(&tx, "DELETE FROM sla_settings WHERE tenant_id = ? AND kind = ? AND name = ?", key)
                .await
                .map_err(db)?;
            Ok(())
        }
        .await;
        finish(tx, result).await
    }
}
