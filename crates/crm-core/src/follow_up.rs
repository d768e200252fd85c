//! follow_up (work in progress)
