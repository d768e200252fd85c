//! [`KnowledgeStore`]: knowledge articles (KNO-1, KNO-3), every version of each, the
//! shortcut codes unique in a tenant and the links from solutions to problems.

use async_trait::async_trait;

use super::store::StoreResult;
use crate::event::DomainEvent;
use crate::ids::{ArticleId, TenantId};
use crate::knowledge::{Article, ArticleFilter};
use crate::page::{Page, PageRequest};

/// Knowledge articles.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait KnowledgeStore: Send + Sync {
    /// Inserts version 1 of an article (and keeps it as its first version) with `events`,
    /// in one transaction.
    ///
    /// # Errors
    /// `Duplicate { field: "id" }`; `Duplicate { field: "shortcut" }` when another article
    /// of the tenant has the shortcut; `InvalidReference { field: "solves" }` when a linked
    /// problem is not an article of the tenant. Nothing is written then.
    async fn insert_article(&self, article: &Article, events: &[DomainEvent]) -> StoreResult<()>;

    /// Replaces version `expected_version` by `article` (whose version is the next one),
    /// keeping the previous versions readable, with `events`, in one transaction.
    ///
    /// # Errors
    /// `NotFound` (also for another tenant's article); `StaleVersion`; the conflicts of
    /// [`KnowledgeStore::insert_article`]. Nothing is written then.
    async fn update_article(&self, article: &Article, expected_version: u64, events: &[DomainEvent])
    -> StoreResult<()>;

    /// The current version of an article of `tenant`.
    async fn get_article(&self, tenant: TenantId, id: ArticleId) -> StoreResult<Option<Article>>;

    /// Version `version` of an article of `tenant`, as it was written.
    async fn article_version(&self, tenant: TenantId, id: ArticleId, version: u64) -> StoreResult<Option<Article>>;

    /// Every version of an article of `tenant`, oldest first (empty when there is none).
    async fn article_versions(&self, tenant: TenantId, id: ArticleId) -> StoreResult<Vec<Article>>;

    /// The article of `tenant` with this shortcut code (`#refund`).
    async fn article_by_shortcut(&self, tenant: TenantId, shortcut: &str) -> StoreResult<Option<Article>>;

    /// The current articles of `tenant` that `filter` admits, by creation time then id,
    /// cursor-paginated.
    ///
    /// # Errors
    /// `InvalidReference { field: "cursor" }` for a cursor this list did not return.
    async fn list_articles(
        &self,
        tenant: TenantId,
        filter: &ArticleFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Article>>;

    /// The articles of `tenant` whose `solves` names `problem`, by creation time then id.
    async fn solutions_of(&self, tenant: TenantId, problem: ArticleId) -> StoreResult<Vec<Article>>;
}
