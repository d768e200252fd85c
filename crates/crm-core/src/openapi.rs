//! OpenAPI schemas of the value types whose JSON form is written by hand (behind the
//! `openapi` feature). The other wire types derive `utoipa::ToSchema` where they are
//! defined; the newtypes here serialise as strings with rules the derive cannot see
//! (a UUID, E.164, an email address, `CS-000123`), so their schemas say so explicitly,
//! built from the same constants as the parsers.

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{KnownFormat, Object, ObjectBuilder, Schema, SchemaFormat, Type};

use crate::case::CaseNumber;
use crate::customer::{
    AccountNumber, EmailAddress, IdentityKey, MAX_EMAIL_LEN, MAX_PHONE_DIGITS as MAX_DIGITS, PhoneNumber,
};

/// The pattern of a phone number as the API returns it: E.164 as [`PhoneNumber::parse`]
/// produces it (`+`, then up to [`MAX_DIGITS`] digits, the first not 0). Written numbers sent
/// in requests (`06 12 34 56 78`) are plain strings: they are parsed, not matched.
pub fn e164_pattern() -> String {
    format!(r"^\+[1-9][0-9]{{1,{}}}$", MAX_DIGITS - 1)
}

/// The pattern of a case number as the API returns it (`CS-000123`).
pub const CASE_NUMBER_PATTERN: &str = r"^CS-[0-9]{6,}$";

/// The pattern of an account number ([`AccountNumber::parse`]).
pub const ACCOUNT_NUMBER_PATTERN: &str = r"^[A-Za-z0-9._-]{1,40}$";

/// What [`crate::text::required_text`] accepts: a character other than white space, and no
/// control character but tab and line breaks (lengths are left to the validation's 422).
pub const REQUIRED_TEXT_PATTERN: &str =
    r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$";

/// The schema of a required text field (`schema_with` on the commands' fields that
/// [`crate::text::required_text`] validates), so generated requests are not blank.
pub fn required_text() -> Object {
    string("Text, not blank; no control characters but tab and line breaks.")
        .min_length(Some(1))
        .pattern(Some(REQUIRED_TEXT_PATTERN))
        .build()
}

fn string(description: &str) -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String).description(Some(description))
}

/// The schema of a newtype id: a UUID.
pub(crate) fn uuid_schema(description: &str) -> RefOr<Schema> {
    string(description).format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid))).into()
}

/// Implements `ToSchema` for a newtype with a hand-built schema (named after the type).
macro_rules! schema {
    ($($name:ty => $schema:expr;)+) => {$(
        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                $schema
            }
        }

        impl utoipa::ToSchema for $name {}
    )+};
}

schema! {
    PhoneNumber => string("A valid phone number in E.164 form.")
        .pattern(Some(e164_pattern()))
        .examples([serde_json::json!("+33612345678")])
        .into();
    EmailAddress => string("A syntactically valid email address (case kept; matched case-insensitively).")
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Email)))
        .max_length(Some(MAX_EMAIL_LEN))
        .into();
    CaseNumber => string("A case number: sequential per tenant, never reused.")
        .pattern(Some(CASE_NUMBER_PATTERN))
        .examples([serde_json::json!("CS-000123")])
        .into();
    AccountNumber => string("An account number, unique per tenant (generated as `AC-000042` when none is given).")
        .pattern(Some(ACCOUNT_NUMBER_PATTERN))
        .examples([serde_json::json!("AC-000042")])
        .into();
    IdentityKey => string("A normalised identity: `phone:+33123456789`, `email:jane@example.com`, `handle:whats_app:+33612345678`.")
        .pattern(Some(r"^(phone|email|handle):.+$"))
        .into();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_e164_pattern_allows_what_the_parser_accepts_back() {
        let re = e164_pattern();
        assert_eq!(re, r"^\+[1-9][0-9]{1,19}$");
        // The pattern and `is_e164_shaped` agree on the edges.
        for (text, ok) in
            [("+33612345678", true), ("+4990600000000000", true), ("+0123", false), ("+1", false), ("0612", false)]
        {
            assert_eq!(PhoneNumber::is_e164_shaped(text), ok, "{text}");
        }
        let longest = format!("+1{}", "0".repeat(MAX_DIGITS - 1));
        assert!(PhoneNumber::is_e164_shaped(&longest));
        assert!(!PhoneNumber::is_e164_shaped(&format!("{longest}0")));
    }
}
