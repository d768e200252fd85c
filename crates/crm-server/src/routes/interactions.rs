//! Interactions (INT-1…INT-7): create, lifecycle actions, notes, disposition, links, and a
//! case created from an interaction.

use axum::extract::State;
use serde::Deserialize;

use crm_core::case::{Case, NewCase};
use crm_core::follow_up::FollowUp;
use crm_core::ids::{CaseId, InteractionId, NoteId};
use crm_core::interaction::{Interaction, InteractionAction, LinkTarget, NewInteraction};

use crate::auth::Auth;
use crate::extract::{ApiJson, ApiPath, IfMatch, Reply};
use crate::idempotency::UseCases;
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;

fn tagged(i: Interaction) -> Reply<Interaction> {
    let v = i.version();
    Reply::ok(i).tagged(v)
}

/// Records a new interaction, offered to its agent or queue (INT-1, CUS-8).
#[utoipa::path(post, path = "/api/v1/interactions", tag = "interactions", request_body = NewInteraction,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry-safe create")),
    responses((status = 201, description = "created; ETag and Location set", body = Interaction)))]
pub async fn create_interaction(
    Auth(actor): Auth,
    UseCases(crm): UseCases,
    ApiJson(input): ApiJson<NewInteraction>,
) -> ApiResult<Reply<Interaction>> {
    let i = crm.create_interaction(&actor, input).await?;
    let location = format!("/api/v1/interactions/{}", i.id);
    let v = i.version();
    Ok(Reply::created(i, location).tagged(v))
}

/// An interaction; `ETag` carries its version.
#[utoipa::path(get, path = "/api/v1/interactions/{id}", tag = "interactions", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Interaction)))]
pub async fn get_interaction(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<InteractionId>,
) -> ApiResult<Reply<Interaction>> {
    Ok(tagged(st.crm.get_interaction(&actor, id).await?))
}

/// Applies a lifecycle action (INT-2); needs `If-Match`.
#[utoipa::path(post, path = "/api/v1/interactions/{id}/actions", tag = "interactions", request_body = InteractionAction,
    params(("id" = uuid::Uuid, Path), ("If-Match" = String, Header, description = "the ETag read")),
    responses((status = 200, body = Interaction)))]
pub async fn act(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<InteractionId>,
    IfMatch(version): IfMatch,
    ApiJson(action): ApiJson<InteractionAction>,
) -> ApiResult<Reply<Interaction>> {
    Ok(tagged(st.crm.act_on_interaction(&actor, id, version, action).await.map_err(ApiError::precondition)?))
}

/// A note.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteInput {
    /// The text (1 to 10,000 characters).
    #[schema(schema_with = crm_core::openapi::required_text)]
    pub text: String,
}

/// Adds a note (INT-4); needs `If-Match`.
#[utoipa::path(post, path = "/api/v1/interactions/{id}/notes", tag = "interactions", request_body = NoteInput,
    params(("id" = uuid::Uuid, Path), ("If-Match" = String, Header, description = "the ETag read")),
    responses((status = 200, body = Interaction)))]
pub async fn add_note(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<InteractionId>,
    IfMatch(version): IfMatch,
    ApiJson(note): ApiJson<NoteInput>,
) -> ApiResult<Reply<Interaction>> {
    Ok(tagged(st.crm.add_interaction_note(&actor, id, version, &note.text).await.map_err(ApiError::precondition)?))
}

/// Where to copy a note.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CopyNote {
    /// The case.
    pub case: CaseId,
}

/// Copies an interaction note into a case as a follow-up (INT-4).
#[utoipa::path(post, path = "/api/v1/interactions/{id}/notes/{note}/copy-to-case", tag = "interactions",
    request_body = CopyNote, params(("id" = uuid::Uuid, Path), ("note" = uuid::Uuid, Path)),
    responses((status = 201, body = FollowUp)))]
pub async fn copy_note(
    Auth(actor): Auth,
    UseCases(crm): UseCases,
    ApiPath((id, note)): ApiPath<(InteractionId, NoteId)>,
    ApiJson(body): ApiJson<CopyNote>,
) -> ApiResult<Reply<FollowUp>> {
    let f = crm.copy_note_to_case(&actor, id, note, body.case).await?;
    let location = format!("/api/v1/cases/{}/follow-ups", body.case);
    Ok(Reply::created(f, location))
}

/// A disposition code.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DispositionCode {
    /// A code of the tenant's catalogue.
    pub code: String,
}

/// Sets the disposition (INT-3); needs `If-Match`.
#[utoipa::path(put, path = "/api/v1/interactions/{id}/disposition", tag = "interactions", request_body = DispositionCode,
    params(("id" = uuid::Uuid, Path), ("If-Match" = String, Header, description = "the ETag read")),
    responses((status = 200, body = Interaction)))]
pub async fn set_disposition(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<InteractionId>,
    IfMatch(version): IfMatch,
    ApiJson(body): ApiJson<DispositionCode>,
) -> ApiResult<Reply<Interaction>> {
    Ok(tagged(st.crm.set_disposition(&actor, id, version, &body.code).await.map_err(ApiError::precondition)?))
}

/// Links a record (INT-6); needs `If-Match`.
#[utoipa::path(post, path = "/api/v1/interactions/{id}/links", tag = "interactions", request_body = LinkTarget,
    params(("id" = uuid::Uuid, Path), ("If-Match" = String, Header, description = "the ETag read")),
    responses((status = 200, body = Interaction)))]
pub async fn link(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<InteractionId>,
    IfMatch(version): IfMatch,
    ApiJson(target): ApiJson<LinkTarget>,
) -> ApiResult<Reply<Interaction>> {
    Ok(tagged(st.crm.link_interaction(&actor, id, version, target).await.map_err(ApiError::precondition)?))
}

/// Unlinks a record: nothing more is pushed to it (INT-6); needs `If-Match`.
#[utoipa::path(post, path = "/api/v1/interactions/{id}/unlink", tag = "interactions", request_body = LinkTarget,
    params(("id" = uuid::Uuid, Path), ("If-Match" = String, Header, description = "the ETag read")),
    responses((status = 200, body = Interaction)))]
pub async fn unlink(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<InteractionId>,
    IfMatch(version): IfMatch,
    ApiJson(target): ApiJson<LinkTarget>,
) -> ApiResult<Reply<Interaction>> {
    Ok(tagged(st.crm.unlink_interaction(&actor, id, version, target).await.map_err(ApiError::precondition)?))
}

/// Creates a case from the interaction and links it at once (INT-7); `If-Match` carries the
/// interaction's version.
#[utoipa::path(post, path = "/api/v1/interactions/{id}/case", operation_id = "create_case_from_interaction", tag = "interactions", request_body = NewCase,
    params(("id" = uuid::Uuid, Path), ("If-Match" = String, Header, description = "the interaction's ETag")),
    responses((status = 201, body = Case)))]
pub async fn create_case(
    Auth(actor): Auth,
    UseCases(crm): UseCases,
    ApiPath(id): ApiPath<InteractionId>,
    IfMatch(version): IfMatch,
    ApiJson(input): ApiJson<NewCase>,
) -> ApiResult<Reply<Case>> {
    let c = crm.create_case_from_interaction(&actor, id, version, input).await.map_err(ApiError::precondition)?;
    let location = format!("/api/v1/cases/{}", c.id);
    let v = c.version();
    Ok(Reply::created(c, location).tagged(v))
}
