//! The indexer on the memory store and the tantivy index: a write is searchable after one
//! round, a restart resumes from the position kept in the index (nothing lost, writes made
//! while down caught up), a late commit is caught by the lookback, an index without a
//! position is rebuilt, and the searches apply visibility and tenants.

use std::sync::Arc;

use chrono::Duration;
use crm_core::customer::{CustomerQuery, IdentityInput, NewCustomer};
use crm_core::knowledge::{ArticleState, NewArticle};
use crm_core::page::PageRequest;
use crm_core::ports::{IndexChange, SearchIndex};
use crm_core::search::{ArticleSearch, IndexerSettings};
use crm_core::service::Crm;
use crm_core::time::Clock as _;
use crm_search::TantivySearchIndex;
use crm_testkit::fixtures::World;

fn crm(world: &World, index: Arc<dyn SearchIndex>) -> Crm {
    Crm::new(world.dyn_store(), world.dyn_clock(), world.dyn_ids()).with_search_index(index, IndexerSettings::default())
}

fn article(title: &str, body: &str, state: ArticleState) -> NewArticle {
    NewArticle {
        title: title.into(),
        body: format!("<p>{body}</p>"),
        tags: vec!["billing".into()],
        language: "en".into(),
        shortcut: None,
        state,
        public: false,
        solves: vec![],
    }
}

fn customer(name: &str, email: &str) -> NewCustomer {
    NewCustomer {
        name: name.into(),
        identities: vec![IdentityInput::Email { address: email.into(), label: None }],
        ..NewCustomer::default()
    }
}

fn q(text: &str) -> CustomerQuery {
    CustomerQuery { q: Some(text.into()), ..CustomerQuery::default() }
}

async fn titles(crm: &Crm, world: &World, text: &str) -> Vec<String> {
    let search = ArticleSearch { text: text.into(), ..ArticleSearch::default() };
    let hits = crm.search_articles(&world.agent, &search, &PageRequest::first()).await.expect("search");
    hits.items.into_iter().map(|h| h.title).collect()
}

async fn names(crm: &Crm, world: &World, text: &str) -> Vec<String> {
    let page = crm.search_customers(&world.agent, &q(text), &PageRequest::first()).await.expect("search");
    page.items.iter().map(|c| c.name().to_owned()).collect()
}

#[tokio::test]
async fn writes_are_searchable_after_a_round_and_visibility_holds() {
    let world = World::new().await;
    let crm = crm(&world, Arc::new(TantivySearchIndex::in_ram().unwrap()));
    crm.index_round().await.unwrap(); // the first round builds the empty index
    crm.create_article(&world.admin, article("Refund policy", "Refunds take five days.", ArticleState::Published))
        .await
        .unwrap();
    crm.create_article(&world.admin, article("Refund draft", "Not yet.", ArticleState::Draft)).await.unwrap();
    crm.create_customer(&world.admin, customer("Jean Dupont", "jean.dupont@example.fr")).await.unwrap();
    assert!(titles(&crm, &world, "refund").await.is_empty(), "not before the round");
    let report = crm.index_round().await.unwrap();
    assert!(report.done >= 3, "{report:?}");
    assert_eq!(titles(&crm, &world, "refunds").await, ["Refund policy"], "an agent sees published ones only");
    let editor = ArticleSearch { text: "refund".into(), ..ArticleSearch::default() };
    let all = crm.search_articles(&world.admin, &editor, &PageRequest::first()).await.unwrap();
    assert_eq!(all.items.len(), 2, "an editor sees drafts too");
    assert_eq!(names(&crm, &world, "Dupond").await, ["Jean Dupont"], "by sound");
    assert_eq!(names(&crm, &world, "jean.dupont@ex").await, ["Jean Dupont"], "email prefix");
    assert_eq!(crm.index_round().await.unwrap().done, 0, "nothing new");
}

#[tokio::test]
async fn a_restart_resumes_from_the_position_in_the_index_and_catches_up() {
    let dir = tempfile::tempdir().unwrap();
    let world = World::new().await;
    {
        let crm = crm(&world, Arc::new(TantivySearchIndex::open(dir.path()).unwrap()));
        crm.index_round().await.unwrap();
        crm.create_customer(&world.admin, customer("Catherine Martin", "c.martin@example.fr")).await.unwrap();
        crm.index_round().await.unwrap();
        // Written while the replica is down: no round runs.
        world.clock.advance(Duration::seconds(1));
        crm.create_customer(&world.admin, customer("John Smith", "john.smith@example.com")).await.unwrap();
    }
    let index = Arc::new(TantivySearchIndex::open(dir.path()).unwrap());
    assert!(index.position().await.unwrap().is_some(), "the position survived");
    let crm = crm(&world, index.clone());
    assert_eq!(names(&crm, &world, "Catherine").await, ["Catherine Martin"], "kept on disk");
    assert!(names(&crm, &world, "Smyth").await.is_empty());
    crm.index_round().await.unwrap();
    assert_eq!(names(&crm, &world, "Smyth").await, ["John Smith"], "caught up after the restart");
}

#[tokio::test]
async fn a_change_committed_late_with_an_earlier_time_is_caught_by_the_lookback() {
    let world = World::new().await;
    let crm = crm(&world, Arc::new(TantivySearchIndex::in_ram().unwrap()));
    crm.index_round().await.unwrap();
    world.clock.advance(Duration::seconds(10));
    crm.create_customer(&world.admin, customer("Zoé Lefèvre", "zoe@example.fr")).await.unwrap();
    crm.index_round().await.unwrap();
    // A transaction that took its time before this one, committed after.
    world.clock.set(world.clock.now() - Duration::seconds(1));
    crm.create_customer(&world.admin, customer("Stephen Schneider", "s@example.de")).await.unwrap();
    crm.index_round().await.unwrap();
    assert_eq!(names(&crm, &world, "Schneider").await, ["Stephen Schneider"]);
    assert_eq!(names(&crm, &world, "Lefevre").await, ["Zoé Lefèvre"]);
}

#[tokio::test]
async fn an_index_without_position_is_rebuilt_and_removed_records_leave_it() {
    let world = World::new().await;
    let plain = Crm::new(world.dyn_store(), world.dyn_clock(), world.dyn_ids());
    let c = plain.create_customer(&world.admin, customer("Mohammed Benali", "m.benali@example.com")).await.unwrap();
    plain
        .create_article(&world.admin, article("Payment declined", "Try another card.", ArticleState::Published))
        .await
        .unwrap();
    let index = Arc::new(TantivySearchIndex::in_ram().unwrap());
    index.apply(vec![IndexChange::Clear], None).await.unwrap();
    let crm = crm(&world, index.clone());
    let report = crm.index_round().await.unwrap();
    assert_eq!(report.done, 2, "rebuilt from the store: {report:?}");
    assert!(index.position().await.unwrap().is_some());
    assert_eq!(titles(&crm, &world, "card").await, ["Payment declined"]);
    world.clock.advance(Duration::seconds(1));
    crm.delete_customer(&world.admin, c.id, c.version()).await.unwrap();
    crm.index_round().await.unwrap();
    assert!(names(&crm, &world, "Benali").await.is_empty(), "a deleted customer leaves the index");
}

#[tokio::test]
async fn bad_queries_are_validation_errors_naming_q() {
    let world = World::new().await;
    let crm = crm(&world, Arc::new(TantivySearchIndex::in_ram().unwrap()));
    crm.index_round().await.unwrap();
    for text in [String::new(), "?!".into(), "refund ".repeat(2 * 1024 * 1024)] {
        let search = ArticleSearch { text, ..ArticleSearch::default() };
        let err = crm.search_articles(&world.agent, &search, &PageRequest::first()).await.unwrap_err();
        assert!(matches!(&err, crm_core::Error::Validation(v) if v.errors()[0].field == "q"), "{err:?}");
    }
    let err = crm.search_customers(&world.agent, &q("!!"), &PageRequest::first()).await.unwrap_err();
    assert!(matches!(&err, crm_core::Error::Validation(v) if v.errors()[0].field == "q"), "{err:?}");
}

#[tokio::test]
async fn standard_responses_are_indexed_and_suggested_by_the_engine() {
    use crm_core::interaction::{Channel, Direction, NewInteraction, NewMessage};
    use crm_core::knowledge::response::NewResponse;
    use crm_core::knowledge::suggest::SuggestionKind;

    let world = World::new().await;
    let crm = crm(&world, Arc::new(TantivySearchIndex::in_ram().unwrap()));
    crm.index_round().await.unwrap();
    let response = crm
        .create_response(
            &world.admin,
            NewResponse {
                title: "Refund of an order".into(),
                body: "<p>Hello {{customer.name}}, your refund is on its way.</p>".into(),
                tags: vec![],
                language: "en".into(),
                shortcut: None,
                folder: None,
            },
        )
        .await
        .unwrap();
    crm.create_article(&world.admin, article("Opening hours", "We open at nine.", ArticleState::Published))
        .await
        .unwrap();
    crm.index_round().await.unwrap();

    let chat = NewInteraction {
        channel: Channel::Chat,
        direction: Direction::Inbound,
        customer: None,
        address: Some("visitor@example.org".into()),
        contact_name: None,
        internal_agent: None,
        agent: Some(world.agent.agent),
        queue: None,
        context: Default::default(),
        transcript: Vec::new(),
    };
    let chat = crm.create_interaction(&world.agent, chat).await.unwrap();
    let message = NewMessage {
        direction: Direction::Inbound,
        author: None,
        body: "My parcel never arrived, I want to be refunded".into(),
        attachments: vec![],
    };
    crm.add_message(&world.agent, chat.id, message).await.unwrap();
    // "refunded" is not a word of the response: the interim scorer (exact words) finds
    // nothing, the engine finds it by its stem.
    let found = crm.suggestions(&world.agent, chat.id).await.unwrap();
    assert_eq!(
        found.first().map(|s| (s.kind, s.id)),
        Some((SuggestionKind::Response, response.id.as_uuid())),
        "{found:?}"
    );
    assert!(found.iter().all(|s| s.title != "Opening hours"), "{found:?}");

    crm.delete_response(&world.admin, response.id, response.version).await.unwrap();
    crm.index_round().await.unwrap();
    let found = crm.suggestions(&world.agent, chat.id).await.unwrap();
    assert!(found.iter().all(|s| s.id != response.id.as_uuid()), "a deleted response leaves the index: {found:?}");
}
