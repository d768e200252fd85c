//! Properties: any indexed document is found by its exact title; tenant A never sees B.

use crm_core::ports::{DocumentKind, IndexChange, SearchDocument, SearchIndex, SearchQuery};
use crm_search::TantivySearchIndex;
use proptest::prelude::*;
use uuid::Uuid;

use crate::corpus::tenant;

fn title() -> impl Strategy<Value = String> {
    proptest::collection::vec("[a-zA-Zéèàçô]{2,12}", 1..5).prop_map(|w| w.join(" "))
}

fn run<T>(f: impl Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime").block_on(f)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn any_document_is_found_by_its_exact_title_and_only_in_its_tenant(
        titles in proptest::collection::vec((title(), any::<bool>()), 1..20),
        pick in any::<proptest::sample::Index>(),
    ) {
        run(async {
            let index = TantivySearchIndex::in_ram().unwrap();
            let docs: Vec<SearchDocument> = titles.iter().enumerate().map(|(n, (title, in_b))| SearchDocument {
                tenant: tenant(if *in_b { 2 } else { 1 }),
                kind: DocumentKind::Article,
                id: Uuid::from_u128(n as u128),
                title: title.clone(),
                body: String::new(),
                tags: vec![],
                language: None,
                state: None,
                identifiers: vec![],
            }).collect();
            index.apply(docs.iter().cloned().map(IndexChange::Upsert).collect(), None).await.unwrap();
            let wanted = &docs[pick.index(docs.len())];
            let hits = index.search(wanted.tenant, &SearchQuery::new(wanted.title.clone(), 100)).await.unwrap().hits;
            prop_assert!(hits.iter().any(|h| h.id == wanted.id), "{:?} not found by its title", wanted.title);
            for hit in &hits {
                let doc = docs.iter().find(|d| d.id == hit.id).unwrap();
                prop_assert_eq!(doc.tenant, wanted.tenant, "another tenant's document returned");
            }
            Ok(())
        })?;
    }
}
