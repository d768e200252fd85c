//! The fakes behave as documented: clock, ids, external CRM (idempotent pushes, failures),
//! mailer, and the seeded world.

use chrono::Duration;
use crm_core::customer::{EmailAddress, PhoneNumber};
use crm_core::error::ConnectorError;
use crm_core::external::{
    ActivityPush, ExternalCreate, ExternalObject, ExternalPerson, ExternalRecord, ExternalRef, ExternalSystem,
};
use crm_core::interaction::{Channel, Direction};
use crm_core::ports::{ExternalCrm, MailError, Mailer, OutgoingMail};
use crm_core::time::{Clock, IdGenerator};
use crm_testkit::fixtures::{World, region_fr};
use crm_testkit::{FakeExternalCrm, FakeMailer, FakeOperation, ManualClock, SequentialIds};
use uuid::Uuid;

#[test]
fn manual_clock_moves_only_when_told() {
    let clock = ManualClock::default();
    let start = clock.now();
    assert_eq!(clock.now(), start);
    assert_eq!(clock.advance(Duration::hours(2)), start + Duration::hours(2));
    clock.set(start);
    assert_eq!(clock.now(), start);
}

#[test]
fn sequential_ids_are_deterministic_and_seeded() {
    let ids = SequentialIds::new();
    assert_eq!([ids.new_uuid(), ids.new_uuid()], [Uuid::from_u128(1), Uuid::from_u128(2)]);
    assert_eq!(ids.issued(), 2);
    let other = SequentialIds::with_seed(5);
    assert_eq!(other.new_uuid(), Uuid::from_u128((5u128 << 64) | 1));
}

fn push(key: &str, target: &ExternalRef, notes: &str) -> ActivityPush {
    ActivityPush {
        external_key: key.into(),
        interaction: crm_core::ids::InteractionId::from_uuid(Uuid::from_u128(1)),
        target: target.clone(),
        subject: "Call: Jeanne".into(),
        channel: Channel::Voice,
        direction: Direction::Inbound,
        contact_name: Some("Jeanne".into()),
        started_at: crm_testkit::fakes::default_start(),
        duration_seconds: Some(60),
        disposition: None,
        notes: notes.into(),
    }
}

#[tokio::test]
async fn fake_crm_applies_pushes_idempotently_and_fails_on_demand() {
    let crm = FakeExternalCrm::new(ExternalSystem::Salesforce);
    let contact =
        ExternalRef { system: ExternalSystem::Salesforce, object: ExternalObject::Contact, id: "003A".into() };
    crm.add_record(ExternalRecord {
        reference: contact.clone(),
        name: "Jeanne Dupont".into(),
        phones: vec!["+33 1 23 45 67 89".into()],
        emails: vec!["Jeanne@Example.com".into()],
        account: None,
        url: None,
    });
    let phone = PhoneNumber::parse("01 23 45 67 89", Some(region_fr())).unwrap();
    assert_eq!(crm.find_by_phone(&phone).await.unwrap().len(), 1);
    let email = EmailAddress::parse("jeanne@example.COM").unwrap();
    assert_eq!(crm.find_by_email(&email).await.unwrap().len(), 1);
    let other = EmailAddress::parse("nobody@example.com").unwrap();
    assert!(crm.find_by_email(&other).await.unwrap().is_empty());

    let first = crm.push_activity(&push("k1", &contact, "a")).await.unwrap();
    let again = crm.push_activity(&push("k1", &contact, "b")).await.unwrap();
    assert_eq!(first, again, "the same key is the same remote activity");
    assert_eq!(crm.activities().len(), 1);
    assert_eq!(crm.activities()[0].notes, "b");
    assert_eq!(crm.push_calls().len(), 2);
    crm.push_activity(&push("k2", &contact, "c")).await.unwrap();
    assert_eq!(crm.activities().len(), 2);

    crm.fail_next_on(FakeOperation::PushActivity, 2, FakeExternalCrm::transport_error);
    assert!(crm.find_by_phone(&phone).await.is_ok(), "failures aimed at pushes spare searches");
    for _ in 0..2 {
        assert!(matches!(crm.push_activity(&push("k3", &contact, "")).await, Err(ConnectorError::Transport { .. })));
    }
    crm.push_activity(&push("k3", &contact, "")).await.unwrap();
    assert_eq!(crm.activities().len(), 3);

    crm.fail_next(1, || ConnectorError::Auth { system: "salesforce".into(), message: "invalid_grant".into() });
    assert!(matches!(crm.find_by_phone(&phone).await, Err(ConnectorError::Auth { .. })));

    crm.remove_record(&contact);
    assert!(matches!(crm.push_activity(&push("k4", &contact, "")).await, Err(ConnectorError::NotFound { .. })));

    let lead = ExternalCreate::Lead(ExternalPerson {
        last_name: "Durand".into(),
        email: Some("durand@example.com".into()),
        company: Some("ACME".into()),
        ..Default::default()
    });
    let reference = crm.create("INT-1-lead-1", &lead).await.unwrap();
    assert_eq!((reference.system, reference.object), (ExternalSystem::Salesforce, ExternalObject::Lead));
    assert_eq!(crm.create("INT-1-lead-1", &lead).await.unwrap(), reference, "one record per key");
    assert_eq!(crm.created(), vec![(lead, reference)]);
    let durand = EmailAddress::parse("durand@example.com").unwrap();
    assert_eq!(crm.find_by_email(&durand).await.unwrap().len(), 1, "created records are found");
    assert_eq!(crm.calls().first(), Some(&FakeOperation::FindByPhone));
}

fn mail() -> OutgoingMail {
    let a = EmailAddress::parse("agent@centre.example.com").expect("a valid address");
    OutgoingMail {
        from: a.clone(),
        to: vec![a],
        cc: vec![],
        bcc: vec![],
        subject: "Your case CS-000001".into(),
        html_body: "<p>Hello</p>".into(),
        text_body: "Hello".into(),
        message_id: "<1@centre.example.com>".into(),
        in_reply_to: None,
        references: vec![],
        auto_submitted: false,
        parts: vec![],
    }
}

#[tokio::test]
async fn fake_mailer_records_and_fails_on_demand() {
    let mailer = FakeMailer::new();
    mailer.fail_next(1, || MailError::Unavailable("connection refused".into()));
    assert!(matches!(mailer.send(&mail()).await, Err(MailError::Unavailable(_))));
    mailer.send(&mail()).await.unwrap();
    assert_eq!(mailer.sent(), vec![mail()]);
    assert_eq!(mailer.attempts(), 2);
}

#[tokio::test]
async fn the_world_is_seeded() {
    let world = World::new().await;
    assert_eq!(world.tenant.default_region.code(), "FR");
    assert_eq!(world.tenant.time_zone, chrono_tz::Europe::Paris);
    let store = world.dyn_store();
    let agents = store.list_agents(world.tenant.id).await.unwrap();
    assert_eq!(agents.len(), 3);
    assert!(world.supervisor.can(crm_core::access::Permission::CaseViewPrivate));
    assert!(!world.agent.can(crm_core::access::Permission::CaseDelete));
    assert!(world.admin.can(crm_core::access::Permission::AdminAgents));
    assert!(world.agent.groups.contains(&world.seeded.group.id));
    assert_eq!(world.dyn_clock().now(), crm_testkit::fakes::default_start());
    let extra = world.seeded.add_agent(&*store, &*world.ids, "Zoé Extra", crm_core::access::Role::Agent).await.unwrap();
    assert_eq!(store.get_agent(world.tenant.id, extra.id).await.unwrap(), Some(extra));
}
