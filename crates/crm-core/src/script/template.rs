//! Placeholders in a step's text: `{{customer.name}}`, `{{ case.number }}`,
//! `{{answers.reason}}`. A placeholder names a field of the run's context (the facts of the
//! customer and case, and the answers so far); publishing refuses an unknown one, naming it.
//!
//! Rendering is plain text and done once: a value is inserted as it is, minus control
//! characters, and is never read again for placeholders, so a customer's name like
//! `{{case.number}}` shows as written. The result is text, not HTML: a client shows it as
//! text.

use crate::rules::{Context, Schema};

/// The most placeholders one text may hold.
pub const MAX_PLACEHOLDERS: usize = 100;

/// A piece of a parsed text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Piece<'a> {
    Literal(&'a str),
    Field(&'a str),
}

/// Splits a text into literals and placeholders.
///
/// # Errors
/// The reason, naming the placeholder: an unclosed `{{`, an empty or malformed name, or
/// more than [`MAX_PLACEHOLDERS`].
pub(crate) fn parse(text: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut pieces = Vec::new();
    let mut rest = text;
    let mut count = 0;
    while let Some(open) = rest.find("{{") {
        if open > 0 {
            pieces.push(Piece::Literal(&rest[..open]));
        }
        let after = &rest[open + 2..];
        let close = after.find("}}").ok_or_else(|| {
            let shown: String = after.chars().take(40).collect();
            format!("the placeholder `{{{{{shown}` is not closed with `}}}}`")
        })?;
        let name = after[..close].trim();
        let well_formed = !name.is_empty()
            && name.len() <= 200
            && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if !well_formed {
            return Err(format!(
                "`{{{{{}}}}}` is not a placeholder name (letters, digits, `_`, `.`, `-`)",
                &after[..close]
            ));
        }
        count += 1;
        if count > MAX_PLACEHOLDERS {
            return Err(format!("a text holds at most {MAX_PLACEHOLDERS} placeholders"));
        }
        pieces.push(Piece::Field(name));
        rest = &after[close + 2..];
    }
    if !rest.is_empty() {
        pieces.push(Piece::Literal(rest));
    }
    Ok(pieces)
}

/// The placeholders of a text that `schema` does not offer.
///
/// # Errors
/// The reason when the text does not parse ([`parse`]).
pub(crate) fn unknown_placeholders<'a>(text: &'a str, schema: &Schema) -> Result<Vec<&'a str>, String> {
    Ok(parse(text)?
        .into_iter()
        .filter_map(|p| match p {
            Piece::Field(name) if schema.type_of(name).is_none() => Some(name),
            _ => None,
        })
        .collect())
}

/// Renders a text: each placeholder becomes its field's value as plain text (empty when the
/// context has none), control characters but line breaks and tabs dropped.
///
/// ```
/// use std::collections::HashMap;
/// use crm_core::rules::{Schema, Value, ValueType};
/// use crm_core::script::render_text;
///
/// let schema = Schema::new().field("customer.name", ValueType::Text);
/// let facts = HashMap::from([("customer.name".to_owned(), Value::Text("{{case.number}}".into()))]);
/// assert_eq!(render_text("Hello {{ customer.name }}!", &schema, &facts).unwrap(), "Hello {{case.number}}!");
/// assert_eq!(
///     render_text("Case {{case.number}}", &schema, &facts).unwrap_err(),
///     "unknown placeholder `case.number`"
/// );
/// ```
///
/// # Errors
/// The reason, naming the placeholder, when the text does not parse or names a field
/// `schema` does not offer.
pub fn render_text(text: &str, schema: &Schema, ctx: &dyn Context) -> Result<String, String> {
    let pieces = parse(text)?;
    if let Some(Piece::Field(name)) =
        pieces.iter().find(|p| matches!(p, Piece::Field(n) if schema.type_of(n).is_none()))
    {
        return Err(format!("unknown placeholder `{name}`"));
    }
    Ok(render_pieces(&pieces, ctx))
}

/// Renders parsed pieces (their names already checked).
pub(crate) fn render_pieces(pieces: &[Piece<'_>], ctx: &dyn Context) -> String {
    let mut out = String::new();
    for p in pieces {
        match p {
            Piece::Literal(s) => out.push_str(s),
            Piece::Field(name) => {
                if let Some(v) = ctx.value(name) {
                    out.extend(v.to_string().chars().filter(|c| !c.is_control() || matches!(c, '\n' | '\t')));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_literals_and_placeholders() {
        assert_eq!(
            parse("Hi {{a.b}}, {{ c }}}").expect("parses"),
            [Piece::Literal("Hi "), Piece::Field("a.b"), Piece::Literal(", "), Piece::Field("c"), Piece::Literal("}")]
        );
        assert_eq!(parse("no placeholder } {").expect("parses"), [Piece::Literal("no placeholder } {")]);
    }

    #[test]
    fn malformed_placeholders_are_refused_naming_them() {
        assert!(parse("Hi {{name").unwrap_err().contains("`{{name` is not closed"));
        assert!(parse("Hi {{}}").unwrap_err().contains("`{{}}` is not a placeholder name"));
        assert!(parse("Hi {{a b}}").unwrap_err().contains("`{{a b}}`"));
        let many = "{{a}}".repeat(MAX_PLACEHOLDERS + 1);
        assert!(parse(&many).unwrap_err().contains("at most"));
    }
}
