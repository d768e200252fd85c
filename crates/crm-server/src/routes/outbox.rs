//! The outbox of external CRM writes (INT-6, INT-7, EXT-1): the pushes and creates waiting,
//! delivered or dead, and the retry action on a dead one (the connectors themselves are in
//! `routes::connectors`). Everything here needs `admin.connectors`.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use crm_core::event::{OutboxEntry, OutboxStatus};
use crm_core::ids::{EventId, InteractionId};

use super::{PageBody, PageParams};
use crate::auth::Auth;
use crate::extract::{ApiPath, ApiQuery, Reply};
use crate::problem::ApiResult;
use crate::state::AppState;

/// Which outbox entries.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OutboxParams {
    /// `pending`, `delivered` or `dead` (default: all).
    #[serde(default)]
    #[param(inline)]
    pub status: Option<OutboxStatus>,
    /// Only the pushes of this interaction. Applied to the page read, so a page may hold
    /// fewer items than `limit` (even none) while `next` is set: follow `next`.
    #[serde(default)]
    #[param(inline)]
    pub interaction: Option<InteractionId>,
    /// At most this many items (1..=200, default 50).
    #[serde(default)]
    pub limit: Option<u32>,
    /// The `next` cursor of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// The outbox of the caller's tenant, newest first per the store's order, by status
/// (needs `admin.connectors`). The `interaction` filter is applied to the page read from
/// the store (not in the query): a filtered page may be short or empty while `next` is set.
#[utoipa::path(get, path = "/api/v1/outbox", tag = "admin", params(OutboxParams),
    responses((status = 200, body = PageBody<OutboxEntry>)))]
pub async fn list(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<OutboxParams>,
) -> ApiResult<Reply<PageBody<OutboxEntry>>> {
    let page = PageParams { limit: q.limit, cursor: q.cursor.clone() }.page()?;
    let found = st.crm.list_outbox(&actor, q.status, q.interaction, &page).await?;
    Ok(Reply::ok(found.into()))
}

/// Puts a dead outbox entry back in the queue, due now (needs `admin.connectors`); 409
/// unless it is dead.
#[utoipa::path(post, path = "/api/v1/outbox/{id}/requeue", tag = "admin", params(("id" = uuid::Uuid, Path)),
    responses((status = 204, description = "requeued; the push worker delivers it on its next round")))]
pub async fn requeue(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<EventId>,
) -> ApiResult<StatusCode> {
    st.crm.requeue_outbox(&actor, id).await?;
    tracing::info!(event = %id, agent = %actor.agent, "outbox entry requeued");
    Ok(StatusCode::NO_CONTENT)
}
