//! Groups and queues (ADM-1): a group read, edited, deleted (refused with the reason while
//! in use), its members listed, added and removed; the tenant's queues listed.

use axum::extract::State;
use axum::http::StatusCode;

use crm_core::access::{Agent, Group};
use crm_core::ids::{AgentId, GroupId};
use crm_core::interaction::QueueSettings;
use crm_core::service::{GroupPatch, Membership};

use crate::auth::Auth;
use crate::extract::{ApiJson, ApiPath, IfMatch, Reply};
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;

/// A group of the caller's tenant; `ETag` carries its version.
#[utoipa::path(get, path = "/api/v1/groups/{id}", tag = "admin", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Group)))]
pub async fn get_group(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<GroupId>,
) -> ApiResult<Reply<Group>> {
    let g = st.crm.get_group(&actor, id).await?;
    let v = g.version;
    Ok(Reply::ok(g).tagged(v))
}

/// Renames a group or replaces its mail addresses (needs `admin.agents`); needs `If-Match`.
#[utoipa::path(patch, path = "/api/v1/groups/{id}", tag = "admin", request_body = GroupPatch,
    params(("id" = uuid::Uuid, Path), ("If-Match" = String, Header, description = "the ETag read")),
    responses((status = 200, body = Group)))]
pub async fn update_group(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<GroupId>,
    IfMatch(version): IfMatch,
    ApiJson(patch): ApiJson<GroupPatch>,
) -> ApiResult<Reply<Group>> {
    let g = st.crm.update_group(&actor, id, version, patch).await.map_err(ApiError::precondition)?;
    let v = g.version;
    Ok(Reply::ok(g).tagged(v))
}

/// Deletes a group (needs `admin.agents`); needs `If-Match`. Refused with 409 saying what
/// uses it (members, assigned cases) while something does.
#[utoipa::path(delete, path = "/api/v1/groups/{id}", tag = "admin",
    params(("id" = uuid::Uuid, Path), ("If-Match" = String, Header, description = "the ETag read")),
    responses((status = 204, description = "deleted")))]
pub async fn delete_group(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<GroupId>,
    IfMatch(version): IfMatch,
) -> ApiResult<StatusCode> {
    st.crm.delete_group(&actor, id, version).await.map_err(ApiError::precondition)?;
    Ok(StatusCode::NO_CONTENT)
}

/// The members of a group, by name.
#[utoipa::path(get, path = "/api/v1/groups/{id}/members", tag = "admin", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Vec<Agent>)))]
pub async fn members(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<GroupId>,
) -> ApiResult<Reply<Vec<Agent>>> {
    Ok(Reply::ok(st.crm.group_members(&actor, id).await?))
}

/// Adds an agent to a group (needs `admin.agents`); adding a member again changes nothing.
/// Answers the agent.
#[utoipa::path(put, path = "/api/v1/groups/{id}/members/{agent}", tag = "admin",
    params(("id" = uuid::Uuid, Path), ("agent" = uuid::Uuid, Path)), responses((status = 200, body = Agent)))]
pub async fn add_member(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath((id, agent)): ApiPath<(GroupId, AgentId)>,
) -> ApiResult<Reply<Agent>> {
    let a = st.crm.change_membership(&actor, id, agent, Membership::Join).await?;
    st.tokens.forget_agent(a.tenant, a.id);
    let v = a.version;
    Ok(Reply::ok(a).tagged(v))
}

/// Removes an agent from a group (needs `admin.agents`); removing a non-member changes
/// nothing. Answers the agent.
#[utoipa::path(delete, path = "/api/v1/groups/{id}/members/{agent}", tag = "admin",
    params(("id" = uuid::Uuid, Path), ("agent" = uuid::Uuid, Path)), responses((status = 200, body = Agent)))]
pub async fn remove_member(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath((id, agent)): ApiPath<(GroupId, AgentId)>,
) -> ApiResult<Reply<Agent>> {
    let a = st.crm.change_membership(&actor, id, agent, Membership::Leave).await?;
    st.tokens.forget_agent(a.tenant, a.id);
    let v = a.version;
    Ok(Reply::ok(a).tagged(v))
}

/// The queues of the caller's tenant, by name.
#[utoipa::path(get, path = "/api/v1/queues", tag = "admin", responses((status = 200, body = Vec<QueueSettings>)))]
pub async fn list_queues(State(st): State<AppState>, Auth(actor): Auth) -> ApiResult<Reply<Vec<QueueSettings>>> {
    Ok(Reply::ok(st.crm.list_queues(&actor).await?))
}
