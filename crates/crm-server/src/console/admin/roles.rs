//! Roles (ADM-2): the built-in roles and the tenant's own with what they grant, a new role
//! (name, description, permissions), and a tenant role's form saved at the version read,
//! or its deletion (refused by the core while an agent holds it). Nobody grants through a
//! role a permission they lack: the core refuses it.

use std::collections::BTreeSet;

use axum::extract::{Path, Query, RawForm, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};

use crm_core::access::{NewRole, Permission, RolePatch};
use crm_core::ids::RoleId;
use crm_core::service::RoleRef;

use super::{Issues, Posted, SavedQuery, Section, gate, page, role_label, saved_notice, text_field, yes_no};
use crate::console::i18n::{Lang, Msg};
use crate::console::pages::refusal;
use crate::console::session::SignedIn;
use crate::console::views::csrf_field;
use crate::state::AppState;

/// What a role's form shows.
#[derive(Debug, Default, Clone)]
struct RoleValues {
    name: String,
    description: String,
    permissions: BTreeSet<String>,
}

impl RoleValues {
    fn posted(f: &Posted) -> Self {
        Self {
            name: f.get("name"),
            description: f.get("description"),
            permissions: f.all("permission").into_iter().collect(),
        }
    }
}

fn role_fields(lang: Lang, issues: &Issues, prefix: &str, v: &RoleValues) -> Markup {
    let desc_id = format!("{prefix}-description");
    html! {
        (text_field(issues, lang.t(Msg::Name), "name", &format!("{prefix}-name"), "text", &v.name, true))
        (text_field(issues, lang.t(Msg::Description), "description", &desc_id, "text", &v.description, false))
        fieldset.permissions aria-describedby=[issues.described("permissions", &format!("{prefix}-permissions"))] {
            legend { (lang.t(Msg::Permissions)) }
            @for p in Permission::ALL {
                label.choice {
                    input type="checkbox" name="permission" value=(p.as_str()) checked[v.permissions.contains(p.as_str())];
                    " " code { (p.as_str()) }
                }
            }
        }
        (issues.error("permissions", &format!("{prefix}-permissions")))
    }
}

/// `GET /console/admin/roles`: the roles and the new role form.
pub(crate) async fn list(State(st): State<AppState>, s: SignedIn, Query(q): Query<SavedQuery>) -> Response {
    render_list(&st, &s, RoleValues::default(), Issues::default(), q.saved.is_some()).await
}

async fn render_list(st: &AppState, s: &SignedIn, values: RoleValues, issues: Issues, saved: bool) -> Response {
    if let Some(refused) = gate(s, Section::Roles) {
        return refused;
    }
    let lang = s.lang;
    let roles = match st.crm.list_roles(&s.actor).await {
        Ok(r) => r,
        Err(e) => return refusal(lang, e),
    };
    let body = html! {
        h1 { (lang.t(Msg::AdminRoles)) }
        (saved_notice(lang, saved))
        table #roles {
            caption.visually-hidden { (lang.t(Msg::AdminRoles)) }
            thead { tr {
                th scope="col" { (lang.t(Msg::Name)) }
                th scope="col" { (lang.t(Msg::Description)) }
                th scope="col" { (lang.t(Msg::Permissions)) }
                th scope="col" { (lang.t(Msg::BuiltIn)) }
            } }
            tbody { @for r in &roles {
                tr {
                    @let builtin = r.id.parse::<crm_core::access::Role>().ok().filter(|_| r.built_in);
                    td { @match builtin {
                        Some(b) => (role_label(lang, b)),
                        None => a href={ "/console/admin/roles/" (r.id) } { (r.name) },
                    } }
                    td { (r.description.as_deref().unwrap_or("")) }
                    td.permissions { (r.permissions.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(", ")) }
                    td { (yes_no(lang, r.built_in)) }
                }
            } }
        }
        section.new-role aria-labelledby="new-role" {
            h2 #new-role { (lang.t(Msg::NewRole)) }
            (issues.summary(lang, &["name", "description", "permissions"]))
            form.new-role method="post" action="/console/admin/roles" {
                (csrf_field(&s.csrf))
                (role_fields(lang, &issues, "new-role", &values))
                button type="submit" { (lang.t(Msg::Create)) }
            }
        }
    };
    page(s, Some(Section::Roles), lang.t(Msg::AdminRoles), issues.status(), body)
}

/// `POST /console/admin/roles`: creates a role.
pub(crate) async fn create(State(st): State<AppState>, s: SignedIn, RawForm(raw): RawForm) -> Response {
    let values = RoleValues::posted(&Posted::of(&raw));
    let input = NewRole {
        name: values.name.clone(),
        description: Some(values.description.clone()).filter(|d| !d.trim().is_empty()),
        permissions: values.permissions.iter().cloned().collect(),
    };
    match st.crm.create_role(&s.actor, input).await {
        Ok(r) => Redirect::to(&format!("/console/admin/roles/{}?saved=1", r.id)).into_response(),
        Err(e) => match Issues::of(e) {
            Ok(issues) => render_list(&st, &s, values, issues, false).await,
            Err(e) => refusal(s.lang, e),
        },
    }
}

/// `GET /console/admin/roles/{id}`: a tenant role's form.
pub(crate) async fn edit(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<RoleId>,
    Query(q): Query<SavedQuery>,
) -> Response {
    render_role(&st, &s, id, None, Issues::default(), q.saved.is_some()).await
}

async fn render_role(
    st: &AppState,
    s: &SignedIn,
    id: RoleId,
    typed: Option<(RoleValues, u64)>,
    issues: Issues,
    saved: bool,
) -> Response {
    if let Some(refused) = gate(s, Section::Roles) {
        return refused;
    }
    let lang = s.lang;
    let role = match st.crm.get_role(&s.actor, RoleRef::Tenant(id)).await {
        Ok(r) => r,
        Err(e) => return refusal(lang, e),
    };
    let stored_version = role.version.unwrap_or_default();
    let (values, version) = match typed {
        Some(t) if !issues.stale() => t,
        _ => (
            RoleValues {
                name: role.name.clone(),
                description: role.description.clone().unwrap_or_default(),
                permissions: role.permissions.iter().map(|p| p.as_str().to_owned()).collect(),
            },
            stored_version,
        ),
    };
    let body = html! {
        p { a href="/console/admin/roles" { (lang.t(Msg::BackToList)) } }
        h1 { (role.name) }
        (saved_notice(lang, saved))
        (issues.summary(lang, &["name", "description", "permissions"]))
        form.role method="post" action={ "/console/admin/roles/" (id) } {
            (csrf_field(&s.csrf))
            input type="hidden" name="version" value=(version);
            (role_fields(lang, &issues, "role", &values))
            button type="submit" { (lang.t(Msg::Save)) }
        }
        section.danger aria-labelledby="delete-role" {
            h2 #delete-role { (lang.t(Msg::DeleteRole)) }
            p.hint { (lang.t(Msg::DeleteRoleHint)) }
            form.delete method="post" action={ "/console/admin/roles/" (id) "/delete" } {
                (csrf_field(&s.csrf))
                input type="hidden" name="version" value=(stored_version);
                button.danger type="submit" { (lang.t(Msg::Delete)) }
            }
        }
    };
    page(s, Some(Section::Roles), &role.name, issues.status(), body)
}

/// `POST /console/admin/roles/{id}`: saves the role at the version read.
pub(crate) async fn save(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<RoleId>,
    RawForm(raw): RawForm,
) -> Response {
    let f = Posted::of(&raw);
    let values = RoleValues::posted(&f);
    let version = match f.version() {
        Ok(v) => v,
        Err(issues) => return render_role(&st, &s, id, None, issues, false).await,
    };
    let description = values.description.trim();
    let patch = RolePatch {
        name: Some(values.name.clone()),
        description: Some(Some(description.to_owned()).filter(|d| !d.is_empty())),
        permissions: Some(values.permissions.iter().cloned().collect()),
    };
    match st.crm.update_role(&s.actor, RoleRef::Tenant(id), version, patch).await {
        Ok(role) => {
            st.tokens.forget_role(role.tenant, role.id);
            Redirect::to(&format!("/console/admin/roles/{id}?saved=1")).into_response()
        }
        Err(e) => match Issues::of(e) {
            Ok(issues) => render_role(&st, &s, id, Some((values, version)), issues, false).await,
            Err(e) => refusal(s.lang, e),
        },
    }
}

/// `POST /console/admin/roles/{id}/delete`: deletes the role at the version read.
pub(crate) async fn delete(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<RoleId>,
    RawForm(raw): RawForm,
) -> Response {
    let version = match Posted::of(&raw).version() {
        Ok(v) => v,
        Err(issues) => return render_role(&st, &s, id, None, issues, false).await,
    };
    match st.crm.delete_role(&s.actor, RoleRef::Tenant(id), version).await {
        Ok(()) => {
            st.tokens.forget_role(s.actor.tenant, id);
            Redirect::to("/console/admin/roles?saved=1").into_response()
        }
        Err(e) => match Issues::of(e) {
            Ok(issues) => render_role(&st, &s, id, None, issues, false).await,
            Err(e) => refusal(s.lang, e),
        },
    }
}
