//! The agent's task agenda (TSK-3 in the console): the planned tasks sorted by the core
//! into overdue, due (reminder time reached) and upcoming, each with a button that marks
//! it done and a snooze ("remind me again in …", the core's [`TaskPatch::snooze`]); and
//! the notice of a reminder that falls due, a fragment the console's script loads into the
//! page's live region when the event stream announces `task_reminder_due` (on every page,
//! so an agent is reminded wherever they are).

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono_tz::Tz;
use maud::{Markup, html};
use serde::Deserialize;

use crm_core::error::FieldError;
use crm_core::ids::TaskId;
use crm_core::page::PageRequest;
use crm_core::task::{Task, TaskPatch, TaskStatus};

use super::i18n::{Lang, Msg};
use super::pages::{refusal, zone};
use super::session::SignedIn;
use super::views::{self, csrf_field};
use crate::state::AppState;

/// The snoozes offered, in minutes.
const SNOOZES: &[u32] = &[5, 15, 60, 24 * 60];

/// Tasks per page of the agenda.
const PAGE_SIZE: u32 = 100;

/// A form refused for one task: the field and the reason, shown next to it.
struct Problem {
    task: TaskId,
    error: FieldError,
}

/// `GET /console/agenda`: the agent's agenda.
pub(crate) async fn agenda(State(st): State<AppState>, s: SignedIn) -> Response {
    render(&st, &s, StatusCode::OK, None).await
}

async fn render(st: &AppState, s: &SignedIn, status: StatusCode, problem: Option<Problem>) -> Response {
    let lang = s.lang;
    let page = PageRequest::new(Some(PAGE_SIZE), None).unwrap_or_else(|_| PageRequest::first());
    let agenda = match st.crm.agenda(&s.actor, None, None, &page).await {
        Ok(a) => a,
        Err(e) => return refusal(lang, e),
    };
    let zone = zone(st, s).await;
    let sections = [
        ("overdue", Msg::Overdue, Msg::NoOverdue, &agenda.overdue),
        ("due", Msg::DueNow, Msg::NoDue, &agenda.due),
        ("upcoming", Msg::Upcoming, Msg::NoUpcoming, &agenda.upcoming),
    ];
    let body = html! {
        section.agenda {
            h1 { (lang.t(Msg::Agenda)) }
            @if problem.is_some() { p.error { (lang.t(Msg::FixBelow)) } }
            @for (key, title, empty, tasks) in sections {
                section class={ "bucket " (key) } aria-labelledby={ "bucket-" (key) } {
                    h2 id={ "bucket-" (key) } { (lang.t(title)) " " span.badge { (tasks.len()) } }
                    @if tasks.is_empty() { p.empty { (lang.t(empty)) } }
                    @else { ul.tasks { @for t in tasks.iter() { (task_row(lang, &s.csrf, t, zone, problem.as_ref())) } } }
                }
            }
            @if agenda.next.is_some() { p.muted { (lang.t(Msg::MoreTasks)) } }
        }
    };
    (status, views::page(lang, lang.t(Msg::Agenda), Some(s), body)).into_response()
}

/// One task of the agenda with its actions.
fn task_row(lang: Lang, csrf: &str, t: &Task, zone: Tz, problem: Option<&Problem>) -> Markup {
    let error = problem.filter(|p| p.task == t.id).map(|p| &p.error);
    let select_id = format!("snooze-{}", t.id);
    let error_id = format!("snooze-error-{}", t.id);
    html! {
        li.task id={ "task-" (t.id) } data-task=(t.id) {
            div.what {
                (views::when(t.scheduled_at(), zone)) " "
                strong { (t.subject()) }
                " " span.badge { (kind(lang, t)) }
                @if t.reminder_sent_at().is_some() { " " span.badge.reminded { (lang.t(Msg::Reminded)) } }
            }
            div.links {
                a href={ "/console/customers/" (t.customer()) } { (lang.t(Msg::OpenCard)) }
                @if let Some(case) = t.case() { " · " a href={ "/console/cases/" (case) } { (lang.t(Msg::Case)) } }
            }
            div.actions {
                form.inline.complete method="post" action={ "/console/tasks/" (t.id) "/complete" } {
                    (csrf_field(csrf))
                    input type="hidden" name="version" value=(t.version());
                    button type="submit" { (lang.t(Msg::MarkDone)) span.visually-hidden { ": " (t.subject()) } }
                }
                form.inline.snooze method="post" action={ "/console/tasks/" (t.id) "/snooze" } {
                    (csrf_field(csrf))
                    input type="hidden" name="version" value=(t.version());
                    label.inline for=(select_id) { (lang.t(Msg::RemindAgainIn)) }
                    select id=(select_id) name="minutes" aria-invalid=[error.map(|_| "true")]
                        aria-describedby=[error.map(|_| error_id.as_str())] {
                        @for m in SNOOZES { option value=(m) { (duration(lang, *m)) } }
                    }
                    button type="submit" { (lang.t(Msg::Snooze)) span.visually-hidden { ": " (t.subject()) } }
                    @if let Some(e) = error { p.error.field-error id=(error_id) role="alert" { (e.field) ": " (e.reason) } }
                }
            }
        }
    }
}

/// A task's kind, for people.
fn kind(lang: Lang, t: &Task) -> &'static str {
    use crm_core::task::TaskKind;
    lang.t(match t.kind {
        TaskKind::Call => Msg::KindCall,
        TaskKind::Email => Msg::KindEmail,
        TaskKind::Meeting => Msg::KindMeeting,
        TaskKind::Chat => Msg::KindChat,
        TaskKind::Other => Msg::KindOther,
    })
}

/// A snooze's length, for people (`15 min`, `1 h`, `1 day`).
fn duration(lang: Lang, minutes: u32) -> String {
    match minutes {
        m if m >= 24 * 60 && m % (24 * 60) == 0 => format!("{} {}", m / (24 * 60), lang.t(Msg::Days)),
        m if m >= 60 && m % 60 == 0 => format!("{} h", m / 60),
        m => format!("{m} min"),
    }
}

/// The version a task form was read at.
#[derive(Debug, Deserialize)]
pub(crate) struct TaskForm {
    #[serde(default)]
    version: String,
    #[serde(default)]
    minutes: String,
}

impl TaskForm {
    fn version(&self) -> Result<u64, FieldError> {
        self.version.parse().map_err(|_| FieldError::new("version", "is missing or not a number"))
    }
}

/// `POST /console/tasks/{id}/complete`: marks the task done at the version the page read.
pub(crate) async fn complete(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<TaskId>,
    Form(form): Form<TaskForm>,
) -> Response {
    let version = match form.version() {
        Ok(v) => v,
        Err(error) => {
            return render(&st, &s, StatusCode::UNPROCESSABLE_ENTITY, Some(Problem { task: id, error })).await;
        }
    };
    let patch = TaskPatch { status: Some(TaskStatus::Done), ..TaskPatch::default() };
    match st.crm.update_task(&s.actor, id, version, patch).await {
        Ok(_) => Redirect::to("/console/agenda").into_response(),
        Err(e) => refusal(s.lang, e),
    }
}

/// `POST /console/tasks/{id}/snooze`: brings the task's reminder back in `minutes`.
pub(crate) async fn snooze(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<TaskId>,
    Form(form): Form<TaskForm>,
) -> Response {
    let refused = |error: FieldError| Problem { task: id, error };
    let version = match form.version() {
        Ok(v) => v,
        Err(e) => return render(&st, &s, StatusCode::UNPROCESSABLE_ENTITY, Some(refused(e))).await,
    };
    let Ok(minutes) = form.minutes.trim().parse::<u32>() else {
        let e = FieldError::new("minutes", format!("{:?} is not a number of minutes", form.minutes));
        return render(&st, &s, StatusCode::UNPROCESSABLE_ENTITY, Some(refused(e))).await;
    };
    let task = match st.crm.get_task(&s.actor, id).await {
        Ok(t) => t,
        Err(e) => return refusal(s.lang, e),
    };
    let patch = match TaskPatch::snooze(&task, minutes, st.crm.clock().now()) {
        Ok(p) => p,
        Err(e) => return render(&st, &s, StatusCode::UNPROCESSABLE_ENTITY, Some(refused(e))).await,
    };
    match st.crm.update_task(&s.actor, id, version, patch).await {
        Ok(_) => Redirect::to("/console/agenda").into_response(),
        Err(e) => refusal(s.lang, e),
    }
}

/// `GET /console/tasks/{id}/reminder`: the notice of a reminder that fell due (a fragment
/// the script appends to the page's live region).
pub(crate) async fn reminder(State(st): State<AppState>, s: SignedIn, Path(id): Path<TaskId>) -> Response {
    let lang = s.lang;
    let task = match st.crm.get_task(&s.actor, id).await {
        Ok(t) => t,
        Err(e) => return refusal(lang, e),
    };
    let zone = zone(&st, &s).await;
    html! {
        div.reminder-notice data-task=(task.id) {
            p {
                strong { (lang.t(Msg::ReminderDue)) } " "
                a href={ "/console/agenda#task-" (task.id) } { (task.subject()) }
                " · " (views::when(task.scheduled_at(), zone))
            }
            button.dismiss type="button" { (lang.t(Msg::Dismiss)) span.visually-hidden { ": " (task.subject()) } }
        }
    }
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snoozes_read_in_minutes_hours_and_days() {
        assert_eq!(duration(Lang::En, 15), "15 min");
        assert_eq!(duration(Lang::En, 60), "1 h");
        assert_eq!(duration(Lang::Fr, 24 * 60), "1 jour");
    }
}
