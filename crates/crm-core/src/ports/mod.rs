//! Ports: the traits adapters implement.

mod external_crm;

pub use external_crm::ExternalCrm;
