//! The soft deletion of a case and its restore (CAS-3): a deleted case keeps its number,
//! history and links; both moves are changes recorded in the history (`deleted_at`).

use chrono::{DateTime, Utc};

use super::Case;
use crate::error::FieldError;

impl Case {
    /// Deletes the case softly (CAS-3): it keeps its number, history and links, but lists
    /// and lookups no longer show it. One change: the next version, recorded in the history
    /// as `deleted_at` set.
    ///
    /// # Errors
    /// A [`FieldError`] on `case` when it is already deleted.
    pub fn soft_delete(&mut self, now: DateTime<Utc>) -> Result<(), FieldError> {
        if self.is_deleted() {
            return Err(FieldError::new("case", "is already deleted"));
        }
        self.deleted_at = Some(now);
        self.touch(now);
        Ok(())
    }

    /// Brings a softly deleted case back, within `period` of its deletion. One change: the
    /// next version, recorded in the history as `deleted_at` cleared.
    ///
    /// ```
    /// # use chrono::{Duration, TimeZone, Utc};
    /// # use crm_core::case::{Case, CaseNumber, CaseRecord, CaseStatus, Description, Priority, Severity, Visibility};
    /// # use crm_core::ids::*;
    /// # let id = |n| uuid::Uuid::from_u128(n);
    /// # let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap();
    /// # let mut case = Case::restore(CaseRecord { id: CaseId::from_uuid(id(1)), tenant: TenantId::from_uuid(id(2)),
    /// #     number: CaseNumber::new(1), customer: CustomerId::from_uuid(id(3)), subject: "Refund".into(),
    /// #     description: Description::default(), status: CaseStatus::Open, visibility: Visibility::Internal,
    /// #     severity: Severity::Medium, priority: Priority::Normal, assignee: None, group: None,
    /// #     origin_channel: None, origin_interaction: None, created_by: AgentId::from_uuid(id(4)),
    /// #     created_at: t0, updated_at: t0, closed_at: None, custom: Default::default(), version: 1,
    /// #     deleted_at: None, sla: None, sla_gen: 0, tags: Default::default(), category: None, case_type: None,
    /// #     resolution: None, resolved_at: None, parent: None });
    /// case.soft_delete(t0).unwrap();
    /// assert!(case.undelete(t0 + Duration::days(31), Duration::days(30)).is_err(), "too late");
    /// case.undelete(t0 + Duration::days(29), Duration::days(30)).unwrap();
    /// assert!(!case.is_deleted());
    /// assert_eq!(case.version(), 3);
    /// ```
    ///
    /// # Errors
    /// A [`FieldError`] on `case` when it is not deleted, on `deleted_at` when the restore
    /// period is over.
    pub fn undelete(&mut self, now: DateTime<Utc>, period: chrono::Duration) -> Result<(), FieldError> {
        let Some(at) = self.deleted_at else {
            return Err(FieldError::new("case", "is not deleted"));
        };
        if now > at + period {
            return Err(FieldError::new(
                "deleted_at",
                format!("the case was deleted at {at}: it can be restored only within {} days", period.num_days()),
            ));
        }
        self.deleted_at = None;
        self.touch(now);
        Ok(())
    }
}
