//! Salesforce error bodies (spec §1.5): a JSON array `[{"message","errorCode","fields"}]`,
//! `fields` sometimes absent; duplicate-rule errors carry a `duplicateResut` (sic, as in
//! real captures) or `duplicateResult` object. Mapping: 401 → `Auth` (after the one
//! re-authentication), 404 / `NOT_FOUND` / `ENTITY_IS_DELETED` → `NotFound`, 300 →
//! `Rejected{MULTIPLE_CHOICES}`, anything else → `Rejected` with the remote code verbatim.
//! 403 `REQUEST_LIMIT_EXCEEDED` never reaches here: [`throttle_hook`] makes it a rate limit.

use std::sync::Arc;

use crm_connector_http::{RawResponse, Throttle, ThrottleHook, retry_after, truncate_chars};
use crm_core::ConnectorError;
use serde::Deserialize;

use crate::system::SYSTEM;

/// One entry of an error body.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ApiError {
    /// The message.
    #[serde(default)]
    pub message: String,
    /// The code (`REQUIRED_FIELD_MISSING`).
    #[serde(default)]
    pub error_code: String,
    /// The fields blamed.
    #[serde(default)]
    pub fields: Vec<String>,
    /// Duplicate-rule details, under either spelling.
    #[serde(default, alias = "duplicateResut")]
    pub duplicate_result: Option<DuplicateResult>,
}

/// The part of a duplicate-rule result we report.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DuplicateResult {
    /// The rule that matched.
    #[serde(default)]
    pub duplicate_rule: String,
    /// The matches.
    #[serde(default)]
    pub match_results: Vec<MatchResult>,
}

/// One matching rule's matches.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MatchResult {
    /// The matched records.
    #[serde(default)]
    pub match_records: Vec<MatchRecord>,
}

/// One matched record.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct MatchRecord {
    /// The record (its `Id`).
    #[serde(default)]
    pub record: serde_json::Value,
}

/// The error entries of a body: an array, or (tolerantly) a single object.
pub fn parse_errors(body: &[u8]) -> Vec<ApiError> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Body {
        Many(Vec<ApiError>),
        One(ApiError),
    }
    match serde_json::from_slice::<Body>(body) {
        Ok(Body::Many(errors)) => errors,
        Ok(Body::One(error)) => vec![error],
        Err(_) => Vec::new(),
    }
}

/// Recognises 403 `REQUEST_LIMIT_EXCEEDED`. The 24 h `TotalRequests` quota must not be
/// hot-retried (the call ends `RateLimited` at once and an error is logged for alerting);
/// the concurrent long-transaction limit (`ConcurrentPerOrgLongTxn`) clears in seconds, so
/// it is retried with backoff.
pub fn throttle_hook() -> ThrottleHook {
    Arc::new(|status, headers, body| {
        if status.as_u16() != 403 {
            return None;
        }
        let error = parse_errors(body).into_iter().find(|e| e.error_code == "REQUEST_LIMIT_EXCEEDED")?;
        if error.message.contains("ConcurrentPerOrgLongTxn") {
            Some(Throttle { retry_after: retry_after(headers), retry: true })
        } else {
            tracing::error!(system = SYSTEM, message = %error.message, "salesforce api request quota exceeded");
            Some(Throttle { retry_after: retry_after(headers), retry: false })
        }
    })
}

/// The error of a non-success answer; `what` names the record for `NotFound`.
pub fn to_connector_error(response: &RawResponse, what: &str) -> ConnectorError {
    let errors = parse_errors(&response.body);
    let first = errors.first();
    let status = response.status.as_u16();
    let code = first.map(|e| e.error_code.as_str()).unwrap_or_default();
    if status == 401 {
        return ConnectorError::Auth {
            system: SYSTEM.to_owned(),
            message: first.map_or_else(|| String::from("session refused"), |e| format!("{code}: {}", e.message)),
        };
    }
    if status == 404 || code == "NOT_FOUND" || code == "ENTITY_IS_DELETED" {
        return ConnectorError::NotFound { system: SYSTEM.to_owned(), what: what.to_owned() };
    }
    if status == 300 {
        return ConnectorError::Rejected {
            system: SYSTEM.to_owned(),
            code: String::from("MULTIPLE_CHOICES"),
            message: format!("more than one record matches {what}"),
            field: None,
        };
    }
    match first {
        Some(error) => {
            let mut message = error.message.clone();
            if let Some(duplicates) = &error.duplicate_result {
                let ids: Vec<&str> = duplicates
                    .match_results
                    .iter()
                    .flat_map(|m| &m.match_records)
                    .filter_map(|r| r.record.get("Id").and_then(|v| v.as_str()))
                    .collect();
                message = format!("{message} (rule {}, matches: {})", duplicates.duplicate_rule, ids.join(", "));
            }
            ConnectorError::Rejected {
                system: SYSTEM.to_owned(),
                code: error.error_code.clone(),
                message,
                field: error.fields.first().cloned(),
            }
        }
        None => ConnectorError::Rejected {
            system: SYSTEM.to_owned(),
            code: format!("HTTP_{status}"),
            message: truncate_chars(&response.text(), 500),
            field: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_duplicate_spellings_are_read() {
        let real = br#"[{"duplicateResut":{"duplicateRule":"R","matchResults":[{"matchRecords":[{"record":{"Id":"003A"}}]}]},"errorCode":"DUPLICATES_DETECTED","message":"dup"}]"#;
        let synthetic = br#"[{"duplicateResult":{"duplicateRule":"R","matchResults":[]},"errorCode":"DUPLICATES_DETECTED","message":"dup"}]"#;
        assert_eq!(parse_errors(real)[0].duplicate_result.as_ref().unwrap().duplicate_rule, "R");
        assert_eq!(parse_errors(synthetic)[0].duplicate_result.as_ref().unwrap().duplicate_rule, "R");
    }

    #[test]
    fn absent_fields_are_tolerated() {
        let errors = parse_errors(br#"[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]"#);
        assert_eq!(errors[0].error_code, "INVALID_SESSION_ID");
        assert!(errors[0].fields.is_empty());
    }
}
