//! Time is an input: use cases read it from the [`Clock`] port, aggregates take `now` as an
//! argument. [`SystemClock`] is the one place that reads the wall clock.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Where use cases get the current instant from.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current instant. Successive calls SHOULD NOT go backwards.
    fn now(&self) -> DateTime<Utc>;
}

/// The wall clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // the one sanctioned reader of the wall clock
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Where new identifiers come from.
pub trait IdGenerator: Send + Sync + std::fmt::Debug {
    /// A fresh identifier, never returned before by this generator.
    fn new_uuid(&self) -> Uuid;
}

/// Time-ordered UUID v7 identifiers.
#[derive(Clone, Copy, Debug, Default)]
pub struct UuidV7Generator;

impl IdGenerator for UuidV7Generator {
    fn new_uuid(&self) -> Uuid {
        Uuid::now_v7()
    }
}

/// Draws a typed id from a generator: `let id: CaseId = next_id(&*ids);`.
pub fn next_id<I: From<Uuid>>(ids: &dyn IdGenerator) -> I {
    I::from(ids.new_uuid())
}

/// A `std` duration (settings, retention) as a span of time to add to an instant; one past
/// chrono's range saturates at ten years.
pub fn span(d: std::time::Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or_else(|_| chrono::Duration::days(3650))
}
