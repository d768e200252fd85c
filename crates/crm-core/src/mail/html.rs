//! The text rules of mail: HTML sanitised for sending and display, its plain-text part, and
//! the case tag of a subject (`[#CS-000123]`) written and found again.

use crate::case::CaseNumber;

/// Sanitises HTML for a mail or its display: no scripts, no event handlers, no
/// `javascript:` URLs (ammonia's allow-list, with `cid:` images kept for inline parts).
///
/// ```
/// let clean = crm_core::mail::sanitize_html(r#"<p onclick="x()">Hi<script>alert(1)</script></p>"#);
/// assert_eq!(clean, "<p>Hi</p>");
/// ```
pub fn sanitize_html(html: &str) -> String {
    let mut schemes = ammonia::Builder::default().clone_url_schemes();
    schemes.insert("cid");
    ammonia::Builder::default().url_schemes(schemes).clean(html).to_string()
}

/// The plain-text part of an HTML body: tags dropped, block ends and `<br>` as line breaks,
/// entities decoded, runs of blank lines folded.
///
/// ```
/// let text = crm_core::mail::html_to_text("<p>Hello&nbsp;<b>Jane</b></p><p>Bye &amp; thanks</p>");
/// assert_eq!(text, "Hello Jane\n\nBye & thanks");
/// ```
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&decode_entities(&rest[..start]));
        let Some(end) = rest[start..].find('>') else {
            rest = "";
            break;
        };
        let tag = rest[start + 1..start + end].trim().to_ascii_lowercase();
        let name: String = tag.trim_start_matches('/').chars().take_while(char::is_ascii_alphanumeric).collect();
        match name.as_str() {
            "br" => out.push('\n'),
            "p" | "div" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "ul" | "ol" | "table" | "blockquote"
                if tag.starts_with('/') =>
            {
                out.push_str("\n\n");
            }
            "li" if !tag.starts_with('/') => out.push_str("\n- "),
            "tr" if tag.starts_with('/') => out.push('\n'),
            _ => {}
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(&decode_entities(rest));
    let lines: Vec<&str> = out.lines().map(str::trim_end).collect();
    let mut text = String::new();
    let mut blank = 0;
    for line in lines {
        if line.trim().is_empty() {
            blank += 1;
            continue;
        }
        if !text.is_empty() {
            text.push_str(if blank > 0 { "\n\n" } else { "\n" });
        }
        blank = 0;
        text.push_str(line.trim_start_matches(' '));
    }
    text
}

fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.replace('\u{a0}', " ");
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let semi = tail.find(';').filter(|&j| j <= 10);
        let decoded = semi.and_then(|j| {
            let name = &tail[1..j];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" | "#39" => Some('\''),
                "nbsp" => Some(' '),
                _ => name
                    .strip_prefix("#x")
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, j))
        });
        match decoded {
            Some((c, j)) => {
                out.push(c);
                rest = &tail[j + 1..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out.replace('\u{a0}', " ")
}

pub use crate::text::escape_html;

/// The tag a notify subject carries: `[#CS-000123]`.
pub fn subject_tag(number: CaseNumber) -> String {
    format!("[#{number}]")
}

/// A subject with its case tag in front (kept as is when it already carries it).
///
/// ```
/// use crm_core::case::CaseNumber;
/// use crm_core::mail::tagged_subject;
/// let n = CaseNumber::new(123);
/// assert_eq!(tagged_subject(n, "Your order"), "[#CS-000123] Your order");
/// assert_eq!(tagged_subject(n, "Re: [#CS-000123] Your order"), "Re: [#CS-000123] Your order");
/// ```
pub fn tagged_subject(number: CaseNumber, subject: &str) -> String {
    if case_number_in_subject(subject) == Some(number) {
        return subject.trim().to_owned();
    }
    let subject = subject.trim();
    if subject.is_empty() { subject_tag(number) } else { format!("{} {subject}", subject_tag(number)) }
}

/// The case number a subject is tagged with: `[#CS-000123]`, `[#cs-123]`, `[CS-123]`,
/// `[# CS 000123 ]`, `(#CS-123)`: a bracket, an optional `#`, the `CS` prefix, an optional
/// separator and the digits. The first tag wins.
///
/// ```
/// use crm_core::case::CaseNumber;
/// use crm_core::mail::case_number_in_subject;
/// assert_eq!(case_number_in_subject("Re: AW: [#cs-42] Hello"), Some(CaseNumber::new(42)));
/// assert_eq!(case_number_in_subject("CS-42 without brackets"), None);
/// ```
pub fn case_number_in_subject(subject: &str) -> Option<CaseNumber> {
    let bytes = subject.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        let close = match b {
            b'[' => b']',
            b'(' => b')',
            _ => continue,
        };
        let mut j = i + 1;
        let skip_spaces = |j: &mut usize| {
            while *j < bytes.len() && bytes[*j] == b' ' {
                *j += 1;
            }
        };
        skip_spaces(&mut j);
        if j < bytes.len() && bytes[j] == b'#' {
            j += 1;
        }
        skip_spaces(&mut j);
        if j + 2 > bytes.len() || !bytes[j..j + 2].eq_ignore_ascii_case(b"cs") {
            continue;
        }
        j += 2;
        if j < bytes.len() && matches!(bytes[j], b'-' | b' ' | b'_' | b':') {
            j += 1;
        }
        let start = j;
        while j < bytes.len() && bytes[j].is_ascii_digit() {
            j += 1;
        }
        if j == start || j - start > 18 {
            continue;
        }
        let digits = &subject[start..j];
        skip_spaces(&mut j);
        if j < bytes.len()
            && bytes[j] == close
            && let Ok(n) = digits.parse::<u64>()
            && n > 0
        {
            return Some(CaseNumber::new(n));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn sanitising_drops_scripts_handlers_and_javascript_urls_and_keeps_cid_images() {
        let dirty = r#"<a href="javascript:alert(1)">x</a><img src="cid:logo" onerror="x()"><style>p{}</style>"#;
        let clean = sanitize_html(dirty);
        assert!(!clean.contains("javascript"), "{clean}");
        assert!(!clean.contains("onerror"), "{clean}");
        assert!(!clean.contains("style"), "{clean}");
        assert!(clean.contains(r#"src="cid:logo""#), "{clean}");
    }

    #[test]
    fn plain_text_keeps_lists_and_line_breaks() {
        assert_eq!(html_to_text("a<br>b<ul><li>one</li><li>two</li></ul>end"), "a\nb\n- one\n- two\n\nend");
        assert_eq!(html_to_text("5 &lt; 6 &#x41;&#66; &bogus; &"), "5 < 6 AB &bogus; &");
    }

    #[test]
    fn tags_in_other_shapes_are_not_case_numbers() {
        for s in ["[#XS-1]", "[#CS-]", "[#CS-0]", "#CS-12", "[#CS-12", "[#CS-1a]", ""] {
            assert_eq!(case_number_in_subject(s), None, "{s}");
        }
    }

    proptest! {
        #[test]
        fn sanitised_html_has_no_script_handler_or_javascript_url(
            parts in proptest::collection::vec(prop_oneof![
                Just("<script>alert(1)</script>".to_owned()),
                Just("<SCRIPT SRC=//x.js></SCRIPT>".to_owned()),
                Just("<img src=x onerror=alert(1)>".to_owned()),
                Just("<a href=\"javascript:alert(1)\">a</a>".to_owned()),
                Just("<a href=\"JaVaScRiPt:alert(1)\">a</a>".to_owned()),
                Just("<a href=\"&#106;avascript:alert(1)\">a</a>".to_owned()),
                Just("<div onmouseover='x'>".to_owned()),
                Just("<svg onload=alert(1)>".to_owned()),
                Just("<iframe src=javascript:alert(1)>".to_owned()),
                Just("<p>".to_owned()),
                Just("</p>".to_owned()),
                Just("<".to_owned()),
                Just("\"".to_owned()),
                "[a-zA-Z =<>/\"']{0,12}",
            ], 0..12)
        ) {
            let clean = sanitize_html(&parts.concat()).to_ascii_lowercase();
            // Text is escaped (`&lt;img onerror=…&gt;` is harmless words): look at the tags.
            let tags: Vec<&str> = clean.split('<').skip(1).map(|t| t.split('>').next().unwrap_or(t)).collect();
            for tag in tags {
                prop_assert!(!tag.starts_with("script") && !tag.starts_with("iframe"), "{}", clean);
                prop_assert!(!tag.contains("javascript:"), "{}", clean);
                for handler in ["onerror", "onload", "onmouseover", "onclick"] {
                    prop_assert!(!tag.contains(handler), "{}", clean);
                }
            }
        }

        #[test]
        fn the_subject_tag_is_found_in_any_rendering_of_the_number(
            n in 1u64..10_000_000_000,
            zeros in 0usize..4,
            hash in any::<bool>(),
            lower in any::<bool>(),
            sep in prop_oneof![Just(""), Just("-"), Just(" "), Just("_")],
            round in any::<bool>(),
            before in "(Re: |AW: |Fwd: |[a-z ]{0,10})",
            after in "[a-z !?]{0,20}",
        ) {
            let prefix = if lower { "cs" } else { "CS" };
            let (open, close) = if round { ('(', ')') } else { ('[', ']') };
            let digits = format!("{}{n}", "0".repeat(zeros));
            let subject = format!("{before}{open}{}{prefix}{sep}{digits}{close} {after}", if hash { "#" } else { "" });
            prop_assert_eq!(case_number_in_subject(&subject), Some(CaseNumber::new(n)));
            let written = tagged_subject(CaseNumber::new(n), &after);
            prop_assert_eq!(case_number_in_subject(&written), Some(CaseNumber::new(n)));
        }
    }
}
