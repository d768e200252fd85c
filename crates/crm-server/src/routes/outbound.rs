//! Outbound campaigns and call lists (OUT-1, OUT-2): campaigns, lists, entries (JSON and CSV
//! imports with a per-row report), the next contact, outcomes, progress and the
//! do-not-call list.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crm_core::ids::{CallListEntryId, CallListId, CampaignId};
use crm_core::outbound::{
    CallList, CallListEntry, CallListPatch, Campaign, CampaignPatch, DoNotCall, NewCallList, NewCampaign, NewEntry,
    OutcomeInput, Progress, RecordedOutcome,
};
use crm_core::service::{ImportReport, ImportRow};

use crate::auth::Auth;
use crate::extract::{ApiJson, ApiPath, ApiQuery, IfMatch, Reply};
use crate::idempotency::UseCases;
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;

/// Creates a campaign (needs `outbound.manage`).
#[utoipa::path(post, path = "/api/v1/campaigns", tag = "outbound", request_body = NewCampaign,
    responses((status = 201, description = "created; ETag and Location set", body = Campaign)))]
pub async fn create_campaign(
    Auth(actor): Auth,
    UseCases(crm): UseCases,
    ApiJson(input): ApiJson<NewCampaign>,
) -> ApiResult<Reply<Campaign>> {
    let c = crm.create_campaign(&actor, input).await?;
    let location = format!("/api/v1/campaigns/{}", c.id);
    let v = c.version();
    Ok(Reply::created(c, location).tagged(v))
}

/// The tenant's campaigns, oldest first.
#[utoipa::path(get, path = "/api/v1/campaigns", tag = "outbound", responses((status = 200, body = Vec<Campaign>)))]
pub async fn campaigns(State(st): State<AppState>, Auth(actor): Auth) -> ApiResult<Reply<Vec<Campaign>>> {
    Ok(Reply::ok(st.crm.campaigns(&actor).await?))
}

/// A campaign; `ETag` carries its version.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}", tag = "outbound", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Campaign)))]
pub async fn get_campaign(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<CampaignId>,
) -> ApiResult<Reply<Campaign>> {
    let c = st.crm.get_campaign(&actor, id).await?;
    let v = c.version();
    Ok(Reply::ok(c).tagged(v))
}

/// Changes a campaign; needs `If-Match`.
#[utoipa::path(patch, path = "/api/v1/campaigns/{id}", tag = "outbound", request_body = CampaignPatch,
    params(("id" = uuid::Uuid, Path), ("If-Match" = String, Header, description = "the ETag read")),
    responses((status = 200, body = Campaign)))]
pub async fn update_campaign(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<CampaignId>,
    IfMatch(version): IfMatch,
    ApiJson(patch): ApiJson<CampaignPatch>,
) -> ApiResult<Reply<Campaign>> {
    let c = st.crm.update_campaign(&actor, id, version, patch).await.map_err(ApiError::precondition)?;
    let v = c.version();
    Ok(Reply::ok(c).tagged(v))
}

/// Progress of a campaign (the sum of its lists).
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/progress", tag = "outbound", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Progress)))]
pub async fn campaign_progress(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<CampaignId>,
) -> ApiResult<Reply<Progress>> {
    Ok(Reply::ok(st.crm.campaign_progress(&actor, id).await?))
}

/// Creates a call list of a campaign (needs `outbound.manage`).
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/call-lists", tag = "outbound", request_body = NewCallList,
    params(("id" = uuid::Uuid, Path)),
    responses((status = 201, description = "created; ETag and Location set", body = CallList)))]
pub async fn create_call_list(
    Auth(actor): Auth,
    UseCases(crm): UseCases,
    ApiPath(id): ApiPath<CampaignId>,
    ApiJson(input): ApiJson<NewCallList>,
) -> ApiResult<Reply<CallList>> {
    let l = crm.create_call_list(&actor, id, input).await?;
    let location = format!("/api/v1/call-lists/{}", l.id);
    let v = l.version();
    Ok(Reply::created(l, location).tagged(v))
}

/// The lists of a campaign.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/call-lists", tag = "outbound", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Vec<CallList>)))]
pub async fn call_lists(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<CampaignId>,
) -> ApiResult<Reply<Vec<CallList>>> {
    Ok(Reply::ok(st.crm.call_lists(&actor, id).await?))
}

/// A call list; `ETag` carries its version.
#[utoipa::path(get, path = "/api/v1/call-lists/{id}", tag = "outbound", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = CallList)))]
pub async fn get_call_list(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<CallListId>,
) -> ApiResult<Reply<CallList>> {
    let l = st.crm.get_call_list(&actor, id).await?;
    let v = l.version();
    Ok(Reply::ok(l).tagged(v))
}

/// Changes a call list (activate, assign, window, codes); needs `If-Match`.
#[utoipa::path(patch, path = "/api/v1/call-lists/{id}", tag = "outbound", request_body = CallListPatch,
    params(("id" = uuid::Uuid, Path), ("If-Match" = String, Header, description = "the ETag read")),
    responses((status = 200, body = CallList)))]
pub async fn update_call_list(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<CallListId>,
    IfMatch(version): IfMatch,
    ApiJson(patch): ApiJson<CallListPatch>,
) -> ApiResult<Reply<CallList>> {
    let l = st.crm.update_call_list(&actor, id, version, patch).await.map_err(ApiError::precondition)?;
    let v = l.version();
    Ok(Reply::ok(l).tagged(v))
}

/// Progress of a call list.
#[utoipa::path(get, path = "/api/v1/call-lists/{id}/progress", tag = "outbound", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Progress)))]
pub async fn list_progress(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<CallListId>,
) -> ApiResult<Reply<Progress>> {
    Ok(Reply::ok(st.crm.list_progress(&actor, id).await?))
}

/// Entries to add.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEntries {
    /// The entries (at most 100,000).
    pub entries: Vec<NewEntry>,
}

/// Adds entries (needs `outbound.manage`): the accepted ones are written together, every
/// refused one is in the report with its row (from 1) and field.
#[utoipa::path(post, path = "/api/v1/call-lists/{id}/entries", tag = "outbound", request_body = NewEntries,
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = ImportReport)))]
pub async fn add_entries(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<CallListId>,
    ApiJson(input): ApiJson<NewEntries>,
) -> ApiResult<Reply<ImportReport>> {
    let rows = input.entries.into_iter().enumerate().map(|(i, e)| ImportRow { row: i + 1, entry: Ok(e) }).collect();
    Ok(Reply::ok(st.crm.import_entries(&actor, id, rows).await?))
}

/// Imports entries from CSV (columns `customer`, `phone`, `priority`, `time_zone`, `due_at`,
/// `custom.<key>`); the report names every refused row and field.
#[utoipa::path(post, path = "/api/v1/call-lists/{id}/entries/import", tag = "outbound",
    request_body(content = String, content_type = "text/csv", description = "a header, then one entry per row"),
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = ImportReport)))]
pub async fn import_entries(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<CallListId>,
    body: Bytes,
) -> ApiResult<Reply<ImportReport>> {
    // The list (and the permission) first, so an unknown list is a 404 whatever the body.
    st.crm.get_call_list(&actor, id).await?;
    let rows = crate::outbound_csv::entry_rows(body.as_ref()).map_err(|e| ApiError::invalid(e.field, e.reason))?;
    Ok(Reply::ok(st.crm.import_entries(&actor, id, rows).await?))
}

/// Paging of entries.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EntryPage {
    /// At most this many (1..=500, default 100).
    #[serde(default)]
    pub limit: Option<usize>,
    /// The last id of the previous page.
    #[serde(default)]
    pub after: Option<CallListEntryId>,
}

/// A list's entries in id order.
#[utoipa::path(get, path = "/api/v1/call-lists/{id}/entries", tag = "outbound", params(("id" = uuid::Uuid, Path), EntryPage),
    responses((status = 200, body = Vec<CallListEntry>)))]
pub async fn entries(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<CallListId>,
    ApiQuery(page): ApiQuery<EntryPage>,
) -> ApiResult<Reply<Vec<CallListEntry>>> {
    Ok(Reply::ok(st.crm.entries(&actor, id, page.after, page.limit.unwrap_or(100)).await?))
}

/// An entry of a list.
#[utoipa::path(get, path = "/api/v1/call-lists/{list}/entries/{id}", tag = "outbound",
    params(("list" = uuid::Uuid, Path), ("id" = uuid::Uuid, Path)), responses((status = 200, body = CallListEntry)))]
pub async fn get_entry(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath((list, id)): ApiPath<(CallListId, CallListEntryId)>,
) -> ApiResult<Reply<CallListEntry>> {
    let e = st.crm.entry_of_list(&actor, list, id).await?;
    let v = e.version();
    Ok(Reply::ok(e).tagged(v))
}

/// The next contact (preview dialling): an entry leased to the caller, or 204 when none is
/// eligible now. 403 when the caller is not assigned to the list; 409 when the list is
/// inactive or the campaign outside its window.
#[utoipa::path(post, path = "/api/v1/call-lists/{id}/next", tag = "outbound", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = CallListEntry), (status = 204, description = "nothing to call now")))]
pub async fn next_contact(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<CallListId>,
) -> ApiResult<Response> {
    Ok(match st.crm.next_contact(&actor, id).await? {
        Some(e) => {
            let v = e.version();
            Reply::ok(e).tagged(v).into_response()
        }
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

/// Records the outcome of the caller's call of an entry it holds (a disposition code of the
/// list; `callback_at` for a callback; qualification answers).
#[utoipa::path(post, path = "/api/v1/call-lists/{list}/entries/{id}/outcome", tag = "outbound",
    request_body = OutcomeInput, params(("list" = uuid::Uuid, Path), ("id" = uuid::Uuid, Path)),
    responses((status = 200, body = RecordedOutcome)))]
pub async fn record_outcome(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath((list, id)): ApiPath<(CallListId, CallListEntryId)>,
    ApiJson(input): ApiJson<OutcomeInput>,
) -> ApiResult<Reply<RecordedOutcome>> {
    let r = st.crm.record_outcome(&actor, list, id, input).await?;
    let v = r.entry.version();
    Ok(Reply::ok(r).tagged(v))
}

/// A number for the do-not-call list.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDoNotCall {
    /// The number, in any written form.
    pub phone: String,
    /// Why.
    #[serde(default)]
    pub reason: Option<String>,
}

/// Paging of the do-not-call list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DncPage {
    /// At most this many (1..=500, default 100).
    #[serde(default)]
    pub limit: Option<usize>,
    /// The last number (E.164) of the previous page.
    #[serde(default)]
    pub after: Option<String>,
}

/// The do-not-call list in number order (needs `outbound.manage`).
#[utoipa::path(get, path = "/api/v1/do-not-call", tag = "outbound", params(DncPage),
    responses((status = 200, body = Vec<DoNotCall>)))]
pub async fn do_not_call(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(page): ApiQuery<DncPage>,
) -> ApiResult<Reply<Vec<DoNotCall>>> {
    Ok(Reply::ok(st.crm.do_not_call_list(&actor, page.after, page.limit.unwrap_or(100)).await?))
}

/// Puts a number on the do-not-call list (needs `outbound.manage`); no entry with it is
/// handed out any more.
#[utoipa::path(post, path = "/api/v1/do-not-call", tag = "outbound", request_body = NewDoNotCall,
    responses((status = 200, body = DoNotCall)))]
pub async fn add_do_not_call(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiJson(input): ApiJson<NewDoNotCall>,
) -> ApiResult<Reply<DoNotCall>> {
    Ok(Reply::ok(st.crm.add_do_not_call(&actor, &input.phone, input.reason).await?))
}

/// Takes a number off the do-not-call list.
#[utoipa::path(delete, path = "/api/v1/do-not-call/{phone}", tag = "outbound", params(("phone" = String, Path)),
    responses((status = 204, description = "removed")))]
pub async fn remove_do_not_call(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(phone): ApiPath<String>,
) -> ApiResult<StatusCode> {
    st.crm.remove_do_not_call(&actor, &phone).await?;
    Ok(StatusCode::NO_CONTENT)
}
