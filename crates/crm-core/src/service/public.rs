//! The public self-service search (KNO-1): a tenant's published public articles, read by
//! anyone through the tenant's public slug, with no actor. Every request first takes a
//! token of its client's bucket ([`crate::rate_limit::RateLimiter`]); an unknown slug, a
//! suspended tenant, and an article that is not both published and public answer
//! `NotFound` alike.

use super::Crm;
use crate::access::Tenant;
use crate::error::{Error, Result};
use crate::ids::ArticleId;
use crate::knowledge::public::{PublicArticle, is_public, parse_slug};
use crate::knowledge::response::fold_query;
use crate::knowledge::{ArticleFilter, ArticleState};
use crate::page::{Page, PageRequest};

impl Crm {
    /// The published public articles of the tenant whose slug is `slug`, those whose folded
    /// title or body contains the folded `q` (all when `q` has no word), oldest first,
    /// cursor-paginated. `client` keys the rate limit (the caller's IP address).
    ///
    /// # Errors
    /// `RateLimited` when `client` has no token left; `NotFound` for an unknown slug or a
    /// suspended tenant; a `q` over 200 characters (422 on `q`); a bad cursor.
    pub async fn public_articles(
        &self,
        slug: &str,
        client: &str,
        q: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<PublicArticle>> {
        self.take_public_token(client)?;
        let text = fold_query(q)?;
        let tenant = self.public_tenant(slug).await?;
        let filter = ArticleFilter { state: Some(ArticleState::Published), language: None, public: Some(true), text };
        let found = self.store.list_articles(tenant.id, &filter, page).await?;
        Ok(Page { items: found.items.iter().filter_map(PublicArticle::of).collect(), next: found.next })
    }

    /// One published public article of the tenant whose slug is `slug`.
    ///
    /// # Errors
    /// `RateLimited`; `NotFound` for an unknown slug, a suspended tenant, or an article
    /// that is not published and public in that tenant.
    pub async fn public_article(&self, slug: &str, client: &str, id: ArticleId) -> Result<PublicArticle> {
        self.take_public_token(client)?;
        let tenant = self.public_tenant(slug).await?;
        self.store
            .get_article(tenant.id, id)
            .await?
            .filter(is_public)
            .as_ref()
            .and_then(PublicArticle::of)
            .ok_or_else(|| Error::not_found("article", id))
    }

    fn take_public_token(&self, client: &str) -> Result<()> {
        self.public_limiter
            .check(client, self.clock.now())
            .map_err(|wait| Error::RateLimited { retry_after_secs: wait.as_secs().max(1) })
    }

    /// The active tenant whose slug is `slug`.
    async fn public_tenant(&self, slug: &str) -> Result<Tenant> {
        let not_found = || Error::not_found("tenant", slug);
        let slug = parse_slug(slug).map_err(|_| not_found())?;
        self.store.tenant_by_slug(&slug).await?.filter(|t| t.suspended_at.is_none()).ok_or_else(not_found)
    }
}
