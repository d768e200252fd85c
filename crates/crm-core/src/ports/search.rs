//! The full-text search port (KNO-2, CUS-5): documents of a tenant indexed by words, stems,
//! sound and identifiers, queried with free text (a whole email body may be the query),
//! filtered, ranked, highlighted and paginated. The index is fed from the change feed
//! (`crate::service::search`), which records its applied position in the index itself.
//! `crm-search` is the engine (tantivy); `crm-testkit` has an in-memory index.

use std::ops::Range;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::BoxError;
use crate::ids::TenantId;

/// What kind of record a document stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

impl DocumentKind {
    /// The wire name (`article`).
    pub const fn as_str(self) -> &'static str {
        match self {
            DocumentKind::Article => "article",
            DocumentKind::StandardResponse => "standard_response",
            DocumentKind::Case => "case",
            DocumentKind::Customer => "customer",
        }
    }
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
    /// Title (weighs more than the body; a customer's name).
    pub title: String,
    /// Body text (plain text: no markup).
    pub body: String,
    /// Tags (exact words, also a filter).
    pub tags: Vec<String>,
    /// Language of the text (`fr`, `en`, `fr-CA` …): which stemmer reads it; `None` reads
    /// it as English and French both.
    pub language: Option<String>,
    /// State (`published` …), a filter.
    pub state: Option<String>,
    /// Identifiers matched whole or by prefix, ignoring case and, for digits, punctuation:
    /// emails, phone numbers, account numbers.
    pub identifiers: Vec<String>,
}

/// Which documents a query may return besides matching its text.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchFilter {
    /// Only these kinds (all when empty).
    pub kinds: Vec<DocumentKind>,
    /// Only documents carrying every one of these tags.
    pub tags: Vec<String>,
    /// Only documents in this language (its primary subtag: `fr` admits `fr-CA`).
    pub language: Option<String>,
    /// Only documents in one of these states (any when empty).
    pub states: Vec<String>,
}

/// A query.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchQuery {
    /// Free text: a few words as typed (the last one may be a prefix) or a whole email.
    pub text: String,
    /// Which documents it may return.
    pub filter: SearchFilter,
    /// Results skipped (the page's start).
    pub offset: u32,
    /// Results returned at most.
    pub limit: u32,
}

impl SearchQuery {
    /// The first `limit` results of `text` in every document.
    pub fn new(text: impl Into<String>, limit: u32) -> Self {
        Self { text: text.into(), filter: SearchFilter::default(), offset: 0, limit }
    }

    /// The same query restricted to `kinds`.
    #[must_use]
    pub fn kinds(mut self, kinds: &[DocumentKind]) -> Self {
        self.filter.kinds = kinds.to_vec();
        self
    }
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
    /// A short passage of the document around the best match (plain text).
    pub snippet: String,
    /// The matched words in `snippet`, as byte ranges, in order.
    pub highlights: Vec<Range<usize>>,
}

/// One page of results.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchResults {
    /// The hits, best first.
    pub hits: Vec<SearchHit>,
    /// The offset of the next page, when there may be one.
    pub next_offset: Option<u32>,
}

/// A change to the index.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum IndexChange {
    /// Adds or replaces the document with this tenant, kind and id.
    Upsert(SearchDocument),
    /// Removes a document (absent: nothing happens).
    Remove {
        /// Tenant.
        tenant: TenantId,
        /// Kind.
        kind: DocumentKind,
        /// Record.
        id: Uuid,
    },
    /// Removes every document (before a rebuild).
    Clear,
}

/// Why the index failed.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The query cannot be read (empty, only punctuation, too long …).
    #[error("query: {0}")]
    Query(String),
    /// The index failed.
    #[error("search index failure")]
    Backend(#[source] BoxError),
}

/// The longest query text an index accepts, in bytes (a long email fits; 10 MB does not).
pub const MAX_QUERY_BYTES: usize = 64 * 1024;

/// A tenant-partitioned full-text index.
///
/// Matching rules every index follows: a query word matches a document word exactly (after
/// lower-casing and accent folding), by stem (English and French), as its prefix (3
/// letters or more), with typos (edit distance 1 for words of 4 to 7 letters, 2 from 8), or
/// by sound (Double Metaphone, 4 letters or more, in titles); an identifier matches whole
/// or by prefix. Documents matching more query words, and in their title, rank higher. A
/// long query (a whole email) is reduced to its key terms.
#[async_trait]
pub trait SearchIndex: Send + Sync + std::fmt::Debug {
    /// Applies `changes` in order and, when given, records `position` as the change feed's
    /// last applied position, together: after a crash the index has both or neither.
    ///
    /// # Errors
    /// [`SearchError::Backend`] when the index cannot be written: nothing of the batch is
    /// then visible, and applying it again MUST repair the index.
    async fn apply(&self, changes: Vec<IndexChange>, position: Option<String>) -> Result<(), SearchError>;

    /// The position recorded by the last [`SearchIndex::apply`] that gave one (`None` for
    /// an index never fed, or cleared without a position).
    ///
    /// # Errors
    /// [`SearchError::Backend`].
    async fn position(&self) -> Result<Option<String>, SearchError>;

    /// The page of documents of `tenant` that `query` finds, best first.
    ///
    /// # Errors
    /// MUST return [`SearchError::Query`] for a query without a searchable word or longer
    /// than [`MAX_QUERY_BYTES`]; documents of other tenants MUST never be returned.
    async fn search(&self, tenant: TenantId, query: &SearchQuery) -> Result<SearchResults, SearchError>;

    /// Adds or replaces one document (its own batch, the position kept).
    ///
    /// # Errors
    /// As [`SearchIndex::apply`].
    async fn upsert(&self, document: &SearchDocument) -> Result<(), SearchError> {
        self.apply(vec![IndexChange::Upsert(document.clone())], None).await
    }

    /// Removes one document; removing an absent one is not an error.
    ///
    /// # Errors
    /// As [`SearchIndex::apply`].
    async fn remove(&self, tenant: TenantId, kind: DocumentKind, id: Uuid) -> Result<(), SearchError> {
        self.apply(vec![IndexChange::Remove { tenant, kind, id }], None).await
    }
}

/// Checks a query's text as every index does: not longer than [`MAX_QUERY_BYTES`].
///
/// # Errors
/// [`SearchError::Query`] naming the limit.
pub fn check_query_length(text: &str) -> Result<(), SearchError> {
    if text.len() > MAX_QUERY_BYTES {
        return Err(SearchError::Query(format!("longer than {MAX_QUERY_BYTES} bytes")));
    }
    Ok(())
}
