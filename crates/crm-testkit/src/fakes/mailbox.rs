//! [`FakeMailbox`]: a mailbox in memory behind the `MailboxSource` port, with UIDs,
//! UIDVALIDITY, expunges and failures on demand.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use crm_core::ports::{MailboxError, MailboxSession, MailboxSource};

/// A mailbox that keeps its messages in memory.
///
/// ```
/// use crm_testkit::FakeMailbox;
///
/// let mailbox = FakeMailbox::new("support@imap.example/INBOX");
/// let uid = mailbox.deliver(b"Subject: hi\r\n\r\nhello\r\n");
/// assert_eq!(uid, 1);
/// mailbox.fail_next_open(FakeMailbox::unavailable());
/// ```
#[derive(Clone, Debug)]
pub struct FakeMailbox {
    account: String,
    state: Arc<Mutex<MailboxState>>,
}

#[derive(Debug)]
struct MailboxState {
    uid_validity: u32,
    next_uid: u32,
    messages: BTreeMap<u32, Vec<u8>>,
    open_failures: VecDeque<MailboxError>,
    fetch_failures: VecDeque<MailboxError>,
    opens: usize,
    fetches: usize,
    closes: usize,
}

impl FakeMailbox {
    /// An empty mailbox (UIDVALIDITY 1) named `account`.
    pub fn new(account: &str) -> Self {
        let state = MailboxState {
            uid_validity: 1,
            next_uid: 1,
            messages: BTreeMap::new(),
            open_failures: VecDeque::new(),
            fetch_failures: VecDeque::new(),
            opens: 0,
            fetches: 0,
            closes: 0,
        };
        Self { account: account.to_owned(), state: Arc::new(Mutex::new(state)) }
    }

    fn lock(&self) -> MutexGuard<'_, MailboxState> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Delivers a message; answers its UID.
    pub fn deliver(&self, raw: &[u8]) -> u32 {
        let mut s = self.lock();
        let uid = s.next_uid;
        s.next_uid += 1;
        s.messages.insert(uid, raw.to_vec());
        uid
    }

    /// Removes a message (as `EXPUNGE`).
    pub fn expunge(&self, uid: u32) {
        self.lock().messages.remove(&uid);
    }

    /// Rebuilds the mailbox under a new UIDVALIDITY: the same messages, numbered from 1.
    pub fn rebuild(&self, uid_validity: u32) {
        let mut s = self.lock();
        let messages: Vec<Vec<u8>> = std::mem::take(&mut s.messages).into_values().collect();
        s.uid_validity = uid_validity;
        s.next_uid = 1;
        for raw in messages {
            let uid = s.next_uid;
            s.next_uid += 1;
            s.messages.insert(uid, raw);
        }
    }

    /// The next [`MailboxSource::open`] fails with `error`.
    pub fn fail_next_open(&self, error: MailboxError) {
        self.lock().open_failures.push_back(error);
    }

    /// The next [`MailboxSession::fetch`] fails with `error`.
    pub fn fail_next_fetch(&self, error: MailboxError) {
        self.lock().fetch_failures.push_back(error);
    }

    /// A refused login, as a server says it.
    pub fn auth_refused() -> MailboxError {
        MailboxError::Auth { server: "imap.example:993".into(), reason: "[AUTHENTICATIONFAILED] bad".into() }
    }

    /// An unreachable server.
    pub fn unavailable() -> MailboxError {
        MailboxError::Unavailable { server: "imap.example:993".into(), reason: "connection refused".into() }
    }

    /// Sessions opened (failed opens included).
    pub fn opens(&self) -> usize {
        self.lock().opens
    }

    /// Messages fetched.
    pub fn fetches(&self) -> usize {
        self.lock().fetches
    }

    /// Sessions closed.
    pub fn closes(&self) -> usize {
        self.lock().closes
    }
}

#[async_trait]
impl MailboxSource for FakeMailbox {
    fn account(&self) -> &str {
        &self.account
    }

    async fn open(&self) -> Result<Box<dyn MailboxSession>, MailboxError> {
        let mut s = self.lock();
        s.opens += 1;
        if let Some(e) = s.open_failures.pop_front() {
            return Err(e);
        }
        Ok(Box::new(FakeSession { mailbox: self.clone(), uid_validity: s.uid_validity }))
    }
}

struct FakeSession {
    mailbox: FakeMailbox,
    uid_validity: u32,
}

#[async_trait]
impl MailboxSession for FakeSession {
    fn uid_validity(&self) -> u32 {
        self.uid_validity
    }

    async fn uids_after(&mut self, after: u32) -> Result<Vec<u32>, MailboxError> {
        Ok(self.mailbox.lock().messages.range(after.saturating_add(1)..).map(|(uid, _)| *uid).collect())
    }

    async fn fetch(&mut self, uid: u32) -> Result<Option<Vec<u8>>, MailboxError> {
        let mut s = self.mailbox.lock();
        if let Some(e) = s.fetch_failures.pop_front() {
            return Err(e);
        }
        s.fetches += 1;
        Ok(s.messages.get(&uid).cloned())
    }

    async fn close(self: Box<Self>) {
        self.mailbox.lock().closes += 1;
    }
}
