//! The store conformance suite: every MUST clause of `crm_core::ports::store` as a test,
//! run against any backend through a [`StoreFactory`].
//!
//! A backend's integration tests get one `#[test]` per conformance test, named after the
//! behaviour, with [`crate::store_conformance_tests!`]:
//!
//! ```text
//! crm_testkit::store_conformance_tests!(|| async {
//!     std::sync::Arc::new(my_store().await) as std::sync::Arc<dyn crm_core::ports::Store>
//! });
//! ```
//!
//! Every test creates its own tenants with fresh UUID v7 ids and only asserts on their
//! data, so the tests may share one database and run in parallel. The two cross-tenant
//! operations (`claim_due_reminders`, `claim_outbox`) are tested on records dated about 400
//! days before the suite's `now` (2026-11-23) and claimed at a `now` that old, so their
//! claimers cannot lease other tests' records; and what another claimer sharing the database
//! takes from them still has to be claimed exactly once.
//!
//! The functions here are test bodies: an `unwrap` that fails is a failed test, with the
//! store's error in the message, which is exactly what a backend author needs to read.
#![allow(clippy::unwrap_used)]

mod admin_audit;
mod administration;
mod app_state;
mod attachments;
mod audit;
mod cards;
mod case_catalogue;
mod case_lists;
mod cases;
mod concurrency;
mod connectors;
mod console;
mod contacts;
mod conversations;
mod custom_fields;
mod customers;
mod directory;
mod guidance;
mod inbound_mail;
mod interactions;
mod isolation;
mod knowledge;
mod mail;
mod mailbox;
mod merge;
mod outbound;
mod outbound_links;
mod outbox;
mod responses;
mod roles;
mod sla;
mod sla_marks;
mod sla_remarks;
mod tasks;
mod webhooks;

use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use crm_core::access::Actor;
use crm_core::case::{Case, CaseContext, CaseHistoryEntry, NewCase, history};
use crm_core::customer::{
    AccountNumber, Customer, CustomerContext, IdentityInput, NewCustomer, Relation, RelationKind,
};
use crm_core::error::{Conflict, StoreError};
use crm_core::event::{DomainEvent, EventKind, OutboxEntry};
use crm_core::ids::{EventId, TenantId};
use crm_core::interaction::{Channel, Direction, Interaction, NewInteraction};
use crm_core::page::PageRequest;
use crm_core::ports::{Store, StoreResult};
use crm_core::task::{NewTask, ScheduleInput, Task, TaskKind};
use crm_core::time::{UuidV7Generator, next_id};
use uuid::Uuid;

pub use admin_audit::*;
pub use administration::*;
pub use app_state::*;
pub use attachments::*;
pub use audit::*;
pub use cards::*;
pub use case_catalogue::*;
pub use case_lists::*;
pub use cases::*;
pub use concurrency::*;
pub use connectors::*;
pub use console::*;
pub use contacts::*;
pub use conversations::*;
pub use custom_fields::*;
pub use customers::*;
pub use directory::*;
pub use guidance::*;
pub use inbound_mail::*;
pub use interactions::*;
pub use isolation::*;
pub use knowledge::*;
pub use mail::*;
pub use mailbox::*;
pub use merge::*;
pub use outbound::*;
pub use outbound_links::*;
pub use outbox::*;
pub use responses::*;
pub use roles::*;
pub use sla::*;
pub use sla_marks::*;
pub use sla_remarks::*;
pub use tasks::*;
pub use webhooks::*;

use crate::fixtures::{PARIS, SeededTenant, region_fr};

/// Makes (or hands out) the store under test. Each conformance test calls it once.
///
/// Any `Fn() -> impl Future<Output = Arc<dyn Store>>` closure is a factory, so is
/// [`MemoryStoreFactory`].
#[async_trait]
pub trait StoreFactory: Send + Sync {
    /// The store to test.
    async fn store(&self) -> Arc<dyn Store>;
}

#[async_trait]
impl<F, Fut> StoreFactory for F
where
    F: Fn() -> Fut + Send + Sync,
    Fut: Future<Output = Arc<dyn Store>> + Send,
{
    async fn store(&self) -> Arc<dyn Store> {
        self().await
    }
}

/// A fresh [`crate::MemoryStore`] per test.
#[derive(Clone, Copy, Debug, Default)]
pub struct MemoryStoreFactory;

#[async_trait]
impl StoreFactory for MemoryStoreFactory {
    async fn store(&self) -> Arc<dyn Store> {
        Arc::new(crate::MemoryStore::new())
    }
}

/// Runs one conformance test to completion on a fresh multi-threaded runtime (so the
/// concurrency tests really run in parallel). Used by [`crate::store_conformance_tests!`].
///
/// # Panics
/// When the runtime cannot start, or when the test fails.
pub fn block_on<F: Future<Output = ()>>(test: F) {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("a tokio runtime for the conformance test")
        .block_on(test);
}

/// Expands to one `#[test]` per conformance test, each calling the factory once.
///
/// ```text
/// // crates/crm-store-sql/tests/it/conformance.rs
/// crm_testkit::store_conformance_tests!(crate::helpers::sqlite_factory());
/// ```
///
/// The argument is any expression whose value implements
/// [`crate::conformance::StoreFactory`] (an async closure returning `Arc<dyn Store>` does);
/// it is evaluated once per test. The calling crate needs no runtime dependency: each test
/// builds its own tokio runtime.
#[macro_export]
macro_rules! store_conformance_tests {
    ($factory:expr) => {
        $crate::__store_conformance_tests!(
            $factory;
            customer_round_trips_through_insert_get_update_and_delete,
            duplicate_account_number_and_id_are_refused,
            customers_are_found_by_every_identity_kind,
            customers_are_found_by_account_number,
            search_matches_name_prefix_phonetic_phone_email_custom_and_account,
            search_pages_walk_every_match_once_in_order,
            bad_cursor_is_refused,
            find_by_phonetic_returns_sound_alike_live_cards,
            name_search_follows_renames_and_deletions,
            relations_are_stored_listed_and_deleted,
            delete_customer_with_children_is_refused,
            stale_version_is_refused_with_conflict,
            merge_moves_everything_and_undo_moves_it_back,
            merge_with_a_stale_card_is_refused_and_writes_nothing,
            second_undo_is_refused_with_state_conflict,
            case_round_trips_with_history_and_follow_ups,
            a_deleted_case_is_hidden_kept_and_restorable,
            updates_pointing_at_missing_records_are_refused,
            duplicate_case_number_and_missing_references_are_refused,
            case_from_interaction_is_written_atomically,
            case_list_filters_follow_the_reference_semantics,
            case_list_sorts_and_pages_in_every_order,
            private_cases_are_filtered_inside_the_page,
            open_cases_of_customer_are_most_recently_updated_first,
            card_parts_equal_the_four_single_reads,
            cards_by_identity_equal_lookup_then_cards,
            task_round_trips_and_agendas_are_soonest_first,
            tasks_are_listed_by_owner_paged_and_deleted,
            due_reminders_are_claimed_exactly_once_by_concurrent_claimers,
            interaction_round_trips_and_history_is_newest_first,
            an_interaction_and_its_card_are_written_together_or_not_at_all,
            summary_follow_ups_are_written_with_their_interaction_or_not_at_all,
            case_interactions_follow_the_stored_links_newest_first,
            filtered_history_follows_the_reference_semantics,
            messages_are_written_with_their_card_and_listed_oldest_first,
            directory_records_round_trip_with_uniqueness,
            tenants_are_updated_and_listed,
            customer_with_definitions_equals_the_two_reads,
            events_are_written_with_their_writes,
            outbox_claims_lease_and_record_outcomes,
            an_external_create_waits_for_its_requests_attempt,
            connectors_are_written_with_versions_per_tenant_and_product,
            outbox_entries_are_claimed_by_one_worker_at_a_time,
            delivered_entries_are_pruned_after_their_retention,
            the_change_feed_gives_events_in_time_then_id_order,
            other_tenants_records_behave_as_absent,
            account_sequence_is_unique_and_increasing_under_concurrency,
            generated_account_numbers_go_past_numbers_written_in_their_form,
            case_numbers_are_unique_and_increasing_under_concurrency,
            failed_write_changes_nothing,
            api_tokens_are_found_by_hash_and_stored_once,
            api_tokens_are_listed_per_tenant_and_revoked,
            api_token_uses_are_recorded_once_per_period,
            idempotency_claims_tell_every_state_of_a_key,
            an_idempotency_key_is_claimed_by_exactly_one_of_concurrent_callers,
            idempotency_keys_are_pruned_after_their_retention,
            live_events_are_appended_in_order_and_read_per_agent,
            live_events_are_pruned_and_positions_never_reused,
            installation_facts_are_claimed_by_exactly_one_caller,
            custom_field_values_are_listed_and_a_used_field_is_not_deleted,
            case_field_values_mark_drafts_and_keep_a_used_field,
            a_group_in_use_is_not_deleted,
            queues_are_listed_by_name_per_tenant,
            tenants_are_listed_and_replaced,
            attachments_are_stored_listed_and_deleted_with_their_blob_use,
            a_kept_original_keeps_its_blob_in_use,
            a_blob_shared_across_tenants_stays_in_use,
            webhook_subscriptions_round_trip_with_versions,
            outbox_events_are_fanned_out_once_in_event_order,
            deliveries_are_claimed_in_aggregate_order_and_replayed,
            a_rounds_outcomes_are_recorded_together,
            sla_settings_round_trip_with_versions_and_unique_scopes,
            case_lists_filter_by_sla_condition_and_sort_by_due_next,
            sla_alarms_are_raised_once_by_racing_timers,
            case_marks_are_written_only_over_the_row_they_were_read_from,
            remark_requests_are_recorded_with_their_settings_and_replaced_once,
            mails_are_queued_claimed_and_dead_lettered,
            mails_are_claimed_by_one_worker_at_a_time,
            a_cases_last_message_ids_are_the_newest_oldest_first,
            received_mails_are_written_whole_once_per_message_id,
            mail_rule_sets_are_replaced_at_their_version,
            scripts_are_drafted_published_and_versions_kept,
            script_runs_are_written_with_their_events,
            alert_rule_sets_are_replaced_at_their_version,
            customer_activity_counts_cases_tasks_and_contacts,
            outbound_records_round_trip,
            next_contact_follows_the_rule_the_order_and_the_lease,
            concurrent_claimers_never_get_the_same_entry,
            customer_activity_counts_open_entries_of_active_lists,
            deleting_a_customer_deletes_its_call_list_entries,
            scripts_are_paged_by_name_then_id,
            script_runs_are_found_by_their_call_list_entry,
            every_write_with_events_leaves_one_chained_audit_entry,
            audit_pages_filter_by_actor_target_action_and_time,
            audit_retention_removes_a_prefix_and_the_chain_verifies_from_its_anchor,
            concurrent_writers_and_chainers_build_one_chain,
            administration_writes_leave_one_audit_entry_each,
            articles_keep_every_version_readable,
            article_shortcuts_are_unique_per_tenant,
            solutions_link_problems_of_their_tenant,
            article_lists_filter_and_page,
            responses_keep_versions_and_write_their_events,
            response_shortcuts_and_folders_are_checked,
            folders_are_unique_among_siblings_and_deleted_only_when_empty,
            response_lists_filter_and_page,
            suggestion_candidates_articles_text_and_tenant_slugs,
            passwords_are_kept_per_agent_and_found_by_address,
            sessions_are_stored_touched_and_pruned,
            organisations_round_trip_and_are_found_by_identity_and_name,
            memberships_are_set_listed_and_guard_deletion,
            leads_round_trip_and_are_listed_newest_first,
            contacts_created_in_an_interaction_are_written_with_it_or_not_at_all,
            a_lead_conversion_is_written_whole_or_not_at_all,
            other_tenants_organisations_and_leads_behave_as_absent,
            case_list_entries_round_trip_per_tenant_and_kind,
            a_case_list_entry_in_use_is_not_deleted,
            tags_category_type_and_parent_filter_the_case_list,
            case_children_are_the_live_children_by_number,
            roles_round_trip_per_tenant_with_unique_names,
            a_role_held_by_an_agent_is_not_deleted,
            a_role_deleted_while_assigned_is_never_left_named,
            mailbox_positions_round_trip_per_tenant_and_account,
            a_mailbox_position_never_moves_back_within_one_uid_validity,
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __store_conformance_tests {
    ($factory:expr; $($name:ident),+ $(,)?) => {
        $(
            #[test]
            fn $name() {
                let factory = $factory;
                $crate::conformance::block_on(async move { $crate::conformance::$name(&factory).await });
            }
        )+
    };
}

/// One test's world: a store, a fresh tenant with its people, a fixed `now`.
#[derive(Clone, Debug)]
pub struct Ctx {
    /// The store under test.
    pub store: Arc<dyn Store>,
    /// The tenant.
    pub t: SeededTenant,
    /// The instant the test's records are created at.
    pub now: DateTime<Utc>,
}

impl Ctx {
    /// A fresh tenant in the factory's store.
    ///
    /// # Panics
    /// When the store refuses the seed.
    pub async fn new(factory: &dyn StoreFactory) -> Self {
        Self::in_store(factory.store().await).await
    }

    /// A fresh tenant in `store`.
    ///
    /// # Panics
    /// When the store refuses the seed.
    pub async fn in_store(store: Arc<dyn Store>) -> Self {
        let now = crate::fakes::default_start();
        let t = SeededTenant::create(&*store, &UuidV7Generator, now).await.expect("seed a tenant");
        Self { store, t, now }
    }

    /// Another fresh tenant in the same store.
    pub async fn sibling(&self) -> Self {
        Self::in_store(self.store.clone()).await
    }

    /// The tenant's id.
    pub fn tenant(&self) -> TenantId {
        self.t.tenant.id
    }

    /// The agent acting.
    pub fn agent(&self) -> Actor {
        self.t.agent_actor()
    }

    /// A fresh id.
    pub fn id<I: From<Uuid>>(&self) -> I {
        next_id(&UuidV7Generator)
    }

    /// An event of this tenant at `now`, by the agent.
    pub fn event(&self, kind: EventKind) -> DomainEvent {
        DomainEvent {
            id: self.id(),
            tenant: self.tenant(),
            at: self.now,
            actor: Some(self.t.agent.id),
            kind,
            audit: Default::default(),
        }
    }

    /// Builds (does not store) a customer, with an account number from the store's sequence.
    ///
    /// # Panics
    /// When the input is invalid or the store fails.
    pub async fn build_customer(&self, input: NewCustomer) -> Customer {
        let seq = self.store.next_account_sequence(self.tenant()).await.expect("account sequence");
        let ctx = CustomerContext { region: Some(region_fr()), definitions: &[], now: self.now };
        input
            .build(self.id(), self.tenant(), Some(self.t.agent.id), Some(AccountNumber::generated(seq)), ctx)
            .expect("a valid customer")
    }

    /// Builds and stores a customer with a `customer_created` event.
    ///
    /// # Panics
    /// When the input is invalid or the store refuses it.
    pub async fn customer(&self, name: &str, identities: Vec<IdentityInput>) -> Customer {
        let c = self.build_customer(NewCustomer { name: name.into(), identities, ..NewCustomer::default() }).await;
        self.insert_customer(&c).await;
        c
    }

    /// Stores a built customer with a `customer_created` event.
    ///
    /// # Panics
    /// When the store refuses it.
    pub async fn insert_customer(&self, c: &Customer) {
        let events = [self.event(EventKind::CustomerCreated { customer: c.id })];
        self.store.insert_customer(c, &events).await.expect("insert customer");
    }

    /// Builds (does not store) a case of `customer` with a fresh number; `edit` adjusts the
    /// command first.
    ///
    /// # Panics
    /// When the input is invalid or the store fails.
    pub async fn build_case(&self, customer: &Customer, edit: impl FnOnce(&mut NewCase)) -> Case {
        let number = self.store.next_case_number(self.tenant()).await.expect("case number");
        let mut input = NewCase {
            customer: customer.id,
            subject: format!("Case of {}", customer.name()),
            description: None,
            draft: false,
            visibility: None,
            severity: None,
            priority: None,
            assignee: None,
            group: None,
            origin_channel: None,
            custom: Default::default(),
            tags: Vec::new(),
            category: None,
            case_type: None,
            parent: None,
        };
        edit(&mut input);
        let ctx = CaseContext { definitions: &[], region: Some(region_fr()), now: self.now };
        input.build(self.id(), number, &self.agent(), None, ctx).expect("a valid case")
    }

    /// The creation history of a case.
    pub fn creation_history(&self, case: &Case) -> Vec<CaseHistoryEntry> {
        history::diff(
            &Default::default(),
            &case.field_map(),
            case.tenant,
            case.id,
            case.version(),
            self.t.agent.id,
            self.now,
        )
    }

    /// Stores a built case with its creation history and a `case_created` event.
    ///
    /// # Panics
    /// When the store refuses it.
    pub async fn insert_case(&self, case: &Case) {
        let events = [self.event(EventKind::CaseCreated {
            case: case.id,
            number: case.number,
            customer: case.customer(),
            assignee: case.assignee(),
        })];
        self.store.insert_case(case, &self.creation_history(case), &events).await.expect("insert case");
    }

    /// Builds and stores a case.
    ///
    /// # Panics
    /// When the input is invalid or the store refuses it.
    pub async fn case(&self, customer: &Customer, edit: impl FnOnce(&mut NewCase)) -> Case {
        let case = self.build_case(customer, edit).await;
        self.insert_case(&case).await;
        case
    }

    /// Builds (does not store) a planned task of `customer`, scheduled `in_minutes` after
    /// `now`, without reminder; `edit` adjusts the command first.
    ///
    /// # Panics
    /// When the input is invalid.
    pub fn build_task(&self, customer: &Customer, in_minutes: i64, edit: impl FnOnce(&mut NewTask)) -> Task {
        let at = self.now + Duration::minutes(in_minutes);
        let mut input = NewTask {
            kind: TaskKind::Call,
            subject: format!("Call {}", customer.name()),
            notes: String::new(),
            customer: customer.id,
            case: None,
            assignee: None,
            scheduled: ScheduleInput { at: at.to_rfc3339(), time_zone: None },
            duration_minutes: None,
            reminder_minutes: None,
        };
        edit(&mut input);
        input.build(self.id(), self.tenant(), self.t.agent.id, PARIS, self.now).expect("a valid task")
    }

    /// Builds and stores a task.
    ///
    /// # Panics
    /// When the input is invalid or the store refuses it.
    pub async fn task(&self, customer: &Customer, in_minutes: i64, edit: impl FnOnce(&mut NewTask)) -> Task {
        let task = self.build_task(customer, in_minutes, edit);
        let events = [self.event(EventKind::TaskCreated { task: task.id, assignee: task.assignee() })];
        self.store.insert_task(&task, &events).await.expect("insert task");
        task
    }

    /// Builds (does not store) a relation of kind `Other` from one customer to another.
    pub fn build_relation(&self, from: &Customer, to: &Customer) -> Relation {
        Relation {
            id: self.id(),
            tenant: self.tenant(),
            from: from.id,
            to: to.id,
            kind: RelationKind::Other,
            note: None,
        }
    }

    /// Builds (does not store) an inbound voice interaction offered to the agent.
    ///
    /// # Panics
    /// When the input is invalid.
    pub fn build_interaction(&self, customer: Option<&Customer>) -> Interaction {
        NewInteraction {
            channel: Channel::Voice,
            direction: Direction::Inbound,
            customer: customer.map(|c| c.id),
            address: Some("+33123456789".into()),
            contact_name: customer.map(|c| c.name().to_owned()),
            internal_agent: None,
            agent: Some(self.t.agent.id),
            queue: Some("support".into()),
            context: Default::default(),
            transcript: Vec::new(),
        }
        .build(self.id(), self.tenant(), false, self.now)
        .expect("a valid interaction")
    }

    /// Builds and stores an interaction.
    ///
    /// # Panics
    /// When the store refuses it.
    pub async fn interaction(&self, customer: Option<&Customer>) -> Interaction {
        let i = self.build_interaction(customer);
        let events =
            [self.event(EventKind::InteractionCreated { interaction: i.id, agent: i.agent(), customer: i.customer() })];
        self.store.insert_interaction(&i, &events).await.expect("insert interaction");
        i
    }

    /// Every outbox entry of this tenant, newest first.
    ///
    /// # Panics
    /// When the store fails.
    pub async fn outbox(&self) -> Vec<OutboxEntry> {
        let mut all = Vec::new();
        let mut page = PageRequest::new(Some(200), None).expect("page");
        loop {
            let p = self.store.list_outbox(self.tenant(), None, &page).await.expect("list outbox");
            all.extend(p.items);
            match p.next {
                Some(next) => page.after = Some(next),
                None => return all,
            }
        }
    }

    /// Whether the event is in this tenant's outbox.
    pub async fn has_event(&self, id: EventId) -> bool {
        self.outbox().await.iter().any(|e| e.event.id == id)
    }
}

/// A phone identity as written.
pub fn phone(number: &str) -> IdentityInput {
    IdentityInput::Phone { number: number.into(), label: None }
}

/// An email identity as written.
pub fn email(address: &str) -> IdentityInput {
    IdentityInput::Email { address: address.into(), label: None }
}

/// A page request.
///
/// # Panics
/// When `limit` is outside 1..=200.
pub fn page(limit: u32) -> PageRequest {
    PageRequest::new(Some(limit), None).expect("a valid page size")
}

/// Asserts a stale-version conflict.
///
/// # Panics
/// When `result` is anything else.
#[track_caller]
pub fn assert_stale<T: Debug>(result: StoreResult<T>) {
    match result {
        Err(StoreError::Conflict(Conflict::StaleVersion { .. })) => {}
        other => panic!("expected Conflict(StaleVersion), got {other:?}"),
    }
}

/// Asserts a duplicate on `field`.
///
/// # Panics
/// When `result` is anything else.
#[track_caller]
pub fn assert_duplicate<T: Debug>(result: StoreResult<T>, field: &str) {
    match result {
        Err(StoreError::Conflict(Conflict::Duplicate { field: f, .. })) if f == field => {}
        other => panic!("expected Conflict(Duplicate {{ field: {field:?} }}), got {other:?}"),
    }
}

/// Asserts an invalid reference on `field`.
///
/// # Panics
/// When `result` is anything else.
#[track_caller]
pub fn assert_invalid_reference<T: Debug>(result: StoreResult<T>, field: &str) {
    match result {
        Err(StoreError::InvalidReference { field: f, .. }) if f == field => {}
        other => panic!("expected InvalidReference {{ field: {field:?} }}, got {other:?}"),
    }
}

/// Asserts `NotFound`.
///
/// # Panics
/// When `result` is anything else.
#[track_caller]
pub fn assert_not_found<T: Debug>(result: StoreResult<T>) {
    match result {
        Err(StoreError::NotFound { .. }) => {}
        other => panic!("expected NotFound, got {other:?}"),
    }
}

/// Asserts a state conflict.
///
/// # Panics
/// When `result` is anything else.
#[track_caller]
pub fn assert_state_conflict<T: Debug>(result: StoreResult<T>) {
    match result {
        Err(StoreError::Conflict(Conflict::State(_))) => {}
        other => panic!("expected Conflict(State), got {other:?}"),
    }
}
