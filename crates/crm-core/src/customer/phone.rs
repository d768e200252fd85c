//! Phone numbers in E.164 (CUS-3). Any common written form is accepted when it parses to a
//! valid number, with the tenant's default region for national forms; the stored and
//! matched form is always E.164 (`+33123456789`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::FieldError;

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
    /// `0033 1 …` is not accepted without a region) do not.
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
        Ok(Self(parsed.format().mode(phonenumber::Mode::E164).to_string()))
    }

    /// The E.164 form.
    pub fn as_e164(&self) -> &str {
        &self.0
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
mod tests {
    use super::*;

    fn fr() -> Option<Region> {
        Some(Region::parse("fr").unwrap())
    }

    #[test]
    fn french_forms_normalise_to_one_e164() {
        for input in ["+33 1 23 45 67 89", "01 23 45 67 89", "0123456789", "+33123456789", "01.23.45.67.89"] {
            assert_eq!(PhoneNumber::parse(input, fr()).unwrap().as_e164(), "+33123456789", "{input}");
        }
    }

    #[test]
    fn us_national_form_uses_the_region() {
        let us = Some(Region::parse("US").unwrap());
        assert_eq!(PhoneNumber::parse("(415) 555-0100", us).unwrap().as_e164(), "+14155550100");
        assert_eq!(PhoneNumber::parse("+1 415-555-0100", fr()).unwrap().as_e164(), "+14155550100");
    }

    #[test]
    fn stored_numbers_read_back_by_their_e164_shape() {
        let read = |json: &str| serde_json::from_str::<PhoneNumber>(json);
        assert_eq!(read("\"+33123456789\"").unwrap(), PhoneNumber::parse("01 23 45 67 89", fr()).unwrap());
        for bad in [
            "\"33123456789\"",
            "\"+\"",
            "\"+3\"",
            "\"+0123456789\"",
            "\"+33 1 23\"",
            "\"+123456789012345678901\"",
            "12",
        ] {
            assert!(read(bad).is_err(), "{bad}");
        }
        let number = PhoneNumber::parse("+1 415-555-0100", None).unwrap();
        assert_eq!(read(&serde_json::to_string(&number).unwrap()).unwrap(), number);
    }

    #[test]
    fn a_valid_number_longer_than_e164s_15_digits_reads_back() {
        let de = Some(Region::parse("DE").unwrap());
        let long = PhoneNumber::parse("0906 00000000000", de).unwrap();
        assert_eq!(long.as_e164(), "+4990600000000000");
        let json = serde_json::to_string(&long).unwrap();
        assert_eq!(serde_json::from_str::<PhoneNumber>(&json).unwrap(), long);
        assert!(PhoneNumber::is_e164_shaped(long.as_e164()));
    }

    #[test]
    fn garbage_is_refused_naming_the_field() {
        for input in ["", "hello", "12", "+33 1"] {
            let err = PhoneNumber::parse(input, fr()).unwrap_err();
            assert_eq!(err.field, "phone", "{input}");
        }
    }

    #[test]
    fn national_number_without_region_is_refused() {
        assert!(PhoneNumber::parse("0123456789", None).is_err());
    }

    #[test]
    fn unknown_region_is_refused() {
        assert!(Region::parse("ZZ").is_err());
    }

    mod properties {
        use proptest::prelude::*;

        use super::super::*;

        /// A French number (national significant number without the trunk 0) in the forms
        /// people write it.
        fn french_forms(nsn: &str) -> Vec<String> {
            let d: Vec<char> = nsn.chars().collect();
            let pairs: Vec<String> = d[1..].chunks(2).map(|c| c.iter().collect()).collect();
            vec![
                format!("0{nsn}"),
                format!("0{} {}", d[0], pairs.join(" ")),
                format!("0{}.{}", d[0], pairs.join(".")),
                format!("0{}-{}", d[0], pairs.join("-")),
                format!("+33{nsn}"),
                format!("+33 {} {}", d[0], pairs.join(" ")),
                format!("+33 (0){} {}", d[0], pairs.join(" ")),
                format!(" +33-{}-{} ", d[0], pairs.join("-")),
            ]
        }

        fn us_forms(area: &str, exchange: &str, line: &str) -> Vec<String> {
            vec![
                format!("({area}) {exchange}-{line}"),
                format!("{area}-{exchange}-{line}"),
                format!("{area}.{exchange}.{line}"),
                format!("1 {area} {exchange} {line}"),
                format!("+1 ({area}) {exchange}-{line}"),
                format!("+1{area}{exchange}{line}"),
            ]
        }

        proptest! {
            #[test]
            fn french_numbers_normalise_to_one_e164_whatever_the_form(first in "[1-7]", rest in "[0-9]{8}") {
                let nsn = format!("{first}{rest}");
                let fr = Some(Region::parse("FR").unwrap());
                let expected = format!("+33{nsn}");
                // Not every range is allocated; the property is about the forms of valid ones.
                prop_assume!(PhoneNumber::parse(&expected, None).is_ok());
                for form in french_forms(&nsn) {
                    let parsed = PhoneNumber::parse(&form, fr).map_err(|e| TestCaseError::fail(format!("{form}: {e}")))?;
                    prop_assert_eq!(parsed.as_e164(), expected.as_str(), "{}", form);
                    // Idempotent: the normal form parses to itself, with or without a region.
                    prop_assert_eq!(&PhoneNumber::parse(parsed.as_e164(), fr).unwrap(), &parsed);
                    prop_assert_eq!(&PhoneNumber::parse(parsed.as_e164(), None).unwrap(), &parsed);
                }
            }

            #[test]
            fn us_numbers_normalise_to_one_e164_whatever_the_form(
                area in proptest::sample::select(vec!["212", "303", "415", "617", "312"]),
                exchange in "[2-9][0-9]{2}",
                line in "[0-9]{4}",
            ) {
                let us = Some(Region::parse("US").unwrap());
                let mut seen = std::collections::BTreeSet::new();
                for form in us_forms(area, &exchange, &line) {
                    if let Ok(p) = PhoneNumber::parse(&form, us) {
                        prop_assert_eq!(&PhoneNumber::parse(p.as_e164(), None).unwrap(), &p);
                        seen.insert(p.as_e164().to_owned());
                    }
                }
                // Either the number is valid (every form gives the same E.164) or none parses.
                prop_assert!(seen.len() <= 1, "{:?}", seen);
                if !seen.is_empty() {
                    prop_assert_eq!(seen.into_iter().next().unwrap(), format!("+1{area}{exchange}{line}"));
                }
            }

            /// The screen pop looks an E.164-shaped number up as written before parsing it
            /// (`Crm::phone_cards`): that is sound only if every valid number's E.164 form
            /// has that shape and never parses to another number, in every numbering plan,
            /// including those with national prefixes, Italian leading zeros and variable
            /// lengths. (It may be refused: the `phonenumber` crate finds some numbers of a
            /// shared country code valid or not depending on the default region, such as
            /// `+78778078447`, valid with `FR` and not with `RU` or none.)
            #[test]
            fn every_valid_numbers_e164_form_is_e164_shaped_and_never_parses_to_another(
                region in proptest::sample::select(vec![
                    "FR", "US", "GB", "DE", "IT", "ES", "BE", "CH", "NL", "SE", "BR", "AR", "MX", "JP",
                    "CN", "IN", "AU", "NZ", "ZA", "RU", "SM", "VA", "CI", "SN", "MA",
                ]),
                trunk in proptest::sample::select(vec!["", "0", "00", "9", "15"]),
                digits in "[0-9]{4,13}",
            ) {
                let region = Region::parse(region).unwrap();
                let written = format!("{trunk}{digits}");
                if let Ok(parsed) = PhoneNumber::parse(&written, Some(region)) {
                    prop_assert!(PhoneNumber::is_e164_shaped(parsed.as_e164()), "{}", parsed);
                    for context in [None, Some(region)] {
                        if let Ok(again) = PhoneNumber::parse(parsed.as_e164(), context) {
                            prop_assert_eq!(&again, &parsed);
                        }
                    }
                }
            }

            #[test]
            fn arbitrary_text_never_panics_and_never_half_parses(input in ".{0,40}") {
                if let Ok(p) = PhoneNumber::parse(&input, Some(Region::parse("FR").unwrap())) {
                    prop_assert!(p.as_e164().starts_with('+'));
                    prop_assert!(p.as_e164()[1..].chars().all(|c| c.is_ascii_digit()));
                }
            }
        }
    }
}
