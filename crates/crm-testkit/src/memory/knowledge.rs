//! [`KnowledgeStore`] for [`MemoryStore`]: articles with every version, unique shortcut
//! codes and solution → problem links.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_core::error::StoreError;
use crm_core::event::DomainEvent;
use crm_core::ids::{ArticleId, TenantId};
use crm_core::knowledge::{Article, ArticleFilter};
use crm_core::page::{Page, PageRequest};
use crm_core::ports::{KnowledgeStore, StoreResult};

use super::{MemoryStore, State, check_version, decode_cursor, invalid_reference, paginate};

/// Checks what a write of `article` needs: its shortcut free in the tenant, its problems
/// articles of the tenant.
fn check_article(state: &State, article: &Article) -> StoreResult<()> {
    if let Some(code) = &article.shortcut {
        let taken = state
            .articles
            .values()
            .filter_map(|versions| versions.last())
            .any(|other| other.tenant == article.tenant && other.id != article.id && other.has_shortcut(code));
        if taken {
            return Err(StoreError::duplicate("shortcut", code.clone()));
        }
    }
    for problem in &article.solves {
        let known = state.articles.get(problem).and_then(|v| v.last()).is_some_and(|p| p.tenant == article.tenant);
        if !known {
            return Err(invalid_reference("solves", format_args!("article {problem}")));
        }
    }
    Ok(())
}

/// The current version of every article of `tenant`.
fn current(state: &State, tenant: TenantId) -> impl Iterator<Item = &Article> {
    state.articles.values().filter_map(|v| v.last()).filter(move |a| a.tenant == tenant)
}

#[async_trait]
impl KnowledgeStore for MemoryStore {
    async fn insert_article(&self, article: &Article, events: &[DomainEvent]) -> StoreResult<()> {
        let mut state = self.write()?;
        if state.articles.contains_key(&article.id) {
            return Err(StoreError::duplicate("id", article.id.to_string()));
        }
        check_article(&state, article)?;
        let rows = state.stage_events(events)?;
        state.articles.insert(article.id, vec![article.clone()]);
        state.commit_events(rows);
        Ok(())
    }

    async fn update_article(
        &self,
        article: &Article,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let mut state = self.write()?;
        let stored = state
            .articles
            .get(&article.id)
            .and_then(|v| v.last())
            .filter(|a| a.tenant == article.tenant)
            .ok_or_else(|| StoreError::not_found("article", article.id))?;
        check_version("article", article.id, stored.version, expected_version)?;
        check_article(&state, article)?;
        let rows = state.stage_events(events)?;
        state.articles.entry(article.id).or_default().push(article.clone());
        state.commit_events(rows);
        Ok(())
    }

    async fn get_article(&self, tenant: TenantId, id: ArticleId) -> StoreResult<Option<Article>> {
        let state = self.read()?;
        Ok(state.articles.get(&id).and_then(|v| v.last()).filter(|a| a.tenant == tenant).cloned())
    }

    async fn article_version(&self, tenant: TenantId, id: ArticleId, version: u64) -> StoreResult<Option<Article>> {
        let state = self.read()?;
        let versions = state.articles.get(&id).map(Vec::as_slice).unwrap_or_default();
        Ok(versions.iter().find(|a| a.tenant == tenant && a.version == version).cloned())
    }

    async fn article_versions(&self, tenant: TenantId, id: ArticleId) -> StoreResult<Vec<Article>> {
        let state = self.read()?;
        let versions = state.articles.get(&id).map(Vec::as_slice).unwrap_or_default();
        Ok(versions.iter().filter(|a| a.tenant == tenant).cloned().collect())
    }

    async fn article_by_shortcut(&self, tenant: TenantId, shortcut: &str) -> StoreResult<Option<Article>> {
        let state = self.read()?;
        Ok(current(&state, tenant).find(|a| a.has_shortcut(shortcut)).cloned())
    }

    async fn list_articles(
        &self,
        tenant: TenantId,
        filter: &ArticleFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Article>> {
        let state = self.read()?;
        let cursor: Option<(DateTime<Utc>, ArticleId)> = decode_cursor(page)?;
        let mut found: Vec<&Article> = current(&state, tenant)
            .filter(|a| filter.admits(a))
            .filter(|a| cursor.is_none_or(|c| (a.created_at, a.id) > c))
            .collect();
        found.sort_by_key(|a| (a.created_at, a.id));
        Ok(paginate(found, page, |a: &Article| (a.created_at, a.id)))
    }

    async fn solutions_of(&self, tenant: TenantId, problem: ArticleId) -> StoreResult<Vec<Article>> {
        let state = self.read()?;
        let mut found: Vec<Article> =
            current(&state, tenant).filter(|a| a.solves.contains(&problem)).cloned().collect();
        found.sort_by_key(|a| (a.created_at, a.id));
        Ok(found)
    }
}
