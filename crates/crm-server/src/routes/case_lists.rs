//! The tenant's case lists (categories, types, resolution codes) and a case's children
//! (issue 27: CAS-1, CAS-2).

use axum::extract::State;
use axum::http::StatusCode;

use crm_core::case::{Case, CaseListEntry, CaseListEntryInput, CaseListKind};
use crm_core::ids::CaseId;

use super::{PageBody, PageParams};
use crate::auth::Auth;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Reply};
use crate::problem::ApiResult;
use crate::state::AppState;

/// The entries of one of the tenant's case lists, retired ones included, by key.
#[utoipa::path(get, path = "/api/v1/case-lists/{kind}", operation_id = "case_list_entries", tag = "cases",
    params(("kind" = CaseListKind, Path, description = "category, type or resolution")),
    responses((status = 200, body = Vec<CaseListEntry>)))]
pub async fn case_list_entries(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(kind): ApiPath<CaseListKind>,
) -> ApiResult<Reply<Vec<CaseListEntry>>> {
    Ok(Reply::ok(st.crm.case_list_entries(&actor, kind).await?))
}

/// Adds or replaces an entry of one of the tenant's case lists (needs
/// `admin.dispositions`); `active: false` retires it: it stays on the cases that carry it
/// and can no longer be set.
#[utoipa::path(post, path = "/api/v1/case-lists/{kind}", operation_id = "put_case_list_entry", tag = "cases",
    request_body = CaseListEntryInput,
    params(("kind" = CaseListKind, Path, description = "category, type or resolution")),
    responses((status = 200, body = CaseListEntry)))]
pub async fn put_case_list_entry(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(kind): ApiPath<CaseListKind>,
    ApiJson(input): ApiJson<CaseListEntryInput>,
) -> ApiResult<Reply<CaseListEntry>> {
    Ok(Reply::ok(st.crm.put_case_list_entry(&actor, kind, input).await?))
}

/// Deletes an entry no case carries (needs `admin.dispositions`). Refused with 409 saying
/// how many cases carry it (live or softly deleted): retire it instead.
#[utoipa::path(delete, path = "/api/v1/case-lists/{kind}/{key}", operation_id = "delete_case_list_entry",
    tag = "cases",
    params(("kind" = CaseListKind, Path, description = "category, type or resolution"), ("key" = String, Path)),
    responses((status = 204, description = "deleted")))]
pub async fn delete_case_list_entry(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath((kind, key)): ApiPath<(CaseListKind, String)>,
) -> ApiResult<StatusCode> {
    st.crm.delete_case_list_entry(&actor, kind, &key).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A case's children the caller may see, by number.
#[utoipa::path(get, path = "/api/v1/cases/{id}/children", operation_id = "case_children", tag = "cases",
    params(("id" = uuid::Uuid, Path), PageParams),
    responses((status = 200, body = PageBody<Case>)))]
pub async fn case_children(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<CaseId>,
    ApiQuery(q): ApiQuery<PageParams>,
) -> ApiResult<Reply<PageBody<Case>>> {
    let page = q.page()?;
    Ok(Reply::ok(st.crm.case_children(&actor, id, &page).await?.into()))
}
