//! Extractors and responders that speak problem+json: JSON bodies, query strings and path
//! parameters whose errors name the field serde blamed, the `If-Match` precondition, and
//! responses carrying `ETag: "<version>"`.

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crm_core::service::ANY_VERSION;

use crate::problem::{ApiError, Problem, ProblemKind};

/// A JSON request body. Syntax errors are 400, type errors and unknown or missing fields
/// 422 naming the field, a non-JSON content type 415, an oversized body 413.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(ApiError::new(ProblemKind::UnsupportedMediaType, "send the body as application/json"));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(ProblemKind::PayloadTooLarge, "the request body is larger than the server accepts")
            } else {
                ApiError::new(ProblemKind::MalformedRequest, e.body_text())
            }
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| {
            let m = m.trim().to_ascii_lowercase();
            m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
        })
        .unwrap_or(false)
}

/// Parses a JSON document into `T`, naming the field on type errors.
///
/// # Errors
/// 400 for a syntax error, 422 for a value of the wrong type, an unknown or a missing field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // NUL cannot be stored in PostgreSQL text: refuse it here, naming the field, whatever the
    // command (JSON can only carry it as the escape `\u0000`, so most bodies skip the walk).
    if bytes.windows(6).any(|w| w == b"\\u0000")
        && let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes)
        && let Some(field) = nul_path(&value, "")
    {
        return Err(ApiError::invalid(field, "must not contain NUL characters"));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let result: Result<T, _> = serde_path_to_error::deserialize(&mut de);
    let value = match result {
        Ok(v) => v,
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            return Err(match inner.classify() {
                serde_json::error::Category::Data => {
                    let reason = strip_position(&inner.to_string());
                    ApiError::invalid(field_name(&path, &reason), reason)
                }
                // serde_json reports a value of the wrong JSON type for an enum (`{"status": 7}`)
                // as a syntax error; when the document itself is well-formed JSON, it is the
                // field's value that is wrong.
                _ if serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok() => {
                    let reason = format!("has the wrong type or value ({})", strip_position(&inner.to_string()));
                    ApiError::invalid(field_name(&path, &reason), reason)
                }
                _ => ApiError::new(ProblemKind::MalformedRequest, format!("the body is not valid JSON: {inner}")),
            });
        }
    };
    de.end().map_err(|e| ApiError::new(ProblemKind::MalformedRequest, format!("the body is not valid JSON: {e}")))?;
    Ok(value)
}

/// The path of the first string (or key) holding a NUL character.
fn nul_path(value: &serde_json::Value, path: &str) -> Option<String> {
    let here = || if path.is_empty() { "body".to_owned() } else { path.to_owned() };
    match value {
        serde_json::Value::String(s) if s.contains('\0') => Some(here()),
        serde_json::Value::Array(items) => {
            items.iter().enumerate().find_map(|(i, v)| nul_path(v, &format!("{path}[{i}]")))
        }
        serde_json::Value::Object(map) => map.iter().find_map(|(k, v)| {
            let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
            if k.contains('\0') { Some(p) } else { nul_path(v, &p) }
        }),
        _ => None,
    }
}

/// `at line 1 column 7` is noise in a field error.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// The field a serde error is about: the path, completed by the name serde quotes for unknown
/// and missing fields (`unknown field `x``).
fn field_name(path: &str, reason: &str) -> String {
    let base = if path == "." { "" } else { path };
    let quoted =
        reason.split('`').nth(1).filter(|_| reason.starts_with("unknown field") || reason.starts_with("missing field"));
    match (base, quoted) {
        (b, Some(q)) if b == q || b.ends_with(&format!(".{q}")) => b.to_owned(),
        ("", Some(q)) => q.to_owned(),
        (b, Some(q)) => format!("{b}.{q}"),
        ("", None) => "body".to_owned(),
        (b, None) => b.to_owned(),
    }
}

/// A query string; errors are 422 naming the parameter.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        if let Some((k, _)) = form_urlencoded_parse(query).find(|(k, v)| k.contains('\0') || v.contains('\0')) {
            return Err(ApiError::invalid(k.replace('\0', ""), "must not contain NUL characters"));
        }
        let de = serde_urlencoded::Deserializer::new(form_urlencoded_parse(query));
        serde_path_to_error::deserialize(de).map(ApiQuery).map_err(|e| {
            let path = e.path().to_string();
            let reason = e.into_inner().to_string();
            ApiError::invalid(field_name(&path, &reason), reason)
        })
    }
}

fn form_urlencoded_parse(query: &str) -> form_urlencoded::Parse<'_> {
    form_urlencoded::parse(query.as_bytes())
}

/// A path parameter (or tuple of them); a value that cannot be parsed (`not-a-uuid` where
/// an id goes) is a 422 naming the parameter.
#[derive(Debug, Clone, Copy)]
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(p) => Ok(ApiPath(p.0)),
            Err(rejection) => {
                let params: Vec<(String, String)> = axum::extract::RawPathParams::from_request_parts(parts, state)
                    .await
                    .map(|raw| raw.iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect())
                    .unwrap_or_default();
                Err(path_error(&rejection, &params))
            }
        }
    }
}

/// The problem for a path that did not parse: the parameter (from `params`, the route's
/// raw parameters, when axum names none) and why.
fn path_error(rejection: &PathRejection, params: &[(String, String)]) -> ApiError {
    use axum::extract::path::ErrorKind;
    let PathRejection::FailedToDeserializePathParams(e) = rejection else {
        return ApiError::new(ProblemKind::MalformedRequest, rejection.body_text());
    };
    let key_of =
        |value: &str| params.iter().find(|(_, v)| v == value).map_or_else(|| "id".to_owned(), |(k, _)| k.clone());
    let invalid = |key: String, value: &str, expected_type: &str| {
        ApiError::invalid(key, format!("{value:?} is not a valid {}", type_label(expected_type)))
    };
    match e.kind() {
        ErrorKind::ParseErrorAtKey { key, value, expected_type } => invalid(key.clone(), value, expected_type),
        ErrorKind::ParseErrorAtIndex { value, expected_type, .. } | ErrorKind::ParseError { value, expected_type } => {
            invalid(key_of(value), value, expected_type)
        }
        ErrorKind::DeserializeError { key, value, message } => {
            ApiError::invalid(key.clone(), format!("{value:?} is not valid: {message}"))
        }
        ErrorKind::Message(message) => {
            let (key, value) = params.first().cloned().unwrap_or_else(|| ("id".to_owned(), String::new()));
            ApiError::invalid(key, format!("{value:?} is not valid: {message}"))
        }
        ErrorKind::InvalidUtf8InPathParam { key } => ApiError::invalid(key.clone(), "must be UTF-8"),
        _ => ApiError::new(ProblemKind::MalformedRequest, rejection.body_text()),
    }
}

/// `uuid::Uuid` → `id (a UUID)`; other type names as they are.
fn type_label(expected_type: &str) -> String {
    if expected_type.ends_with("Uuid") || expected_type.ends_with("Id") {
        "id (a UUID such as 0190c0de-0000-7000-8000-000000000000)".to_owned()
    } else {
        expected_type.rsplit("::").next().unwrap_or(expected_type).to_owned()
    }
}

/// The version the client read, from `If-Match: "<version>"`; required on every update
/// (428 when missing). `If-Match: *` matches any current version (RFC 9110 §13.1.1): it
/// reads as [`ANY_VERSION`], and the change is written against the version the use case
/// read. On a missing record the answer is the 404 the request gets without the header
/// (RFC 9110 §13.2.1: preconditions are not evaluated when the answer would not be 2xx).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IfMatch(pub u64);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let Some(raw) = parts.headers.get(header::IF_MATCH) else {
            return Err(ApiError::new(
                ProblemKind::PreconditionRequired,
                "send If-Match with the ETag of the version you read",
            ));
        };
        let raw = raw.to_str().unwrap_or_default();
        if raw.trim() == "*" {
            return Ok(IfMatch(ANY_VERSION));
        }
        parse_etag(raw).map(IfMatch).ok_or_else(|| {
            ApiError::new(
                ProblemKind::MalformedRequest,
                "If-Match must be the ETag this API returned, such as \"3\", or *",
            )
        })
    }
}

/// Reads `"3"`, `W/"3"` or `3`.
pub fn parse_etag(raw: &str) -> Option<u64> {
    let t = raw.trim();
    let t = t.strip_prefix("W/").unwrap_or(t);
    let t = t.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(t);
    t.parse().ok()
}

/// The `ETag` of a version.
pub fn etag(version: u64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).unwrap_or_else(|_| HeaderValue::from_static("\"0\""))
}

/// A JSON response with a status and, for versioned records, an `ETag` and a `Location`.
#[derive(Debug)]
pub struct Reply<T> {
    status: StatusCode,
    body: T,
    version: Option<u64>,
    location: Option<String>,
}

impl<T: Serialize> Reply<T> {
    /// 200 with the body.
    pub fn ok(body: T) -> Self {
        Self { status: StatusCode::OK, body, version: None, location: None }
    }

    /// 201 with the body and where it lives.
    pub fn created(body: T, location: String) -> Self {
        Self { status: StatusCode::CREATED, body, version: None, location: Some(location) }
    }

    /// 202 with the body: accepted, finished later, followed at `location`.
    pub fn accepted(body: T, location: String) -> Self {
        Self { status: StatusCode::ACCEPTED, body, version: None, location: Some(location) }
    }

    /// Adds `ETag: "<version>"`.
    #[must_use]
    pub fn tagged(mut self, version: u64) -> Self {
        self.version = Some(version);
        self
    }
}

impl<T: Serialize> IntoResponse for Reply<T> {
    fn into_response(self) -> Response {
        let body = match serde_json::to_vec(&self.body) {
            Ok(b) => b,
            Err(e) => {
                tracing::error!(error = %e, "response serialisation failed");
                return Problem::new(ProblemKind::Internal, "").into_response();
            }
        };
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(v) = self.version {
            headers.insert(header::ETAG, etag(v));
        }
        if let Some(l) = self.location.and_then(|l| HeaderValue::from_str(&l).ok()) {
            headers.insert(header::LOCATION, l);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        inner: Option<Inner>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        count: u32,
    }

    fn field_of(json: &str) -> (u16, Vec<String>) {
        let p = parse_json::<Body>(json.as_bytes()).unwrap_err().to_problem();
        (p.status, p.errors.into_iter().map(|e| e.field).collect())
    }

    #[test]
    fn serde_errors_name_the_field() {
        assert_eq!(field_of(r#"{"name": 3}"#), (422, vec!["name".into()]));
        assert_eq!(field_of(r#"{"name": "a", "inner": {"count": "x"}}"#), (422, vec!["inner.count".into()]));
        assert_eq!(field_of(r#"{"name": "a", "bogus": 1}"#), (422, vec!["bogus".into()]));
        assert_eq!(field_of(r#"{}"#), (422, vec!["name".into()]));
        assert_eq!(field_of(r#"{"name": "#).0, 400);
        assert_eq!(field_of(r#"{"name": "a"} trailing"#).0, 400);
        assert_eq!(field_of(r#"{"name": "a", "inner": {"count": 1, "x\u0000": 2}}"#), (422, vec!["inner.x\0".into()]));
        assert_eq!(field_of(r#"{"name": "a\u0000"}"#), (422, vec!["name".into()]));
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Colour {
        Red,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct WithEnum {
        colour: Option<Colour>,
    }

    #[test]
    fn a_wrongly_typed_enum_value_is_a_422_naming_the_field_not_a_syntax_error() {
        for body in [r#"{"colour": 7}"#, r#"{"colour": true}"#, r#"{"colour": [1]}"#] {
            let p = parse_json::<WithEnum>(body.as_bytes()).unwrap_err().to_problem();
            assert_eq!(p.status, 422, "{body}");
            assert_eq!(p.errors.into_iter().map(|e| e.field).collect::<Vec<_>>(), vec!["colour".to_owned()], "{body}");
        }
        assert!(matches!(parse_json::<WithEnum>(br#"{"colour": "red"}"#), Ok(WithEnum { colour: Some(Colour::Red) })));
        assert_eq!(parse_json::<WithEnum>(br#"{"colour": 7"#).unwrap_err().to_problem().status, 400);
    }

    #[test]
    fn etags_parse_in_every_common_form() {
        assert_eq!(parse_etag("\"3\""), Some(3));
        assert_eq!(parse_etag("W/\"3\""), Some(3));
        assert_eq!(parse_etag("3"), Some(3));
        assert_eq!(parse_etag("*"), None);
    }
}
