//! Domain events (EXT-3). Every use case that writes returns its events to the store,
//! which writes them to the outbox in the same transaction as the change; workers deliver
//! them (live event streams, webhooks, external CRM pushes).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::case::CaseNumber;
use crate::external::ActivityPush;
use crate::ids::{
    AgentId, ArticleId, CaseId, CustomerId, EventId, FieldDefinitionId, FollowUpId, GroupId, InteractionId, LeadId,
    MergeId, MessageId, OrganisationId, RoleId, TaskId, TenantId, TokenId,
};
use crate::interaction::{Direction, InteractionState, LinkTarget};
use crate::knowledge::ArticleState;

/// Something that happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DomainEvent {
    /// Its id (also the outbox entry's id).
    pub id: EventId,
    /// The tenant.
    pub tenant: TenantId,
    /// When.
    pub at: DateTime<Utc>,
    /// Who caused it (none for system work).
    pub actor: Option<AgentId>,
    /// What.
    pub kind: EventKind,
    /// For the audit log: the request and the changed values (ADM-4). Never serialized,
    /// and no part of the event's identity.
    #[serde(skip)]
    pub audit: crate::audit::EventAudit,
}

/// What happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    /// A customer was created.
    CustomerCreated {
        /// Customer.
        customer: CustomerId,
    },
    /// A customer changed.
    CustomerUpdated {
        /// Customer.
        customer: CustomerId,
        /// Changed fields.
        fields: Vec<String>,
    },
    /// A customer was deleted.
    CustomerDeleted {
        /// Customer.
        customer: CustomerId,
    },
    /// Two cards were merged.
    CustomersMerged {
        /// Merge.
        merge: MergeId,
        /// Survivor.
        target: CustomerId,
        /// Tombstone.
        source: CustomerId,
    },
    /// A merge was undone.
    MergeUndone {
        /// Merge.
        merge: MergeId,
        /// Survivor.
        target: CustomerId,
        /// Restored card.
        source: CustomerId,
    },
    /// A case was created.
    CaseCreated {
        /// Case.
        case: CaseId,
        /// Number.
        number: CaseNumber,
        /// Customer.
        customer: CustomerId,
        /// Assignee at creation: whoever delivers the event does not read the case. Absent
        /// for an unassigned case (and in events recorded before this field existed, which
        /// the server's live feed now delivers to nobody, as an unassigned case's).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        assignee: Option<AgentId>,
    },
    /// A case changed.
    CaseUpdated {
        /// Case.
        case: CaseId,
        /// Changed fields.
        fields: Vec<String>,
    },
    /// A case was (re)assigned.
    CaseAssigned {
        /// Case.
        case: CaseId,
        /// New agent.
        assignee: Option<AgentId>,
        /// New group.
        group: Option<GroupId>,
    },
    /// A case was (softly) deleted.
    CaseDeleted {
        /// Case.
        case: CaseId,
    },
    /// A softly deleted case was restored.
    CaseRestored {
        /// Case.
        case: CaseId,
    },
    /// A case's SLA metric reached its warning share of the target (issue 33, ADR 0028);
    /// raised once per metric (per cycle, for a next response) by the SLA timer.
    SlaWarning {
        /// Case.
        case: CaseId,
        /// The metric.
        metric: crate::sla::Metric,
        /// When its warning share was reached.
        warning_at: DateTime<Utc>,
        /// Its deadline.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        due_at: Option<DateTime<Utc>>,
        /// The case's assignee when raised.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        assignee: Option<AgentId>,
        /// The case's group when raised.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        group: Option<GroupId>,
    },
    /// A case's SLA metric breached its target (issue 33, ADR 0028); raised once per metric
    /// (per cycle, for a next response) by the SLA timer.
    SlaBreached {
        /// Case.
        case: CaseId,
        /// The metric.
        metric: crate::sla::Metric,
        /// When it breached.
        breached_at: DateTime<Utc>,
        /// The case's assignee when raised.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        assignee: Option<AgentId>,
        /// The case's group when raised.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        group: Option<GroupId>,
    },
    /// A follow-up was added.
    FollowUpAdded {
        /// Case.
        case: CaseId,
        /// Follow-up.
        follow_up: FollowUpId,
    },
    /// A mail was received on a case (CAS-8): its follow-up (kind `inbound_email`) holds it.
    MailReceived {
        /// Case.
        case: CaseId,
        /// Follow-up.
        follow_up: FollowUpId,
    },
    /// A task was created.
    TaskCreated {
        /// Task.
        task: TaskId,
        /// Assignee.
        assignee: AgentId,
    },
    /// A task changed.
    TaskUpdated {
        /// Task.
        task: TaskId,
        /// Assignee.
        assignee: AgentId,
    },
    /// A task was deleted.
    TaskDeleted {
        /// Task.
        task: TaskId,
        /// Its assignee when deleted.
        assignee: AgentId,
    },
    /// A task's reminder came due (TSK-2); raised once by the reminder worker.
    TaskReminderDue {
        /// Task.
        task: TaskId,
        /// Who to remind.
        assignee: AgentId,
        /// When the task is.
        scheduled_at: DateTime<Utc>,
        /// Its subject.
        subject: String,
    },
    /// An interaction was created.
    InteractionCreated {
        /// Interaction.
        interaction: InteractionId,
        /// Offered to.
        agent: Option<AgentId>,
        /// Customer card.
        customer: Option<CustomerId>,
    },
    /// An interaction changed state.
    InteractionStateChanged {
        /// Interaction.
        interaction: InteractionId,
        /// New state.
        state: InteractionState,
        /// Agent now handling it.
        agent: Option<AgentId>,
    },
    /// A record was linked to an interaction.
    InteractionLinked {
        /// Interaction.
        interaction: InteractionId,
        /// Record.
        target: LinkTarget,
    },
    /// A record was unlinked.
    InteractionUnlinked {
        /// Interaction.
        interaction: InteractionId,
        /// Record.
        target: LinkTarget,
    },
    /// A message was added to a conversation (CUS-8): the live card's push to the agent
    /// handling it.
    MessageAdded {
        /// Interaction.
        interaction: InteractionId,
        /// Message.
        message: MessageId,
        /// From the contact (inbound) or to them (outbound).
        direction: Direction,
        /// Customer card.
        customer: Option<CustomerId>,
        /// Agent handling the conversation.
        agent: Option<AgentId>,
        /// The card's unread messages after this one.
        unread: u32,
    },
    /// An activity must be pushed to an external CRM (INT-6); delivered by the connector
    /// worker, at most once applied remotely thanks to the push's idempotency key.
    ActivityPushRequested {
        /// The push.
        push: ActivityPush,
    },
    /// A record must be created in an external CRM and linked to an interaction (INT-7);
    /// the request that asked for it tries first, the connector worker takes over after
    /// `attempt_after` (a failure, a timeout, a restart), keyed by `key` so the remote
    /// holds one record whatever the number of attempts.
    ExternalCreateRequested {
        /// The interaction to link it to.
        interaction: InteractionId,
        /// Which CRM.
        system: crate::external::ExternalSystem,
        /// The create's idempotency key ([`crate::external::ExternalCreate::key`]).
        key: String,
        /// What to create.
        request: crate::external::ExternalCreate,
        /// The worker's first attempt is not before this instant (the asking request's own
        /// attempt runs until then).
        attempt_after: DateTime<Utc>,
    },
    /// An external CRM refused a create asked for during an interaction (INT-7); the
    /// interaction lists it with the reason (an administrator can requeue its outbox entry).
    ExternalCreateRefused {
        /// The interaction.
        interaction: InteractionId,
        /// Which CRM.
        system: crate::external::ExternalSystem,
        /// The create's key.
        key: String,
        /// The remote's explanation.
        reason: String,
    },
    /// A webhook subscription was disabled by the delivery worker after failing for longer
    /// than the configured period (EXT-3).
    WebhookDisabled {
        /// The subscription.
        webhook: crate::ids::WebhookId,
        /// Since when its deliveries fail.
        failing_since: DateTime<Utc>,
    },
    /// A script run reached an end step (GUI-1), written with the run's last answer.
    ScriptRunFinished {
        /// The run.
        run: crate::ids::ScriptRunId,
        /// The interaction it ran in.
        interaction: InteractionId,
        /// The script.
        script: crate::ids::ScriptId,
        /// The version it pinned.
        version: u32,
        /// The end step reached.
        end: String,
        /// The agent who ran it.
        agent: AgentId,
    },
    /// An agent recorded the outcome of an outbound call (OUT-2).
    OutboundOutcomeRecorded {
        /// The call-list entry.
        entry: crate::ids::CallListEntryId,
        /// Its list.
        list: crate::ids::CallListId,
        /// The customer.
        customer: CustomerId,
        /// The agent who called.
        agent: AgentId,
        /// The disposition code.
        disposition: String,
        /// Whether the entry is now closed.
        closed: bool,
    },
    /// A knowledge article was written (KNO-1): created or changed, `version` being the one
    /// now stored (the search index is fed from it).
    ArticleWritten {
        /// Article.
        article: ArticleId,
        /// Its version now.
        version: u64,
        /// Its state now.
        state: ArticleState,
    },
    /// A standard response was written (KNO-4): created or changed, `version` being the one
    /// now stored (the search index is fed from it).
    StandardResponseWritten {
        /// The response.
        response: crate::ids::ResponseId,
        /// Its version now.
        version: u64,
    },
    /// A standard response was deleted (KNO-4): the search index drops it.
    StandardResponseDeleted {
        /// The response.
        response: crate::ids::ResponseId,
    },
    /// An organisation was created (issue 27).
    OrganisationCreated {
        /// Organisation.
        organisation: OrganisationId,
    },
    /// An organisation changed.
    OrganisationUpdated {
        /// Organisation.
        organisation: OrganisationId,
        /// Changed fields.
        fields: Vec<String>,
    },
    /// An organisation was deleted.
    OrganisationDeleted {
        /// Organisation.
        organisation: OrganisationId,
    },
    /// A customer joined an organisation, or left it (`organisation` none).
    CustomerOrganisationChanged {
        /// Customer.
        customer: CustomerId,
        /// The organisation it belongs to now.
        organisation: Option<OrganisationId>,
        /// The one it belonged to before.
        previous: Option<OrganisationId>,
    },
    /// A lead was created (INT-7), during `interaction` when given.
    LeadCreated {
        /// Lead.
        lead: LeadId,
        /// The interaction it was created in.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        interaction: Option<InteractionId>,
    },
    /// A lead changed (its status among the fields).
    LeadUpdated {
        /// Lead.
        lead: LeadId,
        /// Changed fields.
        fields: Vec<String>,
    },
    /// A lead became a customer.
    LeadConverted {
        /// Lead.
        lead: LeadId,
        /// The new customer.
        customer: CustomerId,
    },
    /// An agent was created (ADM-1).
    AgentCreated {
        /// Agent.
        agent: AgentId,
    },
    /// An agent changed: name, role, groups (membership), active flag or profile (ADM-1).
    AgentUpdated {
        /// Agent.
        agent: AgentId,
        /// Changed fields.
        fields: Vec<String>,
    },
    /// An agent's console password was set (issue 32); never with the password or its hash.
    AgentPasswordSet {
        /// Agent.
        agent: AgentId,
    },
    /// A group was created (ADM-1).
    GroupCreated {
        /// Group.
        group: GroupId,
    },
    /// A group changed (its name or mail addresses).
    GroupUpdated {
        /// Group.
        group: GroupId,
        /// Changed fields.
        fields: Vec<String>,
    },
    /// A group was deleted.
    GroupDeleted {
        /// Group.
        group: GroupId,
    },
    /// A tenant-defined role was written (ADM-2): created or changed, `version` being the
    /// one now stored.
    RoleWritten {
        /// Role.
        role: RoleId,
        /// Its version now.
        version: u64,
    },
    /// A tenant-defined role was deleted.
    RoleDeleted {
        /// Role.
        role: RoleId,
    },
    /// An API token was issued (ADM-3); never with its secret or hash.
    ApiTokenCreated {
        /// The token's handle.
        token: TokenId,
        /// The agent it acts as.
        agent: AgentId,
    },
    /// An API token was revoked.
    ApiTokenRevoked {
        /// The token's handle.
        token: TokenId,
    },
    /// A custom field definition was written (CUS-2): created or changed, `version` being
    /// the one now stored.
    CustomFieldWritten {
        /// The definition.
        custom_field: FieldDefinitionId,
        /// Its version now.
        version: u64,
    },
    /// A custom field definition was retired (its values stay, forms no longer show it).
    CustomFieldRetired {
        /// The definition.
        custom_field: FieldDefinitionId,
        /// Its version now.
        version: u64,
    },
    /// A custom field definition was deleted.
    CustomFieldDeleted {
        /// The definition.
        custom_field: FieldDefinitionId,
    },
    /// A disposition code was added or replaced (INT-3).
    DispositionWritten {
        /// Its code.
        code: String,
    },
    /// A queue's settings were written (INT-3).
    QueueWritten {
        /// The queue's name.
        queue: String,
    },
    /// A tenant changed (ADM-3): settings (region, time zone, slug), name or suspension.
    TenantUpdated {
        /// Tenant.
        tenant: TenantId,
        /// Changed fields.
        fields: Vec<String>,
    },
    /// The tenant's connector to an external CRM was configured or changed through the API
    /// (ADM-3, EXT-1); its secrets are in no event.
    ConnectorWritten {
        /// The product.
        system: crate::external::ExternalSystem,
        /// The connector's new version.
        version: u64,
    },
    /// The tenant's connector to an external CRM configured through the API was removed.
    ConnectorDeleted {
        /// The product.
        system: crate::external::ExternalSystem,
    },
}

/// Which worker delivers an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    /// Live streams and webhooks.
    Notification,
    /// External CRM pushes.
    ExternalPush,
}

impl Topic {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Topic::Notification => "notification",
            Topic::ExternalPush => "external_push",
        }
    }
}

impl OutboxEntry {
    /// The interaction whose activity this entry pushes to an external CRM, if it is a push.
    pub fn pushed_interaction(&self) -> Option<crate::ids::InteractionId> {
        match &self.event.kind {
            EventKind::ActivityPushRequested { push } => Some(push.interaction),
            EventKind::ExternalCreateRequested { interaction, .. } => Some(*interaction),
            _ => None,
        }
    }
}

impl EventKind {
    /// The worker that delivers it.
    pub fn topic(&self) -> Topic {
        match self {
            EventKind::ActivityPushRequested { .. } | EventKind::ExternalCreateRequested { .. } => Topic::ExternalPush,
            _ => Topic::Notification,
        }
    }

    /// When its outbox entry is first due: at once, except a create in an external CRM,
    /// which waits for the attempt of the request that asked for it.
    pub fn first_attempt_at(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            EventKind::ExternalCreateRequested { attempt_after, .. } => at.max(*attempt_after),
            _ => at,
        }
    }

    /// The wire name of the variant (`case_created`).
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::CustomerCreated { .. } => "customer_created",
            EventKind::CustomerUpdated { .. } => "customer_updated",
            EventKind::CustomerDeleted { .. } => "customer_deleted",
            EventKind::CustomersMerged { .. } => "customers_merged",
            EventKind::MergeUndone { .. } => "merge_undone",
            EventKind::CaseCreated { .. } => "case_created",
            EventKind::CaseUpdated { .. } => "case_updated",
            EventKind::CaseAssigned { .. } => "case_assigned",
            EventKind::CaseDeleted { .. } => "case_deleted",
            EventKind::CaseRestored { .. } => "case_restored",
            EventKind::SlaWarning { .. } => "sla_warning",
            EventKind::SlaBreached { .. } => "sla_breached",
            EventKind::FollowUpAdded { .. } => "follow_up_added",
            EventKind::MailReceived { .. } => "mail_received",
            EventKind::TaskCreated { .. } => "task_created",
            EventKind::TaskUpdated { .. } => "task_updated",
            EventKind::TaskDeleted { .. } => "task_deleted",
            EventKind::TaskReminderDue { .. } => "task_reminder_due",
            EventKind::InteractionCreated { .. } => "interaction_created",
            EventKind::InteractionStateChanged { .. } => "interaction_state_changed",
            EventKind::InteractionLinked { .. } => "interaction_linked",
            EventKind::InteractionUnlinked { .. } => "interaction_unlinked",
            EventKind::MessageAdded { .. } => "message_added",
            EventKind::ActivityPushRequested { .. } => "activity_push_requested",
            EventKind::ExternalCreateRequested { .. } => "external_create_requested",
            EventKind::ExternalCreateRefused { .. } => "external_create_refused",
            EventKind::WebhookDisabled { .. } => "webhook_disabled",
            EventKind::ScriptRunFinished { .. } => "script_run_finished",
            EventKind::OutboundOutcomeRecorded { .. } => "outbound_outcome_recorded",
            EventKind::ArticleWritten { .. } => "article_written",
            EventKind::StandardResponseWritten { .. } => "standard_response_written",
            EventKind::StandardResponseDeleted { .. } => "standard_response_deleted",
            EventKind::OrganisationCreated { .. } => "organisation_created",
            EventKind::OrganisationUpdated { .. } => "organisation_updated",
            EventKind::OrganisationDeleted { .. } => "organisation_deleted",
            EventKind::CustomerOrganisationChanged { .. } => "customer_organisation_changed",
            EventKind::LeadCreated { .. } => "lead_created",
            EventKind::LeadUpdated { .. } => "lead_updated",
            EventKind::LeadConverted { .. } => "lead_converted",
            EventKind::AgentCreated { .. } => "agent_created",
            EventKind::AgentUpdated { .. } => "agent_updated",
            EventKind::AgentPasswordSet { .. } => "agent_password_set",
            EventKind::GroupCreated { .. } => "group_created",
            EventKind::GroupUpdated { .. } => "group_updated",
            EventKind::GroupDeleted { .. } => "group_deleted",
            EventKind::RoleWritten { .. } => "role_written",
            EventKind::RoleDeleted { .. } => "role_deleted",
            EventKind::ApiTokenCreated { .. } => "api_token_created",
            EventKind::ApiTokenRevoked { .. } => "api_token_revoked",
            EventKind::CustomFieldWritten { .. } => "custom_field_written",
            EventKind::CustomFieldRetired { .. } => "custom_field_retired",
            EventKind::CustomFieldDeleted { .. } => "custom_field_deleted",
            EventKind::DispositionWritten { .. } => "disposition_written",
            EventKind::QueueWritten { .. } => "queue_written",
            EventKind::ConnectorWritten { .. } => "connector_written",
            EventKind::ConnectorDeleted { .. } => "connector_deleted",
            EventKind::TenantUpdated { .. } => "tenant_updated",
        }
    }
}

/// Delivery state of an outbox entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OutboxStatus {
    /// Waiting (or waiting again after a failure).
    Pending,
    /// Delivered.
    Delivered,
    /// Given up after too many failures or a permanent error; can be retried by hand.
    Dead,
}

/// An outbox entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OutboxEntry {
    /// The event.
    pub event: DomainEvent,
    /// Topic.
    pub topic: Topic,
    /// Delivery state.
    pub status: OutboxStatus,
    /// Failed attempts so far.
    pub attempts: u32,
    /// Not before this instant.
    pub next_attempt_at: DateTime<Utc>,
    /// The last failure.
    pub last_error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn created(assignee: Option<AgentId>) -> EventKind {
        EventKind::CaseCreated {
            case: CaseId::from_uuid(uuid::Uuid::now_v7()),
            number: "CS-000042".parse().unwrap(),
            customer: CustomerId::from_uuid(uuid::Uuid::now_v7()),
            assignee,
        }
    }

    /// Administration events (ADM-4) concern no agent's live stream and no search
    /// document: the live feed and the search feed skip them.
    #[test]
    fn administration_events_reach_no_live_stream_and_no_search_index() {
        let agent = AgentId::from_uuid(uuid::Uuid::now_v7());
        let kinds = [
            EventKind::AgentCreated { agent },
            EventKind::AgentUpdated { agent, fields: vec!["groups".into()] },
            EventKind::AgentPasswordSet { agent },
            EventKind::GroupCreated { group: GroupId::from_uuid(uuid::Uuid::now_v7()) },
            EventKind::RoleDeleted { role: RoleId::from_uuid(uuid::Uuid::now_v7()) },
            EventKind::ApiTokenCreated { token: TokenId::from_uuid(uuid::Uuid::now_v7()), agent },
            EventKind::CustomFieldWritten {
                custom_field: FieldDefinitionId::from_uuid(uuid::Uuid::now_v7()),
                version: 1,
            },
            EventKind::DispositionWritten { code: "sale".into() },
            EventKind::QueueWritten { queue: "support".into() },
            EventKind::TenantUpdated { tenant: TenantId::from_uuid(uuid::Uuid::now_v7()), fields: vec![] },
        ];
        for kind in kinds {
            assert_eq!(crate::live::Addressees::of(&kind), crate::live::Addressees::Agents(Vec::new()), "{kind:?}");
            let event = DomainEvent {
                id: EventId::from_uuid(uuid::Uuid::now_v7()),
                tenant: TenantId::from_uuid(uuid::Uuid::now_v7()),
                at: chrono::DateTime::from_timestamp(1_800_000_000, 0).expect("a valid instant"),
                actor: Some(agent),
                kind,
                audit: Default::default(),
            };
            assert!(crate::search::targets_of(&event).is_empty(), "{:?}", event.kind);
            assert_eq!(event.kind.topic(), Topic::Notification);
        }
    }

    #[test]
    fn case_created_carries_its_assignee_and_reads_events_recorded_without_it() {
        let agent = AgentId::from_uuid(uuid::Uuid::now_v7());
        let assigned = created(Some(agent));
        let json = serde_json::to_value(&assigned).unwrap();
        assert_eq!(json["assignee"], serde_json::json!(agent));
        assert_eq!(serde_json::from_value::<EventKind>(json.clone()).unwrap(), assigned);

        // Unassigned: the field is left out, as in events stored before it existed.
        let unassigned = serde_json::to_value(created(None)).unwrap();
        assert!(unassigned.get("assignee").is_none());
        let mut older = json;
        older.as_object_mut().unwrap().remove("assignee");
        let EventKind::CaseCreated { assignee, .. } = serde_json::from_value(older).unwrap() else {
            panic!("not a case_created event")
        };
        assert_eq!(assignee, None);
    }
}
