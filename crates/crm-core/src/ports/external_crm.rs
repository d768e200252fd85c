//! The port to an external CRM (EXT-1): screen-pop search, creation during an interaction,
//! and the idempotent activity push of INT-6.

use async_trait::async_trait;

use crate::customer::{EmailAddress, PhoneNumber};
use crate::error::ConnectorError;
use crate::external::{ActivityPush, ApiUsage, ExternalCreate, ExternalRecord, ExternalRef, ExternalSystem};

/// One external CRM, configured for one tenant.
///
/// Implementations own authentication (token caching and renewal), retries of transient
/// failures within a call's time budget, and rate limiting; they never log secrets.
#[async_trait]
pub trait ExternalCrm: Send + Sync + std::fmt::Debug {
    /// Which product this is.
    fn system(&self) -> ExternalSystem;

    /// The API allowance the remote last reported as used, for the operators' metrics;
    /// `None` when the product reports none (the default) or no call answered yet.
    fn api_usage(&self) -> Option<ApiUsage> {
        None
    }

    /// Whether the credentials work and the integration may read what a screen pop reads:
    /// by default one email search for an address no record has (`.invalid` is reserved,
    /// RFC 2606), which authenticates and reads every searched table.
    ///
    /// # Errors
    /// The search's error: [`ConnectorError::Auth`] for refused credentials, and so on.
    async fn check_connection(&self) -> Result<(), ConnectorError> {
        let probe = EmailAddress::parse("connection-check@crm.invalid")
            .map_err(|e| ConnectorError::Decode { system: self.system().to_string(), message: e.to_string() })?;
        self.find_by_email(&probe).await.map(drop)
    }

    /// Contacts, leads and accounts whose phone fields hold `phone`.
    ///
    /// # Errors
    /// MUST return [`ConnectorError::Auth`] when the credentials are refused,
    /// [`ConnectorError::RateLimited`] when the remote's limit is still exceeded after the
    /// connector's own retries, [`ConnectorError::Transport`] when the remote is unreachable
    /// or keeps failing with 5xx, [`ConnectorError::Decode`] on an unreadable answer. An
    /// empty result is `Ok(vec![])`, never `NotFound`.
    async fn find_by_phone(&self, phone: &PhoneNumber) -> Result<Vec<ExternalRecord>, ConnectorError>;

    /// Contacts, leads and accounts whose email fields equal `email` (case-insensitively).
    ///
    /// # Errors
    /// As [`ExternalCrm::find_by_phone`].
    async fn find_by_email(&self, email: &EmailAddress) -> Result<Vec<ExternalRecord>, ConnectorError>;

    /// Creates a case, contact or lead keyed by `key` (see [`ExternalCreate::key`]) and
    /// returns its reference: creating again with the same key returns the record the
    /// first create made (an upsert or create-only write on an id derived from `key`), so
    /// callers may resend a create whose answer they never saw. Returns only once the
    /// record is known to exist (a success answer naming it, or a read by its key).
    ///
    /// # Errors
    /// MUST return [`ConnectorError::Rejected`] with the remote's code when the remote
    /// refuses the record (missing required field, bad lookup); a retryable
    /// [`ConnectorError::Transport`] when the remote answered but the record cannot be found
    /// by its key; otherwise as [`ExternalCrm::find_by_phone`].
    async fn create(&self, key: &str, request: &ExternalCreate) -> Result<ExternalRef, ConnectorError>;

    /// Writes the activity for an interaction on its linked record, as an upsert keyed by
    /// [`ActivityPush::external_key`]: pushing the same key twice leaves one activity.
    ///
    /// # Errors
    /// MUST return [`ConnectorError::NotFound`] when the target record no longer exists,
    /// [`ConnectorError::Rejected`] when the remote refuses the activity; otherwise as
    /// [`ExternalCrm::find_by_phone`].
    async fn push_activity(&self, activity: &ActivityPush) -> Result<ExternalRef, ConnectorError>;
}
