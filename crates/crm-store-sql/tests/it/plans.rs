//! The screen-pop lookups by phone and by email use the `customer_identities_lookup`
//! key on both backends (SQLite: the clustered primary key of the WITHOUT ROWID table).

use crm_core::customer::{EmailAddress, IdentityKey, PhoneNumber};

use crate::helpers::{Backend, store};
use crate::world::{World, email, phone};

async fn lookups_use_the_identity_index(backend: Backend) {
    let s = store(backend).await;
    let w = World::new(&s).await;
    for i in 0..50 {
        w.customer(
            &format!("Client {i}"),
            vec![phone(&format!("+33 1 23 45 {:02} {:02}", i / 10, i % 100)), email(&format!("c{i}@example.com"))],
        )
        .await;
    }
    let keys = [
        IdentityKey::phone(&PhoneNumber::parse("+33123450101", None).unwrap()),
        IdentityKey::email(&EmailAddress::parse("c1@example.com").unwrap()),
    ];
    for key in keys {
        let plan = s.explain_identity_lookup(w.t.tenant.id, &key).await.unwrap();
        let uses_index = if backend == Backend::Postgres {
            plan.contains("customer_identities_lookup")
                && ["\"Index Scan\"", "\"Index Only Scan\"", "\"Bitmap Index Scan\""].iter().any(|n| plan.contains(n))
        } else {
            // SQLite names the clustered key of a WITHOUT ROWID table "PRIMARY KEY".
            [
                "USING INDEX customer_identities_lookup",
                "USING COVERING INDEX customer_identities_lookup",
                "SEARCH i USING PRIMARY KEY (tenant_id=? AND key=?)",
            ]
            .iter()
            .any(|p| plan.contains(p))
        };
        assert!(uses_index, "{key} lookup does not use customer_identities_lookup:\n{plan}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_phone_and_email_lookups_use_the_identity_index() {
    lookups_use_the_identity_index(Backend::SqliteFile).await;
}

#[cfg(crm_pg)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_phone_and_email_lookups_use_the_identity_index() {
    lookups_use_the_identity_index(Backend::Postgres).await;
}
