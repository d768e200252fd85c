//! The rules of attachments: limits, content checks, who deletes, list order and scope.

use chrono::TimeZone;
use uuid::Uuid;

use super::sniff::samples::png_header;
use super::*;
use crate::access::Role;

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_000 + secs, 0).single().unwrap_or_default()
}

fn attachment(n: u128, name: &str, follow_up: Option<u128>, secs: i64) -> Attachment {
    Attachment {
        id: AttachmentId::from_uuid(Uuid::from_u128(n)),
        tenant: TenantId::from_uuid(Uuid::from_u128(1)),
        case: CaseId::from_uuid(Uuid::from_u128(2)),
        follow_up: follow_up.map(|f| FollowUpId::from_uuid(Uuid::from_u128(f))),
        filename: name.into(),
        content_type: "text/plain".into(),
        size: 3,
        sha256: BlobKey::from_digest(&[0; 32]),
        origin: AttachmentOrigin::File,
        uploaded_by: AgentId::from_uuid(Uuid::from_u128(7)),
        uploaded_at: at(secs),
        original: None,
    }
}

#[test]
fn limits_depend_on_the_origin() {
    let limits = AttachmentLimits::default();
    assert_eq!(limits.max_for(AttachmentOrigin::File), 20 * 1024 * 1024);
    assert_eq!(limits.max_for(AttachmentOrigin::Pasted), 10 * 1024 * 1024);
    let Error::TooLarge { field, reason } = limits.too_large(AttachmentOrigin::Pasted) else { panic!("not too large") };
    assert_eq!(field, "file");
    assert!(reason.contains("10485760"), "{reason}");
}

#[test]
fn content_is_checked_against_the_origin_and_the_pixel_limit() {
    let limits = AttachmentLimits::default();
    let text = sniff(b"hello");
    let photo = sniff(&png_header(4000, 3000));
    let bomb = sniff(&png_header(100_000, 100_000));
    assert!(limits.check_content(AttachmentOrigin::File, &text, 5).is_ok());
    assert!(limits.check_content(AttachmentOrigin::Pasted, &photo, 5).is_ok());
    let field = |r: Result<()>| match r {
        Err(Error::Validation(v)) => v.errors()[0].field.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(field(limits.check_content(AttachmentOrigin::Pasted, &text, 5)), "file");
    assert_eq!(field(limits.check_content(AttachmentOrigin::File, &bomb, 5)), "file");
    assert_eq!(field(limits.check_content(AttachmentOrigin::File, &sniff(&png_header(0, 10)), 5)), "file");
    assert_eq!(field(limits.check_content(AttachmentOrigin::File, &text, 0)), "file", "empty");
}

#[test]
fn the_uploader_deletes_with_case_edit_others_need_case_delete() {
    let a = attachment(1, "a.txt", None, 0);
    let tenant = a.tenant;
    let uploader = Actor::with_role(tenant, a.uploaded_by, Role::Agent);
    let colleague = Actor::with_role(tenant, AgentId::from_uuid(Uuid::from_u128(8)), Role::Agent);
    let supervisor = Actor::with_role(tenant, AgentId::from_uuid(Uuid::from_u128(9)), Role::Supervisor);
    assert!(a.check_delete(&uploader).is_ok());
    assert!(matches!(
        a.check_delete(&colleague),
        Err(Error::Forbidden { permission: Some(Permission::CaseDelete), .. })
    ));
    assert!(a.check_delete(&supervisor).is_ok());
    let mut reader = uploader;
    reader.permissions.remove(&Permission::CaseEdit);
    assert!(a.check_delete(&reader).is_err(), "without case.edit, not even the uploader");
}

#[test]
fn lists_sort_by_date_or_name_and_filter_case_against_follow_ups() {
    let mut list = vec![
        attachment(1, "b.txt", None, 10),
        attachment(2, "A.txt", Some(5), 30),
        attachment(3, "c.txt", Some(6), 20),
        attachment(4, "a.txt", None, 40),
    ];
    let ids = |l: &[Attachment]| l.iter().map(|a| a.id.as_uuid().as_u128()).collect::<Vec<_>>();
    AttachmentSort::Date.sort(&mut list);
    assert_eq!(ids(&list), [4, 2, 3, 1]);
    AttachmentSort::Name.sort(&mut list);
    assert_eq!(ids(&list), [2, 4, 1, 3], "case ignored, then byte order");
    let in_scope = |s: AttachmentScope| ids(&list.iter().filter(|a| s.matches(a)).cloned().collect::<Vec<_>>());
    assert_eq!(in_scope(AttachmentScope::Case), [4, 1]);
    assert_eq!(in_scope(AttachmentScope::FollowUps), [2, 3]);
    assert_eq!(in_scope(AttachmentScope::FollowUp(FollowUpId::from_uuid(Uuid::from_u128(6)))), [3]);
    assert_eq!(in_scope(AttachmentScope::All).len(), 4);
}

#[test]
fn origins_parse_from_their_wire_names() {
    for o in [AttachmentOrigin::File, AttachmentOrigin::Pasted] {
        assert_eq!(o.as_str().parse::<AttachmentOrigin>(), Ok(o));
    }
    assert!("inline".parse::<AttachmentOrigin>().is_err());
}
