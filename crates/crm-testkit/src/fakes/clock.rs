//! [`ManualClock`] and [`SequentialIds`]: time and identifiers under the test's control.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Duration, TimeZone, Utc};
use crm_core::time::{Clock, IdGenerator};
use uuid::Uuid;

/// The instant a [`ManualClock::default`] starts at: Monday 2026-11-23 09:00:00 UTC.
pub fn default_start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).single().unwrap_or_default()
}

/// A clock that only moves when told to.
///
/// ```
/// use chrono::Duration;
/// use crm_core::time::Clock;
/// use crm_testkit::ManualClock;
///
/// let clock = ManualClock::default();
/// let before = clock.now();
/// clock.advance(Duration::minutes(5));
/// assert_eq!(clock.now() - before, Duration::minutes(5));
/// ```
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<DateTime<Utc>>,
}

impl ManualClock {
    /// A clock showing `at`.
    pub fn new(at: DateTime<Utc>) -> Self {
        Self { now: Mutex::new(at) }
    }

    /// Sets the time.
    pub fn set(&self, at: DateTime<Utc>) {
        *self.now.lock().expect("clock mutex poisoned") = at;
    }

    /// Moves the time forward (or back, with a negative duration) and returns the new time.
    pub fn advance(&self, by: Duration) -> DateTime<Utc> {
        let mut now = self.now.lock().expect("clock mutex poisoned");
        *now += by;
        *now
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new(default_start())
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().expect("clock mutex poisoned")
    }
}

/// Deterministic identifiers: `seed` in the high 64 bits, then 1, 2, 3 … in the low 64
/// bits, so ids sort in creation order and two generators with different seeds never
/// collide.
///
/// ```
/// use crm_core::time::IdGenerator;
/// use crm_testkit::SequentialIds;
///
/// let ids = SequentialIds::new();
/// assert_eq!(ids.new_uuid().as_u128(), 1);
/// assert_eq!(ids.new_uuid().as_u128(), 2);
/// ```
#[derive(Debug, Default)]
pub struct SequentialIds {
    seed: u64,
    next: AtomicU64,
}

impl SequentialIds {
    /// Ids `1, 2, 3 …` (seed 0).
    pub fn new() -> Self {
        Self::default()
    }

    /// Ids with `seed` in the high bits.
    pub fn with_seed(seed: u64) -> Self {
        Self { seed, next: AtomicU64::new(0) }
    }

    /// How many ids were handed out.
    pub fn issued(&self) -> u64 {
        self.next.load(Ordering::SeqCst)
    }
}

impl IdGenerator for SequentialIds {
    fn new_uuid(&self) -> Uuid {
        let n = self.next.fetch_add(1, Ordering::SeqCst) + 1;
        Uuid::from_u128((u128::from(self.seed) << 64) | u128::from(n))
    }
}
