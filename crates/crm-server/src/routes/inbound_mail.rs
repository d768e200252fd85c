//! Mail in (CAS-8, EML-1): the inbound hook (`POST` of a raw RFC 5322 message, as mail
//! providers' inbound webhooks send it), a case's received mails and their originals as
//! `.eml`, the tenant's email rules and their simulator. Parsing, threading and the rules
//! are `crm_core::mail`'s; this module reads the body and renders the answers.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crm_core::ids::{CaseId, FollowUpId};
use crm_core::mail::inbound::MAX_INBOUND_BYTES;
use crm_core::mail::received::{InboundMail, ReceivedMail};
use crm_core::mail::rules::{MailRuleSet, MailRulesInput};
use crm_core::service::{MailSimulation, MailSimulationResult};

use crate::auth::Auth;
use crate::extract::{ApiJson, ApiPath, IfMatch, Reply};
use crate::problem::{ApiError, ApiResult, ProblemKind};
use crate::state::AppState;

/// The raw message of the inbound hook.
#[derive(Debug, utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct RawMessage(pub Vec<u8>);

/// Receives a raw RFC 5322 message (needs `mail.inbound` and `case.edit`; at most 30 MiB,
/// else 413). It lands on the case its subject's tag names, or the case of a mail its
/// `In-Reply-To`/`References` name, or a new case as the email rules say; the sender's
/// card is found by address or made. 201 with what was stored; 200 with the earlier mail
/// for a redelivery (the same `Message-ID`: nothing is written twice). A part that cannot
/// be decoded is dropped and noted; what is not a mail at all is a 422.
#[utoipa::path(post, path = "/api/v1/mail/inbound", operation_id = "receive_mail", tag = "mail",
    request_body(content = RawMessage, content_type = "message/rfc822"),
    responses((status = 201, body = ReceivedMail), (status = 200, description = "a redelivery", body = ReceivedMail)))]
pub async fn receive(
    State(st): State<AppState>,
    Auth(actor): Auth,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(ProblemKind::PayloadTooLarge, format!("a message may have at most {MAX_INBOUND_BYTES} bytes"))
        } else {
            ApiError::invalid("message", e.body_text())
        }
    })?;
    let received = st.crm.receive_mail(&actor, &body).await?;
    tracing::info!(
        case = %received.mail.case,
        mail = %received.mail.id,
        duplicate = received.duplicate,
        threading = ?received.mail.threading,
        "mail received"
    );
    if received.duplicate {
        return Ok(Reply::ok(received).into_response());
    }
    let location = format!("/api/v1/cases/{}/inbound-mails", received.mail.case);
    Ok(Reply::created(received, location).into_response())
}

/// A case's received mails, oldest first: how each found the case, the rules that matched,
/// what was dropped on parsing.
#[utoipa::path(get, path = "/api/v1/cases/{id}/inbound-mails", operation_id = "case_inbound_mails", tag = "mail",
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = Vec<InboundMail>)))]
pub async fn case_inbound_mails(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<CaseId>,
) -> ApiResult<Reply<Vec<InboundMail>>> {
    Ok(Reply::ok(st.crm.case_inbound_mails(&actor, id).await?))
}

/// The original of a received mail, as it arrived (`message/rfc822`, a `.eml` download).
#[utoipa::path(get, path = "/api/v1/cases/{id}/mails/{mail}/raw", operation_id = "raw_mail", tag = "mail",
    params(("id" = uuid::Uuid, Path), ("mail" = uuid::Uuid, Path)),
    responses((status = 200, description = "the message as received", content_type = "message/rfc822", body = Vec<u8>)))]
pub async fn raw(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath((case, mail)): ApiPath<(CaseId, FollowUpId)>,
) -> ApiResult<Response> {
    let (found, bytes) = st.crm.inbound_mail_raw(&actor, case, mail).await?;
    let mut response = Body::from_stream(bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("message/rfc822"));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(found.size));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"mail-{}.eml\"", found.id)) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("sandbox; default-src 'none'"));
    Ok(response)
}

/// The tenant's email rules (needs `mail.inbound`); `ETag` carries the set's version
/// (`"0"` before the first write).
#[utoipa::path(get, path = "/api/v1/mail/rules", operation_id = "mail_rules", tag = "mail",
    responses((status = 200, body = MailRuleSet)))]
pub async fn rules(State(st): State<AppState>, Auth(actor): Auth) -> ApiResult<Reply<MailRuleSet>> {
    let set = st.crm.mail_rules(&actor).await?;
    let v = set.version;
    Ok(Reply::ok(set).tagged(v))
}

/// Replaces the tenant's email rules, in order (needs `mail.inbound` and `If-Match`); each
/// fault is a 422 error naming its path (`rules[1].condition.all[0].op`).
#[utoipa::path(put, path = "/api/v1/mail/rules", operation_id = "put_mail_rules", tag = "mail",
    request_body = MailRulesInput,
    params(("If-Match" = String, Header, description = "the ETag read")), responses((status = 200, body = MailRuleSet)))]
pub async fn put_rules(
    State(st): State<AppState>,
    Auth(actor): Auth,
    IfMatch(version): IfMatch,
    ApiJson(input): ApiJson<MailRulesInput>,
) -> ApiResult<Reply<MailRuleSet>> {
    let set = st.crm.put_mail_rules(&actor, version, input).await.map_err(ApiError::precondition)?;
    let v = set.version;
    Ok(Reply::ok(set).tagged(v))
}

/// Runs a message (`raw`, or a received mail's id as `mail`) through draft rules (or the
/// stored ones): how it would thread, which rules match and what they would do. No effect.
#[utoipa::path(post, path = "/api/v1/mail/rules/simulate", operation_id = "simulate_mail_rules", tag = "mail",
    request_body = MailSimulation, responses((status = 200, body = MailSimulationResult)))]
pub async fn simulate(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiJson(run): ApiJson<MailSimulation>,
) -> ApiResult<Reply<MailSimulationResult>> {
    Ok(Reply::ok(st.crm.simulate_mail_rules(&actor, run).await?))
}
