//! Cases and follow-ups (CAS-1…CAS-5, FUP-1).

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crm_core::case::{
    Case, CaseFilter, CaseHistoryEntry, CaseNumber, CasePatch, CaseSort, CaseSortField, NewCase, SortDirection,
};
use crm_core::follow_up::{FollowUp, NewFollowUp};
use crm_core::ids::{AgentId, CaseId, CustomerId, GroupId};

use super::{PageBody, PageParams, csv_list};
use crate::auth::Auth;
use crate::extract::{ApiJson, ApiPath, ApiQuery, IfMatch, Reply};
use crate::idempotency::UseCases;
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;

/// Creates a case, open or as a draft (CAS-1, CAS-2).
#[utoipa::path(post, path = "/api/v1/cases", tag = "cases", request_body = NewCase,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry-safe create")),
    responses((status = 201, description = "created; ETag and Location set", body = Case)))]
pub async fn create_case(
    Auth(actor): Auth,
    UseCases(crm): UseCases,
    ApiJson(input): ApiJson<NewCase>,
) -> ApiResult<Reply<Case>> {
    let c = crm.create_case(&actor, input).await?;
    let location = format!("/api/v1/cases/{}", c.id);
    let v = c.version();
    Ok(Reply::created(c, location).tagged(v))
}

/// Case list filters (CAS-5). Lists are comma-separated (`status=open,pending`).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CaseListParams {
    /// Statuses: draft, open, pending, on_hold, resolved, closed.
    #[serde(default)]
    pub status: Option<String>,
    /// Priorities: low, normal, high, urgent.
    #[serde(default)]
    pub priority: Option<String>,
    /// Severities: low, medium, high, critical.
    #[serde(default)]
    pub severity: Option<String>,
    /// Assigned agent.
    #[serde(default)]
    #[param(inline)]
    pub assignee: Option<AgentId>,
    /// Assigned group.
    #[serde(default)]
    #[param(inline)]
    pub group: Option<GroupId>,
    /// Customer.
    #[serde(default)]
    #[param(inline)]
    pub customer: Option<CustomerId>,
    /// Created at or after (RFC 3339).
    #[serde(default)]
    pub created_from: Option<DateTime<Utc>>,
    /// Created before.
    #[serde(default)]
    pub created_to: Option<DateTime<Utc>>,
    /// Updated at or after.
    #[serde(default)]
    pub updated_from: Option<DateTime<Utc>>,
    /// Updated before.
    #[serde(default)]
    pub updated_to: Option<DateTime<Utc>>,
    /// Text in the subject or description.
    #[serde(default)]
    pub text: Option<String>,
    /// SLA condition now: breached, warning (not breached) or running (neither).
    #[serde(default)]
    #[param(inline)]
    pub sla: Option<crm_core::sla::SlaCondition>,
    /// Carrying this tag (written as tags are: `VIP customer` finds `vip-customer`).
    #[serde(default)]
    pub tag: Option<String>,
    /// Of this category (a key of the tenant's list).
    #[serde(default)]
    pub category: Option<String>,
    /// Of this type (a key of the tenant's list).
    #[serde(default, rename = "type")]
    #[param(rename = "type")]
    pub case_type: Option<String>,
    /// Children of this case.
    #[serde(default)]
    #[param(inline)]
    pub parent: Option<CaseId>,
    /// Sort key: created_at (default), updated_at, number, priority, due_next (the next SLA
    /// deadline; cases without one last in ascending order).
    #[serde(default)]
    #[param(inline)]
    pub sort: Option<CaseSortField>,
    /// asc or desc (default).
    #[serde(default)]
    #[param(inline)]
    pub direction: Option<SortDirection>,
    /// Page size.
    #[serde(default)]
    pub limit: Option<u32>,
    /// Cursor.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// Lists cases with filters, sort and cursor pagination (CAS-5).
#[utoipa::path(get, path = "/api/v1/cases", tag = "cases", params(CaseListParams),
    responses((status = 200, body = PageBody<Case>)))]
pub async fn list_cases(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<CaseListParams>,
) -> ApiResult<Reply<PageBody<Case>>> {
    let page = PageParams { limit: q.limit, cursor: q.cursor.clone() }.page()?;
    let filter = CaseFilter {
        status: csv_list("status", q.status.as_deref())?,
        priority: csv_list("priority", q.priority.as_deref())?,
        severity: csv_list("severity", q.severity.as_deref())?,
        assignee: q.assignee,
        group: q.group,
        customer: q.customer,
        created_from: q.created_from,
        created_to: q.created_to,
        updated_from: q.updated_from,
        updated_to: q.updated_to,
        text: q.text,
        sla: q.sla,
        at: None,
        tag: q.tag,
        category: q.category,
        case_type: q.case_type,
        parent: q.parent,
    };
    let sort = CaseSort { field: q.sort.unwrap_or_default(), direction: q.direction.unwrap_or_default() };
    Ok(Reply::ok(st.crm.list_cases(&actor, &filter, sort, &page).await?.into()))
}

/// A case; `ETag` carries its version.
#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "cases", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Case)))]
pub async fn get_case(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<CaseId>,
) -> ApiResult<Reply<Case>> {
    let c = st.crm.get_case(&actor, id).await?;
    let v = c.version();
    Ok(Reply::ok(c).tagged(v))
}

/// A case by its number (`CS-000123` or `123`).
#[utoipa::path(get, path = "/api/v1/cases/by-number/{number}", tag = "cases",
    params(("number" = String, Path, pattern = r"^((CS|cs|Cs)-?)?0*[1-9][0-9]{0,18}$",
        description = "`CS-000123`, `cs-123`, `CS000123` or `123`")),
    responses((status = 200, body = Case)))]
pub async fn get_case_by_number(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(number): ApiPath<String>,
) -> ApiResult<Reply<Case>> {
    let number: CaseNumber = number.parse().map_err(|e: crm_core::FieldError| ApiError::invalid(e.field, e.reason))?;
    let c = st.crm.get_case_by_number(&actor, number).await?;
    let v = c.version();
    Ok(Reply::ok(c).tagged(v))
}

/// Edits a case; the status moves through the lifecycle (CAS-2, CAS-3). Needs `If-Match`.
#[utoipa::path(patch, path = "/api/v1/cases/{id}", tag = "cases", request_body = CasePatch,
    params(("id" = uuid::Uuid, Path), ("If-Match" = String, Header, description = "the ETag read")),
    responses((status = 200, body = Case)))]
pub async fn update_case(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<CaseId>,
    IfMatch(version): IfMatch,
    ApiJson(patch): ApiJson<CasePatch>,
) -> ApiResult<Reply<Case>> {
    let c = st.crm.update_case(&actor, id, version, patch).await.map_err(ApiError::precondition)?;
    let v = c.version();
    Ok(Reply::ok(c).tagged(v))
}

/// Deletes a case softly (needs `case.delete`; CAS-3): hidden from lists and lookups, its
/// number and history kept, restorable by an administrator within the restore period.
/// Needs `If-Match`; the answer's `ETag` is the deleted version (what a restore expects).
#[utoipa::path(delete, path = "/api/v1/cases/{id}", tag = "cases",
    params(("id" = uuid::Uuid, Path), ("If-Match" = String, Header)),
    responses((status = 204, description = "deleted; ETag is the deleted version")))]
pub async fn delete_case(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<CaseId>,
    IfMatch(version): IfMatch,
) -> ApiResult<(StatusCode, [(axum::http::HeaderName, axum::http::HeaderValue); 1])> {
    let case = st.crm.delete_case(&actor, id, version).await.map_err(ApiError::precondition)?;
    Ok((StatusCode::NO_CONTENT, [(axum::http::header::ETAG, crate::extract::etag(case.version()))]))
}

/// Restores a softly deleted case within the restore period (administrators; the restore
/// is a history entry). Needs `If-Match` with the deleted version; 422 naming `deleted_at`
/// once the period is over, `case` for a case that is not deleted.
#[utoipa::path(post, path = "/api/v1/cases/{id}/restore", tag = "cases",
    params(("id" = uuid::Uuid, Path), ("If-Match" = String, Header, description = "the deleted version's ETag")),
    responses((status = 200, description = "restored", body = Case)))]
pub async fn restore_case(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<CaseId>,
    IfMatch(version): IfMatch,
) -> ApiResult<Reply<Case>> {
    let c = st.crm.restore_case(&actor, id, version).await.map_err(ApiError::precondition)?;
    let v = c.version();
    Ok(Reply::ok(c).tagged(v))
}

/// A case's history, oldest first (CAS-4).
#[utoipa::path(get, path = "/api/v1/cases/{id}/history", tag = "cases", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Vec<CaseHistoryEntry>)))]
pub async fn case_history(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<CaseId>,
) -> ApiResult<Reply<Vec<CaseHistoryEntry>>> {
    Ok(Reply::ok(st.crm.case_history(&actor, id).await?))
}

/// A case's follow-ups in order (FUP-1).
#[utoipa::path(get, path = "/api/v1/cases/{id}/follow-ups", tag = "cases", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Vec<FollowUp>)))]
pub async fn follow_ups(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<CaseId>,
) -> ApiResult<Reply<Vec<FollowUp>>> {
    Ok(Reply::ok(st.crm.follow_ups(&actor, id).await?))
}

/// Adds a follow-up (FUP-1).
#[utoipa::path(post, path = "/api/v1/cases/{id}/follow-ups", tag = "cases", request_body = NewFollowUp,
    params(("id" = uuid::Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = FollowUp)))]
pub async fn add_follow_up(
    Auth(actor): Auth,
    UseCases(crm): UseCases,
    ApiPath(id): ApiPath<CaseId>,
    ApiJson(input): ApiJson<NewFollowUp>,
) -> ApiResult<Reply<FollowUp>> {
    let f = crm.add_follow_up(&actor, id, input).await?;
    let location = format!("/api/v1/cases/{id}/follow-ups");
    Ok(Reply::created(f, location))
}
