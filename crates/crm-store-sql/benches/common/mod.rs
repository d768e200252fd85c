//! What the store's benches share: a fresh database for one run.

/// A fresh database for `backend` (`postgres`, else SQLite): its URL, and for PostgreSQL the
/// admin connection and the database's name, so the bench drops it at the end. PostgreSQL is
/// the server of `CRM_BENCH_POSTGRES_URL` (or `CRM_TEST_POSTGRES_URL`) with the same options
/// (`?sslmode=…`, `?host=/run/postgresql`); SQLite is a new file named `{label}-{uuid}.db` in
/// cargo's target temporary directory.
pub(crate) async fn fresh_database(
    backend: &str,
    label: &str,
) -> (String, Option<(sea_orm::DatabaseConnection, String)>) {
    use sea_orm::ConnectionTrait;
    if backend == "postgres" {
        let base = std::env::var("CRM_BENCH_POSTGRES_URL")
            .or_else(|_| std::env::var("CRM_TEST_POSTGRES_URL"))
            .expect("set CRM_BENCH_POSTGRES_URL (or CRM_TEST_POSTGRES_URL) for --backend postgres");
        let name = format!("crm_bench_{}", uuid::Uuid::now_v7().simple());
        let admin = sea_orm::Database::connect(&base).await.unwrap();
        admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await.unwrap();
        let (address, query) = base.split_once('?').map_or((base.as_str(), None), |(a, q)| (a, Some(q)));
        let (server, _) = address.rsplit_once('/').unwrap();
        let query = query.map(|q| format!("?{q}")).unwrap_or_default();
        (format!("{server}/{name}{query}"), Some((admin, name)))
    } else {
        let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("{label}-{}.db", uuid::Uuid::now_v7().simple()));
        (format!("sqlite://{}?mode=rwc", path.display()), None)
    }
}
