//! Translation between NetSuite records and the core's shapes (spec §3.4–3.6): SuiteQL
//! rows to [`ExternalRecord`]s, record bodies (a lead is a `customer` with a lead-stage
//! `entityStatus`; there is no lead record), the `phoneCall` of a wrap-up, and `nsError`
//! bodies.

use std::sync::Arc;

use crm_connector_http::{RawResponse, Throttle, ThrottleHook, retry_after, truncate_chars};
use crm_core::ConnectorError;
use crm_core::external::{
    ActivityPush, ExternalCase, ExternalObject, ExternalPerson, ExternalRecord, ExternalRef, ExternalSystem,
};
use crm_core::interaction::Direction;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::config::NetSuiteMapping;
use crate::suiteql::Table;
use crate::system::SYSTEM;

fn text<'a>(row: &'a Value, column: &str) -> Option<&'a str> {
    row.get(column).and_then(Value::as_str).filter(|v| !v.is_empty())
}

fn reference(object: ExternalObject, id: &str) -> ExternalRef {
    ExternalRef { system: ExternalSystem::NetSuite, object, id: id.to_owned() }
}

/// A SuiteQL row as an [`ExternalRecord`]. Customers are reported as accounts: telling
/// leads and prospects apart needs the stage, whose SuiteQL column is unverified \[U\].
pub fn to_external(row: &Value, table: Table, mapping: &NetSuiteMapping) -> Option<ExternalRecord> {
    let id = text(row, "id")?;
    let person = match (text(row, "firstname"), text(row, "lastname")) {
        (Some(first), Some(last)) => Some(format!("{first} {last}")),
        (first, last) => first.or(last).map(str::to_owned),
    };
    let (object, phone_columns, page, name) = match table {
        Table::Customer => (
            ExternalObject::Account,
            &mapping.customer_phone_columns,
            "custjob",
            text(row, "companyname").map(str::to_owned).or(person),
        ),
        Table::Contact => (ExternalObject::Contact, &mapping.contact_phone_columns, "contact", person),
    };
    let name = name.or_else(|| text(row, "entityid").map(str::to_owned)).unwrap_or_default();
    Some(ExternalRecord {
        reference: reference(object, id),
        name,
        phones: phone_columns.iter().filter_map(|c| text(row, c)).map(str::to_owned).collect(),
        emails: text(row, "email").map(str::to_owned).into_iter().collect(),
        account: match table {
            Table::Contact => text(row, "company").map(|c| reference(ExternalObject::Account, c)),
            Table::Customer => None,
        },
        url: mapping
            .ui_url
            .as_ref()
            .map(|ui| format!("{}/app/common/entity/{page}.nl?id={id}", ui.trim_end_matches('/'))),
    })
}

fn put(body: &mut Map<String, Value>, key: &str, value: Option<&str>) {
    if let Some(value) = value {
        body.insert(key.to_owned(), Value::String(value.to_owned()));
    }
}

fn put_ref(body: &mut Map<String, Value>, key: &str, id: Option<&str>) {
    if let Some(id) = id {
        body.insert(key.to_owned(), json!({ "id": id }));
    }
}

/// The `supportCase` body.
pub fn case_body(case: &ExternalCase, mapping: &NetSuiteMapping) -> Value {
    let mut body = Map::new();
    body.insert("title".into(), Value::String(truncate_chars(&case.subject, 999)));
    put(&mut body, "incomingMessage", case.description.as_deref());
    put_ref(&mut body, "company", case.account.as_ref().map(|r| r.id.as_str()));
    put_ref(&mut body, "contact", case.contact.as_ref().map(|r| r.id.as_str()));
    put_ref(&mut body, "priority", mapping.case_priorities.get(&case.priority).map(String::as_str));
    put_ref(&mut body, "origin", mapping.case_origins.get(case.origin.as_str()).map(String::as_str));
    Value::Object(body)
}

/// The `contact` body.
pub fn contact_body(person: &ExternalPerson, mapping: &NetSuiteMapping) -> Value {
    let mut body = Map::new();
    put(&mut body, "firstName", person.first_name.as_deref());
    body.insert("lastName".into(), Value::String(person.last_name.clone()));
    put(&mut body, "email", person.email.as_deref());
    put(&mut body, "phone", person.phone.as_deref());
    put_ref(&mut body, "company", person.account.as_ref().map(|r| r.id.as_str()));
    put_ref(&mut body, "subsidiary", mapping.subsidiary.as_deref());
    Value::Object(body)
}

/// The `customer` body of a lead: a person when there is no company name.
pub fn lead_body(person: &ExternalPerson, mapping: &NetSuiteMapping) -> Value {
    let mut body = Map::new();
    body.insert("isPerson".into(), json!(person.company.is_none()));
    put(&mut body, "companyName", person.company.as_deref());
    put(&mut body, "firstName", person.first_name.as_deref());
    body.insert("lastName".into(), Value::String(person.last_name.clone()));
    put(&mut body, "email", person.email.as_deref());
    put(&mut body, "phone", person.phone.as_deref());
    put_ref(&mut body, "entityStatus", mapping.lead_entity_status.as_deref());
    put_ref(&mut body, "subsidiary", mapping.subsidiary.as_deref());
    Value::Object(body)
}

/// The external id of a wrap-up: NetSuite external ids use `[A-Za-z0-9_-]`, so any other
/// character becomes `_` (engine keys, `<uuid>` or `<uuid>-2`, never contain one).
pub fn external_id(key: &str) -> String {
    key.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' }).collect()
}

/// The field of a phoneCall that links the target.
pub fn link_field(object: ExternalObject) -> &'static str {
    match object {
        ExternalObject::Account | ExternalObject::Lead => "company",
        ExternalObject::Contact => "contact",
        ExternalObject::Case | ExternalObject::Activity => "supportCase",
    }
}

/// The `phoneCall` body. phoneCall has no duration or disposition field \[D\]: both go in
/// `message` before the notes.
pub fn phone_call_body(activity: &ActivityPush, mapping: &NetSuiteMapping) -> Value {
    let mut message = String::from(match activity.direction {
        Direction::Inbound => "inbound",
        Direction::Outbound => "outbound",
    });
    if let Some(seconds) = activity.duration_seconds {
        message.push_str(&format!("; duration {seconds}s"));
    }
    if let Some(disposition) = &activity.disposition {
        message.push_str(&format!("; disposition {disposition}"));
    }
    if !activity.notes.is_empty() {
        message.push_str("\n\n");
        message.push_str(&activity.notes);
    }
    let mut body = Map::new();
    body.insert("title".into(), Value::String(truncate_chars(&activity.subject, 999)));
    body.insert("message".into(), Value::String(message));
    body.insert("status".into(), json!({ "id": mapping.call_status }));
    body.insert("startDate".into(), Value::String(activity.started_at.date_naive().format("%Y-%m-%d").to_string()));
    body.insert(link_field(activity.target.object).into(), json!({ "id": activity.target.id }));
    Value::Object(body)
}

/// One entry of `o:errorDetails`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ErrorDetail {
    /// The text.
    #[serde(default)]
    pub detail: String,
    /// The code.
    #[serde(rename = "o:errorCode", default)]
    pub code: String,
    /// The blamed path.
    #[serde(rename = "o:errorPath", default)]
    pub path: Option<String>,
}

#[derive(Deserialize)]
struct NsError {
    #[serde(rename = "o:errorDetails", default)]
    details: Vec<ErrorDetail>,
    #[serde(rename = "o:errorCode", default)]
    code: Option<String>,
    #[serde(default)]
    title: Option<String>,
}

/// The first error detail of an `nsError` body (a top-level `o:errorCode` is used when
/// there are no details).
pub fn error_detail(response: &RawResponse) -> ErrorDetail {
    match serde_json::from_slice::<NsError>(&response.body) {
        Ok(body) => body.details.into_iter().next().unwrap_or_else(|| ErrorDetail {
            detail: body.title.unwrap_or_default(),
            code: body.code.unwrap_or_else(|| format!("HTTP_{}", response.status.as_u16())),
            path: None,
        }),
        Err(_) => ErrorDetail {
            detail: truncate_chars(&response.text(), 500),
            code: format!("HTTP_{}", response.status.as_u16()),
            path: None,
        },
    }
}

/// Recognises `CONCURRENCY_LIMIT_EXCEEDED` whatever the status (some accounts answer it
/// with 400 `USER_ERROR` \[O\]). NetSuite documents no `Retry-After` \[U\], but when one
/// comes it is honoured (the call waits, or ends `RateLimited` carrying it when it is longer
/// than the ceiling, so the outbox schedules the next attempt from it); without one the
/// backoff decides.
pub fn throttle_hook() -> ThrottleHook {
    Arc::new(|_status, headers, body| {
        let text = std::str::from_utf8(body).ok()?;
        text.contains("CONCURRENCY_LIMIT_EXCEEDED").then(|| Throttle { retry_after: retry_after(headers), retry: true })
    })
}

/// The error of a non-success answer. `links` are the fields that point at the target of
/// an activity push: an invalid reference there means the target is gone.
pub fn to_connector_error(response: &RawResponse, what: &str, links: &[&str]) -> ConnectorError {
    let detail = error_detail(response);
    let status = response.status.as_u16();
    let stale_link = detail.code == "INVALID_KEY_OR_REF"
        && detail.path.as_deref().is_some_and(|p| links.iter().any(|l| p == *l || p.starts_with(&format!("{l}."))));
    if status == 401 {
        return ConnectorError::Auth {
            system: SYSTEM.to_owned(),
            message: format!("{}: {}", detail.code, detail.detail),
        };
    }
    if (status == 404 && !links.is_empty()) || stale_link {
        return ConnectorError::NotFound { system: SYSTEM.to_owned(), what: what.to_owned() };
    }
    ConnectorError::Rejected {
        system: SYSTEM.to_owned(),
        code: detail.code,
        message: detail.detail,
        field: detail.path,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use reqwest::StatusCode;
    use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};

    use super::*;

    #[test]
    fn a_concurrency_limit_honours_retry_after_when_netsuite_sends_one() {
        let hook = throttle_hook();
        let body = br#"{"status":429,"o:errorDetails":[{"detail":"Concurrent request limit exceeded. Request blocked.","o:errorCode":"CONCURRENCY_LIMIT_EXCEEDED"}]}"#;
        let mut headers = HeaderMap::new();
        assert_eq!(
            hook(StatusCode::TOO_MANY_REQUESTS, &headers, body),
            Some(Throttle { retry_after: None, retry: true })
        );
        headers.insert(RETRY_AFTER, HeaderValue::from_static("60"));
        assert_eq!(
            hook(StatusCode::TOO_MANY_REQUESTS, &headers, body),
            Some(Throttle { retry_after: Some(Duration::from_secs(60)), retry: true })
        );
        assert_eq!(hook(StatusCode::BAD_REQUEST, &headers, b"{}"), None);
    }
}
