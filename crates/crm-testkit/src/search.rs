//! [`MemorySearchIndex`]: an in-memory [`SearchIndex`] with the port's matching rules (exact,
//! prefix and phonetic words, title weighing double), for tests and demos.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use crm_core::ids::TenantId;
use crm_core::ports::{DocumentKind, SearchDocument, SearchError, SearchHit, SearchIndex};
use crm_core::text::{phonetic_codes, words};
use uuid::Uuid;

/// An in-memory full-text index.
#[derive(Debug, Default)]
pub struct MemorySearchIndex {
    docs: Mutex<BTreeMap<(TenantId, DocumentKind, Uuid), SearchDocument>>,
}

impl MemorySearchIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }
}

/// How well one document word answers one query word.
fn word_weight(query: &str, query_codes: &[String], word: &str) -> f32 {
    // Short words match only exactly: by prefix or sound they would match nearly anything.
    let long = query.chars().count();
    if word == query {
        1.0
    } else if long >= 3 && word.starts_with(query) {
        0.7
    } else if long >= 4 && word.chars().count() >= 4 && phonetic_codes(word).iter().any(|c| query_codes.contains(c)) {
        0.5
    } else {
        0.0
    }
}

fn best(query: &str, codes: &[String], text: &str) -> f32 {
    words(text).iter().map(|w| word_weight(query, codes, w)).fold(0.0, f32::max)
}

fn snippet(body: &str, query_words: &[String]) -> String {
    let lower = body.to_lowercase();
    let start = query_words.iter().filter_map(|q| lower.find(q.as_str())).min().unwrap_or(0);
    let from = body.char_indices().map(|(i, _)| i).rfind(|i| *i <= start.saturating_sub(30)).unwrap_or(0);
    body[from..].chars().take(120).collect()
}

#[async_trait]
impl SearchIndex for MemorySearchIndex {
    async fn upsert(&self, document: &SearchDocument) -> Result<(), SearchError> {
        let mut docs = self.docs.lock().map_err(|_| SearchError::Backend("index mutex poisoned".into()))?;
        docs.insert((document.tenant, document.kind, document.id), document.clone());
        Ok(())
    }

    async fn remove(&self, tenant: TenantId, kind: DocumentKind, id: Uuid) -> Result<(), SearchError> {
        let mut docs = self.docs.lock().map_err(|_| SearchError::Backend("index mutex poisoned".into()))?;
        docs.remove(&(tenant, kind, id));
        Ok(())
    }

    async fn search(
        &self,
        tenant: TenantId,
        kinds: &[DocumentKind],
        query: &str,
        limit: u32,
    ) -> Result<Vec<SearchHit>, SearchError> {
        let query_words: Vec<String> = words(query).into_iter().filter(|w| w.chars().count() >= 2).collect();
        if query_words.is_empty() {
            return Err(SearchError::Query("give at least one word of two letters or more".into()));
        }
        let codes: Vec<Vec<String>> = query_words.iter().map(|w| phonetic_codes(w)).collect();
        let docs = self.docs.lock().map_err(|_| SearchError::Backend("index mutex poisoned".into()))?;
        let mut hits: Vec<SearchHit> = docs
            .values()
            .filter(|d| d.tenant == tenant && (kinds.is_empty() || kinds.contains(&d.kind)))
            .filter_map(|d| {
                let tags = d.tags.join(" ");
                let score: f32 = query_words
                    .iter()
                    .zip(&codes)
                    .map(|(q, c)| (2.0 * best(q, c, &d.title)).max(best(q, c, &d.body)).max(best(q, c, &tags)))
                    .sum();
                (score > 0.0).then(|| SearchHit {
                    kind: d.kind,
                    id: d.id,
                    score,
                    snippet: snippet(&d.body, &query_words),
                })
            })
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.id.cmp(&b.id)));
        hits.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(hits)
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
        }
    }

    #[tokio::test]
    async fn words_match_exactly_by_prefix_and_by_sound_within_one_tenant() {
        let (t1, t2) = (TenantId::from_uuid(Uuid::from_u128(1)), TenantId::from_uuid(Uuid::from_u128(2)));
        let index = MemorySearchIndex::new();
        index.upsert(&doc(t1, 1, "Reset a password", "Open the portal and click forgot password.")).await.unwrap();
        index.upsert(&doc(t1, 2, "Delivery delays", "Parcels for M. Dupont are late this week.")).await.unwrap();
        index.upsert(&doc(t2, 3, "Reset a password", "Other tenant.")).await.unwrap();

        let hits = index.search(t1, &[], "how do I reset my passw", 10).await.unwrap();
        assert_eq!(
            hits.iter().map(|h| h.id).collect::<Vec<_>>(),
            [Uuid::from_u128(1)],
            "prefix match, own tenant only"
        );
        let hits = index.search(t1, &[], "colis de monsieur Dupond", 10).await.unwrap();
        assert_eq!(hits[0].id, Uuid::from_u128(2), "phonetic match");
        assert!(hits[0].snippet.contains("Dupont"), "{}", hits[0].snippet);
        assert!(index.search(t1, &[DocumentKind::Case], "password", 10).await.unwrap().is_empty(), "kind filter");
        assert!(matches!(index.search(t1, &[], " ! ", 10).await, Err(SearchError::Query(_))));

        index.remove(t1, DocumentKind::Article, Uuid::from_u128(1)).await.unwrap();
        assert!(index.search(t1, &[], "password", 10).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn title_matches_rank_above_body_matches() {
        let t = TenantId::from_uuid(Uuid::from_u128(1));
        let index = MemorySearchIndex::new();
        index.upsert(&doc(t, 1, "Invoices", "How to read your refund statement.")).await.unwrap();
        index.upsert(&doc(t, 2, "Refund", "Refunds take five days.")).await.unwrap();
        let hits = index.search(t, &[], "refund", 10).await.unwrap();
        assert_eq!(hits.iter().map(|h| h.id.as_u128()).collect::<Vec<_>>(), [2, 1]);
    }
}
