//! Conformance: scripts, their published versions and runs, alert rule sets and the
//! customer activity alert rules count (`GuidanceStore`, GUI-1, GUI-2).

use chrono::Duration;
use crm_core::alert::{AlertRule, ContactCounts};
use crm_core::case::{Severity, Visibility};
use crm_core::event::EventKind;
use crm_core::guidance::{AlertRuleSet, CustomerActivity, Script, ScriptVersion, StoredScriptRun};
use crm_core::interaction::Interaction;
use crm_core::script::{AnswerValue, RecordedAnswer, RunPosition, ScriptDraft, ScriptRunRecord};
use serde_json::json;

use super::{Ctx, StoreFactory, assert_duplicate, assert_invalid_reference, assert_not_found, assert_stale};

fn draft(name: &str) -> ScriptDraft {
    serde_json::from_value(json!({"name": name, "start": "q", "steps": [
        {"type": "yes_no", "id": "q", "text": "Happy?", "yes": "done", "no": "done"},
        {"type": "end", "id": "done"}
    ]}))
    .unwrap()
}

fn script(ctx: &Ctx, name: &str) -> Script {
    Script { id: ctx.id(), draft: draft(name), version: 1, published: 0, created_at: ctx.now, updated_at: ctx.now }
}

fn run_in(ctx: &Ctx, interaction: &Interaction, script: &Script) -> StoredScriptRun {
    StoredScriptRun {
        id: ctx.id(),
        tenant: ctx.tenant(),
        interaction: interaction.id,
        customer: interaction.customer(),
        agent: ctx.t.agent.id,
        entry: None,
        record: ScriptRunRecord {
            script: script.id,
            version: 1,
            path: vec!["q".into()],
            answers: Vec::new(),
            position: RunPosition::At("q".into()),
        },
        version: 1,
        started_at: ctx.now,
        updated_at: ctx.now,
    }
}

/// Scripts are stored per tenant and listed by name; a draft is replaced at its version
/// only; publishing writes the new version and the script together, and a version number
/// is never written twice.
pub async fn scripts_are_drafted_published_and_versions_kept(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let s = &ctx.store;
    let (b, a) = (script(&ctx, "Retention"), script(&ctx, "Greeting"));
    s.insert_script(ctx.tenant(), &b).await.unwrap();
    s.insert_script(ctx.tenant(), &a).await.unwrap();
    assert_duplicate(s.insert_script(ctx.tenant(), &b).await, "id");
    assert_eq!(s.get_script(ctx.tenant(), b.id).await.unwrap(), Some(b.clone()));
    let names: Vec<String> = s.list_scripts(ctx.tenant()).await.unwrap().into_iter().map(|s| s.draft.name).collect();
    assert_eq!(names, ["Greeting", "Retention"]);
    let other = ctx.sibling().await;
    assert_eq!(s.get_script(other.tenant(), b.id).await.unwrap(), None, "another tenant's script");
    assert!(s.list_scripts(other.tenant()).await.unwrap().is_empty());

    let edited = Script { draft: draft("Retention v2"), version: 2, ..b.clone() };
    assert_stale(s.update_script(ctx.tenant(), &edited, 7).await);
    assert_not_found(s.update_script(other.tenant(), &edited, 1).await);
    s.update_script(ctx.tenant(), &edited, 1).await.unwrap();
    assert_eq!(s.get_script(ctx.tenant(), b.id).await.unwrap(), Some(edited.clone()));

    let v1 = ScriptVersion {
        script: b.id,
        version: 1,
        draft: edited.draft.clone(),
        published_at: ctx.now,
        published_by: ctx.t.agent.id,
    };
    let published = Script { version: 3, published: 1, ..edited.clone() };
    assert_stale(s.publish_script(ctx.tenant(), &published, 1, &v1).await);
    assert!(s.script_versions(ctx.tenant(), b.id).await.unwrap().is_empty(), "a refused publication wrote nothing");
    s.publish_script(ctx.tenant(), &published, 2, &v1).await.unwrap();
    let again = Script { version: 4, ..published.clone() };
    assert_duplicate(s.publish_script(ctx.tenant(), &again, 3, &v1).await, "version");
    assert_eq!(s.get_script(ctx.tenant(), b.id).await.unwrap(), Some(published), "the refused one wrote nothing");
    let v2 = ScriptVersion { version: 2, draft: draft("Retention v3"), ..v1.clone() };
    s.publish_script(ctx.tenant(), &Script { version: 4, published: 2, ..again }, 3, &v2).await.unwrap();
    assert_eq!(s.script_versions(ctx.tenant(), b.id).await.unwrap(), [v1.clone(), v2]);
    assert_eq!(s.script_version(ctx.tenant(), b.id, 1).await.unwrap(), Some(v1));
    assert_eq!(s.script_version(ctx.tenant(), b.id, 3).await.unwrap(), None);
    assert_eq!(s.script_version(other.tenant(), b.id, 1).await.unwrap(), None, "another tenant's version");
    assert!(s.script_versions(other.tenant(), b.id).await.unwrap().is_empty());
}

/// A run is written with its interaction's tenant only, with its events; an answer
/// replaces it at its version only, its events written with it or not at all; an
/// interaction's runs are listed oldest first.
pub async fn script_runs_are_written_with_their_events(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let s = &ctx.store;
    let sc = script(&ctx, "Survey");
    s.insert_script(ctx.tenant(), &sc).await.unwrap();
    let customer = ctx.customer("Ada Lovelace", Vec::new()).await;
    let inter = ctx.interaction(Some(&customer)).await;
    let other = ctx.sibling().await;
    let foreign = other.interaction(None).await;

    let mut stray = run_in(&ctx, &foreign, &sc);
    stray.tenant = ctx.tenant();
    assert_invalid_reference(s.insert_script_run(&stray, &[]).await, "interaction");

    let first = run_in(&ctx, &inter, &sc);
    s.insert_script_run(&first, &[]).await.unwrap();
    assert_duplicate(s.insert_script_run(&first, &[]).await, "id");
    let mut second = run_in(&ctx, &inter, &sc);
    second.started_at = ctx.now + Duration::seconds(5);
    s.insert_script_run(&second, &[]).await.unwrap();
    assert_eq!(s.get_script_run(ctx.tenant(), first.id).await.unwrap(), Some(first.clone()));
    assert_eq!(s.get_script_run(other.tenant(), first.id).await.unwrap(), None, "another tenant's run");
    let ids: Vec<_> = s.script_runs_of(ctx.tenant(), inter.id).await.unwrap().into_iter().map(|r| r.id).collect();
    assert_eq!(ids, [first.id, second.id]);
    assert!(s.script_runs_of(other.tenant(), inter.id).await.unwrap().is_empty());

    let mut answered = first.clone();
    answered.record.answers.push(RecordedAnswer { step: "q".into(), value: AnswerValue::YesNo(true) });
    answered.record.path.push("done".into());
    answered.record.position = RunPosition::Finished("done".into());
    answered.version = 2;
    let finished = ctx.event(EventKind::ScriptRunFinished {
        run: first.id,
        interaction: inter.id,
        script: sc.id,
        version: 1,
        end: "done".into(),
        agent: ctx.t.agent.id,
    });
    assert_stale(s.update_script_run(&answered, 5, std::slice::from_ref(&finished)).await);
    assert!(!ctx.has_event(finished.id).await, "a refused answer wrote no event");
    let mut missing = answered.clone();
    missing.id = ctx.id();
    assert_not_found(s.update_script_run(&missing, 1, &[]).await);
    s.update_script_run(&answered, 1, std::slice::from_ref(&finished)).await.unwrap();
    assert!(ctx.has_event(finished.id).await, "the event is written with the answer");
    assert_eq!(s.get_script_run(ctx.tenant(), first.id).await.unwrap(), Some(answered));
}

fn rule(name: &str) -> AlertRule {
    serde_json::from_value(json!({
        "name": name, "severity": "warning", "message": "look",
        "condition": {"field": "tasks.overdue", "op": "greater_than", "value": 0}
    }))
    .unwrap()
}

/// A tenant's alert rule set is written over the version read (0 before the first) and
/// read back per tenant.
pub async fn alert_rule_sets_are_replaced_at_their_version(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let s = &ctx.store;
    assert_eq!(s.alert_rules(ctx.tenant()).await.unwrap(), None);
    let v1 = AlertRuleSet { rules: vec![rule("a")], version: 1, updated_at: Some(ctx.now) };
    assert_stale(s.put_alert_rules(ctx.tenant(), &v1, 3).await);
    s.put_alert_rules(ctx.tenant(), &v1, 0).await.unwrap();
    assert_stale(s.put_alert_rules(ctx.tenant(), &v1, 0).await);
    assert_eq!(s.alert_rules(ctx.tenant()).await.unwrap(), Some(v1.clone()));
    let v2 = AlertRuleSet { rules: vec![rule("a"), rule("b")], version: 2, updated_at: Some(ctx.now) };
    assert_stale(s.put_alert_rules(ctx.tenant(), &v2, 2).await);
    s.put_alert_rules(ctx.tenant(), &v2, 1).await.unwrap();
    assert_eq!(s.alert_rules(ctx.tenant()).await.unwrap(), Some(v2));
    let other = ctx.sibling().await;
    assert_eq!(s.alert_rules(other.tenant()).await.unwrap(), None, "another tenant's set");
}

/// The activity counts: open (not draft, not private) critical cases, open cases whose SLA
/// breached, planned tasks past
/// their time, and interactions offered in the last 1, 7 and 30 days (bounds included), of
/// this customer in this tenant only.
pub async fn customer_activity_counts_cases_tasks_and_contacts(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let s = &ctx.store;
    let c = ctx.customer("Grace Hopper", Vec::new()).await;
    let bystander = ctx.customer("Alan Turing", Vec::new()).await;
    let critical = |e: &mut crm_core::case::NewCase| e.severity = Some(Severity::Critical);
    ctx.case(&c, critical).await;
    ctx.case(&c, critical).await;
    ctx.case(&c, |e| {
        critical(e);
        e.draft = true;
    })
    .await;
    ctx.case(&c, |e| {
        critical(e);
        e.visibility = Some(Visibility::Private);
    })
    .await;
    ctx.case(&c, |e| e.severity = Some(Severity::High)).await;
    ctx.case(&bystander, critical).await;
    // SLA marks: breached before `at`, breaching after it, breached but private
    for (minutes, visibility) in [(59, None), (61, None), (0, Some(Visibility::Private))] {
        let mut case = ctx.build_case(&c, |e| e.visibility = visibility).await;
        let breach = Some(ctx.now + Duration::minutes(minutes));
        case.set_sla(Some(crm_core::sla::SlaMark { due_at: breach, warning_at: None, breach_at: breach }));
        ctx.insert_case(&case).await;
    }
    ctx.task(&c, 10, |_| {}).await;
    ctx.task(&c, 30, |_| {}).await;
    ctx.task(&c, 120, |_| {}).await;
    ctx.task(&bystander, 10, |_| {}).await;
    let at = ctx.now + Duration::minutes(60);
    for (days, hours) in [(0, 2), (0, 23), (3, 0), (7, 0), (20, 0), (30, 0), (31, 0)] {
        let mut i = ctx.build_interaction(Some(&c));
        i.offered_at = at - Duration::days(days) - Duration::hours(hours);
        let events =
            [ctx.event(EventKind::InteractionCreated { interaction: i.id, agent: i.agent(), customer: i.customer() })];
        s.insert_interaction(&i, &events).await.unwrap();
    }
    ctx.interaction(Some(&bystander)).await;
    ctx.interaction(None).await;

    let activity = s.customer_activity(ctx.tenant(), c.id, at).await.unwrap();
    assert_eq!(
        activity,
        CustomerActivity {
            open_critical_cases: 2,
            overdue_tasks: 2,
            breached_cases: 1,
            contacts: ContactCounts { last_1_day: 2, last_7_days: 4, last_30_days: 6 },
            open_campaign_entries: 0,
        }
    );
    let other = ctx.sibling().await;
    assert_eq!(s.customer_activity(other.tenant(), c.id, at).await.unwrap(), CustomerActivity::default());
}
