//! Conformance: administration writes are audited (ADM-4, ADR 0020). Each administration
//! use case (agents, profile, password, groups and membership, API tokens, custom field
//! definitions, dispositions, queues, tenant settings, tenant-defined roles) hands its
//! event to the store, which writes it with ONE pending audit entry in the write's
//! transaction; a refused write (stale version, taken name, group or role in use) and a
//! write that changes nothing (a second revocation) leave none. Run through [`Crm`] over
//! the store under test, so the use cases' events and the store's transaction are both
//! checked on every backend.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::Duration;
use crm_core::access::{NewRole, Permission, Role, RolePatch};
use crm_core::audit::{AuditFilter, AuditRecord, ChainVerifier};
use crm_core::custom_field::{FieldDefinitionChange, FieldDefinitionInput, FieldEntity, FieldType};
use crm_core::event::EventKind;
use crm_core::interaction::DispositionInput;
use crm_core::service::{
    AgentPatch, Crm, GroupPatch, Membership, NewAgent, ProfilePatch, RoleRef, TenantSettingsPatch,
};
use crm_core::time::UuidV7Generator;

use super::{Ctx, StoreFactory, assert_duplicate, assert_stale, page};
use crate::ManualClock;

/// What the password "hasher" of this test turns a password into: never to be audited.
const PASSWORD_HASH_MARK: &str = "PASSWORD-HASH-NEVER-AUDITED";
/// The stored hash of the API token issued here: never to be audited.
const TOKEN_HASH: &str = "TOKEN-HASH-NEVER-AUDITED-0123456789abcdef";

/// Every chained entry of the context's tenant, in chain order.
async fn chained(ctx: &Ctx) -> Vec<AuditRecord> {
    let s = &*ctx.store;
    while s.chain_audit(500).await.unwrap() >= 500 {}
    let mut all = Vec::new();
    let mut request = page(50);
    loop {
        let got = s.audit_page(ctx.tenant(), &AuditFilter::default(), &request).await.unwrap();
        all.extend(got.items);
        match got.next {
            Some(next) => request = crm_core::page::PageRequest { after: Some(next), ..request },
            None => return all,
        }
    }
}

/// Each covered administration write leaves exactly one chained entry naming its action
/// and target, with before/after values where the use case knows them and never a secret;
/// refused and no-op writes leave none; the chain verifies.
pub async fn administration_writes_leave_one_audit_entry_each(factory: &dyn StoreFactory) {
    let ctx = Ctx::new(factory).await;
    let s = &*ctx.store;
    let clock = Arc::new(ManualClock::new(ctx.now));
    let crm = Crm::new(ctx.store.clone(), clock.clone(), Arc::new(UuidV7Generator));
    let admin = ctx.t.admin_actor();
    let tick = || {
        clock.advance(Duration::seconds(1));
    };
    // (action, target kind, target id) of each write that must be audited, in order.
    let mut want: Vec<(&str, &str, String)> = Vec::new();

    // Agents: create, update, profile, password.
    tick();
    let new = NewAgent {
        name: "Nadia Nouvelle".into(),
        email: "nadia@centre.example.com".into(),
        role: Role::Agent,
        groups: BTreeSet::new(),
    };
    let nadia = crm.create_agent(ctx.tenant(), Some(&admin), new).await.unwrap();
    want.push(("agent_created", "agent", nadia.id.to_string()));
    tick();
    let renamed = AgentPatch { name: Some("Nadia Renommée".into()), ..AgentPatch::default() };
    let nadia = crm.update_agent(&admin, nadia.id, nadia.version, renamed).await.unwrap();
    want.push(("agent_updated", "agent", nadia.id.to_string()));
    tick();
    let stale = AgentPatch { name: Some("Trop tard".into()), ..AgentPatch::default() };
    assert!(crm.update_agent(&admin, nadia.id, 1, stale).await.is_err(), "a stale version is refused");
    tick();
    let profile = ProfilePatch { signature: Some(Some("-- \nBruno".into())), ..ProfilePatch::default() };
    crm.update_profile(&ctx.agent(), ctx.t.agent.version, profile).await.unwrap();
    want.push(("agent_updated", "agent", ctx.t.agent.id.to_string()));
    tick();
    let hasher = |p: &str| format!("{PASSWORD_HASH_MARK}:{}", p.len());
    crm.set_agent_password(&admin, nadia.id, "Un mot de passe assez long 42", &hasher).await.unwrap();
    want.push(("agent_password_set", "agent", nadia.id.to_string()));

    // Groups: create, a taken name, update, membership, in use, delete.
    tick();
    let sales = crm.create_group(&admin, "Ventes", &[]).await.unwrap();
    want.push(("group_created", "group", sales.id.to_string()));
    tick();
    assert!(crm.create_group(&admin, "Ventes", &[]).await.is_err(), "a taken name is refused");
    tick();
    let patch = GroupPatch { name: Some("Ventes directes".into()), ..GroupPatch::default() };
    let sales = crm.update_group(&admin, sales.id, sales.version, patch).await.unwrap();
    want.push(("group_updated", "group", sales.id.to_string()));
    tick();
    crm.change_membership(&admin, sales.id, nadia.id, Membership::Join).await.unwrap();
    want.push(("agent_updated", "agent", nadia.id.to_string()));
    tick();
    assert!(crm.delete_group(&admin, sales.id, sales.version).await.is_err(), "a group in use is kept");
    tick();
    let nadia = crm.change_membership(&admin, sales.id, nadia.id, Membership::Leave).await.unwrap();
    want.push(("agent_updated", "agent", nadia.id.to_string()));
    tick();
    crm.delete_group(&admin, sales.id, sales.version).await.unwrap();
    want.push(("group_deleted", "group", sales.id.to_string()));

    // API tokens: issue, revoke, revoke again (no change: no entry).
    tick();
    let token = crm.issue_api_token(&admin, TOKEN_HASH, nadia.id, Role::Agent, "intégration", None).await.unwrap();
    want.push(("api_token_created", "api_token", token.id.to_string()));
    tick();
    crm.revoke_api_token(&admin, token.id).await.unwrap();
    want.push(("api_token_revoked", "api_token", token.id.to_string()));
    tick();
    crm.revoke_api_token(&admin, token.id).await.unwrap();

    // Custom field definitions: define, change, retire, delete.
    tick();
    let input = FieldDefinitionInput {
        entity: FieldEntity::Customer,
        key: "loyalty_level".into(),
        label: "Fidélité".into(),
        field_type: FieldType::Text,
        required: false,
        default: None,
        help_text: None,
    };
    let field = crm.define_custom_field(&admin, input).await.unwrap();
    want.push(("custom_field_written", "custom_field", field.id.to_string()));
    tick();
    let relabel =
        FieldDefinitionChange { label: Some("Niveau de fidélité".into()), ..FieldDefinitionChange::default() };
    let field = crm.change_custom_field(&admin, field.id, field.version, relabel).await.unwrap();
    want.push(("custom_field_written", "custom_field", field.id.to_string()));
    tick();
    let retire = FieldDefinitionChange { retired: Some(true), ..FieldDefinitionChange::default() };
    let field = crm.change_custom_field(&admin, field.id, field.version, retire).await.unwrap();
    want.push(("custom_field_retired", "custom_field", field.id.to_string()));
    tick();
    crm.delete_custom_field(&admin, field.id, field.version).await.unwrap();
    want.push(("custom_field_deleted", "custom_field", field.id.to_string()));

    // Dispositions, queues, tenant settings.
    tick();
    let code = DispositionInput { code: "callback".into(), label: "Rappel".into(), group: None, active: None };
    crm.put_disposition(&admin, code).await.unwrap();
    want.push(("disposition_written", "disposition", "callback".to_owned()));
    tick();
    crm.put_queue(&admin, "ventes", true).await.unwrap();
    want.push(("queue_written", "queue", "ventes".to_owned()));
    tick();
    let zone = TenantSettingsPatch { time_zone: Some("America/Montreal".into()), ..TenantSettingsPatch::default() };
    crm.update_tenant_settings(ctx.tenant(), Some(&admin), zone).await.unwrap();
    want.push(("tenant_updated", "tenant", ctx.tenant().to_string()));

    // Tenant-defined roles: create, a taken name, update, in use, delete.
    tick();
    let new_role = |name: &str| NewRole {
        name: name.into(),
        description: None,
        permissions: vec![Permission::CustomerRead.as_str().to_owned()],
    };
    let role = crm.create_role(&admin, new_role("Lecteurs")).await.unwrap();
    want.push(("role_written", "role", role.id.to_string()));
    tick();
    assert!(crm.create_role(&admin, new_role("lecteurs")).await.is_err(), "a taken name is refused");
    tick();
    let patch = RolePatch { description: Some(Some("Lecture seule".into())), ..RolePatch::default() };
    let role = crm.update_role(&admin, RoleRef::Tenant(role.id), role.version, patch).await.unwrap();
    want.push(("role_written", "role", role.id.to_string()));
    tick();
    let holder = AgentPatch { custom_role: Some(Some(role.id)), ..AgentPatch::default() };
    let nadia = crm.update_agent(&admin, nadia.id, nadia.version, holder).await.unwrap();
    want.push(("agent_updated", "agent", nadia.id.to_string()));
    tick();
    assert!(crm.delete_role(&admin, RoleRef::Tenant(role.id), role.version).await.is_err(), "a held role is kept");
    tick();
    let unheld = AgentPatch { custom_role: Some(None), ..AgentPatch::default() };
    let nadia = crm.update_agent(&admin, nadia.id, nadia.version, unheld).await.unwrap();
    want.push(("agent_updated", "agent", nadia.id.to_string()));
    tick();
    crm.delete_role(&admin, RoleRef::Tenant(role.id), role.version).await.unwrap();
    want.push(("role_deleted", "role", role.id.to_string()));

    // Refused in the store itself, with an event in hand: nothing written, no entry.
    tick();
    let mut late = nadia.clone();
    late.version = nadia.version + 1;
    let kind = EventKind::AgentUpdated { agent: nadia.id, fields: vec!["name".into()] };
    assert_stale(s.put_agent(&late, Some(nadia.version - 1), &[ctx.event(kind)]).await);
    let mut twin = ctx.t.group.clone();
    twin.id = ctx.id();
    let kind = EventKind::GroupCreated { group: twin.id };
    assert_duplicate(s.put_group(&twin, None, &[ctx.event(kind)]).await, "name");
    let kind = EventKind::GroupDeleted { group: ctx.t.group.id };
    assert!(s.delete_group(ctx.tenant(), ctx.t.group.id, ctx.t.group.version, &[ctx.event(kind)]).await.is_err());

    let got = chained(&ctx).await;
    let seen: Vec<(&str, &str, String)> = got
        .iter()
        .map(|r| (r.entry.action.as_str(), r.entry.target.kind.as_str(), r.entry.target.id.clone()))
        .collect();
    assert_eq!(seen, want, "one entry per audited write, in order, with its target");
    assert!(got.iter().all(|r| r.entry.events.len() == 1 && r.entry.tenant == ctx.tenant()));
    for (i, r) in got.iter().enumerate() {
        // The profile is the agent's own change; everything else the administrator's.
        let who = if i == 2 { ctx.t.agent.id } else { ctx.t.admin.id };
        assert_eq!(r.entry.actor.agent, Some(who), "entry {i} ({})", r.entry.action);
    }

    // Values before and after, where the use case knows them.
    let change = |i: usize, field: &str| {
        got[i].entry.changes.iter().find(|c| c.field == field).cloned().unwrap_or_else(|| {
            panic!("entry {i} ({}) records no change of {field}: {:?}", got[i].entry.action, got[i].entry.changes)
        })
    };
    let name = change(1, "name");
    assert_eq!((name.before.as_str(), name.after.as_str()), (Some("Nadia Nouvelle"), Some("Nadia Renommée")));
    assert!(got[1].entry.changes.iter().all(|c| c.field == "name"), "{:?}", got[1].entry.changes);
    assert_eq!(change(0, "email").after, serde_json::json!("nadia@centre.example.com"));
    assert!(change(2, "profile").after.to_string().contains("Bruno"));
    assert!(got[3].entry.changes.is_empty(), "a password is recorded as set, with no value");
    assert_eq!(change(6, "groups").after, serde_json::json!([sales.id]));
    assert_eq!(change(8, "name").before, serde_json::json!("Ventes directes"));
    assert_eq!(change(8, "name").after, serde_json::Value::Null);
    assert_eq!(change(10, "revoked_at").before, serde_json::Value::Null);
    assert_eq!(change(13, "retired").after, serde_json::json!(true));
    assert_eq!(change(17, "time_zone").after, serde_json::json!("America/Montreal"));

    // No secret anywhere in the log.
    for r in &got {
        let text = serde_json::to_string(r).unwrap();
        assert!(!text.contains(PASSWORD_HASH_MARK), "a password hash in the audit log: {text}");
        assert!(!text.contains(TOKEN_HASH), "a token hash in the audit log: {text}");
    }

    // The chain verifies over exactly these entries.
    let head = s.audit_head(ctx.tenant()).await.unwrap().expect("a chain head");
    let mut v = ChainVerifier::new(&head);
    for r in &got {
        v.push(r).unwrap_or_else(|b| panic!("the chain breaks at {b}"));
    }
    assert_eq!(v.finish(&head).unwrap_or_else(|b| panic!("the chain breaks at {b}")), want.len() as u64);
}
