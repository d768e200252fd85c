//! Follow-ups (FUP-1): every communication about a case, in order.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::case::Visibility;
use crate::error::{FieldError, ValidationErrors, Validator};
use crate::ids::{AgentId, CaseId, FollowUpId, InteractionId, TenantId};
use crate::text::required_text;

/// The longest follow-up body.
pub const MAX_FOLLOW_UP_BODY: usize = 100_000;

/// What a follow-up records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FollowUpKind {
    /// An internal note.
    Note,
    /// A mail sent to the customer.
    OutboundEmail,
    /// A mail received from the customer.
    InboundEmail,
    /// The summary of a call.
    CallSummary,
    /// A copied interaction note (INT-4).
    InteractionNote,
}

/// One follow-up on a case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FollowUp {
    /// Its id.
    pub id: FollowUpId,
    /// Its tenant.
    pub tenant: TenantId,
    /// The case.
    pub case: CaseId,
    /// The kind.
    pub kind: FollowUpKind,
    /// The author (none for inbound mail).
    pub author: Option<AgentId>,
    /// When.
    pub at: DateTime<Utc>,
    /// Body (plain text, or sanitised HTML for mails).
    pub body: String,
    /// Public (the customer may see it) or internal.
    pub visibility: Visibility,
    /// The interaction it came from.
    pub interaction: Option<InteractionId>,
}

/// What a caller sends to add a follow-up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewFollowUp {
    /// Kind (default note).
    #[serde(default)]
    pub kind: Option<FollowUpKind>,
    /// Body.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::required_text))]
    pub body: String,
    /// Visibility (default internal).
    #[serde(default)]
    pub visibility: Option<Visibility>,
}

impl NewFollowUp {
    /// Validates into a follow-up.
    ///
    /// # Errors
    /// An empty or oversized body; a private visibility (follow-ups are public or internal).
    pub fn build(
        self,
        id: FollowUpId,
        tenant: TenantId,
        case: CaseId,
        author: Option<AgentId>,
        at: DateTime<Utc>,
    ) -> Result<FollowUp, ValidationErrors> {
        let mut v = Validator::new();
        let body = v.check(required_text("body", &self.body, MAX_FOLLOW_UP_BODY));
        let visibility = self.visibility.unwrap_or(Visibility::Internal);
        if visibility == Visibility::Private {
            v.push(FieldError::new("visibility", "a follow-up is public or internal"));
        }
        v.finish()?;
        Ok(FollowUp {
            id,
            tenant,
            case,
            kind: self.kind.unwrap_or(FollowUpKind::Note),
            author,
            at,
            body: body.unwrap_or_default(),
            visibility,
            interaction: None,
        })
    }
}
