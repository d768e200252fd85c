//! The agents' console (issue 32, ADR 0024): server-rendered HTML (maud) with htmx and one
//! small script, served by this binary at `/`. Sign-in with a password opens a server-side
//! session (`session.rs`); every page acts through the same [`crm_core::access::Actor`]
//! the API uses, so the core decides every permission. Pages: the home page with the
//! screen-pop slot and the customer search (`pages.rs`), the customer card and the case
//! (`records.rs`), merging duplicate cards with a preview and undo (`merge.rs`), the case
//! list with filters, sort, paging and each agent's columns (`cases.rs`), the agent's task
//! agenda and the live reminder notices (`agenda.rs`), the interaction panel
//! (`interaction.rs`), the agent's language and time zone (`preferences.rs`), the
//! supervisors' outbox of dead pushes (`outbox.rs`); strings in English and French
//! (`i18n.rs`); assets embedded under hashed names (`assets.rs`). No inline script or
//! style: the Content-Security-Policy says so.

mod agenda;
mod assets;
mod cases;
pub mod i18n;
mod interaction;
mod merge;
mod outbox;
mod pages;
mod preferences;
mod records;
pub mod session;
mod views;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};

use crate::state::AppState;

pub use session::{ConsoleSettings, ConsoleState, hash_password, verify_password};

/// The Content-Security-Policy of every console answer: nothing inline, nothing from
/// elsewhere.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                       connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; \
                       object-src 'none'";

/// The console's routes (`/`, `/sign-in`, `/console/…`, `/assets/…`).
pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(pages::home))
        .route("/sign-in", get(session::sign_in_page).post(session::sign_in))
        .route("/sign-out", post(session::sign_out))
        .route("/console/search", get(pages::search))
        .route("/console/pop/{interaction}", get(pages::pop))
        .route("/console/customers/{id}", get(records::customer).post(records::edit_customer))
        .route("/console/customers/{id}/cases", post(records::create_case))
        .route("/console/customers/{id}/duplicates", get(merge::duplicates))
        .route("/console/customers/{id}/merge", get(merge::preview).post(merge::merge))
        .route("/console/merges/{id}/undo", post(merge::undo))
        .route("/console/cases", get(cases::list))
        .route("/console/cases/columns", post(cases::save_columns))
        .route("/console/cases/{id}", get(records::case))
        .route("/console/cases/{id}/follow-ups", post(records::add_follow_up))
        .route("/console/cases/{id}/status", post(records::change_status))
        .route("/console/agenda", get(agenda::agenda))
        .route("/console/tasks/{id}/complete", post(agenda::complete))
        .route("/console/tasks/{id}/snooze", post(agenda::snooze))
        .route("/console/tasks/{id}/reminder", get(agenda::reminder))
        .route("/console/interactions/{id}", get(interaction::panel))
        .route("/console/interactions/{id}/actions", post(interaction::act))
        .route("/console/interactions/{id}/disposition", post(interaction::dispose))
        .route("/console/interactions/{id}/notes", post(interaction::add_note))
        .route("/console/interactions/{id}/notes/{note}/copy", post(interaction::copy_note))
        .route("/console/interactions/{id}/links", post(interaction::link_case))
        .route("/console/preferences", get(preferences::preferences).post(preferences::save))
        .route("/console/outbox", get(outbox::outbox))
        .route("/console/outbox/{id}/requeue", post(outbox::requeue))
        .layer(middleware::from_fn_with_state(state, session::resolve))
        .route("/assets/{name}", get(assets::serve))
        .layer(middleware::from_fn(security_headers))
}

/// The security headers of every console answer.
async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}
