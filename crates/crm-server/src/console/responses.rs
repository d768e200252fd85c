//! Standard responses in the console (KNO-4): the search (as-you-type from the
//! interaction panel and the case page, or its own page, optionally among the agent's
//! favourites), a star to add or remove a favourite, and a response's preview rendered by
//! the core for the interaction or the case the agent came from (its placeholders filled
//! from the customer, the case and the agent), with the ways to insert it (`assist.rs`).
//! A placeholder the context cannot fill (`{{case.number}}` with no case) is the core's
//! refusal, shown on the preview (422) with the response's text as written.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, PreEscaped, html};
use serde::Deserialize;

use crm_core::error::FieldError;
use crm_core::ids::{CaseId, InteractionId, ResponseId};
use crm_core::knowledge::compose::html_to_text;
use crm_core::knowledge::response::{RenderRequest, ResponseFilter, StandardResponse};
use crm_core::page::PageRequest;

use super::assist::{self, Context};
use super::i18n::{Lang, Msg};
use super::pages::refusal;
use super::session::SignedIn;
use super::views::{self, csrf_field};
use crate::state::AppState;

/// How many responses a search shows.
const SHOWN: u32 = 20;

/// The search's query, whether to list favourites only, and where the agent came from.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    favourites: Option<String>,
    #[serde(default)]
    interaction: Option<InteractionId>,
    #[serde(default)]
    case: Option<CaseId>,
}

impl SearchQuery {
    fn ctx(&self) -> Context {
        Context { interaction: self.interaction, case: self.case }
    }

    fn favourites_only(&self) -> bool {
        self.favourites.as_deref().is_some_and(|f| matches!(f, "true" | "on" | "1"))
    }

    /// The query as pairs: the search's address, to come back to it.
    fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = self.ctx().pairs();
        if !self.q.is_empty() {
            pairs.push(("q", self.q.clone()));
        }
        if self.favourites_only() {
            pairs.push(("favourites", "true".to_owned()));
        }
        pairs
    }
}

/// A refused star: which response, why.
struct Problem {
    response: Option<ResponseId>,
    error: FieldError,
}

/// The responses matching the query, and which of them are the agent's favourites.
async fn find(
    st: &AppState,
    s: &SignedIn,
    q: &SearchQuery,
) -> Result<(Vec<StandardResponse>, Vec<ResponseId>), crm_core::Error> {
    let page = PageRequest::new(Some(SHOWN), None).unwrap_or_else(|_| PageRequest::first());
    let text = Some(q.q.as_str()).filter(|t| !t.trim().is_empty());
    let filter = ResponseFilter::default().with_text(text)?;
    let found = st.crm.list_responses(&s.actor, filter, q.favourites_only(), &page).await?;
    let all = PageRequest::new(Some(crm_core::page::MAX_LIMIT), None).unwrap_or_else(|_| PageRequest::first());
    let favourites = if q.favourites_only() {
        found.items.iter().map(|r| r.id).collect()
    } else {
        let favs = st.crm.list_responses(&s.actor, ResponseFilter::default(), true, &all).await?;
        favs.items.iter().map(|r| r.id).collect()
    };
    Ok((found.items, favourites))
}

/// The list of responses found, each with its star and its preview.
fn results(
    lang: Lang,
    s: &SignedIn,
    q: &SearchQuery,
    found: &[StandardResponse],
    favourites: &[ResponseId],
    problem: Option<&Problem>,
) -> Markup {
    let ctx = q.ctx();
    html! {
        @if found.is_empty() { p.empty { (lang.t(Msg::NoResponses)) } }
        ul.results.responses { @for r in found {
            @let favourite = favourites.contains(&r.id);
            @let error = problem.filter(|p| p.response == Some(r.id));
            @let error_id = format!("favourite-{}-error", r.id);
            li data-response=(r.id) {
                a href=(assist::address(&format!("/console/responses/{}", r.id), &ctx.pairs())) { (r.title) }
                @if let Some(code) = &r.shortcut { " " code.shortcut { (code) } }
                @if favourite { " " span.badge.favourite { (lang.t(Msg::IsFavourite)) } }
                " "
                (star(lang, s, r.id, favourite, &q.pairs(), error.map(|_| error_id.as_str())))
                @if let Some(p) = error { p.error.field-error id=(error_id) role="alert" { (p.error.field) ": " (p.error.reason) } }
            }
        } }
    }
}

/// The form that adds or removes a favourite, then comes back to `back` (the query).
fn star(
    lang: Lang,
    s: &SignedIn,
    id: ResponseId,
    favourite: bool,
    back: &[(&str, String)],
    error_id: Option<&str>,
) -> Markup {
    html! {
        form.inline.star method="post" action={ "/console/responses/" (id) "/favourite" } {
            (csrf_field(&s.csrf))
            input type="hidden" name="favourite" value=(if favourite { "false" } else { "true" });
            @for (k, v) in back { input type="hidden" name={ "back_" (k) } value=(v); }
            button type="submit" aria-pressed=(if favourite { "true" } else { "false" }) aria-describedby=[error_id] {
                (lang.t(if favourite { Msg::Unfavourite } else { Msg::Favourite }))
            }
        }
    }
}

/// `GET /console/responses?q=&favourites=`: the search's page, or only its results for
/// htmx. A refused query answers 422 with the reason under the field.
pub(crate) async fn search(
    State(st): State<AppState>,
    s: SignedIn,
    headers: HeaderMap,
    Query(q): Query<SearchQuery>,
) -> Response {
    let fragment = headers.contains_key("hx-request");
    listing(&st, &s, &q, None, fragment).await
}

async fn listing(st: &AppState, s: &SignedIn, q: &SearchQuery, problem: Option<Problem>, fragment: bool) -> Response {
    let lang = s.lang;
    let (found, favourites, problem) = match find(st, s, q).await {
        Ok((found, favourites)) => (found, favourites, problem),
        Err(e) => match assist::field_error_of(&e) {
            Some(error) => (Vec::new(), Vec::new(), Some(Problem { response: None, error })),
            None => return refusal(lang, e),
        },
    };
    let status = if problem.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let query_error = problem.as_ref().filter(|p| p.response.is_none()).map(|p| &p.error);
    let (message, error_id) = assist::search_error(query_error, "responses-q");
    if fragment {
        return (
            status,
            html! { @if let Some(m) = message { (m) } (results(lang, s, q, &found, &favourites, problem.as_ref())) },
        )
            .into_response();
    }
    let ctx = q.ctx();
    let body = html! {
        section.responses {
            h1 { (lang.t(Msg::Responses)) }
            @if let Some((href, label)) = ctx.back() { p { a href=(href) { (lang.t(label)) } } }
            form.assist-search role="search" method="get" action="/console/responses" {
                (ctx.hidden())
                label for="responses-q" { (lang.t(Msg::ResponseSearch)) }
                input #responses-q type="search" name="q" value=(q.q) autocomplete="off" autofocus
                    hx-get="/console/responses" hx-include="closest form" hx-trigger="input changed delay:250ms, search"
                    hx-target="#responses-results" aria-controls="responses-results"
                    aria-invalid=[query_error.map(|_| "true")] aria-describedby=[error_id.as_deref()];
                " "
                input #responses-favourites type="checkbox" name="favourites" value="true" checked[q.favourites_only()]
                    hx-get="/console/responses" hx-include="closest form" hx-target="#responses-results";
                label.inline for="responses-favourites" { (lang.t(Msg::FavouritesOnly)) }
                " " button type="submit" { (lang.t(Msg::Find)) }
                @if let Some(m) = message { (m) }
            }
            div.assist-results #responses-results aria-live="polite" {
                (results(lang, s, q, &found, &favourites, problem.as_ref()))
            }
        }
    };
    (status, views::page(lang, lang.t(Msg::Responses), Some(s), body)).into_response()
}

/// `GET /console/responses/{id}`: the response rendered for where the agent came from,
/// with the ways to insert it.
pub(crate) async fn preview(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<ResponseId>,
    Query(ctx): Query<Context>,
) -> Response {
    let lang = s.lang;
    let response = match st.crm.get_response(&s.actor, id).await {
        Ok(r) => r,
        Err(e) => return refusal(lang, e),
    };
    let target = match target(&st, &s, &ctx).await {
        Ok(t) => t,
        Err(e) => return refusal(lang, e),
    };
    let (rendered, error) = match st.crm.render_response(&s.actor, id, &target).await {
        Ok(r) => (Some(r), None),
        Err(e) => match assist::field_error_of(&e) {
            Some(error) => (None, Some(error)),
            None => return refusal(lang, e),
        },
    };
    let favourites = PageRequest::new(Some(crm_core::page::MAX_LIMIT), None).unwrap_or_else(|_| PageRequest::first());
    let favourite = st
        .crm
        .list_responses(&s.actor, ResponseFilter::default(), true, &favourites)
        .await
        .is_ok_and(|p| p.items.iter().any(|r| r.id == id));
    let inserts = if rendered.is_some() { ctx.inserts(&s.actor, ("response", id.to_string())) } else { Vec::new() };
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let body = html! {
        article.standard-response lang=(response.language) {
            h1 { (response.title) }
            p.meta {
                span.badge { (response.language) }
                @for t in &response.tags { " " span.badge.tag { (t) } }
                @if let Some(code) = &response.shortcut { " " (lang.t(Msg::Shortcut)) " " code.shortcut { (code) } }
                " " (star(lang, &s, id, favourite, &ctx.pairs(), None))
            }
            h2 { (lang.t(Msg::Preview)) }
            @match (&rendered, &error) {
                (Some(r), _) => div.response-body #response-preview { (PreEscaped(&r.html)) },
                (None, Some(e)) => {
                    p.error.field-error #response-preview-error role="alert" { (e.field) ": " (e.reason) }
                    pre.response-template aria-describedby="response-preview-error" { (html_to_text(&response.body)) }
                },
                (None, None) => {},
            }
        }
        @if !inserts.is_empty() {
            section.insert aria-labelledby="insert-title" {
                h2 #insert-title { (lang.t(Msg::Insert)) }
                ul.inserts { @for (href, label) in &inserts { li { a.button href=(href) { (lang.t(*label)) } } } }
            }
        }
        p {
            a href=(assist::address("/console/responses", &ctx.pairs())) { (lang.t(Msg::Responses)) }
            @if let Some((href, label)) = ctx.back() { " · " a href=(href) { (lang.t(label)) } }
        }
    };
    (status, views::page(lang, &response.title, Some(&s), body)).into_response()
}

/// What a response is rendered for: the interaction (the core finds its customer and case),
/// or the case and its customer.
async fn target(st: &AppState, s: &SignedIn, ctx: &Context) -> Result<RenderRequest, crm_core::Error> {
    let mut target = RenderRequest { customer: None, case: ctx.case, interaction: ctx.interaction };
    if let (None, Some(case)) = (ctx.interaction, ctx.case) {
        target.customer = Some(st.crm.get_case(&s.actor, case).await?.customer());
    }
    Ok(target)
}

/// The star's form: the new state and the search to come back to.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct StarForm {
    #[serde(default)]
    favourite: String,
    #[serde(default)]
    back_q: String,
    #[serde(default)]
    back_favourites: Option<String>,
    #[serde(default)]
    back_interaction: Option<InteractionId>,
    #[serde(default)]
    back_case: Option<CaseId>,
}

/// `POST /console/responses/{id}/favourite`: adds or removes a favourite, then the search
/// again; a refusal (more than 500 favourites) is shown next to the response's star.
pub(crate) async fn favourite(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<ResponseId>,
    Form(form): Form<StarForm>,
) -> Response {
    let q = SearchQuery {
        q: form.back_q,
        favourites: form.back_favourites,
        interaction: form.back_interaction,
        case: form.back_case,
    };
    let done = match form.favourite.as_str() {
        "true" => st.crm.add_favourite(&s.actor, id).await,
        "false" => st.crm.remove_favourite(&s.actor, id).await,
        other => Err(FieldError::new("favourite", format!("must be true or false, got {other:?}")).into()),
    };
    match done {
        Ok(()) => Redirect::to(&assist::address("/console/responses", &q.pairs())).into_response(),
        Err(e) => match assist::field_error_of(&e) {
            Some(error) => listing(&st, &s, &q, Some(Problem { response: Some(id), error }), false).await,
            None => refusal(s.lang, e),
        },
    }
}
