//! `ResponseStore`: standard responses (current version in `standard_responses`, every
//! version in `standard_response_versions`, the shortcut unique in a tenant), their shared
//! folders (`response_folders`, a name unique among siblings), the agents' favourites
//! (`response_favourites`) and the suggestion candidates (migration `m0022`). The text
//! filter is a `LIKE` on the folded `search_text` the core computes.

use async_trait::async_trait;
use sea_orm::{ConnectionTrait, Value};
use uuid::Uuid;

use crm_core::error::{Conflict, StoreError};
use crm_core::event::DomainEvent;
use crm_core::ids::{AgentId, ResponseFolderId, ResponseId, TenantId};
use crm_core::knowledge::Article;
use crm_core::knowledge::response::{ResponseFilter, ResponseFolder, StandardResponse, folder_not_empty};
use crm_core::page::{Page, PageRequest};
use crm_core::ports::{ResponseStore, StoreResult};

use super::paging::oldest_first;
use super::{exists, stale_or_missing, write_events};
use crate::connect::{SqlStore, finish};
use crate::error::{db, map_db, with_value};
use crate::sql::{all, col, exec, from_doc, int, like_escape, limit, one, text, to_doc, ts, uid};

/// The mutable column values of a `standard_responses` row, in `SET` order.
fn response_values(r: &StandardResponse) -> StoreResult<Vec<Value>> {
    Ok(vec![
        Value::Uuid(r.folder.map(|f| f.as_uuid())),
        text(r.language.clone()),
        Value::String(r.shortcut.clone()),
        text(r.tags_key()),
        text(r.search_text()),
        int(r.version),
        text(to_doc(r)?),
    ])
}

/// A taken shortcut or id, with its value.
fn taken(e: StoreError, r: &StandardResponse) -> StoreError {
    with_value(e, |field| match field {
        "shortcut" => r.shortcut.clone(),
        "id" => Some(r.id.to_string()),
        _ => None,
    })
}

/// Checks the folder is one of the tenant's, in the caller's transaction.
async fn check_folder<C: ConnectionTrait>(c: &C, r: &StandardResponse) -> StoreResult<()> {
    if let Some(folder) = r.folder
        && !exists(c, "response_folders", r.tenant.as_uuid(), folder.as_uuid()).await?
    {
        return Err(StoreError::InvalidReference {
            field: "folder".into(),
            reason: format!("folder {folder} does not exist"),
        });
    }
    Ok(())
}

/// Keeps the version as written, in the caller's transaction.
async fn keep_version<C: ConnectionTrait>(c: &C, r: &StandardResponse) -> StoreResult<()> {
    exec(
        c,
        "INSERT INTO standard_response_versions (response_id, version, tenant_id, doc) VALUES (?, ?, ?, ?)",
        vec![uid(r.id), int(r.version), uid(r.tenant), text(to_doc(r)?)],
    )
    .await
    .map_err(|e| map_db(e, "standard_response"))?;
    Ok(())
}

/// The mutable column values of a `response_folders` row, in `SET` order.
fn folder_values(f: &ResponseFolder) -> StoreResult<Vec<Value>> {
    Ok(vec![text(f.name_key()), int(f.version), text(to_doc(f)?)])
}

/// Checks a folder's parent is one of the tenant's.
async fn check_parent<C: ConnectionTrait>(c: &C, f: &ResponseFolder) -> StoreResult<()> {
    if let Some(parent) = f.parent
        && !exists(c, "response_folders", f.tenant.as_uuid(), parent.as_uuid()).await?
    {
        return Err(StoreError::InvalidReference {
            field: "parent".into(),
            reason: format!("folder {parent} does not exist"),
        });
    }
    Ok(())
}

fn docs<T: serde::de::DeserializeOwned>(rows: &[sea_orm::QueryResult]) -> StoreResult<Vec<T>> {
    rows.iter().map(from_doc).collect()
}

/// `(search_text LIKE ? OR …)` for each word, and its values.
fn any_word(words: &[String]) -> (String, Vec<Value>) {
    let clause = vec!["search_text LIKE ? ESCAPE '\\'"; words.len()].join(" OR ");
    (format!("({clause})"), words.iter().map(|w| text(format!("%{}%", like_escape(w)))).collect())
}

#[async_trait]
impl ResponseStore for SqlStore {
    async fn insert_response(&self, response: &StandardResponse, events: &[DomainEvent]) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            check_folder(&tx, response).await?;
            let sql = "INSERT INTO standard_responses (folder_id, language, shortcut, tags_key, search_text, version, \
                       doc, id, tenant_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
            let mut values = response_values(response)?;
            values.extend([uid(response.id), uid(response.tenant), Value::BigInt(Some(ts(response.created_at)))]);
            exec(&tx, sql, values).await.map_err(|e| taken(map_db(e, "folder"), response))?;
            keep_version(&tx, response).await?;
            write_events(&tx, events).await
        }
        .await;
        finish(tx, result).await
    }

    async fn update_response(
        &self,
        response: &StandardResponse,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            check_folder(&tx, response).await?;
            let sql = "UPDATE standard_responses SET folder_id = ?, language = ?, shortcut = ?, tags_key = ?, \
                       search_text = ?, version = ?, doc = ? WHERE id = ? AND tenant_id = ? AND version = ?";
            let mut values = response_values(response)?;
            values.extend([uid(response.id), uid(response.tenant), int(expected_version)]);
            let n = exec(&tx, sql, values).await.map_err(|e| taken(map_db(e, "folder"), response))?;
            if n == 0 {
                let (tenant, id) = (response.tenant.as_uuid(), response.id.as_uuid());
                return Err(stale_or_missing(
                    &tx,
                    "standard_responses",
                    "standard_response",
                    tenant,
                    id,
                    expected_version,
                )
                .await);
            }
            keep_version(&tx, response).await?;
            write_events(&tx, events).await
        }
        .await;
        finish(tx, result).await
    }

    async fn delete_response(
        &self,
        tenant: TenantId,
        id: ResponseId,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            let (t, r) = (uid(tenant), uid(id));
            let found = one(
                &tx,
                "SELECT version FROM standard_responses WHERE id = ? AND tenant_id = ?",
                vec![r.clone(), t.clone()],
            )
            .await
            .map_err(db)?;
            let Some(row) = found else { return Err(StoreError::not_found("standard_response", id)) };
            let version: i64 = col(&row, "version")?;
            if u64::try_from(version).ok() != Some(expected_version) {
                return Err(StoreError::stale("standard_response", id, expected_version));
            }
            exec(&tx, "DELETE FROM response_favourites WHERE response_id = ?", vec![r.clone()]).await.map_err(db)?;
            exec(&tx, "DELETE FROM standard_response_versions WHERE response_id = ?", vec![r.clone()])
                .await
                .map_err(db)?;
            exec(&tx, "DELETE FROM standard_responses WHERE id = ? AND tenant_id = ?", vec![r, t]).await.map_err(db)?;
            write_events(&tx, events).await
        }
        .await;
        finish(tx, result).await
    }

    async fn get_response(&self, tenant: TenantId, id: ResponseId) -> StoreResult<Option<StandardResponse>> {
        let sql = "SELECT doc FROM standard_responses WHERE id = ? AND tenant_id = ?";
        let row = one(&self.read, sql, vec![uid(id), uid(tenant)]).await.map_err(db)?;
        row.as_ref().map(from_doc).transpose()
    }

    async fn response_versions(&self, tenant: TenantId, id: ResponseId) -> StoreResult<Vec<StandardResponse>> {
        let rows = all(
            &self.read,
            "SELECT doc FROM standard_response_versions WHERE response_id = ? AND tenant_id = ? ORDER BY version",
            vec![uid(id), uid(tenant)],
        )
        .await
        .map_err(db)?;
        docs(&rows)
    }

    async fn response_by_shortcut(&self, tenant: TenantId, shortcut: &str) -> StoreResult<Option<StandardResponse>> {
        let sql = "SELECT doc FROM standard_responses WHERE tenant_id = ? AND shortcut = ?";
        let row = one(&self.read, sql, vec![uid(tenant), text(shortcut)]).await.map_err(db)?;
        row.as_ref().map(from_doc).transpose()
    }

    async fn list_responses(
        &self,
        tenant: TenantId,
        filter: &ResponseFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<StandardResponse>> {
        let mut sql = String::from("SELECT doc FROM standard_responses WHERE tenant_id = ?");
        let mut values = vec![uid(tenant)];
        if let Some(folder) = filter.folder {
            sql.push_str(" AND folder_id = ?");
            values.push(uid(folder));
        }
        if let Some(tag) = &filter.tag {
            sql.push_str(" AND tags_key LIKE ? ESCAPE '\\'");
            values.push(text(format!("%,{},%", like_escape(tag))));
        }
        if let Some(language) = &filter.language {
            sql.push_str(" AND language = ?");
            values.push(text(language.clone()));
        }
        if let Some(agent) = filter.favourites_of {
            sql.push_str(
                " AND EXISTS (SELECT 1 FROM response_favourites f \
                 WHERE f.response_id = standard_responses.id AND f.agent_id = ? AND f.tenant_id = ?)",
            );
            values.extend([uid(agent), uid(tenant)]);
        }
        if let Some(t) = filter.text() {
            sql.push_str(" AND search_text LIKE ? ESCAPE '\\'");
            values.push(text(format!("%{}%", like_escape(t))));
        }
        oldest_first(&self.read, sql, values, "created_at", page, |r: &StandardResponse| (r.created_at, r.id)).await
    }

    async fn add_favourite(&self, tenant: TenantId, agent: AgentId, response: ResponseId) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            if !exists(&tx, "standard_responses", tenant.as_uuid(), response.as_uuid()).await? {
                return Err(StoreError::not_found("standard_response", response));
            }
            exec(
                &tx,
                "INSERT INTO response_favourites (agent_id, response_id, tenant_id) VALUES (?, ?, ?) \
                 ON CONFLICT (agent_id, response_id) DO NOTHING",
                vec![uid(agent), uid(response), uid(tenant)],
            )
            .await
            .map_err(|e| map_db(e, "response"))?;
            Ok(())
        }
        .await;
        finish(tx, result).await
    }

    async fn remove_favourite(&self, tenant: TenantId, agent: AgentId, response: ResponseId) -> StoreResult<()> {
        exec(
            &self.write,
            "DELETE FROM response_favourites WHERE agent_id = ? AND response_id = ? AND tenant_id = ?",
            vec![uid(agent), uid(response), uid(tenant)],
        )
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn count_favourites(&self, tenant: TenantId, agent: AgentId) -> StoreResult<u64> {
        let sql = "SELECT COUNT(*) AS n FROM response_favourites WHERE agent_id = ? AND tenant_id = ?";
        let row = one(&self.read, sql, vec![uid(agent), uid(tenant)]).await.map_err(db)?;
        let n: i64 = row.as_ref().map(|r| col(r, "n")).transpose()?.unwrap_or(0);
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn insert_folder(&self, folder: &ResponseFolder) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            check_parent(&tx, folder).await?;
            let sql = "INSERT INTO response_folders (name_key, version, doc, id, tenant_id, parent_id, parent_key, \
                       created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
            let mut values = folder_values(folder)?;
            values.extend([
                uid(folder.id),
                uid(folder.tenant),
                Value::Uuid(folder.parent.map(|p| p.as_uuid())),
                uid(folder.parent.map_or(Uuid::nil(), |p| p.as_uuid())),
                Value::BigInt(Some(ts(folder.created_at))),
            ]);
            exec(&tx, sql, values).await.map_err(|e| {
                with_value(map_db(e, "parent"), |field| match field {
                    "name" => Some(folder.name.clone()),
                    _ => Some(folder.id.to_string()),
                })
            })?;
            Ok(())
        }
        .await;
        finish(tx, result).await
    }

    async fn update_folder(&self, folder: &ResponseFolder, expected_version: u64) -> StoreResult<()> {
        let sql = "UPDATE response_folders SET name_key = ?, version = ?, doc = ? \
                   WHERE id = ? AND tenant_id = ? AND version = ?";
        let mut values = folder_values(folder)?;
        values.extend([uid(folder.id), uid(folder.tenant), int(expected_version)]);
        let n = exec(&self.write, sql, values)
            .await
            .map_err(|e| with_value(map_db(e, "parent"), |_| Some(folder.name.clone())))?;
        if n == 0 {
            let (tenant, id) = (folder.tenant.as_uuid(), folder.id.as_uuid());
            return Err(stale_or_missing(
                &self.read,
                "response_folders",
                "response_folder",
                tenant,
                id,
                expected_version,
            )
            .await);
        }
        Ok(())
    }

    async fn delete_folder(&self, tenant: TenantId, id: ResponseFolderId) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            if !exists(&tx, "response_folders", tenant.as_uuid(), id.as_uuid()).await? {
                return Err(StoreError::not_found("response_folder", id));
            }
            let count = |table: &'static str, column: &'static str| {
                let tx = &tx;
                async move {
                    let sql = format!("SELECT COUNT(*) AS n FROM {table} WHERE {column} = ?");
                    let row = one(tx, &sql, vec![uid(id)]).await.map_err(db)?;
                    let n: i64 = row.as_ref().map(|r| col(r, "n")).transpose()?.unwrap_or(0);
                    StoreResult::Ok(usize::try_from(n).unwrap_or(0))
                }
            };
            let responses = count("standard_responses", "folder_id").await?;
            let folders = count("response_folders", "parent_id").await?;
            if responses > 0 || folders > 0 {
                return Err(StoreError::Conflict(Conflict::State(folder_not_empty(id, responses, folders))));
            }
            // A response filed into it meanwhile fails the foreign key: still not empty.
            exec(&tx, "DELETE FROM response_folders WHERE id = ? AND tenant_id = ?", vec![uid(id), uid(tenant)])
                .await
                .map_err(|e| match map_db(e, "folder") {
                    StoreError::InvalidReference { .. } => {
                        StoreError::Conflict(Conflict::State(folder_not_empty(id, 1, 0)))
                    }
                    other => other,
                })?;
            Ok(())
        }
        .await;
        finish(tx, result).await
    }

    async fn get_folder(&self, tenant: TenantId, id: ResponseFolderId) -> StoreResult<Option<ResponseFolder>> {
        let sql = "SELECT doc FROM response_folders WHERE id = ? AND tenant_id = ?";
        let row = one(&self.read, sql, vec![uid(id), uid(tenant)]).await.map_err(db)?;
        row.as_ref().map(from_doc).transpose()
    }

    async fn list_folders(&self, tenant: TenantId) -> StoreResult<Vec<ResponseFolder>> {
        let sql = "SELECT doc FROM response_folders WHERE tenant_id = ? ORDER BY name_key, id";
        let rows = all(&self.read, sql, vec![uid(tenant)]).await.map_err(db)?;
        docs(&rows)
    }

    async fn suggestion_candidates(
        &self,
        tenant: TenantId,
        words: &[String],
        max: u32,
    ) -> StoreResult<(Vec<StandardResponse>, Vec<Article>)> {
        if words.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let (clause, matches) = any_word(words);
        let mut values = vec![uid(tenant)];
        values.extend(matches.iter().cloned());
        let sql = format!("SELECT doc FROM standard_responses WHERE tenant_id = ? AND {clause}{}", limit(max.into()));
        let responses = docs(&all(&self.read, &sql, values).await.map_err(db)?)?;
        let mut values = vec![uid(tenant)];
        values.extend(matches);
        let sql = format!(
            "SELECT doc FROM articles WHERE tenant_id = ? AND state = 'published' AND {clause}{}",
            limit(max.into())
        );
        let articles = docs(&all(&self.read, &sql, values).await.map_err(db)?)?;
        Ok((responses, articles))
    }
}
