//! Knowledge articles (KNO-1, KNO-3): write with `knowledge.edit`, read (drafts and archived
//! articles only for editors), every version, the solutions of a problem, a shortcut; the
//! search (KNO-2) on the search engine.

use axum::extract::State;
use serde::Deserialize;

use crm_core::ids::ArticleId;
use crm_core::knowledge::compose::{ComposeRequest, Composed};
use crm_core::knowledge::{Article, ArticleFilter, ArticlePatch, ArticleState, NewArticle};
use crm_core::search::{ArticleHits, ArticleSearch};

use super::{PageBody, PageParams};
use crate::auth::Auth;
use crate::extract::{ApiJson, ApiPath, ApiQuery, IfMatch, Reply};
use crate::idempotency::UseCases;
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;

/// Writes version 1 of an article (needs `knowledge.edit`); the body is sanitised HTML.
#[utoipa::path(post, path = "/api/v1/articles", tag = "knowledge", request_body = NewArticle,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry-safe create")),
    responses((status = 201, description = "created; ETag and Location set", body = Article)))]
pub async fn create_article(
    Auth(actor): Auth,
    UseCases(crm): UseCases,
    ApiJson(input): ApiJson<NewArticle>,
) -> ApiResult<Reply<Article>> {
    let a = crm.create_article(&actor, input).await?;
    let location = format!("/api/v1/articles/{}", a.id);
    let v = a.version;
    Ok(Reply::created(a, location).tagged(v))
}

/// Article list filters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ArticleParams {
    /// Only in this state (without `knowledge.edit`: published only).
    #[serde(default)]
    #[param(inline)]
    pub state: Option<ArticleState>,
    /// Only in this language (`fr`, `en` …).
    #[serde(default)]
    pub language: Option<String>,
    /// Only public (`true`) or internal (`false`) articles.
    #[serde(default)]
    pub public: Option<bool>,
    /// At most this many articles (1..=200, default 50).
    #[serde(default)]
    pub limit: Option<u32>,
    /// The `next` cursor of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// The articles, oldest first, cursor-paginated.
#[utoipa::path(get, path = "/api/v1/articles", tag = "knowledge", params(ArticleParams),
    responses((status = 200, body = PageBody<Article>)))]
pub async fn list_articles(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<ArticleParams>,
) -> ApiResult<Reply<PageBody<Article>>> {
    let page = PageParams { limit: q.limit, cursor: q.cursor }.page()?;
    let filter = ArticleFilter { state: q.state, language: q.language, public: q.public, text: None };
    Ok(Reply::ok(st.crm.list_articles(&actor, filter, &page).await?.into()))
}

/// The current version of an article; `ETag` carries its version.
#[utoipa::path(get, path = "/api/v1/articles/{id}", tag = "knowledge", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Article)))]
pub async fn get_article(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<ArticleId>,
) -> ApiResult<Reply<Article>> {
    let a = st.crm.get_article(&actor, id).await?;
    let v = a.version;
    Ok(Reply::ok(a).tagged(v))
}

/// Writes the next version of an article (the previous stay readable); needs `If-Match`.
#[utoipa::path(patch, path = "/api/v1/articles/{id}", tag = "knowledge", request_body = ArticlePatch,
    params(("id" = uuid::Uuid, Path), ("If-Match" = String, Header, description = "the ETag read")),
    responses((status = 200, body = Article)))]
pub async fn update_article(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<ArticleId>,
    IfMatch(version): IfMatch,
    ApiJson(patch): ApiJson<ArticlePatch>,
) -> ApiResult<Reply<Article>> {
    let a = st.crm.update_article(&actor, id, version, patch).await.map_err(ApiError::precondition)?;
    let v = a.version;
    Ok(Reply::ok(a).tagged(v))
}

/// Every version of an article, oldest first.
#[utoipa::path(get, path = "/api/v1/articles/{id}/versions", tag = "knowledge",
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = Vec<Article>)))]
pub async fn article_versions(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<ArticleId>,
) -> ApiResult<Reply<Vec<Article>>> {
    Ok(Reply::ok(st.crm.article_versions(&actor, id).await?))
}

/// One version of an article, as written.
#[utoipa::path(get, path = "/api/v1/articles/{id}/versions/{version}", tag = "knowledge",
    params(("id" = uuid::Uuid, Path), ("version" = u64, Path, minimum = 1)),
    responses((status = 200, body = Article)))]
pub async fn article_version(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath((id, version)): ApiPath<(ArticleId, u64)>,
) -> ApiResult<Reply<Article>> {
    Ok(Reply::ok(st.crm.article_version(&actor, id, version).await?))
}

/// The solutions of a problem article (KNO-3).
#[utoipa::path(get, path = "/api/v1/articles/{id}/solutions", tag = "knowledge",
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = Vec<Article>)))]
pub async fn solutions(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<ArticleId>,
) -> ApiResult<Reply<Vec<Article>>> {
    Ok(Reply::ok(st.crm.solutions_of(&actor, id).await?))
}

/// Composes a follow-up or an email (KNO-1, KNO-4): placeholders (`{{customer.name}}`,
/// `{{case.number}}`, `{{agent.name}}` …) filled and escaped, shortcut codes (`#refund`)
/// expanded to their article as full text or a link. An unknown placeholder is a 422 naming
/// it. Writes nothing.
#[utoipa::path(post, path = "/api/v1/compose", tag = "knowledge", request_body = ComposeRequest,
    responses((status = 200, body = Composed)))]
pub async fn compose(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiJson(request): ApiJson<ComposeRequest>,
) -> ApiResult<Reply<Composed>> {
    Ok(Reply::ok(st.crm.compose(&actor, &request).await?))
}

/// Article search parameters (KNO-2).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ArticleSearchParams {
    /// The text: a few words (the last one may be begun), or a whole email (its key terms
    /// are searched). At most 65536 bytes.
    pub q: String,
    /// Only articles with every one of these tags (comma-separated).
    #[serde(default)]
    pub tags: Option<String>,
    /// Only in this language (`fr` also finds `fr-CA`).
    #[serde(default)]
    pub language: Option<String>,
    /// Only in this state (without `knowledge.edit`: published only).
    #[serde(default)]
    #[param(inline)]
    pub state: Option<ArticleState>,
    /// At most this many hits (1..=200, default 50).
    #[serde(default)]
    pub limit: Option<u32>,
    /// The `next` cursor of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// Searches the articles (KNO-2): stems in English and French, accents folded, typos,
/// prefixes, ranked, with a highlighted snippet; a write is found about a second later.
#[utoipa::path(get, path = "/api/v1/articles/search", tag = "knowledge", operation_id = "search_articles",
    params(ArticleSearchParams), responses((status = 200, body = ArticleHits)))]
pub async fn search_articles(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<ArticleSearchParams>,
) -> ApiResult<Reply<ArticleHits>> {
    let page = PageParams { limit: q.limit, cursor: q.cursor }.page()?;
    let tags = q
        .tags
        .as_deref()
        .map(|t| t.split(',').map(|t| t.trim().to_lowercase()).filter(|t| !t.is_empty()).collect())
        .unwrap_or_default();
    let search = ArticleSearch { text: q.q, tags, language: q.language, state: q.state };
    Ok(Reply::ok(st.crm.search_articles(&actor, &search, &page).await?))
}
