//! Errors, in layers. Value objects and aggregates return [`FieldError`]s (validation) or
//! [`TransitionError`]s; ports return [`StoreError`] and [`ConnectorError`]; use cases return
//! [`Error`], which lets a caller tell validation, not found, conflict, forbidden, illegal
//! transition and infrastructure failures apart (the server maps each to one HTTP status).

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::access::Permission;

/// A boxed error from an adapter (database driver, HTTP client …), kept as the `source`.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// One invalid value: which field, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    /// The field's path as the caller named it (`email`, `identities[2].phone`, `custom.vip`).
    pub field: String,
    /// Why it was refused, in lower case, without a trailing period.
    pub reason: String,
}

impl FieldError {
    /// A new field error.
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self { field: field.into(), reason: reason.into() }
    }

    /// The same error for a field nested under `prefix` (`addresses[0]` + `city`).
    #[must_use]
    pub fn within(mut self, prefix: &str) -> Self {
        self.field = if self.field.is_empty() {
            prefix.to_owned()
        } else if self.field.starts_with('[') {
            format!("{prefix}{}", self.field)
        } else {
            format!("{prefix}.{}", self.field)
        };
        self
    }
}

/// All the invalid values of one command; never empty.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidationErrors(Vec<FieldError>);

impl ValidationErrors {
    /// The errors, in the order they were found.
    pub fn errors(&self) -> &[FieldError] {
        &self.0
    }

    /// Builds from a list; `None` when the list is empty.
    pub fn from_vec(errors: Vec<FieldError>) -> Option<Self> {
        (!errors.is_empty()).then_some(Self(errors))
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}

impl From<FieldError> for ValidationErrors {
    fn from(e: FieldError) -> Self {
        Self(vec![e])
    }
}

/// Collects field errors while validating a command, so the caller hears about every bad
/// field at once rather than one per round trip.
#[derive(Debug, Default)]
pub struct Validator(Vec<FieldError>);

impl Validator {
    /// An empty collector.
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps the value or records the error; `None` when it was refused.
    pub fn check<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.push(e);
                None
            }
        }
    }

    /// Records an error.
    pub fn push(&mut self, error: FieldError) {
        self.0.push(error);
    }

    /// Records several errors.
    pub fn extend(&mut self, errors: impl IntoIterator<Item = FieldError>) {
        self.0.extend(errors);
    }

    /// `Ok(())` when nothing was refused.
    ///
    /// # Errors
    /// The collected errors, when there are any.
    pub fn finish(self) -> Result<(), ValidationErrors> {
        match ValidationErrors::from_vec(self.0) {
            None => Ok(()),
            Some(e) => Err(e),
        }
    }
}

/// A state change the state machine does not allow.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{entity} cannot go from {from} to {to}{}", .reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default())]
pub struct TransitionError {
    /// `case` or `interaction`.
    pub entity: &'static str,
    /// The current state.
    pub from: String,
    /// The refused target state or action.
    pub to: String,
    /// Extra detail (`a disposition is required`).
    pub reason: Option<String>,
}

/// Why an operation conflicts with the stored state.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Conflict {
    /// The caller's version is not the stored one: someone else changed the record first.
    #[error("{entity} {id} was changed by someone else (expected version {expected})")]
    StaleVersion {
        /// Entity kind.
        entity: &'static str,
        /// Its id.
        id: String,
        /// The version the caller based its change on.
        expected: u64,
    },
    /// A value that must be unique is taken.
    #[error("{field} {value:?} is already used")]
    Duplicate {
        /// The unique field (`account_number`).
        field: String,
        /// The taken value.
        value: String,
    },
    /// The operation does not fit the record's current state (undo of an undone merge …).
    #[error("{0}")]
    State(String),
}

/// What a store adapter may fail with. Every port method documents which variants it
/// returns in which case.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The record does not exist in this tenant.
    #[error("{entity} {id} not found")]
    NotFound {
        /// Entity kind.
        entity: &'static str,
        /// Its id.
        id: String,
    },
    /// A uniqueness or version conflict.
    #[error(transparent)]
    Conflict(#[from] Conflict),
    /// A reference points at nothing (for example a case for a missing customer).
    #[error("{field}: {reason}")]
    InvalidReference {
        /// The referencing field.
        field: String,
        /// Why.
        reason: String,
    },
    /// The backend cannot be reached or timed out; retrying later may succeed.
    #[error("store unavailable")]
    Unavailable(#[source] BoxError),
    /// Any other backend failure.
    #[error("store failure")]
    Backend(#[source] BoxError),
}

impl StoreError {
    /// A `NotFound` for `entity` and `id`.
    pub fn not_found(entity: &'static str, id: impl fmt::Display) -> Self {
        Self::NotFound { entity, id: id.to_string() }
    }

    /// A stale-version conflict.
    pub fn stale(entity: &'static str, id: impl fmt::Display, expected: u64) -> Self {
        Self::Conflict(Conflict::StaleVersion { entity, id: id.to_string(), expected })
    }

    /// A duplicate-value conflict.
    pub fn duplicate(field: impl Into<String>, value: impl Into<String>) -> Self {
        Self::Conflict(Conflict::Duplicate { field: field.into(), value: value.into() })
    }
}

/// What an external CRM connector may fail with.
#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    /// Authentication failed (bad credentials, refused grant); retrying will not help.
    #[error("authentication with {system} failed: {message}")]
    Auth {
        /// The remote system.
        system: String,
        /// The remote's explanation (`invalid_grant: user hasn't approved this consumer`).
        message: String,
    },
    /// The remote asked us to slow down.
    #[error("{system} rate limit reached")]
    RateLimited {
        /// The remote system.
        system: String,
        /// How long the remote asked us to wait, when it said.
        retry_after: Option<Duration>,
    },
    /// The remote record does not exist.
    #[error("{system} record not found: {what}")]
    NotFound {
        /// The remote system.
        system: String,
        /// What was looked for.
        what: String,
    },
    /// The remote refused the request; `code` is its own error code, kept verbatim.
    #[error("{system} refused the request: {code}: {message}")]
    Rejected {
        /// The remote system.
        system: String,
        /// The remote's error code (`INVALID_FIELD`, `0x80040217`, `INVALID_KEY_OR_REF`).
        code: String,
        /// The remote's message.
        message: String,
        /// The field the remote blamed, when it said.
        field: Option<String>,
    },
    /// The remote failed or could not be reached; retrying later may succeed.
    #[error("{system} unavailable")]
    Transport {
        /// The remote system.
        system: String,
        /// The underlying failure.
        #[source]
        source: BoxError,
    },
    /// The remote answered something we cannot read.
    #[error("{system} answered something unreadable: {message}")]
    Decode {
        /// The remote system.
        system: String,
        /// What was wrong.
        message: String,
    },
}

impl ConnectorError {
    /// Whether trying the same request later may succeed (outbox workers retry these).
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::RateLimited { .. } | Self::Transport { .. })
    }

    /// The message with its causes (`netsuite unavailable: http status 503 after 3
    /// attempt(s)`), and the wait a rate limit asked for: what an outbox entry records and a
    /// log line carries. Connectors keep secrets out of their errors, so this holds none.
    pub fn explain(&self) -> String {
        let mut text = self.to_string();
        if let Self::RateLimited { retry_after: Some(wait), .. } = self {
            text.push_str(&format!(" (retry after {} s)", wait.as_secs_f64().ceil()));
        }
        let mut next = std::error::Error::source(self);
        while let Some(cause) = next {
            let cause_text = cause.to_string();
            if !text.contains(&cause_text) {
                text.push_str(": ");
                text.push_str(&cause_text);
            }
            next = cause.source();
        }
        text
    }
}

/// What a use case fails with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// One or more values were refused; each names its field and the reason.
    #[error("invalid input: {0}")]
    Validation(#[from] ValidationErrors),
    /// The record does not exist, or the actor may not know it exists.
    #[error("{entity} {id} not found")]
    NotFound {
        /// Entity kind.
        entity: &'static str,
        /// Its id, number or key as the caller gave it.
        id: String,
    },
    /// The change conflicts with the stored state.
    #[error("conflict: {0}")]
    Conflict(#[from] Conflict),
    /// The actor lacks a permission.
    #[error("forbidden: {reason}")]
    Forbidden {
        /// The missing permission, when one permission would allow it.
        permission: Option<Permission>,
        /// Why, for people.
        reason: String,
    },
    /// The state machine refuses the change.
    #[error(transparent)]
    IllegalTransition(#[from] TransitionError),
    /// A store failed.
    #[error("storage failure")]
    Store(#[source] StoreError),
    /// An external CRM failed.
    #[error("external crm failure")]
    Connector(#[from] ConnectorError),
    /// Too many requests from one client (the public self-service search, KNO-1).
    #[error("too many requests, retry in {retry_after_secs} s")]
    RateLimited {
        /// Seconds until the client may try again.
        retry_after_secs: u64,
    },
    /// A value is larger than its limit (an upload past its size, CAS-6).
    #[error("{field} is too large: {reason}")]
    TooLarge {
        /// The field (`file`).
        field: String,
        /// The limit that was passed, for people.
        reason: String,
    },
}

impl Error {
    /// A validation error for one field.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Validation(FieldError::new(field, reason).into())
    }

    /// A not-found error.
    pub fn not_found(entity: &'static str, id: impl fmt::Display) -> Self {
        Self::NotFound { entity, id: id.to_string() }
    }

    /// Forbidden for lack of `permission`.
    pub fn missing(permission: Permission) -> Self {
        Self::Forbidden { permission: Some(permission), reason: format!("requires the {permission} permission") }
    }
}

impl From<FieldError> for Error {
    fn from(e: FieldError) -> Self {
        Self::Validation(e.into())
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { entity, id } => Self::NotFound { entity, id },
            StoreError::Conflict(c) => Self::Conflict(c),
            StoreError::InvalidReference { field, reason } => Self::invalid(field, reason),
            e @ (StoreError::Unavailable(_) | StoreError::Backend(_)) => Self::Store(e),
        }
    }
}

/// The result of a use case.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error and its sources, `: `-separated, as one line (for a log line or a stored
/// failure reason).
pub fn with_sources(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
