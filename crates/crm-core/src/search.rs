//! Search (KNO-2, CUS-5) as the core sees it: which records an event asks the index to
//! read again ([`targets_of`]), what an article or a customer looks like as a
//! [`SearchDocument`], the position of the change feed the index records
//! ([`FeedPosition`]), and the wire shapes of a search's answer. The engine is behind the
//! [`SearchIndex`](crate::ports::SearchIndex) port; the indexer round and the searches are
//! `Crm` methods (`service/search.rs`).

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::customer::{Customer, Identity};
use crate::event::{DomainEvent, EventKind};
use crate::ids::{ArticleId, CustomerId, EventId, TenantId};
use crate::knowledge::{Article, ArticleState};
use crate::ports::{DocumentKind, SearchDocument, SearchHit};

/// A position in the change feed (the events of every tenant, by time then id): the last
/// event the index applied. Written into the index with the documents it describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FeedPosition {
    /// When the event happened.
    pub at: DateTime<Utc>,
    /// The event.
    pub id: EventId,
}

impl FeedPosition {
    /// The position just before every event at or after `at`.
    pub fn before(at: DateTime<Utc>) -> Self {
        Self { at, id: EventId::from_uuid(Uuid::nil()) }
    }

    /// The position of `event`.
    pub fn of(event: &DomainEvent) -> Self {
        Self { at: event.at, id: event.id }
    }

    /// Reads the form [`fmt::Display`] writes (`<nanoseconds since 1970>:<event id>`);
    /// `None` for anything else (the index then rebuilds).
    pub fn parse(text: &str) -> Option<Self> {
        let (nanos, id) = text.split_once(':')?;
        let at = DateTime::from_timestamp_nanos(nanos.parse().ok()?);
        Some(Self { at, id: EventId::from_uuid(Uuid::parse_str(id).ok()?) })
    }
}

impl fmt::Display for FeedPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.at.timestamp_nanos_opt().unwrap_or(i64::MAX), self.id.as_uuid())
    }
}

/// A record the index reads again because an event says it changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    /// An article.
    Article(TenantId, ArticleId),
    /// A customer.
    Customer(TenantId, CustomerId),
    /// A standard response (KNO-4).
    Response(TenantId, crate::ids::ResponseId),
}

/// The records `event` changed that the index holds.
pub fn targets_of(event: &DomainEvent) -> Vec<Target> {
    let t = event.tenant;
    match &event.kind {
        EventKind::ArticleWritten { article, .. } => vec![Target::Article(t, *article)],
        EventKind::StandardResponseWritten { response, .. } | EventKind::StandardResponseDeleted { response } => {
            vec![Target::Response(t, *response)]
        }
        EventKind::CustomerCreated { customer }
        | EventKind::CustomerUpdated { customer, .. }
        | EventKind::CustomerDeleted { customer } => vec![Target::Customer(t, *customer)],
        EventKind::CustomersMerged { target, source, .. } | EventKind::MergeUndone { target, source, .. } => {
            vec![Target::Customer(t, *target), Target::Customer(t, *source)]
        }
        _ => Vec::new(),
    }
}

/// An article as the index reads it: its title, its body as plain text, tags, language
/// and state.
pub fn article_document(article: &Article) -> SearchDocument {
    SearchDocument {
        tenant: article.tenant,
        kind: DocumentKind::Article,
        id: article.id.as_uuid(),
        title: article.title.clone(),
        body: crate::mail::html_to_text(&article.body),
        tags: article.tags.clone(),
        language: Some(article.language.clone()),
        state: Some(article.state.as_str().to_owned()),
        identifiers: article.shortcut.iter().cloned().collect(),
    }
}

/// A standard response as the index reads it: its title, its body as plain text, tags,
/// language and shortcut code; always `published` (a response is usable as soon as it is
/// written), so one query with the `published` state finds responses and published articles.
pub fn response_document(response: &crate::knowledge::response::StandardResponse) -> SearchDocument {
    SearchDocument {
        tenant: response.tenant,
        kind: DocumentKind::StandardResponse,
        id: response.id.as_uuid(),
        title: response.title.clone(),
        body: crate::mail::html_to_text(&response.body),
        tags: response.tags.clone(),
        language: Some(response.language.clone()),
        state: Some(crate::knowledge::ArticleState::Published.as_str().to_owned()),
        identifiers: response.shortcut.iter().cloned().collect(),
    }
}

/// A customer as the index reads it: the name as title, the emails and phones as body (the
/// snippet), and its emails, phones and account number as identifiers. `None` for a
/// merged card (the index drops it: its survivor answers).
pub fn customer_document(customer: &Customer) -> Option<SearchDocument> {
    if customer.is_merged() {
        return None;
    }
    let mut identifiers = vec![customer.account_number().as_str().to_owned()];
    for identity in customer.identities() {
        match identity {
            Identity::Phone { number, .. } => identifiers.push(number.as_e164().to_owned()),
            Identity::Email { address, .. } => identifiers.push(address.as_str().to_owned()),
            Identity::Handle { handle, .. } => identifiers.push(handle.clone()),
        }
    }
    Some(SearchDocument {
        tenant: customer.tenant,
        kind: DocumentKind::Customer,
        id: customer.id.as_uuid(),
        title: customer.name().to_owned(),
        body: identifiers[1..].join(" · "),
        tags: Vec::new(),
        language: None,
        state: None,
        identifiers,
    })
}

/// The tunables of the indexer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexerSettings {
    /// How often the feed is polled when idle (a write is searchable about this long after).
    pub poll_interval: Duration,
    /// Events read per round.
    pub batch: u32,
    /// How far back before its position the indexer reads again, for the changes whose
    /// transaction committed after later ones (their events carry the earlier time).
    pub lookback: Duration,
    /// Records written per batch by a rebuild.
    pub rebuild_batch: u32,
}

impl Default for IndexerSettings {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_millis(200),
            batch: 1_000,
            lookback: Duration::from_secs(3),
            rebuild_batch: 2_000,
        }
    }
}

/// A matched word in a snippet: bytes `start..end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Highlight {
    /// First byte.
    pub start: u32,
    /// Byte after the last.
    pub end: u32,
}

/// The snippet of a hit and its highlights.
pub fn highlights_of(hit: &SearchHit) -> Vec<Highlight> {
    hit.highlights
        .iter()
        .map(|r| Highlight {
            start: u32::try_from(r.start).unwrap_or(u32::MAX),
            end: u32::try_from(r.end).unwrap_or(u32::MAX),
        })
        .collect()
}

/// An article found by a search.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ArticleHit {
    /// The article.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: ArticleId,
    /// Its title.
    pub title: String,
    /// Its language.
    pub language: String,
    /// Its state.
    pub state: ArticleState,
    /// Its tags.
    pub tags: Vec<String>,
    /// Its shortcut code.
    pub shortcut: Option<String>,
    /// Relevance (comparable within one search only).
    pub score: f32,
    /// A passage around the best match, plain text.
    pub snippet: String,
    /// The matched words in `snippet`.
    pub highlights: Vec<Highlight>,
}

/// One page of found articles.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ArticleHits {
    /// Best first.
    pub items: Vec<ArticleHit>,
    /// The cursor of the next page, when there may be one.
    pub next: Option<String>,
}

/// What an article search asks.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ArticleSearch {
    /// The text: words, or a whole email.
    pub text: String,
    /// Only articles with every one of these tags.
    pub tags: Vec<String>,
    /// Only in this language.
    pub language: Option<String>,
    /// Only in this state (editors only; others see published articles).
    pub state: Option<ArticleState>,
}

/// How far into its results a search's cursor is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SearchCursor {
    /// `s`: marks a search cursor (a list's cursor is refused).
    pub(crate) s: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_position_reads_back_what_it_writes_and_orders_by_time_then_id() {
        let at = DateTime::from_timestamp_nanos(1_765_000_000_123_456_789);
        let p = FeedPosition { at, id: EventId::from_uuid(Uuid::from_u128(7)) };
        assert_eq!(FeedPosition::parse(&p.to_string()), Some(p));
        assert_eq!(FeedPosition::parse("garbage"), None);
        assert!(FeedPosition::before(at) < p);
    }
}
