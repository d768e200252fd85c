//! SLA policies: the targets a case must meet, chosen by its priority (and, optionally, the
//! customer's tier or a custom field), counted in business or calendar time, paused while
//! the case waits in the statuses the policy names.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::case::{CaseStatus, Priority};
use crate::error::{FieldError, ValidationErrors, Validator};

/// The longest target a policy may set: a year, in seconds.
pub const MAX_TARGET_SECS: u32 = 366 * 86_400;

/// Whether a policy counts business hours of its calendar or every second.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TimeBasis {
    /// Only the open hours of the calendar count.
    #[default]
    Business,
    /// Every second counts (24/7).
    Calendar,
}

/// The three things a policy measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// From creation to the first agent reply.
    FirstResponse,
    /// From a customer reply to the agent reply that answers it.
    NextResponse,
    /// From creation to closing (time spent closed before a reopen does not count).
    Resolution,
}

impl Metric {
    /// Every metric.
    pub const ALL: [Metric; 3] = [Metric::FirstResponse, Metric::NextResponse, Metric::Resolution];
}

/// A custom field condition: the case's value of `name` is `equals`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FieldCondition {
    /// The custom field's key.
    pub name: String,
    /// The value it must have (compared as text).
    pub equals: String,
}

/// One row of targets and the cases it applies to; the first matching row wins.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TargetRule {
    /// Only cases of this priority (any when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    /// Only customers of this tier (any when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    /// Only cases whose custom field has this value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<FieldCondition>,
    /// First response target, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_response_secs: Option<u32>,
    /// Next response target, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_response_secs: Option<u32>,
    /// Resolution target, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution_secs: Option<u32>,
}

impl TargetRule {
    /// The target for `metric`, in seconds.
    pub fn target(&self, metric: Metric) -> Option<u32> {
        match metric {
            Metric::FirstResponse => self.first_response_secs,
            Metric::NextResponse => self.next_response_secs,
            Metric::Resolution => self.resolution_secs,
        }
    }
}

/// A policy as written: the wire form of [`SlaPolicy`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PolicySpec {
    /// Business or calendar time.
    #[serde(default)]
    pub basis: TimeBasis,
    /// Statuses in which every clock of the case stands still (`pending`, `on_hold`).
    #[serde(default)]
    pub pause_statuses: Vec<CaseStatus>,
    /// Warn when this share of a target (percent, 1 to 99) has elapsed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning_percent: Option<u8>,
    /// The target rows, first match wins; at least one.
    pub targets: Vec<TargetRule>,
}

/// What the policy needs to know about a case to choose its targets.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaseFacts {
    /// The case's priority.
    pub priority: Option<Priority>,
    /// The customer's tier (`gold`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    /// Custom field values, as text.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
}

/// A validated SLA policy, serialised as its [`PolicySpec`].
///
/// ```
/// use crm_core::sla::{PolicySpec, SlaPolicy, TargetRule};
///
/// let zero = PolicySpec {
///     basis: Default::default(),
///     pause_statuses: vec![],
///     warning_percent: None,
///     targets: vec![TargetRule { first_response_secs: Some(0), ..TargetRule::default() }],
/// };
/// let err = SlaPolicy::new(zero).unwrap_err();
/// assert_eq!(err.to_string(), "targets[0].first_response_secs: must be more than zero");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "PolicySpec", into = "PolicySpec")]
pub struct SlaPolicy {
    spec: PolicySpec,
}

impl TryFrom<PolicySpec> for SlaPolicy {
    type Error = ValidationErrors;

    fn try_from(spec: PolicySpec) -> Result<Self, ValidationErrors> {
        Self::new(spec)
    }
}

impl From<SlaPolicy> for PolicySpec {
    fn from(p: SlaPolicy) -> Self {
        p.spec
    }
}

impl SlaPolicy {
    /// Validates a policy.
    ///
    /// # Errors
    /// `targets` (none), `targets[i]` (a row without any target),
    /// `targets[i].<metric>_secs` (zero, or more than a year), `warning_percent` (not 1 to
    /// 99), `pause_statuses[i]` (`closed`, which stops the clocks rather than pausing them).
    pub fn new(spec: PolicySpec) -> Result<Self, ValidationErrors> {
        let mut v = Validator::new();
        if spec.targets.is_empty() {
            v.push(FieldError::new("targets", "a policy needs at least one target"));
        }
        for (i, rule) in spec.targets.iter().enumerate() {
            let names = ["first_response_secs", "next_response_secs", "resolution_secs"];
            if Metric::ALL.iter().all(|m| rule.target(*m).is_none()) {
                v.push(FieldError::new(format!("targets[{i}]"), "sets no target"));
            }
            for (m, name) in Metric::ALL.iter().zip(names) {
                match rule.target(*m) {
                    Some(0) => v.push(FieldError::new(format!("targets[{i}].{name}"), "must be more than zero")),
                    Some(t) if t > MAX_TARGET_SECS => {
                        v.push(FieldError::new(format!("targets[{i}].{name}"), "must be at most a year"));
                    }
                    _ => {}
                }
            }
        }
        if let Some(p) = spec.warning_percent
            && !(1..=99).contains(&p)
        {
            v.push(FieldError::new("warning_percent", "must be between 1 and 99"));
        }
        for (i, s) in spec.pause_statuses.iter().enumerate() {
            if s.is_done() {
                v.push(FieldError::new(
                    format!("pause_statuses[{i}]"),
                    format!("{s} stops the clocks, it cannot pause them"),
                ));
            }
        }
        v.finish()?;
        Ok(Self { spec })
    }

    /// The policy as written.
    pub fn spec(&self) -> &PolicySpec {
        &self.spec
    }

    /// Business or calendar time.
    pub fn basis(&self) -> TimeBasis {
        self.spec.basis
    }

    /// Whether a case in `status` has its clocks paused.
    pub fn pauses_in(&self, status: CaseStatus) -> bool {
        self.spec.pause_statuses.contains(&status)
    }

    /// The first rule matching `facts`.
    pub fn rule_for(&self, facts: &CaseFacts) -> Option<&TargetRule> {
        self.spec.targets.iter().find(|r| {
            r.priority.is_none_or(|p| facts.priority == Some(p))
                && r.tier.as_ref().is_none_or(|t| facts.tier.as_ref() == Some(t))
                && r.field.as_ref().is_none_or(|c| facts.fields.get(&c.name) == Some(&c.equals))
        })
    }

    /// The target for `metric` of a case with `facts`, in seconds.
    pub fn target(&self, facts: &CaseFacts, metric: Metric) -> Option<i64> {
        self.rule_for(facts).and_then(|r| r.target(metric)).map(i64::from)
    }

    /// The warning threshold for a target: the floor of `percent` of it, at least a second.
    pub fn warning_for(&self, target: i64) -> Option<i64> {
        self.spec.warning_percent.map(|p| (target * i64::from(p) / 100).max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(priority: Option<Priority>, tier: Option<&str>, first: u32) -> TargetRule {
        TargetRule { priority, tier: tier.map(Into::into), first_response_secs: Some(first), ..TargetRule::default() }
    }

    fn policy(targets: Vec<TargetRule>) -> Result<SlaPolicy, ValidationErrors> {
        SlaPolicy::new(PolicySpec {
            basis: TimeBasis::Business,
            pause_statuses: vec![],
            warning_percent: None,
            targets,
        })
    }

    #[test]
    fn the_first_matching_rule_wins() {
        let p = policy(vec![
            rule(Some(Priority::Urgent), Some("gold"), 60),
            rule(Some(Priority::Urgent), None, 120),
            rule(None, None, 600),
        ]);
        let p = p.map_err(|e| e.to_string());
        let facts = |priority, tier: Option<&str>| CaseFacts {
            priority: Some(priority),
            tier: tier.map(Into::into),
            fields: BTreeMap::new(),
        };
        let target = |f: CaseFacts| p.as_ref().ok().and_then(|p| p.target(&f, Metric::FirstResponse));
        assert_eq!(target(facts(Priority::Urgent, Some("gold"))), Some(60));
        assert_eq!(target(facts(Priority::Urgent, Some("silver"))), Some(120));
        assert_eq!(target(facts(Priority::Low, Some("gold"))), Some(600));
    }

    #[test]
    fn a_custom_field_condition_compares_the_value() {
        let mut r = rule(None, None, 60);
        r.field = Some(FieldCondition { name: "region".into(), equals: "eu".into() });
        let p = policy(vec![r, rule(None, None, 90)]).map_err(|e| e.to_string());
        let mut facts = CaseFacts::default();
        let target = |f: &CaseFacts| p.as_ref().ok().and_then(|p| p.target(f, Metric::FirstResponse));
        assert_eq!(target(&facts), Some(90));
        facts.fields.insert("region".into(), "eu".into());
        assert_eq!(target(&facts), Some(60));
    }

    #[test]
    fn bad_policies_name_every_field() {
        let spec = PolicySpec {
            basis: TimeBasis::Calendar,
            pause_statuses: vec![CaseStatus::Pending, CaseStatus::Closed],
            warning_percent: Some(100),
            targets: vec![
                TargetRule::default(),
                TargetRule {
                    resolution_secs: Some(MAX_TARGET_SECS + 1),
                    next_response_secs: Some(0),
                    ..TargetRule::default()
                },
            ],
        };
        let err = SlaPolicy::new(spec).map(|_| ()).unwrap_err().to_string();
        assert_eq!(
            err,
            "targets[0]: sets no target; targets[1].next_response_secs: must be more than zero; \
             targets[1].resolution_secs: must be at most a year; warning_percent: must be between 1 and 99; \
             pause_statuses[1]: closed stops the clocks, it cannot pause them"
        );
        assert_eq!(policy(vec![]).map(|_| ()).unwrap_err().to_string(), "targets: a policy needs at least one target");
    }

    #[test]
    fn warnings_are_a_floor_share_of_the_target() {
        let p = SlaPolicy::new(PolicySpec {
            warning_percent: Some(75),
            ..PolicySpec {
                basis: TimeBasis::Business,
                pause_statuses: vec![],
                warning_percent: None,
                targets: vec![rule(None, None, 1)],
            }
        });
        let p = p.map_err(|e| e.to_string());
        assert_eq!(p.as_ref().ok().and_then(|p| p.warning_for(3601)), Some(2700));
        assert_eq!(p.as_ref().ok().and_then(|p| p.warning_for(1)), Some(1));
    }
}
