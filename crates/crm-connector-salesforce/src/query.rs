//! SOSL and SOQL text (spec §1.4), with the escaping each needs: a value is always
//! escaped before it is placed in a query, so a caller's input never changes the query's
//! structure.

/// Characters SOSL reserves in a `FIND {…}` term; each is escaped with `\`. Salesforce
/// documents the list for SOSL search terms; its exact extent is unverified \[U\], so we
/// escape generously: an escaped ordinary character is still the character.
const SOSL_RESERVED: &[char] =
    &['?', '&', '|', '!', '{', '}', '[', ']', '(', ')', '^', '~', '*', ':', '\\', '"', '\'', '+', '-'];

/// Escapes a SOSL search term.
pub fn escape_sosl(term: &str) -> String {
    let mut out = String::with_capacity(term.len() + 4);
    for c in term.chars() {
        if SOSL_RESERVED.contains(&c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Escapes a SOQL string literal's content (between single quotes).
pub fn escape_soql(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 4);
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            other => out.push(other),
        }
    }
    out
}

/// The SOSL phone search: contacts, leads and accounts whose phone fields hold `phone`.
pub fn phone_search(phone: &str, limit: u32) -> String {
    format!(
        "FIND {{{}}} IN PHONE FIELDS RETURNING \
         Contact(Id, Name, Phone, MobilePhone, Email, AccountId LIMIT {limit}), \
         Lead(Id, Name, Phone, MobilePhone, Email, Company WHERE IsConverted = false LIMIT {limit}), \
         Account(Id, Name, Phone LIMIT {limit})",
        escape_sosl(phone)
    )
}

/// The SOQL email searches (Account has no standard email field, so contacts and leads).
pub fn email_queries(email: &str, limit: u32) -> [String; 2] {
    let email = escape_soql(email);
    [
        format!(
            "SELECT Id, Name, Phone, MobilePhone, Email, AccountId FROM Contact WHERE Email = '{email}' LIMIT {limit}"
        ),
        format!(
            "SELECT Id, Name, Phone, MobilePhone, Email, Company FROM Lead \
             WHERE Email = '{email}' AND IsConverted = false LIMIT {limit}"
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn sosl_reserved_characters_are_escaped() {
        assert_eq!(escape_sosl("+1 (555) 0100"), "\\+1 \\(555\\) 0100");
        assert_eq!(escape_sosl("a}b OR {x"), "a\\}b OR \\{x");
    }

    #[test]
    fn soql_quotes_and_backslashes_are_escaped() {
        assert_eq!(escape_soql("o'brien@x.com"), "o\\'brien@x.com");
        assert_eq!(escape_soql("a\\' OR Name != '"), "a\\\\\\' OR Name != \\'");
    }

    #[test]
    fn the_phone_search_targets_phone_fields_of_three_objects() {
        let q = phone_search("+15550100", 5);
        assert!(q.starts_with("FIND {\\+15550100} IN PHONE FIELDS RETURNING Contact("));
        assert!(q.contains("Lead(") && q.contains("Account(Id, Name, Phone LIMIT 5)"));
    }

    /// Unescapes as a SOSL/SOQL reader would: `\x` is `x`.
    fn unescape(s: &str) -> (String, bool) {
        let mut out = String::new();
        let mut chars = s.chars();
        let mut bare_reserved = false;
        while let Some(c) = chars.next() {
            if c == '\\' {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            } else {
                bare_reserved |= SOSL_RESERVED.contains(&c);
                out.push(c);
            }
        }
        (out, bare_reserved)
    }

    proptest! {
        #[test]
        fn escaped_sosl_has_no_bare_reserved_character_and_round_trips(term in ".*") {
            let (back, bare) = unescape(&escape_sosl(&term));
            prop_assert!(!bare);
            prop_assert_eq!(back, term);
        }

        #[test]
        fn escaped_soql_never_closes_the_literal(value in ".*") {
            let escaped = escape_soql(&value);
            let mut chars = escaped.chars();
            while let Some(c) = chars.next() {
                if c == '\\' { chars.next(); continue; }
                prop_assert_ne!(c, '\'');
            }
        }
    }
}
