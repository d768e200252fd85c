//! The search engine (KNO-2, CUS-5): [`TantivySearchIndex`], the core's
//! [`SearchIndex`](crm_core::ports::SearchIndex) port on tantivy, on local disk beside the
//! database or in RAM for tests. Only this crate knows tantivy.
//!
//! - [`schema`]: the fields and the analysers (English and French stems, accent folding,
//!   lower case; Double Metaphone codes for names; identifiers whole);
//! - [`query`]: a query's text to a tantivy query (exact, stem, prefix, typo-tolerant and
//!   phonetic words; key terms of a long text; the tenant and the filters required);
//! - [`highlight`]: the snippet of a hit and its matched words;
//! - [`index`]: the index itself, its writer and the feed position kept in its commits.

pub mod highlight;
pub mod index;
pub mod query;
pub mod schema;

pub use index::TantivySearchIndex;
