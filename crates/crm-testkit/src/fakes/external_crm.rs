//! [`FakeExternalCrm`]: canned search results, recorded creations (idempotent by their
//! key, as the port requires), idempotent activity pushes keyed by
//! [`ActivityPush::external_key`], and programmable failures.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use crm_core::customer::{EmailAddress, PhoneNumber};
use crm_core::error::ConnectorError;
use crm_core::external::{ActivityPush, ExternalCreate, ExternalObject, ExternalRecord, ExternalRef, ExternalSystem};
use crm_core::ports::ExternalCrm;

/// One method of the [`ExternalCrm`] port, to aim failures and read the call log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FakeOperation {
    /// [`ExternalCrm::find_by_phone`].
    FindByPhone,
    /// [`ExternalCrm::find_by_email`].
    FindByEmail,
    /// [`ExternalCrm::create`].
    Create,
    /// [`ExternalCrm::push_activity`].
    PushActivity,
}

type ConnectorFailure = Box<dyn FnOnce() -> ConnectorError + Send>;

/// An external CRM living in memory.
///
/// ```
/// use crm_core::external::ExternalSystem;
/// use crm_testkit::{FakeExternalCrm, FakeOperation};
///
/// let crm = FakeExternalCrm::new(ExternalSystem::Salesforce);
/// crm.fail_next_on(FakeOperation::PushActivity, 2, FakeExternalCrm::transport_error);
/// assert!(crm.activities().is_empty());
/// ```
pub struct FakeExternalCrm {
    system: ExternalSystem,
    state: Mutex<CrmState>,
}

#[derive(Default)]
struct CrmState {
    records: Vec<ExternalRecord>,
    missing: BTreeSet<ExternalRef>,
    created: Vec<(ExternalCreate, ExternalRef)>,
    keyed: BTreeMap<String, ExternalRef>,
    activities: BTreeMap<String, (ActivityPush, ExternalRef)>,
    pushes: Vec<ActivityPush>,
    calls: Vec<FakeOperation>,
    failures: VecDeque<(Option<FakeOperation>, ConnectorFailure)>,
    /// Creates that take effect and then answer a transport failure (the answer is lost).
    lost_create_answers: usize,
    next_id: u64,
}

impl std::fmt::Debug for FakeExternalCrm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.lock();
        f.debug_struct("FakeExternalCrm")
            .field("system", &self.system)
            .field("records", &s.records.len())
            .field("created", &s.created.len())
            .field("activities", &s.activities.len())
            .finish_non_exhaustive()
    }
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

impl FakeExternalCrm {
    /// An empty CRM of this product.
    pub fn new(system: ExternalSystem) -> Self {
        Self { system, state: Mutex::new(CrmState::default()) }
    }

    /// A [`ConnectorError::Transport`] of this fake (retryable), for [`Self::fail_next`].
    pub fn transport_error() -> ConnectorError {
        ConnectorError::Transport { system: "fake".into(), source: "injected transport failure".into() }
    }

    /// Adds a record the searches find: by phone when one of its phones is the same
    /// number (in any written form), by email case-insensitively.
    pub fn add_record(&self, record: ExternalRecord) {
        self.lock().records.push(record);
    }

    /// Makes a record disappear: pushes to it fail with [`ConnectorError::NotFound`].
    pub fn remove_record(&self, reference: &ExternalRef) {
        let mut s = self.lock();
        s.records.retain(|r| r.reference != *reference);
        s.missing.insert(reference.clone());
    }

    /// The next `n` calls, whatever the method, fail with the error `make` returns.
    pub fn fail_next(&self, n: usize, make: impl Fn() -> ConnectorError + Send + Sync + Clone + 'static) {
        self.queue_failures(None, n, make);
    }

    /// The next `n` calls of `operation` fail with the error `make` returns.
    pub fn fail_next_on(
        &self,
        operation: FakeOperation,
        n: usize,
        make: impl Fn() -> ConnectorError + Send + Sync + Clone + 'static,
    ) {
        self.queue_failures(Some(operation), n, make);
    }

    fn queue_failures(
        &self,
        operation: Option<FakeOperation>,
        n: usize,
        make: impl Fn() -> ConnectorError + Send + Sync + Clone + 'static,
    ) {
        let mut s = self.lock();
        for _ in 0..n {
            let make = make.clone();
            s.failures.push_back((operation, Box::new(make)));
        }
    }

    /// The next `n` creates take effect remotely, then fail with a transport error, as
    /// when the answer is lost on the way back (a timeout after the remote committed).
    pub fn lose_next_create_answers(&self, n: usize) {
        self.lock().lost_create_answers += n;
    }

    /// What was created, in order, with the references handed out.
    pub fn created(&self) -> Vec<(ExternalCreate, ExternalRef)> {
        self.lock().created.clone()
    }

    /// The activities as the remote holds them: one per idempotency key, by key.
    pub fn activities(&self) -> Vec<ActivityPush> {
        self.lock().activities.values().map(|(a, _)| a.clone()).collect()
    }

    /// Every successful push call, in order (a retried push appears twice here, once in
    /// [`Self::activities`]).
    pub fn push_calls(&self) -> Vec<ActivityPush> {
        self.lock().pushes.clone()
    }

    /// Every call made, failed ones included, in order.
    pub fn calls(&self) -> Vec<FakeOperation> {
        self.lock().calls.clone()
    }

    fn lock(&self) -> MutexGuard<'_, CrmState> {
        self.state.lock().expect("fake crm mutex poisoned")
    }

    /// Logs the call and fires a queued failure aimed at it, if any.
    fn enter(&self, operation: FakeOperation) -> Result<MutexGuard<'_, CrmState>, ConnectorError> {
        let mut s = self.lock();
        s.calls.push(operation);
        let aimed = s.failures.iter().position(|(op, _)| op.is_none_or(|op| op == operation));
        if let Some((_, make)) = aimed.and_then(|i| s.failures.remove(i)) {
            return Err(make());
        }
        Ok(s)
    }

    fn new_ref(&self, s: &mut CrmState, object: ExternalObject) -> ExternalRef {
        s.next_id += 1;
        ExternalRef { system: self.system, object, id: format!("fake-{:?}-{}", object, s.next_id).to_lowercase() }
    }
}

#[async_trait]
impl ExternalCrm for FakeExternalCrm {
    fn system(&self) -> ExternalSystem {
        self.system
    }

    async fn find_by_phone(&self, phone: &PhoneNumber) -> Result<Vec<ExternalRecord>, ConnectorError> {
        let s = self.enter(FakeOperation::FindByPhone)?;
        let wanted = digits(phone.as_e164());
        Ok(s.records
            .iter()
            .filter(|r| {
                r.phones.iter().any(|p| {
                    PhoneNumber::parse(p, None).is_ok_and(|n| n == *phone)
                        || (!wanted.is_empty() && digits(p) == wanted)
                })
            })
            .cloned()
            .collect())
    }

    async fn find_by_email(&self, email: &EmailAddress) -> Result<Vec<ExternalRecord>, ConnectorError> {
        let s = self.enter(FakeOperation::FindByEmail)?;
        let wanted = email.key();
        Ok(s.records.iter().filter(|r| r.emails.iter().any(|e| e.to_lowercase() == wanted)).cloned().collect())
    }

    async fn create(&self, key: &str, request: &ExternalCreate) -> Result<ExternalRef, ConnectorError> {
        let mut s = self.enter(FakeOperation::Create)?;
        if let Some(existing) = s.keyed.get(key) {
            return Ok(existing.clone());
        }
        let reference = self.new_ref(&mut s, request.object());
        let record = match request {
            ExternalCreate::Case(c) => ExternalRecord {
                reference: reference.clone(),
                name: c.subject.clone(),
                phones: Vec::new(),
                emails: Vec::new(),
                account: c.account.clone(),
                url: None,
            },
            ExternalCreate::Contact(p) | ExternalCreate::Lead(p) => ExternalRecord {
                reference: reference.clone(),
                name: p.first_name.as_deref().map_or_else(|| p.last_name.clone(), |f| format!("{f} {}", p.last_name)),
                phones: p.phone.iter().cloned().collect(),
                emails: p.email.iter().cloned().collect(),
                account: p.account.clone(),
                url: None,
            },
        };
        s.records.push(record);
        s.created.push((request.clone(), reference.clone()));
        s.keyed.insert(key.to_owned(), reference.clone());
        if s.lost_create_answers > 0 {
            s.lost_create_answers -= 1;
            return Err(Self::transport_error());
        }
        Ok(reference)
    }

    async fn push_activity(&self, activity: &ActivityPush) -> Result<ExternalRef, ConnectorError> {
        let mut s = self.enter(FakeOperation::PushActivity)?;
        if s.missing.contains(&activity.target) {
            return Err(ConnectorError::NotFound {
                system: self.system.to_string(),
                what: format!("{:?} {}", activity.target.object, activity.target.id),
            });
        }
        s.pushes.push(activity.clone());
        let reference = match s.activities.get(&activity.external_key) {
            Some((_, r)) => r.clone(),
            None => self.new_ref(&mut s, activity.target.object),
        };
        s.activities.insert(activity.external_key.clone(), (activity.clone(), reference.clone()));
        Ok(reference)
    }
}
