//! A token-bucket rate limit per key (a client's IP address for the public self-service
//! search, KNO-1), driven by the caller's clock: each key holds up to `burst` tokens,
//! refilled at `per_minute` a minute; a request takes one, and a request finding none is
//! refused with how long until the next token.
//!
//! The buckets live in this process (each server replica limits on its own, so a client
//! spread across replicas gets up to one budget per replica). Full buckets are forgotten
//! once the map grows past [`RateLimiter::MAX_KEYS`], so memory stays bounded.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};

/// One key's bucket.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Bucket {
    tokens: f64,
    at: DateTime<Utc>,
}

/// A token bucket per key.
#[derive(Debug)]
pub struct RateLimiter {
    burst: f64,
    per_second: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    /// The most keys remembered before full buckets are forgotten.
    pub const MAX_KEYS: usize = 10_000;

    /// A limiter allowing `burst` requests at once, refilled at `per_minute` a minute
    /// (both at least 1).
    pub fn new(burst: u32, per_minute: u32) -> Self {
        Self {
            burst: f64::from(burst.max(1)),
            per_second: f64::from(per_minute.max(1)) / 60.0,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token of `key` at `now`.
    ///
    /// # Errors
    /// How long until the key has a token again (at least one second), when it has none.
    pub fn check(&self, key: &str, now: DateTime<Utc>) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() >= Self::MAX_KEYS && !buckets.contains_key(key) {
            let (burst, rate) = (self.burst, self.per_second);
            buckets.retain(|_, b| refilled(*b, now, burst, rate) < burst);
        }
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket { tokens: self.burst, at: now });
        let tokens = refilled(*bucket, now, self.burst, self.per_second);
        if tokens >= 1.0 {
            *bucket = Bucket { tokens: tokens - 1.0, at: now.max(bucket.at) };
            Ok(())
        } else {
            *bucket = Bucket { tokens, at: now.max(bucket.at) };
            let wait = ((1.0 - tokens) / self.per_second).ceil().max(1.0);
            Err(Duration::from_secs_f64(wait))
        }
    }
}

/// The tokens of `bucket` at `now` (a clock going back refills nothing).
fn refilled(bucket: Bucket, now: DateTime<Utc>, burst: f64, per_second: f64) -> f64 {
    let elapsed = (now - bucket.at).num_milliseconds().max(0);
    #[allow(clippy::cast_precision_loss)] // milliseconds since the last request: far below 2^52
    let gained = elapsed as f64 / 1000.0 * per_second;
    (bucket.tokens + gained).min(burst)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 7, 8, 0, 0).unwrap() + chrono::Duration::seconds(seconds)
    }

    #[test]
    fn a_burst_passes_then_the_next_request_waits_for_a_token() {
        let limiter = RateLimiter::new(3, 60);
        for _ in 0..3 {
            assert_eq!(limiter.check("1.2.3.4", at(0)), Ok(()));
        }
        assert_eq!(limiter.check("1.2.3.4", at(0)), Err(Duration::from_secs(1)));
        assert_eq!(limiter.check("5.6.7.8", at(0)), Ok(()), "another key has its own bucket");
        assert_eq!(limiter.check("1.2.3.4", at(1)), Ok(()), "a token a second");
        assert!(limiter.check("1.2.3.4", at(1)).is_err());
    }

    #[test]
    fn the_wait_is_the_time_to_the_next_token() {
        let limiter = RateLimiter::new(1, 6);
        assert_eq!(limiter.check("k", at(0)), Ok(()));
        assert_eq!(limiter.check("k", at(0)), Err(Duration::from_secs(10)));
        assert_eq!(limiter.check("k", at(4)), Err(Duration::from_secs(6)));
        assert_eq!(limiter.check("k", at(10)), Ok(()));
    }

    #[test]
    fn a_clock_going_back_refills_nothing() {
        let limiter = RateLimiter::new(1, 60);
        assert_eq!(limiter.check("k", at(10)), Ok(()));
        assert!(limiter.check("k", at(0)).is_err());
    }

    #[test]
    fn full_buckets_are_forgotten_past_the_bound() {
        let limiter = RateLimiter::new(2, 60);
        for i in 0..RateLimiter::MAX_KEYS {
            assert!(limiter.check(&format!("k{i}"), at(0)).is_ok());
        }
        // An hour later every bucket is full again: they are forgotten for the new key.
        assert!(limiter.check("new", at(3600)).is_ok());
        assert_eq!(limiter.buckets.lock().unwrap().len(), 1);
    }
}
