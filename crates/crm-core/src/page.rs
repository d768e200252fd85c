//! Cursor pagination. A cursor is opaque to callers: a store encodes the position after the
//! last returned item (its sort key and id) with [`Cursor::encode`] and reads it back with
//! [`Cursor::decode`]. A cursor is valid only for the list and the store that returned it;
//! anything else is refused as a bad `cursor`, never misread.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::FieldError;

/// The default page size.
pub const DEFAULT_LIMIT: u32 = 50;
/// The largest page size.
pub const MAX_LIMIT: u32 = 200;

/// An opaque position in a list.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Cursor(String);

impl Cursor {
    /// Encodes a position.
    pub fn encode<T: Serialize>(position: &T) -> Self {
        let json = serde_json::to_vec(position).unwrap_or_default();
        Self(json.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// Decodes a position.
    ///
    /// # Errors
    /// A [`FieldError`] on `cursor` when it was not made by [`Cursor::encode`] for `T`.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, FieldError> {
        let bad = || FieldError::new("cursor", "is not a cursor this list returned");
        if !self.0.len().is_multiple_of(2) || self.0.len() > 4096 {
            return Err(bad());
        }
        let bytes = (0..self.0.len())
            .step_by(2)
            .map(|i| self.0.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(bad)?;
        serde_json::from_slice(&bytes).map_err(|_| bad())
    }

    /// Wraps a cursor string a caller sent back.
    pub fn from_string(s: String) -> Self {
        Self(s)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Which page to return.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageRequest {
    /// At most this many items (1..=200).
    pub limit: u32,
    /// Start after this position; `None` for the first page.
    pub after: Option<Cursor>,
}

impl PageRequest {
    /// The first page of `limit` items.
    ///
    /// # Errors
    /// A [`FieldError`] on `limit` outside 1..=200.
    pub fn new(limit: Option<u32>, after: Option<Cursor>) -> Result<Self, FieldError> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(FieldError::new("limit", format!("must be between 1 and {MAX_LIMIT}")));
        }
        Ok(Self { limit, after })
    }

    /// The first page with the default size.
    pub fn first() -> Self {
        Self { limit: DEFAULT_LIMIT, after: None }
    }
}

/// One page of a list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<Cursor>,
}

impl<T> Page<T> {
    /// Transforms the items.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page { items: self.items.into_iter().map(f).collect(), next: self.next }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let c = Cursor::encode(&("2026-11-23T10:00:00Z", 42u64));
        assert_eq!(c.decode::<(String, u64)>().unwrap(), ("2026-11-23T10:00:00Z".to_owned(), 42));
        for bad in ["zz", "abc", "7b", ""] {
            assert!(Cursor::from_string(bad.into()).decode::<(String, u64)>().is_err(), "{bad}");
        }
        assert!(PageRequest::new(Some(0), None).is_err());
        assert!(PageRequest::new(Some(201), None).is_err());
    }
}
