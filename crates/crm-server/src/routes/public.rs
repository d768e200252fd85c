//! The public self-service search (KNO-1): a tenant's published public articles, chosen by
//! the tenant's public slug, read without a token, rate-limited per client IP address (a
//! 429 with `Retry-After` past the limit). Read-only; nothing private is ever answered.

use axum::extract::{ConnectInfo, State};
use axum::http::request::Parts;
use serde::Deserialize;

use crm_core::ids::ArticleId;
use crm_core::knowledge::public::PublicArticle;

use super::{PageBody, PageParams};
use crate::extract::{ApiPath, ApiQuery, Reply};
use crate::problem::ApiResult;
use crate::state::AppState;

/// The client's address, the rate limit's key (`unknown` when the server was not started
/// with connection information).
#[derive(Debug, Clone)]
pub struct ClientAddress(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let ip = parts.extensions.get::<ConnectInfo<std::net::SocketAddr>>().map(|info| info.0.ip().to_string());
        Ok(Self(ip.unwrap_or_else(|| "unknown".to_owned())))
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
