//! Tasks and the agenda (TSK-1…TSK-3).

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crm_core::ids::{AgentId, TaskId};
use crm_core::service::Agenda;
use crm_core::task::{NewTask, Task, TaskPatch};

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
}

/// An agent's overdue, due and upcoming tasks (TSK-3).
#[utoipa::path(get, path = "/api/v1/agenda", tag = "tasks", params(AgendaParams),
    responses((status = 200, body = Agenda)))]
pub async fn agenda(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<AgendaParams>,
) -> ApiResult<Reply<Agenda>> {
    Ok(Reply::ok(st.crm.agenda(&actor, q.agent, q.until).await?))
}
