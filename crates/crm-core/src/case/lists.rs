//! The tenant-defined lists a case draws from (CAS-1, CAS-2, issue 27): categories, types
//! and resolution codes. An administrator keeps them ([`CaseListEntryInput`]); a case
//! names an entry by its key. A retired entry (`active: false`) stays on the cases that
//! carry it and can no longer be set; an entry that a case (live or deleted) carries
//! cannot be deleted ([`list_entry_in_use`] names why), only retired.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{FieldError, ValidationErrors, Validator};
use crate::ids::TenantId;
use crate::text::required_text;

/// Which list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CaseListKind {
    /// A case's category (`billing`, `technical`).
    Category,
    /// A case's type (`incident`, `question`, `complaint`).
    Type,
    /// How a resolved case was resolved (`fixed`, `workaround`, `duplicate`).
    Resolution,
}

impl CaseListKind {
    /// Every list.
    pub const ALL: &'static [CaseListKind] = &[CaseListKind::Category, CaseListKind::Type, CaseListKind::Resolution];

    /// The wire name, also the case field that names an entry of the list.
    pub const fn as_str(self) -> &'static str {
        match self {
            CaseListKind::Category => "category",
            CaseListKind::Type => "type",
            CaseListKind::Resolution => "resolution",
        }
    }
}

impl fmt::Display for CaseListKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CaseListKind {
    type Err = FieldError;

    fn from_str(s: &str) -> Result<Self, FieldError> {
        CaseListKind::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| FieldError::new("kind", format!("{s:?} is not one of category, type, resolution")))
    }
}

/// One entry of a tenant's list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaseListEntry {
    /// Its tenant.
    pub tenant: TenantId,
    /// Its list.
    pub kind: CaseListKind,
    /// Key, unique in the list (`billing`); what a case carries.
    pub key: String,
    /// Label for agents.
    pub label: String,
    /// Retired entries stay on the cases that carry them but cannot be set anymore.
    pub active: bool,
}

/// What an administrator sends to define an entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CaseListEntryInput {
    /// Key: letters, digits, `_`, `-`, `.`; at most 64 characters.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::required_text))]
    pub key: String,
    /// Label, at most 100 characters.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::required_text))]
    pub label: String,
    /// Active (default true); `false` retires the entry.
    #[serde(default)]
    pub active: Option<bool>,
}

impl CaseListEntryInput {
    /// Validates into an entry of `kind`.
    ///
    /// # Errors
    /// Every refused value, naming its field.
    pub fn build(self, tenant: TenantId, kind: CaseListKind) -> Result<CaseListEntry, ValidationErrors> {
        let mut v = Validator::new();
        let key = v.check(required_text("key", &self.key, 64)).unwrap_or_default();
        if !key.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')) {
            v.push(FieldError::new("key", "must be letters, digits, '_', '-' or '.'"));
        }
        let label = v.check(required_text("label", &self.label, 100)).unwrap_or_default();
        v.finish()?;
        Ok(CaseListEntry { tenant, kind, key, label, active: self.active.unwrap_or(true) })
    }
}

/// The active keys of a tenant's lists, as a case command checks them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CaseLists {
    entries: Vec<CaseListEntry>,
}

impl CaseLists {
    /// The lists made of these entries (of any kind; retired ones are kept to tell
    /// "retired" from "unknown").
    pub fn new(entries: Vec<CaseListEntry>) -> Self {
        Self { entries }
    }

    /// `Ok` when `key` is an active entry of `kind`; the error names the case field
    /// (`category`, `type`, `resolution`).
    ///
    /// # Errors
    /// An unknown or a retired key.
    pub fn check(&self, kind: CaseListKind, key: &str) -> Result<(), FieldError> {
        match self.entries.iter().find(|e| e.kind == kind && e.key == key) {
            Some(e) if e.active => Ok(()),
            Some(_) => Err(FieldError::new(kind.as_str(), format!("{key:?} is retired"))),
            None => Err(FieldError::new(kind.as_str(), format!("{key:?} is not in the tenant's {kind} list"))),
        }
    }
}

/// Why an entry cannot be deleted: the cases that carry it (`None`: none, it may go).
/// Stores count them in the transaction of the delete and refuse with this reason.
///
/// ```
/// use crm_core::case::list_entry_in_use;
/// assert_eq!(list_entry_in_use(0), None);
/// assert_eq!(
///     list_entry_in_use(3).as_deref(),
///     Some("the entry is in use: 3 cases carry it (retire it instead: active false)")
/// );
/// ```
pub fn list_entry_in_use(cases: u64) -> Option<String> {
    (cases > 0).then(|| {
        let what = if cases == 1 { "1 case carries".to_owned() } else { format!("{cases} cases carry") };
        format!("the entry is in use: {what} it (retire it instead: active false)")
    })
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    fn entry(kind: CaseListKind, key: &str, active: bool) -> CaseListEntry {
        CaseListEntry { tenant: TenantId::from_uuid(Uuid::nil()), kind, key: key.into(), label: key.into(), active }
    }

    #[test]
    fn only_active_entries_of_the_right_list_are_accepted() {
        let lists = CaseLists::new(vec![
            entry(CaseListKind::Category, "billing", true),
            entry(CaseListKind::Category, "legacy", false),
            entry(CaseListKind::Type, "incident", true),
        ]);
        assert!(lists.check(CaseListKind::Category, "billing").is_ok());
        let retired = lists.check(CaseListKind::Category, "legacy").unwrap_err();
        assert_eq!((retired.field.as_str(), retired.reason.contains("retired")), ("category", true));
        let wrong_list = lists.check(CaseListKind::Type, "billing").unwrap_err();
        assert_eq!(wrong_list.field, "type");
        assert_eq!(lists.check(CaseListKind::Resolution, "fixed").unwrap_err().field, "resolution");
    }

    #[test]
    fn entry_input_is_validated_field_by_field() {
        let tenant = TenantId::from_uuid(Uuid::nil());
        let bad = CaseListEntryInput { key: "no spaces".into(), label: " ".into(), active: None };
        let errors = bad.build(tenant, CaseListKind::Type).unwrap_err();
        let fields: Vec<&str> = errors.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["key", "label"]);
        let good = CaseListEntryInput { key: "incident".into(), label: "Incident".into(), active: None };
        assert!(good.build(tenant, CaseListKind::Type).unwrap().active);
    }

    #[test]
    fn kinds_round_trip_and_unknown_kinds_name_the_parameter() {
        for k in CaseListKind::ALL {
            assert_eq!(k.as_str().parse::<CaseListKind>().unwrap(), *k);
        }
        assert_eq!("colour".parse::<CaseListKind>().unwrap_err().field, "kind");
    }
}
