//! Phone numbers in E.164 (CUS-3). Any common written form is accepted when it parses to a
//! valid number: a number written with its `+` country code is read on its own
//! (`international`), whatever its punctuation (`+1201-555-0533`); the tenant's default
//! region serves only national forms. The stored and matched form is always E.164
//! (`+33123456789`).

mod international;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use international::International;

/// A region (ISO 3166-1 alpha-2, `FR`, `US`) used to read national-format numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Region(phonenumber::country::Id);

impl Region {
    /// Parses an ISO 3166-1 alpha-2 code, case-insensitively.
    ///
    /// # Errors
    /// When the code is not a region the numbering plan knows.
    pub fn parse(code: &str) -> Result<Self, FieldError> {
        phonenumber::country::Id::from_str(&code.trim().to_ascii_uppercase())
            .map(Self)
            .map_err(|_| FieldError::new("default_region", format!("{code:?} is not a known ISO 3166-1 region code")))
    }

    /// The two-letter code.
    pub fn code(&self) -> &str {
        self.0.as_ref()
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Region {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.as_ref())
    }
}

impl<'de> Deserialize<'de> for Region {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// The most digits of a number in E.164 form that [`PhoneNumber::parse`] can produce.
/// E.164 itself stops at 15, but the numbering plans the parser follows (libphonenumber's)
/// accept national numbers of up to 17 digits after a country code of up to 3: German
/// `+49 906 00000000000` is valid there, with 16. Reading back what was accepted must not
/// fail.
pub const MAX_DIGITS: usize = 20;

/// A valid phone number, held in E.164.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Parses a number in any common written form. National forms (`01 23 45 67 89`,
    /// `(415) 555-0100`) need `default_region`; international forms (`+33 1 23 45 67 89`,
    /// `+1201-555-0533`; `0033 1 …` is not accepted without a region) do not, and are read
    /// without it: a `+` number means the same to every tenant. A Mexican number written
    /// with the mobile `1` Mexico dropped in 2019 (`+52 1 55 1234 5678`) is read without it.
    ///
    /// ```
    /// use crm_core::customer::{PhoneNumber, Region};
    ///
    /// let fr = Some(Region::parse("FR").unwrap());
    /// let a = PhoneNumber::parse("01 23 45 67 89", fr).unwrap();
    /// let b = PhoneNumber::parse("+33 (0)1 23 45 67 89", None).unwrap();
    /// assert_eq!(a, b);
    /// assert_eq!(a.as_e164(), "+33123456789");
    /// assert_eq!(PhoneNumber::parse("12", fr).unwrap_err().field, "phone");
    /// ```
    ///
    /// # Errors
    /// A [`FieldError`] on `phone` when the text is not a valid number.
    pub fn parse(input: &str, default_region: Option<Region>) -> Result<Self, FieldError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(FieldError::new("phone", "must not be empty"));
        }
        if trimmed.len() > 64 {
            return Err(FieldError::new("phone", "must be at most 64 characters"));
        }
        if let Some(international) = International::split(trimmed) {
            return Self::parse_international(trimmed, &international, default_region);
        }
        let parsed = phonenumber::parse(default_region.map(|r| r.0), trimmed).map_err(|e| {
            let hint = if default_region.is_none() && !trimmed.starts_with('+') {
                " (national numbers need a default region; write it with +country code)"
            } else {
                ""
            };
            FieldError::new("phone", format!("{trimmed:?} is not a phone number: {e}{hint}"))
        })?;
        if !parsed.is_valid() {
            return Err(FieldError::new("phone", format!("{trimmed:?} is not a valid phone number")));
        }
        Ok(Self::e164(&parsed))
    }

    fn e164(parsed: &phonenumber::PhoneNumber) -> Self {
        Self(parsed.format().mode(phonenumber::Mode::E164).to_string())
    }

    /// A `+` number: read with no region, then with each region of its country code; a
    /// result counts when valid and under the code as written. Then Mexico's old mobile `1`;
    /// last, the tenant's region, only when its reading keeps every digit as written (the
    /// crate finds `+7 877 807 84 47` valid that way only).
    fn parse_international(
        trimmed: &str,
        international: &International<'_>,
        default_region: Option<Region>,
    ) -> Result<Self, FieldError> {
        let spaced = international.spaced();
        let accepted = |parsed: &phonenumber::PhoneNumber| {
            (parsed.is_valid() && parsed.code().value() == international.code).then(|| Self::e164(parsed))
        };
        let mut first_error = None;
        for hint in international.hints() {
            match phonenumber::parse(hint, &spaced) {
                Ok(parsed) => {
                    if let Some(number) = accepted(&parsed) {
                        return Ok(number);
                    }
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        let digits = international.national_digits();
        if international.code == 52
            && digits.len() == 11
            && digits.starts_with('1')
            && let Some(number) =
                phonenumber::parse(None, format!("+52 {}", &digits[1..])).ok().as_ref().and_then(accepted)
        {
            return Ok(number);
        }
        if let Some(region) = default_region
            && let Some(number) = phonenumber::parse(Some(region.0), &spaced).ok().as_ref().and_then(accepted)
            && number.0 == format!("+{}{digits}", international.code)
        {
            return Ok(number);
        }
        Err(match first_error {
            Some(e) => FieldError::new("phone", format!("{trimmed:?} is not a phone number: {e}")),
            None => FieldError::new("phone", format!("{trimmed:?} is not a valid phone number")),
        })
    }

    /// The E.164 form.
    pub fn as_e164(&self) -> &str {
        &self.0
    }

    /// The region whose numbering plan the number belongs to (`US` for `+1 415 …`), when
    /// the plan names one.
    pub fn region(&self) -> Option<Region> {
        phonenumber::parse(None, &self.0).ok()?.country().id().map(Region)
    }

    /// The national significant number: the digits after the country code
    /// (`4155550103` for `+14155550103`), what a remote system that stores numbers as
    /// typed most likely ends with.
    pub fn national_significant_number(&self) -> &str {
        let code_len = phonenumber::parse(None, &self.0).map_or(0, |p| p.code().value().to_string().len());
        self.0.get(1 + code_len..).unwrap_or_default()
    }

    /// The forms a person most likely typed this number in, for an exact-match search in a
    /// system that stores numbers as typed: E.164, the numbering plan's international and
    /// national formats, and the national digits with and without the trunk prefix
    /// (`+14155550103`, `+1 415-555-0103`, `(415) 555-0103`, `4155550103`); no duplicates.
    /// Pair it with a suffix search on [`PhoneNumber::last_digits`] and keep the candidates
    /// [`PhoneNumber::is_written_as`] accepts.
    pub fn written_forms(&self) -> Vec<String> {
        let mut forms = vec![self.0.clone()];
        if let Ok(parsed) = phonenumber::parse(None, &self.0) {
            let national = parsed.format().mode(phonenumber::Mode::National).to_string();
            forms.push(parsed.format().mode(phonenumber::Mode::International).to_string());
            forms.push(national.chars().filter(char::is_ascii_digit).collect());
            forms.push(national);
        }
        forms.push(self.national_significant_number().to_owned());
        let mut seen = std::collections::HashSet::new();
        forms.retain(|f| !f.is_empty() && seen.insert(f.clone()));
        forms
    }

    /// The last `n` digits (all of them when there are fewer): a suffix every written form
    /// whose last group has at least `n` digits ends with (`0103` in `(415) 555-0103`).
    pub fn last_digits(&self, n: usize) -> &str {
        let digits = &self.0[1..];
        &digits[digits.len().saturating_sub(n)..]
    }

    /// Whether `written` — a number as another system stores it, in any written form
    /// (`(415) 555-0103`, `415.555.0103`, `+1 415 555 0103`) — is this number, by the same
    /// rules as [`PhoneNumber::parse`], national forms read in this number's own region.
    pub fn is_written_as(&self, written: &str) -> bool {
        Self::parse(written, self.region()).is_ok_and(|n| n == *self)
    }

    /// Whether `text` has the shape of a number in E.164 form: `+`, then 2 to
    /// [`MAX_DIGITS`] digits, the first not 0. Shape only: whether such a number exists is
    /// [`PhoneNumber::parse`]'s question.
    pub fn is_e164_shaped(text: &str) -> bool {
        text.strip_prefix('+').is_some_and(|digits| {
            (2..=MAX_DIGITS).contains(&digits.len())
                && digits.bytes().all(|b| b.is_ascii_digit())
                && !digits.starts_with('0')
        })
    }

    /// Rebuilds from a stored E.164 value, checking it.
    ///
    /// # Errors
    /// When the value is not a valid E.164 number.
    pub fn from_e164(value: &str) -> Result<Self, FieldError> {
        if !value.starts_with('+') {
            return Err(FieldError::new("phone", "an E.164 number starts with +"));
        }
        Self::parse(value, None)
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Reading a number back (a stored record, an event) checks the E.164 shape only
/// ([`PhoneNumber::is_e164_shaped`]). Every number was parsed against the numbering plan
/// by [`PhoneNumber::parse`] when it entered; parsing it again on every read (a screen pop
/// reads each card's numbers) costs microseconds of regular expressions apiece. Input from
/// users never reaches this: commands carry written numbers as text and parse them.
impl<'de> Deserialize<'de> for PhoneNumber {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if Self::is_e164_shaped(&s) {
            Ok(Self(s))
        } else {
            Err(serde::de::Error::custom(format!("{s:?} is not an E.164 number")))
        }
    }
}

#[cfg(test)]
mod tests;
