//! The full-text search port (KNO-2, CUS-5 beyond names): documents of a tenant indexed by
//! words and sound, queried with free text (a whole email body may be the query).
//! `crm-testkit` has an in-memory index; a tantivy adapter is planned.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::BoxError;
use crate::ids::TenantId;

/// What kind of record a document stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// A knowledge article (KNO-1).
    Article,
    /// A standard response (KNO-4).
    StandardResponse,
    /// A case.
    Case,
    /// A customer.
    Customer,
}

/// A document to index.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchDocument {
    /// Its tenant: a query never sees another tenant's documents.
    pub tenant: TenantId,
    /// Its kind.
    pub kind: DocumentKind,
    /// The record's id.
    pub id: Uuid,
    /// Title (weighs more than the body).
    pub title: String,
    /// Body text.
    pub body: String,
    /// Tags (exact words).
    pub tags: Vec<String>,
}

/// A ranked result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SearchHit {
    /// Kind of the record.
    pub kind: DocumentKind,
    /// The record's id.
    pub id: Uuid,
    /// Relevance; higher is better, comparable within one query only.
    pub score: f32,
    /// A short passage of the document around the best match.
    pub snippet: String,
}

/// Why the index failed.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The query cannot be read (for example empty after removing stop words).
    #[error("query: {0}")]
    Query(String),
    /// The index failed.
    #[error("search index failure")]
    Backend(#[source] BoxError),
}

/// A tenant-partitioned full-text index.
#[async_trait]
pub trait SearchIndex: Send + Sync + std::fmt::Debug {
    /// Adds or replaces the document with this tenant, kind and id.
    ///
    /// # Errors
    /// [`SearchError::Backend`] when the index cannot be written; a later upsert of the same
    /// document MUST repair it.
    async fn upsert(&self, document: &SearchDocument) -> Result<(), SearchError>;

    /// Removes a document; removing an absent one is not an error.
    ///
    /// # Errors
    /// [`SearchError::Backend`].
    async fn remove(&self, tenant: TenantId, kind: DocumentKind, id: Uuid) -> Result<(), SearchError>;

    /// The best `limit` documents of `kinds` (all kinds when empty) for `query`, best first.
    /// A query word matches a document word exactly, as its prefix (3 letters or more) or by
    /// sound (Double Metaphone, 4 letters or more), so a misspelled name still finds it;
    /// documents matching more query words, and in their title, rank higher.
    ///
    /// # Errors
    /// MUST return [`SearchError::Query`] for a query without a searchable word; documents of
    /// other tenants MUST never be returned.
    async fn search(
        &self,
        tenant: TenantId,
        kinds: &[DocumentKind],
        query: &str,
        limit: u32,
    ) -> Result<Vec<SearchHit>, SearchError>;
}
