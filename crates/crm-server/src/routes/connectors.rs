//! A tenant's connectors to external CRMs (ADM-3, EXT-1; ADR 0042): which are configured
//! (secrets redacted), configuring one through the API (secrets write-only, sealed at rest,
//! taken into use without a restart), removing it, and testing one. Everything here needs
//! `admin.connectors`.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crm_core::access::Permission;
use crm_core::external::ExternalSystem;
use crm_core::service::ANY_VERSION;

use crate::api_connectors::ConnectorWriteError;
use crate::auth::Auth;
use crate::connectors::ConnectorView;
use crate::extract::{ApiJson, ApiPath, IfMatch, Reply, parse_etag};
use crate::problem::{ApiError, ApiResult, ProblemKind};
use crate::state::AppState;

fn system(raw: &str) -> Result<ExternalSystem, ApiError> {
    raw.parse().map_err(|e: crm_core::FieldError| ApiError::invalid(e.field, e.reason))
}

/// The external CRM connectors configured for the caller's tenant, every secret shown as
/// `[redacted]`: those of the server's configuration file (`source: file`), then those
/// configured through the API (`source: api`, with their `version`).
#[utoipa::path(get, path = "/api/v1/admin/connectors", tag = "admin", operation_id = "connectors",
    responses((status = 200, body = Vec<ConnectorView>)))]
pub async fn list(State(st): State<AppState>, Auth(actor): Auth) -> ApiResult<Reply<Vec<ConnectorView>>> {
    actor.require(Permission::AdminConnectors)?;
    Ok(Reply::ok(st.connectors.views(actor.tenant)))
}

/// Configures the tenant's connector to `system` (`salesforce`, `dynamics`, `netsuite`)
/// through the API. The body is the product's settings, the keys of the configuration
/// file's `[connectors.<system>]` table as JSON (see the server README). Without
/// `If-Match` it creates the connector (409 when there is one); with `If-Match` (the ETag
/// of the version read, optional so a create needs none) it replaces that version, and a setting given as `"[redacted]"` keeps its stored value, so secrets are
/// write-only. The settings are checked as the file's are (422 naming the setting, also for
/// `{ "env": … }` / `{ "file": … }` references, which only the file may use), sealed with
/// the server's secrets key (409 when the server has none) and used at once, on every
/// replica within seconds. A connector of the configuration file is changed there (409).
#[utoipa::path(put, path = "/api/v1/admin/connectors/{system}", tag = "admin", operation_id = "put_connector",
    request_body(content = Object, description = "the product's settings, as `[connectors.<system>]`"),
    params(("system" = String, Path, description = "salesforce, dynamics or netsuite")),
    responses((status = 201, body = ConnectorView), (status = 200, body = ConnectorView)))]
pub async fn put(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(raw): ApiPath<String>,
    headers: HeaderMap,
    ApiJson(settings): ApiJson<serde_json::Value>,
) -> ApiResult<Response> {
    actor.require(Permission::AdminConnectors)?;
    let system = system(&raw)?;
    let api = writable(&st, actor.tenant, system)?;
    let if_match = match headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok()) {
        None => None,
        Some(raw) if raw.trim() == "*" => Some(ANY_VERSION),
        Some(raw) => Some(parse_etag(raw).ok_or_else(|| {
            ApiError::new(ProblemKind::MalformedRequest, "If-Match must be the ETag this API returned, such as \"3\"")
        })?),
    };
    let previous = match if_match {
        Some(_) => st.crm.get_connector(&actor, system).await?,
        None => None,
    };
    let expected = match (if_match, &previous) {
        (None, _) => None,
        (Some(ANY_VERSION), Some(p)) => Some(p.version),
        (Some(_), None) => return Err(ApiError::new(ProblemKind::NotFound, format!("no {system} connector"))),
        (Some(v), Some(_)) => Some(v),
    };
    let (view, sealed) = api.prepare(actor.tenant, system, settings, previous.as_ref()).map_err(|e| match e {
        ConnectorWriteError::Invalid(reason) => ApiError::invalid("settings", reason),
        sealed @ ConnectorWriteError::Sealed => ApiError::new(ProblemKind::StateConflict, sealed.to_string()),
    })?;
    let stored = st.crm.put_connector(&actor, system, view, sealed, expected).await.map_err(|e| match expected {
        Some(_) => ApiError::precondition(e),
        None => e.into(),
    })?;
    api.refresh(&st.crm).await?;
    let view = ConnectorView { system, settings: stored.settings, source: "api".into(), version: Some(stored.version) };
    let location = format!("/api/v1/admin/connectors/{system}");
    Ok(match expected {
        None => Reply::created(view, location).tagged(stored.version).into_response(),
        Some(_) => Reply::ok(view).tagged(stored.version).into_response(),
    })
}

/// Removes the tenant's connector to `system` configured through the API (`If-Match`):
/// every replica stops using it within seconds. A connector of the configuration file is
/// removed there (409).
#[utoipa::path(delete, path = "/api/v1/admin/connectors/{system}", tag = "admin", operation_id = "delete_connector",
    params(("system" = String, Path, description = "salesforce, dynamics or netsuite"),
        ("If-Match" = String, Header, description = "the connector's ETag")),
    responses((status = 204)))]
pub async fn delete(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(raw): ApiPath<String>,
    IfMatch(version): IfMatch,
) -> ApiResult<StatusCode> {
    actor.require(Permission::AdminConnectors)?;
    let system = system(&raw)?;
    let api = writable(&st, actor.tenant, system)?;
    let version = match version {
        ANY_VERSION => {
            st.crm
                .get_connector(&actor, system)
                .await?
                .ok_or_else(|| ApiError::new(ProblemKind::NotFound, format!("no {system} connector")))?
                .version
        }
        v => v,
    };
    st.crm.delete_connector(&actor, system, version).await.map_err(ApiError::precondition)?;
    api.refresh(&st.crm).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The registry of API-configured connectors, unless the server has no secrets key or the
/// configuration file configures this one.
fn writable(
    st: &AppState,
    tenant: crm_core::ids::TenantId,
    system: ExternalSystem,
) -> Result<std::sync::Arc<crate::api_connectors::ApiConnectors>, ApiError> {
    if st.connectors.in_file(tenant, system) {
        return Err(ApiError::new(
            ProblemKind::StateConflict,
            format!("the {system} connector of this tenant is set in the server's configuration file: change it there"),
        ));
    }
    st.connectors.api().cloned().ok_or_else(|| {
        ApiError::new(
            ProblemKind::StateConflict,
            "this server has no secrets key (CRM_SECRETS_KEY or secrets_key_file): connectors come from its \
             configuration file only",
        )
    })
}

/// The outcome of a connection test.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ConnectionCheck {
    /// The product tested.
    #[schema(value_type = String)]
    pub system: ExternalSystem,
    /// Always `true`: a failure is a problem (502 credentials refused or unreadable answer,
    /// 503 rate limit or outage, 504 timeout) naming the system and the vendor's text.
    pub ok: bool,
}

/// Tests the tenant's connector to an external CRM now: authenticates and runs the reads a
/// screen pop makes (needs `admin.connectors`). A bad secret shows here, not on the first
/// call of the day.
#[utoipa::path(post, path = "/api/v1/admin/connectors/{system}/test", tag = "admin", operation_id = "test_connection",
    params(("system" = String, Path, description = "salesforce, dynamics or netsuite")),
    responses((status = 200, body = ConnectionCheck)))]
pub async fn test(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(raw): ApiPath<String>,
) -> ApiResult<Reply<ConnectionCheck>> {
    let system = system(&raw)?;
    st.crm
        .check_external_connection(&actor, &st.connectors, system)
        .await
        .map_err(|e| ApiError::external(e, "connection test", false))?;
    Ok(Reply::ok(ConnectionCheck { system, ok: true }))
}
