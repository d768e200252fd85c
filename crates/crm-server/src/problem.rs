//! Errors on the wire: RFC 9457 `application/problem+json`.
//!
//! Every error the API returns is a [`Problem`] with a stable `type` URI per kind
//! ([`ProblemKind::type_uri`]), a `title`, the `status`, a `detail` for people and, for
//! validation, an `errors: [{field, reason}]` list. [`ApiError`] maps the use cases' errors:
//!
//! | core error | status |
//! |---|---|
//! | `Validation` | 422 with `errors` |
//! | `NotFound` | 404 |
//! | `Conflict::StaleVersion` | 412 when the client sent `If-Match`, else 409 |
//! | `Conflict::Duplicate`, `Conflict::State` | 409 |
//! | `Forbidden` | 403 |
//! | `IllegalTransition` | 409 |
//! | `Store(Unavailable)` / `Store(Backend)` | 503 / 500, no detail (logged) |
//! | `Connector`: rate limit / unreachable, timeout, auth or unreadable answer | 503 (+ `Retry-After`) / 504 / 502, naming the system, the operation and the vendor's text |
//! | `Connector`: refusal / not found | 422 / 404 |
//! | `TooLarge` (an upload past its limit) | 413 with `errors` |

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use crm_core::error::Conflict;
use crm_core::{ConnectorError, Error as CoreError, FieldError, StoreError};
use serde::{Deserialize, Serialize};

/// The media type of problem documents.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// The kinds of problem, each with a stable `type` URI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProblemKind {
    /// A value was refused (422).
    Validation,
    /// The request could not be read: bad JSON syntax, a bad header or path (400).
    MalformedRequest,
    /// No credentials or bad ones (401).
    Unauthorized,
    /// The actor lacks a permission (403).
    Forbidden,
    /// The record does not exist or is hidden (404).
    NotFound,
    /// No such route (404).
    NoRoute,
    /// The route does not take this method (405).
    MethodNotAllowed,
    /// Someone changed the record since the client read it, and it said so with `If-Match` (412).
    StaleVersion,
    /// A version conflict without `If-Match` (409).
    VersionConflict,
    /// A unique value is taken (409).
    Duplicate,
    /// The record's state does not allow the operation (409).
    StateConflict,
    /// The state machine refuses the change (409).
    IllegalTransition,
    /// An update without `If-Match` (428).
    PreconditionRequired,
    /// The body is too large (413).
    PayloadTooLarge,
    /// The body is not JSON (415).
    UnsupportedMediaType,
    /// A request with the same `Idempotency-Key` is still running (409).
    IdempotencyInProgress,
    /// The `Idempotency-Key` was used for a different request (422).
    IdempotencyMismatch,
    /// A request with this `Idempotency-Key` already created its record, but its response
    /// was lost (the server stopped between the two); the record exists (409).
    IdempotencyAlreadyApplied,
    /// Too many requests from this client; `Retry-After` says when to try again (429).
    TooManyRequests,
    /// The request took too long (503).
    Timeout,
    /// The database or a remote service is unavailable (503).
    Unavailable,
    /// A remote service answered wrongly: refused our credentials, or sent an unreadable
    /// answer (502).
    BadGateway,
    /// A remote service did not answer in time (504).
    GatewayTimeout,
    /// Something broke on our side (500).
    Internal,
}

impl ProblemKind {
    /// The HTTP status.
    pub fn status(self) -> StatusCode {
        use ProblemKind::*;
        match self {
            Validation | IdempotencyMismatch => StatusCode::UNPROCESSABLE_ENTITY,
            MalformedRequest => StatusCode::BAD_REQUEST,
            Unauthorized => StatusCode::UNAUTHORIZED,
            Forbidden => StatusCode::FORBIDDEN,
            NotFound | NoRoute => StatusCode::NOT_FOUND,
            MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            StaleVersion => StatusCode::PRECONDITION_FAILED,
            VersionConflict
            | Duplicate
            | StateConflict
            | IllegalTransition
            | IdempotencyInProgress
            | IdempotencyAlreadyApplied => StatusCode::CONFLICT,
            PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
            PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Timeout | Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            BadGateway => StatusCode::BAD_GATEWAY,
            GatewayTimeout => StatusCode::GATEWAY_TIMEOUT,
            Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable slug (the last part of the `type` URI).
    pub fn slug(self) -> &'static str {
        use ProblemKind::*;
        match self {
            Validation => "validation",
            MalformedRequest => "malformed-request",
            Unauthorized => "unauthorized",
            Forbidden => "forbidden",
            NotFound => "not-found",
            NoRoute => "no-route",
            MethodNotAllowed => "method-not-allowed",
            StaleVersion => "stale-version",
            VersionConflict => "version-conflict",
            Duplicate => "duplicate",
            StateConflict => "state-conflict",
            IllegalTransition => "illegal-transition",
            PreconditionRequired => "precondition-required",
            PayloadTooLarge => "payload-too-large",
            UnsupportedMediaType => "unsupported-media-type",
            IdempotencyInProgress => "idempotency-in-progress",
            IdempotencyMismatch => "idempotency-mismatch",
            IdempotencyAlreadyApplied => "idempotency-already-applied",
            TooManyRequests => "too-many-requests",
            Timeout => "timeout",
            Unavailable => "unavailable",
            BadGateway => "bad-gateway",
            GatewayTimeout => "gateway-timeout",
            Internal => "internal",
        }
    }

    /// The stable `type` URI (`urn:crm:problem:validation`).
    pub fn type_uri(self) -> String {
        format!("urn:crm:problem:{}", self.slug())
    }

    /// The short, constant title.
    pub fn title(self) -> &'static str {
        use ProblemKind::*;
        match self {
            Validation => "invalid input",
            MalformedRequest => "malformed request",
            Unauthorized => "missing or invalid credentials",
            Forbidden => "forbidden",
            NotFound => "not found",
            NoRoute => "no such route",
            MethodNotAllowed => "method not allowed",
            StaleVersion => "the record was changed by someone else",
            VersionConflict => "version conflict",
            Duplicate => "value already used",
            StateConflict => "conflict with the current state",
            IllegalTransition => "illegal state transition",
            PreconditionRequired => "If-Match header required",
            PayloadTooLarge => "request body too large",
            UnsupportedMediaType => "unsupported media type",
            IdempotencyInProgress => "a request with this idempotency key is in progress",
            IdempotencyMismatch => "idempotency key reused for a different request",
            IdempotencyAlreadyApplied => "this request was already carried out",
            TooManyRequests => "too many requests",
            Timeout => "request timed out",
            Unavailable => "service unavailable",
            BadGateway => "the remote service failed",
            GatewayTimeout => "the remote service did not answer in time",
            Internal => "internal error",
        }
    }
}

/// One refused value in a problem document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProblemField {
    /// The field's path (`identities[0].number`, `custom.vip`).
    pub field: String,
    /// Why it was refused.
    pub reason: String,
}

/// An RFC 9457 problem document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Problem {
    /// A stable URI per kind of problem (`urn:crm:problem:validation`).
    #[serde(rename = "type")]
    pub type_uri: String,
    /// A short summary, constant per type.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// An explanation of this occurrence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The refused values (validation problems).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemField>,
    /// Seconds for the `Retry-After` header (a remote's rate limit passed on); not in the body.
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

impl Problem {
    /// A problem of `kind` with a detail.
    pub fn new(kind: ProblemKind, detail: impl Into<String>) -> Self {
        let detail = detail.into();
        Self {
            type_uri: kind.type_uri(),
            title: kind.title().to_owned(),
            status: kind.status().as_u16(),
            detail: (!detail.is_empty()).then_some(detail),
            errors: Vec::new(),
            retry_after: None,
        }
    }

    /// A validation problem listing `errors`.
    pub fn validation(errors: &[FieldError]) -> Self {
        let mut p =
            Self::new(ProblemKind::Validation, errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "));
        p.errors = errors.iter().map(|e| ProblemField { field: e.field.clone(), reason: e.reason.clone() }).collect();
        p
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (status, body).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// What a handler fails with.
#[derive(Debug)]
pub enum ApiError {
    /// A use case failed; `if_match` says whether the client sent `If-Match` (412 vs 409).
    Core {
        /// The error.
        error: CoreError,
        /// Whether the request carried `If-Match`.
        if_match: bool,
    },
    /// A ready problem.
    Problem(Problem),
}

impl ApiError {
    /// A problem of `kind` with `detail`.
    pub fn new(kind: ProblemKind, detail: impl Into<String>) -> Self {
        Self::Problem(Problem::new(kind, detail))
    }

    /// A validation error on one field.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Problem(Problem::validation(&[FieldError::new(field, reason)]))
    }

    /// The same error from a request that carried `If-Match` (a stale version becomes 412).
    pub fn precondition(error: CoreError) -> Self {
        Self::Core { error, if_match: true }
    }

    /// The failure of a use case that called an external CRM for `operation` (`search`,
    /// `create contact`): a connector failure becomes [`connector_problem`] naming the
    /// operation (logged here, without secrets); anything else as [`ApiError::from`], with
    /// `if_match` as [`ApiError::precondition`] has it.
    pub fn external(error: CoreError, operation: &str, if_match: bool) -> Self {
        match error {
            CoreError::Connector(e) => {
                tracing::warn!(error = %e.explain(), operation, "external CRM call failed");
                Self::Problem(connector_problem(&e, Some(operation)))
            }
            error => Self::Core { error, if_match },
        }
    }

    /// The problem document.
    pub fn to_problem(&self) -> Problem {
        match self {
            ApiError::Problem(p) => p.clone(),
            ApiError::Core { error, if_match } => core_problem(error, *if_match),
        }
    }
}

impl From<CoreError> for ApiError {
    fn from(error: CoreError) -> Self {
        Self::Core { error, if_match: false }
    }
}

impl From<Problem> for ApiError {
    fn from(p: Problem) -> Self {
        Self::Problem(p)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        Self::from(CoreError::from(e))
    }
}

fn core_problem(error: &CoreError, if_match: bool) -> Problem {
    match error {
        CoreError::Validation(v) => Problem::validation(v.errors()),
        CoreError::NotFound { .. } => Problem::new(ProblemKind::NotFound, error.to_string()),
        CoreError::Conflict(c @ Conflict::StaleVersion { .. }) => {
            let kind = if if_match { ProblemKind::StaleVersion } else { ProblemKind::VersionConflict };
            Problem::new(kind, c.to_string())
        }
        CoreError::Conflict(c @ Conflict::Duplicate { field, .. }) => {
            let mut p = Problem::new(ProblemKind::Duplicate, c.to_string());
            p.errors = vec![ProblemField { field: field.clone(), reason: "is already used".into() }];
            p
        }
        CoreError::Conflict(c @ Conflict::State(_)) => Problem::new(ProblemKind::StateConflict, c.to_string()),
        CoreError::Forbidden { reason, .. } => Problem::new(ProblemKind::Forbidden, reason.clone()),
        CoreError::IllegalTransition(t) => Problem::new(ProblemKind::IllegalTransition, t.to_string()),
        CoreError::Store(StoreError::Unavailable(_)) => Problem::new(ProblemKind::Unavailable, ""),
        CoreError::Store(_) => Problem::new(ProblemKind::Internal, ""),
        CoreError::Connector(e) => connector_problem(e, None),
        CoreError::RateLimited { .. } => Problem::new(ProblemKind::TooManyRequests, error.to_string()),
        CoreError::TooLarge { field, reason } => {
            let mut p = Problem::new(ProblemKind::PayloadTooLarge, error.to_string());
            p.errors = vec![ProblemField { field: field.clone(), reason: reason.clone() }];
            p
        }
    }
}

/// The problem of a failed call to an external CRM: it names the system, the operation
/// (`search`, `create contact`) when the caller says, and the vendor's own explanation —
/// never a credential (connectors keep secrets out of their errors; transport messages
/// have their URL stripped).
///
/// | failure | status |
/// |---|---|
/// | rate limited | 503 with the remote's `Retry-After` passed on |
/// | unreachable, or 5xx through every retry | 503 |
/// | no answer within the timeout | 504 |
/// | credentials refused, unreadable answer | 502 |
/// | the remote refused the record | 422 naming `external.<field>` |
/// | the remote record does not exist | 404 |
pub fn connector_problem(error: &ConnectorError, operation: Option<&str>) -> Problem {
    let op = |system: &str| match operation {
        Some(operation) => format!("{system} {operation}"),
        None => system.to_owned(),
    };
    match error {
        ConnectorError::RateLimited { system, retry_after } => {
            let seconds = retry_after.map(|d| d.as_secs() + u64::from(d.subsec_nanos() > 0));
            let wait = seconds.map_or_else(String::new, |s| format!("; it asked to wait {s} s"));
            let mut p = Problem::new(
                ProblemKind::Unavailable,
                format!("{}: the remote's rate limit was reached{wait}", op(system)),
            );
            p.retry_after = seconds;
            p
        }
        ConnectorError::Transport { system, source } => {
            let kind = if is_timeout(source.as_ref()) { ProblemKind::GatewayTimeout } else { ProblemKind::Unavailable };
            Problem::new(kind, format!("{} failed: {}", op(system), source_chain(source.as_ref())))
        }
        ConnectorError::Auth { system, message } => Problem::new(
            ProblemKind::BadGateway,
            format!("{}: the remote refused our credentials: {message}", op(system)),
        ),
        ConnectorError::Decode { system, message } => Problem::new(
            ProblemKind::BadGateway,
            format!("{}: the remote's answer was unreadable: {message}", op(system)),
        ),
        ConnectorError::NotFound { .. } => Problem::new(ProblemKind::NotFound, error.to_string()),
        // The remote CRM refused what the caller asked for: the caller can fix it.
        ConnectorError::Rejected { system, code, message, field } => {
            let field = field.as_ref().map_or_else(|| "external".to_owned(), |f| format!("external.{f}"));
            Problem::validation(&[FieldError::new(field, format!("{} refused it: {code}: {message}", op(system)))])
        }
    }
}

/// Whether a transport failure was a timeout (reqwest's, anywhere in the chain).
fn is_timeout(source: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(source);
    while let Some(error) = next {
        if error.downcast_ref::<reqwest::Error>().is_some_and(reqwest::Error::is_timeout)
            || error.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::TimedOut)
        {
            return true;
        }
        next = error.source();
    }
    false
}

/// The messages of an error chain, joined (`error sending request: connection refused`).
fn source_chain(source: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![source.to_string()];
    let mut next = source.source();
    while let Some(error) = next {
        let text = error.to_string();
        if parts.last().is_none_or(|last| !last.contains(&text)) {
            parts.push(text);
        }
        next = error.source();
    }
    parts.join(": ")
}

/// Marks a response as the refusal of a record whose id exists already (a create run
/// again with the same ids): the idempotency middleware reads it from the response's
/// extensions instead of parsing the body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DuplicateId;

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Core { error: error @ (CoreError::Store(_) | CoreError::Connector(_)), .. } = &self {
            // Log once, here, with the whole source chain; the client gets no detail.
            tracing::error!(error = %error, source = ?std::error::Error::source(error), "request failed");
        }
        let duplicate_id = matches!(
            &self,
            ApiError::Core { error: CoreError::Conflict(Conflict::Duplicate { field, .. }), .. } if field == "id"
        );
        let retry_after = match &self {
            ApiError::Core { error: CoreError::RateLimited { retry_after_secs }, .. } => Some(*retry_after_secs),
            _ => None,
        };
        let mut response = self.to_problem().into_response();
        if let Some(seconds) = retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if duplicate_id {
            response.extensions_mut().insert(DuplicateId);
        }
        response
    }
}

/// What handlers return.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_versions_are_412_with_if_match_and_409_without() {
        let stale = || CoreError::Conflict(Conflict::StaleVersion { entity: "case", id: "x".into(), expected: 1 });
        assert_eq!(ApiError::precondition(stale()).to_problem().status, 412);
        assert_eq!(ApiError::from(stale()).to_problem().status, 409);
    }

    #[test]
    fn infrastructure_errors_leak_no_detail() {
        let e = CoreError::Store(StoreError::Backend("password=hunter2".into()));
        let p = ApiError::from(e).to_problem();
        assert_eq!(p.status, 500);
        assert_eq!(p.detail, None);
        let e = CoreError::Store(StoreError::Unavailable("db down".into()));
        assert_eq!(ApiError::from(e).to_problem().status, 503);
    }

    #[test]
    fn a_remote_refusal_is_the_callers_to_fix_and_an_outage_is_ours() {
        let refused = CoreError::Connector(ConnectorError::Rejected {
            system: "salesforce".into(),
            code: "REQUIRED_FIELD_MISSING".into(),
            message: "Company is required".into(),
            field: Some("Company".into()),
        });
        let p = ApiError::from(refused).to_problem();
        assert_eq!((p.status, p.errors[0].field.as_str()), (422, "external.Company"));
        let down =
            CoreError::Connector(ConnectorError::Transport { system: "dynamics".into(), source: "reset".into() });
        assert_eq!(ApiError::from(down).to_problem().status, 503);
    }

    #[test]
    fn connector_failures_name_the_system_the_operation_and_the_vendors_text() {
        let limited = ConnectorError::RateLimited {
            system: "netsuite".into(),
            retry_after: Some(std::time::Duration::from_millis(59_500)),
        };
        let p = connector_problem(&limited, Some("search"));
        assert_eq!((p.status, p.retry_after), (503, Some(60)));
        assert!(p.detail.as_deref().unwrap().starts_with("netsuite search: "), "{p:?}");
        let response = p.into_response();
        assert_eq!(response.headers()[header::RETRY_AFTER], "60");

        let refused = ConnectorError::Auth {
            system: "salesforce".into(),
            message: "invalid_grant: user hasn't approved this consumer".into(),
        };
        let p = ApiError::external(CoreError::Connector(refused), "create contact", false).to_problem();
        assert_eq!(p.status, 502);
        assert_eq!(
            p.detail.as_deref(),
            Some(
                "salesforce create contact: the remote refused our credentials: invalid_grant: user hasn't approved this consumer"
            )
        );

        let garbled = ConnectorError::Decode { system: "dynamics".into(), message: "EOF while parsing".into() };
        assert_eq!(connector_problem(&garbled, None).status, 502);

        let io = std::io::Error::new(std::io::ErrorKind::TimedOut, "operation timed out");
        let slow = ConnectorError::Transport { system: "dynamics".into(), source: Box::new(io) };
        let p = connector_problem(&slow, Some("search"));
        assert_eq!(p.status, 504);
        assert_eq!(p.detail.as_deref(), Some("dynamics search failed: operation timed out"));
    }

    #[test]
    fn validation_lists_every_field() {
        let p = Problem::validation(&[FieldError::new("name", "must not be empty"), FieldError::new("email", "bad")]);
        assert_eq!(p.status, 422);
        assert_eq!(p.type_uri, "urn:crm:problem:validation");
        assert_eq!(p.errors.len(), 2);
    }
}
