//! The snippet of a hit: the passage of its body (its title when the body says nothing of
//! the query) with the most matched words, cut by tantivy's `SnippetGenerator`, and the
//! byte ranges of those words. A document word is matched when it is a query word, starts
//! with one (3 letters or more), is within its typo distance, or shares its stem.
//!
//! One [`Marker`] serves all the hits of a query: its analysers are built once and each
//! distinct word of the hits is judged once (stemming every word of twenty bodies with
//! freshly built stemmers was most of a query's time).

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use tantivy::snippet::SnippetGenerator;
use tantivy::tokenizer::TextAnalyzer;

use crate::query::{Matcher, typos_allowed};
use crate::schema::{ENGLISH, FOLDED, FRENCH, Fields, analyzer};

/// Characters of a snippet at most.
pub const SNIPPET_CHARS: usize = 160;

/// The first token of `text` through `analyzer`.
fn first_token(analyzer: &mut TextAnalyzer, text: &str) -> Option<String> {
    let mut stream = analyzer.token_stream(text);
    stream.advance().then(|| stream.token().text.clone())
}

/// Whether `token` is within `word`'s typo distance (lengths compared first: the distance
/// is at least their difference).
fn near(word: &str, token: &str) -> bool {
    let typos = usize::from(typos_allowed(word));
    typos > 0
        && word.chars().count().abs_diff(token.chars().count()) <= typos
        && strsim::damerau_levenshtein(word, token) <= typos
}

/// Marks the matched words of a query's hits.
pub struct Marker<'a> {
    matcher: &'a Matcher,
    folded: TextAnalyzer,
    english: TextAnalyzer,
    french: TextAnalyzer,
    judged: HashMap<String, bool>,
}

impl std::fmt::Debug for Marker<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Marker").field("matcher", self.matcher).field("judged", &self.judged.len()).finish()
    }
}

impl<'a> Marker<'a> {
    /// A marker for the hits of the query `matcher` describes.
    pub fn new(matcher: &'a Matcher) -> Self {
        Self {
            matcher,
            folded: analyzer(FOLDED),
            english: analyzer(ENGLISH),
            french: analyzer(FRENCH),
            judged: HashMap::new(),
        }
    }

    /// Whether the folded document word `token` answers the query.
    pub fn matches(&mut self, token: &str) -> bool {
        if let Some(&known) = self.judged.get(token) {
            return known;
        }
        let m = self.matcher;
        let answer = token.chars().count() >= 2
            && ((m.loose
                && m.words.iter().any(|w| {
                    token == w || (w.chars().count() >= 3 && token.starts_with(w.as_str())) || near(w, token)
                }))
                || [&mut self.english, &mut self.french]
                    .into_iter()
                    .any(|a| first_token(a, token).is_some_and(|stem| m.stems.contains(&stem))));
        self.judged.insert(token.to_owned(), answer);
        answer
    }

    /// The snippet of `text` (plain), and its highlighted ranges; `None` when no word of
    /// `text` matches.
    pub fn snippet(&mut self, fields: &Fields, text: &str) -> Option<(String, Vec<Range<usize>>)> {
        let mut words = Vec::new();
        {
            let mut stream = self.folded.token_stream(text);
            while stream.advance() {
                words.push(stream.token().text.clone());
            }
        }
        let mut terms: BTreeMap<String, f32> = BTreeMap::new();
        for token in words {
            if !terms.contains_key(&token) && self.matches(&token) {
                terms.insert(token, 1.0);
            }
        }
        if terms.is_empty() {
            return None;
        }
        let generator = SnippetGenerator::new(terms, self.folded.clone(), fields.body, SNIPPET_CHARS);
        let s = generator.snippet(text);
        Some((s.fragment().to_owned(), s.highlighted().to_vec()))
    }

    /// The snippet of a hit: from its body, else its title, else the body's start unmarked.
    pub fn of_hit(&mut self, fields: &Fields, title: &str, body: &str) -> (String, Vec<Range<usize>>) {
        self.snippet(fields, body)
            .or_else(|| self.snippet(fields, title))
            .unwrap_or_else(|| (body.chars().take(SNIPPET_CHARS).collect(), Vec::new()))
    }
}
