//! Conformance: knowledge articles (`KnowledgeStore`): versions kept readable, the unique
//! shortcut, problem links, lists, tenant isolation, events in the write's transaction.

use chrono::Duration;
use crm_core::event::EventKind;
use crm_core::ids::ArticleId;
use crm_core::knowledge::{Article, ArticleFilter, ArticlePatch, ArticleState, NewArticle};
use crm_core::page::PageRequest;

use super::{Ctx, StoreFactory, assert_duplicate, assert_invalid_reference, assert_not_found, assert_stale, page};

fn new_article(title: &str) -> NewArticle {
    NewArticle {
        title: title.into(),
        body: format!("<p>{title}</p>"),
        tags: vec!["billing".into()],
        language: "fr".into(),
        shortcut: None,
        state: ArticleState::Draft,
        public: false,
        solves: vec![],
    }
}

/// Builds an article `minutes` after the suite's now.
fn build(ctx: &Ctx, input: NewArticle, minutes: i64) -> Article {
    input.build(ctx.id(), ctx.tenant(), ctx.t.agent.id, ctx.now + Duration::minutes(minutes)).unwrap()
}

async fn insert(ctx: &Ctx, article: &Article) {
    let events = [ctx.event(EventKind::ArticleWritten { article: article.id, version: 1, state: article.state })];
    ctx.store.insert_article(article, &events).await.unwrap();
}

async fn events_of_article(ctx: &Ctx, id: ArticleId) -> Vec<u64> {
    let entries = ctx.store.list_outbox(ctx.tenant(), None, &page(200)).await.unwrap().items;
    let mut versions: Vec<u64> = entries
        .iter()
        .filter_map(|e| match e.event.kind {
            EventKind::ArticleWritten { article, version, .. } if article == id => Some(version),
            _ => None,
        })
        .collect();
    versions.sort_unstable();
    versions
}

/// An article round-trips; a change writes the next version and every earlier version
/// stays readable as written; a stale version and another tenant's article are refused
/// and write nothing; each write's event is in the outbox.
pub async fn articles_keep_every_version_readable(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let s = &ctx.store;
    let v1 = build(&ctx, NewArticle { state: ArticleState::Published, ..new_article("Refund an order") }, 0);
    insert(&ctx, &v1).await;
    assert_eq!(s.get_article(ctx.tenant(), v1.id).await.unwrap(), Some(v1.clone()));

    let patch = ArticlePatch { body: Some("<p>New steps</p>".into()), ..ArticlePatch::default() };
    let v2 = patch.apply(&v1, ctx.t.agent.id, ctx.now + Duration::minutes(5)).unwrap();
    let events = [ctx.event(EventKind::ArticleWritten { article: v1.id, version: 2, state: v2.state })];
    s.update_article(&v2, 1, &events).await.unwrap();
    assert_eq!(s.get_article(ctx.tenant(), v1.id).await.unwrap(), Some(v2.clone()));
    assert_eq!(s.article_version(ctx.tenant(), v1.id, 1).await.unwrap(), Some(v1.clone()), "the old version");
    assert_eq!(s.article_version(ctx.tenant(), v1.id, 2).await.unwrap(), Some(v2.clone()));
    assert_eq!(s.article_version(ctx.tenant(), v1.id, 3).await.unwrap(), None);
    assert_eq!(s.article_versions(ctx.tenant(), v1.id).await.unwrap(), vec![v1.clone(), v2.clone()]);

    // Stale: nothing written, not even the event.
    let v3 = ArticlePatch { title: Some("Late".into()), ..ArticlePatch::default() }
        .apply(&v1, ctx.t.agent.id, ctx.now)
        .unwrap();
    let late = [ctx.event(EventKind::ArticleWritten { article: v1.id, version: 2, state: v3.state })];
    assert_stale(s.update_article(&v3, 1, &late).await);
    assert_eq!(s.get_article(ctx.tenant(), v1.id).await.unwrap(), Some(v2.clone()));
    assert_eq!(events_of_article(&ctx, v1.id).await, vec![1, 2]);

    // Another tenant sees nothing and cannot write it.
    let other = ctx.sibling().await;
    assert_eq!(s.get_article(other.tenant(), v1.id).await.unwrap(), None);
    assert_eq!(s.article_version(other.tenant(), v1.id, 1).await.unwrap(), None);
    assert!(s.article_versions(other.tenant(), v1.id).await.unwrap().is_empty());
    let mut foreign = v2.clone();
    foreign.tenant = other.tenant();
    foreign.version = 3;
    assert_not_found(s.update_article(&foreign, 2, &[]).await);
    assert_duplicate(s.insert_article(&v1, &[]).await, "id");
}

/// A shortcut is unique in its tenant (another tenant may use it), found by its code,
/// freed when its article drops it.
pub async fn article_shortcuts_are_unique_per_tenant(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let s = &ctx.store;
    let a = build(&ctx, NewArticle { shortcut: Some("#refund".into()), ..new_article("Refund") }, 0);
    insert(&ctx, &a).await;
    assert_eq!(s.article_by_shortcut(ctx.tenant(), "#refund").await.unwrap(), Some(a.clone()));
    let b = build(&ctx, NewArticle { shortcut: Some("#refund".into()), ..new_article("Other") }, 1);
    assert_duplicate(s.insert_article(&b, &[]).await, "shortcut");
    assert_eq!(s.get_article(ctx.tenant(), b.id).await.unwrap(), None, "nothing written");

    let other = ctx.sibling().await;
    let c = build(&other, NewArticle { shortcut: Some("#refund".into()), ..new_article("Theirs") }, 0);
    insert(&other, &c).await;
    assert_eq!(s.article_by_shortcut(ctx.tenant(), "#refund").await.unwrap().map(|x| x.id), Some(a.id));
    assert_eq!(s.article_by_shortcut(other.tenant(), "#refund").await.unwrap().map(|x| x.id), Some(c.id));

    // A taken code is refused on update too; dropping it frees it.
    let b = build(&ctx, new_article("Other"), 1);
    insert(&ctx, &b).await;
    let take = ArticlePatch { shortcut: Some(Some("#refund".into())), ..ArticlePatch::default() };
    assert_duplicate(s.update_article(&take.apply(&b, ctx.t.agent.id, ctx.now).unwrap(), 1, &[]).await, "shortcut");
    let drop =
        ArticlePatch { shortcut: Some(None), ..ArticlePatch::default() }.apply(&a, ctx.t.agent.id, ctx.now).unwrap();
    s.update_article(&drop, 1, &[]).await.unwrap();
    assert_eq!(s.article_by_shortcut(ctx.tenant(), "#refund").await.unwrap(), None);
    s.update_article(&take.apply(&b, ctx.t.agent.id, ctx.now).unwrap(), 1, &[]).await.unwrap();
    assert_eq!(s.article_by_shortcut(ctx.tenant(), "#refund").await.unwrap().map(|x| x.id), Some(b.id));
}

/// A solution links problems of its tenant only; a problem lists its solutions, following
/// changes of the links.
pub async fn solutions_link_problems_of_their_tenant(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let s = &ctx.store;
    let p1 = build(&ctx, new_article("Card refused"), 0);
    let p2 = build(&ctx, new_article("Payment failed"), 1);
    insert(&ctx, &p1).await;
    insert(&ctx, &p2).await;
    let fix = build(&ctx, NewArticle { solves: vec![p1.id, p2.id], ..new_article("Update the card") }, 2);
    insert(&ctx, &fix).await;
    let other_fix = build(&ctx, NewArticle { solves: vec![p1.id], ..new_article("Call the bank") }, 3);
    insert(&ctx, &other_fix).await;
    let ids = |v: Vec<Article>| v.into_iter().map(|a| a.id).collect::<Vec<_>>();
    assert_eq!(ids(s.solutions_of(ctx.tenant(), p1.id).await.unwrap()), vec![fix.id, other_fix.id]);
    assert_eq!(ids(s.solutions_of(ctx.tenant(), p2.id).await.unwrap()), vec![fix.id]);

    let unlink = ArticlePatch { solves: Some(vec![p2.id]), ..ArticlePatch::default() };
    s.update_article(&unlink.apply(&fix, ctx.t.agent.id, ctx.now).unwrap(), 1, &[]).await.unwrap();
    assert_eq!(ids(s.solutions_of(ctx.tenant(), p1.id).await.unwrap()), vec![other_fix.id]);

    let other = ctx.sibling().await;
    assert!(s.solutions_of(other.tenant(), p1.id).await.unwrap().is_empty());
    let foreign = build(&other, NewArticle { solves: vec![p1.id], ..new_article("Theirs") }, 0);
    assert_invalid_reference(other.store.insert_article(&foreign, &[]).await, "solves");
    assert_eq!(s.get_article(other.tenant(), foreign.id).await.unwrap(), None);
}

/// The list walks the tenant's current articles that the filter admits once, by creation
/// time then id; a foreign cursor is refused.
pub async fn article_lists_filter_and_page(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let s = &ctx.store;
    let mut all = Vec::new();
    for i in 0..5 {
        let state = if i % 2 == 0 { ArticleState::Published } else { ArticleState::Draft };
        let language = if i == 4 { "en" } else { "fr" };
        let a = build(
            &ctx,
            NewArticle { state, language: language.into(), public: i < 2, ..new_article(&format!("A{i}")) },
            10 - i,
        );
        insert(&ctx, &a).await;
        all.push(a);
    }
    let other = ctx.sibling().await;
    insert(&other, &build(&other, new_article("Theirs"), 0)).await;

    let walk = |filter: ArticleFilter| {
        let s = s.clone();
        let tenant = ctx.tenant();
        async move {
            let mut found = Vec::new();
            let mut request = page(2);
            loop {
                let p = s.list_articles(tenant, &filter, &request).await.unwrap();
                found.extend(p.items.iter().map(|a| a.title.clone()));
                match p.next {
                    Some(next) => request = PageRequest { after: Some(next), ..page(2) },
                    None => return found,
                }
            }
        }
    };
    assert_eq!(walk(ArticleFilter::default()).await, ["A4", "A3", "A2", "A1", "A0"]);
    let published = ArticleFilter { state: Some(ArticleState::Published), ..ArticleFilter::default() };
    assert_eq!(walk(published.clone()).await, ["A4", "A2", "A0"]);
    let french = ArticleFilter { language: Some("fr".into()), ..published };
    assert_eq!(walk(french).await, ["A2", "A0"]);
    assert_eq!(walk(ArticleFilter { public: Some(true), ..ArticleFilter::default() }).await, ["A1", "A0"]);

    // The list shows the current version.
    let renamed = ArticlePatch { title: Some("A0 bis".into()), ..ArticlePatch::default() }
        .apply(&all[0], ctx.t.agent.id, ctx.now)
        .unwrap();
    s.update_article(&renamed, 1, &[]).await.unwrap();
    assert_eq!(walk(ArticleFilter { public: Some(true), ..ArticleFilter::default() }).await, ["A1", "A0 bis"]);

    let foreign = crm_core::page::Cursor::from_string("not a cursor at all".into());
    assert_invalid_reference(
        s.list_articles(ctx.tenant(), &ArticleFilter::default(), &PageRequest { after: Some(foreign), ..page(2) })
            .await,
        "cursor",
    );
}
