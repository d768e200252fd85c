//! The port's rules on the tantivy index: tenants, filters, pages, bad input, removal, and
//! the feed position kept with the documents across a restart.

use crm_core::ports::{
    DocumentKind, IndexChange, MAX_QUERY_BYTES, SearchDocument, SearchError, SearchFilter, SearchIndex, SearchQuery,
};
use crm_search::TantivySearchIndex;
use uuid::Uuid;

use crate::corpus::{corpus_index, tenant};

fn article(t: crm_core::ids::TenantId, n: u128, title: &str) -> SearchDocument {
    SearchDocument {
        tenant: t,
        kind: DocumentKind::Article,
        id: Uuid::from_u128(n),
        title: title.into(),
        body: format!("{title} body"),
        tags: vec![],
        language: Some("en".into()),
        state: Some("published".into()),
        identifiers: vec![],
    }
}

#[tokio::test]
async fn a_tenant_never_reads_another_tenants_documents() {
    let (a, b) = (tenant(1), tenant(2));
    let (index, queries) = corpus_index(a).await;
    // Tenant B's secret shares words with every query of A.
    let mut secret = article(b, 999, "password refund parcel Dupont");
    secret.identifiers = vec!["jean.dupont@example.fr".into(), "+33612345678".into()];
    index.upsert(&secret).await.unwrap();
    for (q, _) in &queries {
        let hits = index.search(a, &SearchQuery::new(q.clone(), 100)).await.unwrap().hits;
        assert!(hits.iter().all(|h| h.id.as_u128() != 999), "{q:?} leaked tenant B's document");
    }
    let hits = index.search(b, &SearchQuery::new("password", 100)).await.unwrap().hits;
    assert_eq!(hits.iter().map(|h| h.id.as_u128()).collect::<Vec<_>>(), [999], "B sees only its own");
    assert!(index.search(tenant(3), &SearchQuery::new("password", 10)).await.unwrap().hits.is_empty());
}

#[tokio::test]
async fn filters_on_kind_tags_language_and_state_are_required() {
    let t = tenant(1);
    let (index, _) = corpus_index(t).await;
    let ids = |q: SearchQuery| {
        let index = index.clone();
        async move { index.search(t, &q).await.unwrap().hits.iter().map(|h| h.id.as_u128()).collect::<Vec<_>>() }
    };
    let with = |filter: SearchFilter| SearchQuery { filter, ..SearchQuery::new("password passe", 10) };
    let fr = ids(with(SearchFilter { language: Some("fr-FR".into()), ..SearchFilter::default() })).await;
    assert_eq!(fr, [2]);
    let tagged = ids(SearchQuery {
        filter: SearchFilter { tags: vec!["billing".into(), "payment".into()], ..SearchFilter::default() },
        ..SearchQuery::new("card carte refund", 10)
    })
    .await;
    assert_eq!(tagged.len(), 2, "both tags required: {tagged:?}");
    assert!(tagged.iter().all(|n| [17, 18].contains(n)));
    let drafts = ids(with(SearchFilter { states: vec!["draft".into()], ..SearchFilter::default() })).await;
    assert!(drafts.is_empty());
    let customers = ids(SearchQuery::new("example", 10).kinds(&[DocumentKind::Customer])).await;
    assert!(!customers.is_empty() && customers.iter().all(|n| *n > 100), "{customers:?}");
}

#[tokio::test]
async fn pages_follow_offsets_without_a_cap() {
    let t = tenant(1);
    let index = TantivySearchIndex::in_ram().unwrap();
    let docs: Vec<IndexChange> = (0..250).map(|n| IndexChange::Upsert(article(t, n, &format!("Martin {n}")))).collect();
    index.apply(docs, None).await.unwrap();
    let mut seen = std::collections::BTreeSet::new();
    let mut query = SearchQuery::new("martin", 100);
    loop {
        let page = index.search(t, &query).await.unwrap();
        for hit in &page.hits {
            assert!(seen.insert(hit.id), "no hit twice");
        }
        match page.next_offset {
            Some(next) => query.offset = next,
            None => break,
        }
    }
    assert_eq!(seen.len(), 250);
}

#[tokio::test]
async fn bad_queries_are_query_errors_not_failures() {
    let t = tenant(1);
    let (index, _) = corpus_index(t).await;
    for q in ["", "   ", "!", "*:*", "\"", "a"] {
        assert!(matches!(index.search(t, &SearchQuery::new(q, 10)).await, Err(SearchError::Query(_))), "{q:?}");
    }
    let huge = "refund ".repeat(10 * 1024 * 1024 / 7);
    assert!(matches!(index.search(t, &SearchQuery::new(huge, 10)).await, Err(SearchError::Query(_))));
    let long = "refund ".repeat(MAX_QUERY_BYTES / 8);
    assert!(index.search(t, &SearchQuery::new(long, 10)).await.is_ok(), "a long text under the limit is read");
    for q in
        ["title:refund", "refund AND (policy", "refund~2 OR \"policy", "+refund -policy [a TO z]", "refund^3 \\ /x/"]
    {
        let hits = index.search(t, &SearchQuery::new(q, 3)).await.unwrap().hits;
        assert_eq!(hits.first().map(|h| h.id.as_u128()), Some(3), "syntax characters are separators: {q:?}");
    }
}

#[tokio::test]
async fn a_short_number_matches_whole_never_as_the_start_of_every_phone() {
    let t = tenant(1);
    let (index, _) = corpus_index(t).await;
    // Two customers' numbers start with +33 (and 336): a country or area code alone is not
    // a search for them (a prefix walk over every number of the tenant).
    for q in ["+33", "336", "+33 6"] {
        let hits = index.search(t, &SearchQuery::new(q, 10)).await.unwrap().hits;
        assert!(hits.is_empty(), "{q:?} found {:?}", hits.iter().map(|h| h.id.as_u128()).collect::<Vec<_>>());
    }
    let hits = index.search(t, &SearchQuery::new("336123", 10)).await.unwrap().hits;
    assert_eq!(hits.iter().map(|h| h.id.as_u128()).collect::<Vec<_>>(), [101], "six digits are a prefix");
}

#[tokio::test]
async fn removal_and_clear_take_documents_out() {
    let t = tenant(1);
    let index = TantivySearchIndex::in_ram().unwrap();
    index.upsert(&article(t, 1, "Refund policy")).await.unwrap();
    index.upsert(&article(t, 1, "Delivery times")).await.unwrap();
    assert!(index.search(t, &SearchQuery::new("refund", 10)).await.unwrap().hits.is_empty(), "replaced");
    assert_eq!(index.search(t, &SearchQuery::new("delivery", 10)).await.unwrap().hits.len(), 1);
    index.remove(t, DocumentKind::Article, Uuid::from_u128(1)).await.unwrap();
    index.remove(t, DocumentKind::Article, Uuid::from_u128(2)).await.unwrap();
    assert!(index.search(t, &SearchQuery::new("delivery", 10)).await.unwrap().hits.is_empty());
    index.apply(vec![IndexChange::Upsert(article(t, 3, "Refund"))], Some("p1".into())).await.unwrap();
    index.apply(vec![IndexChange::Clear], None).await.unwrap();
    assert!(index.search(t, &SearchQuery::new("refund", 10)).await.unwrap().hits.is_empty());
    assert_eq!(index.position().await.unwrap(), None, "a clear forgets the position");
}

#[tokio::test]
async fn the_position_is_kept_with_the_documents_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let t = tenant(1);
    {
        let index = TantivySearchIndex::open(dir.path()).unwrap();
        assert_eq!(index.position().await.unwrap(), None, "a new index was never fed");
        index.apply(vec![IndexChange::Upsert(article(t, 1, "Refund policy"))], Some("42".into())).await.unwrap();
        index.upsert(&article(t, 2, "Delivery")).await.unwrap();
        assert_eq!(index.position().await.unwrap().as_deref(), Some("42"), "a batch without position keeps it");
    }
    let index = TantivySearchIndex::open(dir.path()).unwrap();
    assert_eq!(index.position().await.unwrap().as_deref(), Some("42"));
    assert_eq!(index.search(t, &SearchQuery::new("refund delivery", 10)).await.unwrap().hits.len(), 2);
    assert!(TantivySearchIndex::size_on_disk(dir.path()) > 0);
}
