//! SLA settings and a case's SLA (issue 33): business calendars and SLA policies listed,
//! created, read, replaced (`If-Match`) and deleted (`If-Match`; a calendar a policy counts
//! in is refused with 409), and the SLA state of a case computed from its history.

use axum::extract::State;
use axum::http::StatusCode;

use crm_core::ids::CaseId;
use crm_core::sla::{
    CaseSla, NewSlaCalendar, NewSlaPolicy, SlaCalendarBody, SlaCalendarRecord, SlaPolicyBody, SlaPolicyRecord,
};

use crate::auth::Auth;
use crate::extract::{ApiJson, ApiPath, IfMatch, Reply};
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;

/// The business calendars of the caller's tenant, by name.
#[utoipa::path(get, path = "/api/v1/sla/calendars", tag = "sla",
    responses((status = 200, body = Vec<SlaCalendarRecord>)))]
pub async fn calendars(State(st): State<AppState>, Auth(actor): Auth) -> ApiResult<Reply<Vec<SlaCalendarRecord>>> {
    Ok(Reply::ok(st.crm.sla_calendars(&actor).await?))
}

/// Creates a business calendar (needs `admin.tenant`); 422 names each refused field
/// (`calendar.time_zone`, `calendar.hours`, `calendar.hours[1]` for an overlap).
#[utoipa::path(post, path = "/api/v1/sla/calendars", tag = "sla", request_body = NewSlaCalendar,
    responses((status = 201, body = SlaCalendarRecord)))]
pub async fn create_calendar(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiJson(input): ApiJson<NewSlaCalendar>,
) -> ApiResult<Reply<SlaCalendarRecord>> {
    let c = st.crm.create_sla_calendar(&actor, input).await?;
    let (v, location) = (c.version, format!("/api/v1/sla/calendars/{}", c.name));
    Ok(Reply::created(c, location).tagged(v))
}

/// One business calendar; `ETag` carries its version.
#[utoipa::path(get, path = "/api/v1/sla/calendars/{name}", tag = "sla", params(("name" = String, Path)),
    responses((status = 200, body = SlaCalendarRecord)))]
pub async fn calendar(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<Reply<SlaCalendarRecord>> {
    let c = st.crm.sla_calendar(&actor, &name).await?;
    let v = c.version;
    Ok(Reply::ok(c).tagged(v))
}

/// Replaces a business calendar (needs `admin.tenant`); needs `If-Match`.
#[utoipa::path(put, path = "/api/v1/sla/calendars/{name}", tag = "sla", request_body = SlaCalendarBody,
    params(("name" = String, Path), ("If-Match" = String, Header, description = "the ETag read")),
    responses((status = 200, body = SlaCalendarRecord)))]
pub async fn replace_calendar(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(name): ApiPath<String>,
    IfMatch(version): IfMatch,
    ApiJson(body): ApiJson<SlaCalendarBody>,
) -> ApiResult<Reply<SlaCalendarRecord>> {
    let c = st.crm.replace_sla_calendar(&actor, &name, version, body).await.map_err(ApiError::precondition)?;
    let v = c.version;
    Ok(Reply::ok(c).tagged(v))
}

/// Deletes a business calendar no policy counts in (needs `admin.tenant`); needs `If-Match`.
#[utoipa::path(delete, path = "/api/v1/sla/calendars/{name}", tag = "sla",
    params(("name" = String, Path), ("If-Match" = String, Header, description = "the ETag read")),
    responses((status = 204, description = "deleted")))]
pub async fn delete_calendar(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(name): ApiPath<String>,
    IfMatch(version): IfMatch,
) -> ApiResult<StatusCode> {
    st.crm.delete_sla_calendar(&actor, &name, version).await.map_err(ApiError::precondition)?;
    Ok(StatusCode::NO_CONTENT)
}

/// The SLA policies of the caller's tenant, by name.
#[utoipa::path(get, path = "/api/v1/sla/policies", tag = "sla",
    responses((status = 200, body = Vec<SlaPolicyRecord>)))]
pub async fn policies(State(st): State<AppState>, Auth(actor): Auth) -> ApiResult<Reply<Vec<SlaPolicyRecord>>> {
    Ok(Reply::ok(st.crm.sla_policies(&actor).await?))
}

/// Creates an SLA policy for a group or the tenant (needs `admin.tenant`); 422 names each
/// refused field (`policy.targets[0].first_response_secs` for a zero target, `calendar`
/// for an unknown calendar); 409 when the group (or the tenant) has a policy already.
#[utoipa::path(post, path = "/api/v1/sla/policies", tag = "sla", request_body = NewSlaPolicy,
    responses((status = 201, body = SlaPolicyRecord)))]
pub async fn create_policy(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiJson(input): ApiJson<NewSlaPolicy>,
) -> ApiResult<Reply<SlaPolicyRecord>> {
    let p = st.crm.create_sla_policy(&actor, input).await?;
    let (v, location) = (p.version, format!("/api/v1/sla/policies/{}", p.name));
    Ok(Reply::created(p, location).tagged(v))
}

/// One SLA policy; `ETag` carries its version.
#[utoipa::path(get, path = "/api/v1/sla/policies/{name}", tag = "sla", params(("name" = String, Path)),
    responses((status = 200, body = SlaPolicyRecord)))]
pub async fn policy(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<Reply<SlaPolicyRecord>> {
    let p = st.crm.sla_policy(&actor, &name).await?;
    let v = p.version;
    Ok(Reply::ok(p).tagged(v))
}

/// Replaces an SLA policy (needs `admin.tenant`); needs `If-Match`. Every case under it is
/// recomputed from its history.
#[utoipa::path(put, path = "/api/v1/sla/policies/{name}", tag = "sla", request_body = SlaPolicyBody,
    params(("name" = String, Path), ("If-Match" = String, Header, description = "the ETag read")),
    responses((status = 200, body = SlaPolicyRecord)))]
pub async fn replace_policy(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(name): ApiPath<String>,
    IfMatch(version): IfMatch,
    ApiJson(body): ApiJson<SlaPolicyBody>,
) -> ApiResult<Reply<SlaPolicyRecord>> {
    let p = st.crm.replace_sla_policy(&actor, &name, version, body).await.map_err(ApiError::precondition)?;
    let v = p.version;
    Ok(Reply::ok(p).tagged(v))
}

/// Deletes an SLA policy (needs `admin.tenant`); needs `If-Match`.
#[utoipa::path(delete, path = "/api/v1/sla/policies/{name}", tag = "sla",
    params(("name" = String, Path), ("If-Match" = String, Header, description = "the ETag read")),
    responses((status = 204, description = "deleted")))]
pub async fn delete_policy(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(name): ApiPath<String>,
    IfMatch(version): IfMatch,
) -> ApiResult<StatusCode> {
    st.crm.delete_sla_policy(&actor, &name, version).await.map_err(ApiError::precondition)?;
    Ok(StatusCode::NO_CONTENT)
}

/// The SLA of a case now: per metric the due instant, elapsed and paused business time and
/// its state, from the case's history under the policies in force (`state` null when no
/// policy applies).
#[utoipa::path(get, path = "/api/v1/cases/{id}/sla", tag = "cases", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = CaseSla)))]
pub async fn case_sla(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<CaseId>,
) -> ApiResult<Reply<CaseSla>> {
    Ok(Reply::ok(st.crm.case_sla(&actor, id).await?))
}
