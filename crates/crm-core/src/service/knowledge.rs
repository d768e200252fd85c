//! Knowledge article use cases (KNO-1, KNO-3): write, read (drafts and archived articles
//! only for editors), every version, the list, the solutions of a problem.

use std::collections::BTreeMap;

use super::{Crm, check_version};
use crate::access::{Actor, Permission};
use crate::error::{Error, Result};
use crate::event::EventKind;
use crate::ids::ArticleId;
use crate::knowledge::compose::{ComposeRequest, Composed, compose_with_responses, placeholders_of, shortcuts_of};
use crate::knowledge::{Article, ArticleFilter, ArticlePatch, ArticleState, NewArticle, PatchError};
use crate::page::{Page, PageRequest};
use crate::time::next_id;

/// Whether the actor may see drafts and archived articles (and write).
fn is_editor(actor: &Actor) -> bool {
    actor.can(Permission::KnowledgeEdit)
}

impl Crm {
    /// Writes version 1 of an article (KNO-1).
    ///
    /// # Errors
    /// Forbidden without `knowledge.edit`; invalid fields; a shortcut taken in the tenant;
    /// a linked problem that is not an article of the tenant.
    pub async fn create_article(&self, actor: &Actor, input: NewArticle) -> Result<Article> {
        actor.require(Permission::KnowledgeEdit)?;
        let article = input.build(next_id(&*self.ids), actor.tenant, actor.agent, self.clock.now())?;
        self.check_article_shortcut(actor, &article).await?;
        let events = [self.article_written(actor, &article)];
        self.store.insert_article(&article, &events).await?;
        Ok(article)
    }

    /// The current version of an article. Drafts and archived articles are `NotFound` for
    /// actors without `knowledge.edit`.
    ///
    /// # Errors
    /// `NotFound`.
    pub async fn get_article(&self, actor: &Actor, id: ArticleId) -> Result<Article> {
        self.store
            .get_article(actor.tenant, id)
            .await?
            .filter(|a| is_editor(actor) || a.state == ArticleState::Published)
            .ok_or_else(|| Error::not_found("article", id))
    }

    /// Changes version `expected_version` of an article: a new version is written, the
    /// previous ones stay readable.
    ///
    /// # Errors
    /// Forbidden; `NotFound`; a stale version; invalid fields or state change; the
    /// conflicts of [`Crm::create_article`].
    pub async fn update_article(
        &self,
        actor: &Actor,
        id: ArticleId,
        expected_version: u64,
        patch: ArticlePatch,
    ) -> Result<Article> {
        actor.require(Permission::KnowledgeEdit)?;
        let current = self.get_article(actor, id).await?;
        let expected_version = check_version("article", id, current.version, expected_version)?;
        if patch.is_empty() {
            return Err(Error::invalid("body", "the change changes nothing"));
        }
        let next = patch.apply(&current, actor.agent, self.clock.now()).map_err(|e| match e {
            PatchError::Invalid(v) => Error::from(v),
            PatchError::Transition(t) => Error::from(t),
        })?;
        if next.shortcut != current.shortcut {
            self.check_article_shortcut(actor, &next).await?;
        }
        let events = [self.article_written(actor, &next)];
        self.store.update_article(&next, expected_version, &events).await?;
        Ok(next)
    }

    /// Version `version` of an article as written. Without `knowledge.edit` only published
    /// versions of a published article are readable.
    ///
    /// # Errors
    /// `NotFound`.
    pub async fn article_version(&self, actor: &Actor, id: ArticleId, version: u64) -> Result<Article> {
        self.get_article(actor, id).await?;
        self.store
            .article_version(actor.tenant, id, version)
            .await?
            .filter(|a| is_editor(actor) || a.state == ArticleState::Published)
            .ok_or_else(|| Error::not_found("article_version", format_args!("{id}/{version}")))
    }

    /// Every version of an article, oldest first (without `knowledge.edit`, the published
    /// ones of a published article).
    ///
    /// # Errors
    /// `NotFound`.
    pub async fn article_versions(&self, actor: &Actor, id: ArticleId) -> Result<Vec<Article>> {
        self.get_article(actor, id).await?;
        let mut versions = self.store.article_versions(actor.tenant, id).await?;
        versions.retain(|a| is_editor(actor) || a.state == ArticleState::Published);
        Ok(versions)
    }

    /// The articles `filter` admits, by creation; without `knowledge.edit` the published
    /// ones only (a filter on another state then lists nothing).
    ///
    /// # Errors
    /// A cursor this list did not return.
    pub async fn list_articles(
        &self,
        actor: &Actor,
        mut filter: ArticleFilter,
        page: &PageRequest,
    ) -> Result<Page<Article>> {
        if !is_editor(actor) {
            if filter.state.is_some_and(|s| s != ArticleState::Published) {
                return Ok(Page { items: Vec::new(), next: None });
            }
            filter.state = Some(ArticleState::Published);
        }
        Ok(self.store.list_articles(actor.tenant, &filter, page).await?)
    }

    /// The solutions of a problem article (KNO-3), as the actor may see them.
    ///
    /// # Errors
    /// `NotFound` for a problem the actor cannot see.
    pub async fn solutions_of(&self, actor: &Actor, problem: ArticleId) -> Result<Vec<Article>> {
        self.get_article(actor, problem).await?;
        let mut found = self.store.solutions_of(actor.tenant, problem).await?;
        found.retain(|a| is_editor(actor) || a.state == ArticleState::Published);
        Ok(found)
    }

    /// The article a shortcut code (`#refund`) names, as the actor may see it.
    ///
    /// # Errors
    /// `NotFound`.
    pub async fn article_by_shortcut(&self, actor: &Actor, shortcut: &str) -> Result<Article> {
        let code = crate::knowledge::parse_shortcut(shortcut)?;
        self.store
            .article_by_shortcut(actor.tenant, &code)
            .await?
            .filter(|a| is_editor(actor) || a.state == ArticleState::Published)
            .ok_or_else(|| Error::not_found("article", code))
    }

    /// Composes a follow-up or an email (KNO-1, KNO-4): placeholders filled from the
    /// customer, the case and the agent, shortcut codes expanded to the articles the actor
    /// may see (full text or link), everything escaped into HTML.
    ///
    /// # Errors
    /// An unknown placeholder (422 on `text`, naming it); a `customer.*` or `case.*`
    /// placeholder without its record (422 on `customer` or `case`); a customer or case the
    /// actor cannot read.
    pub async fn compose(&self, actor: &Actor, request: &ComposeRequest) -> Result<Composed> {
        let mut used = placeholders_of(&request.text)?;
        let mut articles = BTreeMap::new();
        let mut responses = BTreeMap::new();
        for code in shortcuts_of(&request.text) {
            if let Some(a) = self
                .store
                .article_by_shortcut(actor.tenant, &code)
                .await?
                .filter(|a| is_editor(actor) || a.state == ArticleState::Published)
            {
                articles.insert(code, a);
            } else if let Some(r) = self.store.response_by_shortcut(actor.tenant, &code).await? {
                responses.insert(code, r);
            }
        }
        // A response's own placeholders need their records too.
        for r in responses.values() {
            for p in crate::knowledge::response::placeholders_in_body(&r.body)? {
                if !used.contains(&p) {
                    used.push(p);
                }
            }
        }
        let values = self.placeholder_values(actor, &used, request.customer, request.case).await?;
        Ok(compose_with_responses(&request.text, &values, &articles, &responses, request.insert, |a| {
            format!("/api/v1/articles/{}", a.id)
        }))
    }

    /// Refuses an article's shortcut a standard response holds (the two share the
    /// composer's namespace).
    async fn check_article_shortcut(&self, actor: &Actor, article: &Article) -> Result<()> {
        if let Some(code) = &article.shortcut
            && self.store.response_by_shortcut(actor.tenant, code).await?.is_some()
        {
            return Err(crate::error::Conflict::Duplicate { field: "shortcut".into(), value: code.clone() }.into());
        }
        Ok(())
    }

    fn article_written(&self, actor: &Actor, article: &Article) -> crate::event::DomainEvent {
        self.event(
            actor,
            EventKind::ArticleWritten { article: article.id, version: article.version, state: article.state },
        )
    }
}
