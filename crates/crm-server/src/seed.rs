//! Operator actions that create data: a new tenant with its first administrator and an API
//! token, and the demo tenant seeded on the first start (agents, a group, customers with
//! phones and emails, cases, tasks, dispositions and queues), all through the use cases.

use serde::de::DeserializeOwned;
use serde_json::json;

use crm_core::Error;
use crm_core::access::{Actor, Agent, Role, Tenant};
use crm_core::case::NewCase;
use crm_core::customer::NewCustomer;
use crm_core::ids::{AgentId, GroupId, TenantId};
use crm_core::interaction::DispositionInput;
use crm_core::service::{NewAgent, NewTenant};
use crm_core::task::NewTask;

use crate::server::Services;

/// What the demo seed created.
#[derive(Clone, Debug)]
pub struct DemoSeed {
    /// The demo tenant.
    pub tenant: TenantId,
    /// Its administrator.
    pub admin: AgentId,
    /// A supervisor.
    pub supervisor: AgentId,
    /// An agent (the one with cases and tasks).
    pub agent: AgentId,
    /// The support group.
    pub group: GroupId,
    /// The administrator's API token (shown once).
    pub admin_token: String,
    /// The administrator's console password (`admin@demo.example`, shown once).
    pub admin_password: String,
}

/// The demo administrator's sign-in address.
pub const DEMO_ADMIN_EMAIL: &str = "admin@demo.example";

/// A tenant created with its first administrator.
#[derive(Clone, Debug)]
pub struct Bootstrap {
    /// The tenant.
    pub tenant: Tenant,
    /// Its administrator.
    pub admin: Agent,
    /// The administrator's API token (shown once).
    pub token: String,
}

fn from_json<T: DeserializeOwned>(what: &str, v: serde_json::Value) -> Result<T, Error> {
    serde_json::from_value(v).map_err(|e| Error::invalid(what, e.to_string()))
}

/// Creates a tenant, its first administrator and an administrator token.
///
/// # Errors
/// Bad input (region, zone, email); store failures.
pub async fn bootstrap_tenant(
    services: &Services,
    tenant: NewTenant,
    admin_name: &str,
    admin_email: &str,
) -> Result<Bootstrap, Error> {
    let tenant = services.crm.create_tenant(tenant).await?;
    let admin = services
        .crm
        .create_agent(
            tenant.id,
            None,
            NewAgent {
                name: admin_name.to_owned(),
                email: admin_email.to_owned(),
                role: Role::Administrator,
                groups: Default::default(),
            },
        )
        .await?;
    let token = services.tokens.create(tenant.id, admin.id, Role::Administrator, "bootstrap administrator").await?;
    Ok(Bootstrap { tenant, admin, token })
}

/// Seeds the demo tenant.
///
/// # Errors
/// Store failures.
pub async fn seed_demo(services: &Services) -> Result<DemoSeed, Error> {
    let crm = &services.crm;
    let boot = bootstrap_tenant(
        services,
        NewTenant { name: "Demo Contact Center".into(), default_region: "FR".into(), time_zone: "Europe/Paris".into() },
        "Ada Admin",
        DEMO_ADMIN_EMAIL,
    )
    .await?;
    let admin_password = demo_password();
    crm.set_agent_password_as_operator(boot.tenant.id, boot.admin.id, &admin_password, &|p: &str| {
        crate::console::hash_password(p)
    })
    .await?;
    let admin = Actor::for_agent(&boot.admin);
    let group = crm.create_group(&admin, "Support", &["support@demo.example".to_owned()]).await?;
    let groups = [group.id].into_iter().collect();
    let supervisor = crm
        .create_agent(
            boot.tenant.id,
            Some(&admin),
            NewAgent {
                name: "Sam Supervisor".into(),
                email: "sam@demo.example".into(),
                role: Role::Supervisor,
                groups,
            },
        )
        .await?;
    let groups = [group.id].into_iter().collect();
    let alice = crm
        .create_agent(
            boot.tenant.id,
            Some(&admin),
            NewAgent { name: "Alice Agent".into(), email: "alice@demo.example".into(), role: Role::Agent, groups },
        )
        .await?;
    crm.create_agent(
        boot.tenant.id,
        Some(&admin),
        NewAgent {
            name: "Bob Agent".into(),
            email: "bob@demo.example".into(),
            role: Role::Agent,
            groups: Default::default(),
        },
    )
    .await?;
    for (code, label, grp) in [
        ("resolved", "Resolved on first contact", "Support"),
        ("callback_requested", "Customer asked for a call back", "Support"),
        ("escalated", "Escalated to second level", "Support"),
        ("sale", "Sale made", "Sales"),
        ("wrong_number", "Wrong number", "Other"),
    ] {
        crm.put_disposition(
            &admin,
            DispositionInput { code: code.into(), label: label.into(), group: Some(grp.into()), active: None },
        )
        .await?;
    }
    crm.put_queue(&admin, "support", true).await?;
    crm.put_queue(&admin, "sales", false).await?;

    let alice_actor = Actor::for_agent(&alice);
    let customers = [
        ("Jeanne Dupont", "+33 1 23 45 67 89", "jeanne.dupont@example.com", Some("ACME-0001")),
        ("Pierre Dupond", "06 12 34 56 78", "pierre.dupond@example.com", None),
        ("Marie Curie", "+33 1 44 27 00 00", "marie@example.org", None),
        ("John Smith", "+1 415 555 0100", "john.smith@example.com", None),
        ("Zoë D'Arcy", "+44 20 7946 0958", "zoe.darcy@example.co.uk", None),
        ("Acme SARL", "+33 4 72 00 00 00", "contact@acme.example", Some("ACME-CORP")),
    ];
    let mut ids = Vec::new();
    for (name, phone, email, account) in customers {
        let input: NewCustomer = from_json(
            "customer",
            json!({
                "name": name,
                "account_number": account,
                "identities": [
                    {"type": "phone", "number": phone, "label": "main"},
                    {"type": "email", "address": email}
                ],
            }),
        )?;
        ids.push(crm.create_customer(&admin, input).await?.id);
    }
    let cases = [
        (0, "Invoice shows a double charge", "high"),
        (0, "Change of postal address", "low"),
        (1, "Router keeps rebooting", "urgent"),
        (3, "Wants to upgrade the plan", "normal"),
    ];
    for (i, subject, priority) in cases {
        let input: NewCase = from_json(
            "case",
            json!({
                "customer": ids[i],
                "subject": subject,
                "priority": priority,
                "description": {"format": "text", "body": format!("{subject} (demo data)")},
            }),
        )?;
        crm.create_case(&alice_actor, input).await?;
    }
    let tomorrow = (crm.clock().now() + chrono::Duration::days(1)).format("%Y-%m-%dT10:00").to_string();
    for (i, subject) in [(0, "Call Jeanne back about the refund"), (2, "Send Marie the new contract")] {
        let input: NewTask = from_json(
            "task",
            json!({
                "kind": if i == 0 { "call" } else { "email" },
                "subject": subject,
                "customer": ids[i],
                "scheduled": {"at": tomorrow},
                "reminder_minutes": 15,
            }),
        )?;
        crm.create_task(&alice_actor, input).await?;
    }
    Ok(DemoSeed {
        tenant: boot.tenant.id,
        admin: boot.admin.id,
        supervisor: supervisor.id,
        agent: alice.id,
        group: group.id,
        admin_token: boot.token,
        admin_password,
    })
}

/// A fresh random password for the demo administrator (18 characters, base64url).
fn demo_password() -> String {
    use base64::Engine as _;
    use rand::RngCore as _;
    let mut bytes = [0u8; 14];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
