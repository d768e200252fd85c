//! Integration tests of the testkit: the store conformance suite run on `MemoryStore`, and
//! checks of the failure injection, the fakes, the fixtures and the strategies.

mod fakes;
mod memory;
mod strategies;

mod memory_conformance {
    //! The conformance suite on the in-memory store, one test per behaviour.
    crm_testkit::store_conformance_tests!(crm_testkit::conformance::MemoryStoreFactory);
}

mod closure_factory {
    //! The macro also takes an async closure as the factory (as a SQL backend would).
    use std::sync::Arc;

    use crm_core::ports::Store;
    use crm_testkit::MemoryStore;

    crm_testkit::store_conformance_tests!(|| async { Arc::new(MemoryStore::new()) as Arc<dyn Store> });
}
