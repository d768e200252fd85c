//! task (work in progress)
