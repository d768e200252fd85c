//! event (work in progress)
