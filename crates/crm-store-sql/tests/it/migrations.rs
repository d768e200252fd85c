//! Migrations run from an empty database on both backends, and running them again is a
//! no-op (forward only, recorded in `seaql_migrations`). Migrations that move data keep it.

use chrono::{DateTime, Utc};
use crm_core::case::CaseHistoryEntry;
use crm_core::customer::{AccountNumber, Customer, CustomerContext, CustomerQuery, NameKeys, NewCustomer};
use crm_core::ids::{AgentId, CaseId, CustomerId, TenantId};
use crm_core::page::PageRequest;
use crm_core::ports::{CaseStore, CustomerStore};
use crm_store_sql::{Migrator, SqlStore, SqlStoreOptions};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, Value};
use sea_orm_migration::MigratorTrait;
use serde_json::json;

async fn migrations_apply_once_from_empty(url: &str) {
    let store = SqlStore::connect(url, SqlStoreOptions::default()).await.unwrap();
    store.migrate().await.unwrap();
    store.migrate().await.unwrap();
    let db = sea_orm::Database::connect(url).await.unwrap();
    let applied = Migrator::get_applied_migrations(&db).await.unwrap();
    assert_eq!(applied.len(), Migrator::migrations().len());
    assert!(Migrator::get_pending_migrations(&db).await.unwrap().is_empty());
}

/// `sql` with `?` placeholders as `backend` takes them (numbered for PostgreSQL).
fn statement(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = if backend == DbBackend::Postgres {
        let mut n = 0;
        sql.split('?').enumerate().fold(String::new(), |mut out, (i, part)| {
            if i > 0 {
                n += 1;
                out.push_str(&format!("${n}"));
            }
            out.push_str(part);
            out
        })
    } else {
        sql.to_owned()
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// Runs `sql` with `?` placeholders (numbered for PostgreSQL).
async fn run(db: &DatabaseConnection, sql: &str, values: Vec<Value>) {
    db.execute_raw(statement(db.get_database_backend(), sql, values)).await.unwrap();
}

/// A customer row with nothing but its required columns (account `A1`), for a schema of
/// an earlier migration.
async fn bare_customer(db: &DatabaseConnection, tenant: uuid::Uuid, customer: uuid::Uuid) {
    run(
        db,
        "INSERT INTO customers (id, tenant_id, account_number, name_sort, status, created_at, updated_at, version, doc) \
         VALUES (?, ?, 'A1', 'a', 'active', 0, 0, 1, '{}')",
        vec![customer.into(), tenant.into()],
    )
    .await;
}

/// A case's history written one row per field under `m0002` reads back the same, in the
/// same order, once `m0003` has moved it to one row per change.
async fn case_history_survives_its_move_to_one_row_per_change(url: &str) {
    let db = sea_orm::Database::connect(url).await.unwrap();
    Migrator::up(&db, Some(2)).await.unwrap();
    let (tenant, actor, customer) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    let (case, quiet) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    bare_customer(&db, tenant, customer).await;
    for (id, number) in [(case, 1_i64), (quiet, 2)] {
        run(
            &db,
            "INSERT INTO cases (id, tenant_id, number, customer_id, status, visibility, severity, priority, \
             priority_rank, subject_lc, description_lc, created_at, updated_at, version, doc) \
             VALUES (?, ?, ?, ?, 'open', 'public', 'low', 'normal', 1, 's', '', 0, 0, 2, '{}')",
            vec![id.into(), tenant.into(), number.into(), customer.into()],
        )
        .await;
    }
    let (created, updated) = (1_700_000_000_000_000_000_i64, 1_700_000_060_000_000_000_i64);
    // (seq, version, at, field, old, new), in the order the old store wrote them.
    let rows = [
        (1, 1, created, "status", "null", r#""open""#),
        (2, 1, created, "priority", "null", r#""normal""#),
        (3, 1, created, "subject", "null", r#""Printer, \"jammed\"""#),
        (4, 2, updated, "status", r#""open""#, r#""pending""#),
        (5, 2, updated, "custom.tier", r#"{"level":1}"#, "null"),
    ];
    for (seq, version, at, field, old, new) in rows {
        run(
            &db,
            "INSERT INTO case_history (tenant_id, case_id, seq, version, field, at, actor_id, old_value, new_value) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                tenant.into(),
                case.into(),
                i64::from(seq).into(),
                i64::from(version).into(),
                field.into(),
                at.into(),
                actor.into(),
                old.into(),
                new.into(),
            ],
        )
        .await;
    }
    db.close().await.unwrap();

    let store = SqlStore::connect(url, SqlStoreOptions::default()).await.unwrap();
    store.migrate().await.unwrap();
    let entry = |version: u64, at: i64, field: &str, old: serde_json::Value, new: serde_json::Value| CaseHistoryEntry {
        tenant: TenantId::from_uuid(tenant),
        case: CaseId::from_uuid(case),
        version,
        at: DateTime::<Utc>::from_timestamp_nanos(at),
        actor: AgentId::from_uuid(actor),
        field: field.to_owned(),
        old,
        new,
    };
    // By version, then field name, as the store has always returned them.
    let expected = vec![
        entry(1, created, "priority", json!(null), json!("normal")),
        entry(1, created, "status", json!(null), json!("open")),
        entry(1, created, "subject", json!(null), json!("Printer, \"jammed\"")),
        entry(2, updated, "custom.tier", json!({"level": 1}), json!(null)),
        entry(2, updated, "status", json!("open"), json!("pending")),
    ];
    let tenant_id = TenantId::from_uuid(tenant);
    assert_eq!(store.case_history(tenant_id, CaseId::from_uuid(case)).await.unwrap(), expected);
    assert!(store.case_history(tenant_id, CaseId::from_uuid(quiet)).await.unwrap().is_empty());
    assert!(store.case_history(TenantId::from_uuid(actor), CaseId::from_uuid(case)).await.unwrap().is_empty());
    store.close().await.unwrap();
}

fn customer(tenant: TenantId, name: &str, n: u64) -> Customer {
    let now = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap();
    NewCustomer { name: name.into(), ..NewCustomer::default() }
        .build(
            CustomerId::from_uuid(uuid::Uuid::now_v7()),
            tenant,
            None,
            Some(AccountNumber::generated(n)),
            CustomerContext { region: None, definitions: &[], now },
        )
        .unwrap()
}

/// Customers and their name terms written under `m0003` are found by name and by sound once
/// `m0004` has moved SQLite's name search to FTS5 (on PostgreSQL `m0004` does nothing), and
/// a customer created afterwards is found beside them.
async fn name_search_survives_its_move_to_fts5(url: &str) {
    let db = sea_orm::Database::connect(url).await.unwrap();
    Migrator::up(&db, Some(3)).await.unwrap();
    let tenant = TenantId::from_uuid(uuid::Uuid::now_v7());
    let before = [customer(tenant, "Marie Dupond", 1), customer(tenant, "Éloïse Durand", 2)];
    for c in &before {
        run(
            &db,
            "INSERT INTO customers (id, tenant_id, account_number, name_sort, status, created_at, updated_at, version, doc) \
             VALUES (?, ?, ?, ?, 'active', 0, 0, 1, ?)",
            vec![
                c.id.as_uuid().into(),
                tenant.as_uuid().into(),
                c.account_number().to_string().into(),
                c.folded_name().into(),
                serde_json::to_string(c).unwrap().into(),
            ],
        )
        .await;
        let keys = c.name_keys();
        let terms = keys.words.iter().map(|w| ("w", w)).chain(keys.phonetic.iter().map(|p| ("p", p)));
        for (kind, term) in terms {
            run(
                &db,
                "INSERT INTO customer_name_terms (tenant_id, kind, term, customer_id) VALUES (?, ?, ?, ?)",
                vec![tenant.as_uuid().into(), kind.into(), term.as_str().into(), c.id.as_uuid().into()],
            )
            .await;
        }
    }
    db.close().await.unwrap();

    let store = SqlStore::connect(url, SqlStoreOptions::default()).await.unwrap();
    store.migrate().await.unwrap();
    let after = customer(tenant, "Marie Curie", 3);
    store.insert_customer(&after, &[]).await.unwrap();
    let by_name =
        |name: &str| CustomerQuery { name: Some(name.into()), ..CustomerQuery::default() }.normalise().unwrap();
    let found = async |name: &str| {
        let page = store.search_customers(tenant, &by_name(name), &PageRequest::first()).await.unwrap();
        page.items.into_iter().map(|c| c.name().to_owned()).collect::<Vec<_>>()
    };
    assert_eq!(found("du").await, ["Éloïse Durand", "Marie Dupond"]);
    assert_eq!(found("marie").await, ["Marie Curie", "Marie Dupond"]);
    assert_eq!(found("eloise dur").await, ["Éloïse Durand"]);
    let sounding = store.find_by_phonetic(tenant, &NameKeys::of("Dupont").phonetic, 10).await.unwrap();
    assert_eq!(sounding, vec![before[0].clone()]);
    store.close().await.unwrap();
}

/// After `m0005` the enum checks still refuse a value outside their list and take every
/// value inside it, rows written before it stay, and on SQLite no check lists three or more
/// values any more (SQLite would build a temporary B-tree of the list per statement).
async fn enum_checks_hold_after_m0005(url: &str) {
    let db = sea_orm::Database::connect(url).await.unwrap();
    Migrator::up(&db, Some(4)).await.unwrap();
    let (tenant, customer) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    bare_customer(&db, tenant, customer).await;
    let case = |number: i64, status: &str, visibility: &str, severity: &str, priority: &str| {
        let sql = format!(
            "INSERT INTO cases (id, tenant_id, number, customer_id, status, visibility, severity, priority, \
             priority_rank, subject_lc, description_lc, created_at, updated_at, version, doc) \
             VALUES (?, ?, ?, ?, '{status}', '{visibility}', '{severity}', '{priority}', 1, 's', '', 0, 0, 1, '{{}}')"
        );
        let values: Vec<Value> = vec![uuid::Uuid::now_v7().into(), tenant.into(), number.into(), customer.into()];
        (sql, values)
    };
    let (sql, values) = case(1, "on_hold", "private", "critical", "urgent");
    run(&db, &sql, values).await;
    db.close().await.unwrap();

    let store = SqlStore::connect(url, SqlStoreOptions::default()).await.unwrap();
    store.migrate().await.unwrap();
    let (_, db) = store.connections();
    let backend = db.get_database_backend();
    let insert = |(sql, values): (String, Vec<Value>)| {
        let db = db.clone();
        let insert = statement(backend, &sql, values);
        async move { db.execute_raw(insert).await }
    };
    let statuses = ["draft", "open", "pending", "on_hold", "closed"];
    for (n, status) in (2..).zip(statuses) {
        insert(case(n, status, "public", "low", "normal")).await.unwrap();
    }
    for (n, visibility) in (10..).zip(["public", "internal", "private"]) {
        insert(case(n, "open", visibility, "medium", "high")).await.unwrap();
    }
    for (n, (severity, priority)) in
        (20..).zip([("low", "low"), ("medium", "normal"), ("high", "high"), ("critical", "urgent")])
    {
        insert(case(n, "open", "public", severity, priority)).await.unwrap();
    }
    for (n, bad) in (30..).zip([
        case(0, "opened", "public", "low", "normal"),
        case(0, "open", "secret", "low", "normal"),
        case(0, "open", "public", "minor", "normal"),
        case(0, "open", "public", "low", "asap"),
        case(0, "OPEN", "public", "low", "normal"),
    ]) {
        let (sql, mut values) = bad;
        values[2] = Value::BigInt(Some(n));
        let e = insert((sql, values)).await.unwrap_err().to_string();
        assert!(e.to_lowercase().contains("check"), "{e}");
    }
    let tasks = "INSERT INTO tasks (id, tenant_id, customer_id, assignee_id, status, scheduled_at, version, doc) \
                 VALUES (?, ?, ?, ?, ?, 0, 1, '{}')";
    for status in ["planned", "done", "cancelled", "late"] {
        let values: Vec<Value> = vec![
            uuid::Uuid::now_v7().into(),
            tenant.into(),
            customer.into(),
            uuid::Uuid::now_v7().into(),
            status.into(),
        ];
        let inserted = insert((tasks.to_owned(), values)).await;
        assert_eq!(inserted.is_ok(), status != "late", "{status}: {inserted:?}");
    }
    let outbox = "INSERT INTO outbox (id, tenant_id, topic, status, attempts, at, next_attempt_at, doc) \
                  VALUES (?, ?, 'notification', ?, 0, 0, 0, '{}')";
    for status in ["pending", "delivered", "dead", "lost"] {
        let values: Vec<Value> = vec![uuid::Uuid::now_v7().into(), tenant.into(), status.into()];
        let inserted = insert((outbox.to_owned(), values)).await;
        assert_eq!(inserted.is_ok(), status != "lost", "{status}: {inserted:?}");
    }
    let count = db
        .query_one_raw(Statement::from_string(backend, "SELECT count(*) AS n FROM cases"))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap();
    assert_eq!(count, 1 + 5 + 3 + 4, "the case written before m0005 and every valid one");
    if backend == DbBackend::Sqlite {
        let ok = db
            .query_one_raw(Statement::from_string(backend, "PRAGMA integrity_check"))
            .await
            .unwrap()
            .unwrap()
            .try_get_by_index::<String>(0)
            .unwrap();
        assert_eq!(ok, "ok");
        let tables = db
            .query_all_raw(Statement::from_string(backend, "SELECT name, sql FROM sqlite_schema WHERE type = 'table'"))
            .await
            .unwrap();
        for table in tables {
            let (name, sql): (String, Option<String>) =
                (table.try_get_by_index(0).unwrap(), table.try_get_by_index(1).unwrap());
            for list in sql.unwrap_or_default().split("CHECK (").skip(1) {
                let check = &list[..list.find(')').unwrap_or(list.len())];
                assert!(!(check.contains(" IN (") && check.matches(',').count() >= 2), "{name}: CHECK ({check}");
            }
        }
    }
    store.close().await.unwrap();
}

/// `m0008` adopts the tables the server used to create itself (`crm_server_*`, made by
/// `CREATE TABLE IF NOT EXISTS` after the store's migrations): a token issued before still
/// authenticates, installation facts stay, and the live feed's positions go on after the
/// last one handed out.
async fn server_tables_are_adopted_by_m0008(url: &str) {
    use crm_core::access::Role;
    use crm_core::ports::{LiveFeedStore, MetaStore, TokenStore};
    let db = sea_orm::Database::connect(url).await.unwrap();
    Migrator::up(&db, Some(7)).await.unwrap();
    let serial = match db.get_database_backend() {
        DbBackend::Postgres => "BIGSERIAL PRIMARY KEY",
        _ => "INTEGER PRIMARY KEY AUTOINCREMENT",
    };
    // The DDL of crm-server's `db.rs` before the move, verbatim.
    for ddl in [
        "CREATE TABLE IF NOT EXISTS crm_server_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)".to_owned(),
        "CREATE TABLE IF NOT EXISTS crm_server_tokens (hash TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, \
         agent_id TEXT NOT NULL, role TEXT NOT NULL, label TEXT NOT NULL, created_at TEXT NOT NULL)"
            .to_owned(),
        format!(
            "CREATE TABLE IF NOT EXISTS crm_server_live_events (seq {serial}, tenant_id TEXT NOT NULL, \
             agent_id TEXT NOT NULL, name TEXT NOT NULL, payload TEXT NOT NULL, created_ms BIGINT NOT NULL)"
        ),
        "CREATE INDEX IF NOT EXISTS crm_server_live_events_created ON crm_server_live_events (created_ms)".to_owned(),
        "CREATE TABLE IF NOT EXISTS crm_server_idempotency (key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, \
         state TEXT NOT NULL, status BIGINT NOT NULL, headers TEXT NOT NULL, body TEXT NOT NULL, \
         created_ms BIGINT NOT NULL)"
            .to_owned(),
    ] {
        db.execute_unprepared(&ddl).await.unwrap();
    }
    let (tenant, agent) = (TenantId::from_uuid(uuid::Uuid::now_v7()), AgentId::from_uuid(uuid::Uuid::now_v7()));
    run(
        &db,
        "INSERT INTO crm_server_tokens (hash, tenant_id, agent_id, role, label, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        vec![
            "abc123".into(),
            tenant.to_string().into(),
            agent.to_string().into(),
            "supervisor".into(),
            "old".into(),
            "2026-11-01T00:00:00+00:00".into(),
        ],
    )
    .await;
    run(&db, "INSERT INTO crm_server_meta (key, value) VALUES ('initialised', 'true')", vec![]).await;
    for n in 0..3_i64 {
        run(
            &db,
            "INSERT INTO crm_server_live_events (tenant_id, agent_id, name, payload, created_ms) VALUES (?, ?, 'x', '{}', ?)",
            vec![tenant.to_string().into(), agent.to_string().into(), n.into()],
        )
        .await;
    }
    db.close().await.unwrap();

    let store = SqlStore::connect(url, SqlStoreOptions::default()).await.unwrap();
    store.migrate().await.unwrap();
    let token = store.find_token("abc123").await.unwrap().expect("the old token is kept");
    assert_eq!((token.grant.tenant, token.grant.agent, token.grant.role), (tenant, agent, Role::Supervisor));
    assert_eq!((token.revoked_at, token.expires_at, token.last_used_at), (None, None, None), "the kept token is live");
    assert_eq!(store.meta("initialised").await.unwrap().as_deref(), Some("true"));
    let old = store.live_for_agent_after(tenant, agent, 0, 10).await.unwrap();
    assert_eq!(old.len(), 3, "the feed kept its events");
    let event = crm_core::live::NewLiveEvent { tenant, agent, name: "y".into(), payload: "{}".into() };
    let now: chrono::DateTime<chrono::Utc> = "2026-12-01T00:00:00Z".parse().unwrap();
    store.append_live(&[event], now).await.unwrap();
    let after = store.live_for_agent_after(tenant, agent, old[2].seq, 10).await.unwrap();
    assert_eq!(after.len(), 1, "a new event comes after the old positions");
    store.close().await.unwrap();
}

fn sqlite_file(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("crm-{name}-{}.db", uuid::Uuid::now_v7().simple()));
    format!("sqlite://{}?mode=rwc", path.display())
}

#[tokio::test]
async fn sqlite_migrations_apply_once_from_an_empty_file() {
    migrations_apply_once_from_empty(&sqlite_file("migrate")).await;
}

#[tokio::test]
async fn sqlite_case_history_survives_its_move_to_one_row_per_change() {
    case_history_survives_its_move_to_one_row_per_change(&sqlite_file("m0003")).await;
}

#[tokio::test]
async fn sqlite_name_search_survives_its_move_to_fts5() {
    name_search_survives_its_move_to_fts5(&sqlite_file("m0004")).await;
}

#[tokio::test]
async fn sqlite_server_tables_are_adopted_by_m0008() {
    server_tables_are_adopted_by_m0008(&sqlite_file("m0008")).await;
}

#[tokio::test]
async fn sqlite_enum_checks_hold_after_m0005() {
    enum_checks_hold_after_m0005(&sqlite_file("m0005")).await;
}

/// `m0006` rebuilds `cases_by_status`; on a SQLite database with statistics the rebuilt
/// index gets its own at once (an index without any is taken for a selective one), and a
/// database that never had statistics is left without.
#[tokio::test]
async fn sqlite_m0006_keeps_the_statistics_of_an_analysed_database() {
    async fn status_index_stat(db: &DatabaseConnection) -> Option<String> {
        let sql = "SELECT stat FROM sqlite_stat1 WHERE idx = 'cases_by_status'";
        let row = db.query_one_raw(Statement::from_string(DbBackend::Sqlite, sql)).await.ok()??;
        row.try_get::<String>("", "stat").ok()
    }
    for analysed in [true, false] {
        let url = sqlite_file("m0006");
        let db = sea_orm::Database::connect(&url).await.unwrap();
        Migrator::up(&db, Some(5)).await.unwrap();
        let (tenant, customer) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
        bare_customer(&db, tenant, customer).await;
        for number in 1..=3_i64 {
            run(
                &db,
                "INSERT INTO cases (id, tenant_id, number, customer_id, status, visibility, severity, priority, \
                 priority_rank, subject_lc, description_lc, created_at, updated_at, version, doc) \
                 VALUES (?, ?, ?, ?, 'open', 'public', 'low', 'normal', 1, 's', '', 0, 0, 1, '{}')",
                vec![uuid::Uuid::now_v7().into(), tenant.into(), number.into(), customer.into()],
            )
            .await;
        }
        if analysed {
            db.execute_unprepared("ANALYZE").await.unwrap();
        }
        Migrator::up(&db, None).await.unwrap();
        let stat = status_index_stat(&db).await;
        if analysed {
            // Four columns: the tie-breaker `number` is in the index.
            let columns = stat.as_deref().map(|s| s.split_whitespace().count());
            assert_eq!(columns, Some(5), "{stat:?}");
        } else {
            assert_eq!(stat, None);
        }
        db.close().await.unwrap();
    }
}

/// Runs `test` on a fresh PostgreSQL database of its own (so migrations start from
/// nothing), then drops it.
#[cfg(crm_pg)]
async fn on_fresh_postgres(tag: &str, test: impl AsyncFnOnce(&str)) {
    let base = crate::helpers::postgres_url().unwrap();
    let name = format!(
        "crm_test_{}_{tag}{}",
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs(),
        &uuid::Uuid::now_v7().simple().to_string()[24..]
    );
    let admin = sea_orm::Database::connect(&base).await.unwrap();
    admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await.unwrap();
    test(&crate::helpers::with_database(&base, &name)).await;
    admin.execute_unprepared(&format!("DROP DATABASE \"{name}\" WITH (FORCE)")).await.unwrap();
}

#[cfg(crm_pg)]
#[tokio::test]
async fn postgres_migrations_apply_once_from_an_empty_schema() {
    on_fresh_postgres("m", migrations_apply_once_from_empty).await;
}

#[cfg(crm_pg)]
#[tokio::test]
async fn postgres_case_history_survives_its_move_to_one_row_per_change() {
    on_fresh_postgres("h", case_history_survives_its_move_to_one_row_per_change).await;
}

#[cfg(crm_pg)]
#[tokio::test]
async fn postgres_name_search_survives_m0004() {
    on_fresh_postgres("n", name_search_survives_its_move_to_fts5).await;
}

#[cfg(crm_pg)]
#[tokio::test]
async fn postgres_enum_checks_hold_after_m0005() {
    on_fresh_postgres("c", enum_checks_hold_after_m0005).await;
}

#[cfg(crm_pg)]
#[tokio::test]
async fn postgres_server_tables_are_adopted_by_m0008() {
    on_fresh_postgres("s", server_tables_are_adopted_by_m0008).await;
}
