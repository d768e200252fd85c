//! Tasks and the agenda (TSK-1…TSK-3).

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crm_core::ids::{AgentId, CaseId, CustomerId, TaskId};
use crm_core::service::Agenda;
use crm_core::task::{NewTask, Task, TaskPatch};

use super::{PageBody, PageParams};
use crate::auth::Auth;
use crate::extract::{ApiJson, ApiPath, ApiQuery, IfMatch, Reply};
use crate::idempotency::UseCases;
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;

/// Creates a task; its reminder fires `reminder_minutes` before it (TSK-1, TSK-2).
#[utoipa::path(post, path = "/api/v1/tasks", tag = "tasks", request_body = NewTask,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry-safe create")),
    responses((status = 201, description = "created; ETag and Location set", body = Task)))]
pub async fn create_task(
    Auth(actor): Auth,
    UseCases(crm): UseCases,
    ApiJson(input): ApiJson<NewTask>,
) -> ApiResult<Reply<Task>> {
    let t = crm.create_task(&actor, input).await?;
    let location = format!("/api/v1/tasks/{}", t.id);
    let v = t.version();
    Ok(Reply::created(t, location).tagged(v))
}

/// A task; `ETag` carries its version.
#[utoipa::path(get, path = "/api/v1/tasks/{id}", tag = "tasks", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Task)))]
pub async fn get_task(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<TaskId>,
) -> ApiResult<Reply<Task>> {
    let t = st.crm.get_task(&actor, id).await?;
    let v = t.version();
    Ok(Reply::ok(t).tagged(v))
}

/// Reschedules, completes, cancels or reassigns a task; needs `If-Match`.
#[utoipa::path(patch, path = "/api/v1/tasks/{id}", tag = "tasks", request_body = TaskPatch,
    params(("id" = uuid::Uuid, Path), ("If-Match" = String, Header, description = "the ETag read")),
    responses((status = 200, body = Task)))]
pub async fn update_task(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<TaskId>,
    IfMatch(version): IfMatch,
    ApiJson(patch): ApiJson<TaskPatch>,
) -> ApiResult<Reply<Task>> {
    let t = st.crm.update_task(&actor, id, version, patch).await.map_err(ApiError::precondition)?;
    let v = t.version();
    Ok(Reply::ok(t).tagged(v))
}

/// Deletes a task (needs `task.edit`, and `case.assign` for someone else's); needs
/// `If-Match`.
#[utoipa::path(delete, path = "/api/v1/tasks/{id}", tag = "tasks",
    params(("id" = uuid::Uuid, Path), ("If-Match" = String, Header, description = "the ETag read")),
    responses((status = 204, description = "deleted")))]
pub async fn delete_task(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<TaskId>,
    IfMatch(version): IfMatch,
) -> ApiResult<StatusCode> {
    st.crm.delete_task(&actor, id, version).await.map_err(ApiError::precondition)?;
    Ok(StatusCode::NO_CONTENT)
}

/// A customer's tasks, every status, by scheduled time (TSK-1); 404 for an unknown customer.
#[utoipa::path(get, path = "/api/v1/customers/{id}/tasks", tag = "tasks",
    params(("id" = uuid::Uuid, Path), PageParams), responses((status = 200, body = PageBody<Task>)))]
pub async fn customer_tasks(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<CustomerId>,
    ApiQuery(q): ApiQuery<PageParams>,
) -> ApiResult<Reply<PageBody<Task>>> {
    Ok(Reply::ok(st.crm.tasks_of_customer(&actor, id, &q.page()?).await?.into()))
}

/// A case's tasks, every status, by scheduled time (TSK-1); 404 for an unknown case.
#[utoipa::path(get, path = "/api/v1/cases/{id}/tasks", tag = "tasks",
    params(("id" = uuid::Uuid, Path), PageParams), responses((status = 200, body = PageBody<Task>)))]
pub async fn case_tasks(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<CaseId>,
    ApiQuery(q): ApiQuery<PageParams>,
) -> ApiResult<Reply<PageBody<Task>>> {
    Ok(Reply::ok(st.crm.tasks_of_case(&actor, id, &q.page()?).await?.into()))
}

/// Agenda parameters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AgendaParams {
    /// Whose agenda (default: the caller's; another's needs `case.assign`).
    #[serde(default)]
    #[param(inline)]
    pub agent: Option<AgentId>,
    /// Only tasks scheduled before this instant.
    #[serde(default)]
    pub until: Option<DateTime<Utc>>,
    /// At most this many tasks per page (1..=200, default 50).
    #[serde(default)]
    pub limit: Option<u32>,
    /// The `next` cursor of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// One page of an agent's overdue, due and upcoming tasks, soonest first (TSK-3); `next`
/// is the cursor of the following page.
#[utoipa::path(get, path = "/api/v1/agenda", tag = "tasks", params(AgendaParams),
    responses((status = 200, body = Agenda)))]
pub async fn agenda(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<AgendaParams>,
) -> ApiResult<Reply<Agenda>> {
    let page = PageParams { limit: q.limit, cursor: q.cursor }.page()?;
    Ok(Reply::ok(st.crm.agenda(&actor, q.agent, q.until, &page).await?))
}
