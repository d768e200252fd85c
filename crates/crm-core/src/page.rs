//! page (work in progress)
