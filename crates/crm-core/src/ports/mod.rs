//! Ports: the traits adapters implement. All are object-safe (`Arc<dyn …>`), `Send + Sync`,
//! and document their contract per method.

mod external_crm;
mod mailer;
mod search;
pub(crate) mod store;

pub use crate::time::{Clock, IdGenerator};
pub use external_crm::ExternalCrm;
pub use mailer::{MailError, Mailer, OutgoingMail};
pub use search::{DocumentKind, SearchDocument, SearchError, SearchHit, SearchIndex};
pub use store::{
    CardLimits, CardParts, CardStore, CaseStore, ContextStore, CustomerStore, DirectoryStore, InteractionStore,
    OutboxStore, Store, StoreResult, TaskStore,
};
