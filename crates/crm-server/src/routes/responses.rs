//! Standard responses (KNO-4): write with `knowledge.edit`, read, list and render as any
//! agent, shared folders, personal favourites, and an interaction's suggestions.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use crm_core::ids::{InteractionId, ResponseFolderId, ResponseId};
use crm_core::knowledge::response::{
    FolderRename, NewFolder, NewResponse, RenderRequest, RenderedResponse, ResponseFilter, ResponseFolder,
    ResponsePatch, StandardResponse, parse_tag,
};
use crm_core::knowledge::suggest::Suggestion;

use super::{PageBody, PageParams};
use crate::auth::Auth;
use crate::extract::{ApiJson, ApiPath, ApiQuery, IfMatch, Reply};
use crate::idempotency::UseCases;
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;

/// Writes version 1 of a standard response (needs `knowledge.edit`); the body is sanitised
/// HTML whose placeholders (`{{customer.name}}` …) must be known.
#[utoipa::path(post, path = "/api/v1/standard-responses", operation_id = "create_standard_response",
    tag = "knowledge", request_body = NewResponse,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry-safe create")),
    responses((status = 201, description = "created; ETag and Location set", body = StandardResponse)))]
pub async fn create_response(
    Auth(actor): Auth,
    UseCases(crm): UseCases,
    ApiJson(input): ApiJson<NewResponse>,
) -> ApiResult<Reply<StandardResponse>> {
    let r = crm.create_response(&actor, input).await?;
    let location = format!("/api/v1/standard-responses/{}", r.id);
    let v = r.version;
    Ok(Reply::created(r, location).tagged(v))
}

/// Standard response list filters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ResponseParams {
    /// Only in this folder.
    #[serde(default)]
    #[param(value_type = Option<uuid::Uuid>)]
    pub folder: Option<ResponseFolderId>,
    /// Only with this tag.
    #[serde(default)]
    pub tag: Option<String>,
    /// Only in this language (`fr`, `en` …).
    #[serde(default)]
    pub language: Option<String>,
    /// Only the caller's favourites.
    #[serde(default)]
    pub favourites: Option<bool>,
    /// Only those whose title or body contains these words (case and accents ignored).
    #[serde(default)]
    pub q: Option<String>,
    /// At most this many responses (1..=200, default 50).
    #[serde(default)]
    pub limit: Option<u32>,
    /// The `next` cursor of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// The standard responses, oldest first, cursor-paginated.
#[utoipa::path(get, path = "/api/v1/standard-responses", operation_id = "list_standard_responses",
    tag = "knowledge", params(ResponseParams), responses((status = 200, body = PageBody<StandardResponse>)))]
pub async fn list_responses(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<ResponseParams>,
) -> ApiResult<Reply<PageBody<StandardResponse>>> {
    let page = PageParams { limit: q.limit, cursor: q.cursor }.page()?;
    let tag = q.tag.as_deref().map(parse_tag).transpose().map_err(|e| ApiError::invalid("tag", e.reason))?;
    let filter = ResponseFilter { folder: q.folder, tag, language: q.language, ..ResponseFilter::default() }
        .with_text(q.q.as_deref())
        .map_err(|e| ApiError::invalid(e.field, e.reason))?;
    let found = st.crm.list_responses(&actor, filter, q.favourites.unwrap_or(false), &page).await?;
    Ok(Reply::ok(found.into()))
}

/// The current version of a standard response; `ETag` carries its version.
#[utoipa::path(get, path = "/api/v1/standard-responses/{id}", operation_id = "get_standard_response",
    tag = "knowledge", params(("id" = uuid::Uuid, Path)), responses((status = 200, body = StandardResponse)))]
pub async fn get_response(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<ResponseId>,
) -> ApiResult<Reply<StandardResponse>> {
    let r = st.crm.get_response(&actor, id).await?;
    let v = r.version;
    Ok(Reply::ok(r).tagged(v))
}

/// Writes the next version of a standard response; needs `If-Match`.
#[utoipa::path(patch, path = "/api/v1/standard-responses/{id}", operation_id = "update_standard_response",
    tag = "knowledge", request_body = ResponsePatch,
    params(("id" = uuid::Uuid, Path), ("If-Match" = String, Header, description = "the ETag read")),
    responses((status = 200, body = StandardResponse)))]
pub async fn update_response(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<ResponseId>,
    IfMatch(version): IfMatch,
    ApiJson(patch): ApiJson<ResponsePatch>,
) -> ApiResult<Reply<StandardResponse>> {
    let r = st.crm.update_response(&actor, id, version, patch).await.map_err(ApiError::precondition)?;
    let v = r.version;
    Ok(Reply::ok(r).tagged(v))
}

/// Deletes a standard response (its versions and favourites go); needs `If-Match`.
#[utoipa::path(delete, path = "/api/v1/standard-responses/{id}", operation_id = "delete_standard_response",
    tag = "knowledge",
    params(("id" = uuid::Uuid, Path), ("If-Match" = String, Header, description = "the ETag read")),
    responses((status = 204, description = "deleted")))]
pub async fn delete_response(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<ResponseId>,
    IfMatch(version): IfMatch,
) -> ApiResult<StatusCode> {
    st.crm.delete_response(&actor, id, version).await.map_err(ApiError::precondition)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every version of a standard response, oldest first.
#[utoipa::path(get, path = "/api/v1/standard-responses/{id}/versions", operation_id = "standard_response_versions",
    tag = "knowledge", params(("id" = uuid::Uuid, Path)), responses((status = 200, body = Vec<StandardResponse>)))]
pub async fn response_versions(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<ResponseId>,
) -> ApiResult<Reply<Vec<StandardResponse>>> {
    Ok(Reply::ok(st.crm.response_versions(&actor, id).await?))
}

/// Renders a standard response for a customer, a case or an interaction: placeholders
/// filled, every value escaped, as HTML and text. An unknown placeholder is a 422 naming
/// it; a `customer.*` or `case.*` placeholder without its record a 422 on `customer` or
/// `case`. Writes nothing.
#[utoipa::path(post, path = "/api/v1/standard-responses/{id}/render", operation_id = "render_standard_response",
    tag = "knowledge", request_body = RenderRequest, params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = RenderedResponse)))]
pub async fn render_response(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<ResponseId>,
    ApiJson(request): ApiJson<RenderRequest>,
) -> ApiResult<Reply<RenderedResponse>> {
    Ok(Reply::ok(st.crm.render_response(&actor, id, &request).await?))
}

/// Marks a standard response as one of the caller's favourites (again: no change).
#[utoipa::path(put, path = "/api/v1/standard-responses/{id}/favourite", operation_id = "add_response_favourite",
    tag = "knowledge", params(("id" = uuid::Uuid, Path)), responses((status = 204, description = "marked")))]
pub async fn add_favourite(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<ResponseId>,
) -> ApiResult<StatusCode> {
    st.crm.add_favourite(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Unmarks one of the caller's favourites (not marked: no change).
#[utoipa::path(delete, path = "/api/v1/standard-responses/{id}/favourite",
    operation_id = "remove_response_favourite", tag = "knowledge", params(("id" = uuid::Uuid, Path)),
    responses((status = 204, description = "unmarked")))]
pub async fn remove_favourite(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<ResponseId>,
) -> ApiResult<StatusCode> {
    st.crm.remove_favourite(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Creates a shared folder (needs `knowledge.edit`), at the root or in a root folder.
#[utoipa::path(post, path = "/api/v1/standard-response-folders", operation_id = "create_response_folder",
    tag = "knowledge", request_body = NewFolder,
    responses((status = 201, description = "created; ETag and Location set", body = ResponseFolder)))]
pub async fn create_folder(
    Auth(actor): Auth,
    UseCases(crm): UseCases,
    ApiJson(input): ApiJson<NewFolder>,
) -> ApiResult<Reply<ResponseFolder>> {
    let f = crm.create_folder(&actor, input).await?;
    let location = format!("/api/v1/standard-response-folders/{}", f.id);
    let v = f.version;
    Ok(Reply::created(f, location).tagged(v))
}

/// Every shared folder, by name (nest them by `parent`).
#[utoipa::path(get, path = "/api/v1/standard-response-folders", operation_id = "list_response_folders",
    tag = "knowledge", responses((status = 200, body = Vec<ResponseFolder>)))]
pub async fn list_folders(State(st): State<AppState>, Auth(actor): Auth) -> ApiResult<Reply<Vec<ResponseFolder>>> {
    Ok(Reply::ok(st.crm.list_folders(&actor).await?))
}

/// A shared folder; `ETag` carries its version.
#[utoipa::path(get, path = "/api/v1/standard-response-folders/{id}", operation_id = "get_response_folder",
    tag = "knowledge", params(("id" = uuid::Uuid, Path)), responses((status = 200, body = ResponseFolder)))]
pub async fn get_folder(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<ResponseFolderId>,
) -> ApiResult<Reply<ResponseFolder>> {
    let f = st.crm.get_folder(&actor, id).await?;
    let v = f.version;
    Ok(Reply::ok(f).tagged(v))
}

/// Renames a shared folder (its responses stay in it); needs `If-Match`.
#[utoipa::path(patch, path = "/api/v1/standard-response-folders/{id}", operation_id = "rename_response_folder",
    tag = "knowledge", request_body = FolderRename,
    params(("id" = uuid::Uuid, Path), ("If-Match" = String, Header, description = "the ETag read")),
    responses((status = 200, body = ResponseFolder)))]
pub async fn rename_folder(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<ResponseFolderId>,
    IfMatch(version): IfMatch,
    ApiJson(input): ApiJson<FolderRename>,
) -> ApiResult<Reply<ResponseFolder>> {
    let f = st.crm.rename_folder(&actor, id, version, input).await.map_err(ApiError::precondition)?;
    let v = f.version;
    Ok(Reply::ok(f).tagged(v))
}

/// Deletes an empty shared folder; a folder holding responses or folders is a 409 saying
/// what it holds.
#[utoipa::path(delete, path = "/api/v1/standard-response-folders/{id}", operation_id = "delete_response_folder",
    tag = "knowledge", params(("id" = uuid::Uuid, Path)), responses((status = 204, description = "deleted")))]
pub async fn delete_folder(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<ResponseFolderId>,
) -> ApiResult<StatusCode> {
    st.crm.delete_folder(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Standard responses and published articles ranked by relevance to the interaction's last
/// inbound message (an interim ranking by shared words, title first, until the search
/// engine ranks them); none without an inbound text.
#[utoipa::path(get, path = "/api/v1/interactions/{id}/suggestions", operation_id = "interaction_suggestions",
    tag = "knowledge", params(("id" = uuid::Uuid, Path)), responses((status = 200, body = Vec<Suggestion>)))]
pub async fn suggestions(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<InteractionId>,
) -> ApiResult<Reply<Vec<Suggestion>>> {
    Ok(Reply::ok(st.crm.suggestions(&actor, id).await?))
}
