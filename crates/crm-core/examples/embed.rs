//! Embedding `crm-core`: wire the use cases to a store (here the in-memory one from
//! `crm-testkit`; a real application uses `crm-store-sql` or its own adapter), then handle a
//! call end to end and find the customer again by a phone number written another way.
//!
//! Run with `cargo run -p crm-core --example embed`.

use std::sync::Arc;

use crm_core::access::{Actor, Role};
use crm_core::case::{NewCase, Priority};
use crm_core::customer::{IdentityInput, LookupKey, NewCustomer};
use crm_core::follow_up::NewFollowUp;
use crm_core::interaction::{Channel, Direction, DispositionInput, InteractionAction, NewInteraction};
use crm_core::service::{Crm, NewAgent, NewTenant};
use crm_core::task::{NewTask, ScheduleInput, TaskKind};
use crm_core::time::{SystemClock, UuidV7Generator};
use crm_testkit::MemoryStore;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), crm_core::Error> {
    let crm = Crm::new(Arc::new(MemoryStore::new()), Arc::new(SystemClock), Arc::new(UuidV7Generator));

    // A contact center in France, its administrator, and the disposition catalogue.
    let tenant = crm
        .create_tenant(NewTenant {
            name: "Acme Support".into(),
            default_region: "FR".into(),
            time_zone: "Europe/Paris".into(),
        })
        .await?;
    let admin = crm
        .create_agent(
            tenant.id,
            None,
            NewAgent {
                name: "Ada Admin".into(),
                email: "ada@acme.example.com".into(),
                role: Role::Administrator,
                groups: Default::default(),
            },
        )
        .await?;
    let me = Actor::for_agent(&admin);
    crm.put_disposition(
        &me,
        DispositionInput { code: "resolved".into(), label: "Resolved".into(), group: None, active: None },
    )
    .await?;

    // A customer, reachable by phone and email.
    let customer = crm
        .create_customer(
            &me,
            NewCustomer {
                name: "Jeanne Dupont".into(),
                identities: vec![
                    IdentityInput::Phone { number: "+33 1 23 45 67 89".into(), label: Some("home".into()) },
                    IdentityInput::Email { address: "jeanne.dupont@example.com".into(), label: None },
                ],
                ..NewCustomer::default()
            },
        )
        .await?;
    println!("customer {} ({})", customer.name(), customer.account_number());

    // She calls; the agent takes the call and opens a case from it.
    let call = crm
        .create_interaction(
            &me,
            NewInteraction {
                channel: Channel::Voice,
                direction: Direction::Inbound,
                customer: None,
                address: Some("01 23 45 67 89".into()),
                contact_name: Some("Jeanne Dupont".into()),
                internal_agent: None,
                agent: Some(me.agent),
                queue: None,
                context: Default::default(),
                transcript: Vec::new(),
            },
        )
        .await?;
    let call = crm.act_on_interaction(&me, call.id, call.version(), InteractionAction::Accept).await?;
    let case = crm
        .create_case_from_interaction(
            &me,
            call.id,
            call.version(),
            NewCase {
                priority: Some(Priority::High),
                ..NewCase::open(customer.id, "Cannot log in to the customer portal")
            },
        )
        .await?;
    println!("case {} opened, assigned to {:?}", case.number, case.assignee());
    crm.add_follow_up(
        &me,
        case.id,
        NewFollowUp { kind: None, body: "Password reset link sent.".into(), visibility: None },
    )
    .await?;
    let task = crm
        .create_task(
            &me,
            NewTask {
                kind: TaskKind::Call,
                subject: "Call back to confirm the login works".into(),
                notes: String::new(),
                customer: customer.id,
                case: Some(case.id),
                assignee: None,
                scheduled: ScheduleInput { at: "2030-01-15T10:00".into(), time_zone: Some("Europe/Paris".into()) },
                duration_minutes: None,
                reminder_minutes: Some(15),
            },
        )
        .await?;
    println!("task at {} (reminder at {:?})", task.scheduled_at(), task.reminder_at());

    // Wrap up the call with a disposition.
    let call = crm.get_interaction(&me, call.id).await?;
    let call = crm.set_disposition(&me, call.id, call.version(), "resolved").await?;
    let call = crm.act_on_interaction(&me, call.id, call.version(), InteractionAction::End).await?;
    let call = crm.act_on_interaction(&me, call.id, call.version(), InteractionAction::CompleteWrapUp).await?;
    println!("call {:?} after {} s of talk, disposition {:?}", call.state(), call.talk_seconds(), call.disposition());

    // Next time she calls from "+33 (0)1 23 45 67 89", the screen pop finds her card.
    let cards = crm.lookup(&me, &LookupKey::Phone("+33 (0)1 23 45 67 89".into())).await?;
    let card = cards.first().expect("the customer is found by phone");
    println!(
        "screen pop: {} — {} open case(s), {} pending task(s), {} interaction(s)",
        card.customer.name(),
        card.open_cases.len(),
        card.pending_tasks.len(),
        card.last_interactions.len()
    );
    assert_eq!(card.customer.id, customer.id);
    Ok(())
}
