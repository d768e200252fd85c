//! The public self-service search (KNO-1): what a customer without a login sees of a
//! tenant's knowledge base, chosen by the tenant's public slug. Only published articles
//! marked public, and of them only what a reader needs: never an agent, a tenant id, a
//! shortcut or a link to an internal article.

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use regex::Regex;
use serde::{Deserialize, Serialize};

use super::{Article, ArticleState};
use crate::error::FieldError;
use crate::ids::ArticleId;

/// A published public article as the public sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PublicArticle {
    /// Its id.
    pub id: ArticleId,
    /// Title.
    pub title: String,
    /// Body, sanitised HTML.
    pub body: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Language.
    pub language: String,
    /// This version written when.
    pub updated_at: DateTime<Utc>,
}

impl PublicArticle {
    /// The public view of `article`, when the public may see it (published and public).
    pub fn of(article: &Article) -> Option<Self> {
        is_public(article).then(|| Self {
            id: article.id,
            title: article.title.clone(),
            body: article.body.clone(),
            tags: article.tags.clone(),
            language: article.language.clone(),
            updated_at: article.updated_at,
        })
    }
}

/// Whether the public may see `article`: published and marked public.
pub fn is_public(article: &Article) -> bool {
    article.state == ArticleState::Published && article.public
}

fn slug_pattern() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$").expect("valid pattern"))
}

/// Checks a tenant's public slug (`acme`, `acme-support`): trimmed, lower-cased, 2 to 63 of
/// `[a-z0-9-]`, not starting or ending with `-`.
///
/// # Errors
/// A [`FieldError`] on `slug` naming the expected form.
pub fn parse_slug(input: &str) -> Result<String, FieldError> {
    let slug = input.trim().to_ascii_lowercase();
    if slug.len() >= 2 && slug_pattern().is_match(&slug) {
        Ok(slug)
    } else {
        Err(FieldError::new(
            "slug",
            format!("{input:?} is not a slug like \"acme-support\" (2-63 of a-z 0-9 -, no leading or trailing -)"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_lower_case_words_with_dashes() {
        assert_eq!(parse_slug(" Acme-Support ").as_deref(), Ok("acme-support"));
        for bad in ["a", "-acme", "acme-", "ac me", "acmé", "", &"a".repeat(64)] {
            assert_eq!(parse_slug(bad).unwrap_err().field, "slug", "{bad:?}");
        }
    }
}
