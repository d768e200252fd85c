//! Numbers written with their `+` country code, read on their own (CUS-3).
//!
//! The `phonenumber` crate reads such a number through the metadata of the region it is
//! handed, so a tenant's default region used to strip its own national prefix from a foreign
//! number (a US tenant read `+55 11 2345-6425` as `+55 2345 6425`), and it cannot split a
//! country code glued to a hyphenated national number (`+1201-555-0533`). libphonenumber reads
//! the country code off the digits first and the rest with that country's metadata; this does
//! the same around the crate: the country code is cut from the leading digits, the rest is
//! read with no region, then with each region of that code (main one first), and a result
//! counts only when it is valid and keeps that code.

use std::str::FromStr;

use phonenumber::country;
use phonenumber::metadata::DATABASE;

/// A number written with `+`, split at its country code.
pub(super) struct International<'a> {
    /// The country calling code (`1`, `33`, `55`).
    pub(super) code: u16,
    /// The code's digits as written.
    code_digits: &'a str,
    /// What follows the code, punctuation and any extension included.
    rest: &'a str,
}

impl<'a> International<'a> {
    /// Splits `text` (trimmed) when it starts with `+` and a known country code; `None` for
    /// anything else (national forms, `00` prefixes, `tel:` URIs), which the region serves.
    pub(super) fn split(text: &'a str) -> Option<Self> {
        let after = text.strip_prefix('+').or_else(|| text.strip_prefix('＋'))?;
        let lead = after.bytes().take_while(u8::is_ascii_digit).count();
        if lead == 0 || after.starts_with('0') {
            return None;
        }
        (1..=lead.min(3)).find_map(|n| {
            let code: u16 = after[..n].parse().ok()?;
            DATABASE.by_code(&code).map(|_| Self { code, code_digits: &after[..n], rest: &after[n..] })
        })
    }

    /// The written form with a space after the country code, which the crate reads whatever
    /// the national number's punctuation.
    pub(super) fn spaced(&self) -> String {
        format!("+{} {}", self.code_digits, self.rest)
    }

    /// The digits after the country code (the extension, if any, included).
    pub(super) fn national_digits(&self) -> String {
        self.rest.chars().filter(char::is_ascii_digit).collect()
    }

    /// The regions to read the national number with: none (the crate picks the region the
    /// number is valid in), then each region of the code, the main one first.
    pub(super) fn hints(&self) -> Vec<Option<country::Id>> {
        let mut regions = DATABASE.by_code(&self.code).unwrap_or_default();
        regions.sort_by_key(|meta| !meta.is_main_country_for_code());
        std::iter::once(None)
            .chain(regions.into_iter().filter_map(|meta| country::Id::from_str(meta.id()).ok()).map(Some))
            .collect()
    }
}
