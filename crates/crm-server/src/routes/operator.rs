//! The operator API (ADM-3): tenants created, listed, renamed, suspended and resumed by the
//! installation's operator, not by a tenant. Guarded by the operator credential from the
//! configuration (`CRM_OPERATOR_TOKEN`), never by a tenant token; without one configured
//! the operator API refuses every request. The command line keeps its own `tenant create`.

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};

use crm_core::access::{Role, TenantInfo};
use crm_core::ids::{AgentId, TenantId};
use crm_core::service::{NewAgent, NewTenant};

use crate::auth::{bearer, hash_token};
use crate::extract::{ApiJson, ApiPath, Reply};
use crate::problem::{ApiError, ApiResult, ProblemKind};
use crate::state::AppState;

/// A request that carried the operator credential.
#[derive(Clone, Copy, Debug)]
pub struct Operator;

impl FromRequestParts<AppState> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Some(expected) = state.settings.operator_token_hash.as_deref() else {
            return Err(ApiError::new(
                ProblemKind::Unauthorized,
                "the operator api is off: configure an operator token (CRM_OPERATOR_TOKEN)",
            ));
        };
        // Hashes are compared, so the time taken says nothing about the secret.
        match bearer(parts) {
            Some(token) if hash_token(token) == expected => Ok(Operator),
            _ => Err(ApiError::new(ProblemKind::Unauthorized, "send Authorization: Bearer <operator token>")),
        }
    }
}

/// A tenant to create, with its first administrator.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTenantRequest {
    /// Name.
    #[schema(schema_with = crm_core::openapi::required_text)]
    pub name: String,
    /// Default phone region (`FR`).
    pub default_region: String,
    /// IANA time zone (`Europe/Paris`).
    pub time_zone: String,
    /// The first administrator's name.
    #[schema(schema_with = crm_core::openapi::required_text)]
    pub admin_name: String,
    /// The first administrator's email.
    #[schema(format = Email)]
    pub admin_email: String,
}

/// A created tenant with its administrator's token, shown once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedTenant {
    /// The tenant.
    pub tenant: TenantInfo,
    /// Its first administrator.
    pub admin: AgentId,
    /// The administrator's bearer token; the server keeps only its hash.
    pub token: String,
}

/// A change to a tenant: its name, its suspension.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantPatch {
    /// New name.
    #[serde(default)]
    pub name: Option<String>,
    /// `true` suspends (every token of the tenant is refused with 403), `false` resumes.
    #[serde(default)]
    pub suspended: Option<bool>,
}

/// Every tenant, by name (operator credential).
#[utoipa::path(get, path = "/api/v1/operator/tenants", tag = "operator",
    responses((status = 200, body = Vec<TenantInfo>)))]
pub async fn list_tenants(State(st): State<AppState>, _: Operator) -> ApiResult<Reply<Vec<TenantInfo>>> {
    Ok(Reply::ok(st.crm.list_tenants().await?.iter().map(TenantInfo::from).collect()))
}

/// Creates a tenant with its first administrator and returns the administrator's token,
/// shown once (operator credential).
#[utoipa::path(post, path = "/api/v1/operator/tenants", tag = "operator", request_body = NewTenantRequest,
    responses((status = 201, body = CreatedTenant)))]
pub async fn create_tenant(
    State(st): State<AppState>,
    _: Operator,
    ApiJson(input): ApiJson<NewTenantRequest>,
) -> ApiResult<Reply<CreatedTenant>> {
    let tenant = NewTenant { name: input.name, default_region: input.default_region, time_zone: input.time_zone };
    let admin = NewAgent {
        name: input.admin_name,
        email: input.admin_email,
        role: Role::Administrator,
        groups: Default::default(),
    };
    let (tenant, admin) = st.crm.create_tenant_with_admin(tenant, admin).await?;
    let token = st.tokens.create(tenant.id, admin.id, Role::Administrator, "bootstrap administrator").await?;
    let location = format!("/api/v1/operator/tenants/{}", tenant.id);
    Ok(Reply::created(CreatedTenant { tenant: TenantInfo::from(&tenant), admin: admin.id, token }, location))
}

/// A tenant (operator credential).
#[utoipa::path(get, path = "/api/v1/operator/tenants/{id}", tag = "operator", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = TenantInfo)))]
pub async fn get_tenant(
    State(st): State<AppState>,
    _: Operator,
    ApiPath(id): ApiPath<TenantId>,
) -> ApiResult<Reply<TenantInfo>> {
    Ok(Reply::ok(TenantInfo::from(&st.crm.get_tenant(id).await?)))
}

/// Renames, suspends or resumes a tenant (operator credential). A suspension is honoured
/// by every replica within a second.
#[utoipa::path(patch, path = "/api/v1/operator/tenants/{id}", tag = "operator", request_body = TenantPatch,
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = TenantInfo)))]
pub async fn update_tenant(
    State(st): State<AppState>,
    _: Operator,
    ApiPath(id): ApiPath<TenantId>,
    ApiJson(patch): ApiJson<TenantPatch>,
) -> ApiResult<Reply<TenantInfo>> {
    let mut tenant = st.crm.get_tenant(id).await?;
    if let Some(name) = patch.name.as_deref() {
        tenant = st.crm.rename_tenant(id, name).await?;
    }
    if let Some(suspended) = patch.suspended {
        tenant = st.crm.set_tenant_suspended(id, suspended).await?;
        st.tokens.forget_tenant(id);
    }
    Ok(Reply::ok(TenantInfo::from(&tenant)))
}
