//! What the knowledge and standard-response pages share (KNO-1, KNO-2, KNO-4 in the
//! console): where the agent came from (an interaction, a case: the [`Context`] every link
//! carries), the search box of the interaction panel and the case page (as-you-type with
//! htmx, a plain GET form without script), and the insertion of an article or a rendered
//! response into the scratch pad or a follow-up.
//!
//! Inserting never writes: the interaction panel or the case page opens with the text in
//! its note or follow-up field (`?article=` or `?response=`), and the agent checks it and
//! saves it with the form's own version (a stale one is the form's 409, as ever). A
//! response is rendered by the core's `render_response` for the interaction (its customer
//! and first linked case) or the case (and its customer); a placeholder without its record
//! is the core's refusal, shown next to the field the text was meant for (422).

use maud::{Markup, html};
use serde::Deserialize;

use crm_core::access::{Actor, Permission};
use crm_core::ids::{ArticleId, CaseId, InteractionId, ResponseId};
use crm_core::knowledge::compose::html_to_text;
use crm_core::knowledge::response::RenderRequest;

use super::i18n::{Lang, Msg};
use crate::state::AppState;

/// Where the agent came from: the links and forms of the knowledge and response pages
/// carry it, so "insert" knows where the text goes.
#[derive(Clone, Copy, Debug, Default, Deserialize)]
pub(crate) struct Context {
    #[serde(default)]
    pub(crate) interaction: Option<InteractionId>,
    #[serde(default)]
    pub(crate) case: Option<CaseId>,
}

impl Context {
    /// The context as query pairs (nothing when there is none).
    pub(crate) fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if let Some(i) = self.interaction {
            pairs.push(("interaction", i.to_string()));
        }
        if let Some(c) = self.case {
            pairs.push(("case", c.to_string()));
        }
        pairs
    }

    /// The context as hidden fields of a form.
    pub(crate) fn hidden(&self) -> Markup {
        html! { @for (k, v) in self.pairs() { input type="hidden" name=(k) value=(v); } }
    }

    /// Where the page's "back" link goes, with its label.
    pub(crate) fn back(&self) -> Option<(String, Msg)> {
        match (self.interaction, self.case) {
            (Some(i), _) => Some((format!("/console/interactions/{i}"), Msg::BackToInteraction)),
            (None, Some(c)) => Some((format!("/console/cases/{c}"), Msg::BackToCase)),
            (None, None) => None,
        }
    }

    /// The places an item can be inserted into from here, for this actor: (address, label).
    /// The scratch pad needs `interaction.handle`, a follow-up or a mail `case.edit`; the core
    /// refuses the save anyway, this only hides what would be refused.
    pub(crate) fn inserts(&self, actor: &Actor, item: (&str, String)) -> Vec<(String, Msg)> {
        let (key, id) = item;
        let mut found = Vec::new();
        if let Some(i) = self.interaction
            && actor.can(Permission::InteractionHandle)
        {
            found.push((format!("/console/interactions/{i}?{key}={id}#note"), Msg::InsertIntoNotes));
        }
        if let Some(c) = self.case
            && actor.can(Permission::CaseEdit)
        {
            found.push((format!("/console/cases/{c}?{key}={id}#body"), Msg::InsertIntoFollowUp));
            found.push((format!("/console/cases/{c}/notify?{key}={id}#body"), Msg::InsertIntoMail));
        }
        found
    }
}

/// An address with a query (`path?k=v&…`), the values encoded.
pub(crate) fn address(path: &str, pairs: &[(&str, String)]) -> String {
    if pairs.is_empty() {
        return path.to_owned();
    }
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        query.append_pair(k, v);
    }
    format!("{path}?{}", query.finish())
}

/// What a page opened with `?article=` or `?response=` puts in its text field.
#[derive(Clone, Copy, Debug, Default, Deserialize)]
pub(crate) struct InsertQuery {
    #[serde(default)]
    article: Option<ArticleId>,
    #[serde(default)]
    response: Option<ResponseId>,
}

impl InsertQuery {
    /// Whether the page was opened to insert a text.
    pub(crate) fn wants_text(&self) -> bool {
        self.article.is_some() || self.response.is_some()
    }
}

/// The text to insert, if the page was opened with one: an article's title and its body
/// as plain text (the composer's own conversion), or a response rendered for `target`.
///
/// # Errors
/// The core's: an article or response the actor cannot read (404), a placeholder without
/// its record (422 on `customer` or `case`).
pub(crate) async fn draft(
    st: &AppState,
    actor: &Actor,
    q: &InsertQuery,
    target: &RenderRequest,
) -> Result<Option<String>, crm_core::Error> {
    if let Some(id) = q.article {
        let a = st.crm.get_article(actor, id).await?;
        return Ok(Some(format!("{}\n\n{}", a.title, html_to_text(&a.body).trim())));
    }
    if let Some(id) = q.response {
        let r = st.crm.render_response(actor, id, target).await?;
        return Ok(Some(r.text.trim().to_owned()));
    }
    Ok(None)
}

/// The search boxes of the interaction panel and the case page: the knowledge base and
/// the standard responses, each filled in as the agent types (htmx), each a GET form
/// without the script.
pub(crate) fn search_boxes(lang: Lang, ctx: &Context) -> Markup {
    let boxes = [
        ("knowledge", "/console/knowledge", Msg::KnowledgeSearch, Msg::Knowledge),
        ("responses", "/console/responses", Msg::ResponseSearch, Msg::Responses),
    ];
    html! {
        section.panel.assist aria-labelledby="assist-title" {
            h2 #assist-title { (lang.t(Msg::Assist)) }
            @for (key, action, label, all) in boxes {
                form.assist-search role="search" method="get" action=(action) {
                    (ctx.hidden())
                    label for={ (key) "-q" } { (lang.t(label)) }
                    input id={ (key) "-q" } type="search" name="q" autocomplete="off" maxlength="200"
                        hx-get=(action) hx-include="closest form" hx-trigger="input changed delay:250ms, search"
                        hx-target={ "#" (key) "-results" } aria-controls={ (key) "-results" };
                    " " button type="submit" { (lang.t(Msg::Find)) }
                    " " a href=(address(action, &ctx.pairs())) { (lang.t(all)) }
                }
                div.assist-results id={ (key) "-results" } aria-live="polite" {}
            }
        }
    }
}

/// The field error of a search box: the message under the field and the attributes that
/// tie the field to it.
pub(crate) fn search_error(error: Option<&crm_core::error::FieldError>, id: &str) -> (Option<Markup>, Option<String>) {
    error.map_or((None, None), |e| {
        let error_id = format!("{id}-error");
        (Some(html! { p.error.field-error id=(error_id) role="alert" { (e.field) ": " (e.reason) } }), Some(error_id))
    })
}

/// The first field error of a refusal, if it is a refusal of values.
pub(crate) fn field_error_of(e: &crm_core::Error) -> Option<crm_core::error::FieldError> {
    match e {
        crm_core::Error::Validation(errors) => errors.errors().first().cloned(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_encode_their_values_and_context_travels_in_them() {
        assert_eq!(address("/console/knowledge", &[]), "/console/knowledge");
        assert_eq!(address("/k", &[("q", "remboursement & délai".to_owned())]), "/k?q=remboursement+%26+d%C3%A9lai");
        let ctx = Context { interaction: None, case: None };
        assert!(ctx.pairs().is_empty() && ctx.back().is_none());
    }
}
