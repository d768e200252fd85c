//! custom_field (work in progress)
