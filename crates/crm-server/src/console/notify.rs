//! Notify the customer of a case by email (CAS-7 in the console), from the case page: the
//! From addresses the agent may use (its default first: the core's `notify_choices`), To
//! filled with the customer's first address, the subject with the case tag the core puts in
//! front, the message (an article or a standard response can be inserted, `assist.rs`), the
//! case's files to attach and the signature. The core's `notify` checks it all and queues
//! the mail with its follow-up; every refusal is shown under its field (422) with what was
//! typed kept.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};

use crm_core::attachment::Attachment;
use crm_core::error::FieldError;
use crm_core::ids::{AttachmentId, CaseId};
use crm_core::knowledge::response::RenderRequest;
use crm_core::mail::{NotifyChoices, NotifyRequest};

use super::assist::{self, InsertQuery};
use super::i18n::{Lang, Msg};
use super::pages::refusal;
use super::session::SignedIn;
use super::views::{self, csrf_field};
use crate::state::AppState;

/// The form, as typed.
#[derive(Clone, Debug, Default)]
pub(crate) struct NotifyForm {
    from: String,
    to: String,
    cc: String,
    subject: String,
    body: String,
    /// The checkbox: present when ticked.
    signature: Option<String>,
    /// The ticked attachments (one `attachment` pair per box).
    attachments: Vec<AttachmentId>,
}

impl NotifyForm {
    /// The form from its pairs (one `attachment` pair per ticked box).
    fn from_pairs(pairs: &[(String, String)]) -> Self {
        let mut form = NotifyForm::default();
        for (k, v) in pairs {
            match k.as_str() {
                "from" => form.from.clone_from(v),
                "to" => form.to.clone_from(v),
                "cc" => form.cc.clone_from(v),
                "subject" => form.subject.clone_from(v),
                "body" => form.body.clone_from(v),
                "signature" => form.signature = Some(v.clone()),
                "attachment" => form.attachments.extend(v.parse::<AttachmentId>().ok()),
                _ => {}
            }
        }
        form
    }

    /// The request for the core: addresses split on commas and semicolons, the message as
    /// HTML (escaped, its lines kept).
    fn request(&self) -> NotifyRequest {
        let list = |s: &str| -> Vec<String> {
            s.split([',', ';']).map(str::trim).filter(|a| !a.is_empty()).map(str::to_owned).collect()
        };
        let html = self
            .body
            .trim()
            .split("\n\n")
            .map(|p| format!("<p>{}</p>", crm_core::mail::escape_html(p.trim()).replace('\n', "<br>")))
            .collect::<String>();
        NotifyRequest {
            from: Some(self.from.trim().to_owned()).filter(|f| !f.is_empty()),
            to: Some(list(&self.to)),
            cc: list(&self.cc),
            bcc: Vec::new(),
            subject: Some(self.subject.trim().to_owned()).filter(|s| !s.is_empty()),
            html: if self.body.trim().is_empty() { String::new() } else { html },
            signature: Some(self.signature.is_some()),
            attachments: self.attachments.clone(),
        }
    }
}

/// The form's control a field error of the core belongs under (`to[0]` → `to`).
fn control_of(field: &str) -> &'static str {
    let base = field.split(['[', '.']).next().unwrap_or(field);
    match base {
        "from" => "from",
        "to" => "to",
        "cc" | "bcc" => "cc",
        "subject" => "subject",
        "attachments" => "attachments",
        _ => "body",
    }
}

/// `GET /console/cases/{id}/notify`: the form (`?article=` or `?response=` puts that text in
/// the message, the response rendered for the case and its customer).
pub(crate) async fn form(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<CaseId>,
    Query(insert): Query<InsertQuery>,
) -> Response {
    let choices = match st.crm.notify_choices(&s.actor, id).await {
        Ok(c) => c,
        Err(e) => return refusal(s.lang, e),
    };
    let mut typed = NotifyForm {
        from: choices.from.first().map(|a| a.as_str().to_owned()).unwrap_or_default(),
        to: choices.to.first().map(|a| a.as_str().to_owned()).unwrap_or_default(),
        subject: choices.subject.clone(),
        signature: Some("on".to_owned()),
        ..NotifyForm::default()
    };
    let mut errors = Vec::new();
    if insert.wants_text() {
        let customer = st.crm.get_case(&s.actor, id).await.ok().map(|c| c.customer());
        let target = RenderRequest { case: Some(id), customer, interaction: None };
        match assist::draft(&st, &s.actor, &insert, &target).await {
            Ok(text) => typed.body = text.unwrap_or_default(),
            Err(e) => match assist::field_error_of(&e) {
                Some(error) => errors.push(FieldError::new("body", format!("{}: {}", error.field, error.reason))),
                None => return refusal(s.lang, e),
            },
        }
    }
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    page(&st, &s, id, &choices, &typed, &errors, status).await
}

/// `POST /console/cases/{id}/notify`: queues the mail, then the case.
pub(crate) async fn send(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<CaseId>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let typed = NotifyForm::from_pairs(&pairs);
    match st.crm.notify(&s.actor, id, typed.request()).await {
        Ok(_) => Redirect::to(&format!("/console/cases/{id}")).into_response(),
        Err(crm_core::Error::Validation(errors)) => {
            let choices = match st.crm.notify_choices(&s.actor, id).await {
                Ok(c) => c,
                Err(e) => return refusal(s.lang, e),
            };
            let errors = errors.errors().to_vec();
            page(&st, &s, id, &choices, &typed, &errors, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => refusal(s.lang, e),
    }
}

/// The errors under one control, and the attributes that tie the control to them.
fn under(errors: &[FieldError], control: &str) -> (Option<Markup>, Option<String>) {
    let mine: Vec<&FieldError> = errors.iter().filter(|e| control_of(&e.field) == control).collect();
    if mine.is_empty() {
        return (None, None);
    }
    let id = format!("notify-{control}-error");
    let m = html! { p.error.field-error id=(id) role="alert" { @for e in &mine { (e.field) ": " (e.reason) br; } } };
    (Some(m), Some(id))
}

async fn page(
    st: &AppState,
    s: &SignedIn,
    id: CaseId,
    choices: &NotifyChoices,
    typed: &NotifyForm,
    errors: &[FieldError],
    status: StatusCode,
) -> Response {
    let lang = s.lang;
    let files: Vec<Attachment> = super::attachments::of_case(st, s, id).await.unwrap_or_default();
    let body = html! {
        section.notify {
            h1 { (lang.t(Msg::NotifyCustomer)) " " span.muted { (choices.tag) } }
            p { a href={ "/console/cases/" (id) } { (lang.t(Msg::BackToCase)) } }
            @if !errors.is_empty() { p.error { (lang.t(Msg::FixBelow)) } }
            form.notify-form method="post" action={ "/console/cases/" (id) "/notify" } {
                (csrf_field(&s.csrf))
                (control(lang, Msg::MailFrom, "from", errors, html! {
                    @let (_, eid) = under(errors, "from");
                    select #from name="from" aria-invalid=[eid.as_ref().map(|_| "true")] aria-describedby=[eid.as_deref()] {
                        @for a in &choices.from { option value=(a.as_str()) selected[a.as_str() == typed.from] { (a.as_str()) } }
                    }
                }))
                (control(lang, Msg::MailTo, "to", errors, html! {
                    @let (_, eid) = under(errors, "to");
                    input #to type="text" name="to" value=(typed.to) required autocomplete="off" aria-invalid=[eid.as_ref().map(|_| "true")]
                        aria-describedby={ "to-hint" @if let Some(e) = &eid { " " (e) } };
                    p.hint #to-hint { (lang.t(Msg::AddressesHint)) }
                }))
                (control(lang, Msg::MailCc, "cc", errors, html! {
                    @let (_, eid) = under(errors, "cc");
                    input #cc type="text" name="cc" value=(typed.cc) autocomplete="off" aria-invalid=[eid.as_ref().map(|_| "true")]
                        aria-describedby={ "to-hint" @if let Some(e) = &eid { " " (e) } };
                }))
                (control(lang, Msg::Subject, "subject", errors, html! {
                    @let (_, eid) = under(errors, "subject");
                    input #subject type="text" name="subject" value=(typed.subject) required aria-invalid=[eid.as_ref().map(|_| "true")]
                        aria-describedby={ "subject-hint" @if let Some(e) = &eid { " " (e) } };
                    p.hint #subject-hint { (lang.t(Msg::SubjectTagHint)) " " code { (choices.tag) } }
                }))
                (control(lang, Msg::MailBody, "body", errors, html! {
                    @let (_, eid) = under(errors, "body");
                    textarea #body name="body" rows="8" required aria-invalid=[eid.as_ref().map(|_| "true")]
                        aria-describedby=[eid.as_deref()] { (typed.body) }
                }))
                @if !files.is_empty() {
                    @let (message, eid) = under(errors, "attachments");
                    fieldset.attachments aria-describedby=[eid.as_deref()] {
                        legend { (lang.t(Msg::AttachFiles)) }
                        @for f in &files {
                            div {
                                input type="checkbox" name="attachment" id={ "attach-" (f.id) } value=(f.id)
                                    checked[typed.attachments.contains(&f.id)];
                                label.inline for={ "attach-" (f.id) } { (f.filename) }
                            }
                        }
                        @if let Some(m) = message { (m) }
                    }
                }
                div {
                    input #signature type="checkbox" name="signature" value="on" checked[typed.signature.is_some()];
                    label.inline for="signature" { (lang.t(Msg::AddSignature)) }
                }
                button type="submit" { (lang.t(Msg::Send)) }
            }
            p.hint { (lang.t(Msg::InsertHint)) " "
                a href=(assist::address("/console/knowledge", &[("case", id.to_string())])) { (lang.t(Msg::NavKnowledge)) } " · "
                a href=(assist::address("/console/responses", &[("case", id.to_string())])) { (lang.t(Msg::NavResponses)) }
            }
        }
    };
    (status, views::page(lang, lang.t(Msg::NotifyCustomer), Some(s), body)).into_response()
}

/// One labelled control with its errors under it.
fn control(lang: Lang, label: Msg, name: &str, errors: &[FieldError], field: Markup) -> Markup {
    let (message, _) = under(errors, name);
    html! {
        div.control {
            label for=(name) { (lang.t(label)) }
            (field)
            @if let Some(m) = message { (m) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_becomes_a_request_with_its_lines_kept_and_escaped() {
        let pairs =
            [("to", "a@example.com; b@example.com, "), ("body", "Hello <you>,\nline two\n\nBye"), ("subject", " Hi ")];
        let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        let r = NotifyForm::from_pairs(&pairs).request();
        assert_eq!(r.to, Some(vec!["a@example.com".to_owned(), "b@example.com".to_owned()]));
        assert_eq!(r.html, "<p>Hello &lt;you&gt;,<br>line two</p><p>Bye</p>");
        assert_eq!((r.subject.as_deref(), r.from, r.signature), (Some("Hi"), None, Some(false)));
        assert_eq!((control_of("to[1]"), control_of("html"), control_of("bcc[0]")), ("to", "body", "cc"));
    }
}
