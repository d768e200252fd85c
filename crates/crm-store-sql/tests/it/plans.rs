//! The screen-pop lookups by phone and by email use the `customer_identities_lookup`
//! key on both backends (SQLite: the clustered primary key of the WITHOUT ROWID table).

use crm_core::case::{CaseFilter, CaseSort, CaseSortField, CaseStatus, SortDirection};
use crm_core::customer::{EmailAddress, IdentityKey, PhoneNumber};

use crm_store_sql::{SqlStore, SqlStoreOptions};
use sea_orm::ConnectionTrait;

use crate::helpers::{Backend, sqlite_file_url, store};
use crate::world::{World, email, phone};

/// On PostgreSQL the tests share one database, so the tables hold every test's rows and
/// their statistics are whatever autovacuum last saw: with stale ones (a table "empty" or
/// of one page) the planner rated a full scan of `customer_identities_by_customer` as cheap
/// as the key lookup and picked it. Fresh statistics make the plan the one a real database
/// gets (`SqlStore::analyze`, as after a bulk load; SQLite's plans here need none).
async fn fresh_statistics(s: &SqlStore, backend: Backend) {
    if backend == Backend::Postgres {
        s.analyze().await.unwrap();
    }
}

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
    fresh_statistics(&s, backend).await;
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

/// The screen pop's one statement (lookup and first card) finds everything by index: the
/// identity key, and the customer's cases, tasks, interactions and relations.
async fn the_screen_pop_statement_uses_indexes(backend: Backend) {
    let s = store(backend).await;
    let w = World::new(&s).await;
    for i in 0..50 {
        w.customer(&format!("Client {i}"), vec![phone(&format!("+33 1 23 45 {:02} {:02}", i / 10, i % 100))]).await;
    }
    fresh_statistics(&s, backend).await;
    let key = IdentityKey::phone(&PhoneNumber::parse("+33123450101", None).unwrap());
    let plan = s.explain_screen_pop(w.t.tenant.id, &key).await.unwrap();
    if backend == Backend::Postgres {
        assert!(plan.contains("customer_identities_lookup"), "{plan}");
        assert!(!plan.contains("\"Seq Scan\""), "a table is read in full:\n{plan}");
    } else {
        assert!(plan.contains("SEARCH i USING PRIMARY KEY (tenant_id=? AND key=?)"), "{plan}");
        // Every table is searched by a key; `SCAN` appears only for the CTEs and subqueries.
        for line in plan.lines().filter(|l| l.contains("SCAN")) {
            let table_scan = ["customers", "cases", "tasks", "interactions", "relations"]
                .iter()
                .any(|t| line.trim_start_matches(['|', '-', '`', ' ']).starts_with(&format!("SCAN {t}")));
            assert!(!table_scan, "a table is read in full ({line}):\n{plan}");
        }
        for index in ["cases_by_customer", "tasks_planned_by_customer", "interactions_by_customer", "relations_by_from"]
        {
            assert!(plan.contains(&format!("USING INDEX {index} ")), "{index} is not used:\n{plan}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_screen_pop_statement_uses_indexes() {
    the_screen_pop_statement_uses_indexes(Backend::SqliteFile).await;
}

#[cfg(crm_pg)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_screen_pop_statement_uses_indexes() {
    the_screen_pop_statement_uses_indexes(Backend::Postgres).await;
}

/// The statistics SQLite plans by differ from one database to the next: they must not move
/// the screen pop's tasks and cases off their customer's index. Statistics that rate the
/// tenant's agenda and case list as selective (as SQLite 3.40 did on the benchmark's
/// database) would otherwise walk them for one customer's rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_screen_pop_keeps_the_customer_indexes_whatever_the_statistics() {
    let url = sqlite_file_url();
    let s = SqlStore::connect(&url, SqlStoreOptions::default()).await.unwrap();
    s.migrate().await.unwrap();
    let tenant = {
        let w = World::new(&s).await;
        for i in 0..20 {
            w.customer(&format!("Client {i}"), vec![phone(&format!("+33 1 23 45 67 {i:02}"))]).await;
        }
        w.t.tenant.id
    };
    let (_, write) = s.connections();
    write
        .execute_unprepared(
            "ANALYZE; \
             DELETE FROM sqlite_stat1 WHERE tbl IN ('tasks', 'cases'); \
             INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES \
               ('tasks', 'tasks_planned_by_customer', '1000000 500000 1'), \
               ('tasks', 'tasks_planned_by_agent', '1000000 1 1 1'), \
               ('cases', 'cases_by_customer', '1000000 500000 1'), \
               ('cases', 'cases_by_updated', '1000000 1 1 1')",
        )
        .await
        .unwrap();
    s.close().await.unwrap();
    // New connections read the statistics as they open.
    let s = SqlStore::connect(&url, SqlStoreOptions::default()).await.unwrap();
    let key = IdentityKey::phone(&PhoneNumber::parse("+33123456701", None).unwrap());
    let plan = s.explain_screen_pop(tenant, &key).await.unwrap();
    for index in ["cases_by_customer", "tasks_planned_by_customer"] {
        assert!(plan.contains(&format!("USING INDEX {index} ")), "{index} is not used:\n{plan}");
    }
}

/// A case list of one status in its default order (newest first) reads the status index
/// in order and stops at its page, whatever the statistics say of the status: SQLite's
/// (one average per index column) rate every status as common, and with an index that could
/// not give the whole order it walked the tenant's cases by creation, filtering the status
/// (every case read for a rare one: 0.45 s at 1,000,000 cases). A list sorted by priority
/// reads the priority index in order (without it, every case was sorted: 1.7 s).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_case_lists_by_status_and_by_priority_read_their_index_in_order() {
    // A million cases of one tenant: five statuses of 200,000 each; one status for all (the
    // benchmark's database, where every case is open).
    for status_stat in ["1000000 1000000 200000 2 1", "1000000 1000000 1000000 1000000 1"] {
        let url = sqlite_file_url();
        let s = SqlStore::connect(&url, SqlStoreOptions::default()).await.unwrap();
        s.migrate().await.unwrap();
        let tenant = {
            let w = World::new(&s).await;
            let customer = w.customer("Client", vec![phone("+33 1 23 45 67 00")]).await;
            for _ in 0..5 {
                w.case(&customer).await;
            }
            w.t.tenant.id
        };
        let (_, write) = s.connections();
        write
            .execute_unprepared(&format!(
                "ANALYZE; \
                 DELETE FROM sqlite_stat1 WHERE tbl = 'cases'; \
                 INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES \
                   ('cases', 'cases_by_status', '{status_stat}'), \
                   ('cases', 'cases_by_created', '1000000 1000000 1 1'), \
                   ('cases', 'cases_by_updated', '1000000 1000000 1 1'), \
                   ('cases', 'cases_by_priority', '1000000 1000000 250000 1'), \
                   ('cases', 'cases_by_customer', '1000000 2 1'), \
                   ('cases', 'cases_by_assignee', '1000000 1000000 1000 1'), \
                   ('cases', 'cases_by_group', '1000000 1000000 100000 1'), \
                   ('cases', 'cases_by_sla_due', '1000000 1000000 2 1'), \
                   ('cases', 'cases_by_sla_fire', '100000 2'), \
                   ('cases', 'cases_by_category', '100000 100000 10000 1 1'), \
                   ('cases', 'cases_by_type', '100000 100000 10000 1 1'), \
                   ('cases', 'cases_by_resolution', '100000 100000 10000'), \
                   ('cases', 'cases_by_parent', '10000 3 1'), \
                   ('cases', 'sqlite_autoindex_cases_1', '1000000 1'), \
                   ('cases', 'sqlite_autoindex_cases_2', '1000000 1000000 1')"
            ))
            .await
            .unwrap();
        s.close().await.unwrap();
        let s = SqlStore::connect(&url, SqlStoreOptions::default()).await.unwrap();
        let filter = CaseFilter { status: vec![CaseStatus::Pending], ..CaseFilter::default() };
        let plan = s.explain_case_list(tenant, &filter, CaseSort::default()).await.unwrap();
        assert!(plan.contains("USING INDEX cases_by_status (tenant_id=? AND status=?)"), "{status_stat}:\n{plan}");
        assert!(!plan.contains("TEMP B-TREE"), "{status_stat}: the status index gives the order:\n{plan}");
        // Sorted by priority, highest first: the priority index gives the order.
        let by_priority = CaseSort { field: CaseSortField::Priority, direction: SortDirection::Desc };
        let plan = s.explain_case_list(tenant, &CaseFilter::default(), by_priority).await.unwrap();
        assert!(plan.contains("USING INDEX cases_by_priority (tenant_id=?)"), "{status_stat}:\n{plan}");
        assert!(!plan.contains("TEMP B-TREE"), "{status_stat}: the priority index gives the order:\n{plan}");
        s.close().await.unwrap();
    }
}
