//! The index's fields and analysers. Every text is lower-cased and folded to ASCII; titles
//! and bodies are also indexed stemmed, in English or French by the document's language
//! (both when it has none); titles' words by sound (Double Metaphone); identifiers whole,
//! and digits-only for phone numbers.

use tantivy::Index;
use tantivy::schema::{Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RawTokenizer, RemoveLongFilter, SimpleTokenizer, Stemmer, TextAnalyzer,
};

/// Lower case and ASCII folding: the words as typed, for exact, prefix and fuzzy matches.
pub const FOLDED: &str = "crm_folded";
/// [`FOLDED`] then the English stemmer.
pub const ENGLISH: &str = "crm_en";
/// [`FOLDED`] then the French stemmer.
pub const FRENCH: &str = "crm_fr";
/// Lower case of the whole value: identifiers, phonetic codes.
pub const RAW: &str = "crm_raw";

/// The fields of the index.
#[derive(Clone, Copy, Debug)]
pub struct Fields {
    /// `tenant/kind/id`: the term an upsert or a removal deletes by.
    pub key: Field,
    /// The tenant's id: a required clause of every query.
    pub tenant: Field,
    /// The kind's wire name (stored).
    pub kind: Field,
    /// The record's id (stored).
    pub id: Field,
    /// Title, folded (stored: the snippet of a document without body).
    pub title: Field,
    /// Title, English stems.
    pub title_en: Field,
    /// Title, French stems.
    pub title_fr: Field,
    /// Body, folded (stored: snippets).
    pub body: Field,
    /// Body, English stems.
    pub body_en: Field,
    /// Body, French stems.
    pub body_fr: Field,
    /// Double Metaphone codes of the title's words.
    pub sound: Field,
    /// Identifiers, lower case whole, and digits only.
    pub ident: Field,
    /// Tags.
    pub tags: Field,
    /// Primary language subtag (`fr`).
    pub language: Field,
    /// State.
    pub state: Field,
}

fn text(tokenizer: &str, stored: bool) -> TextOptions {
    let indexing = TextFieldIndexing::default().set_tokenizer(tokenizer).set_index_option(IndexRecordOption::WithFreqs);
    let options = TextOptions::default().set_indexing_options(indexing);
    if stored { options.set_stored() } else { options }
}

/// The schema and its fields.
pub fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let fields = Fields {
        key: b.add_text_field("key", STRING),
        tenant: b.add_text_field("tenant", STRING),
        kind: b.add_text_field("kind", STRING | STORED),
        id: b.add_text_field("id", STRING | STORED),
        title: b.add_text_field("title", text(FOLDED, true)),
        title_en: b.add_text_field("title_en", text(ENGLISH, false)),
        title_fr: b.add_text_field("title_fr", text(FRENCH, false)),
        body: b.add_text_field("body", text(FOLDED, true)),
        body_en: b.add_text_field("body_en", text(ENGLISH, false)),
        body_fr: b.add_text_field("body_fr", text(FRENCH, false)),
        sound: b.add_text_field("sound", text(RAW, false)),
        ident: b.add_text_field("ident", text(RAW, false)),
        tags: b.add_text_field("tags", STRING),
        language: b.add_text_field("language", STRING),
        state: b.add_text_field("state", STRING),
    };
    (b.build(), fields)
}

/// The analyser named `name` (one of the constants above).
pub fn analyzer(name: &str) -> TextAnalyzer {
    let folded = || {
        TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(crate::query::MAX_WORD_CHARS + 1))
            .filter(LowerCaser)
            .filter(AsciiFoldingFilter)
    };
    match name {
        ENGLISH => folded().filter(Stemmer::new(Language::English)).build(),
        FRENCH => folded().filter(Stemmer::new(Language::French)).build(),
        RAW => TextAnalyzer::builder(RawTokenizer::default()).filter(LowerCaser).build(),
        _ => folded().build(),
    }
}

/// Registers the analysers on `index` (needed after every open: tantivy does not store them).
pub fn register(index: &Index) {
    for name in [FOLDED, ENGLISH, FRENCH, RAW] {
        index.tokenizers().register(name, analyzer(name));
    }
}

/// The tokens of `text` through the analyser `name`.
pub fn tokens(name: &str, text: &str) -> Vec<String> {
    let mut analyzer = analyzer(name);
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        out.push(stream.token().text.clone());
    }
    out
}

/// The primary subtag of a language tag, lower case (`fr-CA` → `fr`).
pub fn primary_language(tag: &str) -> String {
    tag.split(['-', '_']).next().unwrap_or_default().trim().to_ascii_lowercase()
}

/// Digits only, when `value` is mostly digits (a phone or account number as typed, with
/// spaces, dots, dashes, parentheses or a `+`).
pub fn digits_of(value: &str) -> Option<String> {
    let digits: String = value.chars().filter(char::is_ascii_digit).collect();
    let others = value.chars().filter(|c| c.is_alphabetic()).count();
    (digits.len() >= 3 && others == 0).then_some(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn analysers_fold_accents_and_stem_by_language() {
        assert_eq!(tokens(FOLDED, "Éléphant CAFÉ"), ["elephant", "cafe"]);
        assert_eq!(tokens(ENGLISH, "Refunds refunded"), ["refund", "refund"]);
        assert_eq!(tokens(FRENCH, "remboursements remboursé"), tokens(FRENCH, "remboursement rembourse"));
        assert_eq!(tokens(RAW, "Jean@Example.COM"), ["jean@example.com"]);
        assert_eq!(primary_language("fr-CA"), "fr");
        assert_eq!(digits_of("+33 6 12-34"), Some("3361234".into()));
        assert_eq!(digits_of("C-00012a"), None);
    }
}
