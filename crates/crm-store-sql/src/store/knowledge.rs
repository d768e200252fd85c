//! `KnowledgeStore`: articles (current version in `articles`, every version in
//! `article_versions`), the shortcut unique in a tenant (`articles_shortcut_key`) and the
//! solution → problem links (`article_links`), each write with its events in one
//! transaction.

use async_trait::async_trait;
use sea_orm::{ConnectionTrait, Value};

use crm_core::error::StoreError;
use crm_core::event::DomainEvent;
use crm_core::ids::{ArticleId, TenantId};
use crm_core::knowledge::{Article, ArticleFilter};
use crm_core::page::{Page, PageRequest};
use crm_core::ports::{KnowledgeStore, StoreResult};

use super::paging::oldest_first;
use super::{exists, stale_or_missing, write_events};
use crate::connect::{SqlStore, finish};
use crate::error::{db, map_db, with_value};
use crate::sql::{all, exec, from_doc, int, like_escape, marks, one, text, to_doc, ts, uid};

/// The mutable column values of an `articles` row, in `SET` order.
fn article_values(a: &Article) -> StoreResult<Vec<Value>> {
    Ok(vec![
        text(a.state.as_str()),
        text(a.language.clone()),
        int(u64::from(a.public)),
        Value::String(a.shortcut.clone()),
        int(a.version),
        text(to_doc(a)?),
        text(a.search_text()),
    ])
}

/// A taken shortcut, with its value.
fn shortcut_taken(e: StoreError, a: &Article) -> StoreError {
    with_value(e, |field| match field {
        "shortcut" => a.shortcut.clone(),
        "id" => Some(a.id.to_string()),
        _ => None,
    })
}

/// Checks the linked problems are articles of the tenant, then replaces the article's links
/// and keeps its version, in the caller's transaction.
async fn write_links_and_version<C: ConnectionTrait>(c: &C, a: &Article) -> StoreResult<()> {
    let tenant = a.tenant.as_uuid();
    for problem in &a.solves {
        if !exists(c, "articles", tenant, problem.as_uuid()).await? {
            return Err(StoreError::InvalidReference {
                field: "solves".into(),
                reason: format!("article {problem} does not exist"),
            });
        }
    }
    exec(c, "DELETE FROM article_links WHERE solution_id = ?", vec![uid(a.id)]).await.map_err(db)?;
    for problem in &a.solves {
        exec(
            c,
            "INSERT INTO article_links (problem_id, solution_id, tenant_id) VALUES (?, ?, ?)",
            vec![uid(*problem), uid(a.id), uid(a.tenant)],
        )
        .await
        .map_err(|e| map_db(e, "solves"))?;
    }
    exec(
        c,
        "INSERT INTO article_versions (article_id, version, tenant_id, doc) VALUES (?, ?, ?, ?)",
        vec![uid(a.id), int(a.version), uid(a.tenant), text(to_doc(a)?)],
    )
    .await
    .map_err(|e| map_db(e, "article"))?;
    Ok(())
}

fn articles(rows: &[sea_orm::QueryResult]) -> StoreResult<Vec<Article>> {
    rows.iter().map(from_doc).collect()
}

#[async_trait]
impl KnowledgeStore for SqlStore {
    async fn insert_article(&self, article: &Article, events: &[DomainEvent]) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            let sql = format!(
                "INSERT INTO articles (state, language, is_public, shortcut, version, doc, search_text, id, tenant_id, \
                 created_at) VALUES ({})",
                marks(10)
            );
            let mut values = article_values(article)?;
            values.extend([uid(article.id), uid(article.tenant), Value::BigInt(Some(ts(article.created_at)))]);
            exec(&tx, &sql, values).await.map_err(|e| shortcut_taken(map_db(e, "solves"), article))?;
            write_links_and_version(&tx, article).await?;
            write_events(&tx, events).await
        }
        .await;
        finish(tx, result).await
    }

    async fn update_article(
        &self,
        article: &Article,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            let sql = "UPDATE articles SET state = ?, language = ?, is_public = ?, shortcut = ?, version = ?, doc = ?, \
                       search_text = ? WHERE id = ? AND tenant_id = ? AND version = ?";
            let mut values = article_values(article)?;
            values.extend([uid(article.id), uid(article.tenant), int(expected_version)]);
            let n = exec(&tx, sql, values).await.map_err(|e| shortcut_taken(map_db(e, "solves"), article))?;
            if n == 0 {
                let (tenant, id) = (article.tenant.as_uuid(), article.id.as_uuid());
                return Err(stale_or_missing(&tx, "articles", "article", tenant, id, expected_version).await);
            }
            write_links_and_version(&tx, article).await?;
            write_events(&tx, events).await
        }
        .await;
        finish(tx, result).await
    }

    async fn get_article(&self, tenant: TenantId, id: ArticleId) -> StoreResult<Option<Article>> {
        let row =
            one(&self.read, "SELECT doc FROM articles WHERE id = ? AND tenant_id = ?", vec![uid(id), uid(tenant)])
                .await
                .map_err(db)?;
        row.as_ref().map(from_doc).transpose()
    }

    async fn article_version(&self, tenant: TenantId, id: ArticleId, version: u64) -> StoreResult<Option<Article>> {
        let row = one(
            &self.read,
            "SELECT doc FROM article_versions WHERE article_id = ? AND version = ? AND tenant_id = ?",
            vec![uid(id), int(version), uid(tenant)],
        )
        .await
        .map_err(db)?;
        row.as_ref().map(from_doc).transpose()
    }

    async fn article_versions(&self, tenant: TenantId, id: ArticleId) -> StoreResult<Vec<Article>> {
        let rows = all(
            &self.read,
            "SELECT doc FROM article_versions WHERE article_id = ? AND tenant_id = ? ORDER BY version",
            vec![uid(id), uid(tenant)],
        )
        .await
        .map_err(db)?;
        articles(&rows)
    }

    async fn article_by_shortcut(&self, tenant: TenantId, shortcut: &str) -> StoreResult<Option<Article>> {
        let row = one(
            &self.read,
            "SELECT doc FROM articles WHERE tenant_id = ? AND shortcut = ?",
            vec![uid(tenant), text(shortcut)],
        )
        .await
        .map_err(db)?;
        row.as_ref().map(from_doc).transpose()
    }

    async fn list_articles(
        &self,
        tenant: TenantId,
        filter: &ArticleFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Article>> {
        let mut sql = String::from("SELECT doc FROM articles WHERE tenant_id = ?");
        let mut values = vec![uid(tenant)];
        if let Some(state) = filter.state {
            sql.push_str(" AND state = ?");
            values.push(text(state.as_str()));
        }
        if let Some(language) = &filter.language {
            sql.push_str(" AND language = ?");
            values.push(text(language.clone()));
        }
        if let Some(public) = filter.public {
            sql.push_str(" AND is_public = ?");
            values.push(int(u64::from(public)));
        }
        if let Some(t) = &filter.text {
            sql.push_str(" AND search_text LIKE ? ESCAPE '\\'");
            values.push(text(format!("%{}%", like_escape(t))));
        }
        oldest_first(&self.read, sql, values, "created_at", page, |a: &Article| (a.created_at, a.id)).await
    }

    async fn solutions_of(&self, tenant: TenantId, problem: ArticleId) -> StoreResult<Vec<Article>> {
        let rows = all(
            &self.read,
            "SELECT a.doc AS doc FROM article_links l JOIN articles a ON a.id = l.solution_id \
             WHERE l.problem_id = ? AND l.tenant_id = ? ORDER BY a.created_at, a.id",
            vec![uid(problem), uid(tenant)],
        )
        .await
        .map_err(db)?;
        articles(&rows)
    }
}
