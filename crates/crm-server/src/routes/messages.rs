//! A conversation's messages and the live card (CUS-8), and the interactions of a case
//! (INT-6).

use axum::extract::State;

use crm_core::customer::Customer;
use crm_core::ids::{CaseId, InteractionId};
use crm_core::interaction::{Interaction, InteractionMessage, NewMessage};

use super::{PageBody, PageParams};
use crate::auth::Auth;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Reply};
use crate::idempotency::UseCases;
use crate::problem::ApiResult;
use crate::state::AppState;

/// Adds a message to a conversation (chat, SMS, social, mail thread). An inbound message
/// updates the contact's card (last contact, channel identity, unread count) in the same
/// transaction and reaches the handling agent's stream as `message_added`; an outbound one
/// (a reply) marks the card's messages read. Refused on voice interactions (422 naming
/// `interaction`) and on closed or declined ones (409).
#[utoipa::path(post, path = "/api/v1/interactions/{id}/messages", tag = "interactions", request_body = NewMessage,
    params(("id" = uuid::Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "retry-safe create")),
    responses((status = 201, description = "created; Location set", body = InteractionMessage)))]
pub async fn add_message(
    Auth(actor): Auth,
    UseCases(crm): UseCases,
    ApiPath(id): ApiPath<InteractionId>,
    ApiJson(input): ApiJson<NewMessage>,
) -> ApiResult<Reply<InteractionMessage>> {
    let m = crm.add_message(&actor, id, input).await?;
    let location = format!("/api/v1/interactions/{id}/messages");
    Ok(Reply::created(m, location))
}

/// A conversation's transcript: its messages, oldest first, cursor-paged.
#[utoipa::path(get, path = "/api/v1/interactions/{id}/messages", tag = "interactions",
    params(("id" = uuid::Uuid, Path), PageParams), responses((status = 200, body = PageBody<InteractionMessage>)))]
pub async fn messages(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<InteractionId>,
    ApiQuery(p): ApiQuery<PageParams>,
) -> ApiResult<Reply<PageBody<InteractionMessage>>> {
    let page = p.page()?;
    Ok(Reply::ok(st.crm.messages(&actor, id, &page).await?.into()))
}

/// An agent read the conversation: its card's messages are no longer unread. Answers the
/// card.
#[utoipa::path(post, path = "/api/v1/interactions/{id}/messages/read", tag = "interactions",
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = Customer)))]
pub async fn read_messages(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<InteractionId>,
) -> ApiResult<Reply<Customer>> {
    let c = st.crm.mark_messages_read(&actor, id).await?;
    let v = c.version();
    Ok(Reply::ok(c).tagged(v))
}

/// The interactions linked to a case, newest first, cursor-paged (INT-6).
#[utoipa::path(get, path = "/api/v1/cases/{id}/interactions", tag = "cases",
    params(("id" = uuid::Uuid, Path), PageParams), responses((status = 200, body = PageBody<Interaction>)))]
pub async fn case_interactions(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<CaseId>,
    ApiQuery(p): ApiQuery<PageParams>,
) -> ApiResult<Reply<PageBody<Interaction>>> {
    let page = p.page()?;
    Ok(Reply::ok(st.crm.case_interactions(&actor, id, &page).await?.into()))
}
