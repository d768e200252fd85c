//! Text helpers shared by the model: bounded strings and the keys used for matching names
//! (accent- and case-insensitive words, Double Metaphone phonetic codes, CUS-5).

use std::sync::OnceLock;

use rphonetic::DoubleMetaphone;
use unicode_normalization::UnicodeNormalization;

use crate::error::FieldError;

/// Trims `input` and checks it is non-empty and at most `max` characters.
///
/// # Errors
/// A [`FieldError`] on `field` when the trimmed text is empty or too long.
pub fn required_text(field: &str, input: &str, max: usize) -> Result<String, FieldError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    bounded_text(field, trimmed, max)
}

/// Checks `input` is at most `max` characters and holds no control characters other than
/// line breaks and tabs.
///
/// # Errors
/// A [`FieldError`] on `field` when it is too long or holds control characters.
pub fn bounded_text(field: &str, input: &str, max: usize) -> Result<String, FieldError> {
    let len = input.chars().count();
    if len > max {
        return Err(FieldError::new(field, format!("must be at most {max} characters, got {len}")));
    }
    if input.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(FieldError::new(field, "must not contain control characters"));
    }
    Ok(input.to_owned())
}

/// Lower case, accents removed, non-alphanumerics as word breaks: `"Zoë  D'Arcy"` →
/// `["zoe", "d", "arcy"]`.
pub fn words(input: &str) -> Vec<String> {
    let folded: String = input
        .nfkd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    folded.split_whitespace().map(str::to_owned).collect()
}

/// The phonetic codes of one word (primary and, when different, alternate Double Metaphone).
/// Words that encode to nothing (digits, for example) have no code, and neither do words
/// with letters outside ASCII after folding (Double Metaphone is defined for Latin script,
/// and the encoder panics on other characters).
pub fn phonetic_codes(word: &str) -> Vec<String> {
    if !word.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Vec::new();
    }
    static ENCODER: OnceLock<DoubleMetaphone> = OnceLock::new();
    let encoder = ENCODER.get_or_init(|| DoubleMetaphone::new(None));
    let result = encoder.double_metaphone(word);
    let (primary, alternate) = (result.primary(), result.alternate());
    let mut codes = Vec::with_capacity(2);
    if !primary.is_empty() {
        codes.push(primary.clone());
    }
    if !alternate.is_empty() && alternate != primary {
        codes.push(alternate);
    }
    codes
}

/// Escapes text for HTML: the five markup characters as entities, line breaks as `<br>`,
/// other control characters (tab aside) dropped. Used wherever plain text goes into HTML
/// (a composed reply's values, a mail's signature and text bodies).
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' => out.push_str("<br>"),
            c if c.is_control() && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_fold_case_and_accents() {
        assert_eq!(words("  Zoë  D'Arcy-Éléonore "), ["zoe", "d", "arcy", "eleonore"]);
    }

    #[test]
    fn dupont_and_dupond_share_a_phonetic_code() {
        let a = phonetic_codes("dupont");
        let b = phonetic_codes("dupond");
        assert!(a.iter().any(|c| b.contains(c)), "{a:?} vs {b:?}");
    }

    #[test]
    fn words_outside_latin_script_have_no_phonetic_code_and_do_not_panic() {
        for w in words("D𣬛 李小龍 Ωmega Dupont") {
            let codes = phonetic_codes(&w);
            assert_eq!(codes.is_empty(), !w.is_ascii(), "{w}: {codes:?}");
        }
    }

    #[test]
    fn text_bounds_are_enforced() {
        assert!(required_text("name", "   ", 10).is_err());
        assert_eq!(required_text("name", " ab ", 10).as_deref(), Ok("ab"));
        let err = bounded_text("name", "abcdef", 3).unwrap_err();
        assert_eq!(err.field, "name");
        assert!(bounded_text("x", "a\u{0007}", 10).is_err());
    }
}
