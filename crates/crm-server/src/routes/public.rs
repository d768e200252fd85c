//! The public self-service search (KNO-1): a tenant's published public articles, chosen by
//! the tenant's public slug in the path or by the request's `Host` (the `[public]` host
//! map, see [`crate::public_access`]), read without a token, rate-limited per client IP
//! address (a 429 with `Retry-After` past the limit; `X-Forwarded-For` believed from the
//! configured trusted proxies only). Read-only; nothing private is ever answered.

use axum::extract::{ConnectInfo, State};
use axum::http::request::Parts;
use serde::Deserialize;

use crm_core::ids::ArticleId;
use crm_core::knowledge::public::PublicArticle;

use super::{PageBody, PageParams};
use crate::extract::{ApiPath, ApiQuery, Reply};
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;

/// The client's address, the rate limit's key: the peer's, or what a trusted proxy says
/// in `X-Forwarded-For` (`unknown` when the server was not started with connection
/// information).
#[derive(Debug, Clone)]
pub struct ClientAddress(pub String);

impl axum::extract::FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<ConnectInfo<std::net::SocketAddr>>().map(|info| info.0.ip());
        let forwarded: Vec<&str> =
            parts.headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).collect();
        Ok(Self(st.settings.public.client_address(peer, &forwarded)))
    }
}

/// The public slug of the tenant served at the request's `Host`: 404 when the host is not
/// in the `[public]` host map.
#[derive(Debug, Clone)]
pub struct HostTenant(pub String);

impl axum::extract::FromRequestParts<AppState> for HostTenant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        let host = parts.headers.get(axum::http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
        match st.settings.public.slug_for_host(host) {
            Some(slug) => Ok(Self(slug.to_owned())),
            None => Err(crm_core::error::Error::not_found("tenant", host).into()),
        }
    }
}

/// Public search parameters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PublicSearchParams {
    /// Words the title or body must contain (case and accents ignored; none: every article).
    #[serde(default)]
    pub q: Option<String>,
    /// At most this many articles (1..=200, default 50).
    #[serde(default)]
    pub limit: Option<u32>,
    /// The `next` cursor of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// The published public articles of the tenant whose public slug this is, matching `q`,
/// oldest first. No token; rate-limited per client (429 with `Retry-After`); an unknown
/// slug is a 404.
#[utoipa::path(get, path = "/public/{tenant_slug}/articles", operation_id = "public_search_articles",
    tag = "public", params(("tenant_slug" = String, Path), PublicSearchParams),
    responses((status = 200, body = PageBody<PublicArticle>)))]
pub async fn search(
    State(st): State<AppState>,
    ClientAddress(client): ClientAddress,
    ApiPath(slug): ApiPath<String>,
    ApiQuery(q): ApiQuery<PublicSearchParams>,
) -> ApiResult<Reply<PageBody<PublicArticle>>> {
    let page = PageParams { limit: q.limit, cursor: q.cursor }.page()?;
    Ok(Reply::ok(st.crm.public_articles(&slug, &client, q.q.as_deref(), &page).await?.into()))
}

/// One published public article of the tenant whose public slug this is. No token;
/// rate-limited per client; a draft, an internal article or another tenant's is a 404.
#[utoipa::path(get, path = "/public/{tenant_slug}/articles/{id}", operation_id = "public_get_article",
    tag = "public", params(("tenant_slug" = String, Path), ("id" = uuid::Uuid, Path)),
    responses((status = 200, body = PublicArticle)))]
pub async fn article(
    State(st): State<AppState>,
    ClientAddress(client): ClientAddress,
    ApiPath((slug, id)): ApiPath<(String, ArticleId)>,
) -> ApiResult<Reply<PublicArticle>> {
    Ok(Reply::ok(st.crm.public_article(&slug, &client, id).await?))
}

/// The published public articles of the tenant served at the request's host (the
/// `[public]` host map), as [`search`]; a host not mapped is a 404.
#[utoipa::path(get, path = "/public/articles", operation_id = "public_search_articles_by_host",
    tag = "public", params(PublicSearchParams), responses((status = 200, body = PageBody<PublicArticle>)))]
pub async fn search_by_host(
    State(st): State<AppState>,
    ClientAddress(client): ClientAddress,
    HostTenant(slug): HostTenant,
    ApiQuery(q): ApiQuery<PublicSearchParams>,
) -> ApiResult<Reply<PageBody<PublicArticle>>> {
    let page = PageParams { limit: q.limit, cursor: q.cursor }.page()?;
    Ok(Reply::ok(st.crm.public_articles(&slug, &client, q.q.as_deref(), &page).await?.into()))
}

/// One published public article of the tenant served at the request's host, as
/// [`article`].
#[utoipa::path(get, path = "/public/articles/{id}", operation_id = "public_get_article_by_host",
    tag = "public", params(("id" = uuid::Uuid, Path)), responses((status = 200, body = PublicArticle)))]
pub async fn article_by_host(
    State(st): State<AppState>,
    ClientAddress(client): ClientAddress,
    HostTenant(slug): HostTenant,
    ApiPath(id): ApiPath<ArticleId>,
) -> ApiResult<Reply<PublicArticle>> {
    Ok(Reply::ok(st.crm.public_article(&slug, &client, id).await?))
}
