//! Relations between customers (CUS-7): household members, employer and employee, other.

use serde::{Deserialize, Serialize};

use crate::ids::{CustomerId, RelationId, TenantId};

/// The kind of relation, read from `from` to `to` (`from` is the `to`'s employer).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RelationKind {
    /// Both belong to one household.
    HouseholdMember,
    /// `from` employs `to`.
    Employer,
    /// `from` works for `to`.
    Employee,
    /// Anything else (see the note).
    Other,
}

/// A relation between two customers of one tenant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Relation {
    /// Its id.
    pub id: RelationId,
    /// Its tenant.
    pub tenant: TenantId,
    /// One side.
    pub from: CustomerId,
    /// The other side.
    pub to: CustomerId,
    /// The kind, read from `from` to `to`.
    pub kind: RelationKind,
    /// Free note (`sister`, `accounts payable`).
    pub note: Option<String>,
}
