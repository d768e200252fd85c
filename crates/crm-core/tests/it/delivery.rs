//! Durable external pushes (INT-6, EXT-1): a wrap-up pushed while the remote CRM is down is
//! retried until it lands, and lands exactly once; refusals go to the dead letters and can be
//! requeued.

use std::sync::Arc;
use std::time::Duration;

use crm_core::ConnectorError;
use crm_core::event::{OutboxStatus, Topic};
use crm_core::external::{ExternalObject, ExternalRef, ExternalSystem};
use crm_core::ids::TenantId;
use crm_core::interaction::{Channel, Direction, InteractionAction, LinkTarget, NewInteraction};
use crm_core::page::PageRequest;
use crm_core::ports::{ExternalCrm, OutboxStore};
use crm_core::service::{ConnectorDirectory, ExternalCreation, RetryPolicy};
use crm_testkit::{FakeExternalCrm, FakeOperation};

use crate::helpers::Env;

struct OneConnector(Arc<FakeExternalCrm>);

impl ConnectorDirectory for OneConnector {
    fn connector(&self, _tenant: TenantId, system: ExternalSystem) -> Option<Arc<dyn ExternalCrm>> {
        (system == ExternalSystem::Salesforce).then(|| self.0.clone() as Arc<dyn ExternalCrm>)
    }
}

fn instant_retries() -> RetryPolicy {
    RetryPolicy { max_attempts: 5, base_delay: Duration::ZERO, max_delay: Duration::ZERO }
}

/// An inbound call from `address` offered to `agent`.
fn voice_call(agent: crm_core::ids::AgentId, address: &str, name: &str) -> NewInteraction {
    NewInteraction {
        channel: Channel::Voice,
        direction: Direction::Inbound,
        customer: None,
        address: Some(address.into()),
        contact_name: Some(name.into()),
        internal_agent: None,
        agent: Some(agent),
        queue: None,
        context: Default::default(),
        transcript: Vec::new(),
    }
}

/// Handles a linked call to the end of wrap-up and returns the env.
async fn wrapped_up_call(env: &Env) {
    let actor = env.tenant.agent_actor();
    let input = voice_call(actor.agent, "+33 1 23 45 67 89", "Jeanne Dupont");
    let mut i = env.crm.create_interaction(&actor, input).await.expect("interaction");
    let target = LinkTarget::External {
        reference: ExternalRef {
            system: ExternalSystem::Salesforce,
            object: ExternalObject::Contact,
            id: "003A".into(),
        },
    };
    i = env.crm.link_interaction(&actor, i.id, i.version(), target).await.expect("link");
    i = env.crm.add_interaction_note(&actor, i.id, i.version(), "wants a callback").await.expect("note");
    for action in [InteractionAction::Accept, InteractionAction::End, InteractionAction::CompleteWrapUp] {
        i = env.crm.act_on_interaction(&actor, i.id, i.version(), action).await.expect("action");
    }
}

#[tokio::test]
async fn a_push_during_an_outage_is_retried_and_lands_exactly_once() {
    let env = Env::new().await;
    wrapped_up_call(&env).await;
    let remote = Arc::new(FakeExternalCrm::new(ExternalSystem::Salesforce));
    remote.fail_next(3, FakeExternalCrm::transport_error);
    let dir = OneConnector(remote.clone());
    let mut delivered = 0;
    for _ in 0..10 {
        let report =
            env.crm.deliver_external_pushes(&dir, &instant_retries(), Duration::from_secs(60), 10).await.unwrap();
        delivered += report.delivered;
    }
    assert_eq!(delivered, 1);
    let activities = remote.activities();
    assert_eq!(activities.len(), 1, "exactly one activity remotely");
    assert_eq!(activities[0].notes, "wants a callback");
    assert_eq!(activities[0].target.id, "003A");
    let attempts = remote.calls().iter().filter(|c| **c == FakeOperation::PushActivity).count();
    assert_eq!(attempts, 4, "three failures then one success");
}

#[tokio::test]
async fn a_long_retry_after_schedules_the_next_attempt_and_an_unreadable_answer_is_retried() {
    let env = Env::new().await;
    wrapped_up_call(&env).await;
    let remote = Arc::new(FakeExternalCrm::new(ExternalSystem::Salesforce));
    let dir = OneConnector(remote.clone());
    let tenant = env.tenant.id();

    remote.fail_next(1, || ConnectorError::Decode { system: "netsuite".into(), message: "EOF while parsing".into() });
    let report = env.crm.deliver_external_pushes(&dir, &instant_retries(), Duration::from_secs(60), 10).await.unwrap();
    assert_eq!((report.retried, report.dead), (1, 0), "an unreadable answer leaves the remote unknown: retried");

    remote.fail_next(1, || ConnectorError::RateLimited {
        system: "netsuite".into(),
        retry_after: Some(Duration::from_secs(3600)),
    });
    let report = env.crm.deliver_external_pushes(&dir, &instant_retries(), Duration::from_secs(60), 10).await.unwrap();
    assert_eq!(report.retried, 1);
    let pending = env.store.list_outbox(tenant, Some(OutboxStatus::Pending), &PageRequest::first()).await.unwrap();
    let entry = pending.items.iter().find(|e| e.topic == Topic::ExternalPush).expect("the push waits");
    let now = crm_core::time::Clock::now(&*env.crm.clock().clone());
    assert!(entry.next_attempt_at >= now + chrono::Duration::seconds(3600), "{entry:?}");
    let why = entry.last_error.as_deref().unwrap_or_default();
    assert!(why.contains("netsuite rate limit reached") && why.contains("retry after 3600 s"), "{why}");
    let report = env.crm.deliver_external_pushes(&dir, &instant_retries(), Duration::from_secs(60), 10).await.unwrap();
    assert_eq!(report.claimed, 0, "nothing is sent before the remote's Retry-After");
    assert!(remote.activities().is_empty());
}

#[tokio::test]
async fn a_refused_push_is_dead_and_can_be_requeued() {
    let env = Env::new().await;
    wrapped_up_call(&env).await;
    let remote = Arc::new(FakeExternalCrm::new(ExternalSystem::Salesforce));
    remote.fail_next(1, || ConnectorError::Rejected {
        system: "salesforce".into(),
        code: "INVALID_FIELD".into(),
        message: "No such column".into(),
        field: None,
    });
    let dir = OneConnector(remote.clone());
    let report = env.crm.deliver_external_pushes(&dir, &instant_retries(), Duration::from_secs(60), 10).await.unwrap();
    assert_eq!((report.claimed, report.dead), (1, 1));
    let tenant = env.tenant.id();
    let dead = env.store.list_outbox(tenant, Some(OutboxStatus::Dead), &PageRequest::first()).await.unwrap();
    assert_eq!(dead.items.len(), 1);
    assert!(dead.items[0].last_error.as_deref().unwrap_or_default().contains("INVALID_FIELD"));
    assert_eq!(dead.items[0].topic, Topic::ExternalPush);
    env.store
        .requeue(tenant, dead.items[0].event.id, crm_core::time::Clock::now(&*env.crm.clock().clone()))
        .await
        .unwrap();
    let report = env.crm.deliver_external_pushes(&dir, &instant_retries(), Duration::from_secs(60), 10).await.unwrap();
    assert_eq!(report.delivered, 1);
    assert_eq!(remote.activities().len(), 1);
}

#[tokio::test]
async fn a_tenant_without_the_connector_gets_a_dead_letter_not_a_loop() {
    let env = Env::new().await;
    wrapped_up_call(&env).await;
    struct Nothing;
    impl ConnectorDirectory for Nothing {
        fn connector(&self, _: TenantId, _: ExternalSystem) -> Option<Arc<dyn ExternalCrm>> {
            None
        }
    }
    let report =
        env.crm.deliver_external_pushes(&Nothing, &instant_retries(), Duration::from_secs(60), 10).await.unwrap();
    assert_eq!(report.dead, 1);
}

#[tokio::test]
async fn a_contact_created_in_the_external_crm_during_a_call_is_linked_and_receives_the_wrap_up() {
    use crm_core::external::{ExternalCreate, ExternalPerson};

    let env = Env::new().await;
    let actor = env.tenant.agent_actor();
    let remote = Arc::new(FakeExternalCrm::new(ExternalSystem::Salesforce));
    let dir = OneConnector(remote.clone());
    let input = voice_call(actor.agent, "+33 1 98 76 54 32", "New Caller");
    let i = env.crm.create_interaction(&actor, input).await.unwrap();
    let i = env.crm.act_on_interaction(&actor, i.id, i.version(), InteractionAction::Accept).await.unwrap();
    let person =
        ExternalPerson { last_name: "Caller".into(), phone: Some("+33198765432".into()), ..Default::default() };
    let created = env
        .crm
        .create_external_record(
            &actor,
            &dir,
            i.id,
            i.version(),
            ExternalSystem::Salesforce,
            &ExternalCreate::Contact(person),
        )
        .await
        .unwrap();
    let ExternalCreation::Created { reference, interaction: i } = created else {
        panic!("the remote answered: {created:?}")
    };
    assert!(i.external_creates().is_empty(), "nothing left pending");
    assert!(i.links().iter().any(|l| l.target == LinkTarget::External { reference: reference.clone() }));
    assert_eq!(remote.created().len(), 1);
    // Another system than the configured one is refused, naming the field.
    let err = env
        .crm
        .create_external_record(
            &actor,
            &dir,
            i.id,
            i.version(),
            ExternalSystem::Dynamics,
            &ExternalCreate::Contact(ExternalPerson::default()),
        )
        .await;
    assert!(matches!(&err, Err(crm_core::Error::Validation(v)) if v.errors()[0].field == "system"), "{err:?}");
    let i = env.crm.act_on_interaction(&actor, i.id, i.version(), InteractionAction::End).await.unwrap();
    env.crm.act_on_interaction(&actor, i.id, i.version(), InteractionAction::CompleteWrapUp).await.unwrap();
    env.crm.deliver_external_pushes(&dir, &instant_retries(), Duration::from_secs(60), 10).await.unwrap();
    let activities = remote.activities();
    assert_eq!(activities.len(), 1);
    assert_eq!(activities[0].target, reference);
}

/// An accepted call with the agent's actor, ready for creates in the external CRM.
async fn accepted_call(env: &Env) -> crm_core::interaction::Interaction {
    let actor = env.tenant.agent_actor();
    let input = voice_call(actor.agent, "+33 1 98 76 54 32", "New Caller");
    let i = env.crm.create_interaction(&actor, input).await.expect("interaction");
    env.crm.act_on_interaction(&actor, i.id, i.version(), InteractionAction::Accept).await.expect("accepted")
}

fn new_contact() -> crm_core::external::ExternalCreate {
    crm_core::external::ExternalCreate::Contact(crm_core::external::ExternalPerson {
        last_name: "Caller".into(),
        phone: Some("+33198765432".into()),
        ..Default::default()
    })
}

/// INT-7 through the outbox: a create whose answer is lost (the remote committed, then the
/// connection dropped) and one asked for while the remote is down are queued, retried by the
/// worker after the request's grace, and linked; the remote holds one record each.
#[tokio::test]
async fn a_create_the_remote_could_not_confirm_is_queued_retried_and_linked_once() {
    let env = Env::new().await;
    let grace = Duration::from_secs(30);
    let crm = env.crm.with_external_retry(instant_retries(), grace);
    let actor = env.tenant.agent_actor();
    let remote = Arc::new(FakeExternalCrm::new(ExternalSystem::Salesforce));
    let dir = OneConnector(remote.clone());
    let i = accepted_call(&env).await;

    remote.lose_next_create_answers(1);
    let lost = crm
        .create_external_record(&actor, &dir, i.id, i.version(), ExternalSystem::Salesforce, &new_contact())
        .await
        .expect("queued, not failed");
    let ExternalCreation::Queued { key, reason, interaction: i, .. } = lost else { panic!("{lost:?}") };
    assert!(reason.contains("injected transport failure"), "{reason}");
    assert_eq!(i.external_creates().len(), 1);
    assert_eq!(i.external_creates()[0].key, key);
    assert!(i.links().is_empty());
    assert_eq!(remote.created().len(), 1, "the remote did commit the first attempt");

    remote.fail_next_on(FakeOperation::Create, 1, FakeExternalCrm::transport_error);
    let down = crm
        .create_external_record(&actor, &dir, i.id, i.version(), ExternalSystem::Salesforce, &new_contact())
        .await
        .expect("queued");
    let ExternalCreation::Queued { key: second, interaction: i, .. } = down else { panic!("{down:?}") };
    assert_ne!(second, key, "a second contact asked for gets its own key");
    assert_eq!(i.external_creates().len(), 2);

    // The worker retries both (the first attempts failed, so their next attempt is due).
    let report = crm.deliver_external_pushes(&dir, &instant_retries(), Duration::from_secs(60), 10).await.unwrap();
    assert_eq!((report.claimed, report.delivered), (2, 2), "{report:?}");
    let i = env.crm.get_interaction(&actor, i.id).await.unwrap();
    assert!(i.external_creates().is_empty(), "{:?}", i.external_creates());
    let externals: Vec<_> = i.links().iter().filter(|l| matches!(l.target, LinkTarget::External { .. })).collect();
    assert_eq!(externals.len(), 2);
    assert_eq!(remote.created().len(), 2, "one remote record per request, however many attempts");
    let tenant = env.tenant.tenant.id;
    let pending = env.store.list_outbox(tenant, Some(OutboxStatus::Pending), &PageRequest::first()).await.unwrap();
    assert!(pending.items.iter().all(|e| e.topic != Topic::ExternalPush), "{:?}", pending.items);
    // Nothing more to do.
    let again = crm.deliver_external_pushes(&dir, &instant_retries(), Duration::from_secs(60), 10).await.unwrap();
    assert_eq!(again.claimed, 0);
}

/// A create whose request never finished its own attempt (the server died right after
/// writing it) is made by the worker once the grace is over, not before; a call already
/// wrapped up by then pushes its activity to the late link.
#[tokio::test]
async fn a_create_left_behind_by_its_request_is_made_after_the_grace_and_gets_the_wrap_up() {
    use crm_core::event::EventKind;

    let env = Env::new().await;
    let grace = Duration::from_secs(30);
    let crm = env.crm.with_external_retry(instant_retries(), grace);
    let actor = env.tenant.agent_actor();
    let remote = Arc::new(FakeExternalCrm::new(ExternalSystem::Salesforce));
    let dir = OneConnector(remote.clone());
    let i = accepted_call(&env).await;
    // A request that dies between writing the create and hearing from the remote: the
    // remote call hangs for ever, and the request's future is dropped (a kill).
    struct Hanging;
    impl ConnectorDirectory for Hanging {
        fn connector(&self, _tenant: TenantId, _system: ExternalSystem) -> Option<Arc<dyn ExternalCrm>> {
            Some(Arc::new(HangingCrm))
        }
    }
    let contact = new_contact();
    let asked = crm.create_external_record(&actor, &Hanging, i.id, i.version(), ExternalSystem::Salesforce, &contact);
    assert!(tokio::time::timeout(Duration::from_millis(50), asked).await.is_err(), "the remote never answers");
    let i = env.crm.get_interaction(&actor, i.id).await.unwrap();
    assert_eq!(i.external_creates().len(), 1, "the request was written before the remote call");
    let i = env.crm.act_on_interaction(&actor, i.id, i.version(), InteractionAction::End).await.unwrap();
    env.crm.act_on_interaction(&actor, i.id, i.version(), InteractionAction::CompleteWrapUp).await.unwrap();

    let early = crm.deliver_external_pushes(&dir, &instant_retries(), Duration::from_secs(60), 10).await.unwrap();
    assert_eq!(early.claimed, 0, "the request's own attempt may still be under way");
    env.clock.advance(chrono::Duration::seconds(31));
    let report = crm.deliver_external_pushes(&dir, &instant_retries(), Duration::from_secs(60), 10).await.unwrap();
    assert_eq!(report.delivered, 1, "{report:?}");
    let i = env.crm.get_interaction(&actor, i.id).await.unwrap();
    let reference = remote.created()[0].1.clone();
    assert!(i.links().iter().any(|l| l.target == LinkTarget::External { reference: reference.clone() }));
    // The wrap-up's activity, queued with the link, reaches the late record.
    let pushed = crm.deliver_external_pushes(&dir, &instant_retries(), Duration::from_secs(60), 10).await.unwrap();
    assert_eq!(pushed.delivered, 1, "{pushed:?}");
    assert_eq!(remote.activities().len(), 1);
    assert_eq!(remote.activities()[0].target, reference);
    let tenant = env.tenant.tenant.id;
    let all = env.store.list_outbox(tenant, None, &PageRequest::first()).await.unwrap();
    assert!(all.items.iter().any(|e| matches!(e.event.kind, EventKind::InteractionLinked { .. })));
}

/// A remote refusal is the caller's error; the interaction lists the create as refused and
/// its outbox entry is dead, waiting for a person.
#[tokio::test]
async fn a_refused_create_is_listed_refused_and_its_entry_is_dead() {
    let env = Env::new().await;
    let actor = env.tenant.agent_actor();
    let remote = Arc::new(FakeExternalCrm::new(ExternalSystem::Salesforce));
    let dir = OneConnector(remote.clone());
    let i = accepted_call(&env).await;
    remote.fail_next_on(FakeOperation::Create, 1, || ConnectorError::Rejected {
        system: "salesforce".into(),
        code: "REQUIRED_FIELD_MISSING".into(),
        message: "Required fields are missing: [LastName]".into(),
        field: Some("LastName".into()),
    });
    let err = env
        .crm
        .create_external_record(&actor, &dir, i.id, i.version(), ExternalSystem::Salesforce, &new_contact())
        .await
        .expect_err("refused");
    assert!(format!("{err:?}").contains("REQUIRED_FIELD_MISSING"), "{err:?}");
    let i = env.crm.get_interaction(&actor, i.id).await.unwrap();
    let refused = i.external_creates()[0].refused.as_deref().expect("listed as refused");
    assert!(refused.contains("REQUIRED_FIELD_MISSING"), "{refused}");
    let tenant = env.tenant.tenant.id;
    let dead = env.store.list_outbox(tenant, Some(OutboxStatus::Dead), &PageRequest::first()).await.unwrap();
    assert_eq!(dead.items.len(), 1);
    assert!(dead.items[0].last_error.as_deref().is_some_and(|e| e.contains("LastName")));
    // Requeued by a person once the remote is fixed: created and linked.
    env.store.requeue(tenant, dead.items[0].event.id, crm_core::ports::Clock::now(&*env.clock)).await.unwrap();
    let report = env.crm.deliver_external_pushes(&dir, &instant_retries(), Duration::from_secs(60), 10).await.unwrap();
    assert_eq!(report.delivered, 1);
    let i = env.crm.get_interaction(&actor, i.id).await.unwrap();
    assert!(i.external_creates().is_empty());
    assert_eq!(i.links().len(), 1);
}

#[derive(Debug)]
struct HangingCrm;

#[async_trait::async_trait]
impl ExternalCrm for HangingCrm {
    fn system(&self) -> ExternalSystem {
        ExternalSystem::Salesforce
    }
    async fn find_by_phone(
        &self,
        _phone: &crm_core::customer::PhoneNumber,
    ) -> Result<Vec<crm_core::external::ExternalRecord>, ConnectorError> {
        std::future::pending().await
    }
    async fn find_by_email(
        &self,
        _email: &crm_core::customer::EmailAddress,
    ) -> Result<Vec<crm_core::external::ExternalRecord>, ConnectorError> {
        std::future::pending().await
    }
    async fn create(
        &self,
        _key: &str,
        _request: &crm_core::external::ExternalCreate,
    ) -> Result<ExternalRef, ConnectorError> {
        std::future::pending().await
    }
    async fn push_activity(&self, _activity: &crm_core::external::ActivityPush) -> Result<ExternalRef, ConnectorError> {
        std::future::pending().await
    }
}
