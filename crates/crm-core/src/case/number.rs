//! Case numbers (CAS-1): sequential per tenant, never reused, shown as `CS-000123`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::FieldError;

/// A human-readable case number.
///
/// ```
/// use crm_core::case::CaseNumber;
///
/// let n: CaseNumber = "cs-42".parse().unwrap();
/// assert_eq!(n.to_string(), "CS-000042");
/// ```
///
/// On the wire it is the display form (`"CS-000042"`); reading also accepts the bare
/// sequence value (`42`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CaseNumber(u64);

impl Serialize for CaseNumber {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CaseNumber {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Wire {
            Text(String),
            Value(u64),
        }
        match Wire::deserialize(d)? {
            Wire::Text(t) => t.parse().map_err(serde::de::Error::custom),
            Wire::Value(0) => Err(serde::de::Error::custom("case numbers start at 1")),
            Wire::Value(v) => Ok(Self(v)),
        }
    }
}

impl CaseNumber {
    /// Wraps a sequence value (from 1).
    pub const fn new(value: u64) -> Self {
        Self(value)
    }

    /// The sequence value.
    pub const fn value(self) -> u64 {
        self.0
    }
}

impl fmt::Display for CaseNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CS-{:06}", self.0)
    }
}

impl FromStr for CaseNumber {
    type Err = FieldError;

    /// Accepts `CS-000123`, `cs-123`, `CS000123` and `123`.
    fn from_str(s: &str) -> Result<Self, FieldError> {
        let t = s.trim();
        let digits = t
            .strip_prefix("CS")
            .or_else(|| t.strip_prefix("cs"))
            .or_else(|| t.strip_prefix("Cs"))
            .map(|rest| rest.strip_prefix('-').unwrap_or(rest))
            .unwrap_or(t);
        match digits.parse::<u64>() {
            Ok(n) if n > 0 && !digits.starts_with('+') => Ok(Self(n)),
            _ => Err(FieldError::new("case_number", format!("{t:?} is not a case number such as CS-000123"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_numbers_print_and_parse_in_every_form() {
        let n = CaseNumber::new(123);
        assert_eq!(n.to_string(), "CS-000123");
        for s in ["CS-000123", "cs-123", "CS000123", "123", " 123 "] {
            assert_eq!(s.parse::<CaseNumber>().unwrap(), n, "{s}");
        }
        for s in ["", "CS-", "CS-0", "abc", "CS--1", "+5"] {
            assert!(s.parse::<CaseNumber>().is_err(), "{s}");
        }
        assert_eq!(CaseNumber::new(1_234_567).to_string(), "CS-1234567");
    }

    #[test]
    fn case_numbers_travel_as_their_display_form() {
        let n = CaseNumber::new(42);
        assert_eq!(serde_json::to_string(&n).unwrap(), "\"CS-000042\"");
        assert_eq!(serde_json::from_str::<CaseNumber>("\"CS-000042\"").unwrap(), n);
        assert_eq!(serde_json::from_str::<CaseNumber>("42").unwrap(), n);
        assert!(serde_json::from_str::<CaseNumber>("0").is_err());
        assert!(serde_json::from_str::<CaseNumber>("\"nope\"").is_err());
    }
}
