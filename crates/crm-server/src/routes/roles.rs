//! Roles (ADM-2): the built-in roles and the tenant's own, listed and read; the tenant's
//! roles created, edited and deleted with `If-Match` (a built-in role, or one an agent
//! holds, is refused with 409 and the reason). Who holds a role is set on the agent
//! (`PATCH /api/v1/agents/{id}` with `custom_role`). A change applies to this replica's
//! requests at once and to every other replica's within a second (`crate::auth`).

use axum::extract::State;
use axum::http::StatusCode;

use crm_core::access::{NewRole, RoleInfo, RolePatch, TenantRole};
use crm_core::service::RoleRef;

use crate::auth::Auth;
use crate::extract::{ApiJson, ApiPath, IfMatch, Reply};
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;

/// The role a path names: a built-in one by name, or one of the tenant's by id (anything
/// else is a 422 naming `id`).
fn role_ref(id: &str) -> Result<RoleRef, ApiError> {
    id.parse::<RoleRef>().map_err(|e| ApiError::from(crm_core::Error::Validation(e.into())))
}

/// The roles of the caller's tenant: the built-in ones (`agent`, `supervisor`,
/// `administrator`), then its own by name.
#[utoipa::path(get, path = "/api/v1/roles", tag = "admin", responses((status = 200, body = Vec<RoleInfo>)))]
pub async fn list_roles(State(st): State<AppState>, Auth(actor): Auth) -> ApiResult<Reply<Vec<RoleInfo>>> {
    Ok(Reply::ok(st.crm.list_roles(&actor).await?))
}

/// Creates a role: a named set of permissions (needs `admin.agents`, and every permission it
/// grants).
#[utoipa::path(post, path = "/api/v1/roles", tag = "admin", request_body = NewRole,
    responses((status = 201, body = TenantRole)))]
pub async fn create_role(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiJson(input): ApiJson<NewRole>,
) -> ApiResult<Reply<TenantRole>> {
    let role = st.crm.create_role(&actor, input).await?;
    let location = format!("/api/v1/roles/{}", role.id);
    let v = role.version;
    Ok(Reply::created(role, location).tagged(v))
}

/// A role, built-in (by name) or the tenant's (by id; `ETag` carries its version).
#[utoipa::path(get, path = "/api/v1/roles/{id}", tag = "admin",
    params(("id" = String, Path, description = "a built-in role's name or a role id")),
    responses((status = 200, body = RoleInfo)))]
pub async fn get_role(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Reply<RoleInfo>> {
    let role = st.crm.get_role(&actor, role_ref(&id)?).await?;
    Ok(match role.version {
        Some(v) => Reply::ok(role).tagged(v),
        None => Reply::ok(role),
    })
}

/// Changes a role's name, description or permissions (needs `admin.agents` and every
/// permission it grants); needs `If-Match`. A built-in role is refused (409).
#[utoipa::path(patch, path = "/api/v1/roles/{id}", tag = "admin", request_body = RolePatch,
    params(("id" = String, Path, description = "a role id"), ("If-Match" = String, Header, description = "the ETag read")),
    responses((status = 200, body = TenantRole)))]
pub async fn update_role(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
    IfMatch(version): IfMatch,
    ApiJson(patch): ApiJson<RolePatch>,
) -> ApiResult<Reply<TenantRole>> {
    let role = st.crm.update_role(&actor, role_ref(&id)?, version, patch).await.map_err(ApiError::precondition)?;
    st.tokens.forget_role(role.tenant, role.id);
    let v = role.version;
    Ok(Reply::ok(role).tagged(v))
}

/// Deletes a role (needs `admin.agents`); needs `If-Match`. Refused with 409 for a built-in
/// role and while an agent holds it (saying how many).
#[utoipa::path(delete, path = "/api/v1/roles/{id}", tag = "admin",
    params(("id" = String, Path, description = "a role id"), ("If-Match" = String, Header, description = "the ETag read")),
    responses((status = 204, description = "deleted")))]
pub async fn delete_role(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
    IfMatch(version): IfMatch,
) -> ApiResult<StatusCode> {
    let role = role_ref(&id)?;
    st.crm.delete_role(&actor, role, version).await.map_err(ApiError::precondition)?;
    if let RoleRef::Tenant(id) = role {
        st.tokens.forget_role(actor.tenant, id);
    }
    Ok(StatusCode::NO_CONTENT)
}
