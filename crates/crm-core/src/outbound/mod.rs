//! Outbound calling (OUT-1, OUT-2): campaigns, their call lists, the entries (one customer
//! to call each), the do-not-call list, and the rules of preview dialling.
//!
//! - A [`Campaign`] has a purpose, an active window and the lead qualification fields its
//!   agents fill in ([`QualificationField`]).
//! - A [`CallList`] belongs to a campaign, is active or not, is assigned to agents and groups
//!   (a team is a group of the directory), may carry a script (its id is stored, see
//!   [`CallList::script`]), and defines its calling window, maximum attempts, lease and
//!   disposition codes ([`OutcomeCode`]).
//! - A [`CallListEntry`] is one customer and the phone chosen among theirs, with a priority,
//!   custom data, attempts, the time it is next due, an agent a callback is reserved for,
//!   the running lease and the answers to the qualification fields.
//! - **Next contact** ([`EntryClaim`]): the reference rule a store's claim implements, and the
//!   order entries are handed out in. A claim leases the entry to one agent until
//!   [`EntryClaim::lease_until`]; the lease is the entry's due time, so an entry whose agent
//!   never records an outcome comes back by itself when the lease runs out (ADR 0017).
//! - **Outcome** ([`CallListEntry::record_outcome`]): a disposition code of the list retries,
//!   calls back (at a time the customer asked for, to the same agent if asked) or closes.
//! - **Progress** ([`Progress`]): done, pending, reachable, success rate.

mod campaign;
mod claim;
mod entry;
mod list;
#[cfg(test)]
mod tests;
mod zone;

pub use campaign::{
    Campaign, CampaignPatch, CampaignPurpose, MAX_QUALIFICATION_FIELDS, NewCampaign, QualificationField,
    QualificationKind, optional_reason,
};
pub use claim::{EntryClaim, claim_order};
pub use entry::{
    CallListEntry, Closing, EntryState, Lease, MAX_CALLBACK_DAYS, MAX_PRIORITY, NewEntry, OutcomeInput, Progress,
    RecordedOutcome,
};
pub use list::{
    Assignment, CallList, CallListPatch, CallingWindow, MAX_OUTCOME_CODES, NewCallList, OutcomeAction, OutcomeCode,
};
pub use zone::{TIME_ZONE_FIELD, representative_zone, zone_of_customer, zone_of_number};

/// A number on the tenant's do-not-call list.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DoNotCall {
    /// The number, E.164.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "+4930123456"))]
    pub phone: crate::customer::PhoneNumber,
    /// Why, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When it was added.
    pub added_at: chrono::DateTime<chrono::Utc>,
}
