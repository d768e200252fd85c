//! Webhooks (EXT-3): the event catalogue, subscriptions (the secret shown once, edits with
//! `If-Match`), secret rotation, the "send test event" call, the delivery log and the
//! replay of dead letters. Everything but the catalogue needs `admin.connectors`.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crm_core::ids::{DeliveryId, WebhookId};
use crm_core::service::{ReplayRequest, Replayed, Rotation};
use crm_core::webhook::{
    Delivery, DeliveryAttempt, DeliveryStatus, EVENT_TYPES, EventType, WebhookInput, WebhookView, WebhookWithSecret,
};

use crate::auth::Auth;
use crate::extract::{ApiJson, ApiPath, ApiQuery, IfMatch, Reply};
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;

/// The event types a subscription can ask for (`event_types` takes these, `aggregate.*`
/// or `*`); each event's `data` has the schema of its `kind` (see the document's
/// `webhooks`).
#[utoipa::path(get, path = "/api/v1/webhooks/event-types", tag = "webhooks",
    responses((status = 200, body = Vec<EventType>)))]
pub async fn event_types(Auth(_actor): Auth) -> ApiResult<Reply<Vec<EventType>>> {
    Ok(Reply::ok(EVENT_TYPES.to_vec()))
}

/// Subscribes a URL to events; the answer carries the signing secret, shown only here.
#[utoipa::path(post, path = "/api/v1/webhooks", operation_id = "create_webhook", tag = "webhooks", request_body = WebhookInput,
    responses((status = 201, description = "created; ETag and Location set", body = WebhookWithSecret)))]
pub async fn create(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiJson(input): ApiJson<WebhookInput>,
) -> ApiResult<Reply<WebhookWithSecret>> {
    let created = st.crm.create_webhook(&actor, input).await?;
    let location = format!("/api/v1/webhooks/{}", created.webhook.id);
    let v = created.webhook.version;
    Ok(Reply::created(created, location).tagged(v))
}

/// The tenant's subscriptions, oldest first.
#[utoipa::path(get, path = "/api/v1/webhooks", operation_id = "list_webhooks", tag = "webhooks", responses((status = 200, body = Vec<WebhookView>)))]
pub async fn list(State(st): State<AppState>, Auth(actor): Auth) -> ApiResult<Reply<Vec<WebhookView>>> {
    Ok(Reply::ok(st.crm.list_webhooks(&actor).await?))
}

/// One subscription; `ETag` carries its version.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}", operation_id = "get_webhook", tag = "webhooks", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = WebhookView)))]
pub async fn get(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<WebhookId>,
) -> ApiResult<Reply<WebhookView>> {
    let w = st.crm.get_webhook(&actor, id).await?;
    let v = w.version;
    Ok(Reply::ok(w).tagged(v))
}

/// Replaces a subscription's settings (the secret stays); needs `If-Match`. Enabling a
/// subscription the worker disabled resets its health.
#[utoipa::path(put, path = "/api/v1/webhooks/{id}", operation_id = "replace_webhook", tag = "webhooks", request_body = WebhookInput,
    params(("id" = uuid::Uuid, Path), ("If-Match" = String, Header, description = "the ETag read")),
    responses((status = 200, body = WebhookView)))]
pub async fn update(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<WebhookId>,
    IfMatch(version): IfMatch,
    ApiJson(input): ApiJson<WebhookInput>,
) -> ApiResult<Reply<WebhookView>> {
    let w = st.crm.update_webhook(&actor, id, version, input).await.map_err(ApiError::precondition)?;
    let v = w.version;
    Ok(Reply::ok(w).tagged(v))
}

/// Deletes a subscription and its delivery log.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", operation_id = "delete_webhook", tag = "webhooks", params(("id" = uuid::Uuid, Path)),
    responses((status = 204, description = "deleted")))]
pub async fn delete(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<WebhookId>,
) -> ApiResult<StatusCode> {
    st.crm.delete_webhook(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Makes a new signing secret (shown only here); the previous one keeps signing for
/// `overlap_hours` (default 24), so receivers can switch without losing an event.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/rotate-secret", tag = "webhooks", request_body = Rotation,
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = WebhookWithSecret)))]
pub async fn rotate_secret(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<WebhookId>,
    ApiJson(rotation): ApiJson<Rotation>,
) -> ApiResult<Reply<WebhookWithSecret>> {
    let rotated = st.crm.rotate_webhook_secret(&actor, id, rotation).await?;
    let v = rotated.webhook.version;
    Ok(Reply::ok(rotated).tagged(v))
}

/// Sends a signed `webhook.test` event now and reports the attempt (status, latency,
/// the start of the answer); not retried, not logged.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/test", tag = "webhooks", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = DeliveryAttempt)))]
pub async fn send_test(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<WebhookId>,
) -> ApiResult<Reply<DeliveryAttempt>> {
    Ok(Reply::ok(st.crm.test_webhook(&actor, id).await?))
}

/// Which deliveries.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeliveryParams {
    /// `pending`, `delivered` or `dead` (default: all).
    #[serde(default)]
    #[param(inline)]
    pub status: Option<DeliveryStatus>,
    /// Only events before this instant (the `at` of the last item of the previous page).
    #[serde(default)]
    pub before: Option<DateTime<Utc>>,
    /// At most this many (1..=200, default 50).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// A subscription's deliveries, newest event first.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks",
    params(("id" = uuid::Uuid, Path), DeliveryParams), responses((status = 200, body = Vec<Delivery>)))]
pub async fn deliveries(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<WebhookId>,
    ApiQuery(q): ApiQuery<DeliveryParams>,
) -> ApiResult<Reply<Vec<Delivery>>> {
    Ok(Reply::ok(st.crm.webhook_deliveries(&actor, id, q.status, q.before, q.limit).await?))
}

/// A delivery's attempts (the delivery log: outcome, status, latency, the start of the
/// answer), first first.
#[utoipa::path(get, path = "/api/v1/webhook-deliveries/{id}/attempts", tag = "webhooks",
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = Vec<DeliveryAttempt>)))]
pub async fn attempts(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<DeliveryId>,
) -> ApiResult<Reply<Vec<DeliveryAttempt>>> {
    Ok(Reply::ok(st.crm.delivery_attempts(&actor, id).await?))
}

/// Queues dead letters again: one delivery (`delivery`, whatever its state), the dead ones
/// of a time range (`from`, `to`) or all of them (`all_failed: true`).
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/replay", tag = "webhooks", request_body = ReplayRequest,
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = Replayed)))]
pub async fn replay(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<WebhookId>,
    ApiJson(request): ApiJson<ReplayRequest>,
) -> ApiResult<Reply<Replayed>> {
    Ok(Reply::ok(st.crm.replay_webhook(&actor, id, request).await?))
}
