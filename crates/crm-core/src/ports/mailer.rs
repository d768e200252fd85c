//! The outbound mail port (EML-2, CAS-7).

use async_trait::async_trait;

use crate::customer::EmailAddress;
use crate::error::BoxError;

/// A mail to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutgoingMail {
    /// From.
    pub from: EmailAddress,
    /// To (at least one).
    pub to: Vec<EmailAddress>,
    /// Cc.
    pub cc: Vec<EmailAddress>,
    /// Bcc.
    pub bcc: Vec<EmailAddress>,
    /// Subject.
    pub subject: String,
    /// Sanitised HTML body.
    pub html_body: String,
    /// Plain-text alternative.
    pub text_body: String,
    /// `Message-ID` to thread replies on (EML-1).
    pub message_id: String,
    /// `In-Reply-To`.
    pub in_reply_to: Option<String>,
    /// `References`, oldest first.
    pub references: Vec<String>,
    /// An answer made by a machine (an email rule's auto-reply): the adapter writes
    /// `Auto-Submitted: auto-replied` (RFC 3834) and asks other responders not to answer
    /// (`X-Auto-Response-Suppress: All`), so two auto-responders never loop.
    pub auto_submitted: bool,
    /// The files it carries, read from the blob store by the `mail` worker.
    pub parts: Vec<OutgoingPart>,
}

/// A file a mail carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutgoingPart {
    /// File name.
    pub filename: String,
    /// Media type.
    pub content_type: String,
    /// Inline (shown by the HTML as `cid:<content_id>`, in a `multipart/related`) when set;
    /// attached otherwise.
    pub content_id: Option<String>,
    /// The bytes.
    pub data: Vec<u8>,
}

/// Why a mail was not sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The server refused a recipient or the message; retrying will not help.
    #[error("mail refused: {0}")]
    Rejected(String),
    /// The server could not be reached; retrying later may succeed.
    #[error("mail server unavailable")]
    Unavailable(#[source] BoxError),
}

/// Sends mail.
#[async_trait]
pub trait Mailer: Send + Sync + std::fmt::Debug {
    /// Sends one mail; answers the server's reply (`250 2.0.0 Ok: queued as …`).
    ///
    /// # Errors
    /// MUST return [`MailError::Rejected`] when the server refuses permanently (5xx),
    /// [`MailError::Unavailable`] when it cannot be reached or answers 4xx.
    async fn send(&self, mail: &OutgoingMail) -> Result<String, MailError>;
}
