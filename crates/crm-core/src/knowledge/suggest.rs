//! Suggestions for an interaction (KNO-4), the interim ranking: standard responses and
//! published articles ranked by how many of the folded words of the interaction's last
//! inbound message they hold, a title's words weighing [`TITLE_WEIGHT`] times a body's.
//!
//! This is a small pure scorer over candidate texts, fed by a store query limited to the
//! tenant (candidates holding at least one of the query's words). The search engine
//! (KNO-2, tantivy) replaces [`rank`] with its own relevance later; the wire shape
//! ([`Suggestion`]) stays.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::compose::html_to_text;
use crate::text::words;

/// How much more a word of the title counts than a word of the body.
pub const TITLE_WEIGHT: u32 = 3;
/// The most words of a message the query keeps (its first distinct ones).
pub const MAX_QUERY_WORDS: usize = 30;
/// The most suggestions answered.
pub const MAX_SUGGESTIONS: usize = 10;
/// Words this short carry no meaning for the ranking (`le`, `de`, `a`, `to` …).
const MIN_WORD: usize = 3;
/// Common French and English words with no meaning for the ranking.
const STOP_WORDS: &[&str] = &[
    "and", "are", "but", "can", "des", "dans", "est", "for", "from", "have", "les", "mais", "mes", "nous", "par",
    "pas", "pour", "que", "qui", "sur", "the", "this", "une", "vous", "was", "with", "you", "your", "votre", "vos",
];

/// What a suggestion is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SuggestionKind {
    /// A standard response.
    Response,
    /// A published knowledge article.
    Article,
}

/// A text the scorer ranks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// What it is.
    pub kind: SuggestionKind,
    /// Its id.
    pub id: uuid::Uuid,
    /// Its title.
    pub title: String,
    /// Its body, HTML.
    pub body: String,
}

/// One suggestion, best first in a list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Suggestion {
    /// A standard response or an article.
    pub kind: SuggestionKind,
    /// The response's or article's id.
    pub id: uuid::Uuid,
    /// Its title.
    pub title: String,
    /// Its relevance: the weighted count of the query's words it holds (higher is better;
    /// comparable within one answer only).
    pub score: f64,
    /// The query's words it holds, in the query's order.
    pub matched: Vec<String>,
}

/// The words of a message the ranking uses: folded, at least three letters, no common
/// word, each once, the first [`MAX_QUERY_WORDS`] of them.
pub fn query_words(message: &str) -> Vec<String> {
    let mut seen = BTreeSet::new();
    words(message)
        .into_iter()
        .filter(|w| w.chars().count() >= MIN_WORD && !STOP_WORDS.contains(&w.as_str()))
        .filter(|w| seen.insert(w.clone()))
        .take(MAX_QUERY_WORDS)
        .collect()
}

/// Ranks `candidates` by the query's words they hold: each distinct word counts once,
/// [`TITLE_WEIGHT`] when in the title, 1 when only in the body; candidates holding none are
/// dropped; ties go to the shorter title, then the id. At most [`MAX_SUGGESTIONS`].
pub fn rank(query: &[String], candidates: &[Candidate]) -> Vec<Suggestion> {
    let mut ranked: Vec<Suggestion> = candidates
        .iter()
        .filter_map(|c| {
            let title: BTreeSet<String> = words(&c.title).into_iter().collect();
            let body: BTreeSet<String> = words(&html_to_text(&c.body)).into_iter().collect();
            let mut score = 0u32;
            let mut matched = Vec::new();
            for w in query {
                let weight = if title.contains(w) {
                    TITLE_WEIGHT
                } else if body.contains(w) {
                    1
                } else {
                    continue;
                };
                score += weight;
                matched.push(w.clone());
            }
            (score > 0).then(|| Suggestion {
                kind: c.kind,
                id: c.id,
                title: c.title.clone(),
                score: f64::from(score),
                matched,
            })
        })
        .collect();
    ranked.sort_by(|a, b| {
        b.score.total_cmp(&a.score).then_with(|| a.title.len().cmp(&b.title.len())).then_with(|| a.id.cmp(&b.id))
    });
    ranked.truncate(MAX_SUGGESTIONS);
    ranked
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(n: u128, kind: SuggestionKind, title: &str, body: &str) -> Candidate {
        Candidate { kind, id: uuid::Uuid::from_u128(n), title: title.into(), body: body.into() }
    }

    #[test]
    fn query_words_are_folded_meaningful_and_distinct() {
        assert_eq!(
            query_words("Bonjour, je veux être REMBOURSÉ de ma commande, le remboursé!"),
            ["bonjour", "veux", "etre", "rembourse", "commande"]
        );
        assert!(query_words("a b de le").is_empty());
    }

    #[test]
    fn a_title_match_outranks_a_body_match_and_unrelated_texts_are_dropped() {
        let q = query_words("Ma commande n'est pas arrivée, je veux un remboursement");
        let ranked = rank(
            &q,
            &[
                candidate(1, SuggestionKind::Article, "Livraison", "<p>Une commande en retard est remboursée</p>"),
                candidate(2, SuggestionKind::Response, "Remboursement d'une commande", "<p>Bonjour</p>"),
                candidate(3, SuggestionKind::Response, "Changer de mot de passe", "<p>Cliquez</p>"),
            ],
        );
        let ids: Vec<u128> = ranked.iter().map(|s| s.id.as_u128()).collect();
        assert_eq!(ids, [2, 1]);
        assert_eq!(ranked[0].matched, ["commande", "remboursement"]);
        assert!(ranked[0].score > ranked[1].score);
    }

    #[test]
    fn ties_go_to_the_shorter_title_and_the_list_is_bounded() {
        let q = query_words("facture");
        let many: Vec<Candidate> = (0..20)
            .map(|i| candidate(i, SuggestionKind::Response, &format!("Facture {}", "x".repeat(i as usize)), ""))
            .collect();
        let ranked = rank(&q, &many);
        assert_eq!(ranked.len(), MAX_SUGGESTIONS);
        assert_eq!(ranked[0].id.as_u128(), 0);
    }
}
