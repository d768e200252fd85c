//! Agents (ADM-1, ADM-2): the list with their role, groups and state, a new agent, and an
//! agent's form (name, built-in role, the tenant's role in its place, groups, active) saved
//! through the core's `update_agent` at the version read (the same as
//! `PATCH /api/v1/agents/{id}`); and the agent's console password, set through the core's
//! `set_agent_password` (as `PUT /api/v1/agents/{id}/password`).

use std::collections::BTreeSet;

use axum::extract::{Path, Query, RawForm, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;

use crm_core::access::{Agent, Role, RoleInfo};
use crm_core::ids::{AgentId, GroupId, RoleId};
use crm_core::service::{AgentPatch, NewAgent};

use super::{Issues, Posted, SavedQuery, Section, gate, page, role_label, saved_notice, text_field, yes_no};
use crate::console::i18n::Msg;
use crate::console::pages::refusal;
use crate::console::session::SignedIn;
use crate::console::views::csrf_field;
use crate::state::AppState;

const ROLES: [Role; 3] = [Role::Agent, Role::Supervisor, Role::Administrator];

/// What the new agent form showed.
#[derive(Debug, Default)]
struct NewValues {
    name: String,
    email: String,
    role: String,
}

/// `GET /console/admin/agents`: the agents and the new agent form.
pub(crate) async fn list(State(st): State<AppState>, s: SignedIn, Query(q): Query<SavedQuery>) -> Response {
    render_list(&st, &s, NewValues::default(), Issues::default(), q.saved.is_some()).await
}

async fn render_list(st: &AppState, s: &SignedIn, values: NewValues, issues: Issues, saved: bool) -> Response {
    if let Some(refused) = gate(s, Section::Agents) {
        return refused;
    }
    let lang = s.lang;
    let found =
        futures::try_join!(st.crm.list_agents(&s.actor), st.crm.list_groups(&s.actor), st.crm.list_roles(&s.actor));
    let (agents, groups, roles) = match found {
        Ok(found) => found,
        Err(e) => return refusal(lang, e),
    };
    let group_name = |g: &GroupId| groups.iter().find(|x| x.id == *g).map(|x| x.name.clone()).unwrap_or_default();
    let body = html! {
        h1 { (lang.t(Msg::AdminAgents)) }
        (saved_notice(lang, saved))
        table #agents {
            caption.visually-hidden { (lang.t(Msg::AdminAgents)) }
            thead { tr {
                th scope="col" { (lang.t(Msg::Name)) }
                th scope="col" { (lang.t(Msg::Email)) }
                th scope="col" { (lang.t(Msg::Role)) }
                th scope="col" { (lang.t(Msg::AdminGroups)) }
                th scope="col" { (lang.t(Msg::Active)) }
            } }
            tbody { @for a in &agents {
                tr data-agent=(a.id) {
                    td { a href={ "/console/admin/agents/" (a.id) } { (a.name) } }
                    td { (a.email.to_string()) }
                    td { (role_of(lang, a, &roles)) }
                    td { (a.groups.iter().map(group_name).collect::<Vec<_>>().join(", ")) }
                    td { (yes_no(lang, a.active)) }
                }
            } }
        }
        section.new-agent aria-labelledby="new-agent" {
            h2 #new-agent { (lang.t(Msg::NewAgent)) }
            (issues.summary(lang, &["name", "email", "role"]))
            form.new-agent method="post" action="/console/admin/agents" {
                (csrf_field(&s.csrf))
                (text_field(&issues, lang.t(Msg::Name), "name", "agent-name", "text", &values.name, true))
                (text_field(&issues, lang.t(Msg::Email), "email", "agent-email", "email", &values.email, true))
                label for="agent-role" { (lang.t(Msg::Role)) }
                select #agent-role name="role" aria-invalid=[issues.invalid("role")] aria-describedby=[issues.described("role", "agent-role")] {
                    @for r in ROLES { option value=(r.as_str()) selected[values.role == r.as_str()] { (role_label(lang, r)) } }
                }
                (issues.error("role", "agent-role"))
                button type="submit" { (lang.t(Msg::Create)) }
            }
        }
    };
    page(s, Some(Section::Agents), lang.t(Msg::AdminAgents), issues.status(), body)
}

/// The role an agent acts with: the tenant's role in place of the built-in one, if any.
fn role_of(lang: crate::console::i18n::Lang, a: &Agent, roles: &[RoleInfo]) -> String {
    match a.custom_role {
        Some(id) => roles.iter().find(|r| r.id == id.to_string()).map_or_else(|| id.to_string(), |r| r.name.clone()),
        None => role_label(lang, a.role).to_owned(),
    }
}

/// `POST /console/admin/agents`: creates an agent, then opens its form.
pub(crate) async fn create(State(st): State<AppState>, s: SignedIn, RawForm(raw): RawForm) -> Response {
    let f = Posted::of(&raw);
    let values = NewValues { name: f.get("name"), email: f.get("email"), role: f.get("role") };
    let role = match values.role.parse::<Role>() {
        Ok(r) => r,
        Err(e) => return render_list(&st, &s, values, Issues::field(&e.field, &e.reason), false).await,
    };
    let input = NewAgent { name: values.name.clone(), email: values.email.clone(), role, groups: BTreeSet::new() };
    match st.crm.create_agent(s.actor.tenant, Some(&s.actor), input).await {
        Ok(a) => Redirect::to(&format!("/console/admin/agents/{}?saved=1", a.id)).into_response(),
        Err(e) => match Issues::of(e) {
            Ok(issues) => render_list(&st, &s, values, issues, false).await,
            Err(e) => refusal(s.lang, e),
        },
    }
}

/// What an agent's form shows: the stored values, or those refused.
#[derive(Debug, Clone)]
struct AgentValues {
    name: String,
    role: String,
    custom_role: String,
    active: bool,
    groups: BTreeSet<String>,
}

impl From<&Agent> for AgentValues {
    fn from(a: &Agent) -> Self {
        Self {
            name: a.name.clone(),
            role: a.role.as_str().to_owned(),
            custom_role: a.custom_role.map(|r| r.to_string()).unwrap_or_default(),
            active: a.active,
            groups: a.groups.iter().map(ToString::to_string).collect(),
        }
    }
}

/// `GET /console/admin/agents/{id}`: the agent's form.
pub(crate) async fn edit(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<AgentId>,
    Query(q): Query<SavedQuery>,
) -> Response {
    render_agent(&st, &s, id, None, Issues::default(), q.saved.is_some(), None).await
}

async fn render_agent(
    st: &AppState,
    s: &SignedIn,
    id: AgentId,
    refused: Option<(AgentValues, u64)>,
    issues: Issues,
    saved: bool,
    invitation: Option<&str>,
) -> Response {
    if let Some(refused) = gate(s, Section::Agents) {
        return refused;
    }
    let lang = s.lang;
    let found =
        futures::try_join!(st.crm.get_agent(&s.actor, id), st.crm.list_groups(&s.actor), st.crm.list_roles(&s.actor));
    let (agent, groups, roles) = match found {
        Ok(found) => found,
        Err(e) => return refusal(lang, e),
    };
    // A stale form shows the record as it is now; a refused one what was typed.
    let (values, version) = match refused {
        Some((values, version)) if !issues.stale() => (values, version),
        _ => (AgentValues::from(&agent), agent.version),
    };
    let tenant_roles: Vec<&RoleInfo> = roles.iter().filter(|r| !r.built_in).collect();
    let body = html! {
        p { a href="/console/admin/agents" { (lang.t(Msg::BackToList)) } }
        h1 { (agent.name) }
        p.muted { (agent.email.to_string()) }
        (saved_notice(lang, saved))
        (issues.summary(lang, &["name", "role", "custom_role", "groups", "active", "password"]))
        form.agent method="post" action={ "/console/admin/agents/" (agent.id) } {
            (csrf_field(&s.csrf))
            input type="hidden" name="version" value=(version);
            (text_field(&issues, lang.t(Msg::Name), "name", "agent-name", "text", &values.name, true))
            label for="agent-role" { (lang.t(Msg::Role)) }
            select #agent-role name="role" aria-invalid=[issues.invalid("role")] aria-describedby=[issues.described("role", "agent-role")] {
                @for r in ROLES { option value=(r.as_str()) selected[values.role == r.as_str()] { (role_label(lang, r)) } }
            }
            (issues.error("role", "agent-role"))
            label for="agent-custom-role" { (lang.t(Msg::CustomRole)) }
            select #agent-custom-role name="custom_role" aria-describedby="agent-custom-role-hint"
                aria-invalid=[issues.invalid("custom_role")] {
                option value="" { (lang.t(Msg::NoCustomRole)) }
                @for r in &tenant_roles { option value=(r.id) selected[values.custom_role == r.id] { (r.name) } }
            }
            p.hint #agent-custom-role-hint { (lang.t(Msg::CustomRoleHint)) }
            (issues.error("custom_role", "agent-custom-role"))
            fieldset aria-describedby=[issues.described("groups", "agent-groups")] {
                legend { (lang.t(Msg::AdminGroups)) }
                @if groups.is_empty() { p.empty { (lang.t(Msg::NoGroups)) } }
                @for g in &groups {
                    label.choice {
                        input type="checkbox" name="group" value=(g.id) checked[values.groups.contains(&g.id.to_string())];
                        " " (g.name)
                    }
                }
            }
            (issues.error("groups", "agent-groups"))
            label.choice {
                input #agent-active type="checkbox" name="active" value="1" checked[values.active]
                    aria-invalid=[issues.invalid("active")];
                " " (lang.t(Msg::ActiveHint))
            }
            (issues.error("active", "agent-active"))
            div { button type="submit" { (lang.t(Msg::Save)) } }
        }
        section.invitation aria-labelledby="invitation" {
            h2 #invitation { (lang.t(Msg::Invitation)) }
            @if let Some(link) = invitation {
                div.secret role="status" {
                    p { (lang.t(Msg::InvitationCreated)) }
                    label for="invitation-link" { (lang.t(Msg::InvitationLink)) }
                    input #invitation-link type="text" readonly value=(link) autocomplete="off" spellcheck="false";
                }
            }
            p.hint #invitation-hint { (lang.t(Msg::InvitationHint)) }
            form.invite method="post" action={ "/console/admin/agents/" (agent.id) "/invitation" } {
                (csrf_field(&s.csrf))
                button type="submit" aria-describedby="invitation-hint" { (lang.t(Msg::CreateInvitation)) }
            }
        }
        section.password aria-labelledby="set-password" {
            h2 #set-password { (lang.t(Msg::SetPassword)) }
            p.hint #password-hint { (lang.t(Msg::PasswordHint)) }
            form.password method="post" action={ "/console/admin/agents/" (agent.id) "/password" } {
                (csrf_field(&s.csrf))
                label for="agent-password" { (lang.t(Msg::Password)) }
                input #agent-password type="password" name="password" autocomplete="new-password" required
                    aria-invalid=[issues.invalid("password")]
                    aria-describedby=(issues.described("password", "agent-password").map_or_else(|| "password-hint".to_owned(), |e| format!("password-hint {e}")));
                (issues.error("password", "agent-password"))
                button type="submit" { (lang.t(Msg::SetPassword)) }
            }
        }
    };
    page(s, Some(Section::Agents), &agent.name, issues.status(), body)
}

/// `POST /console/admin/agents/{id}`: saves the agent at the version read.
pub(crate) async fn save(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<AgentId>,
    RawForm(raw): RawForm,
) -> Response {
    let f = Posted::of(&raw);
    let values = AgentValues {
        name: f.get("name"),
        role: f.get("role"),
        custom_role: f.get("custom_role"),
        active: f.checked("active"),
        groups: f.all("group").into_iter().collect(),
    };
    let version = match f.version() {
        Ok(v) => v,
        Err(issues) => return render_agent(&st, &s, id, None, issues, false, None).await,
    };
    let refuse = |field: &str, reason: &str| Issues::field(field, reason);
    let role = match values.role.parse::<Role>() {
        Ok(r) => r,
        Err(e) => {
            return render_agent(&st, &s, id, Some((values, version)), refuse(&e.field, &e.reason), false, None).await;
        }
    };
    let custom_role = if values.custom_role.is_empty() {
        None
    } else {
        match values.custom_role.parse::<RoleId>() {
            Ok(r) => Some(r),
            Err(_) => {
                let issues = refuse("custom_role", "is not a role of this tenant");
                return render_agent(&st, &s, id, Some((values, version)), issues, false, None).await;
            }
        }
    };
    let Ok(groups) = values.groups.iter().map(|g| g.parse::<GroupId>()).collect::<Result<BTreeSet<_>, _>>() else {
        let issues = refuse("groups", "holds a value that is not a group");
        return render_agent(&st, &s, id, Some((values, version)), issues, false, None).await;
    };
    let patch = AgentPatch {
        name: Some(values.name.clone()),
        role: Some(role),
        custom_role: Some(custom_role),
        groups: Some(groups),
        active: Some(values.active),
    };
    match st.crm.update_agent(&s.actor, id, version, patch).await {
        Ok(a) => {
            // Deactivation and role changes bind this replica's tokens at once (as the API).
            st.tokens.forget_agent(a.tenant, a.id);
            Redirect::to(&format!("/console/admin/agents/{id}?saved=1")).into_response()
        }
        Err(e) => match Issues::of(e) {
            Ok(issues) => render_agent(&st, &s, id, Some((values, version)), issues, false, None).await,
            Err(e) => refusal(s.lang, e),
        },
    }
}

/// `POST /console/admin/agents/{id}/password`: sets the agent's console password (the
/// core's rules; the agent's sessions end).
pub(crate) async fn set_password(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<AgentId>,
    RawForm(raw): RawForm,
) -> Response {
    let password = Posted::of(&raw).get("password");
    let hash = |p: &str| crate::console::hash_password(p);
    match st.crm.set_agent_password(&s.actor, id, &password, &hash).await {
        Ok(()) => Redirect::to(&format!("/console/admin/agents/{id}?saved=1")).into_response(),
        Err(e) => match Issues::of(e) {
            Ok(issues) => render_agent(&st, &s, id, None, issues, false, None).await,
            Err(e) => refusal(s.lang, e),
        },
    }
}

/// `POST /console/admin/agents/{id}/invitation`: a one-time link, valid for
/// [`crate::console::invitation::LIFETIME_HOURS`], that lets the agent choose their
/// password; shown once. The agent's password is replaced by a random one nobody knows
/// (the core's `set_agent_password`: its permission, its rules; the agent's sessions end).
pub(crate) async fn invite(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<AgentId>,
    headers: axum::http::HeaderMap,
) -> Response {
    match crate::console::invitation::create(&st, &s.actor, id).await {
        Ok(token) => {
            let link = crate::console::invitation::link(&headers, &token);
            tracing::info!(agent = %id, by = %s.actor.agent, "console invitation link created");
            render_agent(&st, &s, id, None, Issues::default(), false, Some(&link)).await
        }
        Err(e) => match Issues::of(e) {
            Ok(issues) => render_agent(&st, &s, id, None, issues, false, None).await,
            Err(e) => refusal(s.lang, e),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_role_select_values_parse_back() {
        assert!(ROLES.iter().all(|r| r.as_str().parse::<Role>().ok() == Some(*r)));
    }
}
