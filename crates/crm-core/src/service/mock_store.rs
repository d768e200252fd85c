//! A `Store` for the use-case unit tests (`tests.rs`) made of one `mockall` mock per port:
//! each method forwards to its trait's mock, so a test sets expectations per port and a call
//! it did not expect panics.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::access::{Agent, Group, PrivateScope, Tenant};
use crate::case::{Case, CaseFilter, CaseHistoryEntry, CaseNumber, CaseSort};
use crate::custom_field::{FieldDefinition, FieldEntity};
use crate::customer::{
    AccountNumber, Customer, CustomerSearch, IdentityKey, MergePlan, MergeRecord, MovedRecords, Relation, UndoPlan,
};
use crate::event::{DomainEvent, OutboxEntry, OutboxStatus, Topic};
use crate::follow_up::FollowUp;
use crate::ids::{AgentId, CaseId, CustomerId, EventId, InteractionId, MergeId, RelationId, TaskId, TenantId};
use crate::ids::{ResponseFolderId, ResponseId};
use crate::interaction::{Disposition, Interaction, QueueSettings};
use crate::knowledge::response::{ResponseFilter, ResponseFolder, StandardResponse};
use crate::page::{Page, PageRequest};
use crate::ports::store::{MockCaseStore, MockCustomerStore, MockDirectoryStore, MockInteractionStore, MockTaskStore};
use crate::ports::{
    CardStore, CaseStore, CustomerStore, DirectoryStore, InteractionStore, OutboxStore, StoreResult, TaskOwner,
    TaskStore,
};
use crate::task::Task;

/// A `Store` made of one mock per trait.
#[derive(Default)]
pub(super) struct MockStore {
    pub(super) customer_store: MockCustomerStore,
    pub(super) case_store: MockCaseStore,
    pub(super) task_store: MockTaskStore,
    pub(super) interaction_store: MockInteractionStore,
    pub(super) directory_store: MockDirectoryStore,
    pub(super) outbox_store: crate::ports::outbox::MockOutboxStore,
    pub(super) token_store: crate::ports::tokens::MockTokenStore,
    pub(super) idempotency_store: crate::ports::idempotency::MockIdempotencyStore,
    pub(super) live_feed: crate::ports::live_feed::MockLiveFeedStore,
    pub(super) meta_store: crate::ports::meta::MockMetaStore,
    pub(super) field_values: crate::ports::custom_fields::MockFieldValueStore,
    pub(super) attachments: crate::ports::attachments::MockAttachmentStore,
    pub(super) webhooks: crate::ports::webhooks::MockWebhookStore,
    pub(super) sla_store: crate::ports::sla::MockSlaStore,
    pub(super) mail_store: crate::ports::mail::MockMailStore,
    pub(super) inbound_mail: crate::ports::inbound_mail::MockInboundMailStore,
    pub(super) guidance: crate::ports::guidance::MockGuidanceStore,
    pub(super) outbound: crate::ports::outbound::MockOutboundStore,
    pub(super) knowledge: crate::ports::knowledge::MockKnowledgeStore,
    pub(super) responses: crate::ports::responses::MockResponseStore,
    pub(super) console: crate::ports::console::MockConsoleStore,
    pub(super) contacts: crate::ports::contacts::MockContactStore,
    pub(super) case_catalogue: crate::ports::case_catalogue::MockCaseCatalogueStore,
    pub(super) roles: crate::ports::roles::MockRoleStore,
    pub(super) connectors: crate::ports::connectors::MockConnectorStore,
    pub(super) mailboxes: crate::ports::mailbox::MockMailboxStore,
}

#[async_trait]
impl crate::ports::TokenStore for MockStore {
    async fn insert_token(
        &self,
        hash: &str,
        token: &crate::api_token::TokenRecord,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        self.token_store.insert_token(hash, token, events).await
    }
    async fn find_token(&self, hash: &str) -> StoreResult<Option<crate::api_token::TokenRecord>> {
        self.token_store.find_token(hash).await
    }
    async fn list_tokens(&self, tenant: TenantId) -> StoreResult<Vec<crate::api_token::TokenRecord>> {
        self.token_store.list_tokens(tenant).await
    }
    async fn revoke_token(
        &self,
        tenant: TenantId,
        id: crate::ids::TokenId,
        at: DateTime<Utc>,
        events: &[DomainEvent],
    ) -> StoreResult<crate::api_token::TokenRecord> {
        self.token_store.revoke_token(tenant, id, at, events).await
    }
    async fn touch_token(&self, hash: &str, at: DateTime<Utc>, not_before: DateTime<Utc>) -> StoreResult<()> {
        self.token_store.touch_token(hash, at, not_before).await
    }
}

#[async_trait]
impl crate::ports::IdempotencyStore for MockStore {
    async fn claim_idempotency(
        &self,
        key: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
        stale_before: DateTime<Utc>,
    ) -> StoreResult<crate::idempotency::IdempotencyClaim> {
        self.idempotency_store.claim_idempotency(key, fingerprint, now, stale_before).await
    }
    async fn finish_idempotency(&self, key: &str, response: &crate::idempotency::KeptResponse) -> StoreResult<()> {
        self.idempotency_store.finish_idempotency(key, response).await
    }
    async fn release_idempotency(&self, key: &str) -> StoreResult<()> {
        self.idempotency_store.release_idempotency(key).await
    }
    async fn prune_idempotency(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        self.idempotency_store.prune_idempotency(before).await
    }
}

#[async_trait]
impl crate::ports::LiveFeedStore for MockStore {
    async fn append_live(&self, events: &[crate::live::NewLiveEvent], now: DateTime<Utc>) -> StoreResult<()> {
        self.live_feed.append_live(events, now).await
    }
    async fn live_head(&self) -> StoreResult<u64> {
        self.live_feed.live_head().await
    }
    async fn live_after(&self, after: u64, limit: u32) -> StoreResult<Vec<crate::live::LiveEvent>> {
        self.live_feed.live_after(after, limit).await
    }
    async fn live_for_agent_after(
        &self,
        tenant: TenantId,
        agent: AgentId,
        after: u64,
        limit: u32,
    ) -> StoreResult<Vec<crate::live::LiveEvent>> {
        self.live_feed.live_for_agent_after(tenant, agent, after, limit).await
    }
    async fn prune_live(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        self.live_feed.prune_live(before).await
    }
}

#[async_trait]
impl crate::ports::MetaStore for MockStore {
    async fn meta(&self, key: &str) -> StoreResult<Option<String>> {
        self.meta_store.meta(key).await
    }
    async fn set_meta(&self, key: &str, value: &str) -> StoreResult<()> {
        self.meta_store.set_meta(key, value).await
    }
    async fn claim_meta(&self, key: &str, value: &str) -> StoreResult<bool> {
        self.meta_store.claim_meta(key, value).await
    }
    async fn delete_meta(&self, key: &str) -> StoreResult<()> {
        self.meta_store.delete_meta(key).await
    }
    async fn replace_meta(&self, key: &str, expected: &str, value: Option<String>) -> StoreResult<bool> {
        self.meta_store.replace_meta(key, expected, value).await
    }
}

#[async_trait]
impl crate::ports::FieldValueStore for MockStore {
    async fn field_definition(
        &self,
        tenant: TenantId,
        id: crate::ids::FieldDefinitionId,
    ) -> StoreResult<Option<FieldDefinition>> {
        self.field_values.field_definition(tenant, id).await
    }
    async fn custom_value_page(
        &self,
        tenant: TenantId,
        entity: FieldEntity,
        key: &crate::custom_field::FieldKey,
        after: Option<uuid::Uuid>,
        limit: usize,
    ) -> StoreResult<Vec<crate::custom_field::FieldUse>> {
        self.field_values.custom_value_page(tenant, entity, key, after, limit).await
    }
    async fn delete_field_definition(
        &self,
        tenant: TenantId,
        id: crate::ids::FieldDefinitionId,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        self.field_values.delete_field_definition(tenant, id, expected_version, events).await
    }
}

#[async_trait]
impl crate::ports::AttachmentStore for MockStore {
    async fn insert_attachment(&self, attachment: &crate::attachment::Attachment) -> StoreResult<()> {
        self.attachments.insert_attachment(attachment).await
    }
    async fn attachment(
        &self,
        tenant: TenantId,
        id: crate::ids::AttachmentId,
    ) -> StoreResult<Option<crate::attachment::Attachment>> {
        self.attachments.attachment(tenant, id).await
    }
    async fn attachments_of_case(
        &self,
        tenant: TenantId,
        case: CaseId,
    ) -> StoreResult<Vec<crate::attachment::Attachment>> {
        self.attachments.attachments_of_case(tenant, case).await
    }
    async fn delete_attachment(&self, tenant: TenantId, id: crate::ids::AttachmentId) -> StoreResult<bool> {
        self.attachments.delete_attachment(tenant, id).await
    }
    async fn blob_in_use(&self, key: &crate::ports::BlobKey) -> StoreResult<bool> {
        self.attachments.blob_in_use(key).await
    }
}

impl std::fmt::Debug for MockStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MockStore")
    }
}

// The screen pop's combined read: the port's default, over the mocked single reads.
impl CardStore for MockStore {}
impl crate::ports::ContextStore for MockStore {}

#[async_trait]
impl CustomerStore for MockStore {
    async fn next_account_sequence(&self, tenant: TenantId) -> StoreResult<u64> {
        self.customer_store.next_account_sequence(tenant).await
    }
    async fn insert_customer(&self, customer: &Customer, events: &[DomainEvent]) -> StoreResult<()> {
        self.customer_store.insert_customer(customer, events).await
    }
    async fn update_customer(
        &self,
        customer: &Customer,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        self.customer_store.update_customer(customer, expected_version, events).await
    }
    async fn delete_customer(
        &self,
        tenant: TenantId,
        id: CustomerId,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        self.customer_store.delete_customer(tenant, id, expected_version, events).await
    }
    async fn get_customer(&self, tenant: TenantId, id: CustomerId) -> StoreResult<Option<Customer>> {
        self.customer_store.get_customer(tenant, id).await
    }
    async fn find_by_identity(&self, tenant: TenantId, key: &IdentityKey, limit: u32) -> StoreResult<Vec<Customer>> {
        self.customer_store.find_by_identity(tenant, key, limit).await
    }
    async fn find_by_account(&self, tenant: TenantId, account: &AccountNumber) -> StoreResult<Option<Customer>> {
        self.customer_store.find_by_account(tenant, account).await
    }
    async fn search_customers(
        &self,
        tenant: TenantId,
        search: &CustomerSearch,
        page: &PageRequest,
    ) -> StoreResult<Page<Customer>> {
        self.customer_store.search_customers(tenant, search, page).await
    }
    async fn find_by_phonetic(&self, tenant: TenantId, codes: &[String], limit: u32) -> StoreResult<Vec<Customer>> {
        self.customer_store.find_by_phonetic(tenant, codes, limit).await
    }
    async fn insert_relation(&self, relation: &Relation, events: &[DomainEvent]) -> StoreResult<()> {
        self.customer_store.insert_relation(relation, events).await
    }
    async fn delete_relation(&self, tenant: TenantId, id: RelationId, events: &[DomainEvent]) -> StoreResult<()> {
        self.customer_store.delete_relation(tenant, id, events).await
    }
    async fn relations_of(&self, tenant: TenantId, customer: CustomerId) -> StoreResult<Vec<Relation>> {
        self.customer_store.relations_of(tenant, customer).await
    }
    async fn merge_customers(
        &self,
        plan: &MergePlan,
        record: &MergeRecord,
        events: &[DomainEvent],
    ) -> StoreResult<MovedRecords> {
        self.customer_store.merge_customers(plan, record, events).await
    }
    async fn get_merge(&self, tenant: TenantId, id: MergeId) -> StoreResult<Option<MergeRecord>> {
        self.customer_store.get_merge(tenant, id).await
    }
    async fn undo_merge(
        &self,
        tenant: TenantId,
        merge: MergeId,
        plan: &UndoPlan,
        by: AgentId,
        at: DateTime<Utc>,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        self.customer_store.undo_merge(tenant, merge, plan, by, at, events).await
    }
}

#[async_trait]
impl CaseStore for MockStore {
    async fn next_case_number(&self, tenant: TenantId) -> StoreResult<CaseNumber> {
        self.case_store.next_case_number(tenant).await
    }
    async fn insert_case(&self, case: &Case, history: &[CaseHistoryEntry], events: &[DomainEvent]) -> StoreResult<()> {
        self.case_store.insert_case(case, history, events).await
    }
    async fn insert_case_from_interaction(
        &self,
        case: &Case,
        history: &[CaseHistoryEntry],
        interaction: &Interaction,
        interaction_expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        self.case_store
            .insert_case_from_interaction(case, history, interaction, interaction_expected_version, events)
            .await
    }
    async fn update_case(
        &self,
        case: &Case,
        expected_version: u64,
        history: &[CaseHistoryEntry],
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        self.case_store.update_case(case, expected_version, history, events).await
    }
    async fn get_deleted_case(&self, tenant: TenantId, id: CaseId) -> StoreResult<Option<Case>> {
        self.case_store.get_deleted_case(tenant, id).await
    }
    async fn get_case(&self, tenant: TenantId, id: CaseId) -> StoreResult<Option<Case>> {
        self.case_store.get_case(tenant, id).await
    }
    async fn get_case_by_number(&self, tenant: TenantId, number: CaseNumber) -> StoreResult<Option<Case>> {
        self.case_store.get_case_by_number(tenant, number).await
    }
    async fn list_cases(
        &self,
        tenant: TenantId,
        filter: &CaseFilter,
        scope: &PrivateScope,
        sort: CaseSort,
        page: &PageRequest,
    ) -> StoreResult<Page<Case>> {
        self.case_store.list_cases(tenant, filter, scope, sort, page).await
    }
    async fn open_cases_of(
        &self,
        tenant: TenantId,
        customer: CustomerId,
        scope: &PrivateScope,
        limit: u32,
    ) -> StoreResult<Vec<Case>> {
        self.case_store.open_cases_of(tenant, customer, scope, limit).await
    }
    async fn case_history(&self, tenant: TenantId, case: CaseId) -> StoreResult<Vec<CaseHistoryEntry>> {
        self.case_store.case_history(tenant, case).await
    }
    async fn insert_follow_up(
        &self,
        follow_up: &FollowUp,
        remarks: &[crate::sla::CaseRemark],
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        self.case_store.insert_follow_up(follow_up, remarks, events).await
    }
    async fn follow_ups_of(&self, tenant: TenantId, case: CaseId) -> StoreResult<Vec<FollowUp>> {
        self.case_store.follow_ups_of(tenant, case).await
    }
}

#[async_trait]
impl TaskStore for MockStore {
    async fn insert_task(&self, task: &Task, events: &[DomainEvent]) -> StoreResult<()> {
        self.task_store.insert_task(task, events).await
    }
    async fn update_task(&self, task: &Task, expected_version: u64, events: &[DomainEvent]) -> StoreResult<()> {
        self.task_store.update_task(task, expected_version, events).await
    }
    async fn get_task(&self, tenant: TenantId, id: TaskId) -> StoreResult<Option<Task>> {
        self.task_store.get_task(tenant, id).await
    }
    async fn delete_task(
        &self,
        tenant: TenantId,
        id: TaskId,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        self.task_store.delete_task(tenant, id, expected_version, events).await
    }
    async fn tasks_of(&self, tenant: TenantId, of: TaskOwner, page: &PageRequest) -> StoreResult<Page<Task>> {
        self.task_store.tasks_of(tenant, of, page).await
    }
    async fn planned_tasks_of_agent(
        &self,
        tenant: TenantId,
        agent: AgentId,
        until: Option<DateTime<Utc>>,
        page: &PageRequest,
    ) -> StoreResult<Page<Task>> {
        self.task_store.planned_tasks_of_agent(tenant, agent, until, page).await
    }
    async fn planned_tasks_of_customer(
        &self,
        tenant: TenantId,
        customer: CustomerId,
        limit: u32,
    ) -> StoreResult<Vec<Task>> {
        self.task_store.planned_tasks_of_customer(tenant, customer, limit).await
    }
    async fn claim_due_reminders(&self, now: DateTime<Utc>, event_ids: &[EventId]) -> StoreResult<Vec<Task>> {
        self.task_store.claim_due_reminders(now, event_ids).await
    }
}

#[async_trait]
impl InteractionStore for MockStore {
    async fn insert_interaction(&self, interaction: &Interaction, events: &[DomainEvent]) -> StoreResult<()> {
        self.interaction_store.insert_interaction(interaction, events).await
    }
    async fn insert_interaction_with_card(
        &self,
        interaction: &Interaction,
        card: &crate::ports::CardWrite,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        self.interaction_store.insert_interaction_with_card(interaction, card, events).await
    }
    async fn update_interaction(
        &self,
        interaction: &Interaction,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        self.interaction_store.update_interaction(interaction, expected_version, events).await
    }
    async fn get_interaction(&self, tenant: TenantId, id: InteractionId) -> StoreResult<Option<Interaction>> {
        self.interaction_store.get_interaction(tenant, id).await
    }
    async fn interactions_of_customer(
        &self,
        tenant: TenantId,
        customer: CustomerId,
        page: &PageRequest,
    ) -> StoreResult<Page<Interaction>> {
        self.interaction_store.interactions_of_customer(tenant, customer, page).await
    }
    async fn update_interaction_with_follow_ups(
        &self,
        interaction: &Interaction,
        expected_version: u64,
        follow_ups: &[crate::follow_up::FollowUp],
        remarks: &[crate::sla::CaseRemark],
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        self.interaction_store
            .update_interaction_with_follow_ups(interaction, expected_version, follow_ups, remarks, events)
            .await
    }
    async fn interactions_of_case(
        &self,
        tenant: TenantId,
        case: CaseId,
        page: &PageRequest,
    ) -> StoreResult<Page<Interaction>> {
        self.interaction_store.interactions_of_case(tenant, case, page).await
    }
    async fn search_interactions_of_customer(
        &self,
        tenant: TenantId,
        customer: CustomerId,
        filter: &crate::interaction::InteractionFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Interaction>> {
        self.interaction_store.search_interactions_of_customer(tenant, customer, filter, page).await
    }
    async fn insert_message(
        &self,
        message: &crate::interaction::InteractionMessage,
        interaction_version: u64,
        card: Option<crate::ports::CardWrite>,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        self.interaction_store.insert_message(message, interaction_version, card, events).await
    }
    async fn messages_of(
        &self,
        tenant: TenantId,
        interaction: InteractionId,
        page: &PageRequest,
    ) -> StoreResult<Page<crate::interaction::InteractionMessage>> {
        self.interaction_store.messages_of(tenant, interaction, page).await
    }
}

#[async_trait]
impl DirectoryStore for MockStore {
    async fn insert_tenant(&self, tenant: &Tenant) -> StoreResult<()> {
        self.directory_store.insert_tenant(tenant).await
    }
    async fn get_tenant(&self, id: TenantId) -> StoreResult<Option<Tenant>> {
        self.directory_store.get_tenant(id).await
    }
    async fn list_tenants(&self) -> StoreResult<Vec<Tenant>> {
        self.directory_store.list_tenants().await
    }
    async fn update_tenant(&self, tenant: &Tenant, events: &[DomainEvent]) -> StoreResult<()> {
        self.directory_store.update_tenant(tenant, events).await
    }
    async fn tenant_by_slug(&self, slug: &str) -> StoreResult<Option<Tenant>> {
        self.directory_store.tenant_by_slug(slug).await
    }
    async fn put_agent(&self, agent: &Agent, expected_version: Option<u64>, events: &[DomainEvent]) -> StoreResult<()> {
        self.directory_store.put_agent(agent, expected_version, events).await
    }
    async fn get_agent(&self, tenant: TenantId, id: AgentId) -> StoreResult<Option<Agent>> {
        self.directory_store.get_agent(tenant, id).await
    }
    async fn list_agents(&self, tenant: TenantId) -> StoreResult<Vec<Agent>> {
        self.directory_store.list_agents(tenant).await
    }
    async fn put_group(&self, group: &Group, expected_version: Option<u64>, events: &[DomainEvent]) -> StoreResult<()> {
        self.directory_store.put_group(group, expected_version, events).await
    }
    async fn list_groups(&self, tenant: TenantId) -> StoreResult<Vec<Group>> {
        self.directory_store.list_groups(tenant).await
    }
    async fn get_group(&self, tenant: TenantId, id: crate::ids::GroupId) -> StoreResult<Option<Group>> {
        self.directory_store.get_group(tenant, id).await
    }
    async fn delete_group(
        &self,
        tenant: TenantId,
        id: crate::ids::GroupId,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        self.directory_store.delete_group(tenant, id, expected_version, events).await
    }
    async fn put_field_definition(
        &self,
        definition: &FieldDefinition,
        expected_version: Option<u64>,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        self.directory_store.put_field_definition(definition, expected_version, events).await
    }
    async fn field_definitions(&self, tenant: TenantId, entity: FieldEntity) -> StoreResult<Vec<FieldDefinition>> {
        self.directory_store.field_definitions(tenant, entity).await
    }
    async fn put_disposition(&self, disposition: &Disposition, events: &[DomainEvent]) -> StoreResult<()> {
        self.directory_store.put_disposition(disposition, events).await
    }
    async fn dispositions(&self, tenant: TenantId) -> StoreResult<Vec<Disposition>> {
        self.directory_store.dispositions(tenant).await
    }
    async fn put_queue(&self, queue: &QueueSettings, events: &[DomainEvent]) -> StoreResult<()> {
        self.directory_store.put_queue(queue, events).await
    }
    async fn get_queue(&self, tenant: TenantId, name: &str) -> StoreResult<Option<QueueSettings>> {
        self.directory_store.get_queue(tenant, name).await
    }
    async fn list_queues(&self, tenant: TenantId) -> StoreResult<Vec<QueueSettings>> {
        self.directory_store.list_queues(tenant).await
    }
}

#[async_trait]
impl OutboxStore for MockStore {
    async fn claim_outbox(
        &self,
        topic: Topic,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<OutboxEntry>> {
        self.outbox_store.claim_outbox(topic, now, lease_until, limit).await
    }
    async fn mark_delivered(&self, id: EventId) -> StoreResult<()> {
        self.outbox_store.mark_delivered(id).await
    }
    async fn events_after(&self, after: &crate::search::FeedPosition, limit: u32) -> StoreResult<Vec<DomainEvent>> {
        self.outbox_store.events_after(after, limit).await
    }

    async fn prune_delivered(&self, before: DateTime<Utc>, max: u32) -> StoreResult<u64> {
        self.outbox_store.prune_delivered(before, max).await
    }
    async fn mark_failed(&self, id: EventId, error: &str, retry_at: Option<DateTime<Utc>>) -> StoreResult<()> {
        self.outbox_store.mark_failed(id, error, retry_at).await
    }
    async fn requeue(&self, tenant: TenantId, id: EventId, now: DateTime<Utc>) -> StoreResult<()> {
        self.outbox_store.requeue(tenant, id, now).await
    }
    async fn list_outbox(
        &self,
        tenant: TenantId,
        status: Option<OutboxStatus>,
        page: &PageRequest,
    ) -> StoreResult<Page<OutboxEntry>> {
        self.outbox_store.list_outbox(tenant, status, page).await
    }
}

#[async_trait]
impl crate::ports::WebhookStore for MockStore {
    async fn insert_webhook(&self, webhook: &crate::webhook::Subscription) -> StoreResult<()> {
        self.webhooks.insert_webhook(webhook).await
    }
    async fn update_webhook(&self, webhook: &crate::webhook::Subscription, expected_version: u64) -> StoreResult<()> {
        self.webhooks.update_webhook(webhook, expected_version).await
    }
    async fn delete_webhook(&self, tenant: TenantId, id: crate::ids::WebhookId) -> StoreResult<()> {
        self.webhooks.delete_webhook(tenant, id).await
    }
    async fn get_webhook(
        &self,
        tenant: TenantId,
        id: crate::ids::WebhookId,
    ) -> StoreResult<Option<crate::webhook::Subscription>> {
        self.webhooks.get_webhook(tenant, id).await
    }
    async fn webhooks_of(&self, tenant: TenantId) -> StoreResult<Vec<crate::webhook::Subscription>> {
        self.webhooks.webhooks_of(tenant).await
    }
    async fn webhook_events_due(&self, limit: u32) -> StoreResult<Vec<DomainEvent>> {
        self.webhooks.webhook_events_due(limit).await
    }
    async fn fan_out(&self, handled: &[EventId], deliveries: &[crate::webhook::Delivery]) -> StoreResult<()> {
        self.webhooks.fan_out(handled, deliveries).await
    }
    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<(crate::webhook::Delivery, crate::webhook::Subscription)>> {
        self.webhooks.claim_deliveries(now, lease_until, limit).await
    }
    async fn record_attempts(
        &self,
        results: &[(crate::webhook::Delivery, crate::webhook::DeliveryAttempt)],
        health: &[(TenantId, crate::ids::WebhookId, crate::webhook::EndpointHealth)],
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        self.webhooks.record_attempts(results, health, events).await
    }
    async fn deliveries_of(
        &self,
        tenant: TenantId,
        webhook: crate::ids::WebhookId,
        status: Option<crate::webhook::DeliveryStatus>,
        before: Option<DateTime<Utc>>,
        limit: u32,
    ) -> StoreResult<Vec<crate::webhook::Delivery>> {
        self.webhooks.deliveries_of(tenant, webhook, status, before, limit).await
    }
    async fn get_delivery(
        &self,
        tenant: TenantId,
        id: crate::ids::DeliveryId,
    ) -> StoreResult<Option<crate::webhook::Delivery>> {
        self.webhooks.get_delivery(tenant, id).await
    }
    async fn attempts_of(
        &self,
        tenant: TenantId,
        delivery: crate::ids::DeliveryId,
    ) -> StoreResult<Vec<crate::webhook::DeliveryAttempt>> {
        self.webhooks.attempts_of(tenant, delivery).await
    }
    async fn replay_deliveries(
        &self,
        tenant: TenantId,
        webhook: crate::ids::WebhookId,
        replay: &crate::webhook::Replay,
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        self.webhooks.replay_deliveries(tenant, webhook, replay, now).await
    }
}

#[async_trait]
impl crate::ports::SlaStore for MockStore {
    async fn sla_settings(
        &self,
        tenant: TenantId,
        kind: crate::sla::SlaSettingKind,
    ) -> StoreResult<Vec<crate::sla::SlaSetting>> {
        self.sla_store.sla_settings(tenant, kind).await
    }
    async fn get_sla_setting(
        &self,
        tenant: TenantId,
        kind: crate::sla::SlaSettingKind,
        name: &str,
    ) -> StoreResult<Option<crate::sla::SlaSetting>> {
        self.sla_store.get_sla_setting(tenant, kind, name).await
    }
    async fn put_sla_setting(
        &self,
        setting: &crate::sla::SlaSetting,
        expected_version: Option<u64>,
        remark: Option<crate::sla::RemarkRequest>,
    ) -> StoreResult<()> {
        self.sla_store.put_sla_setting(setting, expected_version, remark).await
    }
    async fn delete_sla_setting(
        &self,
        tenant: TenantId,
        kind: crate::sla::SlaSettingKind,
        name: &str,
        expected_version: u64,
        remark: Option<crate::sla::RemarkRequest>,
    ) -> StoreResult<()> {
        self.sla_store.delete_sla_setting(tenant, kind, name, expected_version, remark).await
    }
    async fn remark_case(&self, remark: &crate::sla::CaseRemark) -> StoreResult<()> {
        self.sla_store.remark_case(remark).await
    }
    async fn due_sla_timers(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        limit: u32,
    ) -> StoreResult<Vec<crate::sla::SlaTimer>> {
        self.sla_store.due_sla_timers(now, limit).await
    }
    async fn fire_sla_timer(
        &self,
        timer: &crate::sla::SlaTimer,
        next: Option<chrono::DateTime<chrono::Utc>>,
        alarms: &[crate::sla::SlaAlarm],
        events: &[DomainEvent],
    ) -> StoreResult<u32> {
        self.sla_store.fire_sla_timer(timer, next, alarms, events).await
    }
}

#[async_trait]
impl crate::ports::InboundMailStore for MockStore {
    async fn receive_mail(
        &self,
        write: &crate::mail::received::InboundWrite,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        self.inbound_mail.receive_mail(write, events).await
    }
    async fn inbound_mail_by_message_id(
        &self,
        tenant: TenantId,
        message_id: &str,
    ) -> StoreResult<Option<crate::mail::received::InboundMail>> {
        self.inbound_mail.inbound_mail_by_message_id(tenant, message_id).await
    }
    async fn inbound_mail(
        &self,
        tenant: TenantId,
        id: crate::ids::FollowUpId,
    ) -> StoreResult<Option<crate::mail::received::InboundMail>> {
        self.inbound_mail.inbound_mail(tenant, id).await
    }
    async fn inbound_mails_of_case(
        &self,
        tenant: TenantId,
        case: CaseId,
    ) -> StoreResult<Vec<crate::mail::received::InboundMail>> {
        self.inbound_mail.inbound_mails_of_case(tenant, case).await
    }
    async fn case_of_mail_ids(&self, tenant: TenantId, refs: &[String]) -> StoreResult<Option<CaseId>> {
        self.inbound_mail.case_of_mail_ids(tenant, refs).await
    }
    async fn auto_replies_since(&self, tenant: TenantId, from: &str, since: DateTime<Utc>) -> StoreResult<u32> {
        self.inbound_mail.auto_replies_since(tenant, from, since).await
    }
    async fn mail_rules(&self, tenant: TenantId) -> StoreResult<Option<crate::mail::rules::MailRuleSet>> {
        self.inbound_mail.mail_rules(tenant).await
    }
    async fn put_mail_rules(
        &self,
        tenant: TenantId,
        set: &crate::mail::rules::MailRuleSet,
        expected_version: u64,
    ) -> StoreResult<()> {
        self.inbound_mail.put_mail_rules(tenant, set, expected_version).await
    }
}

#[async_trait]
impl crate::ports::MailStore for MockStore {
    async fn queue_mail(
        &self,
        follow_up: &FollowUp,
        mail: &crate::mail::CaseMail,
        remarks: &[crate::sla::CaseRemark],
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        self.mail_store.queue_mail(follow_up, mail, remarks, events).await
    }
    async fn claim_mails(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<crate::mail::CaseMail>> {
        self.mail_store.claim_mails(now, lease_until, limit).await
    }
    async fn mail_sent(&self, id: crate::ids::FollowUpId, reply: &str, at: DateTime<Utc>) -> StoreResult<()> {
        self.mail_store.mail_sent(id, reply, at).await
    }
    async fn mail_failed(
        &self,
        id: crate::ids::FollowUpId,
        reply: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> StoreResult<()> {
        self.mail_store.mail_failed(id, reply, retry_at).await
    }
    async fn requeue_mail(
        &self,
        tenant: TenantId,
        id: crate::ids::FollowUpId,
        now: DateTime<Utc>,
    ) -> StoreResult<crate::mail::CaseMail> {
        self.mail_store.requeue_mail(tenant, id, now).await
    }
    async fn mail(&self, tenant: TenantId, id: crate::ids::FollowUpId) -> StoreResult<Option<crate::mail::CaseMail>> {
        self.mail_store.mail(tenant, id).await
    }
    async fn last_message_ids(&self, tenant: TenantId, case: CaseId, max: u32) -> StoreResult<Vec<String>> {
        self.mail_store.last_message_ids(tenant, case, max).await
    }
    async fn mails_of_case(&self, tenant: TenantId, case: CaseId) -> StoreResult<Vec<crate::mail::CaseMail>> {
        self.mail_store.mails_of_case(tenant, case).await
    }
    async fn mails_in_state(
        &self,
        tenant: TenantId,
        state: crate::mail::MailState,
        limit: u32,
    ) -> StoreResult<Vec<crate::mail::CaseMail>> {
        self.mail_store.mails_in_state(tenant, state, limit).await
    }
}

#[async_trait]
impl crate::ports::GuidanceStore for MockStore {
    async fn insert_script(&self, tenant: TenantId, script: &crate::guidance::Script) -> StoreResult<()> {
        self.guidance.insert_script(tenant, script).await
    }
    async fn get_script(
        &self,
        tenant: TenantId,
        id: crate::ids::ScriptId,
    ) -> StoreResult<Option<crate::guidance::Script>> {
        self.guidance.get_script(tenant, id).await
    }
    async fn list_scripts(&self, tenant: TenantId) -> StoreResult<Vec<crate::guidance::Script>> {
        self.guidance.list_scripts(tenant).await
    }
    async fn scripts_page(
        &self,
        tenant: TenantId,
        page: &crate::page::PageRequest,
    ) -> StoreResult<crate::page::Page<crate::guidance::Script>> {
        self.guidance.scripts_page(tenant, page).await
    }
    async fn update_script(
        &self,
        tenant: TenantId,
        script: &crate::guidance::Script,
        expected_version: u64,
    ) -> StoreResult<()> {
        self.guidance.update_script(tenant, script, expected_version).await
    }
    async fn publish_script(
        &self,
        tenant: TenantId,
        script: &crate::guidance::Script,
        expected_version: u64,
        published: &crate::guidance::ScriptVersion,
    ) -> StoreResult<()> {
        self.guidance.publish_script(tenant, script, expected_version, published).await
    }
    async fn script_versions(
        &self,
        tenant: TenantId,
        id: crate::ids::ScriptId,
    ) -> StoreResult<Vec<crate::guidance::ScriptVersion>> {
        self.guidance.script_versions(tenant, id).await
    }
    async fn script_version(
        &self,
        tenant: TenantId,
        id: crate::ids::ScriptId,
        version: u32,
    ) -> StoreResult<Option<crate::guidance::ScriptVersion>> {
        self.guidance.script_version(tenant, id, version).await
    }
    async fn insert_script_run(
        &self,
        run: &crate::guidance::StoredScriptRun,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        self.guidance.insert_script_run(run, events).await
    }
    async fn update_script_run(
        &self,
        run: &crate::guidance::StoredScriptRun,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        self.guidance.update_script_run(run, expected_version, events).await
    }
    async fn get_script_run(
        &self,
        tenant: TenantId,
        id: crate::ids::ScriptRunId,
    ) -> StoreResult<Option<crate::guidance::StoredScriptRun>> {
        self.guidance.get_script_run(tenant, id).await
    }
    async fn script_runs_of(
        &self,
        tenant: TenantId,
        interaction: InteractionId,
    ) -> StoreResult<Vec<crate::guidance::StoredScriptRun>> {
        self.guidance.script_runs_of(tenant, interaction).await
    }
    async fn script_runs_of_entry(
        &self,
        tenant: TenantId,
        entry: crate::ids::CallListEntryId,
    ) -> StoreResult<Vec<crate::guidance::StoredScriptRun>> {
        self.guidance.script_runs_of_entry(tenant, entry).await
    }
    async fn alert_rules(&self, tenant: TenantId) -> StoreResult<Option<crate::guidance::AlertRuleSet>> {
        self.guidance.alert_rules(tenant).await
    }
    async fn put_alert_rules(
        &self,
        tenant: TenantId,
        set: &crate::guidance::AlertRuleSet,
        expected_version: u64,
    ) -> StoreResult<()> {
        self.guidance.put_alert_rules(tenant, set, expected_version).await
    }
    async fn customer_activity(
        &self,
        tenant: TenantId,
        customer: CustomerId,
        now: DateTime<Utc>,
    ) -> StoreResult<crate::guidance::CustomerActivity> {
        self.guidance.customer_activity(tenant, customer, now).await
    }
}

/// The audit log is not what the mocked tests are about: nothing is ever pending.
#[async_trait]
impl crate::ports::AuditStore for MockStore {
    async fn chain_audit(&self, _max: u32) -> StoreResult<u32> {
        Ok(0)
    }
    async fn audit_head(&self, _tenant: TenantId) -> StoreResult<Option<crate::audit::ChainHead>> {
        Ok(None)
    }
    async fn audit_tenants(&self) -> StoreResult<Vec<TenantId>> {
        Ok(Vec::new())
    }
    async fn audit_page(
        &self,
        _tenant: TenantId,
        _filter: &crate::audit::AuditFilter,
        _page: &crate::page::PageRequest,
    ) -> StoreResult<crate::page::Page<crate::audit::AuditRecord>> {
        Ok(crate::page::Page { items: Vec::new(), next: None })
    }
    async fn prune_audit(&self, _before: DateTime<Utc>, _max: u32) -> StoreResult<u64> {
        Ok(0)
    }
}

#[async_trait]
impl crate::ports::KnowledgeStore for MockStore {
    async fn insert_article(&self, article: &crate::knowledge::Article, events: &[DomainEvent]) -> StoreResult<()> {
        self.knowledge.insert_article(article, events).await
    }
    async fn update_article(
        &self,
        article: &crate::knowledge::Article,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        self.knowledge.update_article(article, expected_version, events).await
    }
    async fn get_article(
        &self,
        tenant: TenantId,
        id: crate::ids::ArticleId,
    ) -> StoreResult<Option<crate::knowledge::Article>> {
        self.knowledge.get_article(tenant, id).await
    }
    async fn article_version(
        &self,
        tenant: TenantId,
        id: crate::ids::ArticleId,
        version: u64,
    ) -> StoreResult<Option<crate::knowledge::Article>> {
        self.knowledge.article_version(tenant, id, version).await
    }
    async fn article_versions(
        &self,
        tenant: TenantId,
        id: crate::ids::ArticleId,
    ) -> StoreResult<Vec<crate::knowledge::Article>> {
        self.knowledge.article_versions(tenant, id).await
    }
    async fn article_by_shortcut(
        &self,
        tenant: TenantId,
        shortcut: &str,
    ) -> StoreResult<Option<crate::knowledge::Article>> {
        self.knowledge.article_by_shortcut(tenant, shortcut).await
    }
    async fn list_articles(
        &self,
        tenant: TenantId,
        filter: &crate::knowledge::ArticleFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<crate::knowledge::Article>> {
        self.knowledge.list_articles(tenant, filter, page).await
    }
    async fn solutions_of(
        &self,
        tenant: TenantId,
        problem: crate::ids::ArticleId,
    ) -> StoreResult<Vec<crate::knowledge::Article>> {
        self.knowledge.solutions_of(tenant, problem).await
    }
}

#[async_trait]
impl crate::ports::ResponseStore for MockStore {
    async fn insert_response(&self, response: &StandardResponse, events: &[DomainEvent]) -> StoreResult<()> {
        self.responses.insert_response(response, events).await
    }
    async fn update_response(
        &self,
        response: &StandardResponse,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        self.responses.update_response(response, expected_version, events).await
    }
    async fn delete_response(
        &self,
        tenant: TenantId,
        id: ResponseId,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        self.responses.delete_response(tenant, id, expected_version, events).await
    }
    async fn get_response(&self, tenant: TenantId, id: ResponseId) -> StoreResult<Option<StandardResponse>> {
        self.responses.get_response(tenant, id).await
    }
    async fn response_versions(&self, tenant: TenantId, id: ResponseId) -> StoreResult<Vec<StandardResponse>> {
        self.responses.response_versions(tenant, id).await
    }
    async fn response_by_shortcut(&self, tenant: TenantId, shortcut: &str) -> StoreResult<Option<StandardResponse>> {
        self.responses.response_by_shortcut(tenant, shortcut).await
    }
    async fn list_responses(
        &self,
        tenant: TenantId,
        filter: &ResponseFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<StandardResponse>> {
        self.responses.list_responses(tenant, filter, page).await
    }
    async fn add_favourite(&self, tenant: TenantId, agent: AgentId, response: ResponseId) -> StoreResult<()> {
        self.responses.add_favourite(tenant, agent, response).await
    }
    async fn remove_favourite(&self, tenant: TenantId, agent: AgentId, response: ResponseId) -> StoreResult<()> {
        self.responses.remove_favourite(tenant, agent, response).await
    }
    async fn count_favourites(&self, tenant: TenantId, agent: AgentId) -> StoreResult<u64> {
        self.responses.count_favourites(tenant, agent).await
    }
    async fn insert_folder(&self, folder: &ResponseFolder) -> StoreResult<()> {
        self.responses.insert_folder(folder).await
    }
    async fn update_folder(&self, folder: &ResponseFolder, expected_version: u64) -> StoreResult<()> {
        self.responses.update_folder(folder, expected_version).await
    }
    async fn delete_folder(&self, tenant: TenantId, id: ResponseFolderId) -> StoreResult<()> {
        self.responses.delete_folder(tenant, id).await
    }
    async fn get_folder(&self, tenant: TenantId, id: ResponseFolderId) -> StoreResult<Option<ResponseFolder>> {
        self.responses.get_folder(tenant, id).await
    }
    async fn list_folders(&self, tenant: TenantId) -> StoreResult<Vec<ResponseFolder>> {
        self.responses.list_folders(tenant).await
    }
    async fn suggestion_candidates(
        &self,
        tenant: TenantId,
        words: &[String],
        limit: u32,
    ) -> StoreResult<(Vec<StandardResponse>, Vec<crate::knowledge::Article>)> {
        self.responses.suggestion_candidates(tenant, words, limit).await
    }
}

#[async_trait]
impl crate::ports::ConsoleStore for MockStore {
    async fn set_password_hash(
        &self,
        tenant: TenantId,
        agent: AgentId,
        hash: &str,
        at: DateTime<Utc>,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        self.console.set_password_hash(tenant, agent, hash, at, events).await
    }
    async fn credentials_by_email(&self, email_key: &str) -> StoreResult<Vec<crate::console::Credential>> {
        self.console.credentials_by_email(email_key).await
    }
    async fn insert_session(&self, hash: &str, session: &crate::console::Session) -> StoreResult<()> {
        self.console.insert_session(hash, session).await
    }
    async fn find_session(&self, hash: &str) -> StoreResult<Option<crate::console::Session>> {
        self.console.find_session(hash).await
    }
    async fn touch_session(&self, hash: &str, at: DateTime<Utc>) -> StoreResult<()> {
        self.console.touch_session(hash, at).await
    }
    async fn delete_session(&self, hash: &str) -> StoreResult<bool> {
        self.console.delete_session(hash).await
    }
    async fn delete_agent_sessions(&self, tenant: TenantId, agent: AgentId) -> StoreResult<u64> {
        self.console.delete_agent_sessions(tenant, agent).await
    }
    async fn prune_sessions(&self, now: DateTime<Utc>, idle_before: DateTime<Utc>) -> StoreResult<u64> {
        self.console.prune_sessions(now, idle_before).await
    }
}

#[async_trait]
impl crate::ports::CaseCatalogueStore for MockStore {
    async fn put_case_list_entry(&self, entry: &crate::case::CaseListEntry) -> StoreResult<()> {
        self.case_catalogue.put_case_list_entry(entry).await
    }
    async fn case_list_entries(
        &self,
        tenant: TenantId,
        kind: Option<crate::case::CaseListKind>,
    ) -> StoreResult<Vec<crate::case::CaseListEntry>> {
        self.case_catalogue.case_list_entries(tenant, kind).await
    }
    async fn delete_case_list_entry(
        &self,
        tenant: TenantId,
        kind: crate::case::CaseListKind,
        key: &str,
    ) -> StoreResult<()> {
        self.case_catalogue.delete_case_list_entry(tenant, kind, key).await
    }
    async fn case_children(&self, tenant: TenantId, parent: CaseId) -> StoreResult<Vec<Case>> {
        self.case_catalogue.case_children(tenant, parent).await
    }
}

#[async_trait]
impl crate::ports::RoleStore for MockStore {
    async fn put_role(
        &self,
        role: &crate::access::TenantRole,
        expected_version: Option<u64>,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        self.roles.put_role(role, expected_version, events).await
    }
    async fn get_role(
        &self,
        tenant: TenantId,
        id: crate::ids::RoleId,
    ) -> StoreResult<Option<crate::access::TenantRole>> {
        self.roles.get_role(tenant, id).await
    }
    async fn list_roles(&self, tenant: TenantId) -> StoreResult<Vec<crate::access::TenantRole>> {
        self.roles.list_roles(tenant).await
    }
    async fn delete_role(
        &self,
        tenant: TenantId,
        id: crate::ids::RoleId,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        self.roles.delete_role(tenant, id, expected_version, events).await
    }
}

#[async_trait]
impl crate::ports::ConnectorStore for MockStore {
    async fn put_connector(
        &self,
        connector: &crate::ports::StoredConnector,
        expected_version: Option<u64>,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        self.connectors.put_connector(connector, expected_version, events).await
    }
    async fn delete_connector(
        &self,
        tenant: TenantId,
        system: crate::external::ExternalSystem,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        self.connectors.delete_connector(tenant, system, expected_version, events).await
    }
    async fn all_connectors(&self) -> StoreResult<Vec<crate::ports::StoredConnector>> {
        self.connectors.all_connectors().await
    }
}

#[async_trait]
impl crate::ports::MailboxStore for MockStore {
    async fn mailbox_position(
        &self,
        tenant: TenantId,
        account: &str,
    ) -> StoreResult<Option<crate::ports::MailboxPosition>> {
        self.mailboxes.mailbox_position(tenant, account).await
    }
    async fn save_mailbox_position(
        &self,
        tenant: TenantId,
        account: &str,
        position: crate::ports::MailboxPosition,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.mailboxes.save_mailbox_position(tenant, account, position, at).await
    }
}
