//! Ports: the traits adapters implement. All are object-safe (`Arc<dyn …>`), `Send + Sync`,
//! and document their contract per method.

pub(crate) mod attachments;
pub(crate) mod audit;
mod blob;
pub(crate) mod case_catalogue;
pub(crate) mod connectors;
pub(crate) mod console;
pub(crate) mod contacts;
pub(crate) mod custom_fields;
mod external_crm;
pub(crate) mod guidance;
pub(crate) mod idempotency;
pub(crate) mod inbound_mail;
pub(crate) mod knowledge;
pub(crate) mod live_feed;
pub(crate) mod mail;
pub(crate) mod mailbox;
mod mailer;
pub(crate) mod meta;
pub(crate) mod outbound;
pub(crate) mod outbox;
pub(crate) mod responses;
pub(crate) mod roles;
mod search;
pub(crate) mod sla;
pub(crate) mod store;
pub(crate) mod tokens;
pub(crate) mod webhooks;

pub use crate::time::{Clock, IdGenerator};
pub use attachments::AttachmentStore;
pub use audit::AuditStore;
pub use blob::{BlobError, BlobKey, BlobStore, BlobStream, ByteStream, ImageShrinker, ShrunkImage, StoredBlob};
pub use case_catalogue::CaseCatalogueStore;
pub use connectors::{ConnectorStore, StoredConnector};
pub use console::ConsoleStore;
pub use contacts::ContactStore;
pub use custom_fields::FieldValueStore;
pub use external_crm::ExternalCrm;
pub use guidance::GuidanceStore;
pub use idempotency::IdempotencyStore;
pub use inbound_mail::InboundMailStore;
pub use knowledge::KnowledgeStore;
pub use live_feed::LiveFeedStore;
pub use mail::MailStore;
pub use mailbox::{MailboxError, MailboxPosition, MailboxSession, MailboxSource, MailboxStore};
pub use mailer::{MailError, Mailer, OutgoingMail, OutgoingPart};
pub use meta::MetaStore;
pub use outbound::OutboundStore;
pub use responses::ResponseStore;
pub use roles::RoleStore;
pub use search::{
    DocumentKind, IndexChange, MAX_QUERY_BYTES, SearchDocument, SearchError, SearchFilter, SearchHit, SearchIndex,
    SearchQuery, SearchResults, check_query_length,
};
pub use sla::SlaStore;
pub use store::{
    CardLimits, CardParts, CardStore, CardWrite, CaseStore, ContextStore, CustomerStore, DirectoryStore,
    InteractionStore, OutboxStore, Store, StoreResult, TaskOwner, TaskPosition, TaskStore,
};
pub use tokens::TokenStore;
pub use webhooks::{WebhookStore, WebhookTransport};
