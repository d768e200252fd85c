//! Integration tests of the tantivy index: relevance on a bilingual corpus, the port's
//! rules (tenants, filters, pages, bad input), durability of the feed position, and
//! properties.

mod corpus;
mod indexer;
mod port;
mod properties;
