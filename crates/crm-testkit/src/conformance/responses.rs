//! Conformance: standard responses (`ResponseStore`, KNO-4): versions and events in the
//! write's transaction, the unique shortcut, folders (unique sibling names, deleted only
//! when empty), favourites per agent, the list's filters and pages, the suggestion
//! candidates; and what the public search needs (KNO-1): the articles' text filter and
//! the tenants' unique slug.

use chrono::Duration;
use crm_core::access::Tenant;
use crm_core::event::EventKind;
use crm_core::ids::{AgentId, ResponseId};
use crm_core::knowledge::response::{
    NewFolder, NewResponse, ResponseFilter, ResponseFolder, ResponsePatch, StandardResponse,
};
use crm_core::knowledge::{ArticleFilter, ArticleState, NewArticle};

use super::{
    Ctx, StoreFactory, assert_duplicate, assert_invalid_reference, assert_not_found, assert_stale,
    assert_state_conflict, page,
};

fn new_response(title: &str, body: &str) -> NewResponse {
    NewResponse {
        title: title.into(),
        body: body.into(),
        tags: vec!["billing".into()],
        language: "fr".into(),
        shortcut: None,
        folder: None,
    }
}

/// Builds a response `minutes` after the suite's now.
fn build(ctx: &Ctx, input: NewResponse, minutes: i64) -> StandardResponse {
    input.build(ctx.id(), ctx.tenant(), ctx.t.agent.id, ctx.now + Duration::minutes(minutes)).unwrap()
}

async fn insert(ctx: &Ctx, r: &StandardResponse) {
    let events = [ctx.event(EventKind::StandardResponseWritten { response: r.id, version: r.version })];
    ctx.store.insert_response(r, &events).await.unwrap();
}

async fn folder(ctx: &Ctx, name: &str, parent: Option<&ResponseFolder>) -> ResponseFolder {
    let f = NewFolder { name: name.into(), parent: parent.map(|p| p.id) }
        .build(ctx.id(), ctx.tenant(), parent, ctx.now)
        .unwrap();
    ctx.store.insert_folder(&f).await.unwrap();
    f
}

/// The response events of the outbox: (response, version or 0 for a deletion).
async fn response_events(ctx: &Ctx, id: ResponseId) -> Vec<u64> {
    let entries = ctx.store.list_outbox(ctx.tenant(), None, &page(200)).await.unwrap().items;
    let mut found: Vec<u64> = entries
        .iter()
        .filter_map(|e| match e.event.kind {
            EventKind::StandardResponseWritten { response, version } if response == id => Some(version),
            EventKind::StandardResponseDeleted { response } if response == id => Some(0),
            _ => None,
        })
        .collect();
    found.sort_unstable();
    found
}

/// A response round-trips; a change writes the next version and keeps the earlier ones; a
/// stale version and another tenant's response are refused and write nothing; a deletion
/// removes it with its versions and favourites; each write's event is in the outbox.
pub async fn responses_keep_versions_and_write_their_events(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let s = &ctx.store;
    let v1 = build(&ctx, new_response("Merci", "<p>Bonjour {{customer.name}}</p>"), 0);
    insert(&ctx, &v1).await;
    assert_eq!(s.get_response(ctx.tenant(), v1.id).await.unwrap(), Some(v1.clone()));
    assert_duplicate(s.insert_response(&v1, &[]).await, "id");

    let v2 = ResponsePatch { title: Some("Merci beaucoup".into()), ..ResponsePatch::default() }
        .apply(&v1, ctx.t.agent.id, ctx.now + Duration::minutes(1))
        .unwrap();
    let events = [ctx.event(EventKind::StandardResponseWritten { response: v1.id, version: 2 })];
    s.update_response(&v2, 1, &events).await.unwrap();
    assert_eq!(s.get_response(ctx.tenant(), v1.id).await.unwrap(), Some(v2.clone()));
    assert_eq!(s.response_versions(ctx.tenant(), v1.id).await.unwrap(), vec![v1.clone(), v2.clone()]);
    let late = [ctx.event(EventKind::StandardResponseWritten { response: v1.id, version: 2 })];
    assert_stale(s.update_response(&v2, 1, &late).await);
    assert_eq!(response_events(&ctx, v1.id).await, vec![1, 2]);

    let other = ctx.sibling().await;
    assert_eq!(s.get_response(other.tenant(), v1.id).await.unwrap(), None);
    assert!(s.response_versions(other.tenant(), v1.id).await.unwrap().is_empty());
    let mut foreign = v2.clone();
    foreign.tenant = other.tenant();
    assert_not_found(s.update_response(&foreign, 2, &[]).await);
    assert_not_found(s.delete_response(other.tenant(), v1.id, 2, &[]).await);

    s.add_favourite(ctx.tenant(), ctx.t.agent.id, v1.id).await.unwrap();
    assert_stale(s.delete_response(ctx.tenant(), v1.id, 1, &[]).await);
    let gone = [ctx.event(EventKind::StandardResponseDeleted { response: v1.id })];
    s.delete_response(ctx.tenant(), v1.id, 2, &gone).await.unwrap();
    assert_eq!(s.get_response(ctx.tenant(), v1.id).await.unwrap(), None);
    assert!(s.response_versions(ctx.tenant(), v1.id).await.unwrap().is_empty());
    assert_eq!(s.count_favourites(ctx.tenant(), ctx.t.agent.id).await.unwrap(), 0);
    assert_eq!(response_events(&ctx, v1.id).await, vec![0, 1, 2]);
    assert_not_found(s.delete_response(ctx.tenant(), v1.id, 2, &[]).await);
}

/// A shortcut is unique in its tenant (another tenant may use it); a response's folder must
/// be a folder of its tenant.
pub async fn response_shortcuts_and_folders_are_checked(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let s = &ctx.store;
    let a = build(&ctx, NewResponse { shortcut: Some("#merci".into()), ..new_response("A", "a") }, 0);
    insert(&ctx, &a).await;
    assert_eq!(s.response_by_shortcut(ctx.tenant(), "#merci").await.unwrap(), Some(a.clone()));
    let b = build(&ctx, NewResponse { shortcut: Some("#merci".into()), ..new_response("B", "b") }, 1);
    assert_duplicate(s.insert_response(&b, &[]).await, "shortcut");
    assert_eq!(s.get_response(ctx.tenant(), b.id).await.unwrap(), None, "nothing written");

    let other = ctx.sibling().await;
    let theirs = build(&other, NewResponse { shortcut: Some("#merci".into()), ..new_response("C", "c") }, 0);
    insert(&other, &theirs).await;
    let their_folder = folder(&other, "Theirs", None).await;

    let misfiled = build(&ctx, NewResponse { folder: Some(their_folder.id), ..new_response("D", "d") }, 2);
    assert_invalid_reference(s.insert_response(&misfiled, &[]).await, "folder");
    assert_eq!(s.get_response(ctx.tenant(), misfiled.id).await.unwrap(), None);
    let moved = ResponsePatch { folder: Some(Some(their_folder.id)), ..ResponsePatch::default() }
        .apply(&a, ctx.t.agent.id, ctx.now)
        .unwrap();
    assert_invalid_reference(s.update_response(&moved, 1, &[]).await, "folder");
    let taken = ResponsePatch { shortcut: Some(Some("#merci".into())), ..ResponsePatch::default() };
    let c = build(&ctx, new_response("E", "e"), 3);
    insert(&ctx, &c).await;
    let c2 = taken.apply(&c, ctx.t.agent.id, ctx.now).unwrap();
    assert_duplicate(s.update_response(&c2, 1, &[]).await, "shortcut");
}

/// Folder names are unique among siblings (folded), a parent must be a folder of the
/// tenant, a rename is version-guarded, and a folder holding responses or folders is not
/// deleted.
pub async fn folders_are_unique_among_siblings_and_deleted_only_when_empty(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let s = &ctx.store;
    let billing = folder(&ctx, "Billing", None).await;
    let refunds = folder(&ctx, "Refunds", Some(&billing)).await;
    let again =
        NewFolder { name: "BILLING".into(), parent: None }.build(ctx.id(), ctx.tenant(), None, ctx.now).unwrap();
    assert_duplicate(s.insert_folder(&again).await, "name");
    // The same name under another parent is fine.
    folder(&ctx, "Refunds", None).await;
    let other = ctx.sibling().await;
    folder(&other, "Billing", None).await;
    let mut orphan = NewFolder { name: "X".into(), parent: None }.build(ctx.id(), ctx.tenant(), None, ctx.now).unwrap();
    orphan.parent = Some(other.store.list_folders(other.tenant()).await.unwrap()[0].id);
    assert_invalid_reference(s.insert_folder(&orphan).await, "parent");

    let listed: Vec<String> = s.list_folders(ctx.tenant()).await.unwrap().into_iter().map(|f| f.name).collect();
    assert_eq!(listed, ["Billing", "Refunds", "Refunds"]);
    assert_eq!(s.get_folder(ctx.tenant(), refunds.id).await.unwrap(), Some(refunds.clone()));
    assert_eq!(s.get_folder(other.tenant(), refunds.id).await.unwrap(), None);

    let renamed = ResponseFolder { name: "Remboursements".into(), version: 2, ..refunds.clone() };
    s.update_folder(&renamed, 1).await.unwrap();
    assert_stale(s.update_folder(&renamed, 1).await);
    let late = folder(&ctx, "Late", Some(&billing)).await;
    let clash = ResponseFolder { name: "REMBOURSEMENTS".into(), version: 2, ..late.clone() };
    assert_duplicate(s.update_folder(&clash, 1).await, "name");
    assert_eq!(s.get_folder(ctx.tenant(), late.id).await.unwrap(), Some(late.clone()), "nothing written");
    assert_not_found(s.update_folder(&ResponseFolder { tenant: other.tenant(), ..renamed.clone() }, 2).await);

    // Not empty: a subfolder, then a response.
    assert_state_conflict(s.delete_folder(ctx.tenant(), billing.id).await);
    let filed = build(&ctx, NewResponse { folder: Some(renamed.id), ..new_response("Filed", "x") }, 0);
    insert(&ctx, &filed).await;
    assert_state_conflict(s.delete_folder(ctx.tenant(), renamed.id).await);
    assert_not_found(s.delete_folder(other.tenant(), renamed.id).await);
    s.delete_response(ctx.tenant(), filed.id, 1, &[]).await.unwrap();
    s.delete_folder(ctx.tenant(), renamed.id).await.unwrap();
    s.delete_folder(ctx.tenant(), late.id).await.unwrap();
    s.delete_folder(ctx.tenant(), billing.id).await.unwrap();
    assert_eq!(s.get_folder(ctx.tenant(), billing.id).await.unwrap(), None);
    assert_not_found(s.delete_folder(ctx.tenant(), billing.id).await);
}

/// The list filters by folder, tag, language, an agent's favourites and folded text, pages
/// by creation, and stays in its tenant; favourites are per agent and idempotent.
pub async fn response_lists_filter_and_page(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let s = &ctx.store;
    let f = folder(&ctx, "Billing", None).await;
    let r0 = build(
        &ctx,
        NewResponse { folder: Some(f.id), ..new_response("Remboursement", "<p>Votre remboursement</p>") },
        0,
    );
    let r1 =
        build(&ctx, NewResponse { tags: vec!["vip".into()], ..new_response("Livraison", "<p>Colis en route</p>") }, 1);
    let r2 = build(
        &ctx,
        NewResponse { language: "en".into(), ..new_response("Refund", "<p>Your refund is on its way</p>") },
        2,
    );
    for r in [&r0, &r1, &r2] {
        insert(&ctx, r).await;
    }
    let other = ctx.sibling().await;
    insert(&other, &build(&other, new_response("Remboursement", "x"), 0)).await;

    let walk = |filter: ResponseFilter| {
        let s = s.clone();
        let tenant = ctx.tenant();
        async move {
            let mut titles = Vec::new();
            let mut request = page(1);
            loop {
                let p = s.list_responses(tenant, &filter, &request).await.unwrap();
                titles.extend(p.items.into_iter().map(|r| r.title));
                match p.next {
                    Some(next) => request = crm_core::page::PageRequest { after: Some(next), ..page(1) },
                    None => break titles,
                }
            }
        }
    };
    assert_eq!(walk(ResponseFilter::default()).await, ["Remboursement", "Livraison", "Refund"]);
    assert_eq!(walk(ResponseFilter { folder: Some(f.id), ..ResponseFilter::default() }).await, ["Remboursement"]);
    assert_eq!(walk(ResponseFilter { tag: Some("vip".into()), ..ResponseFilter::default() }).await, ["Livraison"]);
    let tag = |t: &str| ResponseFilter { tag: Some(t.into()), ..ResponseFilter::default() };
    assert_eq!(walk(tag("billing")).await, ["Remboursement", "Refund"]);
    assert_eq!(walk(tag("bill")).await, Vec::<String>::new(), "a whole tag, not a prefix");
    assert_eq!(walk(ResponseFilter { language: Some("en".into()), ..ResponseFilter::default() }).await, ["Refund"]);
    let text = |q: &str| ResponseFilter::default().with_text(Some(q)).unwrap();
    assert_eq!(walk(text("REMBOURSEMENT")).await, ["Remboursement"]);
    assert_eq!(walk(text("colis en")).await, ["Livraison"]);
    assert_eq!(walk(text("100% _")).await, Vec::<String>::new(), "symbols are no words");

    let (me, you): (AgentId, AgentId) = (ctx.t.agent.id, ctx.id());
    s.add_favourite(ctx.tenant(), me, r2.id).await.unwrap();
    s.add_favourite(ctx.tenant(), me, r2.id).await.unwrap();
    s.add_favourite(ctx.tenant(), me, r0.id).await.unwrap();
    s.add_favourite(ctx.tenant(), you, r1.id).await.unwrap();
    assert_eq!(s.count_favourites(ctx.tenant(), me).await.unwrap(), 2);
    let mine = ResponseFilter { favourites_of: Some(me), ..ResponseFilter::default() };
    assert_eq!(walk(mine.clone()).await, ["Remboursement", "Refund"]);
    s.remove_favourite(ctx.tenant(), me, r0.id).await.unwrap();
    s.remove_favourite(ctx.tenant(), me, r0.id).await.unwrap();
    assert_eq!(walk(mine).await, ["Refund"]);
    assert_not_found(s.add_favourite(other.tenant(), me, r1.id).await);
    assert_eq!(s.count_favourites(other.tenant(), me).await.unwrap(), 0);
}

/// Suggestion candidates hold one of the words, stay in their tenant, include published
/// articles only, and are bounded; the article list's text filter and the tenants' slugs
/// (unique, found exactly) behave as the public search needs.
pub async fn suggestion_candidates_articles_text_and_tenant_slugs(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let s = &ctx.store;
    insert(&ctx, &build(&ctx, new_response("Remboursement", "<p>Votre commande</p>"), 0)).await;
    insert(&ctx, &build(&ctx, new_response("Mot de passe", "<p>Cliquez</p>"), 1)).await;
    let article = |title: &str, state: ArticleState, public: bool, minutes: i64| {
        NewArticle {
            title: title.into(),
            body: format!("<p>{title} étapes</p>"),
            tags: vec![],
            language: "fr".into(),
            shortcut: None,
            state,
            public,
            solves: vec![],
        }
        .build(ctx.id(), ctx.tenant(), ctx.t.agent.id, ctx.now + Duration::minutes(minutes))
        .unwrap()
    };
    let published = article("Commande perdue", ArticleState::Published, true, 0);
    let draft = article("Commande brouillon", ArticleState::Draft, true, 1);
    let internal = article("Commande interne", ArticleState::Published, false, 2);
    for a in [&published, &draft, &internal] {
        s.insert_article(a, &[]).await.unwrap();
    }
    let other = ctx.sibling().await;
    insert(&other, &build(&other, new_response("Commande", "x"), 0)).await;

    let words = vec!["commande".to_owned(), "inexistant".to_owned()];
    let (responses, articles) = s.suggestion_candidates(ctx.tenant(), &words, 10).await.unwrap();
    assert_eq!(responses.iter().map(|r| r.title.as_str()).collect::<Vec<_>>(), ["Remboursement"]);
    let mut titles: Vec<&str> = articles.iter().map(|a| a.title.as_str()).collect();
    titles.sort_unstable();
    assert_eq!(titles, ["Commande interne", "Commande perdue"]);
    let (_, bounded) = s.suggestion_candidates(ctx.tenant(), &words, 1).await.unwrap();
    assert_eq!(bounded.len(), 1);
    assert_eq!(s.suggestion_candidates(ctx.tenant(), &[], 10).await.unwrap().0.len(), 0);

    // The public search's filter: published, public, folded text.
    let public_text = |q: &str| ArticleFilter {
        state: Some(ArticleState::Published),
        public: Some(true),
        text: crm_core::knowledge::response::fold_query(Some(q)).unwrap(),
        ..ArticleFilter::default()
    };
    let found = s.list_articles(ctx.tenant(), &public_text("COMMANDE perdue"), &page(10)).await.unwrap();
    assert_eq!(found.items.iter().map(|a| a.id).collect::<Vec<_>>(), [published.id]);
    let found = s.list_articles(ctx.tenant(), &public_text("etapes"), &page(10)).await.unwrap();
    assert_eq!(found.items.iter().map(|a| a.id).collect::<Vec<_>>(), [published.id]);
    assert!(s.list_articles(other.tenant(), &public_text("commande"), &page(10)).await.unwrap().items.is_empty());

    // Slugs: unique across tenants, found exactly, changeable.
    let mut mine: Tenant = ctx.t.tenant.clone();
    mine.slug = Some("acme".into());
    s.update_tenant(&mine, &[]).await.unwrap();
    assert_eq!(s.tenant_by_slug("acme").await.unwrap().map(|t| t.id), Some(ctx.tenant()));
    assert_eq!(s.tenant_by_slug("ACME").await.unwrap(), None);
    let mut theirs = other.t.tenant.clone();
    theirs.slug = Some("acme".into());
    assert_duplicate(s.update_tenant(&theirs, &[]).await, "slug");
    assert_eq!(s.get_tenant(other.tenant()).await.unwrap().and_then(|t| t.slug), None, "nothing written");
    mine.slug = Some("acme-support".into());
    s.update_tenant(&mine, &[]).await.unwrap();
    assert_eq!(s.tenant_by_slug("acme").await.unwrap(), None);
    s.update_tenant(&theirs, &[]).await.unwrap();
    assert_eq!(s.tenant_by_slug("acme").await.unwrap().map(|t| t.id), Some(other.tenant()));
}
