//! Relevance: the bilingual corpus of `tests/corpus/corpus.json` (articles in English and
//! French, customers), and for each query the documents expected among its first three
//! (misspellings, stems, prefixes, phonetic names, identifiers, whole emails).

use crm_core::ids::TenantId;
use crm_core::ports::{DocumentKind, SearchDocument, SearchIndex, SearchQuery};
use crm_search::TantivySearchIndex;
use serde::Deserialize;
use uuid::Uuid;

#[derive(Deserialize)]
struct Corpus {
    documents: Vec<Doc>,
    queries: Vec<Expect>,
}

#[derive(Deserialize)]
struct Doc {
    n: u128,
    kind: String,
    #[serde(default)]
    language: Option<String>,
    title: String,
    body: String,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    identifiers: Vec<String>,
}

#[derive(Deserialize)]
struct Expect {
    q: String,
    top: Vec<u128>,
}

pub(crate) fn tenant(n: u128) -> TenantId {
    TenantId::from_uuid(Uuid::from_u128(n))
}

pub(crate) async fn corpus_index(t: TenantId) -> (TantivySearchIndex, Vec<(String, Vec<u128>)>) {
    let corpus: Corpus = serde_json::from_str(include_str!("../corpus/corpus.json")).expect("corpus");
    let index = TantivySearchIndex::in_ram().expect("index");
    for d in corpus.documents {
        let kind = if d.kind == "customer" { DocumentKind::Customer } else { DocumentKind::Article };
        let state = (kind == DocumentKind::Article).then(|| "published".to_owned());
        let document = SearchDocument {
            tenant: t,
            kind,
            id: Uuid::from_u128(d.n),
            title: d.title,
            body: d.body,
            tags: d.tags,
            language: d.language,
            state,
            identifiers: d.identifiers,
        };
        index.upsert(&document).await.expect("upsert");
    }
    (index, corpus.queries.into_iter().map(|e| (e.q, e.top)).collect())
}

#[tokio::test]
async fn every_corpus_query_finds_its_expected_documents_in_the_first_three() {
    let t = tenant(1);
    let (index, queries) = corpus_index(t).await;
    assert!(queries.len() >= 30, "at least 30 queries");
    let mut failures = Vec::new();
    for (q, expected) in &queries {
        let results = index.search(t, &SearchQuery::new(q.clone(), 3)).await.expect("search");
        let top: Vec<u128> = results.hits.iter().map(|h| h.id.as_u128()).collect();
        if !expected.iter().all(|e| top.contains(e)) {
            failures.push(format!("{q:?}: expected {expected:?} in the top 3, got {top:?}"));
        }
    }
    assert!(failures.is_empty(), "{} of {} queries failed:\n{}", failures.len(), queries.len(), failures.join("\n"));
}

#[tokio::test]
async fn hits_carry_a_snippet_with_the_matched_words_marked() {
    let t = tenant(1);
    let (index, _) = corpus_index(t).await;
    let hits =
        index.search(t, &SearchQuery::new("refunds to the original payment method", 3)).await.expect("search").hits;
    let first = &hits[0];
    assert_eq!(first.id.as_u128(), 3);
    let marked: Vec<&str> = first.highlights.iter().map(|r| &first.snippet[r.clone()]).collect();
    assert!(marked.contains(&"Refunds") && marked.contains(&"payment"), "{marked:?} in {:?}", first.snippet);

    let hits = index.search(t, &SearchQuery::new("remboursement", 1)).await.expect("search").hits;
    let marked: Vec<&str> = hits[0].highlights.iter().map(|r| &hits[0].snippet[r.clone()]).collect();
    assert_eq!(marked, ["remboursements"], "stem match marked in {:?}", hits[0].snippet);
}
