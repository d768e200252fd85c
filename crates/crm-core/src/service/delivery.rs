//! Durable delivery of external CRM writes (INT-6, INT-7, EXT-1): a worker step that claims
//! due outbox entries, pushes each activity (or makes each create asked for during an
//! interaction, then links it) through the tenant's connector, and records the outcome. A remote outage loses nothing: the entry is retried with exponential backoff
//! (honouring the remote's `Retry-After`) until it succeeds or is declared dead, where it
//! waits for a person to retry it. Remote idempotency (upsert by the push's key) makes a
//! retry after an unacknowledged success harmless, so every push takes effect exactly once;
//! creates are keyed the same way ([`crate::external::ExternalCreate::key`]).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Crm;
use crate::error::{ConnectorError, Result};
use crate::event::{EventKind, OutboxEntry, Topic};
use crate::external::ExternalSystem;
use crate::ids::TenantId;
use crate::ports::ExternalCrm;

/// Finds the connector configured for a tenant and product.
pub trait ConnectorDirectory: Send + Sync {
    /// The connector, or `None` when the tenant has not configured that product.
    fn connector(&self, tenant: TenantId, system: ExternalSystem) -> Option<Arc<dyn ExternalCrm>>;
}

/// When to try a failed push again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryPolicy {
    /// Attempts before an entry is declared dead (the first delivery counts).
    pub max_attempts: u32,
    /// Delay after the first failure; doubled after each further one.
    pub base_delay: Duration,
    /// The longest delay.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { max_attempts: 12, base_delay: Duration::from_secs(5), max_delay: Duration::from_secs(3600) }
    }
}

impl RetryPolicy {
    /// When to try again after the `attempts`-th failure (1 for the first), or `None` when
    /// the entry is dead. The remote's `retry_after` is honoured when longer. A spread of up
    /// to a quarter of the delay, derived from `spread_seed`, keeps retries of many entries
    /// from arriving together.
    pub fn next_attempt(
        &self,
        attempts: u32,
        now: DateTime<Utc>,
        retry_after: Option<Duration>,
        spread_seed: u128,
    ) -> Option<DateTime<Utc>> {
        if attempts >= self.max_attempts {
            return None;
        }
        let exp = attempts.saturating_sub(1).min(30);
        let backoff = self.base_delay.saturating_mul(1u32 << exp).min(self.max_delay);
        let quarter = u64::try_from(backoff.as_millis() / 4).unwrap_or(u64::MAX).max(1);
        let spread = Duration::from_millis(u64::try_from(spread_seed % u128::from(quarter)).unwrap_or(0));
        let delay = (backoff + spread).max(retry_after.unwrap_or_default());
        chrono::Duration::from_std(delay).ok().map(|d| now + d)
    }
}

/// What one delivery step did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryReport {
    /// Entries claimed.
    pub claimed: u32,
    /// Delivered.
    pub delivered: u32,
    /// Failed and scheduled again.
    pub retried: u32,
    /// Declared dead.
    pub dead: u32,
}

impl Crm {
    /// Claims up to `limit` due external pushes and creates (leased for `lease`) and
    /// delivers them. A create, once the remote record exists, is linked to its interaction
    /// (and, on a call already wrapped up, gets the wrap-up's activity); one the remote
    /// refuses is marked refused on the interaction.
    ///
    /// Outcomes: success (the connector confirmed the remote record exists) → delivered;
    /// a retryable failure (rate limit, transport, a write the remote did not confirm), an
    /// authentication failure (credentials may be fixed) or an unreadable answer (the remote
    /// may or may not have acted; the upsert makes a retry harmless) → retried later per
    /// `policy` (never before the remote's `Retry-After`), dead after `policy.max_attempts`;
    /// a refusal, a missing remote record or a tenant without that connector → dead at
    /// once (retrying cannot help; a person can requeue it). The recorded failure is the
    /// connector's whole explanation ([`ConnectorError::explain`]).
    ///
    /// # Errors
    /// Store failures (the claimed entries then come back when their lease ends).
    pub async fn deliver_external_pushes(
        &self,
        connectors: &dyn ConnectorDirectory,
        policy: &RetryPolicy,
        lease: Duration,
        limit: u32,
    ) -> Result<DeliveryReport> {
        let now = self.clock.now();
        let lease_until = now + chrono::Duration::from_std(lease).unwrap_or_else(|_| chrono::Duration::minutes(5));
        let entries = self.store.claim_outbox(Topic::ExternalPush, now, lease_until, limit).await?;
        let mut report =
            DeliveryReport { claimed: u32::try_from(entries.len()).unwrap_or(u32::MAX), ..Default::default() };
        for entry in entries {
            match self.deliver_one(connectors, &entry).await {
                Ok(()) => {
                    self.store.mark_delivered(entry.event.id).await?;
                    report.delivered += 1;
                }
                Err(failure) => {
                    let retry_at = failure.retry_at(policy, entry.attempts + 1, self.clock.now(), entry.event.id);
                    self.store.mark_failed(entry.event.id, &failure.message(), retry_at).await?;
                    if retry_at.is_some() {
                        report.retried += 1;
                    } else {
                        report.dead += 1;
                    }
                }
            }
        }
        Ok(report)
    }

    async fn deliver_one(
        &self,
        connectors: &dyn ConnectorDirectory,
        entry: &OutboxEntry,
    ) -> std::result::Result<(), Failure> {
        let tenant = entry.event.tenant;
        let connector = |system: ExternalSystem| {
            connectors
                .connector(tenant, system)
                .ok_or_else(|| Failure::Dead(format!("no {system} connector is configured for this tenant")))
        };
        match &entry.event.kind {
            EventKind::ActivityPushRequested { push } => match connector(push.target.system)?.push_activity(push).await
            {
                Ok(_) => Ok(()),
                Err(e) => Err(Failure::from(&e)),
            },
            EventKind::ExternalCreateRequested { interaction, system, key, request, .. } => {
                let made = async { connector(*system)?.create(key, request).await.map_err(|e| Failure::from(&e)) };
                match made.await {
                    Ok(reference) => self
                        .link_external_create(tenant, None, *interaction, key, reference)
                        .await
                        .map(drop)
                        .map_err(store_failure),
                    Err(Failure::Dead(reason)) => {
                        self.refuse_external_create(tenant, None, *interaction, key, &reason)
                            .await
                            .map_err(store_failure)?;
                        Err(Failure::Dead(reason))
                    }
                    Err(retry) => Err(retry),
                }
            }
            other => Err(Failure::Dead(format!("{} is not an external write", other.name()))),
        }
    }
}

/// A store failure while recording a delivered create: retried soon (the remote create is
/// keyed, so doing it again finds the same record).
fn store_failure(e: crate::Error) -> Failure {
    Failure::Retry { message: format!("the remote record exists but linking it failed: {e}"), retry_after: None }
}

/// Why a delivery failed, and whether to try again.
pub(super) enum Failure {
    /// Try again, not before the remote's `Retry-After` when it gave one.
    Retry { message: String, retry_after: Option<Duration> },
    /// Retrying cannot help.
    Dead(String),
}

impl Failure {
    pub(super) fn message(&self) -> String {
        match self {
            Failure::Retry { message, .. } | Failure::Dead(message) => message.clone(),
        }
    }

    /// When to try again after the `attempts`-th failure of the entry `entry_id`; `None`:
    /// dead.
    pub(super) fn retry_at(
        &self,
        policy: &RetryPolicy,
        attempts: u32,
        now: DateTime<Utc>,
        entry_id: crate::ids::EventId,
    ) -> Option<DateTime<Utc>> {
        match self {
            Failure::Retry { retry_after, .. } => {
                policy.next_attempt(attempts, now, *retry_after, entry_id.as_uuid().as_u128())
            }
            Failure::Dead(_) => None,
        }
    }
}

impl From<&ConnectorError> for Failure {
    fn from(e: &ConnectorError) -> Self {
        let message = e.explain();
        match e {
            ConnectorError::RateLimited { retry_after, .. } => Failure::Retry { message, retry_after: *retry_after },
            ConnectorError::Transport { .. } | ConnectorError::Auth { .. } | ConnectorError::Decode { .. } => {
                Failure::Retry { message, retry_after: None }
            }
            ConnectorError::NotFound { .. } | ConnectorError::Rejected { .. } => Failure::Dead(message),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn backoff_doubles_honours_retry_after_and_gives_up() {
        let p =
            RetryPolicy { max_attempts: 4, base_delay: Duration::from_secs(10), max_delay: Duration::from_secs(25) };
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let secs = |a, ra| (p.next_attempt(a, now, ra, 0).unwrap() - now).num_seconds();
        assert_eq!(secs(1, None), 10);
        assert_eq!(secs(2, None), 20);
        assert_eq!(secs(3, None), 25, "capped at max_delay");
        assert_eq!(secs(1, Some(Duration::from_secs(60))), 60, "Retry-After wins when longer");
        assert_eq!(p.next_attempt(4, now, None, 0), None, "dead after max_attempts");
        let spread = (p.next_attempt(1, now, None, 2_499).unwrap() - now).num_milliseconds();
        assert!((10_000..12_500).contains(&spread), "{spread}");
    }
}
