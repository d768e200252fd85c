//! [`CallList`]: entries to call under a campaign, who calls them, when, and what the
//! disposition codes do (OUT-1).

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveTime, Timelike, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::access::Actor;
use crate::error::{FieldError, ValidationErrors, Validator};
use crate::ids::{AgentId, CallListId, CampaignId, GroupId, ScriptId, TenantId};
use crate::text::required_text;

/// Most disposition codes a list has.
pub const MAX_OUTCOME_CODES: usize = 50;

/// Who may call a list's entries: these agents and the members of these groups (a team is a
/// group). Nobody when both are empty.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Assignment {
    /// Agents.
    #[serde(default)]
    pub agents: BTreeSet<AgentId>,
    /// Groups and teams.
    #[serde(default)]
    pub groups: BTreeSet<GroupId>,
}

impl Assignment {
    /// Whether the actor is assigned.
    pub fn includes(&self, actor: &Actor) -> bool {
        self.agents.contains(&actor.agent) || actor.groups.iter().any(|g| self.groups.contains(g))
    }
}

/// The local hours customers may be called in, in the customer's zone: `from` inclusive,
/// `until` exclusive; `until` before `from` is a window over midnight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CallingWindow {
    /// Local start (`09:00:00`).
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "09:00:00"))]
    pub from: NaiveTime,
    /// Local end (`20:00:00`).
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "20:00:00"))]
    pub until: NaiveTime,
}

impl Default for CallingWindow {
    fn default() -> Self {
        Self {
            from: NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default(),
            until: NaiveTime::from_hms_opt(20, 0, 0).unwrap_or_default(),
        }
    }
}

impl CallingWindow {
    /// Whether a customer in `zone` may be called at `now`. An unknown zone name is never
    /// open (a store only ever holds zones the core resolved).
    pub fn is_open(&self, zone: &str, now: DateTime<Utc>) -> bool {
        let Ok(tz) = zone.parse::<Tz>() else { return false };
        let local = now.with_timezone(&tz).time().with_nanosecond(0).unwrap_or_default();
        if self.from <= self.until {
            self.from <= local && local < self.until
        } else {
            local >= self.from || local < self.until
        }
    }
}

/// What a disposition code does to the entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OutcomeAction {
    /// Call again after the code's `after_minutes` (closed once the maximum attempts are
    /// reached).
    Retry,
    /// Call back at the time the customer asked for (`callback_at` of the outcome).
    Callback,
    /// Done: the goal was reached.
    Success,
    /// Done: the customer said no.
    Failure,
    /// Done: the number does not reach the customer.
    Unreachable,
}

/// A disposition code of a list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OutcomeCode {
    /// The code agents record (`no_answer`).
    pub code: String,
    /// Whether the customer was reached (counts towards "reachable").
    pub reached: bool,
    /// What it does.
    pub action: OutcomeAction,
    /// For `retry`: minutes to wait (1 – 43,200).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_minutes: Option<u32>,
    /// Puts the entry's number on the tenant's do-not-call list when recorded (the customer
    /// asked never to be called again, or the number is someone else's). Only for a code
    /// that closes the entry.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub do_not_call: bool,
}

impl OutcomeCode {
    fn new(code: &str, reached: bool, action: OutcomeAction, after_minutes: Option<u32>) -> Self {
        Self { code: code.to_owned(), reached, action, after_minutes, do_not_call: false }
    }

    /// The codes a list gets when none are given: `no_answer` and `busy` retry (60 and 15
    /// minutes), `voicemail` retries after 4 hours, `callback` calls back, `success`,
    /// `refused` and `wrong_number` close, `do_not_call` closes and puts the number on the
    /// do-not-call list.
    pub fn defaults() -> Vec<Self> {
        vec![
            Self::new("no_answer", false, OutcomeAction::Retry, Some(60)),
            Self::new("busy", false, OutcomeAction::Retry, Some(15)),
            Self::new("voicemail", false, OutcomeAction::Retry, Some(240)),
            Self::new("callback", true, OutcomeAction::Callback, None),
            Self::new("success", true, OutcomeAction::Success, None),
            Self::new("refused", true, OutcomeAction::Failure, None),
            Self::new("wrong_number", false, OutcomeAction::Unreachable, None),
            Self { do_not_call: true, ..Self::new("do_not_call", true, OutcomeAction::Failure, None) },
        ]
    }
}

/// A call list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CallList {
    /// Id.
    pub id: CallListId,
    /// Tenant.
    pub tenant: TenantId,
    /// Campaign.
    pub campaign: CampaignId,
    /// Name.
    pub name: String,
    /// Whether agents get its entries.
    pub active: bool,
    /// Who calls.
    pub assignment: Assignment,
    /// The interactive script agents run on its calls: the service checks it exists and has
    /// a published version when the list is created or changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script: Option<ScriptId>,
    /// Local calling hours.
    pub window: CallingWindow,
    /// Attempts after which a retried entry is closed.
    pub max_attempts: u32,
    /// How long a claimed entry stays with its agent without an outcome.
    pub lease_seconds: u32,
    /// The disposition codes.
    pub outcomes: Vec<OutcomeCode>,
    /// When created.
    pub created_at: DateTime<Utc>,
    /// The time zones of its entries (kept by the store as entries are imported; the claim
    /// asks only for the zones open now).
    #[serde(default, skip_serializing)]
    pub zones: BTreeSet<String>,
    version: u64,
}

impl CallList {
    /// The version (the ETag).
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The disposition code `code`.
    ///
    /// # Errors
    /// A field error naming `disposition` for a code the list does not have.
    pub fn outcome(&self, code: &str) -> Result<&OutcomeCode, FieldError> {
        self.outcomes.iter().find(|o| o.code == code).ok_or_else(|| {
            let known: Vec<&str> = self.outcomes.iter().map(|o| o.code.as_str()).collect();
            FieldError::new(
                "disposition",
                format!("{code:?} is not a disposition code of this list ({})", known.join(", ")),
            )
        })
    }

    /// The list's zones open for calls at `now`.
    pub fn open_zones(&self, now: DateTime<Utc>) -> Vec<String> {
        self.zones.iter().filter(|z| self.window.is_open(z, now)).cloned().collect()
    }
}

/// A new call list.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewCallList {
    /// Name.
    pub name: String,
    /// Active from the start (default true).
    #[serde(default)]
    pub active: Option<bool>,
    /// Who calls.
    #[serde(default)]
    pub assignment: Assignment,
    /// A script of the tenant with a published version.
    #[serde(default)]
    pub script: Option<ScriptId>,
    /// Calling hours (default 09:00 – 20:00).
    #[serde(default)]
    pub window: Option<CallingWindow>,
    /// Maximum attempts (1 – 100, default 5).
    #[serde(default)]
    pub max_attempts: Option<u32>,
    /// Lease in seconds (30 – 86,400, default 900).
    #[serde(default)]
    pub lease_seconds: Option<u32>,
    /// Disposition codes (default [`OutcomeCode::defaults`]).
    #[serde(default)]
    pub outcomes: Option<Vec<OutcomeCode>>,
}

/// A change of a list: the fields given replace the stored ones.
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CallListPatch {
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Active.
    #[serde(default)]
    pub active: Option<bool>,
    /// Who calls.
    #[serde(default)]
    pub assignment: Option<Assignment>,
    /// A script of the tenant with a published version.
    #[serde(default)]
    pub script: Option<ScriptId>,
    /// Calling hours.
    #[serde(default)]
    pub window: Option<CallingWindow>,
    /// Maximum attempts.
    #[serde(default)]
    pub max_attempts: Option<u32>,
    /// Lease in seconds.
    #[serde(default)]
    pub lease_seconds: Option<u32>,
    /// Disposition codes.
    #[serde(default)]
    pub outcomes: Option<Vec<OutcomeCode>>,
}

fn check_list(v: &mut Validator, l: &CallList) {
    if !(1..=100).contains(&l.max_attempts) {
        v.push(FieldError::new("max_attempts", "must be 1 to 100"));
    }
    if !(30..=86_400).contains(&l.lease_seconds) {
        v.push(FieldError::new("lease_seconds", "must be 30 to 86400"));
    }
    if l.window.from == l.window.until {
        v.push(FieldError::new("window", "from and until must differ"));
    }
    if l.outcomes.is_empty() || l.outcomes.len() > MAX_OUTCOME_CODES {
        v.push(FieldError::new("outcomes", format!("must have 1 to {MAX_OUTCOME_CODES} codes")));
    }
    let mut codes = BTreeSet::new();
    for (i, o) in l.outcomes.iter().enumerate() {
        let ok = !o.code.is_empty()
            && o.code.len() <= 64
            && o.code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !ok {
            v.push(FieldError::new(format!("outcomes[{i}].code"), "must be 1-64 characters of a-z, 0-9 and _"));
        } else if !codes.insert(o.code.as_str()) {
            v.push(FieldError::new(format!("outcomes[{i}].code"), format!("{:?} is given twice", o.code)));
        }
        match (o.action, o.after_minutes) {
            (OutcomeAction::Retry, Some(m)) if (1..=43_200).contains(&m) => {}
            (OutcomeAction::Retry, _) => {
                v.push(FieldError::new(format!("outcomes[{i}].after_minutes"), "must be 1 to 43200 for a retry"));
            }
            (_, Some(_)) => v.push(FieldError::new(format!("outcomes[{i}].after_minutes"), "is only for a retry")),
            (_, None) => {}
        }
        if o.do_not_call && matches!(o.action, OutcomeAction::Retry | OutcomeAction::Callback) {
            v.push(FieldError::new(
                format!("outcomes[{i}].do_not_call"),
                "is only for a code that closes the entry (success, failure, unreachable)",
            ));
        }
    }
}

impl NewCallList {
    /// The list.
    ///
    /// # Errors
    /// Every refused field.
    pub fn build(
        self,
        id: CallListId,
        tenant: TenantId,
        campaign: CampaignId,
        now: DateTime<Utc>,
    ) -> Result<CallList, ValidationErrors> {
        let mut v = Validator::new();
        let name = v.check(required_text("name", &self.name, 200)).unwrap_or_default();
        let list = CallList {
            id,
            tenant,
            campaign,
            name,
            active: self.active.unwrap_or(true),
            assignment: self.assignment,
            script: self.script,
            window: self.window.unwrap_or_default(),
            max_attempts: self.max_attempts.unwrap_or(5),
            lease_seconds: self.lease_seconds.unwrap_or(900),
            outcomes: self.outcomes.unwrap_or_else(OutcomeCode::defaults),
            created_at: now,
            zones: BTreeSet::new(),
            version: 1,
        };
        check_list(&mut v, &list);
        v.finish()?;
        Ok(list)
    }
}

impl CallListPatch {
    /// Applies the change, bumping the version when something changed.
    ///
    /// # Errors
    /// Every refused field (nothing is changed then).
    pub fn apply(self, l: &mut CallList) -> Result<(), ValidationErrors> {
        let mut next = l.clone();
        let mut v = Validator::new();
        if let Some(name) = &self.name
            && let Some(n) = v.check(required_text("name", name, 200))
        {
            next.name = n;
        }
        next.active = self.active.unwrap_or(next.active);
        next.assignment = self.assignment.unwrap_or(next.assignment);
        next.script = self.script.or(next.script);
        next.window = self.window.unwrap_or(next.window);
        next.max_attempts = self.max_attempts.unwrap_or(next.max_attempts);
        next.lease_seconds = self.lease_seconds.unwrap_or(next.lease_seconds);
        next.outcomes = self.outcomes.unwrap_or(next.outcomes);
        check_list(&mut v, &next);
        v.finish()?;
        if next != *l {
            next.version = l.version + 1;
            *l = next;
        }
        Ok(())
    }
}
