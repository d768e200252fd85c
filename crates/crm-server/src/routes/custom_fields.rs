//! Custom field definitions (CUS-2): define, list, read, change (label, help text, choices,
//! required flag, default, retirement) and delete.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use crm_core::custom_field::{FieldDefinition, FieldDefinitionChange, FieldDefinitionInput, FieldEntity};
use crm_core::ids::FieldDefinitionId;

use crate::auth::Auth;
use crate::extract::{ApiJson, ApiPath, ApiQuery, IfMatch, Reply};
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;

/// Which definitions.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EntityParams {
    /// `customer` (default) or `case`.
    #[serde(default)]
    #[param(inline)]
    pub entity: Option<FieldEntity>,
    /// Include retired fields (default `false`: the fields a form shows).
    #[serde(default)]
    pub include_retired: bool,
}

/// The custom field definitions of customers or cases (CUS-2), by key.
#[utoipa::path(get, path = "/api/v1/custom-fields", tag = "admin", params(EntityParams),
    responses((status = 200, body = Vec<FieldDefinition>)))]
pub async fn custom_fields(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<EntityParams>,
) -> ApiResult<Reply<Vec<FieldDefinition>>> {
    let entity = q.entity.unwrap_or(FieldEntity::Customer);
    Ok(Reply::ok(st.crm.custom_fields(&actor, entity, q.include_retired).await?))
}

/// Defines a custom field (needs `admin.custom_fields`).
#[utoipa::path(post, path = "/api/v1/custom-fields", tag = "admin", request_body = FieldDefinitionInput,
    responses((status = 201, body = FieldDefinition)))]
pub async fn define_custom_field(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiJson(input): ApiJson<FieldDefinitionInput>,
) -> ApiResult<Reply<FieldDefinition>> {
    let d = st.crm.define_custom_field(&actor, input).await?;
    let (v, location) = (d.version, format!("/api/v1/custom-fields/{}", d.id));
    Ok(Reply::created(d, location).tagged(v))
}

/// One custom field definition, with its version as the ETag.
#[utoipa::path(get, path = "/api/v1/custom-fields/{id}", tag = "admin", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = FieldDefinition)))]
pub async fn custom_field(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<FieldDefinitionId>,
) -> ApiResult<Reply<FieldDefinition>> {
    let d = st.crm.custom_field(&actor, id).await?;
    let v = d.version;
    Ok(Reply::ok(d).tagged(v))
}

/// Changes a definition (needs `admin.custom_fields` and `If-Match`): label, help text,
/// choices, required flag, default, `retired`. The key and type never change. A change that
/// would make stored records invalid (a dropped choice they carry, a required value they
/// lack) is a 422 naming them.
#[utoipa::path(patch, path = "/api/v1/custom-fields/{id}", tag = "admin", request_body = FieldDefinitionChange,
    params(("id" = uuid::Uuid, Path), ("If-Match" = String, Header, description = "the ETag read")),
    responses((status = 200, body = FieldDefinition)))]
pub async fn change_custom_field(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<FieldDefinitionId>,
    IfMatch(version): IfMatch,
    ApiJson(change): ApiJson<FieldDefinitionChange>,
) -> ApiResult<Reply<FieldDefinition>> {
    let d = st.crm.change_custom_field(&actor, id, version, change).await.map_err(ApiError::precondition)?;
    let v = d.version;
    Ok(Reply::ok(d).tagged(v))
}

/// Deletes a definition no record carries a value for (needs `admin.custom_fields` and
/// `If-Match`); a field in use is a 409: retire it instead to keep its values.
#[utoipa::path(delete, path = "/api/v1/custom-fields/{id}", tag = "admin",
    params(("id" = uuid::Uuid, Path), ("If-Match" = String, Header)), responses((status = 204, description = "deleted")))]
pub async fn delete_custom_field(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<FieldDefinitionId>,
    IfMatch(version): IfMatch,
) -> ApiResult<StatusCode> {
    st.crm.delete_custom_field(&actor, id, version).await.map_err(ApiError::precondition)?;
    Ok(StatusCode::NO_CONTENT)
}
