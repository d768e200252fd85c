//! OData details of the Dataverse Web API (spec §2.2, §2.4, §2.5): the headers every
//! request sends, `$filter` string literals (a `'` is doubled; URL encoding is left to the
//! query serializer, which encodes `+ & $ , / : ; = ? @`), the id in an `OData-EntityId`
//! header, and error bodies `{"error":{"code","message"}}`.

use crm_connector_http::{RawResponse, truncate_chars};
use crm_core::ConnectorError;
use serde::Deserialize;

use crate::system::SYSTEM;

/// Adds `Accept`, `OData-MaxVersion` and `OData-Version`.
pub fn odata_headers(request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    request.header("Accept", "application/json").header("OData-MaxVersion", "4.0").header("OData-Version", "4.0")
}

/// A `$filter` string literal.
pub fn literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// `a eq 'v' or b eq 'v' …` over `columns`.
pub fn any_column_equals(columns: &[String], value: &str) -> String {
    let value = literal(value);
    columns.iter().map(|c| format!("{c} eq {value}")).collect::<Vec<_>>().join(" or ")
}

/// The candidates of a phone search over `columns`: any column equal to one of the
/// number's written `forms`, or ending with `suffix` (its last digits; `endswith` takes no
/// wildcard). Dataverse has no phone-normalised column, so the caller keeps only the rows
/// whose numbers read back as the searched one.
pub fn phone_filter(columns: &[String], forms: &[String], suffix: &str) -> String {
    let mut terms = Vec::new();
    for column in columns {
        terms.extend(forms.iter().map(|form| format!("{column} eq {}", literal(form))));
        terms.push(format!("endswith({column},{})", literal(suffix)));
    }
    terms.join(" or ")
}

/// The id in `OData-EntityId: https://org/api/data/v9.2/contacts(7eb6…)`.
pub fn entity_id(header: &str) -> Option<String> {
    let open = header.rfind('(')?;
    let close = header[open..].find(')')? + open;
    let id = &header[open + 1..close];
    (!id.is_empty()).then(|| id.to_owned())
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

/// What a 404 means for the operation at hand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Missing {
    /// The record the operation is about is gone (activity push): `NotFound`.
    NotFound,
    /// A lookup in a record being created points nowhere: `Rejected` with the code.
    Rejected,
}

/// The remote's code and message of an error answer; the code is `HTTP_<status>` when the
/// body has none (Dataverse often sends `""`).
pub fn error_of(response: &RawResponse) -> (String, String) {
    match serde_json::from_slice::<ErrorBody>(&response.body) {
        Ok(body) => {
            let code =
                if body.error.code.is_empty() { format!("HTTP_{}", response.status.as_u16()) } else { body.error.code };
            (code, body.error.message)
        }
        Err(_) => (format!("HTTP_{}", response.status.as_u16()), truncate_chars(&response.text(), 500)),
    }
}

/// The error of a non-success answer.
pub fn to_connector_error(response: &RawResponse, what: &str, missing: Missing) -> ConnectorError {
    let (code, message) = error_of(response);
    match response.status.as_u16() {
        401 => ConnectorError::Auth {
            system: SYSTEM.to_owned(),
            message: if message.is_empty() { String::from("access token refused") } else { message },
        },
        404 if missing == Missing::NotFound => {
            ConnectorError::NotFound { system: SYSTEM.to_owned(), what: what.to_owned() }
        }
        _ => ConnectorError::Rejected { system: SYSTEM.to_owned(), code, message, field: None },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_are_doubled_in_literals() {
        assert_eq!(literal("O'Bryan"), "'O''Bryan'");
        assert_eq!(any_column_equals(&["a".into(), "b".into()], "x"), "a eq 'x' or b eq 'x'");
        assert_eq!(
            phone_filter(&["telephone1".into()], &["+1".into(), "(415)".into()], "0103"),
            "telephone1 eq '+1' or telephone1 eq '(415)' or endswith(telephone1,'0103')"
        );
    }

    #[test]
    fn the_entity_id_is_read_from_the_header() {
        let header = "https://org.crm.dynamics.com/api/data/v9.2/contacts(7eb682f1-ca75-e511-80d4-00155d2a68d1)";
        assert_eq!(entity_id(header).as_deref(), Some("7eb682f1-ca75-e511-80d4-00155d2a68d1"));
        assert_eq!(entity_id("nothing"), None);
    }
}
