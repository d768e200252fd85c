//! The `crm-testkit` store conformance suite (every MUST clause of the store ports) on the
//! three backends: a SQLite file, SQLite in memory, and PostgreSQL.

mod sqlite_file {
    use crate::helpers::{Backend, dyn_store};

    crm_testkit::store_conformance_tests!(|| dyn_store(Backend::SqliteFile));
}

mod sqlite_memory {
    use crate::helpers::{Backend, dyn_store};

    crm_testkit::store_conformance_tests!(|| dyn_store(Backend::SqliteMemory));
}

#[cfg(crm_pg)]
mod postgres {
    use crate::helpers::{Backend, dyn_store};

    crm_testkit::store_conformance_tests!(|| dyn_store(Backend::Postgres));
}
