//! Custom field definitions (CUS-2): the customers' and the cases' fields, retired ones
//! included; a new field (entity, key, label, type, choices, required, help text); a
//! field's form (label, help text, required, choices) saved at the version read; retiring
//! it (hidden from forms, values kept) or bringing it back; and deleting it (refused by the
//! core while a record carries a value). The core checks a change against the stored
//! values and names the records it would break.

use axum::extract::{Path, Query, RawForm, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};

use crm_core::custom_field::{FieldDefinition, FieldDefinitionChange, FieldDefinitionInput, FieldEntity, FieldType};
use crm_core::ids::FieldDefinitionId;

use super::{Issues, Posted, SavedQuery, Section, gate, page, saved_notice, text_field, yes_no};
use crate::console::i18n::{Lang, Msg};
use crate::console::pages::refusal;
use crate::console::session::SignedIn;
use crate::console::views::csrf_field;
use crate::state::AppState;

/// The types a field may have, by wire name.
const TYPES: [(&str, Msg); 12] = [
    ("text", Msg::TypeText),
    ("long_text", Msg::TypeLongText),
    ("integer", Msg::TypeInteger),
    ("decimal", Msg::TypeDecimal),
    ("boolean", Msg::TypeBoolean),
    ("date", Msg::TypeDate),
    ("datetime", Msg::TypeDatetime),
    ("single_choice", Msg::TypeSingleChoice),
    ("multi_choice", Msg::TypeMultiChoice),
    ("email", Msg::TypeEmail),
    ("phone", Msg::TypePhone),
    ("url", Msg::TypeUrl),
];

/// The wire name of a type.
fn type_name(t: &FieldType) -> String {
    serde_json::to_value(t)
        .ok()
        .and_then(|v| v.get("type").and_then(|n| n.as_str().map(str::to_owned)))
        .unwrap_or_default()
}

fn type_label(lang: Lang, t: &FieldType) -> &'static str {
    let name = type_name(t);
    TYPES.iter().find(|(n, _)| *n == name).map_or("", |(_, m)| lang.t(*m))
}

fn choices_of(t: &FieldType) -> Option<&[String]> {
    match t {
        FieldType::SingleChoice { choices } | FieldType::MultiChoice { choices } => Some(choices),
        _ => None,
    }
}

/// Choices as typed: one a line.
fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

fn entity_label(lang: Lang, e: FieldEntity) -> &'static str {
    lang.t(match e {
        FieldEntity::Customer => Msg::Customers,
        FieldEntity::Case => Msg::Cases,
    })
}

/// What the new field form showed.
#[derive(Debug, Default)]
struct NewValues {
    entity: String,
    key: String,
    label: String,
    kind: String,
    choices: String,
    required: bool,
    help: String,
}

fn textarea(issues: &Issues, label: &str, name: &str, id: &str, hint: Option<&str>, value: &str) -> Markup {
    let hint_id = format!("{id}-hint");
    let described = match (hint.is_some(), issues.described(name, id)) {
        (true, Some(e)) => Some(format!("{hint_id} {e}")),
        (true, None) => Some(hint_id.clone()),
        (false, e) => e,
    };
    html! {
        label for=(id) { (label) }
        textarea id=(id) name=(name) rows="3" aria-invalid=[issues.invalid(name)] aria-describedby=[described] { (value) }
        @if let Some(h) = hint { p.hint id=(hint_id) { (h) } }
        (issues.error(name, id))
    }
}

/// `GET /console/admin/fields`: the definitions and the new field form.
pub(crate) async fn list(State(st): State<AppState>, s: SignedIn, Query(q): Query<SavedQuery>) -> Response {
    let values = NewValues { entity: "customer".into(), kind: "text".into(), ..NewValues::default() };
    render_list(&st, &s, values, Issues::default(), q.saved.is_some()).await
}

async fn render_list(st: &AppState, s: &SignedIn, v: NewValues, issues: Issues, saved: bool) -> Response {
    if let Some(refused) = gate(s, Section::Fields) {
        return refused;
    }
    let lang = s.lang;
    let found = futures::try_join!(
        st.crm.custom_fields(&s.actor, FieldEntity::Customer, true),
        st.crm.custom_fields(&s.actor, FieldEntity::Case, true)
    );
    let (customer, case) = match found {
        Ok(found) => found,
        Err(e) => return refusal(lang, e),
    };
    let body = html! {
        h1 { (lang.t(Msg::AdminFields)) }
        (saved_notice(lang, saved))
        @for (entity, defs) in [(FieldEntity::Customer, &customer), (FieldEntity::Case, &case)] {
            @let id = format!("fields-{}", entity.as_str());
            h2 id=(id) { (entity_label(lang, entity)) }
            @if defs.is_empty() { p.empty { (lang.t(Msg::NoFields)) } }
            @else {
                table.fields aria-labelledby=(id) {
                    thead { tr {
                        th scope="col" { (lang.t(Msg::Key)) }
                        th scope="col" { (lang.t(Msg::Label)) }
                        th scope="col" { (lang.t(Msg::FieldType)) }
                        th scope="col" { (lang.t(Msg::Required)) }
                        th scope="col" { (lang.t(Msg::State)) }
                    } }
                    tbody { @for d in defs.iter() {
                        tr data-field=(d.key) {
                            td { a href={ "/console/admin/fields/" (d.id) } { code { (d.key) } } }
                            td { (d.label) }
                            td { (type_label(lang, &d.field_type)) }
                            td { (yes_no(lang, d.required)) }
                            td { span.badge { (lang.t(if d.retired { Msg::Retired } else { Msg::InUse })) } }
                        }
                    } }
                }
            }
        }
        section.new-field aria-labelledby="new-field" {
            h2 #new-field { (lang.t(Msg::NewField)) }
            (issues.summary(lang, &["entity", "key", "label", "field_type", "choices", "required", "help_text"]))
            form.new-field method="post" action="/console/admin/fields" {
                (csrf_field(&s.csrf))
                label for="field-entity" { (lang.t(Msg::FieldOf)) }
                select #field-entity name="entity" {
                    @for e in [FieldEntity::Customer, FieldEntity::Case] {
                        option value=(e.as_str()) selected[v.entity == e.as_str()] { (entity_label(lang, e)) }
                    }
                }
                (text_field(&issues, lang.t(Msg::Key), "key", "field-key", "text", &v.key, true))
                (text_field(&issues, lang.t(Msg::Label), "label", "field-label", "text", &v.label, true))
                label for="field-type" { (lang.t(Msg::FieldType)) }
                select #field-type name="field_type" aria-invalid=[issues.invalid("field_type")]
                    aria-describedby=[issues.described("field_type", "field-type")] {
                    @for (n, m) in TYPES { option value=(n) selected[v.kind == n] { (lang.t(m)) } }
                }
                (issues.error("field_type", "field-type"))
                (textarea(&issues, lang.t(Msg::Choices), "choices", "field-choices", Some(lang.t(Msg::ChoicesHint)), &v.choices))
                label.choice { input #field-required type="checkbox" name="required" value="1" checked[v.required]; " " (lang.t(Msg::Required)) }
                (text_field(&issues, lang.t(Msg::HelpText), "help_text", "field-help", "text", &v.help, false))
                div { button type="submit" { (lang.t(Msg::Create)) } }
            }
        }
    };
    page(s, Some(Section::Fields), lang.t(Msg::AdminFields), issues.status(), body)
}

/// `POST /console/admin/fields`: defines a field, then opens it.
pub(crate) async fn create(State(st): State<AppState>, s: SignedIn, RawForm(raw): RawForm) -> Response {
    let f = Posted::of(&raw);
    let v = NewValues {
        entity: f.get("entity"),
        key: f.get("key"),
        label: f.get("label"),
        kind: f.get("field_type"),
        choices: f.get("choices"),
        required: f.checked("required"),
        help: f.get("help_text"),
    };
    let Ok(entity) = serde_json::from_value::<FieldEntity>(serde_json::Value::String(v.entity.clone())) else {
        return render_list(&st, &s, v, Issues::field("entity", "is customer or case"), false).await;
    };
    let mut kind = serde_json::json!({ "type": v.kind });
    if v.kind.ends_with("_choice") {
        kind["choices"] = lines(&v.choices).into();
    }
    let Ok(field_type) = serde_json::from_value::<FieldType>(kind) else {
        return render_list(&st, &s, v, Issues::field("field_type", "is not a field type"), false).await;
    };
    let input = FieldDefinitionInput {
        entity,
        key: v.key.trim().to_owned(),
        label: v.label.clone(),
        field_type,
        required: v.required,
        default: None,
        help_text: Some(v.help.clone()).filter(|h| !h.trim().is_empty()),
    };
    match st.crm.define_custom_field(&s.actor, input).await {
        Ok(d) => Redirect::to(&format!("/console/admin/fields/{}?saved=1", d.id)).into_response(),
        Err(e) => match Issues::of(e) {
            Ok(issues) => render_list(&st, &s, v, issues.renamed("field_type.choices", "choices"), false).await,
            Err(e) => refusal(s.lang, e),
        },
    }
}

/// What a field's form showed.
#[derive(Debug, Clone)]
struct FieldValues {
    label: String,
    help: String,
    required: bool,
    choices: String,
}

impl From<&FieldDefinition> for FieldValues {
    fn from(d: &FieldDefinition) -> Self {
        Self {
            label: d.label.clone(),
            help: d.help_text.clone().unwrap_or_default(),
            required: d.required,
            choices: choices_of(&d.field_type).map(|c| c.join("\n")).unwrap_or_default(),
        }
    }
}

/// `GET /console/admin/fields/{id}`: a field's form, retirement and deletion.
pub(crate) async fn edit(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<FieldDefinitionId>,
    Query(q): Query<SavedQuery>,
) -> Response {
    render_field(&st, &s, id, None, Issues::default(), q.saved.is_some()).await
}

async fn render_field(
    st: &AppState,
    s: &SignedIn,
    id: FieldDefinitionId,
    typed: Option<(FieldValues, u64)>,
    issues: Issues,
    saved: bool,
) -> Response {
    if let Some(refused) = gate(s, Section::Fields) {
        return refused;
    }
    let lang = s.lang;
    let d = match st.crm.custom_field(&s.actor, id).await {
        Ok(d) => d,
        Err(e) => return refusal(lang, e),
    };
    let (v, version) = match typed {
        Some(t) if !issues.stale() => t,
        _ => (FieldValues::from(&d), d.version),
    };
    let title = format!("{} · {}", d.key, d.label);
    let body = html! {
        p { a href="/console/admin/fields" { (lang.t(Msg::BackToList)) } }
        h1 { code { (d.key) } " · " (d.label) }
        p.muted {
            (entity_label(lang, d.entity)) " · " (type_label(lang, &d.field_type)) " · "
            span #field-state.badge { (lang.t(if d.retired { Msg::Retired } else { Msg::InUse })) }
        }
        (saved_notice(lang, saved))
        (issues.summary(lang, &["label", "help_text", "required", "choices", "default"]))
        form.field method="post" action={ "/console/admin/fields/" (d.id) } {
            (csrf_field(&s.csrf))
            input type="hidden" name="version" value=(version);
            (text_field(&issues, lang.t(Msg::Label), "label", "field-label", "text", &v.label, true))
            (text_field(&issues, lang.t(Msg::HelpText), "help_text", "field-help", "text", &v.help, false))
            @if choices_of(&d.field_type).is_some() {
                (textarea(&issues, lang.t(Msg::Choices), "choices", "field-choices", Some(lang.t(Msg::ChoicesHint)), &v.choices))
            }
            label.choice {
                input #field-required type="checkbox" name="required" value="1" checked[v.required]
                    aria-invalid=[issues.invalid("required")] aria-describedby=[issues.described("required", "field-required")];
                " " (lang.t(Msg::Required))
            }
            (issues.error("required", "field-required"))
            div { button type="submit" { (lang.t(Msg::Save)) } }
        }
        section.retire aria-labelledby="retire-field" {
            h2 #retire-field { (lang.t(if d.retired { Msg::BringBack } else { Msg::Retire })) }
            p.hint { (lang.t(if d.retired { Msg::BringBackHint } else { Msg::RetireHint })) }
            form.retire method="post" action={ "/console/admin/fields/" (d.id) "/retire" } {
                (csrf_field(&s.csrf))
                input type="hidden" name="version" value=(d.version);
                input type="hidden" name="retired" value=(if d.retired { "0" } else { "1" });
                button type="submit" { (lang.t(if d.retired { Msg::BringBack } else { Msg::Retire })) }
            }
        }
        section.danger aria-labelledby="delete-field" {
            h2 #delete-field { (lang.t(Msg::DeleteField)) }
            p.hint { (lang.t(Msg::DeleteFieldHint)) }
            form.delete method="post" action={ "/console/admin/fields/" (d.id) "/delete" } {
                (csrf_field(&s.csrf))
                input type="hidden" name="version" value=(d.version);
                button.danger type="submit" { (lang.t(Msg::Delete)) }
            }
        }
    };
    page(s, Some(Section::Fields), &title, issues.status(), body)
}

/// `POST /console/admin/fields/{id}`: saves the field at the version read.
pub(crate) async fn save(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<FieldDefinitionId>,
    RawForm(raw): RawForm,
) -> Response {
    let f = Posted::of(&raw);
    let v = FieldValues {
        label: f.get("label"),
        help: f.get("help_text"),
        required: f.checked("required"),
        choices: f.get("choices"),
    };
    let version = match f.version() {
        Ok(version) => version,
        Err(issues) => return render_field(&st, &s, id, None, issues, false).await,
    };
    let change = FieldDefinitionChange {
        label: Some(v.label.clone()),
        help_text: Some(Some(v.help.clone()).filter(|h| !h.trim().is_empty())),
        required: Some(v.required),
        // Only a choice field's form has the control.
        choices: f.checked("choices").then(|| lines(&v.choices)),
        ..FieldDefinitionChange::default()
    };
    match st.crm.change_custom_field(&s.actor, id, version, change).await {
        Ok(_) => Redirect::to(&format!("/console/admin/fields/{id}?saved=1")).into_response(),
        Err(e) => match Issues::of(e) {
            Ok(issues) => render_field(&st, &s, id, Some((v, version)), issues, false).await,
            Err(e) => refusal(s.lang, e),
        },
    }
}

/// `POST /console/admin/fields/{id}/retire`: retires the field (`retired=1`) or brings it
/// back (`retired=0`), at the version read.
pub(crate) async fn retire(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<FieldDefinitionId>,
    RawForm(raw): RawForm,
) -> Response {
    let f = Posted::of(&raw);
    let version = match f.version() {
        Ok(version) => version,
        Err(issues) => return render_field(&st, &s, id, None, issues, false).await,
    };
    let change = FieldDefinitionChange { retired: Some(f.get("retired") == "1"), ..FieldDefinitionChange::default() };
    match st.crm.change_custom_field(&s.actor, id, version, change).await {
        Ok(_) => Redirect::to(&format!("/console/admin/fields/{id}?saved=1")).into_response(),
        Err(e) => match Issues::of(e) {
            Ok(issues) => render_field(&st, &s, id, None, issues, false).await,
            Err(e) => refusal(s.lang, e),
        },
    }
}

/// `POST /console/admin/fields/{id}/delete`: deletes the field at the version read; one
/// that records carry stays, with the core's reason.
pub(crate) async fn delete(
    State(st): State<AppState>,
    s: SignedIn,
    Path(id): Path<FieldDefinitionId>,
    RawForm(raw): RawForm,
) -> Response {
    let version = match Posted::of(&raw).version() {
        Ok(version) => version,
        Err(issues) => return render_field(&st, &s, id, None, issues, false).await,
    };
    match st.crm.delete_custom_field(&s.actor, id, version).await {
        Ok(()) => Redirect::to("/console/admin/fields?saved=1").into_response(),
        Err(e) => match Issues::of(e) {
            Ok(issues) => render_field(&st, &s, id, None, issues, false).await,
            Err(e) => refusal(s.lang, e),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_of_the_select_is_a_core_type() {
        for (name, _) in TYPES {
            let mut v = serde_json::json!({ "type": name });
            if name.ends_with("_choice") {
                v["choices"] = serde_json::json!(["a"]);
            }
            let t: FieldType = serde_json::from_value(v).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(type_name(&t), name);
        }
        assert_eq!(lines(" gold \r\n\n silver"), ["gold", "silver"]);
    }
}
