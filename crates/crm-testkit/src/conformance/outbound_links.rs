//! Conformance: what ties outbound calling to the rest of the store (OUT-1, GUI-1, GUI-2):
//! the open call-list entries alert rules count, a deleted customer's entries, the script
//! list's cursor pages, and the script runs started for a call-list entry.

use std::collections::BTreeMap;

use chrono::Duration;
use crm_core::error::StoreError;
use crm_core::guidance::{Script, StoredScriptRun};
use crm_core::outbound::{CallListPatch, OutcomeInput};
use crm_core::page::PageRequest;
use crm_core::script::{RunPosition, ScriptDraft, ScriptRunRecord};
use serde_json::json;

use super::outbound::{build, campaign_and_list, new_entry, phone_customer};
use super::{Ctx, StoreFactory};

/// A customer has an open campaign entry while one of its entries is open in an active
/// list: a closed entry, an entry of a paused list, another customer's, another tenant's
/// do not count.
pub async fn customer_activity_counts_open_entries_of_active_lists(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let s = &ctx.store;
    let tenant = ctx.tenant();
    let (campaign, list) = campaign_and_list(&ctx, 3).await;
    let (_, paused) = campaign_and_list(&ctx, 3).await;
    let ada = phone_customer(&ctx, "Ada", "+33 1 23 45 67 89").await;
    let bob = phone_customer(&ctx, "Bob", "+33 1 23 45 67 88").await;
    let cy = phone_customer(&ctx, "Cy", "+33 1 23 45 67 87").await;
    let at = ctx.now + Duration::minutes(5);
    let count = |c| async move { s.customer_activity(tenant, c, at).await.unwrap().open_campaign_entries };
    assert_eq!(count(ada.id).await, 0, "no entry yet");

    let open = build(&ctx, &list, &ada, new_entry(&ada, 1, None));
    let closing = build(&ctx, &list, &bob, new_entry(&bob, 1, None));
    s.insert_entries(tenant, list.id, &[open.clone(), closing.clone()]).await.unwrap();
    let in_paused = build(&ctx, &paused, &cy, new_entry(&cy, 1, None));
    s.insert_entries(tenant, paused.id, std::slice::from_ref(&in_paused)).await.unwrap();
    let mut stopped = paused.clone();
    CallListPatch { active: Some(false), ..Default::default() }.apply(&mut stopped).unwrap();
    s.update_call_list(&stopped, paused.version()).await.unwrap();

    // Bob's entry closes as a success.
    let mut done = closing.clone();
    let agent = ctx.t.agent.id;
    done.lease_to(agent, ctx.now + Duration::minutes(10));
    let input =
        OutcomeInput { disposition: "success".into(), callback_at: None, same_agent: false, answers: BTreeMap::new() };
    done.record_outcome(&list, &campaign, agent, input, ctx.now).unwrap();
    s.update_entry(&done, closing.version(), &[]).await.unwrap();

    assert_eq!(count(ada.id).await, 1, "an open entry of an active list");
    assert_eq!(count(bob.id).await, 0, "a closed entry");
    assert_eq!(count(cy.id).await, 0, "an entry of a paused list");
    let other = ctx.sibling().await;
    assert_eq!(s.customer_activity(other.tenant(), ada.id, at).await.unwrap().open_campaign_entries, 0);

    // Leased (being called) is still open.
    let mut leased = open.clone();
    leased.lease_to(agent, ctx.now + Duration::minutes(10));
    s.update_entry(&leased, open.version(), &[]).await.unwrap();
    assert_eq!(count(ada.id).await, 1, "a leased entry is still open");
}

/// Deleting a customer deletes its call-list entries (and nobody else's).
pub async fn deleting_a_customer_deletes_its_call_list_entries(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let s = &ctx.store;
    let tenant = ctx.tenant();
    let (_, list) = campaign_and_list(&ctx, 3).await;
    let gone = phone_customer(&ctx, "Gone", "+33 1 23 45 67 89").await;
    let kept = phone_customer(&ctx, "Kept", "+33 1 23 45 67 88").await;
    let e1 = build(&ctx, &list, &gone, new_entry(&gone, 1, None));
    let e2 = build(&ctx, &list, &kept, new_entry(&kept, 1, None));
    s.insert_entries(tenant, list.id, &[e1.clone(), e2.clone()]).await.unwrap();
    s.delete_customer(tenant, gone.id, gone.version(), &[]).await.unwrap();
    assert_eq!(s.get_entry(tenant, e1.id).await.unwrap(), None, "the deleted customer's entry went with it");
    assert_eq!(s.get_entry(tenant, e2.id).await.unwrap(), Some(e2.clone()));
    let left: Vec<_> = s.entries(tenant, list.id, None, 10).await.unwrap().into_iter().map(|e| e.id).collect();
    assert_eq!(left, vec![e2.id]);
    assert_eq!(s.list_progress(tenant, list.id).await.unwrap().total, 1);
}

fn script_named(ctx: &Ctx, name: &str) -> Script {
    let draft: ScriptDraft = serde_json::from_value(json!({"name": name, "start": "q", "steps": [
        {"type": "yes_no", "id": "q", "text": "Happy?", "yes": "done", "no": "done"},
        {"type": "end", "id": "done"}
    ]}))
    .unwrap();
    Script { id: ctx.id(), draft, version: 1, published: 0, created_at: ctx.now, updated_at: ctx.now }
}

/// The script list is paged by cursor in (name, id) order: every script once, same-named
/// ones by id, another tenant's never; a foreign cursor is refused naming `cursor`.
pub async fn scripts_are_paged_by_name_then_id(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let s = &ctx.store;
    let tenant = ctx.tenant();
    let mut all = Vec::new();
    for name in ["Retention", "Greeting", "Survey", "Greeting", "Billing"] {
        let script = script_named(&ctx, name);
        s.insert_script(tenant, &script).await.unwrap();
        all.push(script);
    }
    let other = ctx.sibling().await;
    s.insert_script(other.tenant(), &script_named(&ctx, "Alien")).await.unwrap();
    all.sort_by(|a, b| (&a.draft.name, a.id).cmp(&(&b.draft.name, b.id)));

    let mut seen = Vec::new();
    let mut page = PageRequest::new(Some(2), None).unwrap();
    loop {
        let got = s.scripts_page(tenant, &page).await.unwrap();
        assert!(got.items.len() <= 2);
        seen.extend(got.items);
        match got.next {
            Some(next) => page = PageRequest::new(Some(2), Some(next)).unwrap(),
            None => break,
        }
    }
    assert_eq!(seen, all, "every script once, by name then id");
    let one = s.scripts_page(tenant, &PageRequest::new(Some(5), None).unwrap()).await.unwrap();
    assert_eq!((one.items.len(), one.next), (5, None), "an exact last page has no cursor");

    let bad = PageRequest::new(Some(2), Some(crm_core::page::Cursor::from_string("zz".into()))).unwrap();
    match s.scripts_page(tenant, &bad).await {
        Err(StoreError::InvalidReference { field, .. }) => assert_eq!(field, "cursor"),
        other => panic!("a foreign cursor: {other:?}"),
    }
}

/// A run started for a call-list entry is found from the entry (oldest first), and only
/// from its tenant; runs without an entry are not.
pub async fn script_runs_are_found_by_their_call_list_entry(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let s = &ctx.store;
    let tenant = ctx.tenant();
    let (_, list) = campaign_and_list(&ctx, 3).await;
    let ada = phone_customer(&ctx, "Ada", "+33 1 23 45 67 89").await;
    let entry = build(&ctx, &list, &ada, new_entry(&ada, 1, None));
    s.insert_entries(tenant, list.id, std::slice::from_ref(&entry)).await.unwrap();
    let script = script_named(&ctx, "Offer");
    s.insert_script(tenant, &script).await.unwrap();
    let interaction = ctx.interaction(Some(&ada)).await;
    let run = |entry, minutes| StoredScriptRun {
        id: ctx.id(),
        tenant,
        interaction: interaction.id,
        customer: Some(ada.id),
        agent: ctx.t.agent.id,
        entry,
        record: ScriptRunRecord {
            script: script.id,
            version: 1,
            path: vec!["q".into()],
            answers: Vec::new(),
            position: RunPosition::At("q".into()),
        },
        version: 1,
        started_at: ctx.now + Duration::minutes(minutes),
        updated_at: ctx.now + Duration::minutes(minutes),
    };
    let (second, first, plain) = (run(Some(entry.id), 2), run(Some(entry.id), 1), run(None, 0));
    for r in [&second, &first, &plain] {
        s.insert_script_run(r, &[]).await.unwrap();
    }
    assert_eq!(s.script_runs_of_entry(tenant, entry.id).await.unwrap(), vec![first.clone(), second.clone()]);
    assert_eq!(s.get_script_run(tenant, first.id).await.unwrap().unwrap().entry, Some(entry.id));
    let other = ctx.sibling().await;
    assert!(s.script_runs_of_entry(other.tenant(), entry.id).await.unwrap().is_empty());
    assert_eq!(s.script_runs_of(tenant, interaction.id).await.unwrap().len(), 3);
}
