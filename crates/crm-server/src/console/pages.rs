//! The console's home page (the screen-pop slot, reserved so a pop shifts nothing, and the
//! customer search as-you-type), the search's result fragment and the screen pop's card
//! fragment the console's script loads when the event stream announces a `screen_pop`.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono_tz::Tz;
use maud::html;
use serde::Deserialize;

use crm_core::access::Actor;
use crm_core::customer::CustomerQuery;
use crm_core::ids::InteractionId;
use crm_core::page::PageRequest;

use super::i18n::{Lang, Msg};
use super::session::SignedIn;
use super::views;
use crate::state::AppState;

/// The agent's time zone: their own when they chose one, else the tenant's (UTC when it
/// cannot be read).
pub(crate) async fn zone(st: &AppState, s: &SignedIn) -> Tz {
    match s.zone {
        Some(z) => z,
        None => tenant_zone(st, &s.actor).await,
    }
}

/// The tenant's time zone (UTC when it cannot be read).
pub(crate) async fn tenant_zone(st: &AppState, actor: &Actor) -> Tz {
    st.crm.tenant_settings(actor).await.map_or(Tz::UTC, |t| t.time_zone)
}

/// The page for a use case's refusal.
pub(crate) fn refusal(lang: Lang, error: crm_core::Error) -> Response {
    let problem = crate::problem::ApiError::from(error).to_problem();
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let msg = match status {
        StatusCode::NOT_FOUND => Msg::NotFound,
        StatusCode::FORBIDDEN => Msg::Forbidden,
        StatusCode::CONFLICT => Msg::Conflict,
        StatusCode::UNPROCESSABLE_ENTITY => Msg::Invalid,
        _ => Msg::Unavailable,
    };
    let body = html! {
        p.error role="alert" { (lang.t(msg)) }
        @if !problem.errors.is_empty() { ul.errors { @for e in &problem.errors { li { (e.field) ": " (e.reason) } } } }
        p { a href="/" { (lang.t(Msg::Home)) } }
    };
    (status, views::page(lang, lang.t(msg), None, body)).into_response()
}

/// `GET /`: the console's home. Not signed in: a browser (it accepts `text/html`) goes to
/// the sign-in page; any other client (curl, scripts) gets where to go as JSON: the
/// console, the API's docs and document, the probes.
pub(crate) async fn home(signed: Option<SignedIn>, headers: axum::http::HeaderMap) -> Response {
    let Some(s) = signed else {
        let browser = headers
            .get(axum::http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"));
        if browser {
            return axum::response::Redirect::to("/sign-in").into_response();
        }
        return front_door();
    };
    let lang = s.lang;
    let body = html! {
        section #pop-slot.pop-slot aria-live="polite" aria-label=(lang.t(Msg::IncomingCall)) {
            h2 { (lang.t(Msg::IncomingCall)) }
            div #pop { p.empty { (lang.t(Msg::WaitingForCalls)) } }
        }
        section.search {
            label for="search" { h2 { (lang.t(Msg::Search)) } }
            input #search type="search" name="q" autocomplete="off" placeholder=(lang.t(Msg::SearchHint))
                hx-get="/console/search" hx-trigger="input changed delay:200ms, search" hx-target="#results";
            p.hint { (lang.t(Msg::Shortcuts)) }
            div #results aria-live="polite" {}
        }
    };
    views::page(lang, lang.t(Msg::Home), Some(&s), body).into_response()
}

/// Where to go from `/`, for clients that are not browsers.
fn front_door() -> Response {
    let body = serde_json::json!({
        "name": "crm-server",
        "version": env!("CARGO_PKG_VERSION"),
        "console": "/sign-in",
        "docs": crate::app::DOCS_PATH,
        "openapi": crate::app::OPENAPI_PATH,
        "api": "/api/v1",
        "health": "/healthz",
        "ready": "/readyz",
        "metrics": "/metrics",
        "auth": "every /api/v1 call needs `Authorization: Bearer <token>`; the demo's administrator token is \
                 printed once on the first start, `crm-server token create` mints another",
    });
    ([(axum::http::header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

/// The search's query.
#[derive(Debug, Deserialize)]
pub(crate) struct SearchQuery {
    #[serde(default)]
    q: String,
}

/// What a free text searches by: an address with `@`, a phone number when it is mostly
/// digits, a name otherwise.
fn query_of(q: &str) -> Option<CustomerQuery> {
    let q = q.trim();
    if q.is_empty() {
        return None;
    }
    let digits = q.chars().filter(char::is_ascii_digit).count();
    let field = if q.contains('@') {
        "email"
    } else if digits >= 3 && digits * 2 >= q.chars().filter(|c| !c.is_whitespace()).count() {
        "phone"
    } else {
        "name"
    };
    serde_json::from_value(serde_json::json!({ field: q })).ok()
}

/// `GET /console/search?q=`: the matching customers (a fragment for htmx).
pub(crate) async fn search(State(st): State<AppState>, s: SignedIn, Query(q): Query<SearchQuery>) -> Response {
    let lang = s.lang;
    let Some(query) = query_of(&q.q) else { return html! {}.into_response() };
    let page = PageRequest::new(Some(10), None).unwrap_or_else(|_| PageRequest::first());
    match st.crm.search_customers(&s.actor, &query, &page).await {
        Ok(found) => html! {
            @if found.items.is_empty() { p.empty { (lang.t(Msg::NoResults)) } }
            ul.results { @for c in &found.items {
                li { a href={ "/console/customers/" (c.id) } { (c.name()) } " " span.muted { (c.account_number()) } }
            } }
        }
        .into_response(),
        // A query the core refuses (too short, say) finds nothing.
        Err(crm_core::Error::Validation(_)) => html! { p.empty { (lang.t(Msg::NoResults)) } }.into_response(),
        Err(e) => refusal(lang, e),
    }
}

/// `GET /console/pop/{interaction}`: the card of an incoming call's customer (a fragment
/// the script puts in the reserved slot).
pub(crate) async fn pop(State(st): State<AppState>, s: SignedIn, Path(id): Path<InteractionId>) -> Response {
    let lang = s.lang;
    let interaction = match st.crm.get_interaction(&s.actor, id).await {
        Ok(i) => i,
        Err(e) => return refusal(lang, e),
    };
    let Some(customer) = interaction.customer() else {
        return html! { p.empty { (lang.t(Msg::NoResults)) } }.into_response();
    };
    let zone = zone(&st, &s).await;
    // The alerts of this call (its channel and direction known), as the API's screen pop
    // has them; a failure to read them hides them rather than the card.
    let (card, alerts) =
        futures::join!(st.crm.customer_card(&s.actor, customer), st.crm.interaction_alerts(&s.actor, id));
    match card.map(|mut card| {
        card.alerts = alerts.unwrap_or_default();
        card
    }) {
        Ok(card) => html! {
            article.card.pop-card data-interaction=(id) {
                h3 { (card.customer.name()) " " span.muted { (card.customer.account_number()) } }
                (views::card_sections(lang, &card, zone))
                p {
                    a.button href={ "/console/customers/" (card.customer.id) } { (lang.t(Msg::OpenCard)) }
                    " " a.button.interaction href={ "/console/interactions/" (id) } { (lang.t(Msg::OpenInteraction)) }
                }
            }
        }
        .into_response(),
        Err(e) => refusal(lang, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_text_searches_by_what_it_looks_like() {
        let field = |q: &str| format!("{:?}", query_of(q));
        assert!(field("jeanne@example.com").contains(r#"email: Some("jeanne@example.com")"#));
        assert!(field("06 12 34").contains(r#"phone: Some("06 12 34")"#));
        assert!(field("Dupont").contains(r#"name: Some("Dupont")"#));
        assert!(query_of("  ").is_none());
    }
}
