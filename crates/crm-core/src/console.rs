//! The agents' console sign-in (issue 32): passwords' rules, server-side sessions and
//! their expiry (idle and absolute), and the throttle of failed sign-ins per account and
//! address. The transport hashes passwords (argon2id) and session ids; the core decides
//! what a password must be, when a session ends and when a sign-in is refused.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::access::{Actor, Agent};
use crate::customer::EmailAddress;
use crate::error::{Error, Result};
use crate::ids::{AgentId, TenantId};

/// The shortest password.
pub const MIN_PASSWORD: usize = 12;
/// The longest password (argon2 takes any length; a bound keeps hashing cheap).
pub const MAX_PASSWORD: usize = 128;
/// How many different characters a password has at least (`aaaaaaaaaaaa` is refused).
pub const MIN_DISTINCT: usize = 5;

/// Whether `password` may be an agent's password: 12 to 128 characters, at least 5
/// different ones, not the agent's own address.
///
/// # Errors
/// `Validation` on `password` naming the rule it breaks.
pub fn check_password(password: &str, email: &EmailAddress) -> Result<()> {
    let count = password.chars().count();
    if count < MIN_PASSWORD {
        return Err(Error::invalid("password", format!("must be at least {MIN_PASSWORD} characters")));
    }
    if count > MAX_PASSWORD {
        return Err(Error::invalid("password", format!("must be at most {MAX_PASSWORD} characters")));
    }
    let distinct: std::collections::BTreeSet<char> = password.chars().collect();
    if distinct.len() < MIN_DISTINCT {
        return Err(Error::invalid("password", format!("must use at least {MIN_DISTINCT} different characters")));
    }
    if password.trim().eq_ignore_ascii_case(email.as_str()) {
        return Err(Error::invalid("password", "must not be the agent's email address"));
    }
    Ok(())
}

/// A new password for an agent (`PUT /api/v1/agents/{id}/password`).
#[derive(Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PasswordInput {
    /// The password: 12 to 128 characters, at least 5 different ones, not the agent's
    /// address ([`check_password`]).
    pub password: String,
}

impl std::fmt::Debug for PasswordInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordInput { password: \"…\" }")
    }
}

/// An agent's stored password hash, as sign-in reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credential {
    /// The agent's tenant.
    pub tenant: TenantId,
    /// The agent.
    pub agent: AgentId,
    /// The PHC string of the hash (argon2id).
    pub hash: String,
}

/// A signed-in agent's session, kept server-side under the hash of its secret id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The tenant.
    pub tenant: TenantId,
    /// The signed-in agent.
    pub agent: AgentId,
    /// The anti-forgery token every state-changing console request carries.
    pub csrf: String,
    /// When it was opened.
    pub created_at: DateTime<Utc>,
    /// When it was last used (written at most once per [`SEEN_EVERY`]).
    pub last_seen_at: DateTime<Utc>,
    /// When it ends whatever its use (the absolute limit).
    pub expires_at: DateTime<Utc>,
}

/// How often a session's last use is written.
pub const SEEN_EVERY: Duration = Duration::minutes(1);

/// Why a session is no longer accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SessionEnd {
    /// Unused for longer than the idle limit.
    #[error("the session was idle too long")]
    Idle,
    /// Older than the absolute limit.
    #[error("the session is too old")]
    Absolute,
}

/// How long sessions live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionPolicy {
    /// Ends a session unused this long.
    pub idle: Duration,
    /// Ends a session this long after sign-in, used or not.
    pub absolute: Duration,
}

impl Default for SessionPolicy {
    /// 30 minutes idle, 12 hours in all (a long shift).
    fn default() -> Self {
        Self { idle: Duration::minutes(30), absolute: Duration::hours(12) }
    }
}

impl SessionPolicy {
    /// A new session opened at `now`.
    pub fn open(&self, tenant: TenantId, agent: AgentId, csrf: String, now: DateTime<Utc>) -> Session {
        Session { tenant, agent, csrf, created_at: now, last_seen_at: now, expires_at: now + self.absolute }
    }

    /// Why `session` is refused at `now`, or `None` while it is alive.
    pub fn refusal(&self, session: &Session, now: DateTime<Utc>) -> Option<SessionEnd> {
        if now >= session.expires_at {
            Some(SessionEnd::Absolute)
        } else if now >= session.last_seen_at + self.idle {
            Some(SessionEnd::Idle)
        } else {
            None
        }
    }

    /// Whether the session's last use should be written at `now`.
    pub fn seen_is_due(session: &Session, now: DateTime<Utc>) -> bool {
        now >= session.last_seen_at + SEEN_EVERY
    }
}

/// What a session's agent may do: its role's permissions (`custom` is its tenant-defined
/// role as read, see [`Agent::permissions`]), while the agent is active and the session's
/// own.
pub fn actor_of_session(session: &Session, agent: &Agent, custom: Option<&crate::access::TenantRole>) -> Option<Actor> {
    if !agent.active || agent.id != session.agent || agent.tenant != session.tenant {
        return None;
    }
    Some(Actor::for_agent_with(agent, custom))
}

/// The throttle of failed sign-ins: at most `max_failures` within `window` per account and
/// address; then sign-ins are refused until the oldest failure leaves the window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoginThrottle {
    /// Failures allowed within the window.
    pub max_failures: usize,
    /// The window.
    pub window: Duration,
}

impl Default for LoginThrottle {
    /// 5 failures in 15 minutes.
    fn default() -> Self {
        Self { max_failures: 5, window: Duration::minutes(15) }
    }
}

/// The recent failed sign-ins of one account and address, oldest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoginFailures(Vec<DateTime<Utc>>);

impl LoginFailures {
    /// When a sign-in may be tried again, when it is refused at `now`.
    pub fn refusal(&self, rule: &LoginThrottle, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let recent: Vec<_> = self.0.iter().filter(|at| **at + rule.window > now).collect();
        (recent.len() >= rule.max_failures).then(|| *recent[recent.len() - rule.max_failures] + rule.window)
    }

    /// Records a failure at `now` (forgetting those out of the window).
    pub fn fail(&mut self, rule: &LoginThrottle, now: DateTime<Utc>) {
        self.0.retain(|at| *at + rule.window > now);
        self.0.push(now);
    }

    /// Whether nothing in it counts any more at `now` (it may be forgotten).
    pub fn is_stale(&self, rule: &LoginThrottle, now: DateTime<Utc>) -> bool {
        self.0.iter().all(|at| *at + rule.window <= now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Role;
    use uuid::Uuid;

    fn email() -> EmailAddress {
        EmailAddress::parse("ada@example.com").unwrap()
    }

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap() + Duration::minutes(minutes)
    }

    #[test]
    fn passwords_follow_the_rules() {
        let check = |p: &str| check_password(p, &email()).map_err(|e| e.to_string());
        assert!(check("correct horse battery").is_ok());
        assert!(check("short1!").unwrap_err().contains("at least 12"));
        assert!(check(&"ab".repeat(65)).unwrap_err().contains("at most 128"));
        assert!(check("abababababab").unwrap_err().contains("different"));
        assert!(check("ADA@example.com").unwrap_err().contains("email"));
        assert!(check("çàéèùœæ€ßøåñ").is_ok(), "characters, not bytes");
    }

    #[test]
    fn sessions_end_when_idle_or_too_old() {
        let policy = SessionPolicy { idle: Duration::minutes(30), absolute: Duration::hours(2) };
        let mut s = policy.open(TenantId::from_uuid(Uuid::nil()), AgentId::from_uuid(Uuid::nil()), "c".into(), at(0));
        assert_eq!(policy.refusal(&s, at(29)), None);
        assert_eq!(policy.refusal(&s, at(30)), Some(SessionEnd::Idle));
        s.last_seen_at = at(100);
        assert_eq!(policy.refusal(&s, at(119)), None);
        assert_eq!(policy.refusal(&s, at(120)), Some(SessionEnd::Absolute));
        assert!(!SessionPolicy::seen_is_due(&s, at(100) + Duration::seconds(59)));
        assert!(SessionPolicy::seen_is_due(&s, at(101)));
    }

    #[test]
    fn a_session_acts_with_its_active_agents_role() {
        let tenant = TenantId::from_uuid(Uuid::now_v7());
        let id = AgentId::from_uuid(Uuid::now_v7());
        let mut agent = Agent {
            id,
            tenant,
            name: "Ada".into(),
            email: email(),
            role: Role::Supervisor,
            custom_role: None,
            groups: Default::default(),
            profile: Default::default(),
            active: true,
            version: 1,
        };
        let s = SessionPolicy::default().open(tenant, id, "c".into(), at(0));
        let actor = actor_of_session(&s, &agent, None).unwrap();
        assert_eq!(actor.permissions, Role::Supervisor.permissions());
        agent.active = false;
        assert!(actor_of_session(&s, &agent, None).is_none());
        agent.active = true;
        agent.tenant = TenantId::from_uuid(Uuid::now_v7());
        assert!(actor_of_session(&s, &agent, None).is_none(), "never another tenant's agent");
    }

    #[test]
    fn failed_sign_ins_are_throttled_within_the_window() {
        let rule = LoginThrottle { max_failures: 3, window: Duration::minutes(10) };
        let mut f = LoginFailures::default();
        for m in 0..3 {
            assert_eq!(f.refusal(&rule, at(m)), None);
            f.fail(&rule, at(m));
        }
        assert_eq!(f.refusal(&rule, at(3)), Some(at(10)), "until the oldest failure leaves the window");
        assert_eq!(f.refusal(&rule, at(10)), None);
        assert!(!f.is_stale(&rule, at(11)));
        assert!(f.is_stale(&rule, at(12)));
    }
}
