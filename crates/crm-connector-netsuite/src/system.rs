//! The vendor's name in errors, logs and spans. Every module of the crate names it, so it
//! lives apart and depends on nothing: no module imports it back from the module that
//! imports that module.

/// The system name in errors and logs.
pub const SYSTEM: &str = "netsuite";
