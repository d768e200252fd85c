//! Knowledge articles (KNO-1, KNO-3): a title, a sanitised HTML body, tags, a language, an
//! optional shortcut code unique in the tenant (`#refund`), a state (draft, published,
//! archived), links from a solution to the problems it solves, and a version per change
//! (every version stays readable).
//!
//! The rules here are pure: [`NewArticle::build`] and [`ArticlePatch::apply`] validate and
//! normalise; the store keeps every version and checks the shortcut's uniqueness and that
//! the linked problems exist.

pub mod compose;
pub mod public;
pub mod response;
pub mod suggest;

use std::collections::BTreeSet;
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::error::{FieldError, TransitionError, ValidationErrors, Validator};
use crate::ids::{AgentId, ArticleId, TenantId};
use crate::text::{required_text, words};

/// The longest title, in characters.
pub const MAX_TITLE: usize = 300;
/// The largest body, in bytes (before sanitising).
pub const MAX_BODY: usize = 256 * 1024;
/// The most tags an article carries.
pub const MAX_TAGS: usize = 20;
/// The most problems one solution links to.
pub const MAX_SOLVES: usize = 50;

/// Where an article is in its life.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ArticleState {
    /// Being written; only editors see it.
    #[default]
    Draft,
    /// Visible to every agent (and to the public when `public`).
    Published,
    /// Withdrawn; only editors see it. It can be published again.
    Archived,
}

impl ArticleState {
    /// The wire name (`published`).
    pub const fn as_str(self) -> &'static str {
        match self {
            ArticleState::Draft => "draft",
            ArticleState::Published => "published",
            ArticleState::Archived => "archived",
        }
    }

    /// Whether an article may go from `self` to `to`: a draft is published or archived, a
    /// published article archived, an archived one published again; nothing goes back to
    /// draft once published.
    pub const fn can_become(self, to: ArticleState) -> bool {
        matches!(
            (self, to),
            (ArticleState::Draft, ArticleState::Draft | ArticleState::Published | ArticleState::Archived)
                | (ArticleState::Published, ArticleState::Published | ArticleState::Archived)
                | (ArticleState::Archived, ArticleState::Archived | ArticleState::Published)
        )
    }
}

/// A knowledge article, one version of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Article {
    /// Its id.
    pub id: ArticleId,
    /// Its tenant.
    pub tenant: TenantId,
    /// Title.
    pub title: String,
    /// Body, sanitised HTML (scripts, event handlers and unknown tags removed).
    pub body: String,
    /// Tags: lower case, without accents, `[a-z0-9-]`, sorted, each once.
    pub tags: Vec<String>,
    /// Language (`fr`, `en`, `fr-CA` …).
    pub language: String,
    /// Shortcut code that expands to this article in the composer (`#refund`), unique in
    /// the tenant.
    pub shortcut: Option<String>,
    /// State.
    pub state: ArticleState,
    /// Shown by the public self-service search once published.
    pub public: bool,
    /// The problem articles this one is a solution to.
    pub solves: Vec<ArticleId>,
    /// Version, from 1, bumped by every change; every version stays readable.
    pub version: u64,
    /// Created when.
    pub created_at: DateTime<Utc>,
    /// Created by.
    pub created_by: AgentId,
    /// This version written when.
    pub updated_at: DateTime<Utc>,
    /// This version written by.
    pub updated_by: AgentId,
    /// First published when.
    pub published_at: Option<DateTime<Utc>>,
}

impl Article {
    /// Its folded text for the lists' text filter (title and body, markup dropped), the
    /// `search_text` column of the stores.
    pub fn search_text(&self) -> String {
        let body = compose::html_to_text(&self.body);
        crate::interaction::search_text([self.title.as_str(), body.as_str()])
    }

    /// Whether `shortcut` names this article.
    pub fn has_shortcut(&self, shortcut: &str) -> bool {
        self.shortcut.as_deref() == Some(shortcut)
    }
}

/// What a caller sends to write an article.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewArticle {
    /// Title.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::required_text))]
    pub title: String,
    /// Body, HTML (sanitised on the way in).
    #[serde(default)]
    pub body: String,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Language (`fr`, `en`, `fr-CA` …).
    pub language: String,
    /// Shortcut code (`#refund`).
    #[serde(default)]
    pub shortcut: Option<String>,
    /// State (default draft).
    #[serde(default)]
    pub state: ArticleState,
    /// Public once published (default false).
    #[serde(default)]
    pub public: bool,
    /// The problem articles this one solves.
    #[serde(default)]
    pub solves: Vec<ArticleId>,
}

/// What a caller sends to change an article.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ArticlePatch {
    /// New title.
    #[serde(default)]
    pub title: Option<String>,
    /// New body (HTML).
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
    /// New state.
    #[serde(default)]
    pub state: Option<ArticleState>,
    /// New public flag.
    #[serde(default)]
    pub public: Option<bool>,
    /// New problem links.
    #[serde(default)]
    pub solves: Option<Vec<ArticleId>>,
}

fn language_pattern() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"^[a-z]{2,3}(-[A-Z]{2})?$").expect("valid pattern"))
}

fn shortcut_pattern() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"^#[a-z0-9][a-z0-9_-]{1,31}$").expect("valid pattern"))
}

/// Checks a language tag (`fr`, `en`, `fr-CA`).
///
/// # Errors
/// A [`FieldError`] on `language` naming the expected form.
pub fn parse_language(input: &str) -> Result<String, FieldError> {
    if language_pattern().is_match(input) {
        Ok(input.to_owned())
    } else {
        Err(FieldError::new("language", format!("{input:?} is not a language tag like \"fr\" or \"fr-CA\"")))
    }
}

/// Normalises a shortcut code: trimmed, lower case, a leading `#` added when missing.
///
/// # Errors
/// A [`FieldError`] on `shortcut` unless it is `#` then 2 to 32 of `[a-z0-9_-]`.
pub fn parse_shortcut(input: &str) -> Result<String, FieldError> {
    let trimmed = input.trim().to_lowercase();
    let code = if trimmed.starts_with('#') { trimmed } else { format!("#{trimmed}") };
    if shortcut_pattern().is_match(&code) {
        Ok(code)
    } else {
        Err(FieldError::new(
            "shortcut",
            format!("{input:?} is not a shortcut code like \"#refund\" (2-32 of a-z 0-9 _ -)"),
        ))
    }
}

/// Normalises tags: accents folded, lower case, words joined by `-`, sorted, each once.
///
/// # Errors
/// A [`FieldError`] on `tags` for an empty or over-long tag, or more than [`MAX_TAGS`].
pub fn parse_tags(input: &[String]) -> Result<Vec<String>, FieldError> {
    let mut tags = BTreeSet::new();
    for raw in input {
        let tag = words(raw).join("-");
        if tag.is_empty() || tag.len() > 40 {
            return Err(FieldError::new("tags", format!("{raw:?} is not a tag (1 to 40 letters or digits)")));
        }
        tags.insert(tag);
    }
    if tags.len() > MAX_TAGS {
        return Err(FieldError::new("tags", format!("at most {MAX_TAGS} tags, got {}", tags.len())));
    }
    Ok(tags.into_iter().collect())
}

/// Sanitises an HTML body (ammonia: no scripts, styles, event handlers or `javascript:`).
///
/// # Errors
/// A [`FieldError`] on `body` when larger than [`MAX_BODY`].
pub fn sanitise_body(input: &str) -> Result<String, FieldError> {
    if input.len() > MAX_BODY {
        return Err(FieldError::new("body", format!("must be at most {MAX_BODY} bytes, got {}", input.len())));
    }
    Ok(ammonia::clean(input))
}

fn parse_solves(id: ArticleId, input: &[ArticleId]) -> Result<Vec<ArticleId>, FieldError> {
    if input.contains(&id) {
        return Err(FieldError::new("solves", "an article cannot solve itself"));
    }
    let set: BTreeSet<ArticleId> = input.iter().copied().collect();
    if set.len() > MAX_SOLVES {
        return Err(FieldError::new("solves", format!("at most {MAX_SOLVES} problems, got {}", set.len())));
    }
    Ok(set.into_iter().collect())
}

impl NewArticle {
    /// Validates and builds version 1.
    ///
    /// # Errors
    /// Every invalid field at once.
    pub fn build(
        &self,
        id: ArticleId,
        tenant: TenantId,
        by: AgentId,
        now: DateTime<Utc>,
    ) -> Result<Article, ValidationErrors> {
        let mut v = Validator::new();
        let title = v.check(required_text("title", &self.title, MAX_TITLE));
        let body = v.check(sanitise_body(&self.body));
        let tags = v.check(parse_tags(&self.tags));
        let language = v.check(parse_language(&self.language));
        let shortcut = self.shortcut.as_deref().map(|s| v.check(parse_shortcut(s)));
        let solves = v.check(parse_solves(id, &self.solves));
        v.finish()?;
        let (Some(title), Some(body), Some(tags), Some(language), Some(solves)) = (title, body, tags, language, solves)
        else {
            unreachable!("the validator finished without errors")
        };
        Ok(Article {
            id,
            tenant,
            title,
            body,
            tags,
            language,
            shortcut: shortcut.flatten(),
            state: self.state,
            public: self.public,
            solves,
            version: 1,
            created_at: now,
            created_by: by,
            updated_at: now,
            updated_by: by,
            published_at: (self.state == ArticleState::Published).then_some(now),
        })
    }
}

/// Why a patch cannot apply.
#[derive(Debug, thiserror::Error)]
pub enum PatchError {
    /// Invalid fields.
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    /// A state change the life cycle forbids.
    #[error(transparent)]
    Transition(#[from] TransitionError),
}

impl ArticlePatch {
    /// Whether the patch changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// The next version of `article` with the patch applied.
    ///
    /// # Errors
    /// Every invalid field at once; a forbidden state change.
    pub fn apply(&self, article: &Article, by: AgentId, now: DateTime<Utc>) -> Result<Article, PatchError> {
        let mut next = article.clone();
        let mut v = Validator::new();
        if let Some(t) = &self.title {
            next.title = v.check(required_text("title", t, MAX_TITLE)).unwrap_or_default();
        }
        if let Some(b) = &self.body {
            next.body = v.check(sanitise_body(b)).unwrap_or_default();
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
        if let Some(s) = &self.solves {
            next.solves = v.check(parse_solves(article.id, s)).unwrap_or_default();
        }
        if let Some(p) = self.public {
            next.public = p;
        }
        v.finish()?;
        if let Some(state) = self.state {
            if !article.state.can_become(state) {
                return Err(TransitionError {
                    entity: "article",
                    from: article.state.as_str().to_owned(),
                    to: state.as_str().to_owned(),
                    reason: None,
                }
                .into());
            }
            next.state = state;
            if state == ArticleState::Published && next.published_at.is_none() {
                next.published_at = Some(now);
            }
        }
        next.version = article.version + 1;
        next.updated_at = now;
        next.updated_by = by;
        Ok(next)
    }
}

/// Which articles a list shows.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArticleFilter {
    /// Only in this state.
    pub state: Option<ArticleState>,
    /// Only in this language.
    pub language: Option<String>,
    /// Only the public ones (when `Some(true)`) or the internal ones (`Some(false)`).
    pub public: Option<bool>,
    /// Only those whose folded title or body contains this folded phrase
    /// (`" refund order "`, see [`response::fold_query`]).
    pub text: Option<String>,
}

impl ArticleFilter {
    /// Whether `article` passes.
    pub fn admits(&self, article: &Article) -> bool {
        self.state.is_none_or(|s| s == article.state)
            && self.language.as_deref().is_none_or(|l| l == article.language)
            && self.public.is_none_or(|p| p == article.public)
            && self.text.as_deref().is_none_or(|t| article.search_text().contains(t))
    }
}

#[cfg(test)]
mod tests;
