//! External CRMs (EXT-1, INT-7): search a tenant's external CRM for the screen pop, and
//! create a case, contact or lead there during an interaction, linked at once.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crm_core::external::{ExternalCreate, ExternalRecord, ExternalRef, ExternalSystem};
use crm_core::ids::InteractionId;
use crm_core::interaction::Interaction;
use crm_core::service::{ExternalCreation, ExternalLookup};

use crate::auth::Auth;
use crate::extract::{ApiJson, ApiPath, ApiQuery, IfMatch, Reply};
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;

fn system(raw: &str) -> Result<ExternalSystem, ApiError> {
    raw.parse().map_err(|e: crm_core::FieldError| ApiError::invalid(e.field, e.reason))
}

/// What to look for: give exactly one.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExternalLookupParams {
    /// A phone number in any written form.
    #[serde(default)]
    pub phone: Option<String>,
    /// An email address.
    #[serde(default)]
    pub email: Option<String>,
}

/// Searches the tenant's external CRM (`salesforce`, `dynamics`, `netsuite`) by phone or
/// email (EXT-1).
#[utoipa::path(get, path = "/api/v1/external/{system}/lookup", tag = "external",
    params(("system" = String, Path, description = "salesforce, dynamics or netsuite"), ExternalLookupParams),
    responses((status = 200, body = Vec<ExternalRecord>)))]
pub async fn search(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(raw): ApiPath<String>,
    ApiQuery(q): ApiQuery<ExternalLookupParams>,
) -> ApiResult<Reply<Vec<ExternalRecord>>> {
    let system = system(&raw)?;
    let lookup = match (q.phone, q.email) {
        (Some(p), None) => ExternalLookup::Phone(p),
        (None, Some(e)) => ExternalLookup::Email(e),
        _ => return Err(ApiError::invalid("phone", "give exactly one of phone, email")),
    };
    let found = st
        .crm
        .search_external(&actor, &st.connectors, system, &lookup)
        .await
        .map_err(|e| ApiError::external(e, "search", false))?;
    Ok(Reply::ok(found))
}

/// A remote record created during an interaction.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedExternal {
    /// The remote record.
    pub reference: ExternalRef,
    /// The interaction, now linked to it.
    pub interaction: Interaction,
}

/// A create the remote could not take now: it waits in the outbox and is linked to the
/// interaction once the remote record exists.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QueuedExternal {
    /// The create's idempotency key, as listed in the interaction's `external_creates`.
    pub key: String,
    /// Why it is not done yet: the remote's explanation (system, operation, vendor text).
    pub reason: String,
    /// When it is tried again (never before the remote's `Retry-After`).
    pub retry_at: chrono::DateTime<chrono::Utc>,
    /// The interaction, listing the pending create.
    pub interaction: Interaction,
}

/// Creates a case, contact or lead in the tenant's external CRM during an interaction
/// (INT-7); `If-Match` carries the interaction's version. The create goes through the
/// durable outbox: 201 when the remote record exists and is linked; 202 when the remote is
/// unavailable, rate-limited or answered unreadably: the create is retried by the external
/// worker (honouring `Retry-After`) and linked as soon as the record exists, and a restart
/// loses nothing. A refusal by the remote is a problem naming the system and its code (the
/// interaction then lists the create as refused).
#[utoipa::path(post, path = "/api/v1/interactions/{id}/external/{system}", tag = "external",
    request_body = ExternalCreate,
    params(("id" = uuid::Uuid, Path), ("system" = String, Path, description = "salesforce, dynamics or netsuite"),
        ("If-Match" = String, Header, description = "the interaction's ETag")),
    responses((status = 201, body = CreatedExternal), (status = 202, body = QueuedExternal)))]
pub async fn create(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath((id, raw)): ApiPath<(InteractionId, String)>,
    IfMatch(version): IfMatch,
    ApiJson(request): ApiJson<ExternalCreate>,
) -> ApiResult<Response> {
    let system = system(&raw)?;
    let outcome = st
        .crm
        .create_external_record(&actor, &st.connectors, id, version, system, &request)
        .await
        .map_err(|e| ApiError::external(e, &format!("create {:?}", request.object()).to_lowercase(), true))?;
    let location = format!("/api/v1/interactions/{id}");
    Ok(match outcome {
        ExternalCreation::Created { reference, interaction } => {
            let v = interaction.version();
            Reply::created(CreatedExternal { reference, interaction }, location).tagged(v).into_response()
        }
        ExternalCreation::Queued { key, reason, retry_at, interaction } => {
            let v = interaction.version();
            Reply::accepted(QueuedExternal { key, reason, retry_at, interaction }, location).tagged(v).into_response()
        }
    })
}
