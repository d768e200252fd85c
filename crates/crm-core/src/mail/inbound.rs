//! Mail in (CAS-8, EML-1): a raw RFC 5322 message parsed with `mail-parser` (pure: no I/O,
//! ADR 0027) into what the engine keeps and decides on ([`ParsedMail`]): addresses, the
//! threading headers, the subject, a plain-text body and a sanitised HTML body, the
//! attachments and inline images, every header by lower-case name, and whether the message
//! was sent by a machine ([`Automatic`]: an auto-reply, a bounce, bulk mail), which is
//! stored but never answered (no mail loops).
//!
//! Bad input never fails the whole message when something can be kept: a part whose
//! transfer encoding or charset is broken is dropped and noted in [`ParsedMail::notes`].
//! What cannot be a mail at all (empty, no header, over [`MAX_INBOUND_BYTES`]) is refused.

use std::collections::BTreeMap;

use mail_parser::{Address, HeaderValue, MessageParser, MimeHeaders, PartType};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::html::{html_to_text, sanitize_html};
use crate::customer::EmailAddress;
use crate::error::Error;

/// The largest raw message accepted (30 MiB).
pub const MAX_INBOUND_BYTES: usize = 30 * 1024 * 1024;
/// The longest header value kept for rules (bytes; longer ones are cut).
pub const MAX_HEADER_VALUE: usize = 2_000;
/// The most headers kept for rules.
pub const MAX_HEADERS: usize = 200;
/// The most `References` kept.
pub const MAX_THREAD_IDS: usize = 50;
/// The longest body kept as text (bytes; longer ones are cut and noted).
pub const MAX_TEXT_BODY: usize = 1_000_000;

/// Why a message was sent by a machine: stored, never answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Automatic {
    /// An out-of-office or other auto-reply (`Auto-Submitted`, `X-Autoreply`, `X-Autorespond`).
    AutoReply,
    /// A delivery status notification (`multipart/report`, a null return path `<>`).
    Bounce,
    /// Bulk or list mail (`Precedence: bulk|junk|list`, `List-Id`).
    Bulk,
}

/// An attachment or inline image of a received mail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailPart {
    /// The file name the sender gave (cleaned when stored), or one made up.
    pub filename: String,
    /// The media type the sender declared (the stored one is sniffed).
    pub declared_type: String,
    /// `Content-ID` without its angle brackets (an inline image referenced as `cid:`).
    pub content_id: Option<String>,
    /// Shown inline rather than attached.
    pub inline: bool,
    /// The decoded bytes.
    pub bytes: Vec<u8>,
}

/// A received message, parsed.
#[derive(Clone, Debug, PartialEq)]
pub struct ParsedMail {
    /// `Message-ID` with angle brackets; made up from the message's SHA-256 when missing
    /// (`<sha256@inbound.invalid>`), so a redelivery of the same bytes is still one mail.
    pub message_id: String,
    /// `In-Reply-To` ids, with angle brackets.
    pub in_reply_to: Vec<String>,
    /// `References` ids, with angle brackets, oldest first.
    pub references: Vec<String>,
    /// The sender's address, when it parses.
    pub from: Option<EmailAddress>,
    /// The sender's display name.
    pub from_name: Option<String>,
    /// To, as written (lower-case addresses).
    pub to: Vec<String>,
    /// Cc, as written (lower-case addresses).
    pub cc: Vec<String>,
    /// Subject (empty when none).
    pub subject: String,
    /// The plain-text body (the text part, or the HTML part as text).
    pub text: String,
    /// The HTML body, sanitised for display.
    pub html: Option<String>,
    /// Every header by lower-case name (the first value; bounded).
    pub headers: BTreeMap<String, String>,
    /// Attachments and inline images.
    pub parts: Vec<MailPart>,
    /// Sent by a machine.
    pub automatic: Option<Automatic>,
    /// What was dropped or cut, for the follow-up.
    pub notes: Vec<String>,
    /// The SHA-256 of the raw message (hex).
    pub sha256: String,
}

/// `<id>` from an id with or without brackets; `None` for an empty one.
fn bracketed(id: &str) -> Option<String> {
    let id = id.trim().trim_start_matches('<').trim_end_matches('>').trim();
    if id.is_empty() || id.len() > 900 || id.contains(char::is_whitespace) { None } else { Some(format!("<{id}>")) }
}

fn ids_of(value: &HeaderValue<'_>) -> Vec<String> {
    let list: Vec<String> = match value {
        HeaderValue::Text(s) => s.split_whitespace().filter_map(bracketed).collect(),
        HeaderValue::TextList(l) => l.iter().flat_map(|s| s.split_whitespace()).filter_map(bracketed).collect(),
        _ => Vec::new(),
    };
    let start = list.len().saturating_sub(MAX_THREAD_IDS);
    list[start..].to_vec()
}

fn addresses(value: Option<&Address<'_>>) -> Vec<String> {
    value
        .map(|a| a.iter().filter_map(|a| a.address()).map(|s| s.trim().to_ascii_lowercase()).collect())
        .unwrap_or_default()
}

fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn header_text(value: &HeaderValue<'_>) -> Option<String> {
    match value {
        HeaderValue::Text(s) => Some(s.to_string()),
        HeaderValue::TextList(l) => Some(l.join(" ")),
        HeaderValue::Address(a) => {
            Some(a.iter().filter_map(|a| a.address()).collect::<Vec<_>>().join(", ")).filter(|s| !s.is_empty())
        }
        HeaderValue::ContentType(ct) => {
            Some(ct.c_subtype.as_ref().map_or_else(|| ct.c_type.to_string(), |s| format!("{}/{s}", ct.c_type)))
        }
        HeaderValue::DateTime(d) => Some(d.to_rfc3339()),
        _ => None,
    }
}

/// Whether a message was sent by a machine, from its headers (lower-case names).
pub fn automatic_of(headers: &BTreeMap<String, String>, content_type: &str) -> Option<Automatic> {
    let h = |name: &str| headers.get(name).map(|v| v.trim().to_ascii_lowercase());
    let ct = content_type.to_ascii_lowercase();
    if ct.starts_with("multipart/report") || ct.starts_with("message/delivery-status") {
        return Some(Automatic::Bounce);
    }
    if h("return-path").is_some_and(|v| v.trim_matches(['<', '>', ' ']).is_empty()) {
        return Some(Automatic::Bounce);
    }
    if h("auto-submitted").is_some_and(|v| !v.is_empty() && v != "no")
        || h("x-autoreply").is_some()
        || h("x-autorespond").is_some()
        || h("x-auto-response-suppress").is_some_and(|v| v.contains("all") || v.contains("oof"))
    {
        return Some(Automatic::AutoReply);
    }
    if h("precedence").is_some_and(|v| matches!(v.as_str(), "bulk" | "junk" | "list" | "auto_reply"))
        || headers.contains_key("list-id")
    {
        return Some(Automatic::Bulk);
    }
    None
}

/// Parses a raw message.
///
/// # Errors
/// `TooLarge` on `message` past [`MAX_INBOUND_BYTES`]; a validation error on `message` for
/// an empty input or one with no header at all.
pub fn parse_mail(raw: &[u8]) -> Result<ParsedMail, Error> {
    if raw.len() > MAX_INBOUND_BYTES {
        return Err(Error::TooLarge {
            field: "message".into(),
            reason: format!("a message may have at most {MAX_INBOUND_BYTES} bytes, got {}", raw.len()),
        });
    }
    let sha256 = hex_digest(raw);
    let Some(message) = MessageParser::default().parse(raw) else {
        return Err(Error::invalid("message", "is not an RFC 5322 message (no header could be read)"));
    };
    if message.headers().is_empty() {
        return Err(Error::invalid("message", "is not an RFC 5322 message (no header could be read)"));
    }
    let mut notes = Vec::new();
    let mut headers = BTreeMap::new();
    for header in message.headers().iter() {
        if headers.len() >= MAX_HEADERS {
            notes.push(format!("headers past the first {MAX_HEADERS} were not kept for rules"));
            break;
        }
        let name = header.name().to_ascii_lowercase();
        if let Some(v) = header_text(header.value()) {
            headers.entry(name).or_insert_with(|| cut(&v, MAX_HEADER_VALUE).to_owned());
        }
    }
    if let Some(rp) = message.header_raw("Return-Path") {
        headers.insert("return-path".into(), cut(rp.trim(), MAX_HEADER_VALUE).to_owned());
    }
    let content_type = message
        .root_part()
        .content_type()
        .map(|ct| ct.c_subtype.as_ref().map_or_else(|| ct.c_type.to_string(), |s| format!("{}/{s}", ct.c_type)))
        .unwrap_or_else(|| "text/plain".into());
    let automatic = automatic_of(&headers, &content_type);
    let message_id = message.message_id().and_then(bracketed).unwrap_or_else(|| format!("<{sha256}@inbound.invalid>"));
    let from_addr = message.from().and_then(|a| a.first());
    let from = from_addr.and_then(|a| a.address()).and_then(|a| EmailAddress::parse(a.trim()).ok());
    if from.is_none() {
        notes.push("the sender's address is missing or does not parse".into());
    }
    let from_name = from_addr.and_then(|a| a.name()).map(|n| cut(n.trim(), 200).to_owned()).filter(|n| !n.is_empty());
    let subject =
        message.subject().map(|s| cut(&s.replace(['\r', '\n'], " "), 998).trim().to_owned()).unwrap_or_default();

    let mut parts = Vec::new();
    let mut html = None;
    let mut text = None;
    for (i, part) in message.parts.iter().enumerate() {
        let i = u32::try_from(i).unwrap_or(u32::MAX);
        let body_part = message.text_body.contains(&i) || message.html_body.contains(&i);
        if part.is_encoding_problem {
            notes.push(format!("part {i} had a broken encoding and was dropped"));
            continue;
        }
        match &part.body {
            PartType::Html(h) if body_part && html.is_none() => html = Some(h.to_string()),
            PartType::Text(t) if body_part && text.is_none() => text = Some(t.to_string()),
            PartType::Binary(b) | PartType::InlineBinary(b) if message.attachments.contains(&i) => {
                parts.push(attachment(part, i, b, matches!(part.body, PartType::InlineBinary(_))));
            }
            PartType::Text(t) | PartType::Html(t) if message.attachments.contains(&i) => {
                parts.push(attachment(part, i, t.as_bytes(), false));
            }
            PartType::Message(m) if message.attachments.contains(&i) => {
                parts.push(MailPart {
                    filename: format!("message-{i}.eml"),
                    declared_type: "message/rfc822".into(),
                    content_id: None,
                    inline: false,
                    bytes: m.raw_message().to_vec(),
                });
            }
            _ => {}
        }
    }
    let html = html.map(|h| sanitize_html(&h));
    let mut text = match (text, &html) {
        (Some(t), _) => t,
        (None, Some(h)) => html_to_text(h),
        (None, None) => String::new(),
    };
    if text.len() > MAX_TEXT_BODY {
        text = cut(&text, MAX_TEXT_BODY).to_owned();
        notes.push(format!("the text body was cut to {MAX_TEXT_BODY} bytes"));
    }
    Ok(ParsedMail {
        message_id,
        in_reply_to: ids_of(message.in_reply_to()),
        references: ids_of(message.references()),
        from,
        from_name,
        to: addresses(message.to()),
        cc: addresses(message.cc()),
        subject,
        text,
        html,
        headers,
        parts,
        automatic,
        notes,
        sha256,
    })
}

fn attachment(part: &mail_parser::MessagePart<'_>, i: u32, bytes: &[u8], inline: bool) -> MailPart {
    let declared_type = part
        .content_type()
        .map(|ct| ct.c_subtype.as_ref().map_or_else(|| ct.c_type.to_string(), |s| format!("{}/{s}", ct.c_type)))
        .unwrap_or_else(|| "application/octet-stream".into());
    let content_id = part.content_id().and_then(bracketed).map(|id| id[1..id.len() - 1].to_owned());
    let filename = part
        .attachment_name()
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| format!("part-{i}"));
    MailPart {
        filename,
        declared_type,
        content_id,
        inline: inline || part.content_disposition().is_some_and(|d| d.is_inline()),
        bytes: bytes.to_vec(),
    }
}

/// The lower-case hex SHA-256 of `bytes`.
pub fn hex_digest(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let digest = Sha256::digest(bytes);
    digest.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

impl ParsedMail {
    /// Every id this mail refers to, for threading: `In-Reply-To` first, then `References`
    /// newest first.
    pub fn thread_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.in_reply_to.clone();
        ids.extend(self.references.iter().rev().cloned());
        ids.dedup();
        ids
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> ParsedMail {
        parse_mail(raw.as_bytes()).unwrap()
    }

    #[test]
    fn machines_are_recognised_by_their_headers_and_reports() {
        let base = "From: a@b.example\r\nSubject: x\r\n";
        let cases = [
            ("Auto-Submitted: auto-replied\r\n", Some(Automatic::AutoReply)),
            ("Auto-Submitted: no\r\n", None),
            ("X-Autoreply: yes\r\n", Some(Automatic::AutoReply)),
            ("Precedence: bulk\r\n", Some(Automatic::Bulk)),
            ("Precedence: junk\r\n", Some(Automatic::Bulk)),
            ("List-Id: <news.b.example>\r\n", Some(Automatic::Bulk)),
            ("Return-Path: <>\r\n", Some(Automatic::Bounce)),
            ("Content-Type: multipart/report; report-type=delivery-status; boundary=r\r\n", Some(Automatic::Bounce)),
            ("", None),
        ];
        for (extra, expected) in cases {
            let m = parse(&format!("{extra}{base}\r\nbody\r\n"));
            assert_eq!(m.automatic, expected, "{extra}");
        }
    }

    #[test]
    fn charsets_encodings_and_threading_headers_are_decoded() {
        let m = parse(
            "From: =?iso-8859-1?q?J=E9r=F4me?= <Jerome@B.example>\r\nTo: a@x.example, \"B\" <B@X.example>\r\n\
             Subject: =?utf-8?b?Q2Fmw6k=?=\r\nMessage-ID: abc@b.example\r\nIn-Reply-To: <p@x>\r\n\
             References: <o@x>\r\n <p@x>\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\
             Content-Transfer-Encoding: quoted-printable\r\n\r\nd=E9j=E0 vu\r\n",
        );
        assert_eq!(m.from_name.as_deref(), Some("Jérôme"));
        assert_eq!(m.from.as_ref().map(EmailAddress::key).as_deref(), Some("jerome@b.example"));
        assert_eq!(m.to, ["a@x.example", "b@x.example"]);
        assert_eq!(m.subject, "Café");
        assert_eq!(m.message_id, "<abc@b.example>");
        assert_eq!(m.thread_ids(), ["<p@x>", "<o@x>"]);
        assert_eq!(m.text.trim(), "déjà vu");
    }

    #[test]
    fn a_mail_without_message_id_is_named_by_its_bytes() {
        let raw = "From: a@b.example\r\nSubject: x\r\n\r\nhello\r\n";
        let (a, b) = (parse(raw), parse(raw));
        assert_eq!(a.message_id, b.message_id);
        assert!(a.message_id.ends_with("@inbound.invalid>"), "{}", a.message_id);
        assert_ne!(parse("From: a@b.example\r\nSubject: y\r\n\r\nhello\r\n").message_id, a.message_id);
    }

    #[test]
    fn what_is_not_a_mail_is_refused_and_the_size_is_bounded() {
        assert!(parse_mail(b"").is_err());
        let big = vec![b'a'; MAX_INBOUND_BYTES + 1];
        assert!(matches!(parse_mail(&big), Err(Error::TooLarge { .. })));
    }

    #[test]
    fn inline_images_and_attachments_are_parts_and_html_is_sanitised() {
        let m = parse(
            "From: a@b.example\r\nSubject: x\r\nContent-Type: multipart/related; boundary=r\r\n\r\n--r\r\n\
             Content-Type: text/html\r\n\r\n<p>Hi <img src=\"cid:logo@x\" onerror=\"y()\"></p><script>z()</script>\r\n\
             --r\r\nContent-Type: image/png\r\nContent-ID: <logo@x>\r\nContent-Disposition: inline\r\n\
             Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--r--\r\n",
        );
        let html = m.html.unwrap();
        assert!(html.contains("cid:logo@x") && !html.contains("onerror") && !html.contains("script"), "{html}");
        assert_eq!(m.parts.len(), 1);
        assert_eq!((m.parts[0].content_id.as_deref(), m.parts[0].inline), (Some("logo@x"), true));
        assert_eq!(m.text.trim(), "Hi");
    }
}
