//! [`Campaign`]: purpose, active window, lead qualification fields (OUT-1).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{FieldError, ValidationErrors, Validator};
use crate::ids::{CampaignId, TenantId};
use crate::text::{bounded_text, required_text};

/// Most qualification fields a campaign has.
pub const MAX_QUALIFICATION_FIELDS: usize = 50;

/// What a campaign is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CampaignPurpose {
    /// Selling, offers.
    Marketing,
    /// Collecting money owed.
    Collection,
    /// Asking questions.
    Survey,
    /// Keeping customers who want to leave.
    Retention,
    /// Anything else.
    Other,
}

/// The type of a qualification answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum QualificationKind {
    /// Free text.
    Text,
    /// A number.
    Number,
    /// Yes or no (a JSON boolean).
    YesNo,
    /// One of the field's `options`.
    Choice,
}

/// One lead qualification field the agent fills in when recording an outcome.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QualificationField {
    /// The key answers are given under (`budget`).
    pub key: String,
    /// The label shown to the agent.
    pub label: String,
    /// The answer's type.
    #[serde(rename = "type")]
    pub kind: QualificationKind,
    /// For `choice`: the options (1 – 100).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
}

impl QualificationField {
    /// Checks one answer; the error names `answers.<key>`.
    ///
    /// # Errors
    /// When the answer does not have the field's type.
    pub fn check(&self, answer: &serde_json::Value) -> Result<(), FieldError> {
        let field = format!("answers.{}", self.key);
        let ok = match (&self.kind, answer) {
            (QualificationKind::Text, serde_json::Value::String(s)) => s.chars().count() <= 2000,
            (QualificationKind::Number, serde_json::Value::Number(_))
            | (QualificationKind::YesNo, serde_json::Value::Bool(_)) => true,
            (QualificationKind::Choice, serde_json::Value::String(s)) => self.options.contains(s),
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            let expected = match &self.kind {
                QualificationKind::Text => "a text of at most 2000 characters".to_owned(),
                QualificationKind::Number => "a number".to_owned(),
                QualificationKind::YesNo => "true or false".to_owned(),
                QualificationKind::Choice => format!("one of {:?}", self.options),
            };
            Err(FieldError::new(field, format!("must be {expected}")))
        }
    }
}

/// Checks `answers` against `fields`: every key a field, every value of its type.
///
/// # Errors
/// Every refused answer, each naming `answers.<key>`.
pub(crate) fn check_answers(
    fields: &[QualificationField],
    answers: &BTreeMap<String, serde_json::Value>,
) -> Result<(), ValidationErrors> {
    let mut v = Validator::new();
    for (key, value) in answers {
        match fields.iter().find(|f| &f.key == key) {
            Some(f) => {
                v.check(f.check(value));
            }
            None => v.push(FieldError::new(format!("answers.{key}"), "is not a qualification field of the campaign")),
        }
    }
    v.finish()
}

/// A campaign: groups call lists under one purpose and window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Campaign {
    /// Id.
    pub id: CampaignId,
    /// Tenant.
    pub tenant: TenantId,
    /// Name.
    pub name: String,
    /// Purpose.
    pub purpose: CampaignPurpose,
    /// Calls are made from here on (none: already).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<DateTime<Utc>>,
    /// Calls are made until here (none: no end).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<DateTime<Utc>>,
    /// The lead qualification fields.
    #[serde(default)]
    pub qualification: Vec<QualificationField>,
    /// When created.
    pub created_at: DateTime<Utc>,
    /// Version, bumped by each change.
    version: u64,
}

impl Campaign {
    /// The version (the ETag).
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Whether calls may be made at `now`.
    pub fn is_running(&self, now: DateTime<Utc>) -> bool {
        self.starts_at.is_none_or(|s| s <= now) && self.ends_at.is_none_or(|e| now < e)
    }

    /// Checks qualification answers.
    ///
    /// # Errors
    /// Every refused answer.
    pub fn check_answers(&self, answers: &BTreeMap<String, serde_json::Value>) -> Result<(), ValidationErrors> {
        check_answers(&self.qualification, answers)
    }
}

/// A new campaign as the caller gives it.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewCampaign {
    /// Name (1–200 characters).
    pub name: String,
    /// Purpose.
    pub purpose: CampaignPurpose,
    /// Start of the active window.
    #[serde(default)]
    pub starts_at: Option<DateTime<Utc>>,
    /// End of the active window (after the start).
    #[serde(default)]
    pub ends_at: Option<DateTime<Utc>>,
    /// Lead qualification fields.
    #[serde(default)]
    pub qualification: Vec<QualificationField>,
}

/// A change of a campaign: the fields given replace the stored ones.
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CampaignPatch {
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Purpose.
    #[serde(default)]
    pub purpose: Option<CampaignPurpose>,
    /// Start of the active window.
    #[serde(default)]
    pub starts_at: Option<DateTime<Utc>>,
    /// End of the active window.
    #[serde(default)]
    pub ends_at: Option<DateTime<Utc>>,
    /// Lead qualification fields (the whole list).
    #[serde(default)]
    pub qualification: Option<Vec<QualificationField>>,
}

fn check_fields(v: &mut Validator, fields: &[QualificationField]) {
    if fields.len() > MAX_QUALIFICATION_FIELDS {
        v.push(FieldError::new("qualification", format!("at most {MAX_QUALIFICATION_FIELDS} fields")));
    }
    let mut keys = BTreeSet::new();
    for (i, f) in fields.iter().enumerate() {
        let at = format!("qualification[{i}]");
        let key_ok = !f.key.is_empty()
            && f.key.len() <= 64
            && f.key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !key_ok {
            v.push(FieldError::new(format!("{at}.key"), "must be 1-64 characters of a-z, 0-9 and _"));
        } else if !keys.insert(f.key.as_str()) {
            v.push(FieldError::new(format!("{at}.key"), format!("{:?} is given twice", f.key)));
        }
        v.check(required_text("label", &f.label, 200).map_err(|e| e.within(&at)));
        let options = &f.options;
        if f.kind == QualificationKind::Choice
            && (options.is_empty()
                || options.len() > 100
                || options.iter().any(|o| o.trim().is_empty() || o.len() > 200))
        {
            v.push(FieldError::new(format!("{at}.options"), "must be 1-100 non-empty options"));
        } else if f.kind != QualificationKind::Choice && !options.is_empty() {
            v.push(FieldError::new(format!("{at}.options"), "are only for a choice"));
        }
    }
}

fn check_window(v: &mut Validator, starts_at: Option<DateTime<Utc>>, ends_at: Option<DateTime<Utc>>) {
    if let (Some(s), Some(e)) = (starts_at, ends_at)
        && e <= s
    {
        v.push(FieldError::new("ends_at", "must be after starts_at"));
    }
}

impl NewCampaign {
    /// The campaign.
    ///
    /// # Errors
    /// Every refused field.
    pub fn build(self, id: CampaignId, tenant: TenantId, now: DateTime<Utc>) -> Result<Campaign, ValidationErrors> {
        let mut v = Validator::new();
        let name = v.check(required_text("name", &self.name, 200));
        check_window(&mut v, self.starts_at, self.ends_at);
        check_fields(&mut v, &self.qualification);
        v.finish()?;
        Ok(Campaign {
            id,
            tenant,
            name: name.unwrap_or_default(),
            purpose: self.purpose,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            qualification: self.qualification,
            created_at: now,
            version: 1,
        })
    }
}

impl CampaignPatch {
    /// Applies the change, bumping the version when something changed.
    ///
    /// # Errors
    /// Every refused field (nothing is changed then).
    pub fn apply(self, c: &mut Campaign) -> Result<(), ValidationErrors> {
        let mut next = c.clone();
        let mut v = Validator::new();
        if let Some(name) = &self.name
            && let Some(n) = v.check(required_text("name", name, 200))
        {
            next.name = n;
        }
        if let Some(p) = self.purpose {
            next.purpose = p;
        }
        if self.starts_at.is_some() {
            next.starts_at = self.starts_at;
        }
        if self.ends_at.is_some() {
            next.ends_at = self.ends_at;
        }
        if let Some(q) = self.qualification {
            check_fields(&mut v, &q);
            next.qualification = q;
        }
        check_window(&mut v, next.starts_at, next.ends_at);
        v.finish()?;
        if next != *c {
            next.version = c.version + 1;
            *c = next;
        }
        Ok(())
    }
}

/// An optional reason (of a do-not-call entry): trimmed, at most 500 characters, none when
/// empty.
///
/// # Errors
/// A field error naming `reason` when too long.
pub fn optional_reason(input: Option<&str>) -> Result<Option<String>, FieldError> {
    Ok(input.map(|s| bounded_text("reason", s.trim(), 500)).transpose()?.filter(|s| !s.is_empty()))
}
