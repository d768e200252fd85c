//! Case history (CAS-4): one append-only entry per changed field, computed by diffing the
//! case's field map before and after a change, so no change can forget to record itself.
//! [`replay`] folds a history back into the field map: the property tests check that it
//! always equals the current case's.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ids::{AgentId, CaseId, TenantId};

/// One recorded change of one field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaseHistoryEntry {
    /// The tenant.
    pub tenant: TenantId,
    /// The case.
    pub case: CaseId,
    /// The case version this change produced (1 for creation).
    pub version: u64,
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: AgentId,
    /// Which field (`status`, `custom.tier`).
    pub field: String,
    /// The value before (`null` when it had none).
    pub old: Value,
    /// The value after (`null` when removed).
    pub new: Value,
}

/// A case's tracked fields as JSON values, by name. Absent means no value.
pub type FieldMap = BTreeMap<String, Value>;

/// The entries that turn `before` into `after`, in field order.
pub fn diff(
    before: &FieldMap,
    after: &FieldMap,
    tenant: TenantId,
    case: CaseId,
    version: u64,
    actor: AgentId,
    at: DateTime<Utc>,
) -> Vec<CaseHistoryEntry> {
    let mut fields: Vec<&String> = before.keys().chain(after.keys()).collect();
    fields.sort();
    fields.dedup();
    fields
        .into_iter()
        .filter_map(|field| {
            let old = before.get(field).cloned().unwrap_or(Value::Null);
            let new = after.get(field).cloned().unwrap_or(Value::Null);
            (old != new).then(|| CaseHistoryEntry { tenant, case, version, at, actor, field: field.clone(), old, new })
        })
        .collect()
}

/// Folds a history (oldest first) into the field map it describes.
pub fn replay<'a>(entries: impl IntoIterator<Item = &'a CaseHistoryEntry>) -> FieldMap {
    let mut map = FieldMap::new();
    for e in entries {
        if e.new.is_null() {
            map.remove(&e.field);
        } else {
            map.insert(e.field.clone(), e.new.clone());
        }
    }
    map
}
