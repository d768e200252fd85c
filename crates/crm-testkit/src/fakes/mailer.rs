//! [`FakeMailer`]: records the mails it is asked to send; fails on demand.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use crm_core::ports::{MailError, Mailer, OutgoingMail};

type MailFailure = Box<dyn FnOnce() -> MailError + Send>;

/// A mailer that keeps what it sends.
///
/// ```
/// use crm_core::ports::MailError;
/// use crm_testkit::FakeMailer;
///
/// let mailer = FakeMailer::new();
/// mailer.fail_next(1, || MailError::Rejected("550 no such user".into()));
/// assert!(mailer.sent().is_empty());
/// ```
#[derive(Default)]
pub struct FakeMailer {
    state: Mutex<MailerState>,
}

#[derive(Default)]
struct MailerState {
    sent: Vec<OutgoingMail>,
    attempts: usize,
    failures: VecDeque<MailFailure>,
}

impl std::fmt::Debug for FakeMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.lock();
        f.debug_struct("FakeMailer").field("sent", &state.sent.len()).field("attempts", &state.attempts).finish()
    }
}

impl FakeMailer {
    /// A mailer that sends everything.
    pub fn new() -> Self {
        Self::default()
    }

    /// The next `n` sends fail with the error `make` returns (and are not recorded).
    pub fn fail_next(&self, n: usize, make: impl Fn() -> MailError + Send + Sync + Clone + 'static) {
        let mut state = self.lock();
        for _ in 0..n {
            let make = make.clone();
            state.failures.push_back(Box::new(make));
        }
    }

    /// The mails sent, in order.
    pub fn sent(&self) -> Vec<OutgoingMail> {
        self.lock().sent.clone()
    }

    /// How many sends were attempted (failed ones included).
    pub fn attempts(&self) -> usize {
        self.lock().attempts
    }

    fn lock(&self) -> MutexGuard<'_, MailerState> {
        self.state.lock().expect("mailer mutex poisoned")
    }
}

#[async_trait]
impl Mailer for FakeMailer {
    async fn send(&self, mail: &OutgoingMail) -> Result<String, MailError> {
        let mut state = self.lock();
        state.attempts += 1;
        if let Some(fail) = state.failures.pop_front() {
            return Err(fail());
        }
        state.sent.push(mail.clone());
        Ok(format!("250 2.0.0 Ok: queued as fake-{}", state.sent.len()))
    }
}
