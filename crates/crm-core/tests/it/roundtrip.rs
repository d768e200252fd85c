//! Serde round-trips of every aggregate, record and event the use cases produce: what an
//! adapter stores as JSON (or the API returns) reads back equal.

use std::collections::BTreeMap;

use crm_core::custom_field::{FieldDefinitionInput, FieldEntity, FieldType};
use crm_core::customer::{ConflictRule, Customer, MergeRecord, NewCustomer, PostalAddress};
use crm_core::event::DomainEvent;
use crm_core::follow_up::{FollowUp, NewFollowUp};
use crm_core::task::{NewTask, ScheduleInput, Task, TaskKind};
use proptest::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::helpers::{Env, arb_identities, runtime};

fn round_trips<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(value: &T) -> Result<(), TestCaseError> {
    let json = serde_json::to_string(value).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let back: T = serde_json::from_str(&json).map_err(|e| TestCaseError::fail(format!("{e}: {json}")))?;
    prop_assert_eq!(&back, value);
    Ok(())
}

async fn define_fields(env: &Env) {
    let admin = env.tenant.admin_actor();
    let fields = [
        ("tier", FieldType::SingleChoice { choices: vec!["gold".into(), "silver".into()] }),
        ("score", FieldType::Integer),
        ("balance", FieldType::Decimal),
        ("birthday", FieldType::Date),
        ("tags", FieldType::MultiChoice { choices: vec!["vip".into(), "press".into(), "staff".into()] }),
        ("backup_phone", FieldType::Phone),
        ("site", FieldType::Url),
    ];
    for (key, field_type) in fields {
        let input = FieldDefinitionInput {
            entity: FieldEntity::Customer,
            key: key.into(),
            label: key.into(),
            field_type,
            required: false,
            default: None,
            help_text: None,
        };
        env.crm.define_custom_field(&admin, input).await.expect("field");
    }
}

fn arb_custom() -> impl Strategy<Value = BTreeMap<String, serde_json::Value>> {
    (
        proptest::option::of(prop_oneof![Just("gold"), Just("silver")]),
        proptest::option::of(any::<i64>()),
        proptest::option::of((any::<i32>(), 0u32..100).prop_map(|(u, c)| format!("{u}.{c:02}"))),
        proptest::option::of((1990i32..2030, 1u32..13, 1u32..29).prop_map(|(y, m, d)| format!("{y}-{m:02}-{d:02}"))),
        proptest::option::of(proptest::sample::subsequence(vec!["vip", "press", "staff"], 0..3)),
        proptest::option::of(Just("+33 6 12 34 56 78")),
        proptest::option::of("[a-z]{1,10}".prop_map(|h| format!("https://{h}.example.com/path?q=1"))),
    )
        .prop_map(|(tier, score, balance, birthday, tags, phone, site)| {
            let mut m = BTreeMap::new();
            if let Some(v) = tier {
                m.insert("tier".into(), json!(v));
            }
            if let Some(v) = score {
                m.insert("score".into(), json!(v));
            }
            if let Some(v) = balance {
                m.insert("balance".into(), json!(v));
            }
            if let Some(v) = birthday {
                m.insert("birthday".into(), json!(v));
            }
            if let Some(v) = tags {
                m.insert("tags".into(), json!(v));
            }
            if let Some(v) = phone {
                m.insert("backup_phone".into(), json!(v));
            }
            if let Some(v) = site {
                m.insert("site".into(), json!(v));
            }
            m
        })
}

fn arb_address() -> impl Strategy<Value = PostalAddress> {
    ("[A-Za-z0-9 ]{1,30}", "[A-Za-z ]{1,20}", proptest::option::of("[0-9]{5}"), prop_oneof![Just("FR"), Just("us")])
        .prop_map(|(line, city, postal_code, country)| PostalAddress {
            label: None,
            lines: vec![format!("1 {line}")],
            postal_code,
            city: format!("C{city}"),
            region: None,
            country: country.into(),
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn every_aggregate_record_and_event_round_trips_through_json(
        identities in arb_identities(),
        custom in arb_custom(),
        addresses in proptest::collection::vec(arb_address(), 0..3),
        name in "\\PC{1,40}",
        reminder in proptest::option::of(0u32..600),
        at in (2027i32..2035, 1u32..13, 1u32..29, 0u32..24, 0u32..60),
        zone in prop_oneof![Just("Europe/Paris"), Just("America/New_York"), Just("Asia/Tokyo"), Just("UTC")],
        body in "\\PC{1,200}",
    ) {
        runtime().block_on(async {
            let env = Env::new().await;
            define_fields(&env).await;
            let actor = env.supervisor();
            let input = NewCustomer { name, identities, addresses, custom, ..NewCustomer::default() };
            let customer: Customer = match env.crm.create_customer(&actor, input).await {
                Ok(c) => c,
                Err(crm_core::Error::Validation(v)) => return Err(TestCaseError::reject(v.to_string())),
                Err(e) => return Err(TestCaseError::fail(format!("{e:?}"))),
            };
            round_trips(&customer)?;
            let other = env
                .crm
                .create_customer(&actor, NewCustomer { name: "Other".into(), ..NewCustomer::default() })
                .await
                .expect("other");
            let case = env
                .crm
                .create_case(&actor, crm_core::case::NewCase::open(customer.id, "Subject"))
                .await
                .expect("case");
            // A body of white space only (`\PC` includes it) is refused, as it should be.
            let follow_up: FollowUp =
                match env.crm.add_follow_up(&actor, case.id, NewFollowUp { kind: None, body, visibility: None }).await {
                    Ok(f) => f,
                    Err(crm_core::Error::Validation(v)) => return Err(TestCaseError::reject(v.to_string())),
                    Err(e) => return Err(TestCaseError::fail(format!("follow-up: {e:?}"))),
                };
            round_trips(&follow_up)?;
            let (y, mo, d, h, mi) = at;
            let scheduled = ScheduleInput { at: format!("{y}-{mo:02}-{d:02}T{h:02}:{mi:02}"), time_zone: Some(zone.into()) };
            let task = env.crm.create_task(&actor, NewTask {
                kind: TaskKind::Meeting,
                subject: "Meet".into(),
                notes: String::new(),
                customer: customer.id,
                case: Some(case.id),
                assignee: None,
                scheduled,
                duration_minutes: Some(30),
                reminder_minutes: reminder,
            }).await;
            match task {
                Ok(task) => round_trips::<Task>(&task)?,
                // A local time skipped by a daylight-saving change is refused, naming the field.
                Err(crm_core::Error::Validation(v)) => prop_assert!(v.errors()[0].field.starts_with("scheduled")),
                Err(e) => return Err(TestCaseError::fail(format!("{e:?}"))),
            }
            let record: MergeRecord =
                env.crm.merge_customers(&actor, other.id, customer.id, ConflictRule::KeepSource).await.expect("merge");
            round_trips(&record)?;
            env.crm.undo_merge(&actor, record.id).await.expect("undo");
            let events: Vec<DomainEvent> = env.store.events();
            prop_assert!(events.len() >= 6);
            for e in &events {
                round_trips(e)?;
            }
            Ok(())
        })?;
    }
}
