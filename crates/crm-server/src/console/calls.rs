//! Call lists for outbound agents (OUT-1 in the console): the active lists the agent is
//! assigned to, "next contact" (the core's `next_contact` claims the next eligible entry
//! and leases it to the agent: preview dialling), the entry (who, which number, the
//! import's data, attempts so far) and its outcome form: a code of the list, the callback
//! time for a callback (typed in the agent's zone), and the campaign's qualification
//! questions. The core checks everything: a refused value is shown next to its field (422);
//! the form carries the entry's version, and an entry changed since (its lease lost, a
//! colleague's outcome) is a 409 with the entry as it is now.

use std::collections::BTreeMap;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{NaiveDateTime, TimeZone as _};
use maud::{Markup, html};
use serde::Deserialize;

use crm_core::access::Permission;
use crm_core::error::{Conflict, FieldError};
use crm_core::ids::{CallListEntryId, CallListId};
use crm_core::outbound::{CallList, QualificationField, QualificationKind};

use super::i18n::{Lang, Msg};
use super::pages::{refusal, zone};
use super::session::SignedIn;
use super::views::{self, csrf_field};
use crate::state::AppState;

/// The lists page's query: the outcome just recorded, or nothing to call.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ListsQuery {
    #[serde(default)]
    recorded: Option<String>,
}

/// The active lists the actor is assigned to, with their campaign's name.
async fn my_lists(st: &AppState, s: &SignedIn) -> Result<Vec<(String, CallList)>, crm_core::Error> {
    let campaigns = st.crm.campaigns(&s.actor).await?;
    let lists = futures::future::try_join_all(campaigns.iter().map(|c| st.crm.call_lists(&s.actor, c.id))).await?;
    Ok(campaigns
        .iter()
        .zip(lists)
        .flat_map(|(c, lists)| lists.into_iter().map(move |l| (c.name.clone(), l)))
        .filter(|(_, l)| l.active && l.assignment.includes(&s.actor))
        .collect())
}

/// `GET /console/calls`: the agent's call lists, each with its "next contact" button.
pub(crate) async fn lists(State(st): State<AppState>, s: SignedIn, Query(q): Query<ListsQuery>) -> Response {
    if let Err(e) = s.actor.require(Permission::InteractionHandle) {
        return refusal(s.lang, e);
    }
    lists_page(&st, &s, q.recorded.as_deref().map(Notice::Recorded), StatusCode::OK).await
}

/// What the lists page says above them.
enum Notice<'a> {
    Recorded(&'a str),
    Nothing,
    Refused(String),
}

async fn lists_page(st: &AppState, s: &SignedIn, notice: Option<Notice<'_>>, status: StatusCode) -> Response {
    let lang = s.lang;
    let found = match my_lists(st, s).await {
        Ok(found) => found,
        Err(e) => return refusal(lang, e),
    };
    let body = html! {
        section.calls {
            h1 { (lang.t(Msg::CallLists)) }
            @match notice {
                Some(Notice::Recorded(code)) => p.notice role="status" { (lang.t(Msg::OutcomeRecorded)) " " code { (code) } },
                Some(Notice::Nothing) => p.notice #nothing-to-call role="status" { (lang.t(Msg::NothingToCall)) },
                Some(Notice::Refused(reason)) => p.error role="alert" { (reason) },
                None => {},
            }
            @if found.is_empty() { p.empty { (lang.t(Msg::NoCallLists)) } }
            ul.call-lists { @for (campaign, l) in &found {
                li data-list=(l.id) {
                    strong { (l.name) } " " span.muted { (campaign) }
                    form.inline method="post" action={ "/console/calls/" (l.id) "/next" } {
                        (csrf_field(&s.csrf))
                        button type="submit" aria-label={ (lang.t(Msg::NextContact)) ": " (l.name) } { (lang.t(Msg::NextContact)) }
                    }
                }
            } }
        }
    };
    (status, views::page(lang, lang.t(Msg::CallLists), Some(s), body)).into_response()
}

/// `POST /console/calls/{list}/next`: claims the next contact, then its page.
pub(crate) async fn next(State(st): State<AppState>, s: SignedIn, Path(list): Path<CallListId>) -> Response {
    match st.crm.next_contact(&s.actor, list).await {
        Ok(Some(entry)) => Redirect::to(&format!("/console/calls/{list}/entries/{}", entry.id)).into_response(),
        Ok(None) => lists_page(&st, &s, Some(Notice::Nothing), StatusCode::OK).await,
        Err(crm_core::Error::Conflict(Conflict::State(reason))) => {
            lists_page(&st, &s, Some(Notice::Refused(reason)), StatusCode::CONFLICT).await
        }
        Err(e) => refusal(s.lang, e),
    }
}

/// `GET /console/calls/{list}/entries/{entry}`: the contact and its outcome form.
pub(crate) async fn entry(
    State(st): State<AppState>,
    s: SignedIn,
    Path((list, id)): Path<(CallListId, CallListEntryId)>,
) -> Response {
    entry_page(&st, &s, list, id, &OutcomeForm::default(), &[], None, StatusCode::OK).await
}

#[allow(clippy::too_many_arguments)] // one page and what the refused form brings back
async fn entry_page(
    st: &AppState,
    s: &SignedIn,
    list: CallListId,
    id: CallListEntryId,
    typed: &OutcomeForm,
    errors: &[FieldError],
    conflict: Option<String>,
    status: StatusCode,
) -> Response {
    let lang = s.lang;
    let (entry, calls) =
        match futures::try_join!(st.crm.entry_of_list(&s.actor, list, id), st.crm.get_call_list(&s.actor, list)) {
            Ok(found) => found,
            Err(e) => return refusal(lang, e),
        };
    let (campaign, customer) = match futures::try_join!(
        st.crm.get_campaign(&s.actor, calls.campaign),
        st.crm.get_customer(&s.actor, entry.customer)
    ) {
        Ok(found) => found,
        Err(e) => return refusal(lang, e),
    };
    let zone = zone(st, s).await;
    let error_of = |field: &str| errors.iter().find(|e| e.field == field);
    let other_errors: Vec<&FieldError> = errors
        .iter()
        .filter(|e| !matches!(e.field.as_str(), "disposition" | "callback_at") && !e.field.starts_with("answers."))
        .collect();
    let chosen =
        if typed.disposition.is_empty() { entry.last_disposition().unwrap_or_default() } else { &typed.disposition };
    let body = html! {
        section.call-entry {
            h1 { (customer.name()) " " span.muted { (calls.name) } }
            @if let Some(reason) = &conflict { p.error.conflict role="alert" { (lang.t(Msg::EntryConflict)) " " (reason) } }
            @if !other_errors.is_empty() { ul.errors role="alert" { @for e in &other_errors { li { (e.field) ": " (e.reason) } } } }
            dl.facts {
                dt { (lang.t(Msg::Phone)) } dd { a #entry-phone href={ "tel:" (entry.phone.as_e164()) } { (entry.phone.as_e164()) } }
                dt { (lang.t(Msg::Attempts)) } dd { (entry.attempts()) " / " (calls.max_attempts) }
                @if let Some(d) = entry.last_disposition() { dt { (lang.t(Msg::LastOutcome)) } dd { code { (d) } } }
                @for (k, v) in &entry.custom { dt { (k) } dd { (v.as_str().map_or_else(|| v.to_string(), str::to_owned)) } }
            }
            p { a href={ "/console/customers/" (entry.customer) } { (lang.t(Msg::OpenCard)) } " · " a href="/console/calls" { (lang.t(Msg::CallLists)) } }
            form.outcome method="post" action={ "/console/calls/" (list) "/entries/" (id) "/outcome" } {
                (csrf_field(&s.csrf))
                input type="hidden" name="version" value=(entry.version());
                (field(lang, Msg::Outcome, "disposition", error_of("disposition"), |invalid, described| html! {
                    select #disposition name="disposition" required aria-invalid=[invalid] aria-describedby=[described] {
                        option value="" { "—" }
                        @for o in &calls.outcomes { option value=(o.code) selected[o.code == chosen] { (o.code) } }
                    }
                }))
                (field(lang, Msg::CallbackAt, "callback_at", error_of("callback_at"), |invalid, described| html! {
                    input #callback_at type="datetime-local" name="callback_at" value=(typed.callback_at)
                        aria-invalid=[invalid] aria-describedby={ "callback-hint" @if let Some(d) = described { " " (d) } };
                    p.hint #callback-hint { (lang.t(Msg::CallbackHint)) " " (zone.name()) }
                }))
                div {
                    input #same_agent type="checkbox" name="same_agent" value="on" checked[typed.same_agent.is_some()];
                    label.inline for="same_agent" { (lang.t(Msg::SameAgent)) }
                }
                @for q in &campaign.qualification {
                    @let name = format!("answers.{}", q.key);
                    (field_labelled(&q.label, &name, error_of(&name), |invalid, described| question(lang, q, &name, typed.answers.get(&q.key), invalid, described)))
                }
                button type="submit" { (lang.t(Msg::RecordOutcome)) }
            }
        }
    };
    (status, views::page(lang, customer.name(), Some(s), body)).into_response()
}

/// A labelled control with its error under it.
fn field(
    lang: Lang,
    label: Msg,
    name: &str,
    error: Option<&FieldError>,
    control: impl Fn(Option<&str>, Option<&str>) -> Markup,
) -> Markup {
    field_labelled(lang.t(label), name, error, control)
}

fn field_labelled(
    label: &str,
    name: &str,
    error: Option<&FieldError>,
    control: impl Fn(Option<&str>, Option<&str>) -> Markup,
) -> Markup {
    let id = name.replace('.', "-");
    let error_id = format!("{id}-error");
    html! {
        div.control {
            label for=(id) { (label) }
            (control(error.map(|_| "true"), error.map(|_| error_id.as_str())))
            @if let Some(e) = error { p.error.field-error id=(error_id) role="alert" { (e.field) ": " (e.reason) } }
        }
    }
}

/// A qualification question's control, by its kind.
fn question(
    lang: Lang,
    q: &QualificationField,
    name: &str,
    typed: Option<&String>,
    invalid: Option<&str>,
    described: Option<&str>,
) -> Markup {
    let id = name.replace('.', "-");
    let typed = typed.map_or("", String::as_str);
    html! {
        @match q.kind {
            QualificationKind::Text => input id=(id) type="text" name=(name) value=(typed) aria-invalid=[invalid] aria-describedby=[described];,
            QualificationKind::Number => input id=(id) type="number" step="any" name=(name) value=(typed) aria-invalid=[invalid] aria-describedby=[described];,
            QualificationKind::YesNo => select id=(id) name=(name) aria-invalid=[invalid] aria-describedby=[described] {
                option value="" { "—" }
                option value="yes" selected[typed == "yes"] { (lang.t(Msg::Yes)) }
                option value="no" selected[typed == "no"] { (lang.t(Msg::No)) }
            },
            QualificationKind::Choice => select id=(id) name=(name) aria-invalid=[invalid] aria-describedby=[described] {
                option value="" { "—" }
                @for o in &q.options { option value=(o) selected[typed == o] { (o) } }
            },
        }
    }
}

/// The outcome form, as typed.
#[derive(Clone, Debug, Default)]
pub(crate) struct OutcomeForm {
    version: String,
    disposition: String,
    callback_at: String,
    same_agent: Option<String>,
    answers: BTreeMap<String, String>,
}

impl OutcomeForm {
    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut f = OutcomeForm::default();
        for (k, v) in pairs {
            match k.as_str() {
                "version" => f.version = v,
                "disposition" => f.disposition = v,
                "callback_at" => f.callback_at = v,
                "same_agent" => f.same_agent = Some(v),
                _ => {
                    if let Some(key) = k.strip_prefix("answers.") {
                        f.answers.insert(key.to_owned(), v);
                    }
                }
            }
        }
        f
    }

    /// The core's input: the callback read in the agent's zone, the answers typed by their
    /// question's kind (an empty one left out).
    fn input(
        &self,
        zone: chrono_tz::Tz,
        questions: &[QualificationField],
    ) -> Result<crm_core::outbound::OutcomeInput, FieldError> {
        let callback_at = match self.callback_at.trim() {
            "" => None,
            t => {
                let local = NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M")
                    .map_err(|_| FieldError::new("callback_at", format!("{t:?} is not a date and time")))?;
                let at = zone
                    .from_local_datetime(&local)
                    .earliest()
                    .ok_or_else(|| FieldError::new("callback_at", format!("{t} does not exist in {}", zone.name())))?;
                Some(at.with_timezone(&chrono::Utc))
            }
        };
        let mut answers = BTreeMap::new();
        for q in questions {
            let Some(v) = self.answers.get(&q.key).map(|v| v.trim()).filter(|v| !v.is_empty()) else { continue };
            let value = match q.kind {
                QualificationKind::Text | QualificationKind::Choice => serde_json::Value::String(v.to_owned()),
                QualificationKind::YesNo => serde_json::Value::Bool(v == "yes"),
                QualificationKind::Number => v
                    .replace(',', ".")
                    .parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                    .map(serde_json::Value::Number)
                    .ok_or_else(|| FieldError::new(format!("answers.{}", q.key), format!("{v:?} is not a number")))?,
            };
            answers.insert(q.key.clone(), value);
        }
        Ok(crm_core::outbound::OutcomeInput {
            disposition: self.disposition.trim().to_owned(),
            callback_at,
            same_agent: self.same_agent.is_some(),
            answers,
        })
    }
}

/// `POST /console/calls/{list}/entries/{entry}/outcome`: records the call's outcome at the
/// entry's version read, then the lists (to claim the next one).
pub(crate) async fn outcome(
    State(st): State<AppState>,
    s: SignedIn,
    Path((list, id)): Path<(CallListId, CallListEntryId)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let typed = OutcomeForm::from_pairs(pairs);
    let (entry, calls) =
        match futures::try_join!(st.crm.entry_of_list(&s.actor, list, id), st.crm.get_call_list(&s.actor, list)) {
            Ok(found) => found,
            Err(e) => return refusal(s.lang, e),
        };
    if typed.version.parse::<u64>().ok() != Some(entry.version()) {
        let stale = Some(String::new());
        return entry_page(&st, &s, list, id, &typed, &[], stale, StatusCode::CONFLICT).await;
    }
    let questions = match st.crm.get_campaign(&s.actor, calls.campaign).await {
        Ok(c) => c.qualification,
        Err(e) => return refusal(s.lang, e),
    };
    let zone = zone(&st, &s).await;
    let input = match typed.input(zone, &questions) {
        Ok(input) => input,
        Err(e) => return entry_page(&st, &s, list, id, &typed, &[e], None, StatusCode::UNPROCESSABLE_ENTITY).await,
    };
    match st.crm.record_outcome(&s.actor, list, id, input).await {
        Ok(r) => {
            Redirect::to(&super::assist::address("/console/calls", &[("recorded", r.disposition)])).into_response()
        }
        Err(crm_core::Error::Validation(errors)) => {
            let errors = errors.errors().to_vec();
            entry_page(&st, &s, list, id, &typed, &errors, None, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(crm_core::Error::Conflict(c)) => {
            entry_page(&st, &s, list, id, &typed, &[], Some(c.to_string()), StatusCode::CONFLICT).await
        }
        Err(e) => refusal(s.lang, e),
    }
}
