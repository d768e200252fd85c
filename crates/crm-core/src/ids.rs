//! Newtype identifiers. Every id is a UUID (v7 from the system generator, so ids sort by
//! creation time); the newtypes keep a `CaseId` from being passed where a `CustomerId` is meant.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[doc = $doc:literal] $name:ident),+ $(,)?) => {$(
        #[doc = $doc]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// Wraps a raw UUID.
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The raw UUID.
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                crate::openapi::uuid_schema($doc.trim())
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}
    )+};
}

id_type! {
    /// A tenant: one contact center, whose data no other tenant ever sees (ADM-3).
    TenantId,
    /// An agent (a user of the CRM: agent, supervisor or administrator).
    AgentId,
    /// A group (team) of agents.
    GroupId,
    /// A customer card.
    CustomerId,
    /// A relation between two customers (CUS-7).
    RelationId,
    /// A case (CAS-1).
    CaseId,
    /// A follow-up on a case (FUP-1).
    FollowUpId,
    /// A task (TSK-1).
    TaskId,
    /// An interaction (INT-1).
    InteractionId,
    /// A note on an interaction (INT-4).
    NoteId,
    /// A message of a conversation (CUS-8).
    MessageId,
    /// A merge of two customer cards (CUS-6).
    MergeId,
    /// A domain event / outbox entry.
    EventId,
    /// A custom field definition (CUS-2).
    FieldDefinitionId,
    /// An interactive script (GUI-1); its published versions are numbered from 1.
    ScriptId,
    /// An API token (its public handle: the secret is never stored, see `crate::api_token`).
    TokenId,
    /// An attachment of a case or follow-up (CAS-6).
    AttachmentId,
    /// A webhook subscription (EXT-3).
    WebhookId,
    /// One event's delivery to one webhook subscription (EXT-3).
    DeliveryId,
    /// A run of a published script during an interaction (GUI-1).
    ScriptRunId,
    /// An outbound campaign (OUT-1).
    CampaignId,
    /// A call list of a campaign (OUT-1).
    CallListId,
    /// An entry of a call list: one customer to call (OUT-2).
    CallListEntryId,
    /// A knowledge article (KNO-1); its versions are numbered from 1.
    ArticleId,
    /// A standard response (KNO-4); its versions are numbered from 1.
    ResponseId,
    /// A shared folder of standard responses (KNO-4).
    ResponseFolderId,
    /// An organisation (company, account) customers may belong to (issue 27).
    OrganisationId,
    /// A lead: a prospect not yet a customer (INT-7).
    LeadId,
    /// A tenant-defined role: a named set of permissions (ADM-2).
    RoleId,
}
