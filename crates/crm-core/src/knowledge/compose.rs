//! The composer (KNO-1, KNO-4): an agent's text with placeholders (`{{customer.name}}`,
//! `{{case.number}}`, `{{agent.name}}` …) and shortcut codes (`#refund`) becomes the HTML and
//! the plain text of a follow-up or an email. A shortcut expands to its article, as full
//! text (its sanitised body) or as a link. Placeholder values and the agent's own text are
//! escaped into the HTML; an unknown placeholder is an error naming it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::ids::{ArticleId, CaseId, CustomerId};
use crate::knowledge::Article;
use crate::knowledge::response::{StandardResponse, render};
use crate::script::template::{Piece, parse};

/// The placeholders the composer knows.
pub const PLACEHOLDERS: &[&str] =
    &["customer.name", "customer.account_number", "case.number", "case.subject", "agent.name", "agent.email"];

/// The longest text composed, in bytes.
pub const MAX_COMPOSE: usize = 64 * 1024;

/// How an article is inserted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum InsertMode {
    /// Its whole body.
    #[default]
    Full,
    /// A link to it, with its title.
    Link,
}

/// What the composer is asked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ComposeRequest {
    /// The agent's text (plain text), with placeholders and shortcut codes.
    pub text: String,
    /// The customer the `customer.*` placeholders read.
    #[serde(default)]
    pub customer: Option<CustomerId>,
    /// The case the `case.*` placeholders read.
    #[serde(default)]
    pub case: Option<CaseId>,
    /// How shortcut codes insert their article (default: full text).
    #[serde(default)]
    pub insert: InsertMode,
}

/// What the composer answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Composed {
    /// The HTML to send (the agent's text and the values escaped, articles sanitised).
    pub html: String,
    /// The same as plain text.
    pub text: String,
    /// The articles inserted, in order of first use.
    pub articles: Vec<ArticleId>,
    /// The standard responses inserted, in order of first use.
    #[serde(default)]
    pub responses: Vec<crate::ids::ResponseId>,
}

/// The placeholders of `text`, each once.
///
/// # Errors
/// A [`FieldError`] on `text` naming a placeholder that is not one of [`PLACEHOLDERS`], or
/// a malformed one; on `text` too when longer than [`MAX_COMPOSE`].
pub fn placeholders_of(text: &str) -> Result<Vec<&str>, FieldError> {
    if text.len() > MAX_COMPOSE {
        return Err(FieldError::new("text", format!("must be at most {MAX_COMPOSE} bytes, got {}", text.len())));
    }
    let mut found: Vec<&str> = Vec::new();
    for piece in parse(text).map_err(|reason| FieldError::new("text", reason))? {
        if let Piece::Field(name) = piece {
            if !PLACEHOLDERS.contains(&name) {
                return Err(FieldError::new(
                    "text",
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

/// The shortcut codes written in `text` (`#` at the start of a word, then 2 to 32 of
/// `[a-z0-9_-]`, lower-cased), each once.
pub fn shortcuts_of(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (_, code) in shortcut_spans(text) {
        if !found.contains(&code) {
            found.push(code);
        }
    }
    found
}

/// Where shortcut-shaped tokens are: (byte range, code).
fn shortcut_spans(text: &str) -> Vec<(std::ops::Range<usize>, String)> {
    let mut spans = Vec::new();
    let mut previous: Option<char> = None;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '#' && previous.is_none_or(char::is_whitespace) {
            let mut end = i + 1;
            while let Some(&(j, d)) = chars.peek() {
                if d.is_ascii_alphanumeric() || matches!(d, '_' | '-') {
                    end = j + d.len_utf8();
                    chars.next();
                } else {
                    break;
                }
            }
            let code = text[i..end].to_ascii_lowercase();
            if crate::knowledge::parse_shortcut(&code).is_ok_and(|c| c == code) {
                spans.push((i..end, code));
            }
            previous = text[..end].chars().next_back();
            continue;
        }
        previous = Some(c);
    }
    spans
}

pub use crate::text::escape_html;

/// Tags that end a line of text.
const BLOCKS: &[&str] = &["p", "div", "li", "h1", "h2", "h3", "h4", "tr", "blockquote", "pre"];

/// The text of sanitised HTML: tags dropped, block ends as line breaks, the entities
/// ammonia writes decoded.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('>') else {
            rest = "";
            break;
        };
        let inner = &rest[open + 1..open + close];
        let closing = inner.starts_with('/');
        let name: String =
            inner.trim_start_matches('/').chars().take_while(char::is_ascii_alphanumeric).collect::<String>();
        let name = name.to_ascii_lowercase();
        if name == "br" || (closing && BLOCKS.contains(&name.as_str())) {
            out.push('\n');
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&")
}

/// Composes `text`: `values` for its placeholders (missing ones render empty), `articles`
/// by shortcut code for its shortcuts (codes without an article stay as written), each
/// inserted as `mode` says; `link_of` gives an article's link.
pub fn compose(
    text: &str,
    values: &BTreeMap<&str, String>,
    articles: &BTreeMap<String, Article>,
    mode: InsertMode,
    link_of: impl Fn(&Article) -> String,
) -> Composed {
    compose_with_responses(text, values, articles, &BTreeMap::new(), mode, link_of)
}

/// [`compose`], with standard responses by shortcut code too (KNO-4): a code an article
/// does not take expands to its response, always in full, its own placeholders filled from
/// `values` and escaped.
pub fn compose_with_responses(
    text: &str,
    values: &BTreeMap<&str, String>,
    articles: &BTreeMap<String, Article>,
    responses: &BTreeMap<String, StandardResponse>,
    mode: InsertMode,
    link_of: impl Fn(&Article) -> String,
) -> Composed {
    let mut html = String::new();
    let mut plain = String::new();
    let mut used: Vec<ArticleId> = Vec::new();
    let mut used_responses: Vec<crate::ids::ResponseId> = Vec::new();
    for piece in parse(text).unwrap_or_else(|_| vec![Piece::Literal(text)]) {
        match piece {
            Piece::Field(name) => {
                let value = values.get(name).map(String::as_str).unwrap_or_default();
                html.push_str(&escape_html(value));
                plain.push_str(value);
            }
            Piece::Literal(literal) => {
                let mut at = 0;
                for (range, code) in shortcut_spans(literal) {
                    if !articles.contains_key(&code)
                        && let Some(response) = responses.get(&code)
                        && let Ok((body, body_text)) = render(&response.body, values)
                    {
                        html.push_str(&escape_html(&literal[at..range.start]));
                        plain.push_str(&literal[at..range.start]);
                        html.push_str(&body);
                        plain.push_str(&body_text);
                        if !used_responses.contains(&response.id) {
                            used_responses.push(response.id);
                        }
                        at = range.end;
                        continue;
                    }
                    let Some(article) = articles.get(&code) else { continue };
                    html.push_str(&escape_html(&literal[at..range.start]));
                    plain.push_str(&literal[at..range.start]);
                    match mode {
                        InsertMode::Full => {
                            html.push_str(&article.body);
                            plain.push_str(html_to_text(&article.body).trim());
                        }
                        InsertMode::Link => {
                            let link = link_of(article);
                            html.push_str(&format!(
                                "<a href=\"{}\">{}</a>",
                                escape_html(&link),
                                escape_html(&article.title)
                            ));
                            plain.push_str(&format!("{} ({link})", article.title));
                        }
                    }
                    if !used.contains(&article.id) {
                        used.push(article.id);
                    }
                    at = range.end;
                }
                html.push_str(&escape_html(&literal[at..]));
                plain.push_str(&literal[at..]);
            }
        }
    }
    Composed { html, text: plain, articles: used, responses: used_responses }
}
