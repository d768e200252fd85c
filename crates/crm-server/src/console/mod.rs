//! The agents' console (issue 32, ADR 0024): server-rendered HTML (maud) with htmx and one
//! small script, served by this binary at `/`. Sign-in with a password opens a server-side
//! session (`session.rs`); every page acts through the same [`crm_core::access::Actor`]
//! the API uses, so the core decides every permission. Pages: the home page with the
//! screen-pop slot and the customer search (`pages.rs`), the customer card and the case
//! (`records.rs`), merging duplicate cards with a preview and undo (`merge.rs`), the case
//! list with filters, sort, paging and each agent's columns (`cases.rs`), the agent's task
//! agenda and the live reminder notices (`agenda.rs`), the interaction panel
//! (`interaction.rs`), the knowledge base and the standard responses, searched as the
//! agent types and inserted into the scratch pad or a follow-up (`knowledge.rs`,
//! `responses.rs`, `assist.rs`), the attachments of a case (`attachments.rs`), interactive
//! scripts on the interaction panel (`scripts.rs`), the notify mail of a case (`notify.rs`), the
//! outbound agent's call lists (`calls.rs`), the agent's language and time zone (`preferences.rs`), the
//! supervisors' outbox of dead pushes (`outbox.rs`), the administration (`admin/`: agents,
//! groups and their members, roles, API tokens, custom field definitions, the disposition
//! catalogue, the tenant's settings, invitation links (`invitation.rs`); the navigation shows it to agents with an `admin.*`
//! permission, and the core refuses the others with a 403 page); strings in English and French
//! (`i18n.rs`); assets embedded under hashed names (`assets.rs`). No inline script or
//! style: the Content-Security-Policy says so.

mod admin;
mod agenda;
mod assets;
mod assist;
mod attachments;
mod calls;
mod cases;
pub mod i18n;
mod interaction;
mod invitation;
mod knowledge;
mod merge;
mod notify;
mod outbox;
mod pages;
mod preferences;
mod records;
mod responses;
mod scripts;
pub mod session;
mod views;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
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
        .route("/invitation/{token}", get(invitation::open).post(invitation::accept))
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
        // Uploads stream past the form body limit: the core counts them against the
        // attachment limits, like the API's.
        .route("/console/cases/{id}/attachments", post(attachments::upload).layer(DefaultBodyLimit::disable()))
        .route("/console/cases/{id}/attachments/{attachment}", get(attachments::download))
        .route("/console/cases/{id}/notify", get(notify::form).post(notify::send))
        .route("/console/cases/{id}/attachments/{attachment}/delete", post(attachments::delete))
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
        .route("/console/knowledge", get(knowledge::search))
        .route("/console/knowledge/{id}", get(knowledge::article))
        .route("/console/responses", get(responses::search))
        .route("/console/responses/{id}", get(responses::preview))
        .route("/console/responses/{id}/favourite", post(responses::favourite))
        .route("/console/interactions/{id}/scripts", post(scripts::start))
        .route("/console/script-runs/{run}/answers", post(scripts::answer))
        .route("/console/calls", get(calls::lists))
        .route("/console/calls/{list}/next", post(calls::next))
        .route("/console/calls/{list}/entries/{entry}", get(calls::entry))
        .route("/console/calls/{list}/entries/{entry}/outcome", post(calls::outcome))
        .route("/console/preferences", get(preferences::preferences).post(preferences::save))
        .route("/console/outbox", get(outbox::outbox))
        .route("/console/outbox/{id}/requeue", post(outbox::requeue))
        .route("/console/admin", get(admin::index))
        .route("/console/admin/agents", get(admin::agents::list).post(admin::agents::create))
        .route("/console/admin/agents/{id}", get(admin::agents::edit).post(admin::agents::save))
        .route("/console/admin/agents/{id}/password", post(admin::agents::set_password))
        .route("/console/admin/agents/{id}/invitation", post(admin::agents::invite))
        .route("/console/admin/groups", get(admin::groups::list).post(admin::groups::create))
        .route("/console/admin/groups/{id}", get(admin::groups::edit).post(admin::groups::save))
        .route("/console/admin/groups/{id}/delete", post(admin::groups::delete))
        .route("/console/admin/groups/{id}/members", post(admin::groups::add_member))
        .route("/console/admin/groups/{id}/members/{agent}/remove", post(admin::groups::remove_member))
        .route("/console/admin/roles", get(admin::roles::list).post(admin::roles::create))
        .route("/console/admin/roles/{id}", get(admin::roles::edit).post(admin::roles::save))
        .route("/console/admin/roles/{id}/delete", post(admin::roles::delete))
        .route("/console/admin/tokens", get(admin::tokens::list).post(admin::tokens::create))
        .route("/console/admin/tokens/{id}/revoke", post(admin::tokens::revoke))
        .route("/console/admin/fields", get(admin::fields::list).post(admin::fields::create))
        .route("/console/admin/fields/{id}", get(admin::fields::edit).post(admin::fields::save))
        .route("/console/admin/fields/{id}/retire", post(admin::fields::retire))
        .route("/console/admin/fields/{id}/delete", post(admin::fields::delete))
        .route("/console/admin/dispositions", get(admin::settings::dispositions).post(admin::settings::put_disposition))
        .route("/console/admin/tenant", get(admin::settings::tenant).post(admin::settings::save_tenant))
        .layer(middleware::from_fn_with_state(state, session::resolve))
        .route("/assets/{name}", get(assets::serve))
        .layer(middleware::from_fn(security_headers))
}

/// The security headers of every console answer.
async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    // A downloaded file brings its own, stricter policy (a sandbox).
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}
