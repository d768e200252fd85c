//! Search use cases (KNO-2, CUS-5 on the engine) and the indexer that feeds the engine.
//!
//! The index follows the change feed (the outbox's events of every tenant, by time then
//! id, [`OutboxStore::events_after`](crate::ports::OutboxStore::events_after)): each round
//! reads the events past the index's position, reads the records they name again from the
//! store, and writes the documents with the new position in one commit of the index, so a
//! crash loses nothing (the next round starts from the position the index has). Each
//! replica's index keeps its own position. A transaction may commit after a later one; its
//! events carry the earlier time, so each round also reads the last
//! [`IndexerSettings::lookback`] again, skipping the events it applied already (re-applying
//! one is harmless: the record is read again). An index without a position (new, or of
//! another schema) is rebuilt from the store first.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use super::Crm;
use super::workers::RoundReport;
use crate::access::{Actor, Permission};
use crate::customer::{Customer, CustomerQuery, CustomerSearch};
use crate::error::{Error, Result, StoreError};
use crate::event::DomainEvent;
use crate::ids::{ArticleId, CustomerId, EventId};
use crate::knowledge::suggest::{Candidate, MAX_SUGGESTIONS, Suggestion, SuggestionKind, rank};
use crate::knowledge::{ArticleFilter, ArticleState};
use crate::page::{Cursor, Page, PageRequest};
use crate::ports::{DocumentKind, IndexChange, SearchError, SearchFilter, SearchIndex, SearchQuery};
use crate::search::{
    ArticleHit, ArticleHits, ArticleSearch, FeedPosition, IndexerSettings, SearchCursor, Target, article_document,
    customer_document, highlights_of, targets_of,
};
use crate::time::span;

/// The search engine as the application holds it.
#[derive(Clone, Debug)]
pub(crate) struct SearchWiring {
    index: Arc<dyn SearchIndex>,
    settings: IndexerSettings,
    /// Events applied within the lookback window, with their time (this process only).
    recent: Arc<Mutex<HashMap<EventId, chrono::DateTime<chrono::Utc>>>>,
}

fn search_error(e: SearchError) -> Error {
    match e {
        SearchError::Query(reason) => Error::invalid("q", reason),
        SearchError::Backend(e) => Error::Store(StoreError::Backend(e)),
    }
}

fn unconfigured() -> Error {
    Error::Store(StoreError::Unavailable("no search index is configured".into()))
}

fn offset_of(page: &PageRequest) -> Result<u32> {
    match &page.after {
        None => Ok(0),
        Some(cursor) => Ok(cursor.decode::<SearchCursor>().map_err(Error::from)?.s),
    }
}

impl Crm {
    /// The same use cases with a search engine: article search, customer search on the
    /// engine, and the `search-indexer` worker that feeds it.
    #[must_use]
    pub fn with_search_index(&self, index: Arc<dyn SearchIndex>, settings: IndexerSettings) -> Self {
        Self { search: Some(SearchWiring { index, settings, recent: Arc::default() }), ..self.clone() }
    }

    /// The search engine's settings, when one is configured.
    pub fn search_settings(&self) -> Option<&IndexerSettings> {
        self.search.as_ref().map(|s| &s.settings)
    }

    /// One round of the indexer: the feed's events past the index's position applied to
    /// the index with the new position (a rebuild first when the index has none).
    ///
    /// # Errors
    /// Store or index failures: nothing is recorded, the next round reads the same events.
    pub async fn index_round(&self) -> Result<RoundReport> {
        let Some(s) = &self.search else { return Ok(RoundReport::default()) };
        let position = s.index.position().await.map_err(search_error)?.as_deref().and_then(FeedPosition::parse);
        let Some(position) = position else {
            let n = self.rebuild_search_index(&|_| {}).await?;
            let n = u32::try_from(n).unwrap_or(u32::MAX);
            return Ok(RoundReport { claimed: n, done: n, more: true, ..RoundReport::default() });
        };
        let window_start = position.at - span(s.settings.lookback);
        // The late ones: in the window, not applied by this process.
        let batch = usize::try_from(s.settings.batch).unwrap_or(usize::MAX);
        let mut fresh: Vec<DomainEvent> = Vec::new();
        let mut from = FeedPosition::before(window_start);
        'window: loop {
            let page = self.store.events_after(&from, s.settings.batch).await?;
            let full = page.len() >= batch;
            let recent =
                s.recent.lock().map_err(|_| Error::Store(StoreError::Backend("indexer state poisoned".into())))?;
            for e in page {
                if FeedPosition::of(&e) > position {
                    break 'window;
                }
                from = FeedPosition::of(&e);
                if !recent.contains_key(&e.id) {
                    fresh.push(e);
                }
            }
            if !full {
                break;
            }
        }
        let new_events = self.store.events_after(&position, s.settings.batch).await?;
        let more = new_events.len() >= batch;
        fresh.extend(new_events);
        if fresh.is_empty() {
            return Ok(RoundReport::default());
        }
        let targets: BTreeSet<Target> = fresh.iter().flat_map(targets_of).collect();
        let changes = self.documents_of(&targets).await?;
        let next = fresh.iter().map(FeedPosition::of).max().map_or(position, |p| p.max(position));
        s.index.apply(changes, Some(next.to_string())).await.map_err(search_error)?;
        let n = u32::try_from(fresh.len()).unwrap_or(u32::MAX);
        if let Ok(mut recent) = s.recent.lock() {
            recent.retain(|_, at| *at >= window_start);
            recent.extend(fresh.iter().map(|e| (e.id, e.at)));
        }
        Ok(RoundReport { claimed: n, done: n, more, ..RoundReport::default() })
    }

    /// The index changes that bring `targets` up to date: each record read again, upserted
    /// when it exists (and is not merged away), removed otherwise.
    async fn documents_of(&self, targets: &BTreeSet<Target>) -> Result<Vec<IndexChange>> {
        let mut changes = Vec::with_capacity(targets.len());
        for target in targets {
            let change = match *target {
                Target::Article(tenant, id) => match self.store.get_article(tenant, id).await? {
                    Some(a) => IndexChange::Upsert(article_document(&a)),
                    None => IndexChange::Remove { tenant, kind: DocumentKind::Article, id: id.as_uuid() },
                },
                Target::Response(tenant, id) => match self.store.get_response(tenant, id).await? {
                    Some(r) => IndexChange::Upsert(crate::search::response_document(&r)),
                    None => IndexChange::Remove { tenant, kind: DocumentKind::StandardResponse, id: id.as_uuid() },
                },
                Target::Customer(tenant, id) => {
                    match self.store.get_customer(tenant, id).await?.as_ref().and_then(customer_document) {
                        Some(d) => IndexChange::Upsert(d),
                        None => IndexChange::Remove { tenant, kind: DocumentKind::Customer, id: id.as_uuid() },
                    }
                }
            };
            changes.push(change);
        }
        Ok(changes)
    }

    /// Suggestions ranked by the search engine (KNO-4): standard responses and published
    /// articles for the words of a message (`query`, as [`crate::knowledge::suggest::query_words`] gives them), best
    /// first, at most [`MAX_SUGGESTIONS`]; `None` without an engine (the interim scorer ranks
    /// them then). Each hit is read again from the store, so a record deleted or unpublished
    /// since it was indexed is left out; `matched` names the query's words its title or body
    /// holds as written (a stem or typo match may hold none).
    ///
    /// # Errors
    /// Store or index failures.
    pub(super) async fn suggest_on_engine(
        &self,
        tenant: crate::ids::TenantId,
        query: &[String],
    ) -> Result<Option<Vec<Suggestion>>> {
        let Some(s) = &self.search else { return Ok(None) };
        let mut q = SearchQuery::new(query.join(" "), u32::try_from(MAX_SUGGESTIONS).unwrap_or(10))
            .kinds(&[DocumentKind::StandardResponse, DocumentKind::Article]);
        q.filter.states = vec![ArticleState::Published.as_str().to_owned()];
        let hits = s.index.search(tenant, &q).await.map_err(search_error)?.hits;
        let mut ranked = Vec::with_capacity(hits.len());
        for hit in hits {
            let candidate = match hit.kind {
                DocumentKind::StandardResponse => self
                    .store
                    .get_response(tenant, crate::ids::ResponseId::from_uuid(hit.id))
                    .await?
                    .map(|r| Candidate { kind: SuggestionKind::Response, id: hit.id, title: r.title, body: r.body }),
                DocumentKind::Article => self
                    .store
                    .get_article(tenant, ArticleId::from_uuid(hit.id))
                    .await?
                    .filter(|a| a.state == ArticleState::Published)
                    .map(|a| Candidate { kind: SuggestionKind::Article, id: hit.id, title: a.title, body: a.body }),
                _ => None,
            };
            let Some(candidate) = candidate else { continue };
            let matched = rank(query, std::slice::from_ref(&candidate)).pop().map(|r| r.matched).unwrap_or_default();
            ranked.push(Suggestion {
                kind: candidate.kind,
                id: candidate.id,
                title: candidate.title,
                score: f64::from(hit.score),
                matched,
            });
        }
        Ok(Some(ranked))
    }

    /// Rebuilds the index from the store: emptied, then every article, standard response and customer of every
    /// tenant written in batches (`progress` gets the count so far), then the position
    /// set to [`IndexerSettings::lookback`] before the start, so the feed re-applies
    /// whatever changed meanwhile. Returns how many documents were written. Until it ends,
    /// searches see part of the records; a crash in between leaves no position, so the
    /// indexer starts again.
    ///
    /// # Errors
    /// Store or index failures; `Unavailable` without a search engine.
    pub async fn rebuild_search_index(&self, progress: &(dyn Fn(u64) + Send + Sync)) -> Result<u64> {
        let s = self.search.as_ref().ok_or_else(unconfigured)?;
        let start = FeedPosition::before(self.clock.now() - span(s.settings.lookback));
        s.index.apply(vec![IndexChange::Clear], None).await.map_err(search_error)?;
        let page_size = s.settings.rebuild_batch.clamp(1, 10_000);
        let mut written = 0u64;
        for tenant in self.store.list_tenants().await? {
            let mut page = PageRequest { limit: page_size, after: None };
            loop {
                let articles = self.store.list_articles(tenant.id, &ArticleFilter::default(), &page).await?;
                written += articles.items.len() as u64;
                let docs = articles.items.iter().map(|a| IndexChange::Upsert(article_document(a))).collect();
                s.index.apply(docs, None).await.map_err(search_error)?;
                progress(written);
                match articles.next {
                    Some(next) => page.after = Some(next),
                    None => break,
                }
            }
            let mut page = PageRequest { limit: page_size, after: None };
            loop {
                let filter = crate::knowledge::response::ResponseFilter::default();
                let responses = self.store.list_responses(tenant.id, &filter, &page).await?;
                written += responses.items.len() as u64;
                let docs =
                    responses.items.iter().map(|r| IndexChange::Upsert(crate::search::response_document(r))).collect();
                s.index.apply(docs, None).await.map_err(search_error)?;
                progress(written);
                match responses.next {
                    Some(next) => page.after = Some(next),
                    None => break,
                }
            }
            let mut page = PageRequest { limit: page_size, after: None };
            loop {
                let customers = self.store.search_customers(tenant.id, &CustomerSearch::default(), &page).await?;
                let docs: Vec<IndexChange> =
                    customers.items.iter().filter_map(customer_document).map(IndexChange::Upsert).collect();
                written += docs.len() as u64;
                s.index.apply(docs, None).await.map_err(search_error)?;
                progress(written);
                match customers.next {
                    Some(next) => page.after = Some(next),
                    None => break,
                }
            }
        }
        s.index.apply(Vec::new(), Some(start.to_string())).await.map_err(search_error)?;
        if let Ok(mut recent) = s.recent.lock() {
            recent.clear();
        }
        Ok(written)
    }

    /// Searches the articles the actor may read (KNO-2): ranked, with snippets, filtered
    /// by tags, language and state (drafts and archived ones for editors only), a page at
    /// a time.
    ///
    /// # Errors
    /// A query without a word, or too long (422 on `q`); a cursor this search did not
    /// return; `Unavailable` without a search engine.
    pub async fn search_articles(
        &self,
        actor: &Actor,
        search: &ArticleSearch,
        page: &PageRequest,
    ) -> Result<ArticleHits> {
        let s = self.search.as_ref().ok_or_else(unconfigured)?;
        let editor = actor.can(Permission::KnowledgeEdit);
        let states = match search.state {
            Some(state) if editor || state == ArticleState::Published => vec![state.as_str().to_owned()],
            Some(_) => return Ok(ArticleHits { items: Vec::new(), next: None }),
            None if editor => Vec::new(),
            None => vec![ArticleState::Published.as_str().to_owned()],
        };
        let query = SearchQuery {
            text: search.text.clone(),
            filter: SearchFilter {
                kinds: vec![DocumentKind::Article],
                tags: search.tags.clone(),
                language: search.language.clone(),
                states,
            },
            offset: offset_of(page)?,
            limit: page.limit,
        };
        let results = s.index.search(actor.tenant, &query).await.map_err(search_error)?;
        let mut items = Vec::with_capacity(results.hits.len());
        for hit in &results.hits {
            // The store has the last word: an article changed since it was indexed shows as
            // it is now, and one the actor may no longer see is left out.
            let Some(article) = self.store.get_article(actor.tenant, ArticleId::from_uuid(hit.id)).await? else {
                continue;
            };
            if !(editor || article.state == ArticleState::Published) {
                continue;
            }
            items.push(ArticleHit {
                id: article.id,
                title: article.title,
                language: article.language,
                state: article.state,
                tags: article.tags,
                shortcut: article.shortcut,
                score: hit.score,
                snippet: hit.snippet.clone(),
                highlights: highlights_of(hit),
            });
        }
        let next = results.next_offset.map(|s| Cursor::encode(&SearchCursor { s }).as_str().to_owned());
        Ok(ArticleHits { items, next })
    }

    /// Customer search on the engine (CUS-5) when one is configured and the query is the
    /// free text `q` alone (a name, email, phone or account number): by prefix, with
    /// typos, by sound, ranked, without a cap. `None` when the store's search answers.
    pub(super) async fn search_customers_on_engine(
        &self,
        actor: &Actor,
        query: &CustomerQuery,
        page: &PageRequest,
    ) -> Result<Option<Page<Customer>>> {
        let (Some(s), Some(text)) = (&self.search, query.q.as_deref()) else { return Ok(None) };
        let alone = query.name.is_none()
            && query.phone.is_none()
            && query.email.is_none()
            && query.account_number.is_none()
            && query.custom_key.is_none()
            && query.custom_value.is_none();
        if !alone || text.trim().is_empty() {
            return Ok(None);
        }
        // A phone number in any written form (`06 12 34 56 78` with the tenant's region,
        // `0033 6 …`, `+33 (0)6 …`) is looked for in the E.164 form it is indexed in, too.
        let region = self.tenant(actor.tenant).await?.default_region;
        let text = match crate::customer::PhoneNumber::parse(text, Some(region)) {
            Ok(phone) if text.chars().any(|c| c.is_ascii_digit()) => format!("{text} {}", phone.as_e164()),
            _ => text.to_owned(),
        };
        let q = SearchQuery {
            text,
            filter: SearchFilter { kinds: vec![DocumentKind::Customer], ..SearchFilter::default() },
            offset: offset_of(page)?,
            limit: page.limit,
        };
        let results = s.index.search(actor.tenant, &q).await.map_err(|e| match e {
            SearchError::Query(reason) => Error::invalid("q", reason),
            other => search_error(other),
        })?;
        let mut items = Vec::with_capacity(results.hits.len());
        for hit in &results.hits {
            if let Some(c) = self.store.get_customer(actor.tenant, CustomerId::from_uuid(hit.id)).await?
                && !c.is_merged()
            {
                items.push(c);
            }
        }
        let next = results.next_offset.map(|s| Cursor::encode(&SearchCursor { s }));
        Ok(Some(Page { items, next }))
    }
}
