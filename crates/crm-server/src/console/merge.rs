//! Merging duplicate cards from the console (CUS-6): the card's duplicate suggestions (a
//! fragment loaded after the card), a preview of the merge (both cards side by side, what
//! the rule keeps and drops, the identities and records the survivor gets) that writes
//! nothing, the confirmation (guarded by the versions the preview was read at), and undo
//! from the banner the survivor's card shows after the merge. Every step is the core's use
//! case (`preview_merge`, `merge_customers`, `get_merge`, `undo_merge`), so its permission
//! (`customer.merge`) and its checks are the API's.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::Value;

use crm_core::access::Permission;
use crm_core::customer::{ConflictRule, Customer, MergeRecord};
use crm_core::ids::{CustomerId, MergeId};

use super::i18n::{Lang, Msg};
use super::pages::refusal;
use super::session::SignedIn;
use super::views::{self, csrf_field};
use crate::state::AppState;

/// `GET /console/customers/{id}/duplicates`: the cards that may be the same person (a
/// fragment the card loads), each with a link to the merge's preview for those who may
/// merge.
pub(crate) async fn duplicates(State(st): State<AppState>, s: SignedIn, Path(id): Path<CustomerId>) -> Response {
    let lang = s.lang;
    let found = match st.crm.duplicate_candidates(&s.actor, id).await {
        Ok(found) => found,
        Err(e) => return refusal(lang, e),
    };
    let may_merge = s.actor.can(Permission::CustomerMerge);
    html! {
        @if found.is_empty() { p.empty { (lang.t(Msg::NoDuplicates)) } }
        ul { @for d in &found {
            li {
                a href={ "/console/customers/" (d.customer) } { (d.name) }
                " " span.muted { (format!("{:.0} %", d.score * 100.0)) }
                @if may_merge {
                    " " a.button.merge href={ "/console/customers/" (id) "/merge?source=" (d.customer) } {
                        (lang.t(Msg::MergePreview))
                    }
                }
            }
        } }
    }
    .into_response()
}

/// The preview's query: which card goes, and the rule for values both cards hold.
#[derive(Debug, Deserialize)]
pub(crate) struct PreviewQuery {
    source: CustomerId,
    #[serde(default)]
    rule: Option<ConflictRule>,
}

/// The rule's form value.
fn rule_value(rule: ConflictRule) -> &'static str {
    match rule {
        ConflictRule::KeepTarget => "keep_target",
        ConflictRule::KeepSource => "keep_source",
    }
}

/// A value of a card as text.
fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The identities of a card as a list.
fn identities(c: &Customer) -> Markup {
    html! {
        ul.identities { @for i in c.identities() {
            @let (kind, value) = views::identity(i);
            li { span.kind { (kind) } " " (value) }
        } }
    }
}

/// `GET /console/customers/{id}/merge?source=…&rule=…`: what merging `source` into this
/// card would do. Nothing is written.
pub(crate) async fn preview(
    State(st): State<AppState>,
    s: SignedIn,
    Path(target): Path<CustomerId>,
    Query(q): Query<PreviewQuery>,
) -> Response {
    preview_page(&st, &s, target, q.source, q.rule.unwrap_or_default(), false).await
}

async fn preview_page(
    st: &AppState,
    s: &SignedIn,
    target: CustomerId,
    source: CustomerId,
    rule: ConflictRule,
    stale: bool,
) -> Response {
    let lang = s.lang;
    let (p, moving) = match futures::try_join!(
        st.crm.preview_merge(&s.actor, target, source, rule),
        st.crm.customer_card(&s.actor, source)
    ) {
        Ok(found) => found,
        Err(e) => return refusal(lang, e),
    };
    let title = format!("{} · {}", lang.t(Msg::MergeTitle), p.target.name());
    let action = format!("/console/customers/{target}/merge");
    let body = html! {
        @if stale { p.error.conflict role="alert" { (lang.t(Msg::MergeStale)) } }
        article.merge-preview {
            h1 { (lang.t(Msg::MergeTitle)) }
            p { (lang.t(Msg::MergeExplain)) }
            div.columns {
                section.side aria-labelledby="merge-kept" {
                    h2 #merge-kept { (lang.t(Msg::MergeKept)) }
                    p { strong { (p.target.name()) } " " span.muted { (p.target.account_number()) } }
                    (identities(&p.target))
                }
                section.side aria-labelledby="merge-gone" {
                    h2 #merge-gone { (lang.t(Msg::MergeGone)) }
                    p { strong { (p.source.name()) } " " span.muted { (p.source.account_number()) } }
                    (identities(&p.source))
                    p.muted {
                        (lang.t(Msg::MergeMoves)) " "
                        (moving.open_cases.len()) " " (lang.t(Msg::OpenCases)) ", "
                        (moving.pending_tasks.len()) " " (lang.t(Msg::Tasks)) ", "
                        (moving.last_interactions.len()) " " (lang.t(Msg::LastInteractions))
                    }
                }
            }
            form.rule method="get" action=(action) {
                input type="hidden" name="source" value=(source);
                fieldset {
                    legend { (lang.t(Msg::MergeRule)) }
                    @for (r, label) in [(ConflictRule::KeepTarget, Msg::MergeKeepTarget), (ConflictRule::KeepSource, Msg::MergeKeepSource)] {
                        label.choice {
                            input type="radio" name="rule" value=(rule_value(r)) checked[r == rule];
                            " " (lang.t(label))
                        }
                    }
                    button type="submit" { (lang.t(Msg::MergeRecompute)) }
                }
            }
            section.result aria-labelledby="merge-result" {
                h2 #merge-result { (lang.t(Msg::MergeResult)) }
                p { strong #merged-name { (p.plan.target.name()) } " " span.muted { (p.plan.target.account_number()) } }
                (identities(&p.plan.target))
                @if p.plan.conflicts.is_empty() { p.empty { (lang.t(Msg::MergeNoConflict)) } }
                @else {
                    table.conflicts {
                        caption { (lang.t(Msg::MergeConflicts)) }
                        thead { tr {
                            th scope="col" { (lang.t(Msg::Field)) }
                            th scope="col" { (lang.t(Msg::MergeKeptValue)) }
                            th scope="col" { (lang.t(Msg::MergeDroppedValue)) }
                        } }
                        tbody { @for c in &p.plan.conflicts {
                            tr { td { (c.field) } td.kept { (shown(&c.kept)) } td.dropped { (shown(&c.dropped)) } }
                        } }
                    }
                }
            }
            form.confirm method="post" action=(action) {
                (csrf_field(&s.csrf))
                input type="hidden" name="source" value=(source);
                input type="hidden" name="rule" value=(rule_value(rule));
                input type="hidden" name="target_version" value=(p.target.version());
                input type="hidden" name="source_version" value=(p.source.version());
                button type="submit" { (lang.t(Msg::MergeConfirm)) }
                " " a href={ "/console/customers/" (target) } { (lang.t(Msg::Cancel)) }
            }
        }
    };
    views::page(lang, &title, Some(s), body).into_response()
}

/// The merge's confirmation: the preview's choice and the versions it showed.
#[derive(Debug, Deserialize)]
pub(crate) struct MergeForm {
    source: CustomerId,
    #[serde(default)]
    rule: Option<ConflictRule>,
    target_version: u64,
    source_version: u64,
}

/// `POST /console/customers/{id}/merge`: merges the previewed card into this one, unless
/// either card changed since the preview (then the new preview, 409); then the survivor's
/// card with the undo banner.
pub(crate) async fn merge(
    State(st): State<AppState>,
    s: SignedIn,
    Path(target): Path<CustomerId>,
    Form(form): Form<MergeForm>,
) -> Response {
    let rule = form.rule.unwrap_or_default();
    // What the agent saw must still be true: a card changed since is shown again.
    let seen = match st.crm.preview_merge(&s.actor, target, form.source, rule).await {
        Ok(p) => p,
        Err(e) => return refusal(s.lang, e),
    };
    if seen.target.version() != form.target_version || seen.source.version() != form.source_version {
        let page = preview_page(&st, &s, target, form.source, rule, true).await;
        return (StatusCode::CONFLICT, page).into_response();
    }
    match st.crm.merge_customers(&s.actor, target, form.source, rule).await {
        Ok(record) => {
            tracing::info!(merge = %record.id, agent = %s.actor.agent, "cards merged from the console");
            Redirect::to(&format!("/console/customers/{target}?merged={}", record.id)).into_response()
        }
        Err(e) => refusal(s.lang, e),
    }
}

/// The banner of a card right after a merge into it: what was merged and the undo button
/// (none once undone, or for an agent who may not merge).
pub(crate) fn undo_banner(lang: Lang, s: &SignedIn, record: &MergeRecord, card: CustomerId) -> Markup {
    if record.target != card || record.undone_at.is_some() {
        return html! {};
    }
    html! {
        div.notice.merged role="status" {
            p { (lang.t(Msg::Merged)) " " strong { (record.source_before.name()) } }
            @if s.actor.can(Permission::CustomerMerge) {
                form.inline method="post" action={ "/console/merges/" (record.id) "/undo" } {
                    (csrf_field(&s.csrf))
                    button.undo type="submit" accesskey="z" { (lang.t(Msg::Undo)) }
                }
            }
        }
    }
}

/// `POST /console/merges/{id}/undo`: both cards as they were; then the card merged away,
/// back. Already undone, or the survivor changed since: the core's conflict.
pub(crate) async fn undo(State(st): State<AppState>, s: SignedIn, Path(id): Path<MergeId>) -> Response {
    match st.crm.undo_merge(&s.actor, id).await {
        Ok((_, source)) => {
            tracing::info!(merge = %id, agent = %s.actor.agent, "merge undone from the console");
            Redirect::to(&format!("/console/customers/{}?undone={id}", source.id)).into_response()
        }
        Err(e) => refusal(s.lang, e),
    }
}
