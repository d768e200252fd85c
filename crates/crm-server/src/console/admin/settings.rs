//! The disposition catalogue (INT-3) and the tenant's settings (ADM-3). A disposition code
//! is added or replaced whole by the core's `put_disposition` (the catalogue has no
//! versions: the last write wins, as `POST /api/v1/dispositions`); retiring one keeps it on
//! past interactions. The tenant's default phone region, time zone and public slug go
//! through `update_tenant_settings` (a region that would make stored numbers invalid is
//! refused, naming them, next to its field).

use axum::extract::{Query, RawForm, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;

use crm_core::interaction::DispositionInput;
use crm_core::service::TenantSettingsPatch;

use super::{Issues, Posted, SavedQuery, Section, gate, page, saved_notice, text_field, yes_no};
use crate::console::i18n::Msg;
use crate::console::pages::refusal;
use crate::console::session::SignedIn;
use crate::console::views::csrf_field;
use crate::state::AppState;

/// What the disposition form showed.
#[derive(Debug)]
struct CodeValues {
    code: String,
    label: String,
    group: String,
    active: bool,
}

impl Default for CodeValues {
    fn default() -> Self {
        Self { code: String::new(), label: String::new(), group: String::new(), active: true }
    }
}

/// `GET /console/admin/dispositions`: the catalogue and the form that adds or replaces a
/// code.
pub(crate) async fn dispositions(State(st): State<AppState>, s: SignedIn, Query(q): Query<SavedQuery>) -> Response {
    render_codes(&st, &s, CodeValues::default(), Issues::default(), q.saved.is_some()).await
}

async fn render_codes(st: &AppState, s: &SignedIn, v: CodeValues, issues: Issues, saved: bool) -> Response {
    if let Some(refused) = gate(s, Section::Dispositions) {
        return refused;
    }
    let lang = s.lang;
    let codes = match st.crm.dispositions(&s.actor).await {
        Ok(c) => c,
        Err(e) => return refusal(lang, e),
    };
    let body = html! {
        h1 { (lang.t(Msg::AdminDispositions)) }
        (saved_notice(lang, saved))
        @if codes.is_empty() { p.empty { (lang.t(Msg::NoDispositionCodes)) } }
        @else {
            table #dispositions {
                caption.visually-hidden { (lang.t(Msg::AdminDispositions)) }
                thead { tr {
                    th scope="col" { (lang.t(Msg::Code)) }
                    th scope="col" { (lang.t(Msg::Label)) }
                    th scope="col" { (lang.t(Msg::CodeGroup)) }
                    th scope="col" { (lang.t(Msg::Active)) }
                    th scope="col" { span.visually-hidden { (lang.t(Msg::Retire)) } }
                } }
                tbody { @for c in &codes {
                    tr data-code=(c.code) {
                        td { code { (c.code) } }
                        td { (c.label) }
                        td { (c.group.as_deref().unwrap_or("")) }
                        td { (yes_no(lang, c.active)) }
                        td {
                            form.inline.toggle method="post" action="/console/admin/dispositions" {
                                (csrf_field(&s.csrf))
                                input type="hidden" name="code" value=(c.code);
                                input type="hidden" name="label" value=(c.label);
                                input type="hidden" name="group" value=(c.group.as_deref().unwrap_or(""));
                                @if !c.active { input type="hidden" name="active" value="1"; }
                                @let action = lang.t(if c.active { Msg::Retire } else { Msg::BringBack });
                                button type="submit" aria-label={ (action) " " (c.code) } { (action) }
                            }
                        }
                    }
                } }
            }
        }
        section.new-code aria-labelledby="new-code" {
            h2 #new-code { (lang.t(Msg::NewCode)) }
            p.hint { (lang.t(Msg::NewCodeHint)) }
            (issues.summary(lang, &["code", "label", "group"]))
            form.new-code method="post" action="/console/admin/dispositions" {
                (csrf_field(&s.csrf))
                (text_field(&issues, lang.t(Msg::Code), "code", "code-code", "text", &v.code, true))
                (text_field(&issues, lang.t(Msg::Label), "label", "code-label", "text", &v.label, true))
                (text_field(&issues, lang.t(Msg::CodeGroup), "group", "code-group", "text", &v.group, false))
                label.choice { input #code-active type="checkbox" name="active" value="1" checked[v.active]; " " (lang.t(Msg::Active)) }
                div { button type="submit" { (lang.t(Msg::Save)) } }
            }
        }
    };
    page(s, Some(Section::Dispositions), lang.t(Msg::AdminDispositions), issues.status(), body)
}

/// `POST /console/admin/dispositions`: adds or replaces a code.
pub(crate) async fn put_disposition(State(st): State<AppState>, s: SignedIn, RawForm(raw): RawForm) -> Response {
    let f = Posted::of(&raw);
    let v =
        CodeValues { code: f.get("code"), label: f.get("label"), group: f.get("group"), active: f.checked("active") };
    let input = DispositionInput {
        code: v.code.trim().to_owned(),
        label: v.label.clone(),
        group: Some(v.group.clone()).filter(|g| !g.trim().is_empty()),
        active: Some(v.active),
    };
    match st.crm.put_disposition(&s.actor, input).await {
        Ok(_) => Redirect::to("/console/admin/dispositions?saved=1").into_response(),
        Err(e) => match Issues::of(e) {
            Ok(issues) => render_codes(&st, &s, v, issues, false).await,
            Err(e) => refusal(s.lang, e),
        },
    }
}

/// `GET /console/admin/tenant`: the tenant's settings.
pub(crate) async fn tenant(State(st): State<AppState>, s: SignedIn, Query(q): Query<SavedQuery>) -> Response {
    render_tenant(&st, &s, None, Issues::default(), q.saved.is_some()).await
}

async fn render_tenant(
    st: &AppState,
    s: &SignedIn,
    typed: Option<(String, String, String)>,
    issues: Issues,
    saved: bool,
) -> Response {
    if let Some(refused) = gate(s, Section::Tenant) {
        return refused;
    }
    let lang = s.lang;
    let t = match st.crm.tenant_settings(&s.actor).await {
        Ok(t) => t,
        Err(e) => return refusal(lang, e),
    };
    let (region, zone, slug) = typed.unwrap_or_else(|| {
        (t.default_region.to_string(), t.time_zone.name().to_owned(), t.slug.clone().unwrap_or_default())
    });
    let body = html! {
        h1 { (lang.t(Msg::AdminTenant)) }
        p.muted { (t.name) }
        (saved_notice(lang, saved))
        (issues.summary(lang, &["default_region", "time_zone", "slug"]))
        form.tenant method="post" action="/console/admin/tenant" {
            (csrf_field(&s.csrf))
            (text_field(&issues, lang.t(Msg::DefaultRegion), "default_region", "tenant-region", "text", &region, true))
            p.hint { (lang.t(Msg::DefaultRegionHint)) }
            (text_field(&issues, lang.t(Msg::TimeZone), "time_zone", "tenant-zone", "text", &zone, true))
            p.hint { (lang.t(Msg::TenantZoneHint)) }
            (text_field(&issues, lang.t(Msg::PublicSlug), "slug", "tenant-slug", "text", &slug, false))
            p.hint { (lang.t(Msg::PublicSlugHint)) }
            button type="submit" { (lang.t(Msg::Save)) }
        }
    };
    page(s, Some(Section::Tenant), lang.t(Msg::AdminTenant), issues.status(), body)
}

/// `POST /console/admin/tenant`: saves the settings (an empty slug is left as it is: the
/// core has no way to clear one).
pub(crate) async fn save_tenant(State(st): State<AppState>, s: SignedIn, RawForm(raw): RawForm) -> Response {
    let f = Posted::of(&raw);
    let (region, zone, slug) = (f.get("default_region"), f.get("time_zone"), f.get("slug"));
    let patch = TenantSettingsPatch {
        default_region: Some(region.trim().to_owned()),
        time_zone: Some(zone.trim().to_owned()),
        slug: Some(slug.trim().to_owned()).filter(|s| !s.is_empty()),
    };
    match st.crm.update_tenant_settings(s.actor.tenant, Some(&s.actor), patch).await {
        Ok(_) => Redirect::to("/console/admin/tenant?saved=1").into_response(),
        Err(e) => match Issues::of(e) {
            Ok(issues) => render_tenant(&st, &s, Some((region, zone, slug)), issues, false).await,
            Err(e) => refusal(s.lang, e),
        },
    }
}
