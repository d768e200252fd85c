//! The case list (CAS-5 in the console): filters (status, priority, group, assignee, tag,
//! category, SLA condition), sort, cursor paging, and the columns each agent chose, saved
//! in the agent's profile (ADM-1 `preferred_case_columns`, the same setting as
//! `PATCH /api/v1/me`). The filters travel in the address (a GET form), so a filtered list
//! can be bookmarked and the browser's back button works.

use std::collections::BTreeMap;

use axum::extract::{Query, RawForm, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use crm_core::case::{Case, CaseFilter, CaseListKind, CaseSort, CaseSortField, CaseStatus, SortDirection};
use crm_core::page::{Cursor, PageRequest};
use crm_core::service::{CASE_COLUMNS, ProfilePatch};

use super::i18n::{Lang, Msg};
use super::pages::{refusal, zone};
use super::session::SignedIn;
use super::views::{self, csrf_field};
use crate::state::AppState;

/// The columns of an agent who chose none.
pub(crate) const DEFAULT_COLUMNS: &[&str] = &["number", "subject", "status", "priority", "updated_at"];

/// Cases per page.
const PAGE_SIZE: u32 = 25;

/// The list's query: every filter as the form sends it (an empty value is "any").
#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct ListQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    priority: String,
    #[serde(default)]
    group: String,
    #[serde(default)]
    assignee: String,
    #[serde(default)]
    tag: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    sla: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    direction: String,
    #[serde(default)]
    cursor: String,
}

impl ListQuery {
    /// The query string of this list (without the cursor), for the sort links and paging.
    fn query_string(&self) -> String {
        let pairs = [
            ("status", &self.status),
            ("priority", &self.priority),
            ("group", &self.group),
            ("assignee", &self.assignee),
            ("tag", &self.tag),
            ("category", &self.category),
            ("sla", &self.sla),
            ("sort", &self.sort),
            ("direction", &self.direction),
        ];
        serde_urlencoded::to_string(pairs.iter().filter(|(_, v)| !v.is_empty()).collect::<Vec<_>>()).unwrap_or_default()
    }
}

/// A filter value of the form as the core's type: empty is "any", anything else must parse.
fn parse<T: serde::de::DeserializeOwned>(field: &'static str, v: &str) -> Result<Option<T>, crm_core::Error> {
    if v.is_empty() {
        return Ok(None);
    }
    serde_json::from_value(serde_json::Value::String(v.to_owned()))
        .map(Some)
        .map_err(|_| crm_core::Error::invalid(field, format!("{v:?} is not a known value")))
}

/// The core's filter, sort and page of a query.
fn filter_of(
    q: &ListQuery,
    me: crm_core::ids::AgentId,
) -> Result<(CaseFilter, CaseSort, PageRequest), crm_core::Error> {
    let assignee = if q.assignee == "me" { Some(me) } else { parse("assignee", &q.assignee)? };
    let filter = CaseFilter {
        status: parse::<CaseStatus>("status", &q.status)?.into_iter().collect(),
        priority: parse("priority", &q.priority)?.into_iter().collect(),
        assignee,
        group: parse("group", &q.group)?,
        sla: parse("sla", &q.sla)?,
        tag: Some(q.tag.trim().to_owned()).filter(|t| !t.is_empty()),
        category: Some(q.category.clone()).filter(|c| !c.is_empty()),
        ..CaseFilter::default()
    };
    let sort = CaseSort {
        field: parse::<CaseSortField>("sort", &q.sort)?.unwrap_or_default(),
        direction: parse::<SortDirection>("direction", &q.direction)?.unwrap_or_default(),
    };
    let after = Some(q.cursor.clone()).filter(|c| !c.is_empty()).map(Cursor::from_string);
    let page = PageRequest::new(Some(PAGE_SIZE), after).map_err(|e| crm_core::Error::invalid(e.field, e.reason))?;
    Ok((filter, sort, page))
}

/// The label of a column.
fn column_label(lang: Lang, c: &str) -> &'static str {
    lang.t(match c {
        "number" => Msg::ColNumber,
        "subject" => Msg::Subject,
        "status" => Msg::Status,
        "priority" => Msg::Priority,
        "severity" => Msg::ColSeverity,
        "assignee" => Msg::ColAssignee,
        "group" => Msg::ColGroup,
        "customer" => Msg::Customer,
        "created_at" => Msg::ColCreated,
        _ => Msg::Updated,
    })
}

/// The sort key a column orders by, if any.
fn sort_key(c: &str) -> Option<&'static str> {
    match c {
        "number" => Some("number"),
        "priority" => Some("priority"),
        "created_at" => Some("created_at"),
        "updated_at" => Some("updated_at"),
        _ => None,
    }
}

/// The names of agents and groups, for the cells and the filters.
struct Names {
    agents: BTreeMap<String, String>,
    groups: BTreeMap<String, String>,
}

fn cell(lang: Lang, c: &str, case: &Case, names: &Names, zone: chrono_tz::Tz) -> Markup {
    let name_of = |map: &BTreeMap<String, String>, id: String| map.get(&id).cloned().unwrap_or(id);
    html! {
        @match c {
            "number" => td { a href={ "/console/cases/" (case.id) } { (case.number) } },
            "subject" => td { a href={ "/console/cases/" (case.id) } { (case.subject()) } },
            "status" => td { span.badge { (views::status(lang, case.status())) } },
            "priority" => td { (views::priority(lang, case.priority())) },
            "severity" => td { (case.severity().as_str()) },
            "assignee" => td { (case.assignee().map(|a| name_of(&names.agents, a.to_string())).unwrap_or_default()) },
            "group" => td { (case.group().map(|g| name_of(&names.groups, g.to_string())).unwrap_or_default()) },
            "customer" => td { a href={ "/console/customers/" (case.customer()) } { (lang.t(Msg::OpenCard)) } },
            "created_at" => td { (views::when(case.created_at, zone)) },
            _ => td { (views::when(case.updated_at(), zone)) },
        }
    }
}

/// `GET /console/cases`: the filtered, sorted page of cases in the agent's columns.
pub(crate) async fn list(State(st): State<AppState>, s: SignedIn, Query(q): Query<ListQuery>) -> Response {
    let lang = s.lang;
    let (filter, sort, page) = match filter_of(&q, s.actor.agent) {
        Ok(found) => found,
        Err(e) => return refusal(lang, e),
    };
    let found = futures::try_join!(
        st.crm.list_cases(&s.actor, &filter, sort, &page),
        st.crm.get_agent(&s.actor, s.actor.agent),
        st.crm.list_agents(&s.actor),
        st.crm.list_groups(&s.actor),
        st.crm.case_list_entries(&s.actor, CaseListKind::Category),
    );
    let (cases, me, agents, groups, categories) = match found {
        Ok(found) => found,
        Err(e) => return refusal(lang, e),
    };
    let zone = zone(&st, &s).await;
    let columns: Vec<String> = if me.profile.preferred_case_columns.is_empty() {
        DEFAULT_COLUMNS.iter().map(|c| (*c).to_owned()).collect()
    } else {
        me.profile.preferred_case_columns.clone()
    };
    let names = Names {
        agents: agents.iter().map(|a| (a.id.to_string(), a.name.clone())).collect(),
        groups: groups.iter().map(|g| (g.id.to_string(), g.name.clone())).collect(),
    };
    let base = q.query_string();
    let next = cases.next.as_ref().map(|c| {
        let sep = if base.is_empty() { "" } else { "&" };
        format!(
            "/console/cases?{base}{sep}{}",
            serde_urlencoded::to_string([("cursor", c.as_str())]).unwrap_or_default()
        )
    });
    let current_sort = if q.sort.is_empty() { "created_at" } else { q.sort.as_str() };
    let descending = q.direction != "asc";
    let sort_link = |key: &str| {
        let mut q2 = q.clone();
        q2.cursor.clear();
        q2.direction = if key == current_sort && descending { "asc".into() } else { "desc".into() };
        q2.sort = key.to_owned();
        format!("/console/cases?{}", q2.query_string())
    };
    let select = |id: &'static str, label: Msg, value: &str, options: Vec<(String, String)>| {
        html! {
            div.filter {
                label for=(id) { (lang.t(label)) }
                select #(id) name=(id) {
                    option value="" { (lang.t(Msg::Any)) }
                    @for (v, text) in &options { option value=(v) selected[v == value] { (text) } }
                }
            }
        }
    };
    let statuses =
        CaseStatus::ALL.iter().map(|c| (c.as_str().to_owned(), views::status(lang, *c).to_owned())).collect();
    let priorities = ["low", "normal", "high", "urgent"]
        .iter()
        .map(|p| ((*p).to_owned(), p.parse().map_or((*p).to_owned(), |p| views::priority(lang, p).to_owned())))
        .collect();
    let mut assignees: Vec<(String, String)> = vec![("me".into(), lang.t(Msg::Me).into())];
    assignees.extend(agents.iter().map(|a| (a.id.to_string(), a.name.clone())));
    let body = html! {
        section.case-list {
            h1 { (lang.t(Msg::Cases)) }
            form.filters method="get" action="/console/cases" role="search" aria-label=(lang.t(Msg::Filters)) {
                (select("status", Msg::Status, &q.status, statuses))
                (select("priority", Msg::Priority, &q.priority, priorities))
                (select("group", Msg::ColGroup, &q.group, groups.iter().map(|g| (g.id.to_string(), g.name.clone())).collect()))
                (select("assignee", Msg::ColAssignee, &q.assignee, assignees))
                (select("category", Msg::Category, &q.category, categories.iter().map(|c| (c.key.clone(), c.label.clone())).collect()))
                (select("sla", Msg::Sla, &q.sla, vec![
                    ("breached".into(), lang.t(Msg::SlaBreached).into()),
                    ("warning".into(), lang.t(Msg::SlaWarning).into()),
                    ("running".into(), lang.t(Msg::SlaRunning).into()),
                ]))
                div.filter {
                    label for="tag" { (lang.t(Msg::Tag)) }
                    input #tag type="text" name="tag" value=(q.tag);
                }
                @if !q.sort.is_empty() { input type="hidden" name="sort" value=(q.sort); }
                @if !q.direction.is_empty() { input type="hidden" name="direction" value=(q.direction); }
                button type="submit" { (lang.t(Msg::Apply)) }
                " " a href="/console/cases" { (lang.t(Msg::Reset)) }
            }
            @if cases.items.is_empty() { p.empty { (lang.t(Msg::NoCases)) } }
            @else {
                table #cases {
                    caption.visually-hidden { (lang.t(Msg::Cases)) }
                    thead { tr { @for c in &columns {
                        @let sorted = sort_key(c) == Some(current_sort);
                        th scope="col" data-column=(c) aria-sort=[sorted.then_some(if descending { "descending" } else { "ascending" })] {
                            @if let Some(key) = sort_key(c) { a href=(sort_link(key)) { (column_label(lang, c)) } }
                            @else { (column_label(lang, c)) }
                        }
                    } } }
                    tbody { @for case in &cases.items {
                        tr { @for c in &columns { (cell(lang, c, case, &names, zone)) } }
                    } }
                }
            }
            @if let Some(next) = &next { p { a.button #next-page rel="next" href=(next) { (lang.t(Msg::NextPage)) } } }
            details.columns {
                summary { (lang.t(Msg::Columns)) }
                form method="post" action="/console/cases/columns" {
                    (csrf_field(&s.csrf))
                    input type="hidden" name="version" value=(me.version);
                    input type="hidden" name="back" value=(base);
                    fieldset {
                        legend { (lang.t(Msg::ColumnsHint)) }
                        @for c in CASE_COLUMNS {
                            label.choice {
                                input type="checkbox" name="column" value=(c) checked[columns.iter().any(|x| x == c)];
                                " " (column_label(lang, c))
                            }
                        }
                    }
                    button type="submit" { (lang.t(Msg::Save)) }
                }
            }
        }
    };
    views::page(lang, lang.t(Msg::Cases), Some(&s), body).into_response()
}

/// `POST /console/cases/columns`: saves the checked columns (in the catalogue's order) in
/// the agent's profile, at the version the form was read at; then the list again.
pub(crate) async fn save_columns(State(st): State<AppState>, s: SignedIn, RawForm(raw): RawForm) -> Response {
    // Repeated `column` fields: read the pairs, not a struct.
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&raw).unwrap_or_default();
    let value = |k: &str| pairs.iter().find(|(name, _)| name == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let Ok(version) = value("version").parse::<u64>() else {
        return views::failure(s.lang, StatusCode::UNPROCESSABLE_ENTITY, Msg::Invalid);
    };
    let chosen: Vec<String> = pairs.iter().filter(|(k, _)| k == "column").map(|(_, v)| v.clone()).collect();
    let patch = ProfilePatch { preferred_case_columns: Some(chosen), ..ProfilePatch::default() };
    match st.crm.update_profile(&s.actor, version, patch).await {
        Ok(_) => {
            let back = value("back");
            let to = if back.is_empty() { "/console/cases".to_owned() } else { format!("/console/cases?{back}") };
            Redirect::to(&to).into_response()
        }
        Err(e) => refusal(s.lang, e),
    }
}
