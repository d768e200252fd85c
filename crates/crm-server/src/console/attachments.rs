//! Attachments on the case page (CAS-6 in the console): the list of the case's files (on
//! the case itself or on one of its follow-ups, newest first) with their download, the
//! upload (multipart, streamed to the core like the API's: the core counts, names, sniffs
//! and refuses), and the delete button for those the core lets delete it (the uploader
//! with `case.edit`, others with `case.delete`: [`Attachment::check_delete`]).
//!
//! The upload form is sent by htmx (`hx-encoding="multipart/form-data"`), whose request
//! carries the anti-forgery header: the session middleware never reads a file's body to
//! look for the form's hidden token. It answers with the section again (the new file in
//! the list, or the refusal under the file field with 422); a client that is not htmx gets
//! a redirect to the case. A download is served with the API's headers (the sniffed type,
//! `nosniff`, `attachment` disposition and a sandboxing policy of its own).

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono_tz::Tz;
use futures::{StreamExt, TryStreamExt};
use maud::{Markup, html};

use crm_core::access::Permission;
use crm_core::attachment::{Attachment, AttachmentOrigin, AttachmentScope, AttachmentSort};
use crm_core::error::FieldError;
use crm_core::follow_up::FollowUp;
use crm_core::ids::{AttachmentId, CaseId, FollowUpId};
use crm_core::ports::BlobError;
use crm_core::service::NewAttachment;

use super::i18n::{Lang, Msg};
use super::pages::{refusal, zone};
use super::session::SignedIn;
use super::views::{self, csrf_field};
use crate::state::AppState;

/// What the section shows above its list after an upload.
#[derive(Clone, Debug)]
pub(crate) enum Outcome {
    Shown,
    Uploaded(String),
    Refused(FieldError),
}

/// A size for people (B, KB, MB).
fn size(bytes: u64) -> String {
    #[allow(clippy::cast_precision_loss)] // a size shown to one decimal
    let b = bytes as f64;
    match bytes {
        0..1_024 => format!("{bytes} B"),
        1_024..1_048_576 => format!("{:.1} KB", b / 1_024.0),
        _ => format!("{:.1} MB", b / 1_048_576.0),
    }
}

/// A follow-up, as a choice of where a file goes: when, and the start of its text.
fn follow_up_label(f: &FollowUp, zone: Tz) -> String {
    let text: String = f.body.chars().take(40).collect();
    let more = if f.body.chars().count() > 40 { "…" } else { "" };
    format!("{} · {text}{more}", f.at.with_timezone(&zone).format("%Y-%m-%d %H:%M"))
}

/// The attachments section of the case page (`id="attachments"`, what an upload swaps).
pub(crate) fn section(
    lang: Lang,
    s: &SignedIn,
    case: CaseId,
    files: &[Attachment],
    follow_ups: &[FollowUp],
    zone: Tz,
    outcome: &Outcome,
) -> Markup {
    let base = format!("/console/cases/{case}/attachments");
    let error = match outcome {
        Outcome::Refused(e) => Some(e),
        _ => None,
    };
    let on = |a: &Attachment| {
        a.follow_up.and_then(|f| follow_ups.iter().find(|x| x.id == f)).map(|f| follow_up_label(f, zone))
    };
    html! {
        section.attachments #attachments aria-labelledby="attachments-title" {
            h2 #attachments-title { (lang.t(Msg::Attachments)) }
            @if let Outcome::Uploaded(name) = outcome { p.notice role="status" { (lang.t(Msg::Uploaded)) " " (name) } }
            @if files.is_empty() { p.empty { (lang.t(Msg::NoAttachments)) } }
            @else {
                table.attachments {
                    caption.visually-hidden { (lang.t(Msg::Attachments)) }
                    thead { tr {
                        th scope="col" { (lang.t(Msg::FileName)) }
                        th scope="col" { (lang.t(Msg::FileSize)) }
                        th scope="col" { (lang.t(Msg::AttachedTo)) }
                        th scope="col" { (lang.t(Msg::When)) }
                        th scope="col" { span.visually-hidden { (lang.t(Msg::Delete)) } }
                    } }
                    tbody { @for a in files {
                        tr data-attachment=(a.id) {
                            td { a href={ (base) "/" (a.id) } download=(a.filename) { (a.filename) } " " span.muted { (a.content_type) } }
                            td { (size(a.size)) }
                            td { (on(a).unwrap_or_else(|| lang.t(Msg::TheCase).to_owned())) }
                            td { (views::when(a.uploaded_at, zone)) }
                            td {
                                @if a.check_delete(&s.actor).is_ok() {
                                    form.inline method="post" action={ (base) "/" (a.id) "/delete" } {
                                        (csrf_field(&s.csrf))
                                        button type="submit" aria-label={ (lang.t(Msg::Delete)) " " (a.filename) } { (lang.t(Msg::Delete)) }
                                    }
                                }
                            }
                        }
                    } }
                }
            }
            @if s.actor.can(Permission::CaseEdit) {
                form.upload method="post" action=(base) enctype="multipart/form-data"
                    hx-post=(base) hx-encoding="multipart/form-data" hx-target="#attachments" hx-swap="outerHTML" {
                    (csrf_field(&s.csrf))
                    label for="attach-to" { (lang.t(Msg::AttachTo)) }
                    select #attach-to name="follow_up" {
                        option value="" { (lang.t(Msg::TheCase)) }
                        @for f in follow_ups { option value=(f.id) { (follow_up_label(f, zone)) } }
                    }
                    label for="file" { (lang.t(Msg::File)) }
                    input #file type="file" name="file" required aria-invalid=[error.map(|_| "true")]
                        aria-describedby=[error.map(|_| "file-error")];
                    @if let Some(e) = error { p.error.field-error #file-error role="alert" { (e.field) ": " (e.reason) } }
                    button type="submit" { (lang.t(Msg::Upload)) }
                }
            }
        }
    }
}

/// The case's attachments, newest first.
pub(crate) async fn of_case(st: &AppState, s: &SignedIn, case: CaseId) -> Result<Vec<Attachment>, crm_core::Error> {
    st.crm.attachments(&s.actor, case, AttachmentScope::All, AttachmentSort::Date).await
}

/// The section again, after an upload.
async fn answer(st: &AppState, s: &SignedIn, case: CaseId, status: StatusCode, outcome: &Outcome) -> Response {
    let (files, follow_ups) = match futures::try_join!(of_case(st, s, case), st.crm.follow_ups(&s.actor, case)) {
        Ok(found) => found,
        Err(e) => return refusal(s.lang, e),
    };
    let zone = zone(st, s).await;
    (status, section(s.lang, s, case, &files, &follow_ups, zone, outcome)).into_response()
}

/// The refusal of an upload as a field error, when it is one (values, size).
fn field_refusal(e: &crm_core::Error) -> Option<FieldError> {
    match e {
        crm_core::Error::Validation(errors) => errors.errors().first().cloned(),
        crm_core::Error::TooLarge { field, reason } => Some(FieldError::new(field.clone(), reason.clone())),
        _ => None,
    }
}

/// `POST /console/cases/{id}/attachments`: the upload (parts `follow_up`, then `file`).
pub(crate) async fn upload(
    State(st): State<AppState>,
    s: SignedIn,
    Path(case): Path<CaseId>,
    headers: HeaderMap,
    form: Result<Multipart, MultipartRejection>,
) -> Response {
    let refused = |error: FieldError| Outcome::Refused(error);
    let Ok(mut form) = form else {
        let e = FieldError::new("file", "send the file as multipart/form-data");
        return answer(&st, &s, case, StatusCode::UNPROCESSABLE_ENTITY, &refused(e)).await;
    };
    // Refused before a byte of the file is read.
    if let Err(e) = st.crm.check_attachment_target(&s.actor, case, None).await {
        return refusal(s.lang, e);
    }
    let mut follow_up: Option<FollowUpId> = None;
    let result = loop {
        let field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break Err(FieldError::new("file", "choose a file").into()),
            Err(e) => break Err(FieldError::new("file", e.body_text()).into()),
        };
        match field.name() {
            Some("follow_up") => {
                let text = field.text().await.unwrap_or_default();
                match text.trim() {
                    "" => {}
                    id => match id.parse() {
                        Ok(id) => follow_up = Some(id),
                        Err(_) => {
                            break Err(FieldError::new("follow_up", "choose the case or one of its follow-ups").into());
                        }
                    },
                }
            }
            Some("file") => {
                let filename = field.file_name().unwrap_or_default().to_owned();
                if filename.is_empty() {
                    break Err(FieldError::new("file", "choose a file").into());
                }
                let input = NewAttachment { filename, origin: AttachmentOrigin::File, follow_up };
                let bytes = field.map_err(|e| BlobError::Source(Box::new(e))).boxed();
                break st.crm.upload_attachment(&s.actor, case, input, bytes).await;
            }
            _ => {}
        }
    };
    // A refused upload's rest is read (and dropped): the browser gets the answer rather
    // than a reset connection in the middle of its sending.
    if result.is_err() {
        while let Ok(Some(_)) = form.next_field().await {}
    }
    let htmx = headers.contains_key("hx-request");
    match result {
        Ok(_) if !htmx => Redirect::to(&format!("/console/cases/{case}#attachments")).into_response(),
        Ok(a) => answer(&st, &s, case, StatusCode::OK, &Outcome::Uploaded(a.filename)).await,
        Err(e) => match field_refusal(&e) {
            Some(error) => answer(&st, &s, case, StatusCode::UNPROCESSABLE_ENTITY, &refused(error)).await,
            None => refusal(s.lang, e),
        },
    }
}

/// `GET /console/cases/{id}/attachments/{attachment}`: the file.
pub(crate) async fn download(
    State(st): State<AppState>,
    s: SignedIn,
    Path((case, id)): Path<(CaseId, AttachmentId)>,
) -> Response {
    match st.crm.download_attachment(&s.actor, case, id).await {
        Ok((a, bytes)) => {
            crate::routes::attachments::file_response(bytes, &a.content_type, a.size, &a.filename, a.sha256.as_str())
        }
        Err(e) => refusal(s.lang, e),
    }
}

/// `POST /console/cases/{id}/attachments/{attachment}/delete`: deletes the file (the core
/// decides who may), then the case.
pub(crate) async fn delete(
    State(st): State<AppState>,
    s: SignedIn,
    Path((case, id)): Path<(CaseId, AttachmentId)>,
) -> Response {
    match st.crm.delete_attachment(&s.actor, case, id).await {
        Ok(()) => Redirect::to(&format!("/console/cases/{case}#attachments")).into_response(),
        Err(e) => refusal(s.lang, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_in_bytes_kilobytes_and_megabytes() {
        assert_eq!(size(512), "512 B");
        assert_eq!(size(2_048), "2.0 KB");
        assert_eq!(size(3 * 1_048_576 + 524_288), "3.5 MB");
    }
}
