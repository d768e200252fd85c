//! [`MemoryStore`]: a complete in-memory adapter of every store port of `crm-core`, the
//! application's own state (tokens, idempotency keys, live feed) included.
//!
//! All state sits behind one mutex, and every method takes it once, checks everything it
//! must check, and only then changes anything: a write and its outbox events happen
//! together or not at all, exactly like a database transaction. The store is held to the
//! same contract as the real stores by the [`crate::conformance`] suite.
//!
//! Failure injection ([`MemoryStore::fail_next_write`], [`MemoryStore::fail_writes`],
//! [`MemoryStore::fail_reads`]) lets use-case tests check that infrastructure errors
//! propagate and that nothing is half-written.

mod app_state;
mod attachments;
mod audit;
mod case_catalogue;
mod cases;
mod connectors;
mod console;
mod contacts;
mod custom_fields;
mod customers;
mod directory;
mod guidance;
mod inbound_mail;
mod interactions;
mod knowledge;
mod mail;
mod mailbox;
mod outbound;
mod outbox;
mod responses;
mod roles;
mod sla;
mod tasks;
mod webhooks;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use crm_core::access::{Agent, Group, Tenant};
use crm_core::case::{Case, CaseHistoryEntry};
use crm_core::custom_field::FieldDefinition;
use crm_core::customer::{Customer, MergeRecord, Relation};
use crm_core::error::StoreError;
use crm_core::event::{DomainEvent, OutboxEntry, OutboxStatus};
use crm_core::follow_up::FollowUp;
use crm_core::ids::{
    AgentId, CaseId, CustomerId, EventId, FieldDefinitionId, FollowUpId, GroupId, InteractionId, MergeId, RelationId,
    TaskId, TenantId,
};
use crm_core::interaction::{Disposition, Interaction, QueueSettings};
use crm_core::page::{Cursor, Page, PageRequest};
use crm_core::ports::StoreResult;
use crm_core::task::Task;

/// Produces the error an injected failure returns.
type FailureFn = Box<dyn FnOnce() -> StoreError + Send>;

/// An in-memory [`crm_core::ports::Store`]: every port, every MUST clause, no database.
///
/// ```
/// use std::sync::Arc;
/// use crm_core::ports::Store;
/// use crm_testkit::MemoryStore;
///
/// let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
/// # let _ = store;
/// ```
#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
    faults: Mutex<Faults>,
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("MemoryStore")
            .field("tenants", &state.tenants.len())
            .field("customers", &state.customers.len())
            .field("cases", &state.cases.len())
            .field("tasks", &state.tasks.len())
            .field("interactions", &state.interactions.len())
            .field("outbox", &state.outbox.len())
            .finish_non_exhaustive()
    }
}

/// Injected failures.
#[derive(Default)]
struct Faults {
    /// One-shot failures for the next writes, in order.
    next_writes: VecDeque<FailureFn>,
    /// Every write fails while set.
    all_writes: bool,
    /// Every read fails while set.
    all_reads: bool,
}

/// One outbox row: the entry plus the lease the port does not expose.
#[derive(Clone, Debug)]
pub(crate) struct OutboxRow {
    pub(crate) entry: OutboxEntry,
    pub(crate) leased_until: Option<DateTime<Utc>>,
}

/// Everything the store holds.
#[derive(Default)]
pub(crate) struct State {
    pub(crate) tenants: HashMap<TenantId, Tenant>,
    pub(crate) agents: HashMap<AgentId, Agent>,
    pub(crate) groups: HashMap<GroupId, Group>,
    pub(crate) field_definitions: HashMap<FieldDefinitionId, FieldDefinition>,
    pub(crate) dispositions: BTreeMap<(TenantId, String), Disposition>,
    pub(crate) queues: BTreeMap<(TenantId, String), QueueSettings>,
    pub(crate) account_sequences: HashMap<TenantId, u64>,
    pub(crate) case_sequences: HashMap<TenantId, u64>,
    pub(crate) customers: HashMap<CustomerId, Customer>,
    pub(crate) relations: BTreeMap<RelationId, Relation>,
    pub(crate) merges: HashMap<MergeId, MergeRecord>,
    pub(crate) cases: HashMap<CaseId, Case>,
    pub(crate) history: HashMap<CaseId, Vec<CaseHistoryEntry>>,
    pub(crate) follow_ups: HashMap<FollowUpId, FollowUp>,
    pub(crate) tasks: HashMap<TaskId, Task>,
    pub(crate) interactions: HashMap<InteractionId, Interaction>,
    pub(crate) messages: HashMap<crm_core::ids::MessageId, crm_core::interaction::InteractionMessage>,
    pub(crate) outbox: HashMap<EventId, OutboxRow>,
    pub(crate) tokens: HashMap<String, crm_core::api_token::TokenRecord>,
    pub(crate) idempotency: HashMap<String, app_state::KeyRow>,
    pub(crate) feed: app_state::Feed,
    pub(crate) meta: HashMap<String, String>,
    pub(crate) attachments: HashMap<crm_core::ids::AttachmentId, crm_core::attachment::Attachment>,
    pub(crate) webhooks: webhooks::Webhooks,
    pub(crate) sla: BTreeMap<(TenantId, crm_core::sla::SlaSettingKind, String), crm_core::sla::SlaSetting>,
    /// The SLA timer of each case (its row's `sla_fire_at`; ADR 0028).
    pub(crate) sla_timers: HashMap<CaseId, (TenantId, chrono::DateTime<chrono::Utc>)>,
    /// The SLA alarms raised, by key.
    pub(crate) sla_alarms: std::collections::BTreeSet<sla::AlarmKey>,
    pub(crate) mails: HashMap<FollowUpId, mail::MailRow>,
    pub(crate) inbound_mails: HashMap<FollowUpId, crm_core::mail::received::InboundMail>,
    pub(crate) mail_rules: HashMap<TenantId, crm_core::mail::rules::MailRuleSet>,
    pub(crate) scripts: HashMap<crm_core::ids::ScriptId, (TenantId, crm_core::guidance::Script)>,
    pub(crate) script_versions: BTreeMap<(crm_core::ids::ScriptId, u32), (TenantId, crm_core::guidance::ScriptVersion)>,
    pub(crate) script_runs: HashMap<crm_core::ids::ScriptRunId, crm_core::guidance::StoredScriptRun>,
    pub(crate) alert_rules: HashMap<TenantId, crm_core::guidance::AlertRuleSet>,
    pub(crate) outbound: outbound::OutboundState,
    pub(crate) audit: audit::AuditState,
    /// Every version of each article, oldest first.
    pub(crate) articles: HashMap<crm_core::ids::ArticleId, Vec<crm_core::knowledge::Article>>,
    /// Standard responses, their folders and favourites (KNO-4).
    pub(crate) responses: responses::ResponseState,
    pub(crate) console: console::ConsoleState,
    pub(crate) contacts: contacts::ContactState,
    /// The case lists, by (tenant, kind, key).
    pub(crate) case_lists: BTreeMap<(TenantId, crm_core::case::CaseListKind, String), crm_core::case::CaseListEntry>,
    /// The tenant-defined roles, by id (ADM-2).
    pub(crate) roles: BTreeMap<crm_core::ids::RoleId, crm_core::access::TenantRole>,
    /// Connectors configured through the API, by tenant and product.
    pub(crate) connectors: BTreeMap<(TenantId, crm_core::external::ExternalSystem), crm_core::ports::StoredConnector>,
    /// The poll positions of mailboxes, by (tenant, account) (CAS-8).
    pub(crate) mailboxes: BTreeMap<(TenantId, String), crm_core::ports::MailboxPosition>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes the next write fail with the error `make` returns (writes queue their
    /// failures: call it twice to fail the next two writes). Nothing is changed by the
    /// failed write.
    pub fn fail_next_write(&self, make: impl FnOnce() -> StoreError + Send + 'static) {
        self.faults().next_writes.push_back(Box::new(make));
    }

    /// While `on`, every write fails with [`StoreError::Unavailable`] and changes nothing.
    pub fn fail_writes(&self, on: bool) {
        self.faults().all_writes = on;
    }

    /// While `on`, every read fails with [`StoreError::Unavailable`].
    pub fn fail_reads(&self, on: bool) {
        self.faults().all_reads = on;
    }

    /// Every event written so far, across tenants, ordered by event time then id (handy to
    /// assert what a use case emitted).
    pub fn events(&self) -> Vec<DomainEvent> {
        let state = self.lock();
        let mut rows: Vec<&OutboxRow> = state.outbox.values().collect();
        rows.sort_by_key(|r| (r.entry.event.at, r.entry.event.id));
        rows.into_iter().map(|r| r.entry.event.clone()).collect()
    }

    /// The events of one tenant, oldest first.
    pub fn events_of(&self, tenant: TenantId) -> Vec<DomainEvent> {
        self.events().into_iter().filter(|e| e.tenant == tenant).collect()
    }

    /// The outbox status of an event, when it exists.
    pub fn outbox_status(&self, id: EventId) -> Option<OutboxStatus> {
        self.lock().outbox.get(&id).map(|r| r.entry.status)
    }

    /// How many records of each kind the store holds (customers, cases, tasks,
    /// interactions, follow-ups, relations, outbox entries): a cheap "nothing changed" check.
    pub fn counts(&self) -> StoreCounts {
        let s = self.lock();
        StoreCounts {
            customers: s.customers.len(),
            cases: s.cases.len(),
            history_entries: s.history.values().map(Vec::len).sum(),
            follow_ups: s.follow_ups.len(),
            tasks: s.tasks.len(),
            interactions: s.interactions.len(),
            relations: s.relations.len(),
            merges: s.merges.len(),
            outbox: s.outbox.len(),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("memory store mutex poisoned by a panicking test")
    }

    fn faults(&self) -> MutexGuard<'_, Faults> {
        self.faults.lock().expect("memory store fault mutex poisoned by a panicking test")
    }

    /// Locks the state for a write, unless a failure is injected.
    pub(crate) fn write(&self) -> StoreResult<MutexGuard<'_, State>> {
        {
            let mut faults = self.faults();
            if let Some(make) = faults.next_writes.pop_front() {
                return Err(make());
            }
            if faults.all_writes {
                return Err(StoreError::Unavailable("injected write failure".into()));
            }
        }
        Ok(self.lock())
    }

    /// Locks the state for a read, unless a failure is injected.
    pub(crate) fn read(&self) -> StoreResult<MutexGuard<'_, State>> {
        if self.faults().all_reads {
            return Err(StoreError::Unavailable("injected read failure".into()));
        }
        Ok(self.lock())
    }
}

/// Record counts, from [`MemoryStore::counts`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoreCounts {
    /// Customers (tombstones included).
    pub customers: usize,
    /// Cases.
    pub cases: usize,
    /// Case history entries.
    pub history_entries: usize,
    /// Follow-ups.
    pub follow_ups: usize,
    /// Tasks.
    pub tasks: usize,
    /// Interactions.
    pub interactions: usize,
    /// Customer relations.
    pub relations: usize,
    /// Merge records.
    pub merges: usize,
    /// Outbox entries.
    pub outbox: usize,
}

impl State {
    /// Checks a batch of events can be written (ids unused, also within the batch) and
    /// returns the rows to insert; changes nothing.
    pub(crate) fn stage_events(&self, events: &[DomainEvent]) -> StoreResult<Vec<OutboxRow>> {
        let mut rows = Vec::with_capacity(events.len());
        for (i, event) in events.iter().enumerate() {
            if self.outbox.contains_key(&event.id) || events[..i].iter().any(|e| e.id == event.id) {
                return Err(StoreError::duplicate("id", event.id.to_string()));
            }
            rows.push(OutboxRow {
                entry: OutboxEntry {
                    event: event.clone(),
                    topic: event.kind.topic(),
                    status: OutboxStatus::Pending,
                    attempts: 0,
                    next_attempt_at: event.kind.first_attempt_at(event.at),
                    last_error: None,
                },
                leased_until: None,
            });
        }
        Ok(rows)
    }

    /// Inserts staged rows.
    pub(crate) fn commit_events(&mut self, rows: Vec<OutboxRow>) {
        let events: Vec<DomainEvent> = rows.iter().map(|r| r.entry.event.clone()).collect();
        self.audit.pending.extend(crm_core::audit::AuditEntry::of_write(&events));
        for row in rows {
            self.webhooks.due.insert((row.entry.event.at, row.entry.event.id));
            self.outbox.insert(row.entry.event.id, row);
        }
    }

    /// Whether the customer exists in the tenant (tombstones included).
    pub(crate) fn customer_exists(&self, tenant: TenantId, id: CustomerId) -> bool {
        self.customers.get(&id).is_some_and(|c| c.tenant == tenant)
    }

    /// Whether the case exists in the tenant.
    pub(crate) fn case_exists(&self, tenant: TenantId, id: CaseId) -> bool {
        self.cases.get(&id).is_some_and(|c| c.tenant == tenant)
    }
}

/// A missing referenced record.
pub(crate) fn invalid_reference(field: &str, what: impl fmt::Display) -> StoreError {
    StoreError::InvalidReference { field: field.to_owned(), reason: format!("{what} does not exist") }
}

/// Checks an expected version against the stored one.
pub(crate) fn check_version(
    entity: &'static str,
    id: impl fmt::Display,
    stored: u64,
    expected: u64,
) -> StoreResult<()> {
    if stored == expected { Ok(()) } else { Err(StoreError::stale(entity, id, expected)) }
}

/// Decodes a page cursor into its position.
pub(crate) fn decode_cursor<T: serde::de::DeserializeOwned>(page: &PageRequest) -> StoreResult<Option<T>> {
    page.after
        .as_ref()
        .map(|c| c.decode::<T>())
        .transpose()
        .map_err(|e| StoreError::InvalidReference { field: "cursor".into(), reason: e.reason })
}

/// Cuts one page out of `items` (already sorted, already past the cursor): at most
/// `limit` items and a cursor at the last one when more follow.
pub(crate) fn paginate<T: Clone, P: serde::Serialize>(
    items: Vec<&T>,
    page: &PageRequest,
    position: impl Fn(&T) -> P,
) -> Page<T> {
    let limit = usize::try_from(page.limit.max(1)).unwrap_or(usize::MAX);
    let more = items.len() > limit;
    let items: Vec<T> = items.into_iter().take(limit).cloned().collect();
    let next = if more { items.last().map(|last| Cursor::encode(&position(last))) } else { None };
    Page { items, next }
}

/// A `u32` limit as a `usize`.
pub(crate) fn limit(n: u32) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}
