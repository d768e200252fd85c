//! Case tags (CAS-1, issue 27): free words an agent puts on a case to find it again.
//! A tag is normalised once, on the way in ([`normalise_tags`]): trimmed, inner runs of
//! white space made one `-`, lower case; so `"VIP  Customer"` and `"vip-customer"` are
//! the same tag, and the list filter compares stored tags byte for byte.

use std::collections::BTreeSet;

use crate::error::FieldError;

/// The most tags one case carries.
pub const MAX_TAGS: usize = 20;
/// The longest tag, in characters.
pub const MAX_TAG_LENGTH: usize = 50;

/// A tag as stored: see the module doc.
///
/// ```
/// use crm_core::case::normalise_tag;
/// assert_eq!(normalise_tag("tags", "  VIP  Customer ").unwrap(), "vip-customer");
/// assert!(normalise_tag("tags", "   ").is_err());
/// ```
///
/// # Errors
/// An empty tag, one longer than [`MAX_TAG_LENGTH`], or one with a control character or a
/// comma (the list filter's separator), naming `field`.
pub fn normalise_tag(field: &str, input: &str) -> Result<String, FieldError> {
    let tag = input.split_whitespace().collect::<Vec<_>>().join("-").to_lowercase();
    if tag.is_empty() {
        return Err(FieldError::new(field, "a tag must not be empty"));
    }
    if tag.chars().count() > MAX_TAG_LENGTH {
        return Err(FieldError::new(field, format!("a tag must be at most {MAX_TAG_LENGTH} characters")));
    }
    if tag.chars().any(|c| c.is_control() || c == ',') {
        return Err(FieldError::new(field, "a tag must not contain control characters or commas"));
    }
    Ok(tag)
}

/// A case's tags, each normalised ([`normalise_tag`]), duplicates folded.
///
/// # Errors
/// The first bad tag, or more than [`MAX_TAGS`] distinct tags, as a `tags` field error.
pub fn normalise_tags<S: AsRef<str>>(input: &[S]) -> Result<BTreeSet<String>, FieldError> {
    let tags = input.iter().map(|t| normalise_tag("tags", t.as_ref())).collect::<Result<BTreeSet<_>, _>>()?;
    if tags.len() > MAX_TAGS {
        return Err(FieldError::new("tags", format!("a case carries at most {MAX_TAGS} tags")));
    }
    Ok(tags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_folded_to_one_written_form() {
        let tags = normalise_tags(&["Billing", " billing ", "VIP customer", "vip-customer"]).unwrap();
        assert_eq!(tags.into_iter().collect::<Vec<_>>(), ["billing", "vip-customer"]);
    }

    #[test]
    fn bad_tags_are_refused_naming_the_field() {
        for bad in ["", "a,b", "x\u{7}", &"x".repeat(MAX_TAG_LENGTH + 1)] {
            let e = normalise_tags(&[bad]).unwrap_err();
            assert_eq!(e.field, "tags", "{bad:?}");
        }
        assert!(normalise_tags(&["é".repeat(MAX_TAG_LENGTH)]).is_ok(), "characters, not bytes");
    }

    #[test]
    fn too_many_tags_are_refused() {
        let many: Vec<String> = (0..=MAX_TAGS).map(|i| format!("t{i}")).collect();
        assert!(normalise_tags(&many).is_err());
        assert_eq!(normalise_tags(&many[..MAX_TAGS]).unwrap().len(), MAX_TAGS);
    }
}
