//! Structured postal addresses (CUS-1).

use serde::{Deserialize, Serialize};

use crate::error::{FieldError, Validator};
use crate::text::{bounded_text, required_text};

/// A postal address.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PostalAddress {
    /// A label such as `billing`, `home`.
    #[serde(default)]
    pub label: Option<String>,
    /// Street lines, at least one.
    pub lines: Vec<String>,
    /// Postal code.
    #[serde(default)]
    pub postal_code: Option<String>,
    /// City.
    pub city: String,
    /// State, county or province.
    #[serde(default)]
    pub region: Option<String>,
    /// ISO 3166-1 alpha-2 country code, upper case.
    pub country: String,
}

impl PostalAddress {
    /// Validates and trims an address.
    ///
    /// # Errors
    /// Every bad part, each naming its sub-field.
    pub fn validate(mut self) -> Result<Self, Vec<FieldError>> {
        let mut v = Validator::new();
        if self.lines.is_empty() || self.lines.len() > 4 {
            v.push(FieldError::new("lines", "must hold 1 to 4 lines"));
        }
        let lines: Vec<String> = self
            .lines
            .iter()
            .enumerate()
            .filter_map(|(i, l)| v.check(required_text(&format!("lines[{i}]"), l, 200)))
            .collect();
        self.lines = lines;
        self.city = v.check(required_text("city", &self.city, 100)).unwrap_or_default();
        let country = self.country.trim().to_ascii_uppercase();
        if country.len() != 2 || !country.chars().all(|c| c.is_ascii_uppercase()) {
            v.push(FieldError::new("country", "must be an ISO 3166-1 alpha-2 code such as FR"));
        }
        self.country = country;
        for (name, value) in
            [("label", &mut self.label), ("postal_code", &mut self.postal_code), ("region", &mut self.region)]
        {
            if let Some(text) = value.as_deref() {
                *value = v.check(bounded_text(name, text.trim(), 100)).filter(|t| !t.is_empty());
            }
        }
        v.finish().map(|()| self).map_err(|e| e.errors().to_vec())
    }
}
