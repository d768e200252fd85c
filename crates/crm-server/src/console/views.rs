//! The console's HTML: the layout every page shares (navigation, the anti-forgery meta
//! tag, the hashed assets, no inline script or style) and the pieces pages are made of
//! (the customer card's sections, labels of statuses and priorities, times in the tenant's
//! zone, error pages).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use maud::{DOCTYPE, Markup, html};

use crm_core::access::Permission;
use crm_core::alert::{Alert, Severity};
use crm_core::case::{CaseStatus, Priority};
use crm_core::customer::CustomerCard;

use super::assets::ASSETS;
use super::i18n::{Lang, Msg};
use super::session::{CSRF_FIELD, SignedIn};

/// htmx's settings: no indicator styles injected (the policy forbids inline styles), no
/// `eval`, no script tags from answers; a 422 is swapped like a success (a search box's
/// refusal is shown under it), other errors are not.
const HTMX_CONFIG: &str = concat!(
    r#"{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false,"historyCacheSize":0,"#,
    r#""responseHandling":[{"code":"204","swap":false},{"code":"[23]..","swap":true},"#,
    r#"{"code":"422","swap":true,"error":false},{"code":"[45]..","swap":false,"error":true}]}"#
);

/// A whole page.
pub(crate) fn page(lang: Lang, title: &str, signed: Option<&SignedIn>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (lang.t(Msg::AppName)) }
                meta name="htmx-config" content=(HTMX_CONFIG);
                @if let Some(s) = signed { meta name="csrf-token" content=(s.csrf); }
                link rel="stylesheet" href=(ASSETS.css.url());
                script src=(ASSETS.htmx.url()) defer {}
                script src=(ASSETS.js.url()) defer {}
            }
            body {
                header.top {
                    a.brand href="/" { (lang.t(Msg::AppName)) }
                    @if let Some(s) = signed {
                        nav aria-label=(lang.t(Msg::Home)) {
                            a href="/" accesskey="h" { (lang.t(Msg::Home)) }
                            " " a href="/console/cases" { (lang.t(Msg::Cases)) }
                            " " a href="/console/agenda" { (lang.t(Msg::Agenda)) }
                            " " a href="/console/knowledge" { (lang.t(Msg::NavKnowledge)) }
                            " " a href="/console/responses" { (lang.t(Msg::NavResponses)) }
                            @if s.actor.can(Permission::InteractionHandle) {
                                " " a href="/console/calls" { (lang.t(Msg::NavCalls)) }
                            }
                            " " a href="/console/preferences" { (lang.t(Msg::Preferences)) }
                            @if s.actor.can(Permission::AdminConnectors) {
                                " " a href="/console/outbox" { (lang.t(Msg::Outbox)) }
                            }
                            @if super::admin::administers(s) {
                                " " a href="/console/admin" { (lang.t(Msg::Administration)) }
                            }
                        }
                        form.sign-out method="post" action="/sign-out" {
                            (csrf_field(&s.csrf))
                            button type="submit" { (lang.t(Msg::SignOut)) }
                        }
                    }
                }
                main #main { (body) }
                @if signed.is_some() {
                    // Live notices (reminders) float above the page: nothing under them moves.
                    section #notices.notices role="status" aria-live="polite" aria-label=(lang.t(Msg::Notices)) {}
                    (shortcuts_help(lang))
                }
            }
        }
    }
}

/// The keyboard shortcuts' help (a dialog the script opens on `?`).
fn shortcuts_help(lang: Lang) -> Markup {
    let keys = [
        ("/", Msg::KeySearch),
        ("g h", Msg::KeyHome),
        ("g c", Msg::KeyCases),
        ("g a", Msg::KeyAgenda),
        ("a", Msg::KeyAccept),
        ("w", Msg::KeyWrapUp),
        ("?", Msg::KeyHelp),
        ("Esc", Msg::KeyClose),
    ];
    html! {
        dialog #shortcuts aria-labelledby="shortcuts-title" {
            h2 #shortcuts-title { (lang.t(Msg::KeyTitle)) }
            dl.keys { @for (k, m) in keys { dt { kbd { (k) } } dd { (lang.t(m)) } } }
            form method="dialog" { button type="submit" { (lang.t(Msg::KeyClose)) } }
        }
    }
}

/// The hidden anti-forgery field of a form.
pub(crate) fn csrf_field(csrf: &str) -> Markup {
    html! { input type="hidden" name=(CSRF_FIELD) value=(csrf); }
}

/// The sign-in page.
pub(crate) fn sign_in(lang: Lang, token: &str, problem: Option<Msg>, email: &str) -> Markup {
    let body = html! {
        section.sign-in {
            h1 { (lang.t(Msg::SignIn)) }
            @if let Some(p) = problem { p.error role="alert" { (lang.t(p)) } }
            form method="post" action="/sign-in" {
                (csrf_field(token))
                label for="email" { (lang.t(Msg::Email)) }
                input #email type="email" name="email" autocomplete="username" required autofocus value=(email);
                label for="password" { (lang.t(Msg::Password)) }
                input #password type="password" name="password" autocomplete="current-password" required;
                button type="submit" { (lang.t(Msg::SignIn)) }
            }
        }
    };
    page(lang, lang.t(Msg::SignIn), None, body)
}

/// An error page with `status`.
pub(crate) fn failure(lang: Lang, status: StatusCode, msg: Msg) -> Response {
    let body = html! { p.error role="alert" { (lang.t(msg)) } p { a href="/" { (lang.t(Msg::Home)) } } };
    (status, page(lang, lang.t(msg), None, body)).into_response()
}

/// An instant in the tenant's zone.
pub(crate) fn when(at: DateTime<Utc>, zone: Tz) -> Markup {
    let local = at.with_timezone(&zone);
    html! { time datetime=(at.to_rfc3339()) { (local.format("%Y-%m-%d %H:%M")) } }
}

/// The label of a case status.
pub(crate) fn status(lang: Lang, s: CaseStatus) -> &'static str {
    lang.t(match s {
        CaseStatus::Draft => Msg::StatusDraft,
        CaseStatus::Open => Msg::StatusOpen,
        CaseStatus::Pending => Msg::StatusPending,
        CaseStatus::OnHold => Msg::StatusOnHold,
        CaseStatus::Resolved => Msg::StatusResolved,
        CaseStatus::Closed => Msg::StatusClosed,
    })
}

/// The label of a priority.
pub(crate) fn priority(lang: Lang, p: Priority) -> &'static str {
    match p.as_str() {
        "low" => lang.t(Msg::PriorityLow),
        "high" => lang.t(Msg::PriorityHigh),
        "urgent" => lang.t(Msg::PriorityUrgent),
        _ => lang.t(Msg::PriorityNormal),
    }
}

/// The core's alerts (GUI-2), in the rules' order: the severity in words (not only a
/// colour), the message, the suggestion. Nothing without alerts.
pub(crate) fn alerts(lang: Lang, alerts: &[Alert]) -> Markup {
    html! {
        @if !alerts.is_empty() {
            section.alerts aria-label=(lang.t(Msg::Alerts)) {
                @for a in alerts {
                    div class={ "alert " (severity_class(a.severity)) } role="alert" data-rule=(a.rule) {
                        span.badge.severity { (severity(lang, a.severity)) } " " span.message { (a.message) }
                        @if let Some(tip) = &a.suggestion { p.suggestion { (lang.t(Msg::Suggestion)) " " (tip) } }
                    }
                }
            }
        }
    }
}

/// The label of an alert's severity.
pub(crate) fn severity(lang: Lang, s: Severity) -> &'static str {
    lang.t(match s {
        Severity::Info => Msg::SeverityInfo,
        Severity::Warning => Msg::SeverityWarning,
        Severity::Critical => Msg::SeverityCritical,
    })
}

/// The class of an alert's severity (its colour).
fn severity_class(s: Severity) -> &'static str {
    match s {
        Severity::Info => "severity-info",
        Severity::Warning => "severity-warning",
        Severity::Critical => "severity-critical",
    }
}

/// What an identity shows: its kind and value.
pub(crate) fn identity(i: &crm_core::customer::Identity) -> (String, String) {
    let v = serde_json::to_value(i).unwrap_or_default();
    let kind = v.get("type").and_then(|k| k.as_str()).unwrap_or("id").to_owned();
    let value = ["number", "address", "handle", "value"]
        .iter()
        .find_map(|k| v.get(*k).and_then(|x| x.as_str()))
        .unwrap_or_default()
        .to_owned();
    (kind, value)
}

/// The sections of a customer card (the screen pop and the card page share them).
pub(crate) fn card_sections(lang: Lang, card: &CustomerCard, zone: Tz) -> Markup {
    html! {
        (alerts(lang, &card.alerts))
        section.identities {
            h3 { (lang.t(Msg::Identities)) }
            ul { @for i in card.customer.identities() {
                @let (kind, value) = identity(i);
                li { span.kind { (kind) } " " (value) }
            } }
        }
        section.cases {
            h3 { (lang.t(Msg::OpenCases)) }
            @if card.open_cases.is_empty() { p.empty { (lang.t(Msg::NoOpenCases)) } }
            ul { @for c in &card.open_cases {
                li { a href={ "/console/cases/" (c.id) } { (c.number) " · " (c.subject) }
                     " " span.badge { (status(lang, c.status)) } " " span.badge { (priority(lang, c.priority)) } }
            } }
        }
        section.tasks {
            h3 { (lang.t(Msg::Tasks)) }
            @if card.pending_tasks.is_empty() { p.empty { (lang.t(Msg::NoTasks)) } }
            ul { @for t in &card.pending_tasks { li { (when(t.scheduled_at(), zone)) " " (t.subject()) } } }
        }
        section.interactions {
            h3 { (lang.t(Msg::LastInteractions)) }
            @if card.last_interactions.is_empty() { p.empty { (lang.t(Msg::NoInteractions)) } }
            ul { @for i in &card.last_interactions {
                li { a href={ "/console/interactions/" (i.id) } { (when(i.offered_at, zone)) " " (i.channel) } }
            } }
        }
    }
}
