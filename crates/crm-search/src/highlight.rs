//! The snippet of a hit: the passage of its body (its title when the body says nothing of
//! the query) with the most matched words, cut by tantivy's `SnippetGenerator`, and the
//! byte ranges of those words. A document word is matched when it is a query word, starts
//! with one (3 letters or more), is within its typo distance, or shares its stem.

use std::collections::BTreeMap;
use std::ops::Range;

use tantivy::snippet::SnippetGenerator;

use crate::query::{Matcher, typos_allowed};
use crate::schema::{ENGLISH, FOLDED, FRENCH, Fields, analyzer, tokens};

/// Characters of a snippet at most.
pub const SNIPPET_CHARS: usize = 160;

/// Whether the folded document word `token` answers the query.
pub fn matches(matcher: &Matcher, token: &str) -> bool {
    if token.chars().count() < 2 {
        return false;
    }
    let by_word = matcher.loose
        && matcher.words.iter().any(|w| {
            token == w
                || (w.chars().count() >= 3 && token.starts_with(w.as_str()))
                || (typos_allowed(w) > 0 && strsim::damerau_levenshtein(w, token) <= usize::from(typos_allowed(w)))
        });
    by_word
        || [ENGLISH, FRENCH].iter().any(|a| tokens(a, token).first().is_some_and(|stem| matcher.stems.contains(stem)))
}

/// The snippet of `text` (plain) for `matcher`, and its highlighted ranges; `None` when no
/// word of `text` matches.
pub fn snippet(fields: &Fields, matcher: &Matcher, text: &str) -> Option<(String, Vec<Range<usize>>)> {
    let mut terms: BTreeMap<String, f32> = BTreeMap::new();
    for token in tokens(FOLDED, text) {
        if !terms.contains_key(&token) && matches(matcher, &token) {
            terms.insert(token, 1.0);
        }
    }
    if terms.is_empty() {
        return None;
    }
    let generator = SnippetGenerator::new(terms, analyzer(FOLDED), fields.body, SNIPPET_CHARS);
    let s = generator.snippet(text);
    Some((s.fragment().to_owned(), s.highlighted().to_vec()))
}

/// The snippet of a hit: from its body, else its title, else the body's start unmarked.
pub fn of_hit(fields: &Fields, matcher: &Matcher, title: &str, body: &str) -> (String, Vec<Range<usize>>) {
    snippet(fields, matcher, body)
        .or_else(|| snippet(fields, matcher, title))
        .unwrap_or_else(|| (body.chars().take(SNIPPET_CHARS).collect(), Vec::new()))
}
