//! Ports: the traits adapters implement. All are object-safe (`Arc<dyn …>`), `Send + Sync`,
//! and document their contract per method.

pub(crate) mod custom_fields;
mod external_crm;
pub(crate) mod idempotency;
pub(crate) mod knowledge;
pub(crate) mod live_feed;
mod mailer;
pub(crate) mod meta;
pub(crate) mod outbox;
mod search;
pub(crate) mod store;
pub(crate) mod tokens;

pub use crate::time::{Clock, IdGenerator};
pub use custom_fields::FieldValueStore;
pub use external_crm::ExternalCrm;
pub use idempotency::IdempotencyStore;
pub use knowledge::KnowledgeStore;
pub use live_feed::LiveFeedStore;
pub use mailer::{MailError, Mailer, OutgoingMail};
pub use meta::MetaStore;
pub use search::{DocumentKind, SearchDocument, SearchError, SearchHit, SearchIndex};
pub use store::{
    CardLimits, CardParts, CardStore, CardWrite, CaseStore, ContextStore, CustomerStore, DirectoryStore,
    InteractionStore, OutboxStore, Store, StoreResult, TaskOwner, TaskPosition, TaskStore,
};
pub use tokens::TokenStore;
