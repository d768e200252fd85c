//! Integration tests of the testkit: the store conformance suite run on [`MemoryStore`], and
//! checks of the fakes, fixtures and strategies.

mod memory_conformance {
    //! The conformance suite on the in-memory store, one test per behaviour.
    crm_testkit::store_conformance_tests!(crm_testkit::conformance::MemoryStoreFactory);
}
