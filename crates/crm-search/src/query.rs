//! A [`SearchQuery`] to a tantivy query. Every query requires its tenant's term, then the
//! filters (kinds, tags, language, states), then the text:
//! - a few words (as typed): each word matches exactly, by English and French stem, the
//!   last one also as a prefix (3 letters or more), with typos (edit distance 1 for 4 to 7 letters, 2 from 8)
//!   and, in titles, by sound (Double Metaphone); the query's tokens also match
//!   identifiers whole or by prefix; the clauses of all words add up, titles weigh more;
//! - a long text (a whole email, more than [`LONG_QUERY_WORDS`] words): tantivy's
//!   more-like-this picks its key terms (tf-idf over the index) and those are searched.
//!
//! No query syntax is read: quotes, colons, brackets and operators are separators.

use std::collections::BTreeSet;

use crm_core::ids::TenantId;
use crm_core::ports::{SearchError, SearchQuery, check_query_length};
use crm_core::text::{phonetic_codes, words};
use tantivy::Term;
use tantivy::query::{BooleanQuery, BoostQuery, FuzzyTermQuery, MoreLikeThisQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, OwnedValue};

use crate::schema::{ENGLISH, FRENCH, Fields, digits_of, primary_language, tokens};

/// Above this many words a query is a text to find similar documents to, not words to match.
pub const LONG_QUERY_WORDS: usize = 24;

/// The longest word the index keeps (longer tokens are dropped when indexing).
pub const MAX_WORD_CHARS: usize = 48;

/// The longest identifier a query looks for.
const MAX_IDENTIFIER_CHARS: usize = 254;

/// The fewest digits a number matches by prefix with. A shorter number (a country or area
/// code: `+33`, `0612`) starts a large share of a tenant's phone numbers: walking them all
/// as a prefix cost a quarter of a second at 1M customers and found nothing useful, so it
/// matches whole only.
const MIN_NUMBER_PREFIX: usize = 6;

/// Whether `form` is a number (digits, with a leading `+` at most).
fn is_number(form: &str) -> bool {
    let digits = form.strip_prefix('+').unwrap_or(form);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Key terms a long query keeps.
const KEY_TERMS: usize = 25;

/// Words at most this many in a short query (the rest is ignored).
const MAX_WORDS: usize = LONG_QUERY_WORDS;

/// Function words of English and French that a long text's key terms leave out.
const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "from", "has", "have", "hello", "hi", "i", "in",
    "is", "it", "me", "my", "no", "not", "of", "on", "or", "our", "please", "so", "thank", "thanks", "that", "the",
    "this", "to", "was", "we", "were", "will", "with", "you", "your", "au", "aux", "avec", "bonjour", "ce", "cette",
    "dans", "de", "des", "du", "elle", "en", "est", "et", "il", "je", "la", "le", "les", "leur", "mais", "me", "merci",
    "mon", "ma", "mes", "ne", "nous", "on", "ou", "par", "pas", "pour", "qu", "que", "qui", "sa", "se", "ses", "son",
    "sur", "un", "une", "vous", "votre", "vos", "y",
];

/// What the query looks for, to mark the matched words of a hit.
#[derive(Clone, Debug, Default)]
pub struct Matcher {
    /// The query's folded words (the key words of a long text).
    pub words: Vec<String>,
    /// Their English and French stems.
    pub stems: BTreeSet<String>,
    /// Whether typos and prefixes count (not for a long text).
    pub loose: bool,
}

/// The edit distance a word of this length tolerates.
pub fn typos_allowed(word: &str) -> u8 {
    match word.chars().count() {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    }
}

fn term(field: Field, text: &str) -> Term {
    Term::from_field_text(field, text)
}

fn boosted(query: Box<dyn Query>, boost: f32) -> (Occur, Box<dyn Query>) {
    (Occur::Should, Box::new(BoostQuery::new(query, boost)))
}

fn exact(field: Field, text: &str, boost: f32) -> (Occur, Box<dyn Query>) {
    boosted(Box::new(TermQuery::new(term(field, text), IndexRecordOption::WithFreqs)), boost)
}

fn any_of(field: Field, values: &[String]) -> Box<dyn Query> {
    Box::new(BooleanQuery::new(
        values
            .iter()
            .map(|v| {
                (Occur::Should, Box::new(TermQuery::new(term(field, v), IndexRecordOption::Basic)) as Box<dyn Query>)
            })
            .collect(),
    ))
}

fn first_stem(analyzer: &str, word: &str) -> Option<String> {
    tokens(analyzer, word).into_iter().next()
}

/// What the index knows of a word: in how many documents the term is in a field.
pub type Known<'a> = &'a dyn Fn(Field, &str) -> u64;

/// The clauses of one word of a short query; `last` for the query's last word, the one
/// still being typed, which alone matches as a prefix (a prefix of every word expanded to
/// thousands of body terms and made a query of a few words cost tens of milliseconds at
/// 100,000 articles). A typo automaton walks the whole term dictionary of its field, so
/// typos are looked for in titles unless the word is in two titles or more (a word seen
/// once may be someone else's typo: `authentification` still finds `authentication`),
/// and in bodies only when the word is in no title nor body.
fn word_clauses(
    f: &Fields,
    word: &str,
    last: bool,
    known: Known<'_>,
    out: &mut Vec<(Occur, Box<dyn Query>)>,
    matcher: &mut Matcher,
) {
    out.push(exact(f.title, word, 3.0));
    out.push(exact(f.body, word, 1.0));
    if is_number(word) {
        // A number has no stem, no sound, and one digit off is another number: it matches
        // whole, or (the last word, long enough) as a prefix.
        if last && word.len() >= MIN_NUMBER_PREFIX {
            out.push(boosted(Box::new(FuzzyTermQuery::new_prefix(term(f.title, word), 0, true)), 1.5));
            out.push(boosted(Box::new(FuzzyTermQuery::new_prefix(term(f.body, word), 0, true)), 0.4));
        }
        return;
    }
    for (analyzer, title, body) in [(ENGLISH, f.title_en, f.body_en), (FRENCH, f.title_fr, f.body_fr)] {
        if let Some(stem) = first_stem(analyzer, word) {
            out.push(exact(title, &stem, 2.0));
            out.push(exact(body, &stem, 0.8));
            matcher.stems.insert(stem);
        }
    }
    let length = word.chars().count();
    let typos = typos_allowed(word);
    if typos > 0 {
        let in_titles = known(f.title, word);
        if in_titles < 2 {
            out.push(boosted(Box::new(FuzzyTermQuery::new(term(f.title, word), typos, true)), 1.5));
        }
        if in_titles == 0 && known(f.body, word) == 0 {
            out.push(boosted(Box::new(FuzzyTermQuery::new(term(f.body, word), typos, true)), 0.4));
        }
    }
    if last && length >= 3 {
        out.push(boosted(Box::new(FuzzyTermQuery::new_prefix(term(f.title, word), 0, true)), 1.5));
        out.push(boosted(Box::new(FuzzyTermQuery::new_prefix(term(f.body, word), 0, true)), 0.4));
    }
    if length >= 4 {
        for code in phonetic_codes(word) {
            out.push(exact(f.sound, &code.to_ascii_lowercase(), 1.0));
        }
    }
}

/// The identifier clauses: the whole text and each of its tokens, whole or as a prefix
/// (numbers by prefix from [`MIN_NUMBER_PREFIX`] digits only).
fn identifier_clauses(f: &Fields, text: &str, out: &mut Vec<(Occur, Box<dyn Query>)>) {
    let mut forms = BTreeSet::new();
    let trimmed = text.trim().to_lowercase();
    forms.insert(trimmed.clone());
    forms.extend(digits_of(&trimmed));
    for token in trimmed.split_whitespace().take(MAX_WORDS) {
        forms.insert(token.to_owned());
        forms.extend(digits_of(token));
    }
    for form in forms.into_iter().filter(|f| (3..=MAX_IDENTIFIER_CHARS).contains(&f.chars().count())) {
        if is_number(&form) && form.trim_start_matches('+').len() < MIN_NUMBER_PREFIX {
            out.push(exact(f.ident, &form, 4.0));
        } else {
            out.push(boosted(Box::new(FuzzyTermQuery::new_prefix(term(f.ident, &form), 0, true)), 4.0));
        }
    }
}

/// The key terms of a long text, by more-like-this over the stemmed fields.
fn long_text(f: &Fields, text: &str, matcher: &mut Matcher) -> Box<dyn Query> {
    let value = || vec![OwnedValue::Str(text.to_owned())];
    let stop: Vec<String> = STOP_WORDS.iter().map(|w| (*w).to_owned()).collect();
    let mlt = MoreLikeThisQuery::builder()
        .with_min_doc_frequency(1)
        .with_min_term_frequency(1)
        .with_min_word_length(3)
        .with_max_query_terms(KEY_TERMS)
        .with_boost_factor(1.0)
        .with_stop_words(stop)
        .with_document_fields(vec![
            (f.title_en, value()),
            (f.title_fr, value()),
            (f.body_en, value()),
            (f.body_fr, value()),
        ]);
    for word in words(text) {
        if word.chars().count() >= 4 && !STOP_WORDS.contains(&word.as_str()) {
            for analyzer in [ENGLISH, FRENCH] {
                matcher.stems.extend(first_stem(analyzer, &word));
            }
        }
    }
    Box::new(mlt)
}

/// The tantivy query for `query` in `tenant`, and what it looks for; `known` tells which
/// words the index has (see [`Known`]).
///
/// # Errors
/// [`SearchError::Query`] for a text without a word of two letters or more (or digits), or
/// longer than the port's limit.
pub fn build(
    f: &Fields,
    tenant: TenantId,
    query: &SearchQuery,
    known: Known<'_>,
) -> Result<(Box<dyn Query>, Matcher), SearchError> {
    check_query_length(&query.text)?;
    // Words longer than the index keeps (`RemoveLongFilter`) can match nothing, and their
    // typo automatons would be costly.
    let all_words: Vec<String> =
        words(&query.text).into_iter().filter(|w| (2..=MAX_WORD_CHARS).contains(&w.chars().count())).collect();
    if all_words.is_empty() {
        return Err(SearchError::Query("give at least one word of two letters or more".into()));
    }
    let mut matcher = Matcher::default();
    let text_query: Box<dyn Query> = if all_words.len() > LONG_QUERY_WORDS {
        long_text(f, &query.text, &mut matcher)
    } else {
        matcher.loose = true;
        let mut clauses = Vec::new();
        let mut seen = BTreeSet::new();
        let kept = all_words.len().min(MAX_WORDS);
        for (n, word) in all_words.iter().take(MAX_WORDS).enumerate() {
            if seen.insert(word.clone()) {
                let mut one = Vec::new();
                word_clauses(f, word, n + 1 == kept, known, &mut one, &mut matcher);
                clauses.push((Occur::Should, Box::new(BooleanQuery::new(one)) as Box<dyn Query>));
                matcher.words.push(word.clone());
            }
        }
        identifier_clauses(f, &query.text, &mut clauses);
        Box::new(BooleanQuery::new(clauses))
    };
    let mut required: Vec<(Occur, Box<dyn Query>)> = vec![
        (Occur::Must, Box::new(TermQuery::new(term(f.tenant, &tenant.to_string()), IndexRecordOption::Basic))),
        (Occur::Must, text_query),
    ];
    let filter = &query.filter;
    if !filter.kinds.is_empty() {
        let kinds: Vec<String> = filter.kinds.iter().map(|k| k.as_str().to_owned()).collect();
        required.push((Occur::Must, any_of(f.kind, &kinds)));
    }
    for tag in &filter.tags {
        required.push((Occur::Must, Box::new(TermQuery::new(term(f.tags, tag), IndexRecordOption::Basic))));
    }
    if let Some(language) = &filter.language {
        let l = primary_language(language);
        required.push((Occur::Must, Box::new(TermQuery::new(term(f.language, &l), IndexRecordOption::Basic))));
    }
    if !filter.states.is_empty() {
        required.push((Occur::Must, any_of(f.state, &filter.states)));
    }
    Ok((Box::new(BooleanQuery::new(required)), matcher))
}
