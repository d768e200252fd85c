//! `CaseCatalogueStore` (issue 27): the tenant's case lists (`case_list_entries`), a case's
//! children (`cases_by_parent`), and the SQL the case store shares for tags (`case_tags`
//! rows written with the case) and for the list filters on tag, category, type and parent.

use async_trait::async_trait;
use sea_orm::{ConnectionTrait, Value};

use crm_core::StoreError;
use crm_core::case::{Case, CaseFilter, CaseListEntry, CaseListKind, list_entry_in_use};
use crm_core::error::Conflict;
use crm_core::ids::{CaseId, TenantId};
use crm_core::ports::{CaseCatalogueStore, StoreResult};

use crate::connect::{SqlStore, finish};
use crate::error::db;
use crate::sql::{all, col, exec, from_doc, one, row_marks, text, to_doc, uid};

/// The insert of a case's tags (`None` when it has none).
pub(crate) fn tag_rows(case: &Case) -> Option<(String, Vec<Value>)> {
    if case.tags().is_empty() {
        return None;
    }
    let mut values = Vec::with_capacity(case.tags().len() * 3);
    for tag in case.tags() {
        values.extend([uid(case.tenant), uid(case.id), text(tag.as_str())]);
    }
    Some((
        format!("INSERT INTO case_tags (tenant_id, case_id, tag) VALUES {}", row_marks(case.tags().len(), 3)),
        values,
    ))
}

/// Replaces a case's tag rows by its tags, in the caller's transaction.
pub(crate) async fn replace_tags<C: ConnectionTrait>(c: &C, case: &Case) -> StoreResult<()> {
    exec(c, "DELETE FROM case_tags WHERE case_id = ?", vec![uid(case.id)]).await.map_err(db)?;
    if let Some((sql, values)) = tag_rows(case) {
        exec(c, &sql, values).await.map_err(db)?;
    }
    Ok(())
}

/// Appends the filter's conditions on tag, category, type and parent to a `cases` query.
pub(crate) fn list_conditions(sql: &mut String, values: &mut Vec<Value>, filter: &CaseFilter) {
    for (column, value) in [("category", &filter.category), ("case_type", &filter.case_type)] {
        if let Some(v) = value {
            sql.push_str(&format!(" AND {column} = ?"));
            values.push(text(v.as_str()));
        }
    }
    if let Some(p) = filter.parent {
        sql.push_str(" AND parent_id = ?");
        values.push(uid(p));
    }
    if let Some(tag) = &filter.tag {
        sql.push_str(" AND id IN (SELECT case_id FROM case_tags WHERE tenant_id = ? AND tag = ?)");
        values.extend([values[0].clone(), text(tag.as_str())]);
    }
}

/// The `cases` column that carries an entry of `kind`.
fn column_of(kind: CaseListKind) -> &'static str {
    match kind {
        CaseListKind::Category => "category",
        CaseListKind::Type => "case_type",
        CaseListKind::Resolution => "resolution",
    }
}

#[async_trait]
impl CaseCatalogueStore for SqlStore {
    async fn put_case_list_entry(&self, entry: &CaseListEntry) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            let key = vec![uid(entry.tenant), text(entry.kind.as_str()), text(entry.key.as_str())];
            exec(&tx, "DELETE FROM case_list_entries WHERE tenant_id = ? AND kind = ? AND entry_key = ?", key.clone())
                .await
                .map_err(db)?;
            let mut values = key;
            values.push(text(to_doc(entry)?));
            exec(&tx, "INSERT INTO case_list_entries (tenant_id, kind, entry_key, doc) VALUES (?, ?, ?, ?)", values)
                .await
                .map_err(db)?;
            Ok(())
        }
        .await;
        finish(tx, result).await
    }

    async fn case_list_entries(&self, tenant: TenantId, kind: Option<CaseListKind>) -> StoreResult<Vec<CaseListEntry>> {
        let mut sql = String::from("SELECT doc FROM case_list_entries WHERE tenant_id = ?");
        let mut values = vec![uid(tenant)];
        if let Some(k) = kind {
            sql.push_str(" AND kind = ?");
            values.push(text(k.as_str()));
        }
        let rows = all(&self.read, &sql, values).await.map_err(db)?;
        let mut entries: Vec<CaseListEntry> = rows.iter().map(from_doc).collect::<StoreResult<_>>()?;
        // By kind in the core's order (the column sorts by name), then key.
        entries.sort_by(|a, b| (a.kind, &a.key).cmp(&(b.kind, &b.key)));
        Ok(entries)
    }

    async fn delete_case_list_entry(&self, tenant: TenantId, kind: CaseListKind, key: &str) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            let id = vec![uid(tenant), text(kind.as_str()), text(key)];
            // Lock the entry first (PostgreSQL), so a case written meanwhile is counted
            // after it or refused by the use case's list check after the delete.
            let lock = if self.backend == sea_orm::DbBackend::Postgres { " FOR UPDATE" } else { "" };
            let found = one(
                &tx,
                &format!(
                    "SELECT 1 AS x FROM case_list_entries WHERE tenant_id = ? AND kind = ? AND entry_key = ?{lock}"
                ),
                id.clone(),
            )
            .await
            .map_err(db)?;
            if found.is_none() {
                return Err(StoreError::not_found("case_list_entry", format!("{kind}/{key}")));
            }
            let row = one(
                &tx,
                &format!("SELECT COUNT(*) AS n FROM cases WHERE tenant_id = ? AND {} = ?", column_of(kind)),
                vec![uid(tenant), text(key)],
            )
            .await
            .map_err(db)?;
            let used: i64 = match row {
                Some(r) => col(&r, "n")?,
                None => 0,
            };
            if let Some(reason) = list_entry_in_use(u64::try_from(used).unwrap_or_default()) {
                return Err(StoreError::Conflict(Conflict::State(reason)));
            }
            exec(&tx, "DELETE FROM case_list_entries WHERE tenant_id = ? AND kind = ? AND entry_key = ?", id)
                .await
                .map_err(db)?;
            Ok(())
        }
        .await;
        finish(tx, result).await
    }

    async fn case_children(&self, tenant: TenantId, parent: CaseId) -> StoreResult<Vec<Case>> {
        let rows = all(
            &self.read,
            "SELECT doc FROM cases WHERE parent_id = ? AND tenant_id = ? AND deleted_at IS NULL ORDER BY number",
            vec![uid(parent), uid(tenant)],
        )
        .await
        .map_err(db)?;
        rows.iter().map(from_doc).collect()
    }
}
