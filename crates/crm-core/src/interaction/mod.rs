//! Interactions (INT).

mod channel;

pub use channel::{Channel, Direction};
