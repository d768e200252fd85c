//! The customer card page (edit with conflict detection: the form carries the version it
//! was read at, and a stale one shows the conflict with the current values instead of
//! overwriting), case creation from the card, and the case page (follow-ups, and lifecycle
//! buttons for exactly the transitions the core's lifecycle allows, resolving with a code
//! picked from the tenant's resolution list), with its attachments (`attachments.rs`) and
//! the knowledge and response search boxes (`assist.rs`).

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use crm_core::case::{CaseListKind, CaseStatus, Priority};
use crm_core::error::{Conflict, FieldError};
use crm_core::ids::{CaseId, CustomerId, MergeId};
use crm_core::knowledge::response::RenderRequest;

use super::assist::{self, Context, InsertQuery};

use super::i18n::Msg;
use super::pages::{refusal, zone};
use super::session::SignedIn;
use super::views::{self, csrf_field};
use crate::state::AppState;

/// Whether an error is a stale version (someone else changed the record).
fn is_stale(e: &crm_core::Error) -> bool {
    matches!(e, crm_core::Error::Conflict(Conflict::StaleVersion { .. }))
}

/// A notice above a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Notice {
    None,
    Saved,
    Conflict,
    Undone,
}

fn notice(lang: super::i18n::Lang, n: Notice) -> Markup {
    html! {
        @match n {
            Notice::None => {},
            Notice::Saved => p.notice role="status" { (lang.t(Msg::Saved)) },
            Notice::Conflict => p.error.conflict role="alert" { (lang.t(Msg::Conflict)) },
            Notice::Undone => p.notice.undone role="status" { (lang.t(Msg::MergeUndone)) },
        }
    }
}

/// The card's query: a merge just done into it (its undo banner) or just undone.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct CardQuery {
    #[serde(default)]
    merged: Option<MergeId>,
    #[serde(default)]
    undone: Option<MergeId>,
}

/// `GET /console/customers/{id}`: the card.
pub(crate) async fn customer(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<CustomerId>,
    Query(q): Query<CardQuery>,
) -> Response {
    let n = if q.undone.is_some() { Notice::Undone } else { Notice::None };
    customer_page(&st, &s, id, n, StatusCode::OK, q.merged).await
}

async fn customer_page(
    st: &AppState,
    s: &SignedIn,
    id: CustomerId,
    n: Notice,
    status: StatusCode,
    merged: Option<MergeId>,
) -> Response {
    let lang = s.lang;
    let mut card = match st.crm.customer_card(&s.actor, id).await {
        Ok(card) => card,
        Err(e) => return refusal(lang, e),
    };
    // The alerts the tenant's rules raise on this customer now (a failure to read them
    // hides them rather than the card).
    card.alerts = st.crm.customer_alerts(&s.actor, card.customer.id).await.unwrap_or_default();
    // The banner of a merge just done (a wrong or foreign id shows nothing).
    let merge = match merged {
        Some(m) => st.crm.get_merge(&s.actor, m).await.ok(),
        None => None,
    };
    let zone = zone(st, s).await;
    let c = &card.customer;
    let body = html! {
        (notice(lang, n))
        @if let Some(record) = &merge { (super::merge::undo_banner(lang, s, record, c.id)) }
        article.card {
            h1 { (c.name()) }
            p.muted { (lang.t(Msg::Account)) " " (c.account_number()) " · " (lang.t(Msg::Updated)) " " (views::when(c.updated_at(), zone)) }
            form.edit method="post" action={ "/console/customers/" (c.id) } {
                (csrf_field(&s.csrf))
                input type="hidden" name="version" value=(c.version());
                label for="name" { (lang.t(Msg::Name)) }
                input #name type="text" name="name" required value=(c.name());
                button type="submit" { (lang.t(Msg::Save)) }
            }
            (views::card_sections(lang, &card, zone))
            section.duplicates aria-labelledby="duplicates" {
                h2 #duplicates { (lang.t(Msg::Duplicates)) }
                div hx-get={ "/console/customers/" (c.id) "/duplicates" } hx-trigger="load" {
                    p.empty { (lang.t(Msg::Loading)) }
                }
            }
            section.new-case {
                h2 { (lang.t(Msg::NewCase)) }
                form method="post" action={ "/console/customers/" (c.id) "/cases" } {
                    (csrf_field(&s.csrf))
                    label for="subject" { (lang.t(Msg::Subject)) }
                    input #subject type="text" name="subject" required;
                    label for="priority" { (lang.t(Msg::Priority)) }
                    select #priority name="priority" {
                        @for p in ["low", "normal", "high", "urgent"] {
                            @let label = p.parse::<Priority>().map_or(p, |p| views::priority(lang, p));
                            option value=(p) selected[p == "normal"] { (label) }
                        }
                    }
                    button type="submit" { (lang.t(Msg::Create)) }
                }
            }
        }
    };
    (status, views::page(lang, c.name(), Some(s), body)).into_response()
}

/// The card's edit form.
#[derive(Debug, Deserialize)]
pub(crate) struct CustomerForm {
    version: u64,
    name: String,
}

/// `POST /console/customers/{id}`: renames the customer at the version the form was read
/// at; a stale version shows the conflict (409) with the current values.
pub(crate) async fn edit_customer(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<CustomerId>,
    Form(form): Form<CustomerForm>,
) -> Response {
    let Ok(patch) = serde_json::from_value(serde_json::json!({ "name": form.name })) else {
        return views::failure(s.lang, StatusCode::UNPROCESSABLE_ENTITY, Msg::Invalid);
    };
    match st.crm.update_customer(&s.actor, id, form.version, patch).await {
        Ok(_) => customer_page(&st, &s, id, Notice::Saved, StatusCode::OK, None).await,
        Err(e) if is_stale(&e) => customer_page(&st, &s, id, Notice::Conflict, StatusCode::CONFLICT, None).await,
        Err(e) => refusal(s.lang, e),
    }
}

/// The new case form.
#[derive(Debug, Deserialize)]
pub(crate) struct NewCaseForm {
    subject: String,
    #[serde(default)]
    priority: Option<String>,
}

/// `POST /console/customers/{id}/cases`: opens a case for the customer, then shows it.
pub(crate) async fn create_case(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<CustomerId>,
    Form(form): Form<NewCaseForm>,
) -> Response {
    let input = serde_json::json!({
        "customer": id,
        "subject": form.subject,
        "priority": form.priority.filter(|p| !p.is_empty()).unwrap_or_else(|| "normal".into()),
        "description": {"format": "text", "body": ""},
    });
    let Ok(input) = serde_json::from_value(input) else {
        return views::failure(s.lang, StatusCode::UNPROCESSABLE_ENTITY, Msg::Invalid);
    };
    match st.crm.create_case(&s.actor, input).await {
        Ok(case) => Redirect::to(&format!("/console/cases/{}", case.id)).into_response(),
        Err(e) => refusal(s.lang, e),
    }
}

/// What the case page's follow-up field holds.
enum FollowUpField {
    Empty,
    /// Text to insert (an article, a rendered response), for the agent to check and save.
    Inserted(String),
    /// The text could not be made (a placeholder without its record): the reason, next to
    /// the field.
    Refused(FieldError),
}

/// `GET /console/cases/{id}`: the case; with `?article=` or `?response=`, the follow-up
/// field holds that text (the response rendered for this case and its customer).
pub(crate) async fn case(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<CaseId>,
    Query(insert): Query<InsertQuery>,
) -> Response {
    if !insert.wants_text() {
        return case_page(&st, &s, id, Notice::None, StatusCode::OK, FollowUpField::Empty).await;
    }
    let target = match st.crm.get_case(&s.actor, id).await {
        Ok(c) => RenderRequest { case: Some(id), customer: Some(c.customer()), interaction: None },
        Err(e) => return refusal(s.lang, e),
    };
    match assist::draft(&st, &s.actor, &insert, &target).await {
        Ok(text) => {
            let field = text.map_or(FollowUpField::Empty, FollowUpField::Inserted);
            case_page(&st, &s, id, Notice::None, StatusCode::OK, field).await
        }
        Err(e) => match assist::field_error_of(&e) {
            Some(error) => {
                let field = FollowUpField::Refused(error);
                case_page(&st, &s, id, Notice::None, StatusCode::UNPROCESSABLE_ENTITY, field).await
            }
            None => refusal(s.lang, e),
        },
    }
}

async fn case_page(
    st: &AppState,
    s: &SignedIn,
    id: CaseId,
    n: Notice,
    status: StatusCode,
    field: FollowUpField,
) -> Response {
    let lang = s.lang;
    let (case, follow_ups, codes, files) = match futures::try_join!(
        st.crm.get_case(&s.actor, id),
        st.crm.follow_ups(&s.actor, id),
        st.crm.case_list_entries(&s.actor, CaseListKind::Resolution),
        super::attachments::of_case(st, s, id)
    ) {
        Ok(found) => found,
        Err(e) => return refusal(lang, e),
    };
    let codes: Vec<_> = codes.into_iter().filter(|c| c.active).collect();
    let zone = zone(st, s).await;
    // The buttons are the core's lifecycle: only the transitions it allows. Resolving needs a
    // resolution code: its own form, with the tenant's active codes to pick from.
    let resolvable = case.status().can_become(CaseStatus::Resolved);
    let next: Vec<CaseStatus> = CaseStatus::ALL
        .iter()
        .copied()
        .filter(|to| *to != CaseStatus::Resolved && case.status().can_become(*to))
        .collect();
    let title = format!("{} · {}", case.number, case.subject());
    let (inserted, body_error) = match &field {
        FollowUpField::Empty => (None, None),
        FollowUpField::Inserted(text) => (Some(text.as_str()), None),
        FollowUpField::Refused(e) => (None, Some(e)),
    };
    let assist_context = Context { interaction: None, case: Some(case.id) };
    let body = html! {
        (notice(lang, n))
        article.case {
            h1 { (case.number) " · " (case.subject()) }
            p {
                (lang.t(Msg::Status)) " " span #case-status.badge { (views::status(lang, case.status())) }
                " · " (lang.t(Msg::Priority)) " " span.badge { (views::priority(lang, case.priority())) }
                " · " (lang.t(Msg::Updated)) " " (views::when(case.updated_at(), zone))
                @if let Some(r) = case.resolution() { " · " (lang.t(Msg::ResolutionCode)) " " span #case-resolution.badge { (r) } }
            }
            p {
                a href={ "/console/customers/" (case.customer()) } { (lang.t(Msg::BackToCard)) }
                @if s.actor.can(crm_core::access::Permission::CaseEdit) {
                    " · " a #notify-link href={ "/console/cases/" (case.id) "/notify" } { (lang.t(Msg::NotifyCustomer)) }
                }
            }
            section.lifecycle {
                h2 { (lang.t(Msg::Lifecycle)) }
                @if next.is_empty() && !resolvable { p.empty { (lang.t(Msg::NoTransition)) } }
                @for to in &next {
                    form.inline method="post" action={ "/console/cases/" (case.id) "/status" } {
                        (csrf_field(&s.csrf))
                        input type="hidden" name="version" value=(case.version());
                        input type="hidden" name="status" value=(to.as_str());
                        button type="submit" data-status=(to.as_str()) { (views::status(lang, *to)) }
                    }
                }
                @if resolvable {
                    @if codes.is_empty() { p.muted.no-codes { (lang.t(Msg::NoResolutionCodes)) } }
                    @else {
                        form.resolve method="post" action={ "/console/cases/" (case.id) "/status" } {
                            (csrf_field(&s.csrf))
                            input type="hidden" name="version" value=(case.version());
                            input type="hidden" name="status" value="resolved";
                            label for="resolution" { (lang.t(Msg::ResolutionCode)) }
                            select #resolution name="resolution" required {
                                option value="" { "—" }
                                @for c in &codes { option value=(c.key) { (c.label) } }
                            }
                            button type="submit" data-status="resolved" { (views::status(lang, CaseStatus::Resolved)) }
                        }
                    }
                }
            }
            (assist::search_boxes(lang, &assist_context))
            section.follow-ups {
                h2 { (lang.t(Msg::FollowUps)) }
                @if follow_ups.is_empty() { p.empty { (lang.t(Msg::NoFollowUps)) } }
                ol { @for f in &follow_ups { li { (views::when(f.at, zone)) " " span.body { (f.body) } } } }
                form method="post" action={ "/console/cases/" (case.id) "/follow-ups" } {
                    (csrf_field(&s.csrf))
                    label for="body" { (lang.t(Msg::AddFollowUp)) }
                    @if inserted.is_some() { p.notice #body-inserted role="status" { (lang.t(Msg::Inserted)) } }
                    textarea #body name="body" rows="3" required autofocus[inserted.is_some()]
                        aria-invalid=[body_error.map(|_| "true")] aria-describedby=[body_error.map(|_| "body-error")] {
                        (inserted.unwrap_or_default())
                    }
                    @if let Some(e) = body_error { p.error.field-error #body-error role="alert" { (e.field) ": " (e.reason) } }
                    button type="submit" { (lang.t(Msg::Add)) }
                }
            }
            (super::attachments::section(lang, s, case.id, &files, &follow_ups, zone, &super::attachments::Outcome::Shown))
        }
    };
    (status, views::page(lang, &title, Some(s), body)).into_response()
}

/// The follow-up form.
#[derive(Debug, Deserialize)]
pub(crate) struct FollowUpForm {
    body: String,
}

/// `POST /console/cases/{id}/follow-ups`: adds a follow-up, then shows the case.
pub(crate) async fn add_follow_up(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<CaseId>,
    Form(form): Form<FollowUpForm>,
) -> Response {
    let Ok(input) = serde_json::from_value(serde_json::json!({ "body": form.body })) else {
        return views::failure(s.lang, StatusCode::UNPROCESSABLE_ENTITY, Msg::Invalid);
    };
    match st.crm.add_follow_up(&s.actor, id, input).await {
        Ok(_) => Redirect::to(&format!("/console/cases/{id}")).into_response(),
        Err(e) => refusal(s.lang, e),
    }
}

/// A lifecycle button's form.
#[derive(Debug, Deserialize)]
pub(crate) struct StatusForm {
    version: u64,
    status: String,
    /// The resolution code, when resolving.
    #[serde(default)]
    resolution: Option<String>,
}

/// `POST /console/cases/{id}/status`: moves the case to a status at the version it was
/// read at; a stale version shows the conflict (409), an illegal move the core's refusal.
pub(crate) async fn change_status(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<CaseId>,
    Form(form): Form<StatusForm>,
) -> Response {
    let mut patch = serde_json::json!({ "status": form.status });
    if let Some(code) = form.resolution.filter(|c| !c.is_empty()) {
        patch["resolution"] = serde_json::Value::String(code);
    }
    let Ok(patch) = serde_json::from_value(patch) else {
        return views::failure(s.lang, StatusCode::UNPROCESSABLE_ENTITY, Msg::Invalid);
    };
    match st.crm.update_case(&s.actor, id, form.version, patch).await {
        Ok(_) => case_page(&st, &s, id, Notice::Saved, StatusCode::OK, FollowUpField::Empty).await,
        Err(e) if is_stale(&e) => {
            case_page(&st, &s, id, Notice::Conflict, StatusCode::CONFLICT, FollowUpField::Empty).await
        }
        Err(e) => refusal(s.lang, e),
    }
}
