//! Applies the store's pending migrations to a database, standalone:
//! `crm-store-sql-migrate sqlite:///var/lib/crm/crm.db?mode=rwc` or `… postgres://…`.

use crm_store_sql::{SqlStore, SqlStoreOptions};

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let Some(url) = std::env::args().nth(1) else {
        eprintln!("usage: crm-store-sql-migrate <database-url>");
        return std::process::ExitCode::from(2);
    };
    let result = async {
        let store = SqlStore::connect(&url, SqlStoreOptions::default()).await?;
        store.migrate().await
    }
    .await;
    match result {
        Ok(()) => {
            println!("migrations applied");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("migration failed: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                eprintln!("  caused by: {s}");
                source = s.source();
            }
            std::process::ExitCode::FAILURE
        }
    }
}
