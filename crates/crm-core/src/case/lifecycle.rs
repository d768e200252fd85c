//! Case statuses and the transitions between them (CAS-2).
//!
//! ```text
//! Draft ──► Open ◄──► Pending
//!   │        ▲ ▲ ◄──► OnHold        Pending ◄──► OnHold
//!   ▼        │ └────── Closed (reopen)
//! (delete)   ├──────── every open status ──► Closed
//!            │
//!            └──────── Resolved ◄── every open status (with a resolution code)
//!                         │ └─────► Closed
//!                         └───────► Open (reopen: the resolution code is cleared)
//! ```
//!
//! `Resolved` (issue 27) is the resolution instant: the work is done and a resolution code
//! says how; the case waits there (for the customer's confirmation, a grace period) until
//! it is closed, or reopens. Closing straight from an open status stays legal.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::FieldError;

/// Where a case is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// Saved incomplete; relaxed validation.
    Draft,
    /// Being worked on; always assigned to an agent.
    Open,
    /// Waiting for the customer or a third party.
    Pending,
    /// Parked by the contact center.
    OnHold,
    /// Done; can be reopened.
    Closed,
    /// Solved, with a resolution code, not closed yet; can be closed or reopened.
    Resolved,
}

impl CaseStatus {
    /// Every status.
    pub const ALL: &'static [CaseStatus] = &[
        CaseStatus::Draft,
        CaseStatus::Open,
        CaseStatus::Pending,
        CaseStatus::OnHold,
        CaseStatus::Closed,
        CaseStatus::Resolved,
    ];

    /// Whether `self → to` is allowed.
    ///
    /// ```
    /// use crm_core::case::CaseStatus;
    ///
    /// assert!(CaseStatus::Draft.can_become(CaseStatus::Open));
    /// assert!(CaseStatus::Closed.can_become(CaseStatus::Open)); // reopen
    /// assert!(!CaseStatus::Closed.can_become(CaseStatus::Pending));
    /// assert!(CaseStatus::Pending.can_become(CaseStatus::Resolved));
    /// assert!(CaseStatus::Resolved.can_become(CaseStatus::Closed));
    /// assert!(CaseStatus::Resolved.can_become(CaseStatus::Open)); // reopen
    /// ```
    pub fn can_become(self, to: CaseStatus) -> bool {
        use CaseStatus::*;
        matches!(
            (self, to),
            (Draft, Open)
                | (Open, Pending | OnHold | Resolved | Closed)
                | (Pending, Open | OnHold | Resolved | Closed)
                | (OnHold, Open | Pending | Resolved | Closed)
                | (Resolved, Open | Closed)
                | (Closed, Open)
        )
    }

    /// Whether the case counts as open on the customer card (not draft, not resolved, not
    /// closed).
    pub fn is_open(self) -> bool {
        matches!(self, CaseStatus::Open | CaseStatus::Pending | CaseStatus::OnHold)
    }

    /// Whether the work is done: resolved or closed. The SLA clocks stop here (the
    /// resolution instant is the first of the two; closing a resolved case changes no
    /// clock) and resume on a reopen.
    pub fn is_done(self) -> bool {
        matches!(self, CaseStatus::Resolved | CaseStatus::Closed)
    }

    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Draft => "draft",
            CaseStatus::Open => "open",
            CaseStatus::Pending => "pending",
            CaseStatus::OnHold => "on_hold",
            CaseStatus::Closed => "closed",
            CaseStatus::Resolved => "resolved",
        }
    }
}

impl fmt::Display for CaseStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CaseStatus {
    type Err = FieldError;

    fn from_str(s: &str) -> Result<Self, FieldError> {
        CaseStatus::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| FieldError::new("status", format!("{s:?} is not a case status")))
    }
}

macro_rules! ordered_enum {
    ($(#[$doc:meta])* $name:ident, $field:literal, [$($(#[$vdoc:meta])* $variant:ident => $text:literal),+]) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
        }

        impl $name {
            /// Every value, lowest first.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The wire name.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = FieldError;

            fn from_str(s: &str) -> Result<Self, FieldError> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(FieldError::new($field, format!("{other:?} is not one of {}", [$($text),+].join(", ")))),
                }
            }
        }
    };
}

ordered_enum!(
    /// Who may see a case (ADM-2).
    Visibility, "visibility", [
    /// The customer may be told about it.
    Public => "public",
    /// Every agent of the tenant.
    Internal => "internal",
    /// Only its assignee, its group and supervisors.
    Private => "private"]
);

ordered_enum!(
    /// How bad the problem is.
    Severity, "severity", [
    /// Low.
    Low => "low",
    /// Medium.
    Medium => "medium",
    /// High.
    High => "high",
    /// Critical.
    Critical => "critical"]
);

ordered_enum!(
    /// How soon to act.
    Priority, "priority", [
    /// Low.
    Low => "low",
    /// Normal.
    Normal => "normal",
    /// High.
    High => "high",
    /// Urgent.
    Urgent => "urgent"]
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drafts_only_open_and_closed_only_reopens() {
        use CaseStatus::*;
        assert!(Draft.can_become(Open));
        for to in [Pending, OnHold, Closed, Draft] {
            assert!(!Draft.can_become(to), "draft -> {to}");
        }
        assert!(Closed.can_become(Open));
        assert!(!Closed.can_become(Pending));
        for s in CaseStatus::ALL {
            assert!(!s.can_become(*s), "{s} -> itself");
            assert!(!s.can_become(Draft), "{s} -> draft");
        }
    }

    #[test]
    fn resolved_comes_from_open_statuses_and_goes_to_closed_or_back_to_open() {
        use CaseStatus::*;
        for from in [Open, Pending, OnHold] {
            assert!(from.can_become(Resolved), "{from} -> resolved");
        }
        assert!(!Draft.can_become(Resolved));
        assert!(!Closed.can_become(Resolved), "a closed case reopens first");
        assert_eq!(
            CaseStatus::ALL.iter().filter(|to| Resolved.can_become(**to)).copied().collect::<Vec<_>>(),
            [Open, Closed]
        );
        assert!(!Resolved.is_open());
        assert_eq!("resolved".parse::<CaseStatus>().unwrap(), Resolved);
    }
}
