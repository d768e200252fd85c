//! [`CallListEntry`]: one customer to call, its attempts, lease and outcome (OUT-2).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::campaign::Campaign;
use super::list::{CallList, OutcomeAction};
use super::zone::{zone_of_customer, zone_of_number};
use crate::customer::{Customer, PhoneNumber, Region};
use crate::error::{Error, FieldError, Result, ValidationErrors, Validator};
use crate::ids::{AgentId, CallListEntryId, CallListId, CustomerId, TenantId};

/// Highest priority (entries with a higher priority are called first).
pub const MAX_PRIORITY: i32 = 1000;

/// How far ahead a callback may be asked for.
pub const MAX_CALLBACK_DAYS: i64 = 365;

/// Whether an entry is still to be called.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EntryState {
    /// To call (now or later).
    Open,
    /// Done.
    Closed,
}

impl EntryState {
    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Closed => "closed",
        }
    }
}

/// Why an entry was closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Closing {
    /// The goal was reached.
    Success,
    /// The customer said no.
    Failure,
    /// The number does not reach the customer.
    Unreachable,
    /// Retried as often as the list allows.
    MaxAttempts,
}

/// An entry's lease: the agent it is handed to, until when.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Lease {
    /// The agent.
    pub agent: AgentId,
    /// Until (then the entry is handed out again).
    pub until: DateTime<Utc>,
}

/// One customer to call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CallListEntry {
    /// Id.
    pub id: CallListEntryId,
    /// Tenant.
    pub tenant: TenantId,
    /// List.
    pub list: CallListId,
    /// Customer.
    pub customer: CustomerId,
    /// The number to call (one of the customer's), E.164.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "+4930123456"))]
    pub phone: PhoneNumber,
    /// The customer's time zone for the calling window (IANA name).
    pub zone: String,
    /// Higher first (0 – 1000).
    pub priority: i32,
    /// Data for the agent (from the import).
    #[serde(default)]
    pub custom: BTreeMap<String, serde_json::Value>,
    /// When added.
    pub created_at: DateTime<Utc>,
    state: EntryState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    closing: Option<Closing>,
    attempts: u32,
    due_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reserved_for: Option<AgentId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lease: Option<Lease>,
    #[serde(default)]
    reached: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_disposition: Option<String>,
    #[serde(default)]
    answers: BTreeMap<String, serde_json::Value>,
    version: u64,
}

impl CallListEntry {
    /// Open or closed.
    pub fn state(&self) -> EntryState {
        self.state
    }
    /// Why closed.
    pub fn closing(&self) -> Option<Closing> {
        self.closing
    }
    /// Attempts recorded.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }
    /// Not handed out before (a retry time, a callback time, or the end of the lease).
    pub fn due_at(&self) -> DateTime<Utc> {
        self.due_at
    }
    /// The agent a callback is reserved for.
    pub fn reserved_for(&self) -> Option<AgentId> {
        self.reserved_for
    }
    /// The lease, if handed out.
    pub fn lease(&self) -> Option<Lease> {
        self.lease
    }
    /// Whether the customer was ever reached.
    pub fn reached(&self) -> bool {
        self.reached
    }
    /// The last disposition code recorded.
    pub fn last_disposition(&self) -> Option<&str> {
        self.last_disposition.as_deref()
    }
    /// The qualification answers.
    pub fn answers(&self) -> &BTreeMap<String, serde_json::Value> {
        &self.answers
    }
    /// Version (bumped by every claim and outcome).
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Hands the entry to `agent` until `until` (what a store's claim does): the lease is
    /// also its due time, so the entry comes back when the lease runs out.
    pub fn lease_to(&mut self, agent: AgentId, until: DateTime<Utc>) {
        self.lease = Some(Lease { agent, until });
        self.due_at = until;
        self.version += 1;
    }

    /// A stored entry whose claim columns a store keeps apart from the rest (ADR 0017).
    #[must_use]
    pub fn with_claim_state(mut self, due_at: DateTime<Utc>, lease: Option<Lease>, version: u64) -> Self {
        self.due_at = due_at;
        self.lease = lease;
        self.version = version;
        self
    }

    /// Records the outcome of `agent`'s attempt, which must hold the entry's lease.
    ///
    /// # Errors
    /// A closed entry or one `agent` does not hold is a conflict; an unknown disposition, a
    /// missing or past callback time, or a refused answer name their field.
    pub fn record_outcome(
        &mut self,
        list: &CallList,
        campaign: &Campaign,
        agent: AgentId,
        input: OutcomeInput,
        now: DateTime<Utc>,
    ) -> Result<RecordedOutcome> {
        if self.state == EntryState::Closed {
            return Err(crate::error::Conflict::State("the entry is closed".into()).into());
        }
        if self.lease.is_none_or(|l| l.agent != agent) {
            return Err(crate::error::Conflict::State(
                "the entry is not handed to you: ask for the next contact first".into(),
            )
            .into());
        }
        let mut v = Validator::new();
        let code = v.check(list.outcome(&input.disposition)).cloned();
        if let Err(e) = campaign.check_answers(&input.answers) {
            v.extend(e.errors().iter().cloned());
        }
        let is_callback = code.as_ref().is_some_and(|c| c.action == OutcomeAction::Callback);
        match (is_callback, input.callback_at) {
            (true, None) => v.push(FieldError::new("callback_at", "is required for a callback")),
            (true, Some(at)) if at <= now => v.push(FieldError::new("callback_at", "must be in the future")),
            (true, Some(at)) if at > now + Duration::days(MAX_CALLBACK_DAYS) => {
                v.push(FieldError::new("callback_at", format!("must be within {MAX_CALLBACK_DAYS} days")));
            }
            (false, Some(_)) => v.push(FieldError::new("callback_at", "is only for a callback disposition")),
            _ => {}
        }
        if input.same_agent && !is_callback {
            v.push(FieldError::new("same_agent", "is only for a callback disposition"));
        }
        v.finish()?;
        let Some(code) = code else { return Err(Error::invalid("disposition", "is unknown")) };
        self.attempts += 1;
        self.reached |= code.reached;
        self.last_disposition = Some(code.code.clone());
        self.answers.extend(input.answers);
        self.lease = None;
        self.reserved_for = None;
        match code.action {
            OutcomeAction::Retry => {
                if self.attempts >= list.max_attempts {
                    self.close(Closing::MaxAttempts, now);
                } else {
                    self.due_at = now + Duration::minutes(code.after_minutes.unwrap_or(60).into());
                }
            }
            OutcomeAction::Callback => {
                self.due_at = input.callback_at.unwrap_or(now);
                self.reserved_for = input.same_agent.then_some(agent);
            }
            OutcomeAction::Success => self.close(Closing::Success, now),
            OutcomeAction::Failure => self.close(Closing::Failure, now),
            OutcomeAction::Unreachable => self.close(Closing::Unreachable, now),
        }
        self.version += 1;
        Ok(RecordedOutcome {
            entry: self.clone(),
            disposition: code.code,
            reached: code.reached,
            do_not_call: code.do_not_call,
        })
    }

    fn close(&mut self, why: Closing, now: DateTime<Utc>) {
        self.state = EntryState::Closed;
        self.closing = Some(why);
        self.due_at = now;
    }
}

/// An attempt's outcome as the agent records it.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OutcomeInput {
    /// A disposition code of the list.
    pub disposition: String,
    /// For a callback: when the customer asked to be called.
    #[serde(default)]
    pub callback_at: Option<DateTime<Utc>>,
    /// For a callback: reserve it for the agent recording the outcome.
    #[serde(default)]
    pub same_agent: bool,
    /// Qualification answers, by field key.
    #[serde(default)]
    pub answers: BTreeMap<String, serde_json::Value>,
}

/// The entry after an outcome, with the code recorded.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecordedOutcome {
    /// The entry as stored now.
    pub entry: CallListEntry,
    /// The disposition code.
    pub disposition: String,
    /// Whether the customer was reached.
    pub reached: bool,
    /// Whether the code put the entry's number on the do-not-call list.
    pub do_not_call: bool,
}

/// A new entry as the caller (or a CSV row) gives it.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewEntry {
    /// The customer.
    pub customer: CustomerId,
    /// One of the customer's numbers (default: their first).
    #[serde(default)]
    pub phone: Option<String>,
    /// Priority, 0 – 1000 (default 0); higher is called first.
    #[serde(default)]
    pub priority: Option<i32>,
    /// The customer's time zone (IANA), when the profile knows it better than the number.
    #[serde(default)]
    pub time_zone: Option<String>,
    /// Not called before.
    #[serde(default)]
    pub due_at: Option<DateTime<Utc>>,
    /// Data for the agent.
    #[serde(default)]
    pub custom: BTreeMap<String, serde_json::Value>,
}

impl NewEntry {
    /// The entry for `customer` (who must be `self.customer`).
    ///
    /// # Errors
    /// Every refused field: a number that is not one of the customer's, a customer without a
    /// number, a priority out of range, an unknown time zone, too much custom data.
    pub fn build(
        self,
        id: CallListEntryId,
        list: &CallList,
        customer: &Customer,
        region: Option<Region>,
        tenant_zone: Tz,
        now: DateTime<Utc>,
    ) -> std::result::Result<CallListEntry, ValidationErrors> {
        let mut v = Validator::new();
        let phones: Vec<&PhoneNumber> = customer.identities().iter().filter_map(|i| i.phone()).collect();
        let phone = match &self.phone {
            Some(p) => match PhoneNumber::parse(p, region) {
                Ok(n) if phones.contains(&&n) => Some(n),
                Ok(n) => {
                    v.push(FieldError::new("phone", format!("{} is not a number of the customer", n.as_e164())));
                    None
                }
                Err(e) => {
                    v.push(e);
                    None
                }
            },
            None => {
                let first = phones.first().map(|p| (*p).clone());
                if first.is_none() {
                    v.push(FieldError::new("phone", "the customer has no phone number"));
                }
                first
            }
        };
        let priority = self.priority.unwrap_or(0);
        if !(0..=MAX_PRIORITY).contains(&priority) {
            v.push(FieldError::new("priority", format!("must be 0 to {MAX_PRIORITY}")));
        }
        let zone = match &self.time_zone {
            Some(z) => v.check(
                z.parse::<Tz>().map_err(|_| FieldError::new("time_zone", format!("{z:?} is not an IANA time zone"))),
            ),
            None => Some(
                zone_of_customer(customer).or_else(|| phone.as_ref().and_then(zone_of_number)).unwrap_or(tenant_zone),
            ),
        };
        if self.custom.len() > 50 || serde_json::to_string(&self.custom).map_or(0, |s| s.len()) > 8_000 {
            v.push(FieldError::new("custom", "at most 50 keys and 8000 bytes"));
        }
        v.finish()?;
        let (Some(phone), Some(zone)) = (phone, zone) else {
            return Err(FieldError::new("phone", "is missing").into());
        };
        Ok(CallListEntry {
            id,
            tenant: list.tenant,
            list: list.id,
            customer: customer.id,
            phone,
            zone: zone.name().to_owned(),
            priority,
            custom: self.custom,
            created_at: now,
            state: EntryState::Open,
            closing: None,
            attempts: 0,
            due_at: self.due_at.unwrap_or(now),
            reserved_for: None,
            lease: None,
            reached: false,
            last_disposition: None,
            answers: BTreeMap::new(),
            version: 1,
        })
    }
}

/// Progress of a list or a campaign.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Progress {
    /// Entries.
    pub total: u64,
    /// Open entries (still to call).
    pub pending: u64,
    /// Closed entries.
    pub done: u64,
    /// Entries whose customer was reached at least once.
    pub reachable: u64,
    /// Entries closed as a success.
    pub succeeded: u64,
    /// `succeeded / done` (0 when nothing is done).
    pub success_rate: f64,
}

impl Progress {
    /// From the counts a store gives.
    pub fn from_counts(total: u64, done: u64, reachable: u64, succeeded: u64) -> Self {
        let success_rate = if done == 0 { 0.0 } else { succeeded as f64 / done as f64 };
        Self { total, pending: total.saturating_sub(done), done, reachable, succeeded, success_rate }
    }

    /// The sum of two (a campaign's lists).
    #[must_use]
    pub fn plus(self, other: Self) -> Self {
        Self::from_counts(
            self.total + other.total,
            self.done + other.done,
            self.reachable + other.reachable,
            self.succeeded + other.succeeded,
        )
    }

    /// The reference count over entries (memory store; tests).
    pub fn of<'a>(entries: impl IntoIterator<Item = &'a CallListEntry>) -> Self {
        let (mut total, mut done, mut reachable, mut succeeded) = (0, 0, 0, 0);
        for e in entries {
            total += 1;
            done += u64::from(e.state == EntryState::Closed);
            reachable += u64::from(e.reached);
            succeeded += u64::from(e.closing == Some(Closing::Success));
        }
        Self::from_counts(total, done, reachable, succeeded)
    }
}
