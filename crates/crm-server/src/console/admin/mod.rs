//! The supervisors' and administrators' pages (issue 32): agents (`agents.rs`), groups and
//! their members (`groups.rs`), roles (`roles.rs`), API tokens (`tokens.rs`), custom field
//! definitions (`fields.rs`), the disposition catalogue and the tenant's settings
//! (`settings.rs`). Every page calls the same `Crm` use cases the HTTP admin API calls,
//! with the signed-in agent's `Actor`: the core decides every permission (a page whose use
//! case does not check one, a list, asks the core's `Actor::require` for the permission its
//! writes need, so an agent without it gets the core's refusal as a 403 page). Edit forms
//! carry the version they were read at: a stale one shows the conflict with the current
//! values (409); a refused value is shown next to its field (422), from the core's
//! validation errors.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

use crm_core::access::{Permission, Role};
use crm_core::error::Conflict;

use super::i18n::{Lang, Msg};
use super::pages::refusal;
use super::session::SignedIn;
use super::views;

pub(crate) mod agents;
pub(crate) mod fields;
pub(crate) mod groups;
pub(crate) mod roles;
pub(crate) mod settings;
pub(crate) mod tokens;

/// A section of the administration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Section {
    Agents,
    Groups,
    Roles,
    Tokens,
    Fields,
    Dispositions,
    Tenant,
}

impl Section {
    const ALL: [Section; 7] = [
        Section::Agents,
        Section::Groups,
        Section::Roles,
        Section::Tokens,
        Section::Fields,
        Section::Dispositions,
        Section::Tenant,
    ];

    /// The permission its writes need (the core's).
    pub(crate) const fn permission(self) -> Permission {
        match self {
            Section::Agents | Section::Groups | Section::Roles | Section::Tokens => Permission::AdminAgents,
            Section::Fields => Permission::AdminCustomFields,
            Section::Dispositions => Permission::AdminDispositions,
            Section::Tenant => Permission::AdminTenant,
        }
    }

    const fn path(self) -> &'static str {
        match self {
            Section::Agents => "/console/admin/agents",
            Section::Groups => "/console/admin/groups",
            Section::Roles => "/console/admin/roles",
            Section::Tokens => "/console/admin/tokens",
            Section::Fields => "/console/admin/fields",
            Section::Dispositions => "/console/admin/dispositions",
            Section::Tenant => "/console/admin/tenant",
        }
    }

    const fn title(self) -> Msg {
        match self {
            Section::Agents => Msg::AdminAgents,
            Section::Groups => Msg::AdminGroups,
            Section::Roles => Msg::AdminRoles,
            Section::Tokens => Msg::AdminTokens,
            Section::Fields => Msg::AdminFields,
            Section::Dispositions => Msg::AdminDispositions,
            Section::Tenant => Msg::AdminTenant,
        }
    }
}

/// Whether the agent administers anything (the navigation's entry).
pub(crate) fn administers(s: &SignedIn) -> bool {
    Section::ALL.iter().any(|sec| s.actor.can(sec.permission()))
}

/// The core's refusal, as a page, when the agent lacks the section's permission.
pub(crate) fn gate(s: &SignedIn, section: Section) -> Option<Response> {
    s.actor.require(section.permission()).err().map(|e| refusal(s.lang, e))
}

/// An administration page: the sections the agent may open, then `body`.
pub(crate) fn page(s: &SignedIn, section: Option<Section>, title: &str, status: StatusCode, body: Markup) -> Response {
    let lang = s.lang;
    let body = html! {
        section.admin {
            nav.admin-nav aria-label=(lang.t(Msg::Administration)) {
                ul { @for sec in Section::ALL.iter().filter(|sec| s.actor.can(sec.permission())) {
                    li { a href=(sec.path()) aria-current=[(section == Some(*sec)).then_some("page")] { (lang.t(sec.title())) } }
                } }
            }
            div.admin-body { (body) }
        }
    };
    (status, views::page(lang, title, Some(s), body)).into_response()
}

/// `GET /console/admin`: the sections the agent may open (a refusal when none).
pub(crate) async fn index(s: SignedIn) -> Response {
    let lang = s.lang;
    if !administers(&s) {
        return refusal(lang, crm_core::Error::missing(Permission::AdminAgents));
    }
    let body = html! {
        h1 { (lang.t(Msg::Administration)) }
        ul.admin-index { @for sec in Section::ALL.iter().filter(|sec| s.actor.can(sec.permission())) {
            li { a href=(sec.path()) { (lang.t(sec.title())) } }
        } }
    };
    page(&s, None, lang.t(Msg::Administration), StatusCode::OK, body)
}

/// A page's query: whether a write just happened.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct SavedQuery {
    #[serde(default)]
    pub(crate) saved: Option<u8>,
}

/// What a refused write shows on its form: the values refused (by field, from the core's
/// validation errors and duplicates), a conflict the record's state makes, or a stale
/// version.
#[derive(Clone, Debug, Default)]
pub(crate) struct Issues {
    fields: Vec<(String, String)>,
    general: Option<String>,
    stale: bool,
}

impl Issues {
    /// The issues of a use case's error; other errors (forbidden, not found, failures) are
    /// given back, for the refusal page.
    pub(crate) fn of(e: crm_core::Error) -> Result<Self, crm_core::Error> {
        match e {
            crm_core::Error::Validation(v) => Ok(Self {
                fields: v.errors().iter().map(|f| (f.field.clone(), f.reason.clone())).collect(),
                ..Self::default()
            }),
            crm_core::Error::Conflict(Conflict::Duplicate { field, .. }) => {
                Ok(Self { fields: vec![(field, "is already used".into())], ..Self::default() })
            }
            crm_core::Error::Conflict(Conflict::StaleVersion { .. }) => Ok(Self { stale: true, ..Self::default() }),
            crm_core::Error::Conflict(c @ Conflict::State(_)) => {
                Ok(Self { general: Some(c.to_string()), ..Self::default() })
            }
            other => Err(other),
        }
    }

    /// One refused field (a form's own check, before the use case).
    pub(crate) fn field(field: &str, reason: &str) -> Self {
        Self { fields: vec![(field.to_owned(), reason.to_owned())], ..Self::default() }
    }

    /// The same issues with fields under `from` named under `to` (a form that names a
    /// control differently from the core's input).
    #[must_use]
    pub(crate) fn renamed(mut self, from: &str, to: &str) -> Self {
        for (f, _) in &mut self.fields {
            if let Some(rest) = f.strip_prefix(from) {
                *f = format!("{to}{rest}");
            }
        }
        self
    }

    /// The status of the answer showing them.
    pub(crate) fn status(&self) -> StatusCode {
        if self.stale || self.general.is_some() {
            StatusCode::CONFLICT
        } else if self.fields.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        }
    }

    /// Whether the version was stale.
    pub(crate) fn stale(&self) -> bool {
        self.stale
    }

    fn matches(field: &str, name: &str) -> bool {
        field == name || field.strip_prefix(name).is_some_and(|rest| rest.starts_with('[') || rest.starts_with('.'))
    }

    fn on(&self, name: &str) -> Vec<&(String, String)> {
        self.fields.iter().filter(|(f, _)| Self::matches(f, name)).collect()
    }

    /// `aria-invalid` of the control named `name`.
    pub(crate) fn invalid(&self, name: &str) -> Option<&'static str> {
        (!self.on(name).is_empty()).then_some("true")
    }

    /// `aria-describedby` of the control `id` named `name`: its error, when it has one.
    pub(crate) fn described(&self, name: &str, id: &str) -> Option<String> {
        (!self.on(name).is_empty()).then(|| format!("{id}-error"))
    }

    /// The error shown under the control `id` named `name` (nothing when it has none).
    pub(crate) fn error(&self, name: &str, id: &str) -> Markup {
        let found = self.on(name);
        html! {
            @if !found.is_empty() {
                p.error.field-error id={ (id) "-error" } role="alert" {
                    @for (i, (f, r)) in found.iter().enumerate() { @if i > 0 { "; " } (f) ": " (r) }
                }
            }
        }
    }

    /// What goes above the form: the conflict, the state that refused the change, and any
    /// refused value of a field the form does not show (`shown` lists those it does).
    pub(crate) fn summary(&self, lang: Lang, shown: &[&str]) -> Markup {
        let elsewhere: Vec<&(String, String)> =
            self.fields.iter().filter(|(f, _)| !shown.iter().any(|name| Self::matches(f, name))).collect();
        html! {
            @if self.stale { p.error.conflict role="alert" { (lang.t(Msg::Conflict)) } }
            @if let Some(g) = &self.general { p.error.refused role="alert" { (g) } }
            @if !self.fields.is_empty() { p.error { (lang.t(Msg::FixBelow)) } }
            @if !elsewhere.is_empty() {
                ul.errors role="alert" { @for (f, r) in elsewhere { li { (f) ": " (r) } } }
            }
        }
    }
}

/// A text control with its label and error.
pub(crate) fn text_field(
    issues: &Issues,
    label: &str,
    name: &str,
    id: &str,
    kind: &str,
    value: &str,
    required: bool,
) -> Markup {
    html! {
        label for=(id) { (label) }
        input id=(id) type=(kind) name=(name) value=(value) required[required] autocomplete="off"
            aria-invalid=[issues.invalid(name)] aria-describedby=[issues.described(name, id)];
        (issues.error(name, id))
    }
}

/// The pairs of a posted form (repeated names kept, for check boxes).
pub(crate) struct Posted(Vec<(String, String)>);

impl Posted {
    pub(crate) fn of(raw: &[u8]) -> Self {
        Self(serde_urlencoded::from_bytes(raw).unwrap_or_default())
    }

    /// The first value of `name` (empty when absent).
    pub(crate) fn get(&self, name: &str) -> String {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default()
    }

    /// Every value of `name`.
    pub(crate) fn all(&self, name: &str) -> Vec<String> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect()
    }

    /// Whether a check box `name` was ticked.
    pub(crate) fn checked(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }

    /// The form's version, or the issue naming it.
    pub(crate) fn version(&self) -> Result<u64, Issues> {
        self.get("version").trim().parse().map_err(|_| Issues::field("version", "is missing or not a number"))
    }
}

/// The label of a built-in role.
pub(crate) fn role_label(lang: Lang, role: Role) -> &'static str {
    lang.t(match role {
        Role::Agent => Msg::RoleAgent,
        Role::Supervisor => Msg::RoleSupervisor,
        Role::Administrator => Msg::RoleAdministrator,
    })
}

/// Yes or no.
pub(crate) fn yes_no(lang: Lang, b: bool) -> &'static str {
    lang.t(if b { Msg::Yes } else { Msg::No })
}

/// The saved notice of a page reached after a write (`?saved=1`).
pub(crate) fn saved_notice(lang: Lang, saved: bool) -> Markup {
    html! { @if saved { p.notice role="status" { (lang.t(Msg::Saved)) } } }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crm_core::error::FieldError;

    #[test]
    fn issues_attach_to_their_field_and_keep_the_others_above() {
        let e = crm_core::Error::Validation(
            crm_core::error::ValidationErrors::from_vec(vec![
                FieldError::new("mail_addresses[1]", "not an address"),
                FieldError::new("name", "is required"),
                FieldError::new("other", "unknown"),
            ])
            .expect("errors"),
        );
        let issues = Issues::of(e).expect("a validation error is shown on the form");
        assert_eq!(issues.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(issues.invalid("mail_addresses"), Some("true"));
        assert_eq!(issues.invalid("mail"), None, "a prefix of a name is not the field");
        assert_eq!(issues.described("name", "group-name").as_deref(), Some("group-name-error"));
        let html = issues.error("name", "group-name").into_string();
        assert!(html.contains(r#"id="group-name-error""#) && html.contains("name: is required"), "{html}");
        let summary = issues.summary(Lang::En, &["name", "mail_addresses"]).into_string();
        assert!(summary.contains("other: unknown") && !summary.contains("is required"), "{summary}");

        let stale = crm_core::Error::Conflict(Conflict::StaleVersion { entity: "agent", id: "x".into(), expected: 1 });
        let stale = Issues::of(stale).expect("shown on the form");
        assert!(stale.stale() && stale.status() == StatusCode::CONFLICT);
        let forbidden = crm_core::Error::missing(Permission::AdminAgents);
        assert!(Issues::of(forbidden).is_err(), "a refusal is a page of its own");
    }
}
