//! Mailboxes polled for mail in (CAS-8, EML-1; ADR 0039): [`MailboxSource`], a mailbox
//! read by UID under its UIDVALIDITY (IMAP, or a fake), and [`MailboxStore`], where the
//! position of each polled mailbox is kept so a restart goes on where the last stored
//! message was.

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::store::StoreResult;
use crate::ids::TenantId;

/// How far a mailbox was read: the UIDVALIDITY its UIDs belong to and the highest UID whose
/// message is stored (or was refused for good). UIDs of one UIDVALIDITY only grow (RFC 9051
/// 2.3.1.1); a new UIDVALIDITY makes every stored UID meaningless.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MailboxPosition {
    /// The mailbox's UIDVALIDITY when `last_uid` was read.
    pub uid_validity: u32,
    /// The highest UID handled (0: none yet).
    pub last_uid: u32,
}

/// Where the poll position of each mailbox is kept, per tenant and account (the account is
/// the source's [`MailboxSource::account`]).
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait MailboxStore: Send + Sync {
    /// The saved position of a tenant's mailbox account; `None` before the first save
    /// (another tenant's account of the same name is another position).
    ///
    /// # Errors
    /// Backend failures only.
    async fn mailbox_position(&self, tenant: TenantId, account: &str) -> StoreResult<Option<MailboxPosition>>;

    /// Saves a position (insert or update), with the time of the save.
    ///
    /// # Errors
    /// Backend failures only. MUST keep the stored `last_uid` when it is higher and the
    /// UIDVALIDITY is the same (two pollers of one mailbox never move it back), and MUST
    /// replace the position whole when the UIDVALIDITY differs (the mailbox was rebuilt:
    /// its old UIDs mean nothing).
    async fn save_mailbox_position(
        &self,
        tenant: TenantId,
        account: &str,
        position: MailboxPosition,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
}

/// Why a mailbox could not be read. The messages name the server (host and port) and never
/// a secret; every failure is worth another try later.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MailboxError {
    /// The server refused the login (a wrong user or password).
    #[error("login refused by {server}: {reason}")]
    Auth {
        /// `host:port`.
        server: String,
        /// The server's words.
        reason: String,
    },
    /// The server could not be reached, timed out or closed the connection.
    #[error("{server} unavailable: {reason}")]
    Unavailable {
        /// `host:port`.
        server: String,
        /// Why (the connection's error).
        reason: String,
    },
    /// The server refused a command (no such mailbox, a malformed answer).
    #[error("{server} refused {command}: {reason}")]
    Refused {
        /// `host:port`.
        server: String,
        /// The command (`SELECT INBOX`).
        command: String,
        /// The server's words.
        reason: String,
    },
}

/// A mailbox to poll. One [`MailboxSource::open`] is one session (an IMAP connection,
/// logged in, the mailbox selected), used for one poll and closed.
#[async_trait]
pub trait MailboxSource: Send + Sync + fmt::Debug {
    /// The account's name: it keys the saved position and names the account in logs
    /// (`user@host/mailbox`); never a secret.
    fn account(&self) -> &str;

    /// Opens a session on the mailbox.
    ///
    /// # Errors
    /// MUST return [`MailboxError::Auth`] when the login is refused,
    /// [`MailboxError::Unavailable`] when the server cannot be reached or times out, and
    /// [`MailboxError::Refused`] when the mailbox cannot be selected.
    async fn open(&self) -> Result<Box<dyn MailboxSession>, MailboxError>;
}

/// An open session on a mailbox, under one UIDVALIDITY.
#[async_trait]
pub trait MailboxSession: Send {
    /// The mailbox's UIDVALIDITY in this session.
    fn uid_validity(&self) -> u32;

    /// The UIDs above `after`, ascending.
    ///
    /// # Errors
    /// MUST return [`MailboxError::Unavailable`] when the connection fails, and
    /// [`MailboxError::Refused`] when the server refuses the search.
    async fn uids_after(&mut self, after: u32) -> Result<Vec<u32>, MailboxError>;

    /// The raw RFC 5322 bytes of the message of a UID, without marking it read; `None` when
    /// there is no such message (expunged since it was listed).
    ///
    /// # Errors
    /// As [`MailboxSession::uids_after`].
    async fn fetch(&mut self, uid: u32) -> Result<Option<Vec<u8>>, MailboxError>;

    /// Ends the session politely (IMAP `LOGOUT`); failures are of no interest.
    async fn close(self: Box<Self>);
}
