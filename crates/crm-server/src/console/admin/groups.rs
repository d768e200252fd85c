//! Groups (ADM-1): the list with their members, a new group, and a group's page: its form
//! (name, shared mail addresses) saved at the version read, its members (added and removed
//! through the core's `change_membership`), and its deletion (refused by the core, with
//! the reason, while members or cases use it).

use axum::extract::{Path, Query, RawForm, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;

use crm_core::access::Group;
use crm_core::ids::{AgentId, GroupId};
use crm_core::service::{GroupPatch, Membership};

use super::{Issues, Posted, SavedQuery, Section, gate, page, saved_notice, text_field};
use crate::console::i18n::Msg;
use crate::console::pages::refusal;
use crate::console::session::SignedIn;
use crate::console::views::csrf_field;
use crate::state::AppState;

/// Mail addresses as typed: one a line (or separated by commas).
fn addresses(text: &str) -> Vec<String> {
    text.split(['\n', ',']).map(str::trim).filter(|a| !a.is_empty()).map(str::to_owned).collect()
}

fn addresses_text(g: &Group) -> String {
    g.mail_addresses.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
}

/// A group's form controls (name, addresses).
fn group_fields(
    issues: &Issues,
    lang: crate::console::i18n::Lang,
    prefix: &str,
    name: &str,
    mails: &str,
) -> maud::Markup {
    let mails_id = format!("{prefix}-mails");
    html! {
        (text_field(issues, lang.t(Msg::Name), "name", &format!("{prefix}-name"), "text", name, true))
        label for=(mails_id) { (lang.t(Msg::MailAddresses)) }
        textarea id=(mails_id) name="mail_addresses" rows="3"
            aria-invalid=[issues.invalid("mail_addresses")]
            aria-describedby=(issues.described("mail_addresses", &mails_id).map_or_else(|| format!("{mails_id}-hint"), |e| format!("{mails_id}-hint {e}"))) { (mails) }
        p.hint id={ (mails_id) "-hint" } { (lang.t(Msg::MailAddressesHint)) }
        (issues.error("mail_addresses", &mails_id))
    }
}

/// `GET /console/admin/groups`: the groups and the new group form.
pub(crate) async fn list(State(st): State<AppState>, s: SignedIn, Query(q): Query<SavedQuery>) -> Response {
    render_list(&st, &s, ("", ""), Issues::default(), q.saved.is_some()).await
}

async fn render_list(st: &AppState, s: &SignedIn, typed: (&str, &str), issues: Issues, saved: bool) -> Response {
    if let Some(refused) = gate(s, Section::Groups) {
        return refused;
    }
    let lang = s.lang;
    let (groups, agents) = match futures::try_join!(st.crm.list_groups(&s.actor), st.crm.list_agents(&s.actor)) {
        Ok(found) => found,
        Err(e) => return refusal(lang, e),
    };
    let body = html! {
        h1 { (lang.t(Msg::AdminGroups)) }
        (saved_notice(lang, saved))
        @if groups.is_empty() { p.empty { (lang.t(Msg::NoGroups)) } }
        @else {
            table #groups {
                caption.visually-hidden { (lang.t(Msg::AdminGroups)) }
                thead { tr {
                    th scope="col" { (lang.t(Msg::Name)) }
                    th scope="col" { (lang.t(Msg::MailAddresses)) }
                    th scope="col" { (lang.t(Msg::Members)) }
                } }
                tbody { @for g in &groups {
                    tr {
                        td { a href={ "/console/admin/groups/" (g.id) } { (g.name) } }
                        td { (g.mail_addresses.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")) }
                        td { (agents.iter().filter(|a| a.groups.contains(&g.id)).count()) }
                    }
                } }
            }
        }
        section.new-group aria-labelledby="new-group" {
            h2 #new-group { (lang.t(Msg::NewGroup)) }
            (issues.summary(lang, &["name", "mail_addresses"]))
            form.new-group method="post" action="/console/admin/groups" {
                (csrf_field(&s.csrf))
                (group_fields(&issues, lang, "new-group", typed.0, typed.1))
                button type="submit" { (lang.t(Msg::Create)) }
            }
        }
    };
    page(s, Some(Section::Groups), lang.t(Msg::AdminGroups), issues.status(), body)
}

/// `POST /console/admin/groups`: creates a group, then opens it.
pub(crate) async fn create(State(st): State<AppState>, s: SignedIn, RawForm(raw): RawForm) -> Response {
    let f = Posted::of(&raw);
    let (name, mails) = (f.get("name"), f.get("mail_addresses"));
    match st.crm.create_group(&s.actor, &name, &addresses(&mails)).await {
        Ok(g) => Redirect::to(&format!("/console/admin/groups/{}?saved=1", g.id)).into_response(),
        Err(e) => match Issues::of(e) {
            Ok(issues) => render_list(&st, &s, (&name, &mails), issues, false).await,
            Err(e) => refusal(s.lang, e),
        },
    }
}

/// `GET /console/admin/groups/{id}`: the group's form, members and deletion.
pub(crate) async fn edit(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<GroupId>,
    Query(q): Query<SavedQuery>,
) -> Response {
    render_group(&st, &s, id, None, Issues::default(), q.saved.is_some()).await
}

async fn render_group(
    st: &AppState,
    s: &SignedIn,
    id: GroupId,
    typed: Option<(String, String, u64)>,
    issues: Issues,
    saved: bool,
) -> Response {
    if let Some(refused) = gate(s, Section::Groups) {
        return refused;
    }
    let lang = s.lang;
    let (group, agents) = match futures::try_join!(st.crm.get_group(&s.actor, id), st.crm.list_agents(&s.actor)) {
        Ok(found) => found,
        Err(e) => return refusal(lang, e),
    };
    let (name, mails, version) = match typed {
        Some(t) if !issues.stale() => t,
        _ => (group.name.clone(), addresses_text(&group), group.version),
    };
    let (members, others): (Vec<_>, Vec<_>) = agents.iter().partition(|a| a.groups.contains(&group.id));
    let body = html! {
        p { a href="/console/admin/groups" { (lang.t(Msg::BackToList)) } }
        h1 { (group.name) }
        (saved_notice(lang, saved))
        (issues.summary(lang, &["name", "mail_addresses"]))
        form.group method="post" action={ "/console/admin/groups/" (group.id) } {
            (csrf_field(&s.csrf))
            input type="hidden" name="version" value=(version);
            (group_fields(&issues, lang, "group", &name, &mails))
            button type="submit" { (lang.t(Msg::Save)) }
        }
        section.members aria-labelledby="members" {
            h2 #members { (lang.t(Msg::Members)) }
            @if members.is_empty() { p.empty { (lang.t(Msg::NoMembers)) } }
            ul.members { @for a in &members {
                li data-agent=(a.id) {
                    a href={ "/console/admin/agents/" (a.id) } { (a.name) }
                    " "
                    form.inline method="post" action={ "/console/admin/groups/" (group.id) "/members/" (a.id) "/remove" } {
                        (csrf_field(&s.csrf))
                        button type="submit" aria-label={ (lang.t(Msg::RemoveMember)) " " (a.name) } { (lang.t(Msg::RemoveMember)) }
                    }
                }
            } }
            @if !others.is_empty() {
                form.add-member method="post" action={ "/console/admin/groups/" (group.id) "/members" } {
                    (csrf_field(&s.csrf))
                    label for="member" { (lang.t(Msg::AddMember)) }
                    select #member name="agent" required {
                        option value="" { (lang.t(Msg::ChooseDisposition)) }
                        @for a in &others { option value=(a.id) { (a.name) " · " (a.email.to_string()) } }
                    }
                    button type="submit" { (lang.t(Msg::Add)) }
                }
            }
        }
        section.danger aria-labelledby="delete-group" {
            h2 #delete-group { (lang.t(Msg::DeleteGroup)) }
            p.hint { (lang.t(Msg::DeleteGroupHint)) }
            form.delete method="post" action={ "/console/admin/groups/" (group.id) "/delete" } {
                (csrf_field(&s.csrf))
                input type="hidden" name="version" value=(group.version);
                button.danger type="submit" { (lang.t(Msg::Delete)) }
            }
        }
    };
    page(s, Some(Section::Groups), &group.name, issues.status(), body)
}

/// `POST /console/admin/groups/{id}`: saves the group at the version read.
pub(crate) async fn save(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<GroupId>,
    RawForm(raw): RawForm,
) -> Response {
    let f = Posted::of(&raw);
    let (name, mails) = (f.get("name"), f.get("mail_addresses"));
    let version = match f.version() {
        Ok(v) => v,
        Err(issues) => return render_group(&st, &s, id, None, issues, false).await,
    };
    let patch = GroupPatch { name: Some(name.clone()), mail_addresses: Some(addresses(&mails)) };
    match st.crm.update_group(&s.actor, id, version, patch).await {
        Ok(_) => Redirect::to(&format!("/console/admin/groups/{id}?saved=1")).into_response(),
        Err(e) => match Issues::of(e) {
            Ok(issues) => render_group(&st, &s, id, Some((name, mails, version)), issues, false).await,
            Err(e) => refusal(s.lang, e),
        },
    }
}

/// `POST /console/admin/groups/{id}/delete`: deletes the group at the version read; a
/// group in use stays, with the core's reason.
pub(crate) async fn delete(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<GroupId>,
    RawForm(raw): RawForm,
) -> Response {
    let version = match Posted::of(&raw).version() {
        Ok(v) => v,
        Err(issues) => return render_group(&st, &s, id, None, issues, false).await,
    };
    match st.crm.delete_group(&s.actor, id, version).await {
        Ok(()) => Redirect::to("/console/admin/groups?saved=1").into_response(),
        Err(e) => match Issues::of(e) {
            Ok(issues) => render_group(&st, &s, id, None, issues, false).await,
            Err(e) => refusal(s.lang, e),
        },
    }
}

/// `POST /console/admin/groups/{id}/members`: adds the chosen agent.
pub(crate) async fn add_member(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<GroupId>,
    RawForm(raw): RawForm,
) -> Response {
    let Ok(agent) = Posted::of(&raw).get("agent").parse::<AgentId>() else {
        return render_group(&st, &s, id, None, Issues::field("agent", "choose an agent"), false).await;
    };
    membership(&st, &s, id, agent, Membership::Join).await
}

/// `POST /console/admin/groups/{id}/members/{agent}/remove`: removes the agent.
pub(crate) async fn remove_member(
    State(st): State<AppState>,
    s: SignedIn,
    Path((id, agent)): Path<(GroupId, AgentId)>,
) -> Response {
    membership(&st, &s, id, agent, Membership::Leave).await
}

async fn membership(st: &AppState, s: &SignedIn, id: GroupId, agent: AgentId, change: Membership) -> Response {
    match st.crm.change_membership(&s.actor, id, agent, change).await {
        Ok(a) => {
            st.tokens.forget_agent(a.tenant, a.id);
            Redirect::to(&format!("/console/admin/groups/{id}?saved=1")).into_response()
        }
        Err(e) => match Issues::of(e) {
            Ok(issues) => render_group(st, s, id, None, issues, false).await,
            Err(e) => refusal(s.lang, e),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_one_a_line_or_comma_separated() {
        assert_eq!(
            addresses(" a@x.example\r\n\nb@x.example, c@x.example "),
            ["a@x.example", "b@x.example", "c@x.example"]
        );
        assert!(addresses("  \n ").is_empty());
    }
}
