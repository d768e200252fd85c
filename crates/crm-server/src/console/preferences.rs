//! The agent's own preferences (ADM-1 in the console): the language the console speaks
//! (else the browser's) and the time zone its times are shown in (else the tenant's), saved
//! in the agent's profile through the core's `update_profile` (the same as
//! `PATCH /api/v1/me`), at the version the form was read at. A refused value is shown next
//! to its field, with what the agent typed.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use crm_core::error::FieldError;
use crm_core::service::ProfilePatch;

use super::i18n::Msg;
use super::pages::{refusal, tenant_zone};
use super::session::SignedIn;
use super::views::{self, csrf_field};
use crate::state::AppState;

/// The page's query: whether a save just happened.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct PreferencesQuery {
    #[serde(default)]
    saved: Option<u8>,
}

/// The form as sent.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct PreferencesForm {
    #[serde(default)]
    version: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    time_zone: String,
}

/// `GET /console/preferences`: the form.
pub(crate) async fn preferences(
    State(st): State<AppState>,
    s: SignedIn,
    Query(q): Query<PreferencesQuery>,
) -> Response {
    render(&st, &s, StatusCode::OK, None, q.saved.is_some()).await
}

async fn render(
    st: &AppState,
    s: &SignedIn,
    status: StatusCode,
    refused: Option<(PreferencesForm, FieldError)>,
    saved: bool,
) -> Response {
    let lang = s.lang;
    let me = match st.crm.get_agent(&s.actor, s.actor.agent).await {
        Ok(a) => a,
        Err(e) => return refusal(lang, e),
    };
    let centre = tenant_zone(st, &s.actor).await;
    let (language, zone) = match &refused {
        Some((form, _)) => (form.language.clone(), form.time_zone.clone()),
        None => (
            me.profile.language.clone().unwrap_or_default(),
            me.profile.time_zone.map(|z| z.name().to_owned()).unwrap_or_default(),
        ),
    };
    let error = |field: &str| refused.as_ref().map(|(_, e)| e).filter(|e| e.field == field);
    let (language_error, zone_error) = (error("language"), error("time_zone"));
    let other_error = refused.as_ref().map(|(_, e)| e).filter(|e| e.field != "language" && e.field != "time_zone");
    let zone_described_by = if zone_error.is_some() { "time-zone-hint time-zone-error" } else { "time-zone-hint" };
    let body = html! {
        section.preferences {
            h1 { (lang.t(Msg::Preferences)) }
            @if saved { p.notice role="status" { (lang.t(Msg::Saved)) } }
            @if refused.is_some() { p.error { (lang.t(Msg::FixBelow)) } }
            @if let Some(e) = other_error { p.error role="alert" { (e.field) ": " (e.reason) } }
            form.preferences method="post" action="/console/preferences" {
                (csrf_field(&s.csrf))
                input type="hidden" name="version" value=(me.version);
                label for="language" { (lang.t(Msg::Language)) }
                select #language name="language" aria-invalid=[language_error.map(|_| "true")]
                    aria-describedby=[language_error.map(|_| "language-error")] {
                    option value="" selected[language.is_empty()] { (lang.t(Msg::BrowserLanguage)) }
                    option value="en" lang="en" selected[language == "en"] { "English" }
                    option value="fr" lang="fr" selected[language == "fr"] { "Français" }
                }
                @if let Some(e) = language_error {
                    p.error.field-error #language-error role="alert" { (e.field) ": " (e.reason) }
                }
                label for="time_zone" { (lang.t(Msg::TimeZone)) }
                input #time_zone type="text" name="time_zone" value=(zone) autocomplete="off"
                    aria-invalid=[zone_error.map(|_| "true")]
                    aria-describedby=(zone_described_by);
                p.hint #time-zone-hint { (lang.t(Msg::TimeZoneHint)) " " (centre.name()) }
                @if let Some(e) = zone_error {
                    p.error.field-error #time-zone-error role="alert" { (e.field) ": " (e.reason) }
                }
                button type="submit" { (lang.t(Msg::Save)) }
            }
        }
    };
    (status, views::page(lang, lang.t(Msg::Preferences), Some(s), body)).into_response()
}

/// An empty field clears the preference; anything else sets it.
fn cleared_or(v: &str) -> Option<String> {
    Some(v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// `POST /console/preferences`: saves the language and time zone in the agent's profile.
pub(crate) async fn save(State(st): State<AppState>, s: SignedIn, Form(form): Form<PreferencesForm>) -> Response {
    let Ok(version) = form.version.parse::<u64>() else {
        let e = FieldError::new("version", "is missing or not a number");
        return render(&st, &s, StatusCode::UNPROCESSABLE_ENTITY, Some((form, e)), false).await;
    };
    let patch = ProfilePatch {
        language: Some(cleared_or(&form.language)),
        time_zone: Some(cleared_or(&form.time_zone)),
        ..ProfilePatch::default()
    };
    match st.crm.update_profile(&s.actor, version, patch).await {
        Ok(_) => Redirect::to("/console/preferences?saved=1").into_response(),
        Err(crm_core::Error::Validation(errors)) => {
            let e = errors.errors().first().cloned().unwrap_or_else(|| FieldError::new("form", "was refused"));
            render(&st, &s, StatusCode::UNPROCESSABLE_ENTITY, Some((form, e)), false).await
        }
        Err(e) => refusal(s.lang, e),
    }
}
