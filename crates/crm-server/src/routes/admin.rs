//! Administration (ADM-1, ADM-2, INT-3): the disposition catalogue, queues, agents, groups,
//! API tokens, and the caller's own profile (custom field definitions: `custom_fields`).

use axum::extract::State;
use serde::{Deserialize, Serialize};

use chrono::{DateTime, Utc};
use crm_core::access::{Agent, Group, Role, Tenant};
use crm_core::api_token::TokenInfo;
use crm_core::ids::{AgentId, TokenId};
use crm_core::interaction::{Disposition, DispositionInput, QueueSettings};
use crm_core::service::{AgentPatch, NewAgent, ProfilePatch, TenantSettingsPatch};

use crate::auth::Auth;
use crate::extract::{ApiJson, ApiPath, IfMatch, Reply};
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;

/// The disposition catalogue (INT-3).
#[utoipa::path(get, path = "/api/v1/dispositions", tag = "admin", responses((status = 200, body = Vec<Disposition>)))]
pub async fn dispositions(State(st): State<AppState>, Auth(actor): Auth) -> ApiResult<Reply<Vec<Disposition>>> {
    Ok(Reply::ok(st.crm.dispositions(&actor).await?))
}

/// Adds or replaces a disposition code (needs `admin.dispositions`).
#[utoipa::path(post, path = "/api/v1/dispositions", tag = "admin", request_body = DispositionInput,
    responses((status = 200, body = Disposition)))]
pub async fn put_disposition(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiJson(input): ApiJson<DispositionInput>,
) -> ApiResult<Reply<Disposition>> {
    Ok(Reply::ok(st.crm.put_disposition(&actor, input).await?))
}

/// A queue's settings.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QueueInput {
    /// Whether wrap-up needs a disposition.
    pub disposition_required: bool,
}

/// Sets a queue's settings (needs `admin.dispositions`).
#[utoipa::path(put, path = "/api/v1/queues/{name}", tag = "admin", request_body = QueueInput,
    params(("name" = String, Path)), responses((status = 200, body = QueueSettings)))]
pub async fn put_queue(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(name): ApiPath<String>,
    ApiJson(input): ApiJson<QueueInput>,
) -> ApiResult<Reply<QueueSettings>> {
    Ok(Reply::ok(st.crm.put_queue(&actor, &name, input.disposition_required).await?))
}

/// The agents of the caller's tenant.
#[utoipa::path(get, path = "/api/v1/agents", tag = "admin", responses((status = 200, body = Vec<Agent>)))]
pub async fn list_agents(State(st): State<AppState>, Auth(actor): Auth) -> ApiResult<Reply<Vec<Agent>>> {
    Ok(Reply::ok(st.crm.list_agents(&actor).await?))
}

/// Creates an agent (needs `admin.agents`).
#[utoipa::path(post, path = "/api/v1/agents", tag = "admin", request_body = NewAgent,
    responses((status = 201, body = Agent)))]
pub async fn create_agent(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiJson(input): ApiJson<NewAgent>,
) -> ApiResult<Reply<Agent>> {
    let a = st.crm.create_agent(actor.tenant, Some(&actor), input).await?;
    let location = format!("/api/v1/agents/{}", a.id);
    let v = a.version;
    Ok(Reply::created(a, location).tagged(v))
}

/// An agent of the caller's tenant.
#[utoipa::path(get, path = "/api/v1/agents/{id}", tag = "admin", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Agent)))]
pub async fn get_agent(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<AgentId>,
) -> ApiResult<Reply<Agent>> {
    let a = st.crm.get_agent(&actor, id).await?;
    let v = a.version;
    Ok(Reply::ok(a).tagged(v))
}

/// Changes an agent's name, role, groups or active flag (needs `admin.agents`); needs
/// `If-Match`. An administrator cannot demote or deactivate themself (422).
#[utoipa::path(patch, path = "/api/v1/agents/{id}", tag = "admin", request_body = AgentPatch,
    params(("id" = uuid::Uuid, Path), ("If-Match" = String, Header, description = "the ETag read")),
    responses((status = 200, body = Agent)))]
pub async fn update_agent(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<AgentId>,
    IfMatch(version): IfMatch,
    ApiJson(patch): ApiJson<AgentPatch>,
) -> ApiResult<Reply<Agent>> {
    let a = st.crm.update_agent(&actor, id, version, patch).await.map_err(ApiError::precondition)?;
    // Deactivation and role changes bind this replica's tokens at once.
    st.tokens.forget_agent(a.tenant, a.id);
    let v = a.version;
    Ok(Reply::ok(a).tagged(v))
}

/// The groups of the caller's tenant.
#[utoipa::path(get, path = "/api/v1/groups", tag = "admin", responses((status = 200, body = Vec<Group>)))]
pub async fn list_groups(State(st): State<AppState>, Auth(actor): Auth) -> ApiResult<Reply<Vec<Group>>> {
    Ok(Reply::ok(st.crm.list_groups(&actor).await?))
}

/// A new group.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGroup {
    /// Name, unique per tenant.
    #[schema(schema_with = crm_core::openapi::required_text)]
    pub name: String,
    /// Shared mail addresses.
    #[serde(default)]
    #[schema(value_type = Vec<crm_core::customer::EmailAddress>)]
    pub mail_addresses: Vec<String>,
}

/// Creates a group (needs `admin.agents`).
#[utoipa::path(post, path = "/api/v1/groups", tag = "admin", request_body = NewGroup,
    responses((status = 201, body = Group)))]
pub async fn create_group(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiJson(input): ApiJson<NewGroup>,
) -> ApiResult<Reply<Group>> {
    let g = st.crm.create_group(&actor, &input.name, &input.mail_addresses).await?;
    let v = g.version;
    Ok(Reply::created(g, "/api/v1/groups".into()).tagged(v))
}

/// The caller's own agent record and profile; `ETag` carries its version.
#[utoipa::path(get, path = "/api/v1/me", tag = "admin", responses((status = 200, body = Agent)))]
pub async fn me(State(st): State<AppState>, Auth(actor): Auth) -> ApiResult<Reply<Agent>> {
    let a = st.crm.get_agent(&actor, actor.agent).await?;
    let v = a.version;
    Ok(Reply::ok(a).tagged(v))
}

/// Changes the caller's profile (default From, signature, case columns, the console's language and
/// time zone); needs `If-Match`.
#[utoipa::path(patch, path = "/api/v1/me", tag = "admin", request_body = ProfilePatch,
    params(("If-Match" = String, Header, description = "the ETag read")), responses((status = 200, body = Agent)))]
pub async fn update_me(
    State(st): State<AppState>,
    Auth(actor): Auth,
    IfMatch(version): IfMatch,
    ApiJson(patch): ApiJson<ProfilePatch>,
) -> ApiResult<Reply<Agent>> {
    let a = st.crm.update_profile(&actor, version, patch).await.map_err(ApiError::precondition)?;
    st.tokens.forget_agent(a.tenant, a.id);
    let v = a.version;
    Ok(Reply::ok(a).tagged(v))
}

/// A token to create.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// The agent it acts as (of the caller's tenant).
    pub agent: AgentId,
    /// `agent`, `supervisor` or `administrator`.
    pub role: Role,
    /// A label to recognise it by.
    #[serde(default)]
    pub label: Option<String>,
    /// When it stops working (in the future; absent: never).
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

/// A created token, shown once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedToken {
    /// The bearer token; the server keeps only its hash.
    pub token: String,
    /// Its handle (to list and revoke it).
    pub id: TokenId,
    /// The agent.
    pub agent: AgentId,
    /// The role.
    pub role: Role,
    /// When it stops working (`null`: never).
    pub expires_at: Option<DateTime<Utc>>,
}

/// Creates an API token for an agent of the caller's tenant (needs `admin.agents`).
#[utoipa::path(post, path = "/api/v1/tokens", tag = "admin", request_body = NewToken,
    responses((status = 201, body = CreatedToken)))]
pub async fn create_token(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiJson(input): ApiJson<NewToken>,
) -> ApiResult<Reply<CreatedToken>> {
    let label = input.label.unwrap_or_default();
    let (token, record) = st.tokens.issue(&actor, input.agent, input.role, &label, input.expires_at).await?;
    let location = format!("/api/v1/tokens/{}", record.id);
    let created = CreatedToken {
        token,
        id: record.id,
        agent: record.grant.agent,
        role: record.grant.role,
        expires_at: record.expires_at,
    };
    Ok(Reply::created(created, location))
}

/// The tokens of the caller's tenant, revoked and expired ones included, newest first;
/// never their secret (needs `admin.agents`).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "admin", responses((status = 200, body = Vec<TokenInfo>)))]
pub async fn list_tokens(State(st): State<AppState>, Auth(actor): Auth) -> ApiResult<Reply<Vec<TokenInfo>>> {
    Ok(Reply::ok(st.crm.list_api_tokens(&actor).await?))
}

/// Revokes a token (needs `admin.agents`): refused on every replica within a second.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "admin", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = TokenInfo)))]
pub async fn revoke_token(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<TokenId>,
) -> ApiResult<Reply<TokenInfo>> {
    let info = st.crm.revoke_api_token(&actor, id).await?;
    st.tokens.forget_token(id);
    Ok(Reply::ok(info))
}

/// The caller's tenant: its name, default phone region and time zone (ADM-3).
#[utoipa::path(get, path = "/api/v1/tenant", tag = "admin", responses((status = 200, body = Tenant)))]
pub async fn tenant_settings(State(st): State<AppState>, Auth(actor): Auth) -> ApiResult<Reply<Tenant>> {
    Ok(Reply::ok(st.crm.tenant_settings(&actor).await?))
}

/// Changes the caller's tenant's default phone region and time zone (needs `admin.tenant`).
/// A new region is refused (422 on `default_region`, listing them) when phone numbers the
/// tenant's customers hold would not be valid under it; nothing changes then.
#[utoipa::path(patch, path = "/api/v1/tenant", tag = "admin", request_body = TenantSettingsPatch,
    responses((status = 200, body = Tenant)))]
pub async fn update_tenant_settings(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiJson(patch): ApiJson<TenantSettingsPatch>,
) -> ApiResult<Reply<Tenant>> {
    Ok(Reply::ok(st.crm.update_tenant_settings(actor.tenant, Some(&actor), patch).await?))
}
