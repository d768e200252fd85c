//! Unit and property tests of the audit model and its hash chain.

use proptest::prelude::*;
use serde_json::json;
use uuid::Uuid;

use super::*;
use crate::ids::CaseId;

fn tenant() -> TenantId {
    TenantId::from_uuid(Uuid::from_u128(7))
}

fn entry(n: u128, action: &str) -> AuditEntry {
    AuditEntry {
        id: EventId::from_uuid(Uuid::from_u128(1_000 + n)),
        tenant: tenant(),
        at: DateTime::from_timestamp(1_700_000_000 + i64::try_from(n).unwrap(), 0).unwrap(),
        actor: AuditActor { agent: Some(AgentId::from_uuid(Uuid::from_u128(3))), token: None },
        action: action.to_owned(),
        target: AuditTarget { kind: "case".into(), id: Uuid::from_u128(n).to_string() },
        events: vec![action.to_owned()],
        changes: vec![FieldChange { field: "subject".into(), before: json!("a"), after: json!(format!("b{n}")) }],
        request_id: Some(format!("req-{n}")),
        source_ip: Some("192.0.2.1".into()),
        channel: Channel::Api,
    }
}

fn chained(n: usize) -> (Vec<AuditRecord>, ChainHead) {
    let pending = (0..n).map(|i| entry(i as u128, "case_updated")).collect();
    chain(&ChainHead::empty(tenant()), pending)
}

fn verify(records: &[AuditRecord], head: &ChainHead) -> Result<u64, ChainBreak> {
    let mut v = ChainVerifier::new(head);
    for r in records {
        v.push(r)?;
    }
    v.finish(head)
}

#[test]
fn changes_name_differing_fields_redact_secrets_and_skip_bookkeeping() {
    let before = json!({"subject": "a", "secret": "s1", "version": 1, "same": 1});
    let after = json!({"subject": "b", "secret": "s2", "version": 2, "same": 1, "new": true});
    let changes = changes_between(Some(&before), Some(&after));
    let fields: Vec<&str> = changes.iter().map(|c| c.field.as_str()).collect();
    assert_eq!(fields, ["new", "secret", "subject"]);
    assert_eq!(changes[1].before, json!(REDACTED));
    assert_eq!(changes[1].after, json!(REDACTED));
    assert_eq!(changes[2], FieldChange { field: "subject".into(), before: json!("a"), after: json!("b") });
    assert_eq!(changes[0].before, Value::Null);
    assert!(is_secret("webhook_secret") && is_secret("token_hash") && !is_secret("subject"));
}

#[test]
fn a_write_is_one_entry_named_by_its_first_event_with_the_request_of_its_note() {
    let case = CaseId::from_uuid(Uuid::from_u128(9));
    let context = RequestContext {
        request_id: Some("r1".into()),
        source_ip: Some("198.51.100.4".into()),
        channel: Channel::Console,
        token: Some(TokenId::from_uuid(Uuid::from_u128(5))),
    };
    let event = |n: u128, kind: EventKind, audit: EventAudit| DomainEvent {
        id: EventId::from_uuid(Uuid::from_u128(n)),
        tenant: tenant(),
        at: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
        actor: Some(AgentId::from_uuid(Uuid::from_u128(3))),
        kind,
        audit,
    };
    let note = EventAudit::new(AuditNote { context: context.clone(), changes: Vec::new() });
    let events = [
        event(1, EventKind::CaseUpdated { case, fields: vec!["status".into()] }, note.clone()),
        event(2, EventKind::CaseAssigned { case, assignee: None, group: None }, note),
    ];
    let e = AuditEntry::of_write(&events).unwrap();
    assert_eq!(e.id, events[0].id);
    assert_eq!(e.action, "case_updated");
    assert_eq!(e.target, AuditTarget { kind: "case".into(), id: case.to_string() });
    assert_eq!(e.events, ["case_updated", "case_assigned"]);
    assert_eq!((e.channel, e.request_id.as_deref(), e.actor.token), (Channel::Console, Some("r1"), context.token));
    assert!(AuditEntry::of_write(&[]).is_none());

    // The application's own work (no note) is the rule channel; the note never serializes.
    let system = event(3, EventKind::CaseRestored { case }, EventAudit::default());
    assert_eq!(AuditEntry::of_write(std::slice::from_ref(&system)).unwrap().channel, Channel::Rule);
    assert!(serde_json::to_value(&events[0]).unwrap().get("audit").is_none());
    assert_eq!(events[0].clone(), DomainEvent { audit: EventAudit::default(), ..events[0].clone() });
}

/// The administration events name the record they change (ADM-4), carry their wire name,
/// and are in the webhook catalogue (not named by its fallback).
#[test]
fn administration_events_name_their_record_and_are_catalogued() {
    use crate::ids::{FieldDefinitionId, GroupId, RoleId};
    let id = Uuid::from_u128;
    let cases = [
        (EventKind::AgentCreated { agent: AgentId::from_uuid(id(1)) }, "agent", id(1).to_string()),
        (EventKind::AgentUpdated { agent: AgentId::from_uuid(id(1)), fields: vec![] }, "agent", id(1).to_string()),
        (EventKind::AgentPasswordSet { agent: AgentId::from_uuid(id(1)) }, "agent", id(1).to_string()),
        (EventKind::GroupDeleted { group: GroupId::from_uuid(id(2)) }, "group", id(2).to_string()),
        (EventKind::RoleWritten { role: RoleId::from_uuid(id(3)), version: 2 }, "role", id(3).to_string()),
        (
            EventKind::ApiTokenCreated { token: TokenId::from_uuid(id(4)), agent: AgentId::from_uuid(id(1)) },
            "api_token",
            id(4).to_string(),
        ),
        (EventKind::ApiTokenRevoked { token: TokenId::from_uuid(id(4)) }, "api_token", id(4).to_string()),
        (
            EventKind::CustomFieldRetired { custom_field: FieldDefinitionId::from_uuid(id(5)), version: 3 },
            "custom_field",
            id(5).to_string(),
        ),
        (EventKind::DispositionWritten { code: "sale".into() }, "disposition", "sale".to_owned()),
        (EventKind::QueueWritten { queue: "support".into() }, "queue", "support".to_owned()),
        (EventKind::TenantUpdated { tenant: tenant(), fields: vec![] }, "tenant", tenant().to_string()),
    ];
    for (kind, target_kind, target_id) in cases {
        assert_eq!(target_of(&kind), AuditTarget { kind: target_kind.to_owned(), id: target_id });
        let name = kind.name();
        assert_eq!(serde_json::to_value(&kind).unwrap()["type"], json!(name));
        assert!(crate::webhook::EVENT_TYPES.iter().any(|t| t.kind == name), "{name} is not in the catalogue");
    }
}

#[test]
fn a_chain_verifies_and_a_pruned_chain_verifies_from_its_anchor() {
    let (records, head) = chained(5);
    assert_eq!(records[0].prev_hash, GENESIS);
    assert_eq!(head.seq, 5);
    assert_eq!(verify(&records, &head), Ok(5));
    let pruned = head.pruned_to(Some((3, &records[2].prev_hash)));
    assert_eq!(verify(&records[2..], &pruned), Ok(3));
    let emptied = head.pruned_to(None);
    assert_eq!(verify(&[], &emptied), Ok(0));
    // Appending after pruning everything continues the chain.
    let (more, head2) = chain(&emptied, vec![entry(9, "case_created")]);
    assert_eq!(more[0].seq, 6);
    assert_eq!(verify(&more, &head2), Ok(1));
}

#[test]
fn removing_the_last_entry_or_an_inner_one_is_named() {
    let (records, head) = chained(4);
    assert_eq!(verify(&records[..3], &head).unwrap_err().seq, 4);
    let mut gap = records;
    gap.remove(1);
    let broken = verify(&gap, &head).unwrap_err();
    assert_eq!(broken.seq, 2);
    assert!(broken.reason.contains("missing"), "{broken}");
}

#[test]
fn csv_rows_quote_what_they_must() {
    let (records, _) = chained(1);
    let row = records[0].csv_row();
    assert_eq!(row.split(',').next(), Some("1"));
    assert!(row.contains("\"[{\"\"field\"\":\"\"subject\"\""), "{row}");
    assert_eq!(CSV_HEADER.split(',').count(), 15);
}

proptest! {
    /// Changing any one entry in any way (its content, or its content and its own hash) is
    /// found, and the break names that entry or, when its hash was recomputed, the next one
    /// (whose link no longer holds) or the head.
    #[test]
    fn tampering_with_any_entry_is_named(n in 1usize..12, pick in any::<prop::sample::Index>(), what in 0u8..5, rehash in any::<bool>()) {
        let (mut records, head) = chained(n);
        let i = pick.index(n);
        let r = &mut records[i];
        match what {
            0 => r.entry.action = "case_deleted".into(),
            1 => r.entry.actor.agent = None,
            2 => r.entry.changes[0].after = json!("forged"),
            3 => r.entry.at += chrono::TimeDelta::seconds(1),
            _ => r.entry.source_ip = Some("203.0.113.9".into()),
        }
        if rehash {
            r.hash = entry_hash(&r.prev_hash, r.seq, &r.entry);
        }
        let broken = verify(&records, &head).unwrap_err();
        let seq = u64::try_from(i).unwrap() + 1;
        if rehash {
            prop_assert_eq!(broken.seq, if i + 1 == n { seq } else { seq + 1 });
        } else {
            prop_assert_eq!(broken.seq, seq);
            prop_assert_eq!(broken.id, Some(records[i].entry.id));
        }
    }
}
