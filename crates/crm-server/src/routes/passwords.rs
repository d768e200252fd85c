//! Agents' console passwords through the API (issue 32): an administrator sets any
//! agent's, an agent its own. The rules are the core's (`check_password`); the hash is
//! argon2id ([`crate::console::hash_password`]). Setting a password ends the agent's
//! console sessions.

use axum::extract::State;
use axum::http::StatusCode;

use crm_core::console::PasswordInput;
use crm_core::ids::AgentId;

use crate::auth::Auth;
use crate::extract::{ApiJson, ApiPath};
use crate::problem::ApiResult;
use crate::state::AppState;

/// Sets an agent's console password (its own, or any with `admin.agents`); the agent's
/// console sessions end.
#[utoipa::path(put, path = "/api/v1/agents/{id}/password", operation_id = "set_agent_password", tag = "admin",
    params(("id" = uuid::Uuid, Path)), request_body = PasswordInput,
    responses((status = 204, description = "set")))]
pub async fn set_password(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<AgentId>,
    ApiJson(input): ApiJson<PasswordInput>,
) -> ApiResult<StatusCode> {
    let hash = |p: &str| crate::console::hash_password(p);
    // argon2 is slow on purpose; the use case is short otherwise.
    st.crm.set_agent_password(&actor, id, &input.password, &hash).await?;
    Ok(StatusCode::NO_CONTENT)
}
