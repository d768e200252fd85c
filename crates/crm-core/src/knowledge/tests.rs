use chrono::TimeZone;
use proptest::prelude::*;
use uuid::Uuid;

use super::*;

fn ids() -> (ArticleId, TenantId, AgentId) {
    (ArticleId::from_uuid(Uuid::from_u128(1)), TenantId::from_uuid(Uuid::from_u128(2)), AgentId::from_uuid(Uuid::from_u128(3)))
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 8, 0, 0).unwrap()
}

fn input() -> NewArticle {
    NewArticle {
        title: "  Rembourser une commande ".into(),
        body: "<p onclick=\"x()\">Étapes</p><script>alert(1)</script>".into(),
        tags: vec!["Facturation".into(), "Rembourséments".into(), "facturation".into()],
        language: "fr".into(),
        shortcut: Some("Refund".into()),
        state: ArticleState::Draft,
        public: true,
        solves: vec![],
    }
}

#[test]
fn a_new_article_is_normalised_and_sanitised() {
    let (id, tenant, by) = ids();
    let a = input().build(id, tenant, by, now()).unwrap();
    assert_eq!(a.title, "Rembourser une commande");
    assert_eq!(a.body, "<p>Étapes</p>");
    assert_eq!(a.tags, vec!["facturation", "remboursements"]);
    assert_eq!(a.shortcut.as_deref(), Some("#refund"));
    assert_eq!(a.version, 1);
    assert_eq!(a.published_at, None);
}

#[test]
fn every_bad_field_is_named_at_once() {
    let (id, tenant, by) = ids();
    let bad = NewArticle {
        title: " ".into(),
        language: "french".into(),
        shortcut: Some("#a".into()),
        solves: vec![id],
        ..input()
    };
    let errors = bad.build(id, tenant, by, now()).unwrap_err();
    let fields: Vec<&str> = errors.errors().iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["title", "language", "shortcut", "solves"]);
}

#[test]
fn a_body_too_large_is_refused() {
    let (id, tenant, by) = ids();
    let big = NewArticle { body: "a".repeat(MAX_BODY + 1), ..input() };
    assert_eq!(big.build(id, tenant, by, now()).unwrap_err().errors()[0].field, "body");
}

#[test]
fn a_patch_makes_the_next_version_and_publishing_stamps_the_first_time() {
    let (id, tenant, by) = ids();
    let v1 = input().build(id, tenant, by, now()).unwrap();
    let later = now() + chrono::Duration::hours(1);
    let patch = ArticlePatch { state: Some(ArticleState::Published), shortcut: Some(None), ..Default::default() };
    let v2 = patch.apply(&v1, by, later).unwrap();
    assert_eq!((v2.version, v2.state, v2.shortcut.clone(), v2.published_at), (2, ArticleState::Published, None, Some(later)));
    let v3 = ArticlePatch { title: Some("Nouveau".into()), ..Default::default() }.apply(&v2, by, later + chrono::Duration::hours(1)).unwrap();
    assert_eq!((v3.version, v3.published_at), (3, Some(later)));
}

#[test]
fn a_published_article_never_goes_back_to_draft() {
    let (id, tenant, by) = ids();
    let published = NewArticle { state: ArticleState::Published, ..input() }.build(id, tenant, by, now()).unwrap();
    let back = ArticlePatch { state: Some(ArticleState::Draft), ..Default::default() }.apply(&published, by, now());
    assert!(matches!(back, Err(PatchError::Transition(_))));
    let archived = ArticlePatch { state: Some(ArticleState::Archived), ..Default::default() }.apply(&published, by, now()).unwrap();
    let again = ArticlePatch { state: Some(ArticleState::Published), ..Default::default() }.apply(&archived, by, now()).unwrap();
    assert_eq!(again.state, ArticleState::Published);
}

#[test]
fn the_filter_admits_by_state_language_and_public() {
    let (id, tenant, by) = ids();
    let a = input().build(id, tenant, by, now()).unwrap();
    assert!(ArticleFilter::default().admits(&a));
    assert!(ArticleFilter { state: Some(ArticleState::Draft), language: Some("fr".into()), public: Some(true) }.admits(&a));
    assert!(!ArticleFilter { language: Some("en".into()), ..Default::default() }.admits(&a));
    assert!(!ArticleFilter { state: Some(ArticleState::Published), ..Default::default() }.admits(&a));
}

proptest! {
    /// Whatever HTML comes in, the stored body has no script and no event handler.
    #[test]
    fn no_script_survives_sanitising(prefix in ".{0,40}", handler in "on[a-z]{2,8}") {
        let html = format!("{prefix}<img src=x {handler}=\"alert(1)\"><script>alert(2)</script><a href=\"javascript:alert(3)\">x</a>");
        let clean = sanitise_body(&html).unwrap();
        prop_assert!(!clean.contains("<script"));
        prop_assert!(!clean.to_lowercase().contains(&format!("{handler}=")));
        prop_assert!(!clean.contains("javascript:"));
    }

    /// Tags are normalised idempotently.
    #[test]
    fn tags_normalise_idempotently(tags in proptest::collection::vec("[a-zA-Zéè0-9 ]{1,12}", 0..6)) {
        if let Ok(once) = parse_tags(&tags) {
            prop_assert_eq!(parse_tags(&once).unwrap(), once);
        }
    }
}
