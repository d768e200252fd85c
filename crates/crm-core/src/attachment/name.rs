//! File names of attachments: what a client sends is cleaned into a name that is safe to
//! store, show and hand back in a `Content-Disposition` (and to write to any disk a user
//! saves it on). A path is refused, not cleaned: `../x` is not a file name.

use unicode_normalization::UnicodeNormalization;

/// The longest file name, in bytes of UTF-8 (what common file systems take).
pub const MAX_FILENAME_BYTES: usize = 255;

/// The device names Windows reserves, whatever the extension (`con.txt` included).
const RESERVED: &[&str] = &[
    "con", "prn", "aux", "nul", "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8", "com9", "lpt1", "lpt2",
    "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
];

/// Whether `c` is dropped from names: control characters (C0, DEL, C1) and the invisible
/// bidirectional controls that make `evil\u{202e}txt.exe` read as `evilexe.txt`.
fn dropped(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// What is trimmed from the end of a name: white space and dots.
fn trailing(c: char) -> bool {
    c.is_whitespace() || c == '.'
}

/// Cleans a file name sent by a client: NFC, control and bidirectional characters dropped,
/// the characters Windows forbids (`<>:"|?*`) replaced by `_`, surrounding spaces and
/// trailing dots trimmed, a reserved device name (`CON`, `NUL.txt` …) prefixed with `_`,
/// and at most [`MAX_FILENAME_BYTES`] (the stem is shortened, the extension kept).
/// Cleaning a clean name changes nothing.
///
/// # Errors
/// The reason, when the name contains a path separator (`/` or `\`), is `.` or `..`, or is
/// empty once cleaned.
pub fn sanitize_filename(raw: &str) -> Result<String, String> {
    if raw.contains(['/', '\\']) {
        return Err("must be a file name, not a path (it contains / or \\)".into());
    }
    let kept: String = raw.chars().filter(|c| !dropped(*c)).collect();
    let cleaned: String =
        kept.nfc().map(|c| if matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*') { '_' } else { c }).collect();
    let trimmed = cleaned.trim_end_matches(trailing).trim_start();
    if trimmed.is_empty() {
        return Err("is empty once control characters, spaces and trailing dots are removed".into());
    }
    if trimmed.chars().all(|c| c == '.') {
        return Err("must be a file name, not . or ..".into());
    }
    let stem = trimmed.split('.').next().unwrap_or_default().trim_end();
    let mut name =
        if RESERVED.contains(&stem.to_ascii_lowercase().as_str()) { format!("_{trimmed}") } else { trimmed.to_owned() };
    if name.len() > MAX_FILENAME_BYTES {
        name = shorten(&name);
    }
    Ok(name)
}

/// `name` cut to [`MAX_FILENAME_BYTES`], keeping a short extension (at most 16 bytes).
fn shorten(name: &str) -> String {
    let ext = name.rfind('.').map(|i| &name[i..]).filter(|e| e.len() <= 16 && e.len() < name.len()).unwrap_or("");
    let stem = &name[..name.len() - ext.len()];
    let mut end = MAX_FILENAME_BYTES - ext.len();
    while !stem.is_char_boundary(end) {
        end -= 1;
    }
    let cut = stem[..end].trim_end_matches(trailing);
    format!("{cut}{ext}")
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn check(raw: &str, expect: Result<&str, ()>) {
        assert_eq!(sanitize_filename(raw).map_err(|_| ()), expect.map(str::to_owned), "{raw:?}");
    }

    #[test]
    fn names_are_cleaned_and_paths_refused() {
        check("report.pdf", Ok("report.pdf"));
        check("  Relevé de compte.pdf  ", Ok("Relevé de compte.pdf"));
        check("a\u{0}b\u{7}c\r\n.txt", Ok("abc.txt"));
        check("evil\u{202e}fdp.exe", Ok("evilfdp.exe"));
        check("what?<now>|x*.txt", Ok("what__now__x_.txt"));
        check("trailing...", Ok("trailing"));
        check("CON", Ok("_CON"));
        check("nul.txt", Ok("_nul.txt"));
        check("console.txt", Ok("console.txt"));
        check("../etc/passwd", Err(()));
        check("..\\boot.ini", Err(()));
        check("/abs", Err(()));
        check("..", Err(()));
        check(".", Err(()));
        check("   ", Err(()));
        check("\u{1}\u{2}", Err(()));
    }

    #[test]
    fn long_names_keep_their_extension() {
        let name = sanitize_filename(&format!("{}.jpeg", "é".repeat(300))).unwrap();
        assert!(name.len() <= MAX_FILENAME_BYTES);
        assert!(name.ends_with(".jpeg"));
    }

    proptest! {
        #[test]
        fn a_cleaned_name_is_safe_and_stays_as_it_is(raw in "\\PC{0,300}|[\\x00-\\x7f]{0,40}") {
            if let Ok(name) = sanitize_filename(&raw) {
                prop_assert!(!name.is_empty() && name.len() <= MAX_FILENAME_BYTES);
                prop_assert!(!name.contains(['/', '\\']) && name != "." && name != "..");
                prop_assert!(!name.chars().any(dropped));
                prop_assert_eq!(sanitize_filename(&name), Ok(name));
            } else {
                prop_assert!(true);
            }
        }
    }
}
