//! Backoff arithmetic and `Retry-After` parsing, kept pure so they are tested without a
//! server: exponential growth from a base delay, capped, with "full jitter" (a uniform
//! draw in `[delay/2, delay]`) so that many connectors retrying together spread out.

use std::time::{Duration, SystemTime};

/// The delay before retry number `retry` (0 for the first retry): `base * 2^retry`, capped
/// at `max`, then jittered into `[d/2, d]`.
pub fn backoff_delay(retry: u32, base: Duration, max: Duration) -> Duration {
    let factor = 2u32.saturating_pow(retry.min(20));
    let delay = base.saturating_mul(factor).min(max);
    jitter(delay)
}

/// A uniform draw in `[delay/2, delay]`.
pub fn jitter(delay: Duration) -> Duration {
    let millis = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
    if millis < 2 {
        return delay;
    }
    Duration::from_millis(fastrand::u64(millis.div_ceil(2)..=millis))
}

/// Reads a `Retry-After` value: delta seconds (`120`) or an HTTP date
/// (`Wed, 21 Oct 2026 07:28:00 GMT`), relative to `now`. A date in the past means "now".
/// `None` when the value is neither.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    // Some servers send fractional seconds; accept them rather than ignore the hint.
    if let Ok(seconds) = value.parse::<f64>()
        && seconds.is_finite()
        && seconds >= 0.0
    {
        return Some(Duration::from_secs_f64(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn retry_after_in_seconds_is_read() {
        assert_eq!(parse_retry_after(" 7 ", SystemTime::UNIX_EPOCH), Some(Duration::from_secs(7)));
    }

    #[test]
    fn retry_after_as_http_date_is_relative_to_now() {
        let now = httpdate::parse_http_date("Wed, 21 Oct 2026 07:28:00 GMT").unwrap();
        let later = "Wed, 21 Oct 2026 07:28:30 GMT";
        assert_eq!(parse_retry_after(later, now), Some(Duration::from_secs(30)));
    }

    #[test]
    fn retry_after_in_the_past_means_now() {
        let now = httpdate::parse_http_date("Wed, 21 Oct 2026 07:28:00 GMT").unwrap();
        assert_eq!(parse_retry_after("Wed, 21 Oct 2026 07:00:00 GMT", now), Some(Duration::ZERO));
    }

    #[test]
    fn garbage_retry_after_is_ignored() {
        assert_eq!(parse_retry_after("soon", SystemTime::UNIX_EPOCH), None);
        assert_eq!(parse_retry_after("-3", SystemTime::UNIX_EPOCH), None);
    }

    proptest! {
        #[test]
        fn backoff_stays_within_half_and_full_capped_delay(retry in 0u32..64, base in 1u64..2_000, max in 1u64..60_000) {
            let base = Duration::from_millis(base);
            let max = Duration::from_millis(max);
            let delay = backoff_delay(retry, base, max);
            let full = base.saturating_mul(2u32.saturating_pow(retry.min(20))).min(max);
            prop_assert!(delay <= full);
            prop_assert!(delay >= full / 2);
        }
    }
}
