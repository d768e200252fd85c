//! The disposition catalogue and queue settings (INT-3).

use serde::{Deserialize, Serialize};

use crate::error::{FieldError, ValidationErrors, Validator};
use crate::ids::TenantId;
use crate::text::{bounded_text, required_text};

/// A disposition code an agent can set on an interaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Disposition {
    /// Its tenant.
    pub tenant: TenantId,
    /// Code, unique per tenant (`resolved`, `callback_requested`).
    pub code: String,
    /// Label for agents.
    pub label: String,
    /// Optional grouping (`Sales`, `Support`).
    pub group: Option<String>,
    /// Retired codes stay on past interactions but cannot be set anymore.
    pub active: bool,
}

/// What an administrator sends to define a disposition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DispositionInput {
    /// Code.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::required_text))]
    pub code: String,
    /// Label.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::required_text))]
    pub label: String,
    /// Group.
    #[serde(default)]
    pub group: Option<String>,
    /// Active (default true).
    #[serde(default)]
    pub active: Option<bool>,
}

impl DispositionInput {
    /// Validates into a disposition.
    ///
    /// # Errors
    /// Every refused value.
    pub fn build(self, tenant: TenantId) -> Result<Disposition, ValidationErrors> {
        let mut v = Validator::new();
        let code = v.check(required_text("code", &self.code, 64)).unwrap_or_default();
        if !code.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')) {
            v.push(FieldError::new("code", "must be letters, digits, '_', '-' or '.'"));
        }
        let label = v.check(required_text("label", &self.label, 100)).unwrap_or_default();
        let group =
            self.group.as_deref().and_then(|g| v.check(bounded_text("group", g.trim(), 100))).filter(|g| !g.is_empty());
        v.finish()?;
        Ok(Disposition { tenant, code, label, group, active: self.active.unwrap_or(true) })
    }
}

/// A queue's settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QueueSettings {
    /// Its tenant.
    pub tenant: TenantId,
    /// Queue name, unique per tenant.
    pub name: String,
    /// Whether wrap-up cannot complete without a disposition.
    pub disposition_required: bool,
}
