//! The supervisors' outbox page: the dead external CRM pushes of the tenant (those that
//! ran out of retries), with their last error and a button that puts one back in the
//! queue. The permission (`admin.connectors`) is the core's, as in the API.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;

use crm_core::event::OutboxStatus;
use crm_core::ids::EventId;
use crm_core::page::PageRequest;

use super::i18n::Msg;
use super::pages::{refusal, zone};
use super::session::SignedIn;
use super::views::{self, csrf_field};
use crate::state::AppState;

/// `GET /console/outbox`: the dead pushes, newest first (one page of 100).
pub(crate) async fn outbox(State(st): State<AppState>, s: SignedIn) -> Response {
    let lang = s.lang;
    let page = PageRequest::new(Some(100), None).unwrap_or_else(|_| PageRequest::first());
    let dead = match st.crm.list_outbox(&s.actor, Some(OutboxStatus::Dead), None, &page).await {
        Ok(found) => found.items,
        Err(e) => return refusal(lang, e),
    };
    let zone = zone(&st, &s).await;
    let body = html! {
        section.outbox {
            h1 { (lang.t(Msg::Outbox)) }
            p.muted { (lang.t(Msg::DeadLetters)) }
            @if dead.is_empty() { p.empty { (lang.t(Msg::NoDeadLetters)) } }
            @else {
                table {
                    thead { tr {
                        th scope="col" { (lang.t(Msg::When)) }
                        th scope="col" { (lang.t(Msg::Topic)) }
                        th scope="col" { (lang.t(Msg::Attempts)) }
                        th scope="col" { (lang.t(Msg::LastError)) }
                        th scope="col" { span.visually-hidden { (lang.t(Msg::Requeue)) } }
                    } }
                    tbody { @for e in &dead {
                        tr {
                            td { (views::when(e.event.at, zone)) }
                            td { (serde_json::to_value(e.topic).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()) }
                            td { (e.attempts) }
                            td { (e.last_error.as_deref().unwrap_or("")) }
                            td { form method="post" action={ "/console/outbox/" (e.event.id) "/requeue" } {
                                (csrf_field(&s.csrf))
                                button type="submit" { (lang.t(Msg::Requeue)) }
                            } }
                        }
                    } }
                }
            }
        }
    };
    views::page(lang, lang.t(Msg::Outbox), Some(&s), body).into_response()
}

/// `POST /console/outbox/{id}/requeue`: puts a dead push back in the queue.
pub(crate) async fn requeue(State(st): State<AppState>, s: SignedIn, Path(id): Path<EventId>) -> Response {
    match st.crm.requeue_outbox(&s.actor, id).await {
        Ok(()) => {
            tracing::info!(event = %id, agent = %s.actor.agent, "outbox entry requeued from the console");
            Redirect::to("/console/outbox").into_response()
        }
        Err(e) => refusal(s.lang, e),
    }
}
