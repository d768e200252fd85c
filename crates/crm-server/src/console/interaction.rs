//! The interaction panel (INT-2…INT-6 in the console), opened from the screen pop or a
//! customer card: the interaction's state with the buttons of the actions the core's state
//! machine allows from it (accept, decline, hold, resume, wrap up: `a` and `w` on the
//! keyboard), the notes (a scratch pad, each note copied into a follow-up of a case in one
//! click), the disposition picker from the tenant's catalogue (marked required when the
//! queue requires one; wrap-up without it is refused by the core and the refusal is shown
//! next to the picker), and the linked records with a form that links one of the
//! customer's cases.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use crm_core::case::CaseSummary;
use crm_core::error::FieldError;
use crm_core::ids::{CaseId, InteractionId, NoteId};
use crm_core::interaction::{InteractionAction, InteractionState, LinkTarget};

use crm_core::knowledge::response::RenderRequest;

use super::assist::{self, Context, InsertQuery};
use super::i18n::{Lang, Msg};
use super::pages::{refusal, zone};
use super::scripts;
use super::session::SignedIn;
use super::views::{self, csrf_field};
use crate::state::AppState;

/// The actions the panel offers (when the state machine allows them), with their label and
/// keyboard shortcut. End and finishing wrap-up share `w`: never both legal at once.
const ACTIONS: &[(InteractionAction, Msg, Option<&str>)] = &[
    (InteractionAction::Accept, Msg::Accept, Some("a")),
    (InteractionAction::Decline, Msg::Decline, None),
    (InteractionAction::Hold, Msg::Hold, None),
    (InteractionAction::Resume, Msg::Resume, None),
    (InteractionAction::End, Msg::WrapUp, Some("w")),
    (InteractionAction::CompleteWrapUp, Msg::CompleteWrapUp, Some("w")),
];

/// Which form a refusal belongs to: its message is shown next to that form's field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    Action,
    Disposition,
    Note,
    Copy(NoteId),
    Link,
}

/// A refused form: where, which field, why.
struct Problem {
    slot: Slot,
    error: FieldError,
}

/// What the panel shows after a change.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Outcome {
    Shown,
    Copied,
    /// Opened to insert this text into the scratch pad.
    Drafted(Option<String>),
    /// A script's answer or start refused, or its run changed since read.
    Script(scripts::Problem),
}

/// The panel with a script's refusal (422) or conflict (409) in its section.
pub(crate) async fn with_script_problem(
    st: &AppState,
    s: &SignedIn,
    id: InteractionId,
    problem: scripts::Problem,
) -> Response {
    let status = match problem {
        scripts::Problem::Stale => StatusCode::CONFLICT,
        scripts::Problem::Field(_) => StatusCode::UNPROCESSABLE_ENTITY,
    };
    render(st, s, id, status, None, Outcome::Script(problem)).await
}

/// The label of an interaction state.
fn state(lang: Lang, s: InteractionState) -> &'static str {
    lang.t(match s {
        InteractionState::Offered => Msg::StateOffered,
        InteractionState::Declined => Msg::StateDeclined,
        InteractionState::Active => Msg::StateActive,
        InteractionState::Held => Msg::StateHeld,
        InteractionState::Consulting => Msg::StateConsulting,
        InteractionState::Conferenced => Msg::StateConferenced,
        InteractionState::WrapUp => Msg::StateWrapUp,
        InteractionState::Closed => Msg::StateClosed,
    })
}

/// `GET /console/interactions/{id}`: the panel; with `?article=` or `?response=`, the
/// scratch pad's field holds that text (the response rendered for this interaction), for
/// the agent to check and save.
pub(crate) async fn panel(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<InteractionId>,
    Query(insert): Query<InsertQuery>,
) -> Response {
    let target = RenderRequest { interaction: Some(id), ..RenderRequest::default() };
    match assist::draft(&st, &s.actor, &insert, &target).await {
        Ok(draft) => render(&st, &s, id, StatusCode::OK, None, Outcome::Drafted(draft)).await,
        Err(e) => refused(&st, &s, id, Slot::Note, e).await,
    }
}

/// The field error next to a form's field, and the attributes that tie the field to it.
fn field_error(problem: Option<&Problem>, slot: Slot, id: &str) -> (Option<Markup>, Option<String>) {
    match problem.filter(|p| p.slot == slot) {
        Some(p) => {
            let error_id = format!("{id}-error");
            let m = html! { p.error.field-error id=(error_id) role="alert" { (p.error.field) ": " (p.error.reason) } };
            (Some(m), Some(error_id))
        }
        None => (None, None),
    }
}

#[allow(clippy::too_many_lines)] // one page, read top to bottom
async fn render(
    st: &AppState,
    s: &SignedIn,
    id: InteractionId,
    status: StatusCode,
    problem: Option<Problem>,
    outcome: Outcome,
) -> Response {
    let lang = s.lang;
    let inter = match st.crm.get_interaction(&s.actor, id).await {
        Ok(i) => i,
        Err(e) => return refusal(lang, e),
    };
    let catalogue = match st.crm.dispositions(&s.actor).await {
        Ok(d) => d,
        Err(e) => return refusal(lang, e),
    };
    let cases: Vec<CaseSummary> = match inter.customer() {
        Some(c) => st.crm.customer_card(&s.actor, c).await.map(|card| card.open_cases).unwrap_or_default(),
        None => Vec::new(),
    };
    let zone = zone(st, s).await;
    let alerts = st.crm.interaction_alerts(&s.actor, id).await.unwrap_or_default();
    let p = problem.as_ref();
    let (action_error, action_error_id) = field_error(p, Slot::Action, "action");
    let (disposition_error, disposition_error_id) = field_error(p, Slot::Disposition, "disposition");
    let (note_error, note_error_id) = field_error(p, Slot::Note, "note");
    let (link_error, link_error_id) = field_error(p, Slot::Link, "link-case");
    let offered: Vec<_> = ACTIONS.iter().filter(|(a, _, _)| a.target(inter.state()).is_some()).collect();
    let case_label = |case: CaseId| {
        cases
            .iter()
            .find(|c| c.id == case)
            .map_or_else(|| case.to_string(), |c| format!("{} · {}", c.number, c.subject))
    };
    let mut linked: Vec<CaseId> = inter.linked_cases();
    linked.sort_unstable();
    let mut copy_targets: Vec<(CaseId, String)> = linked.iter().map(|c| (*c, case_label(*c))).collect();
    for c in &cases {
        if !linked.contains(&c.id) {
            copy_targets.push((c.id, format!("{} · {}", c.number, c.subject)));
        }
    }
    let linkable: Vec<&CaseSummary> = cases.iter().filter(|c| !linked.contains(&c.id)).collect();
    let active: Vec<_> = catalogue.iter().filter(|d| d.active).collect();
    let version = inter.version();
    let base = format!("/console/interactions/{id}");
    let assist_context = Context { interaction: Some(id), case: linked.first().copied() };
    let draft = match &outcome {
        Outcome::Drafted(Some(text)) => Some(text.as_str()),
        _ => None,
    };
    let script_problem = match &outcome {
        Outcome::Script(p) => Some(p),
        _ => None,
    };
    let script_data = scripts::load(st, s, id).await;
    let body = html! {
        section.interaction data-interaction=(id) {
            h1 { (lang.t(Msg::Interaction)) " " span.badge #interaction-state { (state(lang, inter.state())) } }
            (views::alerts(lang, &alerts))
            @if outcome == Outcome::Copied { p.notice role="status" { (lang.t(Msg::Copied)) } }
            @if problem.is_some() { p.error { (lang.t(Msg::FixBelow)) } }
            div.panels {
                section.panel.facts aria-labelledby="facts-title" {
                    h2 #facts-title { (lang.t(Msg::State)) }
                    dl.facts {
                        dt { (lang.t(Msg::Channel)) } dd { (inter.channel) }
                        dt { (lang.t(Msg::Queue)) } dd { (inter.queue().unwrap_or("—")) }
                        dt { (lang.t(Msg::When)) } dd { (views::when(inter.offered_at, zone)) }
                        @if let Some(c) = inter.customer() {
                            dt { (lang.t(Msg::Customer)) } dd { a href={ "/console/customers/" (c) } { (lang.t(Msg::OpenCard)) } }
                        }
                    }
                    form.actions method="post" action={ (base) "/actions" } {
                        (csrf_field(&s.csrf))
                        input type="hidden" name="version" value=(version);
                        @for (action, label, key) in &offered {
                            button type="submit" name="action" value=(action.as_str()) data-shortcut=[key]
                                aria-keyshortcuts=[key] aria-describedby=[action_error_id.as_deref()] {
                                (lang.t(*label)) @if let Some(k) = key { " " kbd { (k) } }
                            }
                            " "
                        }
                        @if offered.is_empty() { p.empty { (lang.t(Msg::NoTransition)) } }
                        @if let Some(e) = &action_error { (e) }
                    }
                }
                section.panel.disposition aria-labelledby="disposition-title" {
                    h2 #disposition-title { (lang.t(Msg::Disposition)) }
                    @if active.is_empty() {
                        p.empty { (lang.t(Msg::NoDispositionCodes)) }
                        @if let Some(e) = &disposition_error { (e) }
                    }
                    @else {
                        form method="post" action={ (base) "/disposition" } {
                            (csrf_field(&s.csrf))
                            input type="hidden" name="version" value=(version);
                            label for="disposition" {
                                (lang.t(Msg::Disposition))
                                @if inter.disposition_required() { " " span.required { (lang.t(Msg::DispositionRequired)) } }
                            }
                            select #disposition name="code" required[inter.disposition_required()]
                                aria-invalid=[disposition_error.as_ref().map(|_| "true")]
                                aria-describedby=[disposition_error_id.as_deref()] {
                                option value="" { (lang.t(Msg::ChooseDisposition)) }
                                @for d in &active {
                                    option value=(d.code) selected[inter.disposition() == Some(d.code.as_str())] { (d.label) }
                                }
                            }
                            @if let Some(e) = &disposition_error { (e) }
                            button type="submit" { (lang.t(Msg::Save)) }
                        }
                    }
                }
                section.panel.notes aria-labelledby="notes-title" {
                    h2 #notes-title { (lang.t(Msg::ScratchPad)) }
                    @if inter.notes().is_empty() { p.empty { (lang.t(Msg::NoNotes)) } }
                    ul.notes { @for n in inter.notes() {
                        @let (copy_error, copy_error_id) = field_error(p, Slot::Copy(n.id), &format!("copy-{}", n.id));
                        li data-note=(n.id) {
                            (views::when(n.at, zone)) " " span.note-text { (n.text) }
                            @if !copy_targets.is_empty() {
                                form.copy method="post" action={ (base) "/notes/" (n.id) "/copy" } {
                                    (csrf_field(&s.csrf))
                                    label.inline for={ "copy-" (n.id) } { (lang.t(Msg::CopyToCase)) }
                                    " "
                                    select id={ "copy-" (n.id) } name="case" aria-describedby=[copy_error_id.as_deref()]
                                        aria-invalid=[copy_error.as_ref().map(|_| "true")] {
                                        @for (c, label) in &copy_targets { option value=(c) { (label) } }
                                    }
                                    " " button type="submit" { (lang.t(Msg::Copy)) }
                                    @if let Some(e) = &copy_error { (e) }
                                }
                            }
                        }
                    } }
                    form.add-note method="post" action={ (base) "/notes" } {
                        (csrf_field(&s.csrf))
                        input type="hidden" name="version" value=(version);
                        label for="note" { (lang.t(Msg::ScratchPad)) }
                        @if draft.is_some() { p.notice #note-inserted role="status" { (lang.t(Msg::Inserted)) } }
                        textarea #note name="text" rows="4" aria-invalid=[note_error.as_ref().map(|_| "true")]
                            aria-describedby=[note_error_id.as_deref()] autofocus[draft.is_some()] { (draft.unwrap_or_default()) }
                        @if let Some(e) = &note_error { (e) }
                        button type="submit" { (lang.t(Msg::AddNote)) }
                    }
                }
                (scripts::section(lang, s, id, &script_data, script_problem))
                (assist::search_boxes(lang, &assist_context))
                section.panel.links aria-labelledby="links-title" {
                    h2 #links-title { (lang.t(Msg::Links)) }
                    @if inter.links().is_empty() { p.empty { (lang.t(Msg::NoLinks)) } }
                    ul.links { @for l in inter.links() { li { (link(lang, &l.target, &case_label)) } } }
                    @if !linkable.is_empty() {
                        form.link method="post" action={ (base) "/links" } {
                            (csrf_field(&s.csrf))
                            input type="hidden" name="version" value=(version);
                            label for="link-case" { (lang.t(Msg::LinkCase)) }
                            select #link-case name="case" aria-invalid=[link_error.as_ref().map(|_| "true")]
                                aria-describedby=[link_error_id.as_deref()] {
                                @for c in &linkable { option value=(c.id) { (c.number) " · " (c.subject) } }
                            }
                            @if let Some(e) = &link_error { (e) }
                            button type="submit" { (lang.t(Msg::Link)) }
                        }
                    }
                }
            }
        }
    };
    (status, views::page(lang, lang.t(Msg::Interaction), Some(s), body)).into_response()
}

/// A linked record, for people.
fn link(lang: Lang, target: &LinkTarget, case_label: &dyn Fn(CaseId) -> String) -> Markup {
    html! {
        @match target {
            LinkTarget::Case { id } => { (lang.t(Msg::Case)) " " a href={ "/console/cases/" (id) } { (case_label(*id)) } },
            LinkTarget::Customer { id } => { (lang.t(Msg::Customer)) " " a href={ "/console/customers/" (id) } { (lang.t(Msg::OpenCard)) } },
            LinkTarget::Lead { id } => { "lead " (id) },
            LinkTarget::External { reference } => {
                (serde_json::to_value(reference.system).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default())
                " " (reference.id)
            },
        }
    }
}

/// A panel form: the version it was read at and its one field.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct PanelForm {
    #[serde(default)]
    version: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    case: String,
}

impl PanelForm {
    fn version(&self) -> Result<u64, FieldError> {
        self.version.parse().map_err(|_| FieldError::new("version", "is missing or not a number"))
    }

    fn case(&self) -> Result<CaseId, FieldError> {
        self.case.trim().parse().map_err(|_| FieldError::new("case", "choose one of the customer's cases"))
    }
}

/// After a change: the panel again (a redirect, so reloading posts nothing twice).
fn back(id: InteractionId) -> Response {
    Redirect::to(&format!("/console/interactions/{id}")).into_response()
}

/// The panel with a refusal shown next to its field; refusals that belong to no field (not
/// found, forbidden, a stale version) are the usual refusal pages.
async fn refused(st: &AppState, s: &SignedIn, id: InteractionId, slot: Slot, e: crm_core::Error) -> Response {
    let error = match e {
        crm_core::Error::Validation(errors) => errors.errors().first().cloned(),
        crm_core::Error::IllegalTransition(t) if slot == Slot::Action => {
            // Wrap-up without a required disposition: the core's reason, next to the picker.
            let field =
                if t.reason.as_deref().is_some_and(|r| r.contains("disposition")) { "disposition" } else { "action" };
            Some(FieldError::new(
                field,
                t.reason.unwrap_or_else(|| format!("{} is not possible from {}", t.to, t.from)),
            ))
        }
        crm_core::Error::IllegalTransition(t) => Some(FieldError::new("state", t.reason.unwrap_or(t.to))),
        other => return refusal(s.lang, other),
    };
    let Some(error) = error else { return views::failure(s.lang, StatusCode::UNPROCESSABLE_ENTITY, Msg::Invalid) };
    let slot = if error.field == "disposition" { Slot::Disposition } else { slot };
    render(st, s, id, StatusCode::UNPROCESSABLE_ENTITY, Some(Problem { slot, error }), Outcome::Shown).await
}

/// `POST /console/interactions/{id}/actions`: accept, end (into wrap-up), finish wrap-up.
pub(crate) async fn act(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<InteractionId>,
    Form(form): Form<PanelForm>,
) -> Response {
    let action = ACTIONS.iter().map(|(a, _, _)| *a).find(|a| a.as_str() == form.action);
    let checked = form.version().and_then(|v| {
        let a = action
            .ok_or_else(|| FieldError::new("action", format!("{:?} is not an action of the panel", form.action)))?;
        Ok((v, a))
    });
    let (version, action) = match checked {
        Ok(found) => found,
        Err(e) => return refused(&st, &s, id, Slot::Action, e.into()).await,
    };
    match st.crm.act_on_interaction(&s.actor, id, version, action).await {
        Ok(_) => back(id),
        Err(e) => refused(&st, &s, id, Slot::Action, e).await,
    }
}

/// `POST /console/interactions/{id}/disposition`: sets the disposition code.
pub(crate) async fn dispose(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<InteractionId>,
    Form(form): Form<PanelForm>,
) -> Response {
    let checked = form.version().and_then(|v| {
        let code = form.code.trim();
        if code.is_empty() { Err(FieldError::new("disposition", "choose a disposition code")) } else { Ok((v, code)) }
    });
    let (version, code) = match checked {
        Ok(found) => found,
        Err(e) => return refused(&st, &s, id, Slot::Disposition, e.into()).await,
    };
    match st.crm.set_disposition(&s.actor, id, version, code).await {
        Ok(_) => back(id),
        Err(e) => refused(&st, &s, id, Slot::Disposition, e).await,
    }
}

/// `POST /console/interactions/{id}/notes`: adds a note to the scratch pad.
pub(crate) async fn add_note(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<InteractionId>,
    Form(form): Form<PanelForm>,
) -> Response {
    let version = match form.version() {
        Ok(v) => v,
        Err(e) => return refused(&st, &s, id, Slot::Note, e.into()).await,
    };
    match st.crm.add_interaction_note(&s.actor, id, version, &form.text).await {
        Ok(_) => back(id),
        Err(e) => refused(&st, &s, id, Slot::Note, e).await,
    }
}

/// `POST /console/interactions/{id}/notes/{note}/copy`: copies a note into a follow-up of
/// the chosen case.
pub(crate) async fn copy_note(
    State(st): State<AppState>,
    s: SignedIn,
    Path((id, note)): Path<(InteractionId, NoteId)>,
    Form(form): Form<PanelForm>,
) -> Response {
    let case = match form.case() {
        Ok(c) => c,
        Err(e) => return refused(&st, &s, id, Slot::Copy(note), e.into()).await,
    };
    match st.crm.copy_note_to_case(&s.actor, id, note, case).await {
        Ok(_) => render(&st, &s, id, StatusCode::OK, None, Outcome::Copied).await,
        Err(e) => refused(&st, &s, id, Slot::Copy(note), e).await,
    }
}

/// `POST /console/interactions/{id}/links`: links one of the customer's cases.
pub(crate) async fn link_case(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<InteractionId>,
    Form(form): Form<PanelForm>,
) -> Response {
    let checked = form.version().and_then(|v| Ok((v, form.case()?)));
    let (version, case) = match checked {
        Ok(found) => found,
        Err(e) => return refused(&st, &s, id, Slot::Link, e.into()).await,
    };
    match st.crm.link_interaction(&s.actor, id, version, LinkTarget::Case { id: case }).await {
        Ok(_) => back(id),
        Err(e) => refused(&st, &s, id, Slot::Link, e).await,
    }
}
