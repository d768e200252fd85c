//! The core's workers on the memory store: notifications reach the agents they concern
//! (and only them), a call pops its card on the agent's stream, reminders fire once, the
//! pruner forgets what is past its retention, and idempotency keys are claimed once.

use std::sync::Arc;
use std::time::Duration;

use chrono::Duration as Span;
use crm_core::customer::{IdentityInput, NewCustomer};
use crm_core::event::OutboxStatus;
use crm_core::idempotency::{IdempotencyClaim, KeptResponse, STALE_AFTER};
use crm_core::ids::TenantId;
use crm_core::live::{IncomingCall, SCREEN_POP};
use crm_core::ports::ExternalCrm;
use crm_core::service::{ConnectorDirectory, WorkerSettings};
use crm_core::task::{NewTask, ScheduleInput, TaskKind};
use crm_core::time::Clock;

use crate::helpers::Env;

fn names(events: &[crm_core::live::LiveEvent]) -> Vec<&str> {
    events.iter().map(|e| e.name.as_str()).collect()
}

const LEASE: Duration = Duration::from_secs(30);
const RETRY: Duration = Duration::from_secs(5);

#[tokio::test]
async fn notifications_reach_the_agents_they_concern_and_only_them() {
    let env = Env::new().await;
    let (agent, supervisor) = (env.tenant.agent_actor(), env.supervisor());
    let customer = env
        .crm
        .create_customer(&supervisor, NewCustomer { name: "Ada Notified".into(), ..NewCustomer::default() })
        .await
        .expect("customer");
    let in_an_hour = env.clock.now() + Span::hours(1);
    let task = NewTask {
        kind: TaskKind::Call,
        subject: "Call Ada back".into(),
        notes: String::new(),
        customer: customer.id,
        case: None,
        assignee: Some(agent.agent),
        scheduled: ScheduleInput { at: in_an_hour.to_rfc3339(), time_zone: None },
        duration_minutes: None,
        reminder_minutes: Some(15),
    };
    env.crm.create_task(&supervisor, task).await.expect("task for the agent");

    let report = env.crm.deliver_notifications(LEASE, 100, RETRY).await.expect("round");
    assert!(report.claimed >= 2, "the customer's and the task's events: {report:?}");
    assert_eq!(report.done, report.claimed, "every claimed notification is delivered");
    assert!(!report.more);
    let mine = env.crm.my_live_events(&agent, 0, 100).await.expect("agent's feed");
    assert_eq!(names(&mine), ["task_created"], "the assignee gets the task, nothing else");
    assert!(mine[0].payload.contains("Call Ada back") || mine[0].payload.contains("task_created"));
    let theirs = env.crm.my_live_events(&supervisor, 0, 100).await.expect("supervisor's feed");
    assert!(theirs.is_empty(), "a customer's creation concerns no agent's stream: {theirs:?}");
    for event in env.store.events_of(env.tenant.id()) {
        assert_eq!(env.store.outbox_status(event.id), Some(OutboxStatus::Delivered), "{}", event.kind.name());
    }
    let again = env.crm.deliver_notifications(LEASE, 100, RETRY).await.expect("second round");
    assert_eq!(again.claimed, 0, "nothing is delivered twice");

    // A reminder falls due: claimed once, then delivered to the assignee.
    env.clock.advance(Span::minutes(50));
    let claimed = env.crm.claim_reminders(10).await.expect("reminders");
    assert_eq!(claimed.claimed, 1);
    assert_eq!(env.crm.claim_reminders(10).await.expect("again").claimed, 0, "a reminder fires once");
    env.crm.deliver_notifications(LEASE, 100, RETRY).await.expect("round");
    let mine = env.crm.my_live_events(&agent, 0, 100).await.expect("agent's feed");
    assert_eq!(names(&mine), ["task_created", "task_reminder_due"]);
    let resumed = env.crm.my_live_events(&agent, mine[0].seq, 100).await.expect("resume");
    assert_eq!(names(&resumed), ["task_reminder_due"], "a stream resumes after its last position");
}

#[tokio::test]
async fn an_incoming_call_pops_the_card_on_the_agents_stream() {
    let env = Env::new().await;
    let (agent, supervisor) = (env.tenant.agent_actor(), env.supervisor());
    let identities = vec![IdentityInput::Phone { number: "01 23 45 67 89".into(), label: None }];
    let ada = NewCustomer { name: "Ada Caller".into(), identities, ..NewCustomer::default() };
    env.crm.create_customer(&supervisor, ada).await.expect("customer");
    let head = env.crm.live_head().await.expect("head");

    let call = IncomingCall {
        phone: "+33123456789".into(),
        agent: None,
        queue: Some("sales".into()),
        context: Default::default(),
    };
    let pop = env.crm.incoming_call(&agent, call).await.expect("call");
    assert_eq!(pop.cards.len(), 1);
    assert_eq!(pop.interaction.agent(), Some(agent.agent));
    let feed = env.crm.live_after(head, 100).await.expect("feed");
    assert_eq!(names(&feed), [SCREEN_POP], "the pop is on the feed at once");
    assert_eq!(feed[0].agent, agent.agent);
    assert!(feed[0].payload.contains("Ada Caller"), "{}", feed[0].payload);

    // Offering the call to another agent takes `case.assign` and an agent of the tenant.
    let other = IncomingCall {
        phone: "+33123456789".into(),
        agent: Some(supervisor.agent),
        queue: None,
        context: Default::default(),
    };
    let refused = env.crm.incoming_call(&agent, other.clone()).await;
    assert!(matches!(refused, Err(crm_core::Error::Forbidden { .. })), "{refused:?}");
    let stranger = crm_core::ids::AgentId::from_uuid(uuid::Uuid::now_v7());
    let unknown = IncomingCall { agent: Some(stranger), ..other.clone() };
    let refused = env.crm.incoming_call(&supervisor, unknown).await;
    assert!(matches!(&refused, Err(crm_core::Error::Validation(v)) if v.errors()[0].field == "agent"), "{refused:?}");
    let pop = env.crm.incoming_call(&supervisor, other).await.expect("a supervisor may offer it");
    assert_eq!(pop.interaction.agent(), Some(supervisor.agent));
    assert!(!pop.new_card, "a known caller's card is not new");
}

#[tokio::test]
async fn an_unknown_caller_gets_a_card_with_the_call() {
    let env = Env::new().await;
    let agent = env.tenant.agent_actor();
    let call = IncomingCall { phone: "06 98 76 54 32".into(), agent: None, queue: None, context: Default::default() };
    let pop = env.crm.incoming_call(&agent, call.clone()).await.expect("call");
    assert!(pop.new_card, "the pop says the card is new");
    assert_eq!(pop.cards.len(), 1);
    let card = &pop.cards[0].customer;
    assert_eq!(pop.interaction.customer(), Some(card.id), "the call is on the new card");
    assert_eq!(card.name(), "06 98 76 54 32", "named after the number as given until someone knows better");
    let names: Vec<&str> = env.store.events_of(env.tenant.id()).iter().map(|e| e.kind.name()).collect();
    assert_eq!(names, ["customer_created", "interaction_created"], "written together");

    // The next call from that number finds the card: no second one.
    let again = env.crm.incoming_call(&agent, call).await.expect("second call");
    assert!(!again.new_card);
    assert_eq!(again.cards.iter().map(|c| c.customer.id).collect::<Vec<_>>(), [card.id]);

    // If the store refuses the write, neither the card nor the interaction exists.
    let before = env.store.counts();
    env.store.fail_next_write(|| crm_core::StoreError::Unavailable("down".into()));
    let other = IncomingCall { phone: "06 11 11 11 11".into(), agent: None, queue: None, context: Default::default() };
    let refused = env.crm.incoming_call(&agent, other).await;
    assert!(matches!(refused, Err(crm_core::Error::Store(_))), "{refused:?}");
    let after = env.store.counts();
    assert_eq!(
        (after.customers, after.interactions, after.outbox),
        (before.customers, before.interactions, before.outbox)
    );
}

#[tokio::test]
async fn the_pruner_forgets_what_is_past_its_retention() {
    let env = Env::new().await;
    let supervisor = env.supervisor();
    env.crm
        .create_customer(&supervisor, NewCustomer { name: "Old News".into(), ..NewCustomer::default() })
        .await
        .expect("customer");
    env.crm.deliver_notifications(LEASE, 100, RETRY).await.expect("delivered");
    let call = IncomingCall { phone: "+33999999999".into(), agent: None, queue: None, context: Default::default() };
    env.crm.incoming_call(&supervisor, call).await.expect("call");
    assert_eq!(env.crm.claim_request("k1", "f").await.unwrap(), IdempotencyClaim::Claimed { retaken: false });
    let settings = WorkerSettings::default();

    let young = env.crm.prune(&settings).await.expect("prune");
    assert_eq!(young.claimed, 0, "nothing is old yet");
    assert_eq!(env.crm.my_live_events(&supervisor, 0, 10).await.unwrap().len(), 1);

    env.clock.advance(Span::days(8));
    let report = env.crm.prune(&settings).await.expect("prune");
    assert!(report.claimed >= 3, "the live event, the key and the delivered entries went: {report:?}");
    assert!(!report.more);
    assert!(env.crm.my_live_events(&supervisor, 0, 10).await.unwrap().is_empty(), "the live event is gone");
    assert_eq!(env.crm.claim_request("k1", "other").await.unwrap(), IdempotencyClaim::Claimed { retaken: false });
    let delivered = env
        .store
        .events_of(env.tenant.id())
        .iter()
        .filter(|e| env.store.outbox_status(e.id) == Some(OutboxStatus::Delivered))
        .count();
    assert_eq!(delivered, 0, "the delivery log is pruned after seven days");
}

#[tokio::test]
async fn an_idempotency_key_is_claimed_kept_replayed_and_taken_over_when_abandoned() {
    let env = Env::new().await;
    assert_eq!(env.crm.claim_request("key", "f").await.unwrap(), IdempotencyClaim::Claimed { retaken: false });
    assert_eq!(env.crm.claim_request("key", "f").await.unwrap(), IdempotencyClaim::InProgress);
    env.clock.advance(Span::from_std(STALE_AFTER).unwrap() + Span::seconds(1));
    assert_eq!(env.crm.claim_request("key", "f").await.unwrap(), IdempotencyClaim::Claimed { retaken: true });
    let kept = KeptResponse { status: 201, headers: Default::default(), body: "{}".into() };
    env.crm.keep_response("key", &kept).await.unwrap();
    assert_eq!(env.crm.claim_request("key", "f").await.unwrap(), IdempotencyClaim::Done(kept));
    assert_eq!(env.crm.claim_request("key", "g").await.unwrap(), IdempotencyClaim::Mismatch);
    assert_eq!(env.crm.claim_request("other", "f").await.unwrap(), IdempotencyClaim::Claimed { retaken: false });
    env.crm.release_request("other").await.unwrap();
    assert_eq!(env.crm.claim_request("other", "g").await.unwrap(), IdempotencyClaim::Claimed { retaken: false });
}

struct NoConnector;

impl ConnectorDirectory for NoConnector {
    fn connector(&self, _: TenantId, _: crm_core::external::ExternalSystem) -> Option<Arc<dyn ExternalCrm>> {
        None
    }
}

#[tokio::test]
async fn the_workers_are_the_queues_with_their_intervals() {
    let env = Env::new().await;
    let settings = WorkerSettings { poll_interval: Duration::from_millis(10), ..WorkerSettings::default() };
    let names: Vec<&str> = env.crm.workers(&settings, None).iter().map(|w| w.name()).collect();
    assert_eq!(
        names,
        ["notifications", "reminders", "sla-timers", "sla-remark", "prune", "audit-chain"],
        "no push worker without connectors"
    );
    let workers = env.crm.workers(&settings, Some(Arc::new(NoConnector)));
    let names: Vec<&str> = workers.iter().map(|w| w.name()).collect();
    assert_eq!(
        names,
        ["notifications", "reminders", "sla-timers", "sla-remark", "external-pushes", "prune", "audit-chain"]
    );
    let kept = WorkerSettings { audit_keep: Some(Duration::from_secs(86_400)), ..settings.clone() };
    let names: Vec<&str> = env.crm.workers(&kept, None).iter().map(|w| w.name()).collect();
    assert_eq!(
        names,
        ["notifications", "reminders", "sla-timers", "sla-remark", "prune", "audit-chain", "audit-retention"]
    );
    assert_eq!(workers[0].idle_interval(), Duration::from_millis(10));
    assert_eq!(workers[5].idle_interval(), settings.prune_interval);
    for worker in &workers {
        let report = worker.round().await.expect("an idle round");
        assert!(!report.more, "{}: nothing is due", worker.name());
    }
}
