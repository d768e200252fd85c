//! [`MemorySearchIndex`]: an in-memory [`SearchIndex`] with the port's matching rules (exact,
//! prefix, typo-tolerant and phonetic words, identifiers, title weighing double), filters,
//! offsets and the recorded feed position, for tests and demos. It has no stemmer: a word
//! and its plural match by prefix only.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use crm_core::ids::TenantId;
use crm_core::ports::{
    DocumentKind, IndexChange, SearchDocument, SearchError, SearchHit, SearchIndex, SearchQuery, SearchResults,
    check_query_length,
};
use crm_core::text::{phonetic_codes, words};
use uuid::Uuid;

type Docs = BTreeMap<(TenantId, DocumentKind, Uuid), SearchDocument>;

/// An in-memory full-text index.
#[derive(Debug, Default)]
pub struct MemorySearchIndex {
    state: Mutex<(Docs, Option<String>)>,
}

impl MemorySearchIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }
}

fn typos_allowed(word: &str) -> usize {
    match word.chars().count() {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    }
}

/// How well one document word answers one query word.
fn word_weight(query: &str, query_codes: &[String], word: &str, sound: bool) -> f32 {
    let long = query.chars().count();
    if word == query {
        1.0
    } else if long >= 3 && word.starts_with(query) {
        0.7
    } else if typos_allowed(query) > 0 && strsim::damerau_levenshtein(query, word) <= typos_allowed(query) {
        0.6
    } else if sound
        && long >= 4
        && word.chars().count() >= 4
        && phonetic_codes(word).iter().any(|c| query_codes.contains(c))
    {
        0.5
    } else {
        0.0
    }
}

fn best(query: &str, codes: &[String], text: &str, sound: bool) -> f32 {
    words(text).iter().map(|w| word_weight(query, codes, w, sound)).fold(0.0, f32::max)
}

fn identifier_weight(query: &str, identifiers: &[String]) -> f32 {
    let q = query.to_lowercase();
    let digits: String = q.chars().filter(char::is_ascii_digit).collect();
    let hit = identifiers.iter().any(|i| {
        let i = i.to_lowercase();
        let i_digits: String = i.chars().filter(char::is_ascii_digit).collect();
        (q.chars().count() >= 3 && i.starts_with(&q))
            || (digits.len() >= 3 && digits.len() * 2 >= q.len() && i_digits.starts_with(&digits))
    });
    if hit { 2.0 } else { 0.0 }
}

fn snippet(body: &str, query_words: &[String]) -> (String, Vec<std::ops::Range<usize>>) {
    let text: String = body.chars().take(160).collect();
    let mut highlights = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices().chain(std::iter::once((text.len(), ' '))) {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                let word = words(&text[s..i]).concat();
                if query_words.iter().any(|q| word_weight(q, &[], &word, false) > 0.0) {
                    highlights.push(s..i);
                }
                start = None;
            }
            _ => {}
        }
    }
    (text, highlights)
}

fn admitted(d: &SearchDocument, query: &SearchQuery) -> bool {
    let f = &query.filter;
    let primary = |l: &str| l.split(['-', '_']).next().unwrap_or_default().to_lowercase();
    (f.kinds.is_empty() || f.kinds.contains(&d.kind))
        && f.tags.iter().all(|t| d.tags.contains(t))
        && f.language.as_deref().is_none_or(|l| d.language.as_deref().is_some_and(|dl| primary(dl) == primary(l)))
        && (f.states.is_empty() || d.state.as_ref().is_some_and(|s| f.states.contains(s)))
}

#[async_trait]
impl SearchIndex for MemorySearchIndex {
    async fn apply(&self, changes: Vec<IndexChange>, position: Option<String>) -> Result<(), SearchError> {
        let mut state = self.state.lock().map_err(|_| SearchError::Backend("index mutex poisoned".into()))?;
        for change in changes {
            match change {
                IndexChange::Upsert(d) => {
                    state.0.insert((d.tenant, d.kind, d.id), d);
                }
                IndexChange::Remove { tenant, kind, id } => {
                    state.0.remove(&(tenant, kind, id));
                }
                IndexChange::Clear => {
                    state.0.clear();
                    state.1 = None;
                }
            }
        }
        if position.is_some() {
            state.1 = position;
        }
        Ok(())
    }

    async fn position(&self) -> Result<Option<String>, SearchError> {
        let state = self.state.lock().map_err(|_| SearchError::Backend("index mutex poisoned".into()))?;
        Ok(state.1.clone())
    }

    async fn search(&self, tenant: TenantId, query: &SearchQuery) -> Result<SearchResults, SearchError> {
        check_query_length(&query.text)?;
        let query_words: Vec<String> = words(&query.text).into_iter().filter(|w| w.chars().count() >= 2).collect();
        if query_words.is_empty() {
            return Err(SearchError::Query("give at least one word of two letters or more".into()));
        }
        let codes: Vec<Vec<String>> = query_words.iter().map(|w| phonetic_codes(w)).collect();
        let state = self.state.lock().map_err(|_| SearchError::Backend("index mutex poisoned".into()))?;
        let mut hits: Vec<SearchHit> = state
            .0
            .values()
            .filter(|d| d.tenant == tenant && admitted(d, query))
            .filter_map(|d| {
                let tags = d.tags.join(" ");
                let mut score: f32 = query_words
                    .iter()
                    .zip(&codes)
                    .map(|(q, c)| {
                        (2.0 * best(q, c, &d.title, true)).max(best(q, c, &d.body, false)).max(best(q, c, &tags, false))
                    })
                    .sum();
                score += identifier_weight(query.text.trim(), &d.identifiers);
                (score > 0.0).then(|| {
                    let (snippet, highlights) = snippet(&d.body, &query_words);
                    SearchHit { kind: d.kind, id: d.id, score, snippet, highlights }
                })
            })
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.id.cmp(&b.id)));
        let total = hits.len();
        let start = usize::try_from(query.offset).unwrap_or(usize::MAX).min(total);
        let end = start.saturating_add(usize::try_from(query.limit).unwrap_or(usize::MAX)).min(total);
        let hits: Vec<SearchHit> = hits.drain(start..end).collect();
        let next_offset = (end < total).then(|| u32::try_from(end).unwrap_or(u32::MAX));
        Ok(SearchResults { hits, next_offset })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(tenant: TenantId, n: u128, title: &str, body: &str) -> SearchDocument {
        SearchDocument {
            tenant,
            kind: DocumentKind::Article,
            id: Uuid::from_u128(n),
            title: title.into(),
            body: body.into(),
            tags: vec![],
            language: None,
            state: None,
            identifiers: vec![],
        }
    }

    async fn ids(index: &MemorySearchIndex, t: TenantId, q: SearchQuery) -> Vec<u128> {
        index.search(t, &q).await.unwrap().hits.iter().map(|h| h.id.as_u128()).collect()
    }

    #[tokio::test]
    async fn words_match_exactly_by_prefix_with_typos_and_by_sound_within_one_tenant() {
        let (t1, t2) = (TenantId::from_uuid(Uuid::from_u128(1)), TenantId::from_uuid(Uuid::from_u128(2)));
        let index = MemorySearchIndex::new();
        index.upsert(&doc(t1, 1, "Reset a password", "Open the portal and click forgot password.")).await.unwrap();
        index.upsert(&doc(t1, 2, "Jean Dupont", "Parcels are late this week.")).await.unwrap();
        index.upsert(&doc(t2, 3, "Reset a password", "Other tenant.")).await.unwrap();

        assert_eq!(ids(&index, t1, SearchQuery::new("how do I reset my passw", 10)).await, [1], "prefix, own tenant");
        assert_eq!(ids(&index, t1, SearchQuery::new("pasword", 10)).await, [1], "one typo");
        let hits = index.search(t1, &SearchQuery::new("monsieur Dupond", 10)).await.unwrap().hits;
        assert_eq!(hits[0].id, Uuid::from_u128(2), "phonetic match");
        let found = index.search(t1, &SearchQuery::new("password", 10)).await.unwrap().hits;
        let h = &found[0];
        assert_eq!(&h.snippet[h.highlights[0].clone()], "password");
        assert!(ids(&index, t1, SearchQuery::new("password", 10).kinds(&[DocumentKind::Case])).await.is_empty());
        assert!(matches!(index.search(t1, &SearchQuery::new(" ! ", 10)).await, Err(SearchError::Query(_))));

        index.remove(t1, DocumentKind::Article, Uuid::from_u128(1)).await.unwrap();
        assert!(ids(&index, t1, SearchQuery::new("password", 10)).await.is_empty());
    }

    #[tokio::test]
    async fn title_matches_rank_above_body_matches_and_pages_follow_offsets() {
        let t = TenantId::from_uuid(Uuid::from_u128(1));
        let index = MemorySearchIndex::new();
        index.upsert(&doc(t, 1, "Invoices", "How to read your refund statement.")).await.unwrap();
        index.upsert(&doc(t, 2, "Refund", "Refunds take five days.")).await.unwrap();
        assert_eq!(ids(&index, t, SearchQuery::new("refund", 10)).await, [2, 1]);
        let first = index.search(t, &SearchQuery::new("refund", 1)).await.unwrap();
        assert_eq!(first.next_offset, Some(1));
        let second = index.search(t, &SearchQuery { offset: 1, ..SearchQuery::new("refund", 1) }).await.unwrap();
        assert_eq!((second.hits[0].id.as_u128(), second.next_offset), (1, None));
    }
}
