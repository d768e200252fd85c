//! The knowledge base in the console (KNO-1, KNO-2): the search (as-you-type from the
//! interaction panel and the case page, or its own page), and an article's page with the
//! ways to insert it where the agent came from (`assist.rs`).
//!
//! The search asks the search engine (stems, typos, snippets) when the server has one and
//! falls back to the store's folded text filter when it has none, so the console finds
//! articles on every installation. Agents read published articles; editors
//! (`knowledge.edit`) also drafts and archived ones: the core decides, an article the agent
//! may not read is a 404 like in the API.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{Markup, PreEscaped, html};
use serde::Deserialize;

use crm_core::error::{FieldError, StoreError};
use crm_core::ids::ArticleId;
use crm_core::knowledge::compose::html_to_text;
use crm_core::knowledge::response::fold_query;
use crm_core::knowledge::{ArticleFilter, ArticleState};
use crm_core::page::PageRequest;
use crm_core::search::ArticleSearch;

use super::assist::{self, Context};
use super::i18n::{Lang, Msg};
use super::pages::refusal;
use super::session::SignedIn;
use super::views;
use crate::state::AppState;

/// How many articles a search shows.
const SHOWN: u32 = 10;
/// How many characters of an article the fallback search shows as its snippet.
const SNIPPET: usize = 160;

/// The search's query and where the agent came from.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    interaction: Option<crm_core::ids::InteractionId>,
    #[serde(default)]
    case: Option<crm_core::ids::CaseId>,
}

impl SearchQuery {
    fn ctx(&self) -> Context {
        Context { interaction: self.interaction, case: self.case }
    }
}

/// An article found.
struct Found {
    id: ArticleId,
    title: String,
    shortcut: Option<String>,
    snippet: String,
}

/// The articles matching `q` the actor may read; nothing for a query without a word.
async fn find(st: &AppState, s: &SignedIn, q: &str) -> Result<Vec<Found>, crm_core::Error> {
    // The store's filter checks the length too: the same 422 either way.
    let Some(folded) = fold_query(Some(q))? else { return Ok(Vec::new()) };
    let page = PageRequest::new(Some(SHOWN), None).unwrap_or_else(|_| PageRequest::first());
    let search = ArticleSearch { text: q.trim().to_owned(), tags: Vec::new(), language: None, state: None };
    match st.crm.search_articles(&s.actor, &search, &page).await {
        Ok(hits) => Ok(hits
            .items
            .into_iter()
            .map(|h| Found { id: h.id, title: h.title, shortcut: h.shortcut, snippet: h.snippet })
            .collect()),
        // No search engine on this server: the store's text filter.
        Err(crm_core::Error::Store(StoreError::Unavailable(_))) => {
            let filter = ArticleFilter { text: Some(folded), ..ArticleFilter::default() };
            let found = st.crm.list_articles(&s.actor, filter, &page).await?;
            Ok(found
                .items
                .into_iter()
                .map(|a| {
                    let text = html_to_text(&a.body);
                    let mut snippet: String = text.trim().chars().take(SNIPPET).collect();
                    if text.trim().chars().count() > SNIPPET {
                        snippet.push('…');
                    }
                    Found { id: a.id, title: a.title, shortcut: a.shortcut, snippet }
                })
                .collect())
        }
        Err(e) => Err(e),
    }
}

/// The list of articles found.
fn results(lang: Lang, q: &str, ctx: &Context, found: &[Found]) -> Markup {
    html! {
        @if found.is_empty() && !q.trim().is_empty() { p.empty { (lang.t(Msg::NoArticles)) } }
        ul.results.articles { @for a in found {
            li {
                a href=(assist::address(&format!("/console/knowledge/{}", a.id), &ctx.pairs())) { (a.title) }
                @if let Some(code) = &a.shortcut { " " code.shortcut { (code) } }
                p.snippet.muted { (a.snippet) }
            }
        } }
    }
}

/// `GET /console/knowledge?q=`: the search's page, or only its results for htmx (the
/// search boxes of the panel and the case page). A refused query (over 200 characters)
/// answers 422 with the reason under the field.
pub(crate) async fn search(
    State(st): State<AppState>,
    s: SignedIn,
    headers: HeaderMap,
    Query(q): Query<SearchQuery>,
) -> Response {
    let lang = s.lang;
    let (found, error) = match find(&st, &s, &q.q).await {
        Ok(found) => (found, None),
        Err(e) => match assist::field_error_of(&e) {
            Some(error) => (Vec::new(), Some(error)),
            None => return refusal(lang, e),
        },
    };
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    if headers.contains_key("hx-request") {
        let (message, _) = assist::search_error(error.as_ref(), "knowledge-q");
        return (status, html! { @if let Some(m) = message { (m) } (results(lang, &q.q, &q.ctx(), &found)) })
            .into_response();
    }
    (status, views::page(lang, lang.t(Msg::Knowledge), Some(&s), search_page(lang, &q, &found, error.as_ref())))
        .into_response()
}

fn search_page(lang: Lang, q: &SearchQuery, found: &[Found], error: Option<&FieldError>) -> Markup {
    let (message, error_id) = assist::search_error(error, "knowledge-q");
    html! {
        section.knowledge {
            h1 { (lang.t(Msg::Knowledge)) }
            @if let Some((href, label)) = q.ctx().back() { p { a href=(href) { (lang.t(label)) } } }
            form.assist-search role="search" method="get" action="/console/knowledge" {
                (q.ctx().hidden())
                label for="knowledge-q" { (lang.t(Msg::KnowledgeSearch)) }
                input #knowledge-q type="search" name="q" value=(q.q) autocomplete="off" autofocus
                    hx-get="/console/knowledge" hx-include="closest form" hx-trigger="input changed delay:250ms, search"
                    hx-target="#knowledge-results" aria-controls="knowledge-results"
                    aria-invalid=[error.map(|_| "true")] aria-describedby=[error_id.as_deref()];
                " " button type="submit" { (lang.t(Msg::Find)) }
                @if let Some(m) = message { (m) }
            }
            div.assist-results #knowledge-results aria-live="polite" { (results(lang, &q.q, &q.ctx(), found)) }
        }
    }
}

/// The label of an article's state.
fn state(lang: Lang, s: ArticleState) -> &'static str {
    lang.t(match s {
        ArticleState::Draft => Msg::ArticleDraft,
        ArticleState::Published => Msg::ArticlePublished,
        ArticleState::Archived => Msg::ArticleArchived,
    })
}

/// `GET /console/knowledge/{id}`: the article, with the ways to insert it where the agent
/// came from.
pub(crate) async fn article(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<ArticleId>,
    Query(ctx): Query<Context>,
) -> Response {
    let lang = s.lang;
    let a = match st.crm.get_article(&s.actor, id).await {
        Ok(a) => a,
        Err(e) => return refusal(lang, e),
    };
    let inserts = ctx.inserts(&s.actor, ("article", id.to_string()));
    let body = html! {
        article.knowledge-article lang=(a.language) {
            h1 { (a.title) }
            p.meta {
                span.badge #article-state { (state(lang, a.state)) }
                " " span.badge { (a.language) }
                @for t in &a.tags { " " span.badge.tag { (t) } }
                @if let Some(code) = &a.shortcut { " " (lang.t(Msg::Shortcut)) " " code.shortcut { (code) } }
            }
            // The core keeps article bodies as sanitised HTML (no script, no handler, known
            // tags only); the page's policy forbids inline scripts and styles besides.
            div.article-body { (PreEscaped(&a.body)) }
        }
        @if !inserts.is_empty() {
            section.insert aria-labelledby="insert-title" {
                h2 #insert-title { (lang.t(Msg::Insert)) }
                ul.inserts { @for (href, label) in &inserts { li { a.button href=(href) { (lang.t(*label)) } } } }
            }
        }
        p {
            a href=(assist::address("/console/knowledge", &ctx.pairs())) { (lang.t(Msg::Knowledge)) }
            @if let Some((href, label)) = ctx.back() { " · " a href=(href) { (lang.t(label)) } }
        }
    };
    views::page(lang, &a.title, Some(&s), body).into_response()
}
