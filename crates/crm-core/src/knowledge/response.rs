//! Standard responses (KNO-4): pre-written replies with placeholders (`{{customer.name}}`,
//! `{{case.number}}`, `{{agent.name}}` …), a title, a sanitised HTML body, tags, a language,
//! an optional shortcut code (the articles' rules: `#refund`), a shared folder, and a version
//! per change.
//!
//! [`NewResponse::build`] and [`ResponsePatch::apply`] validate (an unknown placeholder in
//! the body is refused by name); [`render`] fills the placeholders of a stored body, each
//! value escaped into the HTML. [`ResponseFilter::admits`] is the reference every store's
//! list follows.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::compose::{PLACEHOLDERS, html_to_text};
use super::{MAX_TITLE, parse_language, parse_shortcut, parse_tags, sanitise_body};
use crate::error::{FieldError, ValidationErrors, Validator};
use crate::ids::{AgentId, ResponseFolderId, ResponseId, TenantId};
use crate::interaction::search_text;
use crate::script::template::{Piece, parse};
use crate::text::{escape_html, required_text, words};

/// A standard response, one version of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StandardResponse {
    /// Its id.
    pub id: ResponseId,
    /// Its tenant.
    pub tenant: TenantId,
    /// Title.
    pub title: String,
    /// Body, sanitised HTML with placeholders (`{{customer.name}}`).
    pub body: String,
    /// Tags: lower case, without accents, `[a-z0-9-]`, sorted, each once.
    pub tags: Vec<String>,
    /// Language (`fr`, `en`, `fr-CA` …).
    pub language: String,
    /// Shortcut code that expands to this response in the composer (`#thanks`), unique
    /// in the tenant (an article's code is refused too).
    pub shortcut: Option<String>,
    /// Its shared folder (`null`: the library's root).
    pub folder: Option<ResponseFolderId>,
    /// Version, from 1, bumped by every change.
    pub version: u64,
    /// Created when.
    pub created_at: DateTime<Utc>,
    /// Created by.
    pub created_by: AgentId,
    /// This version written when.
    pub updated_at: DateTime<Utc>,
    /// This version written by.
    pub updated_by: AgentId,
}

impl StandardResponse {
    /// Its folded text for the list's text filter (title and body, markup dropped).
    pub fn search_text(&self) -> String {
        let body = html_to_text(&self.body);
        search_text([self.title.as_str(), body.as_str()])
    }

    /// Its tags as one column value: `,a,b,` (empty tags: `,`), so a tag is found as
    /// `,tag,`.
    pub fn tags_key(&self) -> String {
        tags_key(&self.tags)
    }

    /// Whether `shortcut` names this response.
    pub fn has_shortcut(&self, shortcut: &str) -> bool {
        self.shortcut.as_deref() == Some(shortcut)
    }
}

/// Tags as one column value: `,a,b,`.
pub fn tags_key(tags: &[String]) -> String {
    format!(",{}", tags.iter().map(|t| format!("{t},")).collect::<String>())
}

/// What a caller sends to write a standard response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewResponse {
    /// Title.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::required_text))]
    pub title: String,
    /// Body, HTML with placeholders (sanitised on the way in).
    #[serde(default)]
    pub body: String,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Language (`fr`, `en`, `fr-CA` …).
    pub language: String,
    /// Shortcut code (`#thanks`).
    #[serde(default)]
    pub shortcut: Option<String>,
    /// Its shared folder.
    #[serde(default)]
    pub folder: Option<ResponseFolderId>,
}

/// What a caller sends to change a standard response; absent fields stay.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ResponsePatch {
    /// New title.
    #[serde(default)]
    pub title: Option<String>,
    /// New body (HTML with placeholders).
    #[serde(default)]
    pub body: Option<String>,
    /// New tags.
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    /// New language.
    #[serde(default)]
    pub language: Option<String>,
    /// New shortcut (`null` removes it).
    #[serde(default, with = "crate::case::double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub shortcut: Option<Option<String>>,
    /// New folder (`null`: the root).
    #[serde(default, with = "crate::case::double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<uuid::Uuid>))]
    pub folder: Option<Option<ResponseFolderId>>,
}

/// Sanitises a response body and checks its placeholders are known.
///
/// # Errors
/// A [`FieldError`] on `body`: too large, a malformed placeholder, or one that is not in
/// [`PLACEHOLDERS`] (named).
pub fn parse_body(input: &str) -> Result<String, FieldError> {
    let body = sanitise_body(input)?;
    placeholders_in_body(&body)?;
    Ok(body)
}

/// The placeholders of a body, each once.
///
/// # Errors
/// A [`FieldError`] on `body` naming an unknown or malformed placeholder.
pub fn placeholders_in_body(body: &str) -> Result<Vec<&str>, FieldError> {
    let mut found: Vec<&str> = Vec::new();
    for piece in parse(body).map_err(|reason| FieldError::new("body", reason))? {
        if let Piece::Field(name) = piece {
            if !PLACEHOLDERS.contains(&name) {
                return Err(FieldError::new(
                    "body",
                    format!("unknown placeholder `{{{{{name}}}}}`; known: {}", PLACEHOLDERS.join(", ")),
                ));
            }
            if !found.contains(&name) {
                found.push(name);
            }
        }
    }
    Ok(found)
}

impl NewResponse {
    /// Validates and builds version 1.
    ///
    /// # Errors
    /// Every invalid field at once.
    pub fn build(
        &self,
        id: ResponseId,
        tenant: TenantId,
        by: AgentId,
        now: DateTime<Utc>,
    ) -> Result<StandardResponse, ValidationErrors> {
        let mut v = Validator::new();
        let title = v.check(required_text("title", &self.title, MAX_TITLE));
        let body = v.check(parse_body(&self.body));
        let tags = v.check(parse_tags(&self.tags));
        let language = v.check(parse_language(&self.language));
        let shortcut = self.shortcut.as_deref().map(|s| v.check(parse_shortcut(s)));
        v.finish()?;
        let (Some(title), Some(body), Some(tags), Some(language)) = (title, body, tags, language) else {
            unreachable!("the validator finished without errors")
        };
        Ok(StandardResponse {
            id,
            tenant,
            title,
            body,
            tags,
            language,
            shortcut: shortcut.flatten(),
            folder: self.folder,
            version: 1,
            created_at: now,
            created_by: by,
            updated_at: now,
            updated_by: by,
        })
    }
}

impl ResponsePatch {
    /// Whether the patch changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// The next version of `response` with the patch applied.
    ///
    /// # Errors
    /// Every invalid field at once.
    pub fn apply(
        &self,
        response: &StandardResponse,
        by: AgentId,
        now: DateTime<Utc>,
    ) -> Result<StandardResponse, ValidationErrors> {
        let mut next = response.clone();
        let mut v = Validator::new();
        if let Some(t) = &self.title {
            next.title = v.check(required_text("title", t, MAX_TITLE)).unwrap_or_default();
        }
        if let Some(b) = &self.body {
            next.body = v.check(parse_body(b)).unwrap_or_default();
        }
        if let Some(t) = &self.tags {
            next.tags = v.check(parse_tags(t)).unwrap_or_default();
        }
        if let Some(l) = &self.language {
            next.language = v.check(parse_language(l)).unwrap_or_default();
        }
        if let Some(s) = &self.shortcut {
            next.shortcut = s.as_deref().and_then(|s| v.check(parse_shortcut(s)));
        }
        if let Some(f) = self.folder {
            next.folder = f;
        }
        v.finish()?;
        next.version = response.version + 1;
        next.updated_at = now;
        next.updated_by = by;
        Ok(next)
    }
}

/// Which standard responses a list shows.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseFilter {
    /// Only in this folder.
    pub folder: Option<ResponseFolderId>,
    /// Only with this tag (normalised like the tags).
    pub tag: Option<String>,
    /// Only in this language.
    pub language: Option<String>,
    /// Only this agent's favourites.
    pub favourites_of: Option<AgentId>,
    /// Only those whose folded title or body contains this folded phrase (`" refund order "`,
    /// see [`fold_query`] and [`ResponseFilter::with_text`]).
    pub text: Option<String>,
}

/// The longest text filter, in characters.
pub const MAX_QUERY: usize = 200;

impl ResponseFilter {
    /// Sets the text filter: folded into words; no word at all means no filter.
    ///
    /// # Errors
    /// A [`FieldError`] on `q` when longer than [`MAX_QUERY`] characters.
    pub fn with_text(mut self, q: Option<&str>) -> Result<Self, FieldError> {
        self.text = fold_query(q)?;
        Ok(self)
    }

    /// The folded phrase of the text filter (`" refund order "`), when there is one.
    pub fn text(&self) -> Option<&str> {
        self.text.as_deref()
    }

    /// Whether `response` passes, `favourite` saying whether it is a favourite of
    /// `favourites_of`.
    pub fn admits(&self, response: &StandardResponse, favourite: bool) -> bool {
        self.folder.is_none_or(|f| response.folder == Some(f))
            && self.tag.as_deref().is_none_or(|t| response.tags.iter().any(|x| x == t))
            && self.language.as_deref().is_none_or(|l| l == response.language)
            && (self.favourites_of.is_none() || favourite)
            && self.text().is_none_or(|t| response.search_text().contains(t))
    }
}

/// A query folded into the phrase a folded text contains (`"Refund, order!"` → `" refund
/// order "`); `None` when it has no word.
///
/// # Errors
/// A [`FieldError`] on `q` when longer than [`MAX_QUERY`] characters.
pub fn fold_query(q: Option<&str>) -> Result<Option<String>, FieldError> {
    let Some(q) = q else { return Ok(None) };
    let len = q.chars().count();
    if len > MAX_QUERY {
        return Err(FieldError::new("q", format!("must be at most {MAX_QUERY} characters, got {len}")));
    }
    let folded = words(q);
    Ok((!folded.is_empty()).then(|| format!(" {} ", folded.join(" "))))
}

/// Normalises one tag filter like the tags themselves.
///
/// # Errors
/// A [`FieldError`] on `tags` for an empty or over-long tag.
pub fn parse_tag(input: &str) -> Result<String, FieldError> {
    parse_tags(std::slice::from_ref(&input.to_owned())).map(|t| t.into_iter().next().unwrap_or_default())
}

/// What a response is rendered for: the records its placeholders read. An interaction
/// stands for its customer and its first linked case when those are not given.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RenderRequest {
    /// The customer the `customer.*` placeholders read.
    #[serde(default)]
    pub customer: Option<crate::ids::CustomerId>,
    /// The case the `case.*` placeholders read.
    #[serde(default)]
    pub case: Option<crate::ids::CaseId>,
    /// The interaction being answered.
    #[serde(default)]
    pub interaction: Option<crate::ids::InteractionId>,
}

/// What a rendered response is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RenderedResponse {
    /// The response.
    pub response: ResponseId,
    /// Its version rendered.
    pub version: u64,
    /// The HTML to send (the body's markup as sanitised, every value escaped).
    pub html: String,
    /// The same as plain text.
    pub text: String,
}

/// Fills the placeholders of a sanitised body: each value escaped into the HTML (missing
/// ones render empty); the text is the HTML's text.
///
/// # Errors
/// A [`FieldError`] on `body` naming an unknown placeholder.
pub fn render(body: &str, values: &std::collections::BTreeMap<&str, String>) -> Result<(String, String), FieldError> {
    placeholders_in_body(body)?;
    let mut html = String::with_capacity(body.len());
    for piece in parse(body).map_err(|reason| FieldError::new("body", reason))? {
        match piece {
            Piece::Literal(l) => html.push_str(l),
            Piece::Field(name) => html.push_str(&escape_html(values.get(name).map(String::as_str).unwrap_or_default())),
        }
    }
    let text = html_to_text(&html).trim().to_owned();
    Ok((html, text))
}

/// The longest folder name, in characters.
pub const MAX_FOLDER_NAME: usize = 100;

/// A shared folder of standard responses: tenant-wide, at the root or inside a root folder
/// (one level of nesting).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResponseFolder {
    /// Its id.
    pub id: ResponseFolderId,
    /// Its tenant.
    pub tenant: TenantId,
    /// Its name, unique among its siblings (compared folded).
    pub name: String,
    /// The root folder it is in (`null`: at the root).
    pub parent: Option<ResponseFolderId>,
    /// Version, from 1, bumped by a rename.
    pub version: u64,
    /// Created when.
    pub created_at: DateTime<Utc>,
}

impl ResponseFolder {
    /// The key its name is unique by among its siblings: folded words joined by a space.
    pub fn name_key(&self) -> String {
        words(&self.name).join(" ")
    }
}

/// What a caller sends to create a folder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewFolder {
    /// Name.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::required_text))]
    pub name: String,
    /// The root folder to create it in.
    #[serde(default)]
    pub parent: Option<ResponseFolderId>,
}

/// What a caller sends to rename a folder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FolderRename {
    /// The new name.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::required_text))]
    pub name: String,
}

/// Checks a folder name: 1 to [`MAX_FOLDER_NAME`] characters, at least one letter or digit,
/// no `/`.
///
/// # Errors
/// A [`FieldError`] on `name`.
pub fn parse_folder_name(input: &str) -> Result<String, FieldError> {
    let name = required_text("name", input, MAX_FOLDER_NAME)?;
    if name.contains('/') {
        return Err(FieldError::new("name", "must not contain `/`"));
    }
    if words(&name).is_empty() {
        return Err(FieldError::new("name", "must hold a letter or a digit"));
    }
    Ok(name)
}

impl NewFolder {
    /// Validates and builds the folder; `parent` is the stored parent, when one is named.
    ///
    /// # Errors
    /// A [`FieldError`] on `name`, or on `parent` when the parent is itself in a folder
    /// (one level of nesting) or is not `parent`.
    pub fn build(
        &self,
        id: ResponseFolderId,
        tenant: TenantId,
        parent: Option<&ResponseFolder>,
        now: DateTime<Utc>,
    ) -> Result<ResponseFolder, FieldError> {
        let name = parse_folder_name(&self.name)?;
        if let Some(wanted) = self.parent {
            let Some(p) = parent.filter(|p| p.id == wanted && p.tenant == tenant) else {
                return Err(FieldError::new("parent", format!("folder {wanted} does not exist")));
            };
            if p.parent.is_some() {
                return Err(FieldError::new(
                    "parent",
                    format!("folder {wanted} is itself in a folder; folders nest one level"),
                ));
            }
        }
        Ok(ResponseFolder { id, tenant, name, parent: self.parent, version: 1, created_at: now })
    }
}

/// Why a folder cannot be deleted: what it holds (every store says it alike).
pub fn folder_not_empty(id: ResponseFolderId, responses: usize, folders: usize) -> String {
    format!(
        "folder {id} is not empty: it holds {responses} response(s) and {folders} folder(s); move or delete them first"
    )
}

/// The most favourites an agent keeps.
pub const MAX_FAVOURITES: usize = 500;

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::TimeZone;
    use uuid::Uuid;

    use super::*;

    fn uid<T: From<Uuid>>(n: u128) -> T {
        T::from(Uuid::from_u128(n))
    }

    fn ids() -> (ResponseId, TenantId, AgentId) {
        (uid(1), uid(2), uid(3))
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 7, 8, 0, 0).unwrap()
    }

    fn input(body: &str) -> NewResponse {
        NewResponse {
            title: "Merci".into(),
            body: body.into(),
            tags: vec!["Politesse".into()],
            language: "fr".into(),
            shortcut: Some("thanks".into()),
            folder: None,
        }
    }

    #[test]
    fn a_response_is_built_sanitised_and_normalised() {
        let (id, tenant, agent) = ids();
        let r = input("<p onclick=\"x()\">Bonjour {{customer.name}}</p><script>1</script>")
            .build(id, tenant, agent, now())
            .unwrap();
        assert_eq!(r.body, "<p>Bonjour {{customer.name}}</p>");
        assert_eq!(
            (r.tags.clone(), r.shortcut.as_deref(), r.version),
            (vec!["politesse".to_owned()], Some("#thanks"), 1)
        );
        assert_eq!(r.tags_key(), ",politesse,");
        assert_eq!(r.search_text(), " merci bonjour customer name ");
    }

    #[test]
    fn an_unknown_placeholder_is_refused_by_name() {
        let (id, tenant, agent) = ids();
        let err = input("Hello {{customer.shoe_size}}").build(id, tenant, agent, now()).unwrap_err();
        let e = &err.errors()[0];
        assert_eq!(e.field, "body");
        assert!(e.reason.contains("customer.shoe_size"), "{}", e.reason);
    }

    #[test]
    fn an_empty_title_and_a_huge_body_are_refused_together() {
        let (id, tenant, agent) = ids();
        let bad = NewResponse { title: " ".into(), body: "x".repeat(1 << 20), ..input("") };
        let err = bad.build(id, tenant, agent, now()).unwrap_err();
        let fields: Vec<&str> = err.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["title", "body"]);
    }

    #[test]
    fn rendering_escapes_values_and_keeps_the_markup() {
        let mut values = BTreeMap::new();
        values.insert("customer.name", "<b>Zoé & Co</b>".to_owned());
        let (html, text) = render("<p>Bonjour {{customer.name}},</p><p>{{case.number}}</p>", &values).unwrap();
        assert_eq!(html, "<p>Bonjour &lt;b&gt;Zoé &amp; Co&lt;/b&gt;,</p><p></p>");
        assert_eq!(text, "Bonjour <b>Zoé & Co</b>,");
        assert_eq!(render("{{nope}}", &values).unwrap_err().field, "body");
    }

    #[test]
    fn a_patch_bumps_the_version_and_can_clear_the_folder_and_shortcut() {
        let (id, tenant, agent) = ids();
        let folder = uid::<ResponseFolderId>(9);
        let r = NewResponse { folder: Some(folder), ..input("Hi") }.build(id, tenant, agent, now()).unwrap();
        let patch = ResponsePatch { shortcut: Some(None), folder: Some(None), ..ResponsePatch::default() };
        let next = patch.apply(&r, agent, now()).unwrap();
        assert_eq!((next.version, next.shortcut, next.folder), (2, None, None));
        let bad = ResponsePatch { title: Some(String::new()), ..ResponsePatch::default() };
        assert_eq!(bad.apply(&r, agent, now()).unwrap_err().errors()[0].field, "title");
    }

    #[test]
    fn the_filter_folds_its_text_and_matches_like_the_stores() {
        let (id, tenant, agent) = ids();
        let r = input("<p>Votre remboursement est en cours</p>").build(id, tenant, agent, now()).unwrap();
        let f = ResponseFilter::default().with_text(Some("REMBOURSEMENT, est")).unwrap();
        assert_eq!(f.text(), Some(" remboursement est "));
        assert!(f.admits(&r, false));
        assert!(!ResponseFilter::default().with_text(Some("rembourse est")).unwrap().admits(&r, false));
        assert!(ResponseFilter::default().with_text(Some("  !! ")).unwrap().text().is_none());
        assert_eq!(ResponseFilter::default().with_text(Some(&"a".repeat(201))).unwrap_err().field, "q");
        let favourites = ResponseFilter { favourites_of: Some(agent), ..ResponseFilter::default() };
        assert!(!favourites.admits(&r, false) && favourites.admits(&r, true));
        let tag = ResponseFilter { tag: Some("politesse".into()), ..ResponseFilter::default() };
        assert!(tag.admits(&r, false));
    }

    #[test]
    fn folders_nest_one_level() {
        let tenant = uid::<TenantId>(2);
        let root = NewFolder { name: "Billing".into(), parent: None }
            .build(uid::<ResponseFolderId>(10), tenant, None, now())
            .unwrap();
        let child = NewFolder { name: "Refunds".into(), parent: Some(root.id) }
            .build(uid::<ResponseFolderId>(11), tenant, Some(&root), now())
            .unwrap();
        let grandchild = NewFolder { name: "Late".into(), parent: Some(child.id) }.build(
            uid::<ResponseFolderId>(12),
            tenant,
            Some(&child),
            now(),
        );
        assert_eq!(grandchild.unwrap_err().field, "parent");
        let missing = NewFolder { name: "X".into(), parent: Some(uid::<ResponseFolderId>(9)) };
        assert_eq!(missing.build(uid::<ResponseFolderId>(9), tenant, None, now()).unwrap_err().field, "parent");
        assert_eq!(parse_folder_name("a/b").unwrap_err().field, "name");
        assert_eq!(parse_folder_name("   ").unwrap_err().field, "name");
        assert_eq!(child.name_key(), "refunds");
    }
}
