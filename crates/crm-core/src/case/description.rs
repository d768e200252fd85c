//! Case descriptions: plain text, or HTML sanitised on the way in.

use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::text::bounded_text;

/// The longest description.
pub const MAX_DESCRIPTION: usize = 100_000;

/// Plain text or sanitised HTML.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "format", content = "body", rename_all = "snake_case")]
pub enum Description {
    /// Plain text.
    Text(String),
    /// HTML, sanitised on the way in (scripts, event handlers and unsafe URLs removed).
    Html(String),
}

impl Description {
    /// Validates plain text.
    ///
    /// # Errors
    /// When it is too long.
    pub fn text(body: &str) -> Result<Self, FieldError> {
        bounded_text("description", body, MAX_DESCRIPTION).map(Self::Text)
    }

    /// Sanitises HTML.
    ///
    /// # Errors
    /// When it is too long.
    pub fn html(body: &str) -> Result<Self, FieldError> {
        if body.len() > MAX_DESCRIPTION {
            return Err(FieldError::new("description", format!("must be at most {MAX_DESCRIPTION} bytes")));
        }
        Ok(Self::Html(ammonia::clean(body)))
    }

    /// The body.
    pub fn body(&self) -> &str {
        match self {
            Description::Text(b) | Description::Html(b) => b,
        }
    }
}

impl Default for Description {
    fn default() -> Self {
        Self::Text(String::new())
    }
}

/// A description as a caller sends it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DescriptionInput {
    /// `text` (default) or `html`.
    #[serde(default)]
    pub format: DescriptionFormat,
    /// The body.
    pub body: String,
}

/// The format of a description.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DescriptionFormat {
    /// Plain text.
    #[default]
    Text,
    /// HTML.
    Html,
}

impl DescriptionInput {
    /// Validates (and sanitises HTML).
    ///
    /// # Errors
    /// When it is too long.
    pub fn parse(&self) -> Result<Description, FieldError> {
        match self.format {
            DescriptionFormat::Text => Description::text(&self.body),
            DescriptionFormat::Html => Description::html(&self.body),
        }
    }
}
