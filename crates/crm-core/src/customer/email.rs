//! Email addresses (CUS-3): at most 254 characters, syntax checked, matched
//! case-insensitively. The address keeps the case it was written in; [`EmailAddress::key`]
//! is the lower-cased form used for matching and uniqueness.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::FieldError;

/// The longest address SMTP can carry (RFC 5321 path limit less the angle brackets).
pub const MAX_EMAIL_LEN: usize = 254;

/// A syntactically valid email address.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Parses a bare address (`jane.doe@example.com`); display forms (`Jane <…>`) are refused.
    ///
    /// ```
    /// use crm_core::customer::EmailAddress;
    ///
    /// let e = EmailAddress::parse("Jane.Doe@Example.com").unwrap();
    /// assert_eq!(e.key(), "jane.doe@example.com");
    /// assert!(EmailAddress::parse("jane@").is_err());
    /// ```
    ///
    /// # Errors
    /// A [`FieldError`] on `email` naming the reason.
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(FieldError::new("email", "must not be empty"));
        }
        let len = trimmed.chars().count();
        if len > MAX_EMAIL_LEN {
            return Err(FieldError::new("email", format!("must be at most {MAX_EMAIL_LEN} characters, got {len}")));
        }
        let parsed = email_address::EmailAddress::from_str(trimmed)
            .map_err(|e| FieldError::new("email", format!("{trimmed:?} is not an email address: {e}")))?;
        if parsed.email() != trimmed {
            return Err(FieldError::new("email", "must be a bare address without a display name"));
        }
        if !parsed.domain().contains('.') || parsed.domain().starts_with('[') {
            return Err(FieldError::new("email", "the domain must be a dotted host name"));
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The address as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The matching key: the address in lower case.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for EmailAddress {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_addresses_keep_their_case_and_match_lower_case() {
        let e = EmailAddress::parse(" Jane.Doe@Example.COM ").unwrap();
        assert_eq!(e.as_str(), "Jane.Doe@Example.COM");
        assert_eq!(e.key(), "jane.doe@example.com");
    }

    #[test]
    fn a_255_character_address_is_refused() {
        let long = format!("{}@{}.com", "a".repeat(64), "b".repeat(186));
        assert_eq!(long.len(), 255);
        let err = EmailAddress::parse(&long).unwrap_err();
        assert!(err.reason.contains("at most 254"), "{err}");
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for input in
            ["", "jane", "jane@", "@example.com", "Jane <jane@example.com>", "jane@localhost", "a b@example.com"]
        {
            assert!(EmailAddress::parse(input).is_err(), "{input}");
        }
    }
}
