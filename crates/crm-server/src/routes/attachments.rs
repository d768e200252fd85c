//! Attachments of cases and follow-ups (CAS-6): upload (multipart, streamed to the blob
//! store part by part: the file is never held whole in memory), list, download, delete.
//! The limits, the file name, the media type and the permissions are the core's.

use axum::body::Body;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::{StreamExt, TryStreamExt};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;

use crm_core::attachment::{Attachment, AttachmentOrigin, AttachmentScope, AttachmentSort};
use crm_core::ids::{AttachmentId, CaseId, FollowUpId};
use crm_core::ports::BlobError;
use crm_core::service::NewAttachment;

use crate::auth::Auth;
use crate::extract::{ApiPath, ApiQuery, Reply};
use crate::problem::{ApiError, ApiResult, ProblemKind};
use crate::state::AppState;

/// The multipart form of an upload: one part named `file`, with its file name.
#[derive(Debug, utoipa::ToSchema)]
pub struct UploadForm {
    /// The bytes, with `filename` in the part's `Content-Disposition`.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
}

/// How an upload arrived.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UploadParams {
    /// `file` (default: at most 20 MB) or `pasted` (a pasted or dropped image: at most 10 MB).
    #[param(inline)]
    pub origin: Option<AttachmentOrigin>,
}

/// Which attachments a case's list shows.
#[derive(Clone, Copy, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttachedTo {
    /// Every one (default).
    #[default]
    All,
    /// Those of the case itself.
    Case,
    /// Those of its follow-ups.
    FollowUps,
}

/// The list's filter and order.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// `all` (default), `case` or `follow_ups`.
    #[param(inline)]
    pub on: Option<AttachedTo>,
    /// `date` (newest first, default) or `name`.
    #[param(inline)]
    pub sort: Option<AttachmentSort>,
}

/// Uploads an attachment to a case: `multipart/form-data` with the part `file`. The media
/// type is sniffed from the bytes; the file name is cleaned (a path is refused).
#[utoipa::path(post, path = "/api/v1/cases/{id}/attachments", tag = "attachments",
    params(("id" = uuid::Uuid, Path), UploadParams),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 201, description = "stored; Location set", body = Attachment)))]
pub async fn upload_to_case(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(case): ApiPath<CaseId>,
    ApiQuery(params): ApiQuery<UploadParams>,
    form: Result<Multipart, MultipartRejection>,
) -> ApiResult<Reply<Attachment>> {
    upload(&st, &actor, case, None, params, form).await
}

/// Uploads an attachment to a follow-up of a case (as [`upload_to_case`]).
#[utoipa::path(post, path = "/api/v1/cases/{id}/follow-ups/{follow_up}/attachments", tag = "attachments",
    params(("id" = uuid::Uuid, Path), ("follow_up" = uuid::Uuid, Path), UploadParams),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 201, description = "stored; Location set", body = Attachment)))]
pub async fn upload_to_follow_up(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath((case, follow_up)): ApiPath<(CaseId, FollowUpId)>,
    ApiQuery(params): ApiQuery<UploadParams>,
    form: Result<Multipart, MultipartRejection>,
) -> ApiResult<Reply<Attachment>> {
    upload(&st, &actor, case, Some(follow_up), params, form).await
}

async fn upload(
    st: &AppState,
    actor: &crm_core::access::Actor,
    case: CaseId,
    follow_up: Option<FollowUpId>,
    params: UploadParams,
    form: Result<Multipart, MultipartRejection>,
) -> ApiResult<Reply<Attachment>> {
    let mut form = form.map_err(|e| ApiError::new(ProblemKind::UnsupportedMediaType, e.body_text()))?;
    // Refused before a byte of the file is read.
    st.crm.check_attachment_target(actor, case, follow_up).await?;
    let malformed = |e: axum::extract::multipart::MultipartError| ApiError::invalid("file", e.body_text());
    let result = loop {
        let Some(field) = form.next_field().await.map_err(malformed)? else {
            return Err(ApiError::invalid("file", "is missing: send the file as the multipart part `file`"));
        };
        if field.name() != Some("file") {
            continue;
        }
        let Some(filename) = field.file_name().map(str::to_owned) else {
            return Err(ApiError::invalid("filename", "the part `file` has no filename"));
        };
        let input = NewAttachment { filename, origin: params.origin.unwrap_or_default(), follow_up };
        let bytes = field.map_err(|e| BlobError::Source(Box::new(e))).boxed();
        break st.crm.upload_attachment(actor, case, input, bytes).await;
    };
    // A refused upload's rest is read (and dropped), so the client gets the answer rather
    // than a connection reset in the middle of its sending.
    if result.is_err() {
        while let Ok(Some(_)) = form.next_field().await {}
    }
    let attachment = result?;
    let location = format!("/api/v1/cases/{case}/attachments/{}", attachment.id);
    Ok(Reply::created(attachment, location))
}

/// A case's attachments (on the case and its follow-ups), filtered and sorted.
#[utoipa::path(get, path = "/api/v1/cases/{id}/attachments", tag = "attachments",
    params(("id" = uuid::Uuid, Path), ListParams),
    responses((status = 200, body = Vec<Attachment>)))]
pub async fn list_of_case(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(case): ApiPath<CaseId>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> ApiResult<Reply<Vec<Attachment>>> {
    let scope = match params.on.unwrap_or_default() {
        AttachedTo::All => AttachmentScope::All,
        AttachedTo::Case => AttachmentScope::Case,
        AttachedTo::FollowUps => AttachmentScope::FollowUps,
    };
    Ok(Reply::ok(st.crm.attachments(&actor, case, scope, params.sort.unwrap_or_default()).await?))
}

/// The attachments of one follow-up of a case.
#[utoipa::path(get, path = "/api/v1/cases/{id}/follow-ups/{follow_up}/attachments", tag = "attachments",
    params(("id" = uuid::Uuid, Path), ("follow_up" = uuid::Uuid, Path), ListParams),
    responses((status = 200, body = Vec<Attachment>)))]
pub async fn list_of_follow_up(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath((case, follow_up)): ApiPath<(CaseId, FollowUpId)>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> ApiResult<Reply<Vec<Attachment>>> {
    let scope = AttachmentScope::FollowUp(follow_up);
    Ok(Reply::ok(st.crm.attachments(&actor, case, scope, params.sort.unwrap_or_default()).await?))
}

/// Downloads an attachment: its bytes with the sniffed `Content-Type`, always as a
/// download (`Content-Disposition: attachment` with the RFC 6266 `filename*`), never
/// rendered by the browser (`nosniff`, a sandboxing CSP).
#[utoipa::path(get, path = "/api/v1/cases/{id}/attachments/{attachment}", tag = "attachments",
    params(("id" = uuid::Uuid, Path), ("attachment" = uuid::Uuid, Path)),
    responses((status = 200, description = "the bytes, as the media type sniffed at upload", content_type = "*/*", body = Vec<u8>)))]
pub async fn download(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath((case, id)): ApiPath<(CaseId, AttachmentId)>,
) -> ApiResult<Response> {
    let (attachment, bytes) = st.crm.download_attachment(&actor, case, id).await?;
    Ok(file_response(
        bytes,
        &attachment.content_type,
        attachment.size,
        &attachment.filename,
        attachment.sha256.as_str(),
    ))
}

/// Downloads the original of a downscaled image, when the server keeps originals
/// (`keep_original_images`), with the same headers as the attachment's own download.
#[utoipa::path(get, path = "/api/v1/cases/{id}/attachments/{attachment}/original", tag = "attachments",
    params(("id" = uuid::Uuid, Path), ("attachment" = uuid::Uuid, Path)),
    responses((status = 200, description = "the image as uploaded", content_type = "*/*", body = Vec<u8>)))]
pub async fn download_original(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath((case, id)): ApiPath<(CaseId, AttachmentId)>,
) -> ApiResult<Response> {
    let (attachment, original, bytes) = st.crm.attachment_original(&actor, case, id).await?;
    Ok(file_response(bytes, &original.content_type, original.size, &attachment.filename, original.sha256.as_str()))
}

/// A file's bytes as a download: its media type, length, `Content-Disposition:
/// attachment`, never rendered by the browser (`nosniff`, a sandboxing CSP), its SHA-256 as
/// the `ETag`.
pub(crate) fn file_response(
    bytes: crm_core::ports::BlobStream,
    content_type: &str,
    size: u64,
    filename: &str,
    sha256: &str,
) -> Response {
    let mut response = Body::from_stream(bytes).into_response();
    let headers = response.headers_mut();
    let value =
        |s: &str| HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    headers.insert(header::CONTENT_TYPE, value(content_type));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    if let Ok(v) = HeaderValue::from_str(&content_disposition(filename)) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("sandbox; default-src 'none'"));
    if let Ok(v) = HeaderValue::from_str(&format!("\"{sha256}\"")) {
        headers.insert(header::ETAG, v);
    }
    response
}

/// Deletes an attachment: its uploader, or anyone with `case.delete`.
#[utoipa::path(delete, path = "/api/v1/cases/{id}/attachments/{attachment}", operation_id = "delete_attachment", tag = "attachments",
    params(("id" = uuid::Uuid, Path), ("attachment" = uuid::Uuid, Path)),
    responses((status = 204, description = "deleted")))]
pub async fn delete(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath((case, id)): ApiPath<(CaseId, AttachmentId)>,
) -> ApiResult<StatusCode> {
    st.crm.delete_attachment(&actor, case, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The characters RFC 5987 lets through unencoded in `filename*` (its `attr-char`).
const ATTR_CHAR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// `attachment; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded>` (RFC 6266).
pub fn content_disposition(filename: &str) -> String {
    let fallback: String = filename
        .chars()
        .map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' })
        .collect();
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{}", utf8_percent_encode(filename, ATTR_CHAR))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_name_is_given_in_ascii_and_in_utf8() {
        assert_eq!(
            content_disposition("Relevé \"mai\".pdf"),
            "attachment; filename=\"Relev_ _mai_.pdf\"; filename*=UTF-8''Relev%C3%A9%20%22mai%22.pdf"
        );
        assert_eq!(content_disposition("a.txt"), "attachment; filename=\"a.txt\"; filename*=UTF-8''a.txt");
    }
}
