//! The notify rule: defaults, what an agent may send from, header injection, empty bodies.

use chrono::TimeZone;

use super::*;

fn addr(s: &str) -> EmailAddress {
    EmailAddress::parse(s).unwrap()
}

struct Fixture {
    default_from: EmailAddress,
    allowed: Vec<EmailAddress>,
    customer: Vec<EmailAddress>,
    earlier: Vec<String>,
    attachments: Vec<crate::attachment::Attachment>,
}

fn fixture() -> Fixture {
    Fixture {
        default_from: addr("agent@crm.example"),
        allowed: vec![addr("agent@crm.example"), addr("support@crm.example")],
        customer: vec![addr("jane@customer.example"), addr("jane.work@customer.example")],
        earlier: vec!["<a@crm.example>".into(), "<b@crm.example>".into()],
        attachments: vec![stored(1, "logo.png", "image/png", 1_000), stored(2, "terms.pdf", "application/pdf", 2_000)],
    }
}

/// A stored attachment of the case.
fn stored(n: u128, name: &str, content_type: &str, size: u64) -> crate::attachment::Attachment {
    crate::attachment::Attachment {
        id: crate::ids::AttachmentId::from_uuid(uuid::Uuid::from_u128(n)),
        tenant: crate::ids::TenantId::from_uuid(uuid::Uuid::from_u128(1)),
        case: crate::ids::CaseId::from_uuid(uuid::Uuid::from_u128(2)),
        follow_up: None,
        filename: name.into(),
        content_type: content_type.into(),
        size,
        sha256: crate::ports::BlobKey::from_digest(&[u8::try_from(n).unwrap(); 32]),
        origin: crate::attachment::AttachmentOrigin::File,
        uploaded_by: crate::ids::AgentId::from_uuid(uuid::Uuid::from_u128(3)),
        uploaded_at: Utc.with_ymd_and_hms(2026, 12, 7, 8, 0, 0).unwrap(),
        original: None,
    }
}

fn ctx(f: &Fixture) -> NotifyContext<'_> {
    NotifyContext {
        number: CaseNumber::new(123),
        case_subject: "Broken router",
        default_from: Some(&f.default_from),
        allowed_from: &f.allowed,
        customer_addresses: &f.customer,
        signature: Some("Alex\nSupport <team>"),
        earlier: &f.earlier,
        attachments: &f.attachments,
    }
}

fn build(req: NotifyRequest) -> Result<CaseMail, ValidationErrors> {
    let f = fixture();
    let id = FollowUpId::from_uuid(uuid::Uuid::from_u128(7));
    let now = Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).unwrap();
    req.build(
        &ctx(&f),
        id,
        TenantId::from_uuid(uuid::Uuid::from_u128(1)),
        CaseId::from_uuid(uuid::Uuid::from_u128(2)),
        now,
    )
}

fn fields(e: &ValidationErrors) -> Vec<&str> {
    e.errors().iter().map(|e| e.field.as_str()).collect()
}

#[test]
fn defaults_fill_from_to_subject_signature_and_threading() {
    let mail = build(NotifyRequest { html: "<p>Fixed <script>x()</script></p>".into(), ..Default::default() }).unwrap();
    assert_eq!(mail.from, addr("agent@crm.example"));
    assert_eq!(mail.to, vec![addr("jane@customer.example")]);
    assert_eq!(mail.subject, "[#CS-000123] Broken router");
    assert_eq!(mail.html_body, "<p>Fixed </p><p>-- <br>Alex<br>Support &lt;team&gt;</p>");
    assert_eq!(mail.text_body, "Fixed\n\n--\nAlex\nSupport <team>");
    assert_eq!(mail.message_id, "<00000000-0000-0000-0000-000000000007@crm.example>");
    assert_eq!(mail.in_reply_to.as_deref(), Some("<b@crm.example>"));
    assert_eq!(mail.references.len(), 2);
    assert_eq!(mail.state, MailState::Queued);
}

#[test]
fn a_group_address_may_be_used_and_a_foreign_one_may_not() {
    let ok = build(NotifyRequest { from: Some("Support@crm.example".into()), html: "x".into(), ..Default::default() });
    assert_eq!(ok.unwrap().from.key(), "support@crm.example");
    let bad = build(NotifyRequest { from: Some("ceo@crm.example".into()), html: "x".into(), ..Default::default() });
    assert_eq!(fields(&bad.unwrap_err()), ["from"]);
    let long = format!("{}@crm.example", "a".repeat(250));
    let bad = build(NotifyRequest { from: Some(long), html: "x".into(), ..Default::default() });
    assert!(bad.unwrap_err().errors()[0].reason.contains("254"));
}

#[test]
fn header_injection_and_bad_addresses_are_refused_by_field() {
    let e = build(NotifyRequest {
        subject: Some("Hi\r\nBcc: victim@evil.example".into()),
        to: Some(vec!["jane@customer.example\r\nBcc: x@evil.example".into()]),
        cc: vec!["not an address".into()],
        bcc: vec!["ok@customer.example".into()],
        html: "<p>x</p>".into(),
        ..Default::default()
    })
    .unwrap_err();
    assert_eq!(fields(&e), ["to[0]", "cc[0]", "subject"]);
}

#[test]
fn an_empty_body_or_no_recipient_is_refused() {
    let e = build(NotifyRequest { to: Some(vec![]), html: "<script>only</script>".into(), ..Default::default() })
        .unwrap_err();
    assert_eq!(fields(&e), ["to", "html"]);
}

#[test]
fn the_signature_can_be_left_out_and_a_tagged_subject_is_kept() {
    let mail = build(NotifyRequest {
        subject: Some("Re: [#CS-000123] Broken router".into()),
        html: "Hello".into(),
        signature: Some(false),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(mail.subject, "Re: [#CS-000123] Broken router");
    assert_eq!(mail.html_body, "Hello");
}

#[test]
fn attachments_are_the_cases_an_image_shown_by_cid_goes_inline_and_limits_hold() {
    let id = |n: u128| crate::ids::AttachmentId::from_uuid(uuid::Uuid::from_u128(n));
    let html = format!(r#"<p>Our logo: <img src="cid:{}"></p>"#, id(1));
    let mail = build(NotifyRequest { html, attachments: vec![id(2), id(1)], ..Default::default() }).unwrap();
    let got: Vec<(&str, bool)> = mail.attachments.iter().map(|a| (a.filename.as_str(), a.inline)).collect();
    assert_eq!(got, vec![("terms.pdf", false), ("logo.png", true)]);
    assert_eq!(mail.attachments[1].content_id(), id(1).to_string());
    assert!(mail.html_body.contains(&format!("cid:{}", id(1))), "{}", mail.html_body);

    let shown_nowhere =
        build(NotifyRequest { html: "<p>x</p>".into(), attachments: vec![id(1)], ..Default::default() });
    assert!(!shown_nowhere.unwrap().attachments[0].inline, "an image the HTML does not show is attached");

    let err =
        build(NotifyRequest { html: "<p>x</p>".into(), attachments: vec![id(9), id(2), id(2)], ..Default::default() })
            .unwrap_err();
    let fields: Vec<&str> = err.errors().iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, vec!["attachments[0]", "attachments[2]"]);
    let many =
        build(NotifyRequest { html: "<p>x</p>".into(), attachments: (0..21).map(id).collect(), ..Default::default() })
            .unwrap_err();
    assert_eq!(many.errors()[0].field, "attachments");
}
