//! Mail out (CAS-7, EML-2, FUP-1): notify a case's customer, a case's mails with their
//! delivery state, and the mail queue's dead letters with their requeue. The rules (who may
//! send from which address, the subject tag, sanitising) are `crm_core::mail`'s.

use axum::extract::State;

use crm_core::ids::{CaseId, FollowUpId};
use crm_core::mail::{CaseMail, MailState, NotifyRequest};
use serde::Deserialize;

use crate::auth::Auth;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Reply};
use crate::idempotency::UseCases;
use crate::problem::ApiResult;
use crate::state::AppState;

/// Notifies the customer of a case by mail (CAS-7): From is the agent's default address (or
/// one of its groups' shared addresses), To the customer's first address, the subject the
/// case's with `[#CS-000123]` in front, the HTML sanitised, a plain-text part generated and
/// the agent's signature appended. Answers the queued mail (state `queued`); the follow-up
/// of the same id is written with it. The `mail` worker sends it.
#[utoipa::path(post, path = "/api/v1/cases/{id}/notify", tag = "mail", request_body = NotifyRequest,
    params(("id" = uuid::Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = CaseMail)))]
pub async fn notify(
    Auth(actor): Auth,
    UseCases(crm): UseCases,
    ApiPath(id): ApiPath<CaseId>,
    ApiJson(input): ApiJson<NotifyRequest>,
) -> ApiResult<Reply<CaseMail>> {
    let mail = crm.notify(&actor, id, input).await?;
    tracing::info!(case = %id, mail = %mail.id, agent = %actor.agent, "mail queued");
    let location = format!("/api/v1/cases/{id}/mails");
    Ok(Reply::created(mail, location))
}

/// A case's mails with their delivery state (`queued`, `sent`, `failed`) and the mail
/// server's last reply, oldest first.
#[utoipa::path(get, path = "/api/v1/cases/{id}/mails", tag = "mail", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Vec<CaseMail>)))]
pub async fn case_mails(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<CaseId>,
) -> ApiResult<Reply<Vec<CaseMail>>> {
    Ok(Reply::ok(st.crm.case_mails(&actor, id).await?))
}

/// Which mails of the queue.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MailQueueParams {
    /// `queued`, `sent` or `failed` (the dead letters; the default).
    #[serde(default)]
    #[param(inline)]
    pub state: Option<MailState>,
    /// At most this many (1..=500, default 100).
    #[serde(default)]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// The tenant's outgoing mails in a state, oldest first: by default the dead letters
/// (`failed`: refused by the server or out of retries), which a person can requeue (needs
/// `admin.tenant`).
#[utoipa::path(get, path = "/api/v1/mail/outbound", tag = "mail", params(MailQueueParams),
    responses((status = 200, body = Vec<CaseMail>)))]
pub async fn outbound(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<MailQueueParams>,
) -> ApiResult<Reply<Vec<CaseMail>>> {
    let state = q.state.unwrap_or(MailState::Failed);
    Ok(Reply::ok(st.crm.mails_in_state(&actor, state, q.limit.unwrap_or(100)).await?))
}

/// Puts a failed mail back in the queue, due now, with its `Message-ID` unchanged (needs
/// `admin.tenant`); 409 unless it failed.
#[utoipa::path(post, path = "/api/v1/mail/outbound/{id}/requeue", operation_id = "requeue_mail", tag = "mail", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = CaseMail)))]
pub async fn requeue(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<FollowUpId>,
) -> ApiResult<Reply<CaseMail>> {
    let mail = st.crm.requeue_mail(&actor, id).await?;
    tracing::info!(mail = %id, agent = %actor.agent, "mail requeued");
    Ok(Reply::ok(mail))
}
