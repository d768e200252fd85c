//! Store ports: one trait per aggregate family, each method's contract in MUST clauses
//! (each clause is a test of the conformance suite in `crm-testkit`).
//!
//! Common rules for every store:
//! - Every method is confined to the given tenant: a record of another tenant MUST behave
//!   as if it did not exist (`NotFound` / `None` / absent from lists).
//! - Every write that takes `events` MUST write them to the outbox in the same
//!   transaction as the change: both happen or neither does.
//! - Every update that takes `expected_version` MUST fail with
//!   [`StoreError::Conflict`]`(StaleVersion)` when the stored version differs, changing
//!   nothing; the caller passes the record with its new version already set.
//! - Failures of the backend are `Unavailable` (may succeed later) or `Backend`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::access::{Agent, Group, PrivateScope, Tenant};
use crate::case::{Case, CaseFilter, CaseHistoryEntry, CaseNumber, CaseSort};
use crate::custom_field::{FieldDefinition, FieldEntity};
use crate::customer::{
    AccountNumber, Customer, CustomerSearch, IdentityKey, MergePlan, MergeRecord, MovedRecords, Relation, UndoPlan,
};
use crate::error::StoreError;
use crate::event::DomainEvent;
use crate::follow_up::FollowUp;
use crate::ids::{AgentId, CaseId, CustomerId, EventId, GroupId, InteractionId, MergeId, RelationId, TaskId, TenantId};
use crate::interaction::{Disposition, Interaction, InteractionFilter, InteractionMessage, QueueSettings};
use crate::page::{Page, PageRequest};
use crate::task::Task;

use super::custom_fields::FieldValueStore;
use super::guidance::GuidanceStore;
use super::idempotency::IdempotencyStore;
use super::knowledge::KnowledgeStore;
use super::live_feed::LiveFeedStore;
use super::mail::MailStore;
use super::meta::MetaStore;
use super::outbound::OutboundStore;
pub use super::outbox::OutboxStore;
use super::tokens::TokenStore;
use super::webhooks::WebhookStore;

/// Shorthand for store results.
pub type StoreResult<T> = Result<T, StoreError>;

/// Customers, their identities, relations and merges (CUS).
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait CustomerStore: Send + Sync {
    /// The next value of the tenant's account-number sequence (from 1).
    ///
    /// # Errors
    /// MUST return increasing, never repeated values per tenant, also under concurrent
    /// callers; values may be skipped. MUST return a value above the
    /// [`AccountNumber::generated_sequence`](crate::customer::AccountNumber::generated_sequence)
    /// of every account number the tenant's customers were inserted or updated with (a
    /// number given by hand or imported in the generator's own form, `AC-000006`), so a
    /// generated number is always free.
    async fn next_account_sequence(&self, tenant: TenantId) -> StoreResult<u64>;

    /// Inserts a new customer.
    ///
    /// # Errors
    /// MUST return `Conflict(Duplicate { field: "account_number" })` when the tenant already
    /// has the account number, and `Conflict(Duplicate { field: "id" })` for a taken id.
    async fn insert_customer(&self, customer: &Customer, events: &[DomainEvent]) -> StoreResult<()>;

    /// Replaces a customer (identities, addresses, custom values and all).
    ///
    /// # Errors
    /// `NotFound` when absent; `StaleVersion` as in the module rules; `Duplicate
    /// { field: "account_number" }` when the new account number is taken.
    async fn update_customer(
        &self,
        customer: &Customer,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()>;

    /// Deletes a customer with its relations. Its cases, tasks and interactions must have
    /// been deleted or moved first.
    ///
    /// # Errors
    /// `NotFound`, `StaleVersion`; `InvalidReference { field: "customer" }` when cases,
    /// tasks or interactions still point at it.
    async fn delete_customer(
        &self,
        tenant: TenantId,
        id: CustomerId,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()>;

    /// A customer (tombstones included).
    async fn get_customer(&self, tenant: TenantId, id: CustomerId) -> StoreResult<Option<Customer>>;

    /// Live customers (no tombstones) holding an identity with this key, most recently
    /// contacted first (never contacted last), then by id.
    async fn find_by_identity(&self, tenant: TenantId, key: &IdentityKey, limit: u32) -> StoreResult<Vec<Customer>>;

    /// The customer with this account number (tombstones included).
    async fn find_by_account(&self, tenant: TenantId, account: &AccountNumber) -> StoreResult<Option<Customer>>;

    /// Live customers matching the search ([`CustomerSearch::matches`] is the reference
    /// semantics), ordered by [`Customer::folded_name`] then id, paginated.
    ///
    /// # Errors
    /// `InvalidReference { field: "cursor" }` for a cursor this list did not return.
    async fn search_customers(
        &self,
        tenant: TenantId,
        search: &CustomerSearch,
        page: &PageRequest,
    ) -> StoreResult<Page<Customer>>;

    /// Live customers sharing a phonetic name code with `codes` (duplicate candidates), at
    /// most `limit`.
    async fn find_by_phonetic(&self, tenant: TenantId, codes: &[String], limit: u32) -> StoreResult<Vec<Customer>>;

    /// Adds a relation.
    ///
    /// # Errors
    /// `InvalidReference { field: "from" | "to" }` when either customer is missing.
    async fn insert_relation(&self, relation: &Relation, events: &[DomainEvent]) -> StoreResult<()>;

    /// Removes a relation.
    ///
    /// # Errors
    /// `NotFound` when absent.
    async fn delete_relation(&self, tenant: TenantId, id: RelationId, events: &[DomainEvent]) -> StoreResult<()>;

    /// Relations where the customer is either side.
    async fn relations_of(&self, tenant: TenantId, customer: CustomerId) -> StoreResult<Vec<Relation>>;

    /// Applies a merge atomically: writes `plan.target` and `plan.tombstone` (each checked
    /// against its version before the merge, `plan.*.version - 1`), moves every case, task
    /// and interaction of the source to the target, re-points relations whose either side
    /// is the source (except relations between the two, which stay on the tombstone), and
    /// stores the merge record built from `record` with the ids it moved. Every moved case,
    /// task and interaction gets its version bumped, so a copy read before the merge cannot
    /// silently move it back.
    ///
    /// # Errors
    /// `StaleVersion` when either card changed meanwhile; nothing is written then.
    async fn merge_customers(
        &self,
        plan: &MergePlan,
        record: &MergeRecord,
        events: &[DomainEvent],
    ) -> StoreResult<MovedRecords>;

    /// A merge record.
    async fn get_merge(&self, tenant: TenantId, id: MergeId) -> StoreResult<Option<MergeRecord>>;

    /// Undoes a merge atomically: writes both restored cards (checked against their current
    /// versions, `plan.*.version - 1`), moves the recorded cases, tasks, interactions and
    /// relations back to the source (bumping their versions), and marks the record undone by
    /// `by` at `at`.
    ///
    /// # Errors
    /// `NotFound` for an unknown merge; `StaleVersion` when a card changed meanwhile;
    /// `Conflict(State)` when already undone.
    async fn undo_merge(
        &self,
        tenant: TenantId,
        merge: MergeId,
        plan: &UndoPlan,
        by: AgentId,
        at: DateTime<Utc>,
        events: &[DomainEvent],
    ) -> StoreResult<()>;
}

/// Cases, their history and follow-ups (CAS, FUP).
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait CaseStore: Send + Sync {
    /// The next case number of the tenant.
    ///
    /// # Errors
    /// MUST return increasing, never repeated numbers per tenant, also under concurrent
    /// callers on several server replicas; numbers may be skipped, never reused.
    async fn next_case_number(&self, tenant: TenantId) -> StoreResult<CaseNumber>;

    /// Inserts a case with its creation history.
    ///
    /// # Errors
    /// `Duplicate { field: "number" }` for a taken number; `InvalidReference { field:
    /// "customer" }` when the customer does not exist in the tenant.
    async fn insert_case(&self, case: &Case, history: &[CaseHistoryEntry], events: &[DomainEvent]) -> StoreResult<()>;

    /// Inserts a case created from an interaction and writes the interaction (now linked
    /// to it) in one transaction (INT-7).
    ///
    /// # Errors
    /// As [`CaseStore::insert_case`], plus `StaleVersion` for the interaction; nothing is
    /// written on any error.
    async fn insert_case_from_interaction(
        &self,
        case: &Case,
        history: &[CaseHistoryEntry],
        interaction: &Interaction,
        interaction_expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()>;

    /// Replaces a case (live or deleted: its soft deletion and its restore are updates) and
    /// appends its history entries.
    ///
    /// # Errors
    /// `NotFound`; `StaleVersion` when the row's version is not `expected_version`, and
    /// MUST be too when its mark generation is not `case.sla_gen()` (a reply re-marked the
    /// case since it was read: ADR 0032); `InvalidReference { field: "customer" }` when the case
    /// would point at a customer missing from the tenant.
    async fn update_case(
        &self,
        case: &Case,
        expected_version: u64,
        history: &[CaseHistoryEntry],
        events: &[DomainEvent],
    ) -> StoreResult<()>;

    /// A (soft) deleted case, as [`CaseStore::get_case`] no longer returns it: for its
    /// restore. `None` for a live case, an unknown one or another tenant's.
    async fn get_deleted_case(&self, tenant: TenantId, id: CaseId) -> StoreResult<Option<Case>>;

    /// A live case. A (soft) deleted case ([`Case::is_deleted`]) MUST be absent here, from
    /// [`CaseStore::get_case_by_number`], [`CaseStore::list_cases`] and
    /// [`CaseStore::open_cases_of`] (so from the cards), while its row, number, history
    /// and follow-ups stay: [`CaseStore::update_case`] writes the deletion and the restore.
    async fn get_case(&self, tenant: TenantId, id: CaseId) -> StoreResult<Option<Case>>;

    /// A live case by number.
    async fn get_case_by_number(&self, tenant: TenantId, number: CaseNumber) -> StoreResult<Option<Case>>;

    /// Cases passing the filter and the private scope ([`CaseFilter::matches`] is the
    /// reference semantics), in `sort` order, paginated. The scope MUST be applied in the
    /// query so pages stay full.
    ///
    /// # Errors
    /// `InvalidReference { field: "cursor" }` for a cursor this list did not return.
    async fn list_cases(
        &self,
        tenant: TenantId,
        filter: &CaseFilter,
        scope: &PrivateScope,
        sort: CaseSort,
        page: &PageRequest,
    ) -> StoreResult<Page<Case>>;

    /// Open cases (open, pending, on hold) of a customer within the scope, most recently
    /// updated first, at most `limit`.
    async fn open_cases_of(
        &self,
        tenant: TenantId,
        customer: CustomerId,
        scope: &PrivateScope,
        limit: u32,
    ) -> StoreResult<Vec<Case>>;

    /// A case's history, oldest first (by version, then field).
    async fn case_history(&self, tenant: TenantId, case: CaseId) -> StoreResult<Vec<CaseHistoryEntry>>;

    /// Adds a follow-up, and writes `remark` (the case re-marked for it: a reply moves the
    /// SLA clock; ADR 0032) in the same transaction.
    ///
    /// # Errors
    /// `InvalidReference { field: "case" }` when the case does not exist; `StaleVersion`
    /// when the case row's version or mark generation is not the one `remark` expects
    /// ([`crate::sla::CaseRemark`]). Nothing is written on error.
    async fn insert_follow_up(
        &self,
        follow_up: &FollowUp,
        remarks: &[crate::sla::CaseRemark],
        events: &[DomainEvent],
    ) -> StoreResult<()>;

    /// A case's follow-ups, oldest first (by time, then id).
    async fn follow_ups_of(&self, tenant: TenantId, case: CaseId) -> StoreResult<Vec<FollowUp>>;
}

/// Whose tasks [`TaskStore::tasks_of`] lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskOwner {
    /// The tasks of a customer (with or without a case).
    Customer(CustomerId),
    /// The tasks attached to a case.
    Case(CaseId),
}

/// The position of a task in a list by schedule (`scheduled_at`, then id), as every store
/// encodes it in its cursors.
pub type TaskPosition = (DateTime<Utc>, TaskId);

/// Tasks (TSK).
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait TaskStore: Send + Sync {
    /// Inserts a task.
    ///
    /// # Errors
    /// `InvalidReference { field: "customer" | "case" }` when either is missing.
    async fn insert_task(&self, task: &Task, events: &[DomainEvent]) -> StoreResult<()>;

    /// Replaces a task.
    ///
    /// # Errors
    /// `NotFound`; `StaleVersion`; `InvalidReference { field: "customer" | "case" }` when the
    /// task would point at a record missing from the tenant.
    async fn update_task(&self, task: &Task, expected_version: u64, events: &[DomainEvent]) -> StoreResult<()>;

    /// A task.
    async fn get_task(&self, tenant: TenantId, id: TaskId) -> StoreResult<Option<Task>>;

    /// Deletes a task and writes `events`, in one transaction.
    ///
    /// # Errors
    /// `NotFound` (also for another tenant's task); `StaleVersion`; nothing changes then.
    async fn delete_task(
        &self,
        tenant: TenantId,
        id: TaskId,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()>;

    /// Every task (any status) of a customer or of a case, by scheduled time then id,
    /// cursor-paginated (TSK-1).
    ///
    /// # Errors
    /// `InvalidReference { field: "cursor" }` for a cursor this list did not return.
    async fn tasks_of(&self, tenant: TenantId, of: TaskOwner, page: &PageRequest) -> StoreResult<Page<Task>>;

    /// Planned tasks of an agent scheduled before `until` (all when `None`), soonest first
    /// (by scheduled time, then id), cursor-paginated: the agenda has no hidden cap (TSK-3).
    ///
    /// # Errors
    /// `InvalidReference { field: "cursor" }` for a cursor this list did not return.
    async fn planned_tasks_of_agent(
        &self,
        tenant: TenantId,
        agent: AgentId,
        until: Option<DateTime<Utc>>,
        page: &PageRequest,
    ) -> StoreResult<Page<Task>>;

    /// Planned tasks of a customer, soonest first.
    async fn planned_tasks_of_customer(
        &self,
        tenant: TenantId,
        customer: CustomerId,
        limit: u32,
    ) -> StoreResult<Vec<Task>>;

    /// Claims tasks, across all tenants, whose reminder is due at `now` and not yet sent:
    /// at most `event_ids.len()` of them, soonest reminder first. Each claimed task is
    /// marked sent at `now` (version bumped) and its [`crate::task::reminder_event`] is
    /// written to the outbox with the next id of `event_ids`, in one transaction. Returns
    /// the claimed tasks as stored.
    ///
    /// # Errors
    /// MUST claim each reminder exactly once, even with several callers at the same time
    /// (several server replicas): a task claimed by one caller is never returned to another.
    async fn claim_due_reminders(&self, now: DateTime<Utc>, event_ids: &[EventId]) -> StoreResult<Vec<Task>>;
}

/// What a new interaction does to its contact's card, written with it
/// ([`InteractionStore::insert_interaction_with_card`]).
#[derive(Clone, Debug, PartialEq)]
pub enum CardWrite {
    /// A card created for an unknown address (CUS-6).
    Created(Customer),
    /// A known card changed (its last contact, a new channel identity: CUS-8), guarded by
    /// the version it was read at.
    Updated {
        /// The card as changed.
        customer: Customer,
        /// The version it was read at.
        expected_version: u64,
    },
}

/// Interactions (INT).
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait InteractionStore: Send + Sync {
    /// Inserts an interaction.
    ///
    /// # Errors
    /// `InvalidReference { field: "customer" }` when the card is missing.
    async fn insert_interaction(&self, interaction: &Interaction, events: &[DomainEvent]) -> StoreResult<()>;

    /// Inserts a new contact's interaction together with what it does to the contact's card
    /// (CUS-6, CUS-8, EXT-2): a card created for an unknown address, or a known card's last
    /// contact updated; both writes and `events` happen in one transaction, or nothing does.
    ///
    /// # Errors
    /// What [`CustomerStore::insert_customer`] (for [`CardWrite::Created`]) or
    /// [`CustomerStore::update_customer`] (for [`CardWrite::Updated`]) and
    /// [`InteractionStore::insert_interaction`] refuse; MUST then write nothing.
    async fn insert_interaction_with_card(
        &self,
        interaction: &Interaction,
        card: &CardWrite,
        events: &[DomainEvent],
    ) -> StoreResult<()>;

    /// Replaces an interaction (notes, links, state and all).
    ///
    /// # Errors
    /// `NotFound`; `StaleVersion`.
    async fn update_interaction(
        &self,
        interaction: &Interaction,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()>;

    /// An interaction.
    async fn get_interaction(&self, tenant: TenantId, id: InteractionId) -> StoreResult<Option<Interaction>>;

    /// A customer's interactions across channels, newest first (by offered time, then id),
    /// paginated (INT-5).
    async fn interactions_of_customer(
        &self,
        tenant: TenantId,
        customer: CustomerId,
        page: &PageRequest,
    ) -> StoreResult<Page<Interaction>>;

    /// Replaces an interaction and adds `follow_ups` (the summary it leaves on its linked
    /// local cases, INT-6), in one transaction: the interaction, every follow-up, the cases
    /// re-marked for them (`remarks`, ADR 0032) and `events`, or nothing.
    ///
    /// # Errors
    /// What [`InteractionStore::update_interaction`] and [`CaseStore::insert_follow_up`]
    /// refuse (`StaleVersion`, also for a case row moved since its remark was read,
    /// `NotFound`, `InvalidReference { field: "case" }`); MUST then
    /// write nothing, so under concurrent callers with the same expected version at most
    /// one set of follow-ups is ever written.
    async fn update_interaction_with_follow_ups(
        &self,
        interaction: &Interaction,
        expected_version: u64,
        follow_ups: &[FollowUp],
        remarks: &[crate::sla::CaseRemark],
        events: &[DomainEvent],
    ) -> StoreResult<()>;

    /// The interactions linked to a local case (INT-6), as written by the latest insert or
    /// update of each interaction, newest first (by offered time, then id), paginated.
    ///
    /// # Errors
    /// `InvalidReference { field: "cursor" }` for a cursor this list did not return.
    async fn interactions_of_case(
        &self,
        tenant: TenantId,
        case: CaseId,
        page: &PageRequest,
    ) -> StoreResult<Page<Interaction>>;

    /// A customer's interactions passing `filter` ([`InteractionFilter::matches`] with the
    /// folded texts of each interaction's messages is the reference), in the order and
    /// pages of [`InteractionStore::interactions_of_customer`] (INT-5). The filter MUST be
    /// applied in the query so pages stay full.
    ///
    /// # Errors
    /// `InvalidReference { field: "cursor" }` for a cursor this list did not return.
    async fn search_interactions_of_customer(
        &self,
        tenant: TenantId,
        customer: CustomerId,
        filter: &InteractionFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Interaction>>;

    /// Adds a message to its conversation (CUS-8), with what it does to the contact's card,
    /// in one transaction: the message, the card's update and `events`, or nothing. The
    /// interaction MUST still be at `interaction_version` (the version its state was checked
    /// at); the message does not change it.
    ///
    /// # Errors
    /// `NotFound` for a missing interaction; `StaleVersion` when it changed meanwhile;
    /// `Duplicate { field: "id" }` for a taken message id; what
    /// [`CustomerStore::update_customer`] refuses for the card. Nothing is written then.
    async fn insert_message(
        &self,
        message: &InteractionMessage,
        interaction_version: u64,
        card: Option<CardWrite>,
        events: &[DomainEvent],
    ) -> StoreResult<()>;

    /// A conversation's messages, oldest first (by time, then id), paginated.
    ///
    /// # Errors
    /// `InvalidReference { field: "cursor" }` for a cursor this list did not return.
    async fn messages_of(
        &self,
        tenant: TenantId,
        interaction: InteractionId,
        page: &PageRequest,
    ) -> StoreResult<Page<InteractionMessage>>;
}

/// Tenants, agents, groups, custom field definitions, dispositions and queues (ADM, CUS-2,
/// INT-3).
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait DirectoryStore: Send + Sync {
    /// Inserts a tenant.
    ///
    /// # Errors
    /// `Duplicate { field: "id" }`.
    async fn insert_tenant(&self, tenant: &Tenant) -> StoreResult<()>;

    /// A tenant.
    async fn get_tenant(&self, id: TenantId) -> StoreResult<Option<Tenant>>;

    /// Every tenant, by name then id (the operator's list).
    async fn list_tenants(&self) -> StoreResult<Vec<Tenant>>;

    /// Replaces a tenant (its name, region, zone, suspension, public slug) and writes
    /// `events` (with their audit entry) in the same transaction.
    ///
    /// # Errors
    /// MUST return `NotFound` for an unknown tenant, and `Duplicate { field: "slug" }` when
    /// another tenant has its slug, writing nothing (no events either).
    async fn update_tenant(&self, tenant: &Tenant, events: &[DomainEvent]) -> StoreResult<()>;

    /// The tenant whose public slug is `slug` (KNO-1), exactly as stored.
    async fn tenant_by_slug(&self, slug: &str) -> StoreResult<Option<Tenant>>;

    /// Inserts or replaces an agent (`expected_version` `None` to insert), and writes
    /// `events` in the same transaction (the module rules: an administration write is
    /// audited like any other, ADR 0020).
    ///
    /// # Errors
    /// `Duplicate { field: "email" }` when another agent of the tenant has the address;
    /// `StaleVersion`; `NotFound` on update of a missing agent; `InvalidReference { field:
    /// "custom_role" }` when its custom role is not a role of its tenant, checked atomically
    /// with the write (a role deleted concurrently is never left named by an agent, see
    /// [`crate::ports::RoleStore::delete_role`]).
    async fn put_agent(&self, agent: &Agent, expected_version: Option<u64>, events: &[DomainEvent]) -> StoreResult<()>;

    /// An agent.
    async fn get_agent(&self, tenant: TenantId, id: AgentId) -> StoreResult<Option<Agent>>;

    /// All agents of a tenant, by name.
    async fn list_agents(&self, tenant: TenantId) -> StoreResult<Vec<Agent>>;

    /// Inserts or replaces a group (`expected_version` `None` to insert), with `events`.
    ///
    /// # Errors
    /// `Duplicate { field: "name" }`; `StaleVersion`; `NotFound` on update; nothing (no
    /// event) is written then.
    async fn put_group(&self, group: &Group, expected_version: Option<u64>, events: &[DomainEvent]) -> StoreResult<()>;

    /// All groups of a tenant, by name.
    async fn list_groups(&self, tenant: TenantId) -> StoreResult<Vec<Group>>;

    /// A group of the tenant.
    async fn get_group(&self, tenant: TenantId, id: GroupId) -> StoreResult<Option<Group>>;

    /// Deletes a group of the tenant that nothing uses, atomically with the check, and
    /// writes `events` in the same transaction.
    ///
    /// # Errors
    /// `NotFound` (another tenant's group too); `StaleVersion`; MUST return
    /// `Conflict(State)` saying what uses it, writing nothing (no event), while an agent is
    /// a member or a case is assigned to it.
    async fn delete_group(
        &self,
        tenant: TenantId,
        id: GroupId,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()>;

    /// Inserts or replaces a custom field definition (`expected_version` `None` to insert),
    /// with `events`.
    ///
    /// # Errors
    /// `Duplicate { field: "key" }` for a key taken on the same entity; `StaleVersion`;
    /// nothing (no event) is written then.
    async fn put_field_definition(
        &self,
        definition: &FieldDefinition,
        expected_version: Option<u64>,
        events: &[DomainEvent],
    ) -> StoreResult<()>;

    /// The definitions of one entity, by key.
    async fn field_definitions(&self, tenant: TenantId, entity: FieldEntity) -> StoreResult<Vec<FieldDefinition>>;

    /// Inserts or replaces a disposition by code, with `events`.
    async fn put_disposition(&self, disposition: &Disposition, events: &[DomainEvent]) -> StoreResult<()>;

    /// The catalogue, by group then code.
    async fn dispositions(&self, tenant: TenantId) -> StoreResult<Vec<Disposition>>;

    /// Inserts or replaces a queue's settings, with `events`.
    async fn put_queue(&self, queue: &QueueSettings, events: &[DomainEvent]) -> StoreResult<()>;

    /// A queue's settings.
    async fn get_queue(&self, tenant: TenantId, name: &str) -> StoreResult<Option<QueueSettings>>;

    /// The tenant's queues, by name.
    async fn list_queues(&self, tenant: TenantId) -> StoreResult<Vec<QueueSettings>>;
}

/// How many of each kind of record a customer card carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CardLimits {
    /// Open cases, most recently updated first.
    pub open_cases: u32,
    /// Planned tasks, soonest first.
    pub pending_tasks: u32,
    /// Interactions, newest first.
    pub last_interactions: u32,
}

impl CardLimits {
    /// What the customer card of the API carries ([`crate::customer::CARD_OPEN_CASES`] and
    /// its siblings).
    pub const CARD: Self = Self {
        open_cases: crate::customer::CARD_OPEN_CASES,
        pending_tasks: crate::customer::CARD_PENDING_TASKS,
        last_interactions: crate::customer::CARD_LAST_INTERACTIONS,
    };
}

/// What a customer card shows besides the customer itself, read together.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CardParts {
    /// As [`CaseStore::open_cases_of`] returns them.
    pub open_cases: Vec<Case>,
    /// As [`TaskStore::planned_tasks_of_customer`] returns them.
    pub pending_tasks: Vec<Task>,
    /// The items of the first page of [`InteractionStore::interactions_of_customer`].
    pub last_interactions: Vec<Interaction>,
    /// As [`CustomerStore::relations_of`] returns them.
    pub relations: Vec<Relation>,
}

/// The screen pop's reads (CUS-4): the hottest path of the product, so an adapter may
/// answer them in one round trip.
#[async_trait]
pub trait CardStore: CustomerStore + CaseStore + TaskStore + InteractionStore {
    /// The parts of `customer`'s card. MUST return exactly what the four reads return:
    /// `open_cases_of(tenant, customer, scope, limits.open_cases)`,
    /// `planned_tasks_of_customer(tenant, customer, limits.pending_tasks)`, the items of
    /// `interactions_of_customer(tenant, customer, first page of limits.last_interactions)`
    /// and `relations_of(tenant, customer)`, each in its order. The default issues those
    /// four reads concurrently.
    async fn card_parts(
        &self,
        tenant: TenantId,
        customer: CustomerId,
        scope: &PrivateScope,
        limits: CardLimits,
    ) -> StoreResult<CardParts> {
        let page = PageRequest { limit: limits.last_interactions, after: None };
        let (open_cases, pending_tasks, interactions, relations) = futures::try_join!(
            self.open_cases_of(tenant, customer, scope, limits.open_cases),
            self.planned_tasks_of_customer(tenant, customer, limits.pending_tasks),
            self.interactions_of_customer(tenant, customer, &page),
            self.relations_of(tenant, customer),
        )?;
        Ok(CardParts { open_cases, pending_tasks, last_interactions: interactions.items, relations })
    }

    /// The screen pop by phone or email: the customers `find_by_identity(tenant, key, max)`
    /// returns, in its order, each with its `card_parts(tenant, customer, scope, limits)`.
    /// MUST return exactly that. The default issues the lookup, then the cards concurrently;
    /// an adapter may answer the common case (one match) in one round trip.
    async fn cards_by_identity(
        &self,
        tenant: TenantId,
        key: &IdentityKey,
        max: u32,
        scope: &PrivateScope,
        limits: CardLimits,
    ) -> StoreResult<Vec<(Customer, CardParts)>> {
        let customers = self.find_by_identity(tenant, key, max).await?;
        let cards = customers.iter().map(|c| self.card_parts(tenant, c.id, scope, limits));
        let parts = futures::future::try_join_all(cards).await?;
        Ok(customers.into_iter().zip(parts).collect())
    }
}

/// Reads a use case needs together, which an adapter may answer in one round trip; the
/// defaults issue the single reads concurrently.
#[async_trait]
pub trait ContextStore: CustomerStore + DirectoryStore {
    /// A customer (tombstones included) and the field definitions of `entity`, as a new
    /// case needs them. MUST return exactly what `get_customer(tenant, customer)` and
    /// `field_definitions(tenant, entity)` return.
    async fn customer_with_definitions(
        &self,
        tenant: TenantId,
        customer: CustomerId,
        entity: FieldEntity,
    ) -> StoreResult<(Option<Customer>, Vec<FieldDefinition>)> {
        futures::try_join!(self.get_customer(tenant, customer), self.field_definitions(tenant, entity))
    }
}

/// Everything a full store adapter provides; what the server holds as `Arc<dyn Store>`:
/// the domain's stores and the server's own state (tokens, idempotency keys, the live feed,
/// installation facts), so one adapter serves the whole application.
pub trait Store:
    CustomerStore
    + CaseStore
    + TaskStore
    + InteractionStore
    + CardStore
    + ContextStore
    + DirectoryStore
    + OutboxStore
    + TokenStore
    + IdempotencyStore
    + LiveFeedStore
    + MetaStore
    + FieldValueStore
    + super::AttachmentStore
    + WebhookStore
    + super::SlaStore
    + MailStore
    + super::InboundMailStore
    + GuidanceStore
    + OutboundStore
    + super::AuditStore
    + KnowledgeStore
    + super::ResponseStore
    + super::ConsoleStore
    + super::ContactStore
    + super::CaseCatalogueStore
    + super::RoleStore
    + super::ConnectorStore
    + super::MailboxStore
    + std::fmt::Debug
{
}

impl<T> Store for T where
    T: CustomerStore
        + CaseStore
        + TaskStore
        + InteractionStore
        + CardStore
        + ContextStore
        + DirectoryStore
        + OutboxStore
        + TokenStore
        + IdempotencyStore
        + LiveFeedStore
        + MetaStore
        + FieldValueStore
        + super::AttachmentStore
        + WebhookStore
        + super::SlaStore
        + MailStore
        + super::InboundMailStore
        + GuidanceStore
        + OutboundStore
        + super::AuditStore
        + KnowledgeStore
        + super::ResponseStore
        + super::ConsoleStore
        + super::ContactStore
        + super::CaseCatalogueStore
        + super::RoleStore
        + super::ConnectorStore
        + super::MailboxStore
        + std::fmt::Debug
{
}
