//! Interactive scripts on the interaction panel (GUI-1 in the console): the runs of the
//! interaction, the step the current one waits at (its text with the customer's facts
//! filled in by the core) with the answer its kind asks for (go on, a choice, yes or no, a
//! number, a text), the answers given so far, and a form that starts a run of one of the
//! tenant's published scripts. The core walks the script (branches included) and checks
//! every answer; a refused answer is shown next to its field (422).
//!
//! The answer form carries the step it answers and the run's version it was read at: a
//! run answered elsewhere since (another tab, the API) is a 409 with the run as it stands,
//! never an answer to a step the agent did not see.

use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use crm_core::access::Permission;
use crm_core::error::{Conflict, FieldError};
use crm_core::guidance::{NewScriptRun, ScriptAnswer, ScriptRunView};
use crm_core::ids::{InteractionId, ScriptId, ScriptRunId};
use crm_core::page::PageRequest;
use crm_core::script::{AnswerValue, Step};

use super::i18n::{Lang, Msg};
use super::pages::refusal;
use super::session::SignedIn;
use super::views::csrf_field;
use crate::state::AppState;

/// What the panel's script section shows.
#[derive(Debug, Default)]
pub(crate) struct Scripts {
    /// The interaction's runs, oldest first.
    runs: Vec<ScriptRunView>,
    /// The published scripts a run can be started of: (id, name).
    startable: Vec<(ScriptId, String)>,
}

/// A refusal or a conflict, shown in the section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Problem {
    /// An answer or a start refused: next to this field.
    Field(FieldError),
    /// The run changed since the form was read.
    Stale,
}

/// The section's data; nothing without `interaction.handle` (the section is then hidden).
pub(crate) async fn load(st: &AppState, s: &SignedIn, id: InteractionId) -> Scripts {
    if !s.actor.can(Permission::InteractionHandle) {
        return Scripts::default();
    }
    let page = PageRequest::new(Some(crm_core::page::MAX_LIMIT), None).unwrap_or_else(|_| PageRequest::first());
    let (runs, scripts) = futures::join!(st.crm.script_runs_of(&s.actor, id), st.crm.scripts(&s.actor, &page));
    let startable = scripts
        .map(|p| p.items.into_iter().filter(|sc| sc.published > 0).map(|sc| (sc.id, sc.draft.name)).collect())
        .unwrap_or_default();
    Scripts { runs: runs.unwrap_or_default(), startable }
}

/// An answer, for people.
fn answer_text(lang: Lang, v: &AnswerValue) -> String {
    match v {
        AnswerValue::Continue => lang.t(Msg::Continue).to_owned(),
        AnswerValue::Choice(c) | AnswerValue::Text(c) => c.clone(),
        AnswerValue::YesNo(true) => lang.t(Msg::Yes).to_owned(),
        AnswerValue::YesNo(false) => lang.t(Msg::No).to_owned(),
        AnswerValue::Number(n) => n.to_string(),
    }
}

/// The panel's script section (hidden without `interaction.handle`).
pub(crate) fn section(
    lang: Lang,
    s: &SignedIn,
    id: InteractionId,
    data: &Scripts,
    problem: Option<&Problem>,
) -> Markup {
    if !s.actor.can(Permission::InteractionHandle) {
        return html! {};
    }
    let current = data.runs.iter().rev().find(|r| !r.finished);
    let shown = current.or_else(|| data.runs.last());
    let field_error = match problem {
        Some(Problem::Field(e)) => Some(e),
        _ => None,
    };
    let start_error = field_error.filter(|e| matches!(e.field.as_str(), "script" | "interaction"));
    let answer_error = field_error.filter(|_| start_error.is_none());
    html! {
        section.panel.script #script aria-labelledby="script-title" {
            h2 #script-title { (lang.t(Msg::Script)) }
            @if matches!(problem, Some(Problem::Stale)) { p.error.conflict role="alert" { (lang.t(Msg::ScriptConflict)) } }
            @match shown {
                Some(run) => { (run_view(lang, s, id, run, answer_error)) },
                None => { p.empty { (lang.t(Msg::NoScriptRun)) } },
            }
            @if current.is_none() {
                @if data.startable.is_empty() { p.empty { (lang.t(Msg::NoScripts)) } }
                @else {
                    form.start-script method="post" action={ "/console/interactions/" (id) "/scripts" } {
                        (csrf_field(&s.csrf))
                        label for="script-choice" { (lang.t(Msg::StartScript)) }
                        select #script-choice name="script" aria-invalid=[start_error.map(|_| "true")]
                            aria-describedby=[start_error.map(|_| "script-choice-error")] {
                            @for (sid, name) in &data.startable { option value=(sid) { (name) } }
                        }
                        @if let Some(e) = start_error { p.error.field-error #script-choice-error role="alert" { (e.field) ": " (e.reason) } }
                        button type="submit" { (lang.t(Msg::Start)) }
                    }
                }
            }
        }
    }
}

/// One run: the answers so far, the current step and its form (or the end).
fn run_view(lang: Lang, s: &SignedIn, id: InteractionId, run: &ScriptRunView, error: Option<&FieldError>) -> Markup {
    let error_id = "script-answer-error";
    let invalid = error.map(|_| "true");
    let described = error.map(|_| error_id);
    html! {
        @if !run.run.answers.is_empty() {
            ol.script-answers aria-label=(lang.t(Msg::ScriptAnswers)) { @for a in &run.run.answers {
                li { span.muted { (a.step) } " " (answer_text(lang, &a.value)) }
            } }
        }
        @if run.finished {
            p.script-step.finished #script-step data-step=(run.step.id()) { (run.text) }
            p.notice role="status" { (lang.t(Msg::ScriptFinished)) }
        } @else {
            form.answer method="post" action={ "/console/script-runs/" (run.id) "/answers" } {
                (csrf_field(&s.csrf))
                input type="hidden" name="interaction" value=(id);
                input type="hidden" name="version" value=(run.version);
                input type="hidden" name="step" value=(run.step.id());
                @match &run.step {
                    Step::Say { .. } => {
                        p.script-step #script-step data-step=(run.step.id()) { (run.text) }
                        button type="submit" name="kind" value="continue" { (lang.t(Msg::Continue)) }
                    },
                    Step::Choice { choices, .. } => {
                        fieldset aria-describedby=[described] {
                            legend.script-step #script-step data-step=(run.step.id()) { (run.text) }
                            @for (i, c) in choices.iter().enumerate() {
                                div.choice {
                                    input type="radio" name="value" id={ "choice-" (i) } value=(c) required checked[i == 0] aria-invalid=[invalid];
                                    label.inline for={ "choice-" (i) } { (c) }
                                }
                            }
                        }
                        input type="hidden" name="kind" value="choice";
                        button type="submit" { (lang.t(Msg::Answer)) }
                    },
                    Step::YesNo { .. } => {
                        p.script-step #script-step data-step=(run.step.id()) { (run.text) }
                        input type="hidden" name="kind" value="yes_no";
                        button type="submit" name="value" value="yes" aria-describedby=[described] { (lang.t(Msg::Yes)) }
                        " "
                        button type="submit" name="value" value="no" aria-describedby=[described] { (lang.t(Msg::No)) }
                    },
                    Step::Number { min, max, .. } => {
                        label.script-step #script-step for="script-value" data-step=(run.step.id()) { (run.text) }
                        input #script-value type="number" name="value" step="any" required min=[min] max=[max]
                            aria-invalid=[invalid] aria-describedby=[described];
                        input type="hidden" name="kind" value="number";
                        button type="submit" { (lang.t(Msg::Answer)) }
                    },
                    Step::FreeText { max_chars, .. } => {
                        label.script-step #script-step for="script-value" data-step=(run.step.id()) { (run.text) }
                        textarea #script-value name="value" rows="2" required maxlength=[max_chars]
                            aria-invalid=[invalid] aria-describedby=[described] {}
                        input type="hidden" name="kind" value="text";
                        button type="submit" { (lang.t(Msg::Answer)) }
                    },
                    // The core never stops a run at a branch or leaves it at an end unfinished.
                    Step::Branch { .. } | Step::End { .. } => { p.script-step #script-step { (run.text) } },
                }
                @if let Some(e) = error { p.error.field-error id=(error_id) role="alert" { (e.field) ": " (e.reason) } }
            }
        }
    }
}

/// The start form.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct StartForm {
    #[serde(default)]
    script: String,
}

/// `POST /console/interactions/{id}/scripts`: starts a run of the chosen script's latest
/// published version.
pub(crate) async fn start(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<InteractionId>,
    Form(form): Form<StartForm>,
) -> Response {
    let Ok(script) = form.script.trim().parse::<ScriptId>() else {
        let e = FieldError::new("script", "choose one of the published scripts");
        return super::interaction::with_script_problem(&st, &s, id, Problem::Field(e)).await;
    };
    match st.crm.start_script_run(&s.actor, id, NewScriptRun { script, version: None, entry: None }).await {
        Ok(_) => Redirect::to(&format!("/console/interactions/{id}#script")).into_response(),
        Err(e) => refused(&st, &s, id, e).await,
    }
}

/// A refusal: next to its field, a 409 for a stale run, else the refusal page.
async fn refused(st: &AppState, s: &SignedIn, id: InteractionId, e: crm_core::Error) -> Response {
    match e {
        crm_core::Error::Validation(errors) => match errors.errors().first().cloned() {
            Some(error) => super::interaction::with_script_problem(st, s, id, Problem::Field(error)).await,
            None => refusal(s.lang, crm_core::Error::Validation(errors)),
        },
        crm_core::Error::Conflict(Conflict::StaleVersion { .. }) => {
            super::interaction::with_script_problem(st, s, id, Problem::Stale).await
        }
        other => refusal(s.lang, other),
    }
}

/// An answer form.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct AnswerForm {
    #[serde(default)]
    interaction: Option<InteractionId>,
    #[serde(default)]
    version: String,
    #[serde(default)]
    step: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    value: String,
}

impl AnswerForm {
    /// The answer the form gives.
    fn value(&self) -> Result<AnswerValue, FieldError> {
        let value = self.value.trim();
        match self.kind.as_str() {
            "continue" => Ok(AnswerValue::Continue),
            "choice" => Ok(AnswerValue::Choice(value.to_owned())),
            "text" => Ok(AnswerValue::Text(self.value.clone())),
            "yes_no" => match value {
                "yes" => Ok(AnswerValue::YesNo(true)),
                "no" => Ok(AnswerValue::YesNo(false)),
                other => Err(FieldError::new("value", format!("answer yes or no, not {other:?}"))),
            },
            "number" => value
                .replace(',', ".")
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .map(AnswerValue::Number)
                .ok_or_else(|| FieldError::new("value", format!("{value:?} is not a number"))),
            other => Err(FieldError::new("kind", format!("{other:?} is not a kind of answer"))),
        }
    }
}

/// `POST /console/script-runs/{run}/answers`: answers the step the form showed, at the
/// run's version it was read at.
pub(crate) async fn answer(
    State(st): State<AppState>,
    s: SignedIn,
    Path(run): Path<ScriptRunId>,
    Form(form): Form<AnswerForm>,
) -> Response {
    let current = match st.crm.script_run(&s.actor, run).await {
        Ok(r) => r,
        Err(e) => return refusal(s.lang, e),
    };
    let id = current.interaction;
    if form.interaction.is_some_and(|i| i != id) {
        return refusal(s.lang, crm_core::Error::not_found("script_run", run));
    }
    if form.version.parse::<u64>().ok() != Some(current.version) {
        return super::interaction::with_script_problem(&st, &s, id, Problem::Stale).await;
    }
    let value = match form.value() {
        Ok(v) => v,
        Err(e) => return super::interaction::with_script_problem(&st, &s, id, Problem::Field(e)).await,
    };
    match st.crm.answer_script_run(&s.actor, run, ScriptAnswer { step: form.step, value }).await {
        Ok(_) => Redirect::to(&format!("/console/interactions/{id}#script")).into_response(),
        Err(e) => refused(&st, &s, id, e).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(kind: &str, value: &str) -> AnswerForm {
        AnswerForm { kind: kind.to_owned(), value: value.to_owned(), ..AnswerForm::default() }
    }

    #[test]
    fn answers_are_read_by_their_kind() {
        assert_eq!(form("continue", "").value(), Ok(AnswerValue::Continue));
        assert_eq!(form("yes_no", "no").value(), Ok(AnswerValue::YesNo(false)));
        assert_eq!(form("number", " 2,5 ").value(), Ok(AnswerValue::Number(2.5)));
        assert_eq!(form("choice", "price").value(), Ok(AnswerValue::Choice("price".into())));
        assert_eq!(form("number", "many").value().map_err(|e| e.field), Err("value".to_owned()));
        assert_eq!(form("yes_no", "perhaps").value().map_err(|e| e.field), Err("value".to_owned()));
        assert_eq!(form("dance", "").value().map_err(|e| e.field), Err("kind".to_owned()));
    }
}
