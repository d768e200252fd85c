//! API tokens (ADM-2, ADM-3): what a bearer token grants. The token itself is a secret that
//! the transport generates, shows once and stores only as a hash
//! ([`crate::ports::TokenStore`]); the core decides what acting with it means
//! ([`crate::access::Actor::for_token`]) and when it may no longer be used
//! ([`TokenRecord::refusal`]: revoked or expired).

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::access::Role;
use crate::ids::{AgentId, TenantId, TokenId};

/// What a stored API token grants.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    /// The tenant it acts in.
    pub tenant: TenantId,
    /// The agent it acts as.
    pub agent: AgentId,
    /// The most it grants: never more than the agent's current role.
    pub role: Role,
}

/// How often a token's last-used time is written at most: a busy token costs one write a
/// minute, not one per request.
pub const LAST_USED_EVERY: Duration = Duration::minutes(1);

/// A stored token: what it grants and its life (never its secret nor its hash).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    /// Its public handle (to list and revoke it).
    pub id: TokenId,
    /// What it grants.
    pub grant: ApiToken,
    /// A label to recognise it by.
    pub label: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it stops working (`None`: never).
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// When it was last used (to the minute, see [`LAST_USED_EVERY`]).
    pub last_used_at: Option<DateTime<Utc>>,
}

/// Why a presented token is refused although it is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenRefusal {
    /// It was revoked at this time.
    Revoked(DateTime<Utc>),
    /// It expired at this time.
    Expired(DateTime<Utc>),
}

impl std::fmt::Display for TokenRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenRefusal::Revoked(at) => write!(f, "the api token was revoked at {}", at.to_rfc3339()),
            TokenRefusal::Expired(at) => write!(f, "the api token expired at {}", at.to_rfc3339()),
        }
    }
}

impl TokenRecord {
    /// Why the token cannot be used at `now`, if it cannot: revoked, or expired (its expiry
    /// instant included).
    ///
    /// ```
    /// # use crm_core::api_token::{ApiToken, TokenRecord, TokenRefusal};
    /// # use crm_core::access::Role;
    /// # use crm_core::ids::{AgentId, TenantId, TokenId};
    /// # use chrono::{Duration, TimeZone, Utc};
    /// # let id = |n| uuid::Uuid::from_u128(n);
    /// let now = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
    /// let mut token = TokenRecord {
    ///     id: TokenId::from_uuid(id(1)),
    ///     grant: ApiToken { tenant: TenantId::from_uuid(id(2)), agent: AgentId::from_uuid(id(3)), role: Role::Agent },
    ///     label: "ci".into(), created_at: now, expires_at: Some(now + Duration::days(1)),
    ///     revoked_at: None, last_used_at: None,
    /// };
    /// assert_eq!(token.refusal(now), None);
    /// assert_eq!(token.refusal(now + Duration::days(1)), Some(TokenRefusal::Expired(now + Duration::days(1))));
    /// token.revoked_at = Some(now);
    /// assert_eq!(token.refusal(now), Some(TokenRefusal::Revoked(now)));
    /// ```
    pub fn refusal(&self, now: DateTime<Utc>) -> Option<TokenRefusal> {
        if let Some(at) = self.revoked_at {
            return Some(TokenRefusal::Revoked(at));
        }
        self.expires_at.filter(|at| *at <= now).map(TokenRefusal::Expired)
    }

    /// Whether a use at `now` should be written as its last-used time (never more than once
    /// per [`LAST_USED_EVERY`]).
    pub fn use_is_due(&self, now: DateTime<Utc>) -> bool {
        self.last_used_at.is_none_or(|at| at + LAST_USED_EVERY <= now)
    }

    /// What the API shows of it.
    pub fn info(&self) -> TokenInfo {
        TokenInfo {
            id: self.id,
            agent: self.grant.agent,
            role: self.grant.role,
            label: self.label.clone(),
            created_at: self.created_at,
            expires_at: self.expires_at,
            revoked_at: self.revoked_at,
            last_used_at: self.last_used_at,
        }
    }
}

/// A token as the API lists it: never the secret, nor its hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenInfo {
    /// Its handle (`DELETE /api/v1/tokens/{id}` revokes it).
    pub id: TokenId,
    /// The agent it acts as.
    pub agent: AgentId,
    /// The most it grants.
    pub role: Role,
    /// Its label.
    pub label: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it stops working (`null`: never).
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was revoked (`null`: it was not).
    pub revoked_at: Option<DateTime<Utc>>,
    /// When it was last used, to the minute (`null`: never).
    pub last_used_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use uuid::Uuid;

    use super::*;

    fn token(last_used_at: Option<DateTime<Utc>>) -> TokenRecord {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
        TokenRecord {
            id: TokenId::from_uuid(Uuid::from_u128(1)),
            grant: ApiToken {
                tenant: TenantId::from_uuid(Uuid::from_u128(2)),
                agent: AgentId::from_uuid(Uuid::from_u128(3)),
                role: Role::Agent,
            },
            label: String::new(),
            created_at: now,
            expires_at: None,
            revoked_at: None,
            last_used_at,
        }
    }

    #[test]
    fn a_use_is_written_at_most_once_a_minute() {
        let at = Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).unwrap();
        assert!(token(None).use_is_due(at));
        assert!(!token(Some(at)).use_is_due(at + Duration::seconds(59)));
        assert!(token(Some(at)).use_is_due(at + Duration::seconds(60)));
    }

    #[test]
    fn a_token_without_expiry_is_refused_only_once_revoked() {
        let t = token(None);
        assert_eq!(t.refusal(t.created_at + Duration::days(3650)), None);
        let revoked = TokenRecord { revoked_at: Some(t.created_at), expires_at: Some(t.created_at), ..t };
        assert_eq!(
            revoked.refusal(revoked.created_at),
            Some(TokenRefusal::Revoked(revoked.created_at)),
            "revoked wins"
        );
        assert!(TokenRefusal::Expired(revoked.created_at).to_string().contains("expired at 2026-12-01"));
    }
}
