//! The article rules and the composer: normalising, sanitising, versions, states, escaping.

use chrono::TimeZone;
use proptest::prelude::*;
use uuid::Uuid;

use super::*;

fn ids() -> (ArticleId, TenantId, AgentId) {
    (
        ArticleId::from_uuid(Uuid::from_u128(1)),
        TenantId::from_uuid(Uuid::from_u128(2)),
        AgentId::from_uuid(Uuid::from_u128(3)),
    )
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
    assert_eq!(
        (v2.version, v2.state, v2.shortcut.clone(), v2.published_at),
        (2, ArticleState::Published, None, Some(later))
    );
    let v3 = ArticlePatch { title: Some("Nouveau".into()), ..Default::default() }
        .apply(&v2, by, later + chrono::Duration::hours(1))
        .unwrap();
    assert_eq!((v3.version, v3.published_at), (3, Some(later)));
}

#[test]
fn a_published_article_never_goes_back_to_draft() {
    let (id, tenant, by) = ids();
    let published = NewArticle { state: ArticleState::Published, ..input() }.build(id, tenant, by, now()).unwrap();
    let back = ArticlePatch { state: Some(ArticleState::Draft), ..Default::default() }.apply(&published, by, now());
    assert!(matches!(back, Err(PatchError::Transition(_))));
    let archived = ArticlePatch { state: Some(ArticleState::Archived), ..Default::default() }
        .apply(&published, by, now())
        .unwrap();
    let again = ArticlePatch { state: Some(ArticleState::Published), ..Default::default() }
        .apply(&archived, by, now())
        .unwrap();
    assert_eq!(again.state, ArticleState::Published);
}

#[test]
fn the_filter_admits_by_state_language_and_public() {
    let (id, tenant, by) = ids();
    let a = input().build(id, tenant, by, now()).unwrap();
    assert!(ArticleFilter::default().admits(&a));
    assert!(
        ArticleFilter { state: Some(ArticleState::Draft), language: Some("fr".into()), public: Some(true), text: None }
            .admits(&a)
    );
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
        let attribute = format!("{handler}=");
        prop_assert!(!clean.to_lowercase().contains(&attribute));
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

mod composer {
    use std::collections::BTreeMap;

    use super::*;
    use crate::knowledge::compose::{InsertMode, compose, html_to_text, placeholders_of, shortcuts_of};

    fn refund() -> Article {
        let (id, tenant, by) = ids();
        NewArticle { body: "<p>Étape 1</p><p>Étape 2 &amp; fin</p>".into(), ..input() }
            .build(id, tenant, by, now())
            .unwrap()
    }

    #[test]
    fn an_unknown_placeholder_is_named() {
        let e = placeholders_of("Bonjour {{customer.nom}}").unwrap_err();
        assert_eq!(e.field, "text");
        assert!(e.reason.contains("{{customer.nom}}"), "{}", e.reason);
        assert_eq!(
            placeholders_of("{{ customer.name }} {{agent.name}} {{customer.name}}").unwrap(),
            ["customer.name", "agent.name"]
        );
        assert!(placeholders_of("{{customer.name").is_err());
    }

    #[test]
    fn values_and_text_are_escaped_and_shortcuts_expand() {
        let mut values = BTreeMap::new();
        values.insert("customer.name", "<script>x</script> & Cie".to_owned());
        let mut articles = BTreeMap::new();
        articles.insert("#refund".to_owned(), refund());
        let text = "Bonjour {{customer.name}},\n#refund <b>merci</b> #unknown a#refund";
        let full = compose(text, &values, &articles, InsertMode::Full, |_| String::new());
        assert_eq!(
            full.html,
            "Bonjour &lt;script&gt;x&lt;/script&gt; &amp; Cie,<br><p>Étape 1</p><p>Étape 2 &amp; fin</p> \
             &lt;b&gt;merci&lt;/b&gt; #unknown a#refund"
        );
        assert_eq!(
            full.text,
            "Bonjour <script>x</script> & Cie,\nÉtape 1\nÉtape 2 & fin <b>merci</b> #unknown a#refund"
        );
        assert_eq!(full.articles, vec![refund().id]);
        let link = compose("Voir #Refund.", &values, &articles, InsertMode::Link, |a| format!("/kb/{}", a.id));
        assert_eq!(link.html, format!("Voir <a href=\"/kb/{}\">Rembourser une commande</a>.", refund().id));
    }

    #[test]
    fn shortcuts_are_found_at_word_starts_once() {
        assert_eq!(shortcuts_of("#refund, #Refund #x a#nope #delivery-fr"), ["#refund", "#delivery-fr"]);
        assert_eq!(html_to_text("<p>a</p><ul><li>b</li></ul>c<br>d"), "a\nb\nc\nd");
    }

    proptest! {
        /// Whatever a value holds, it never opens a tag in the composed HTML.
        #[test]
        fn a_value_never_opens_a_tag(value in ".{0,60}") {
            let mut values = BTreeMap::new();
            values.insert("customer.name", value);
            let out = compose("{{customer.name}}", &values, &BTreeMap::new(), InsertMode::Full, |_| String::new());
            prop_assert!(!out.html.contains('<') || out.html.replace("<br>", "").find('<').is_none());
        }
    }
}
