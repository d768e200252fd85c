//! One event's delivery to one subscription: its state (pending, delivered, dead), its log
//! of attempts, and the policy deciding retries (exponential backoff with jitter over about
//! a day), the per-endpoint circuit breaker and the automatic disabling.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::subscription::EndpointHealth;
use crate::ids::{DeliveryId, EventId, TenantId, WebhookId};
use crate::time::span;

/// The longest response excerpt kept per attempt, in bytes.
pub const MAX_EXCERPT: usize = 1_024;

/// Where a delivery is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its (next) attempt.
    Pending,
    /// The endpoint answered 2xx.
    Delivered,
    /// Given up (a dead letter): replayed by a person.
    Dead,
}

impl DeliveryStatus {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Dead => "dead",
        }
    }

    /// From the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "delivered" => Some(Self::Delivered),
            "dead" => Some(Self::Dead),
            _ => None,
        }
    }
}

/// One event for one subscription.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Delivery {
    /// Id.
    pub id: DeliveryId,
    /// Tenant.
    pub tenant: TenantId,
    /// Subscription.
    pub webhook: WebhookId,
    /// The event (its id is the `webhook-id`).
    pub event: EventId,
    /// Event type.
    pub event_type: String,
    /// The aggregate (deliveries of one aggregate go in event order).
    pub aggregate: String,
    /// When the event happened.
    pub at: DateTime<Utc>,
    /// State.
    pub status: DeliveryStatus,
    /// Attempts made.
    pub attempts: u32,
    /// Not before then.
    pub next_attempt_at: DateTime<Utc>,
    /// The last failure.
    pub last_error: Option<String>,
    /// The body sent (the same on every attempt).
    pub payload: String,
}

/// How an attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AttemptOutcome {
    /// 2xx.
    Delivered,
    /// Another status.
    Rejected,
    /// No answer in time.
    Timeout,
    /// No connection, a refused address, a broken exchange.
    Failed,
}

/// One attempt, in the delivery log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeliveryAttempt {
    /// The delivery.
    pub delivery: DeliveryId,
    /// 1 for the first attempt.
    pub number: u32,
    /// When it started.
    pub at: DateTime<Utc>,
    /// How it ended.
    pub outcome: AttemptOutcome,
    /// The response status, when there was one.
    pub status: Option<u16>,
    /// How long it took, in milliseconds.
    pub latency_ms: u64,
    /// The start of the response body or the error (at most [`MAX_EXCERPT`] bytes).
    pub excerpt: String,
}

/// What the transport reports of one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SendResult {
    /// How it ended.
    pub outcome: AttemptOutcome,
    /// The status, when one came.
    pub status: Option<u16>,
    /// How long it took.
    pub latency: Duration,
    /// The start of the body or the error.
    pub excerpt: String,
}

/// Cuts `s` to at most `max` bytes on a character boundary.
pub fn bounded(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

/// Which dead letters to replay.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Replay {
    /// One delivery, whatever its state (a delivered one is sent again).
    Delivery(DeliveryId),
    /// The dead deliveries of events in `[from, to)`.
    Range {
        /// From (inclusive).
        from: DateTime<Utc>,
        /// To (exclusive).
        to: DateTime<Utc>,
    },
    /// Every dead delivery.
    AllFailed,
}

/// Retries, breaker and disabling.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryPolicy {
    /// The first retry's delay; each next one doubles, up to `max_delay`.
    pub first_delay: Duration,
    /// The longest delay between attempts.
    pub max_delay: Duration,
    /// A delivery is dead when its next attempt would be later than this after the event.
    pub give_up_after: Duration,
    /// Failures in a row that open the circuit breaker.
    pub breaker_threshold: u32,
    /// How long the breaker stays open the first time (doubling while failures go on, up
    /// to `max_delay`).
    pub breaker_cooldown: Duration,
    /// A subscription whose attempts all fail for this long is disabled.
    pub disable_after: Duration,
}

impl Default for DeliveryPolicy {
    fn default() -> Self {
        Self {
            first_delay: Duration::from_secs(5),
            max_delay: Duration::from_secs(3 * 3_600),
            give_up_after: Duration::from_secs(24 * 3_600),
            breaker_threshold: 5,
            breaker_cooldown: Duration::from_secs(30),
            disable_after: Duration::from_secs(5 * 24 * 3_600),
        }
    }
}

/// A number in `[0, 1)` drawn from `seed` (the jitter: deterministic per delivery and
/// attempt, different across them).
fn unit(seed: u128) -> f64 {
    let mut x = (seed as u64) ^ ((seed >> 64) as u64) ^ 0x9e37_79b9_7f4a_7c15;
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^= x >> 33;
    (x >> 11) as f64 / (1u64 << 53) as f64
}

impl DeliveryPolicy {
    /// The delay before attempt `attempts + 1` after `attempts` failed ones: `first_delay ×
    /// 2^(attempts-1)`, capped, then between 75 % and 125 % of it (jitter).
    pub fn retry_delay(&self, id: DeliveryId, attempts: u32) -> Duration {
        let doubled = self.first_delay.saturating_mul(1u32 << attempts.saturating_sub(1).min(20));
        let base = doubled.min(self.max_delay);
        let jitter = 0.75 + 0.5 * unit(id.as_uuid().as_u128() ^ u128::from(attempts));
        base.mul_f64(jitter)
    }

    /// Records a failed attempt on `delivery` at `now`: pending again after the retry
    /// delay, or dead when that is past the give-up horizon.
    pub fn fail(&self, delivery: &mut Delivery, now: DateTime<Utc>, error: String) {
        delivery.attempts += 1;
        delivery.last_error = Some(error);
        let next = now + span(self.retry_delay(delivery.id, delivery.attempts));
        if next > delivery.at + span(self.give_up_after) {
            delivery.status = DeliveryStatus::Dead;
        } else {
            delivery.status = DeliveryStatus::Pending;
            delivery.next_attempt_at = next;
        }
    }

    /// Records a success.
    pub fn succeed(delivery: &mut Delivery) {
        delivery.attempts += 1;
        delivery.status = DeliveryStatus::Delivered;
        delivery.last_error = None;
    }

    /// The endpoint's health after an attempt at `now`; `true` when this attempt disables
    /// the subscription (failing for longer than `disable_after`).
    pub fn observe(&self, health: &mut EndpointHealth, ok: bool, now: DateTime<Utc>) -> bool {
        if ok {
            *health = EndpointHealth { disabled_at: health.disabled_at, ..EndpointHealth::default() };
            return false;
        }
        health.failures = health.failures.saturating_add(1);
        let since = *health.failing_since.get_or_insert(now);
        if health.failures >= self.breaker_threshold {
            let over = (health.failures - self.breaker_threshold).min(16);
            let cooldown = self.breaker_cooldown.saturating_mul(1u32 << over).min(self.max_delay);
            health.breaker_until = Some(now + span(cooldown));
        }
        if health.disabled_at.is_none() && now - since >= span(self.disable_after) {
            health.disabled_at = Some(now);
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(at: DateTime<Utc>) -> Delivery {
        Delivery {
            id: DeliveryId::from_uuid(uuid::Uuid::now_v7()),
            tenant: TenantId::from_uuid(uuid::Uuid::now_v7()),
            webhook: WebhookId::from_uuid(uuid::Uuid::now_v7()),
            event: EventId::from_uuid(uuid::Uuid::now_v7()),
            event_type: "case.created".into(),
            aggregate: "case:1".into(),
            at,
            status: DeliveryStatus::Pending,
            attempts: 0,
            next_attempt_at: at,
            last_error: None,
            payload: "{}".into(),
        }
    }

    #[test]
    fn retries_back_off_with_jitter_over_about_a_day_then_die() {
        let policy = DeliveryPolicy::default();
        let at = DateTime::parse_from_rfc3339("2026-12-07T00:00:00Z").unwrap().with_timezone(&Utc);
        let mut d = delivery(at);
        let mut now = at;
        let mut delays = Vec::new();
        while d.status == DeliveryStatus::Pending {
            policy.fail(&mut d, now, "503".into());
            if d.status == DeliveryStatus::Pending {
                delays.push(d.next_attempt_at - now);
                now = d.next_attempt_at;
            }
        }
        assert_eq!(d.status, DeliveryStatus::Dead);
        // First delay 5 s ± 25 %, never above the cap + 25 %, growing to hours.
        assert!(
            delays[0] >= chrono::Duration::milliseconds(3_750) && delays[0] <= chrono::Duration::milliseconds(6_250)
        );
        assert!(delays.iter().all(|d| *d <= chrono::Duration::seconds(3 * 3_600 * 5 / 4)));
        let total = now - at;
        assert!(total > chrono::Duration::hours(18) && total <= chrono::Duration::hours(24), "{total}");
        assert!(d.attempts >= 12 && d.attempts <= 20, "{}", d.attempts);
        // Jitter differs across deliveries.
        let other = delivery(at);
        assert_ne!(policy.retry_delay(d.id, 3), policy.retry_delay(other.id, 3));
    }

    #[test]
    fn the_breaker_opens_after_failures_in_a_row_and_a_long_outage_disables() {
        let policy = DeliveryPolicy { disable_after: Duration::from_secs(3_600), ..DeliveryPolicy::default() };
        let t0 = DateTime::parse_from_rfc3339("2026-12-07T10:00:00Z").unwrap().with_timezone(&Utc);
        let mut h = EndpointHealth::default();
        for i in 0..4 {
            assert!(!policy.observe(&mut h, false, t0 + chrono::Duration::seconds(i)));
            assert!(h.breaker_until.is_none());
        }
        assert!(!policy.observe(&mut h, false, t0 + chrono::Duration::seconds(5)));
        assert_eq!(h.breaker_until, Some(t0 + chrono::Duration::seconds(35)));
        assert!(!policy.observe(&mut h, false, t0 + chrono::Duration::seconds(40)));
        assert_eq!(h.breaker_until, Some(t0 + chrono::Duration::seconds(100)));
        assert!(policy.observe(&mut h, false, t0 + chrono::Duration::seconds(3_600)));
        assert!(h.disabled_at.is_some());
        assert!(!policy.observe(&mut h, false, t0 + chrono::Duration::seconds(3_601)), "disabled once");
        let mut fresh =
            EndpointHealth { failures: 9, failing_since: Some(t0), breaker_until: Some(t0), disabled_at: None };
        policy.observe(&mut fresh, true, t0);
        assert_eq!(fresh, EndpointHealth::default());
        assert_eq!(bounded("héllo", 2), "h");
    }
}
