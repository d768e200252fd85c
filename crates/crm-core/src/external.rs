//! What the engine exchanges with external CRMs (EXT-1, INT-6, INT-7): references to remote
//! records, search results, creation requests and the activity pushed after an interaction.
//! Connectors translate these to each vendor's objects; nothing vendor-specific lives here.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::ids::InteractionId;
use crate::interaction::{Channel, Direction};

/// An external CRM product.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ExternalSystem {
    /// Salesforce (REST API).
    Salesforce,
    /// Microsoft Dynamics 365 / Dataverse (Web API).
    Dynamics,
    /// Oracle NetSuite (REST web services). Spelled `netsuite` everywhere, as in the
    /// configuration; `net_suite`, the spelling of earlier versions, is still read.
    #[serde(rename = "netsuite", alias = "net_suite")]
    NetSuite,
}

impl ExternalSystem {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            ExternalSystem::Salesforce => "salesforce",
            ExternalSystem::Dynamics => "dynamics",
            ExternalSystem::NetSuite => "netsuite",
        }
    }
}

impl fmt::Display for ExternalSystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ExternalSystem {
    type Err = FieldError;

    fn from_str(s: &str) -> Result<Self, FieldError> {
        match s {
            "salesforce" => Ok(Self::Salesforce),
            "dynamics" => Ok(Self::Dynamics),
            "netsuite" | "net_suite" => Ok(Self::NetSuite),
            other => Err(FieldError::new(
                "system",
                format!("{other:?} is not an external crm (salesforce, dynamics, netsuite)"),
            )),
        }
    }
}

/// The kind of a remote record, in the engine's terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ExternalObject {
    /// A company / account (NetSuite customer).
    Account,
    /// A person attached to an account.
    Contact,
    /// A prospect.
    Lead,
    /// A support case (Dynamics incident, NetSuite supportCase).
    Case,
    /// A logged activity (Salesforce Task, Dynamics phonecall, NetSuite phoneCall), as
    /// [`crate::ports::ExternalCrm::push_activity`] returns it.
    Activity,
}

/// How much of its daily API allowance a remote says the tenant has used (Salesforce's
/// `Sforce-Limit-Info: api-usage=25/15000`), as of the remote's last answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiUsage {
    /// Calls used in the current period.
    pub used: u64,
    /// The allowance of the period.
    pub limit: u64,
}

impl ApiUsage {
    /// Reads Salesforce's `api-usage=USED/LIMIT` (other entries of the header, separated
    /// by commas, are skipped).
    pub fn parse_salesforce(header: &str) -> Option<Self> {
        header.split(',').find_map(|entry| {
            let (used, limit) = entry.trim().strip_prefix("api-usage=")?.split_once('/')?;
            Some(Self { used: used.trim().parse().ok()?, limit: limit.trim().parse().ok()? })
        })
    }
}

/// A pointer to one remote record.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExternalRef {
    /// Which CRM.
    pub system: ExternalSystem,
    /// Which kind of record.
    pub object: ExternalObject,
    /// The remote id, verbatim (Salesforce 18-char id, Dataverse GUID, NetSuite internal id).
    pub id: String,
}

/// A remote record found by a screen-pop search.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExternalRecord {
    /// Where it is.
    pub reference: ExternalRef,
    /// Its display name (contact full name, account name, case subject).
    pub name: String,
    /// Its phone numbers as the remote holds them.
    pub phones: Vec<String>,
    /// Its email addresses.
    pub emails: Vec<String>,
    /// The account it belongs to, when the remote said.
    pub account: Option<ExternalRef>,
    /// A link to open it in the remote's UI, when known.
    pub url: Option<String>,
}

/// A person to create remotely (contact or lead).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExternalPerson {
    /// Given name.
    pub first_name: Option<String>,
    /// Family name (required by every vendor).
    pub last_name: String,
    /// Phone in E.164.
    pub phone: Option<String>,
    /// Email address.
    pub email: Option<String>,
    /// Company name (required for Salesforce leads).
    pub company: Option<String>,
    /// The account to attach a contact to.
    pub account: Option<ExternalRef>,
}

/// A case to create remotely.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExternalCase {
    /// Subject / title.
    pub subject: String,
    /// Description.
    pub description: Option<String>,
    /// Priority in the engine's terms (`low`, `normal`, `high`, `urgent`); mapped per vendor.
    pub priority: String,
    /// Origin channel.
    pub origin: Channel,
    /// The contact it is about.
    pub contact: Option<ExternalRef>,
    /// The account it is about (Dynamics and NetSuite require a customer/company).
    pub account: Option<ExternalRef>,
}

/// What to create remotely during an interaction (INT-7).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ExternalCreate {
    /// A case.
    Case(ExternalCase),
    /// A contact.
    Contact(ExternalPerson),
    /// A lead.
    Lead(ExternalPerson),
}

impl ExternalCreate {
    /// The idempotency key of the `nth` (1 for the first) record of this kind created in
    /// `system` from `interaction`: `<interaction>-<kind>-<nth>` (`…-contact-1`), within
    /// every vendor's external-id alphabet (`[A-Za-z0-9_-]`). Connectors create keyed on it
    /// (Salesforce ext-id upsert, a Dataverse primary key derived from it, NetSuite `eid:`),
    /// so a create sent again — after a timeout, a lost answer, or a restart before the
    /// link was stored — finds the record the first one made instead of making another.
    /// `nth` counts the interaction's links to records of this kind in `system`, which only
    /// grow once a create is linked.
    pub fn key(&self, interaction: InteractionId, nth: usize) -> String {
        let kind = match self.object() {
            ExternalObject::Account => "account",
            ExternalObject::Contact => "contact",
            ExternalObject::Lead => "lead",
            ExternalObject::Case => "case",
            ExternalObject::Activity => "activity",
        };
        format!("{}-{kind}-{nth}", interaction.as_uuid())
    }

    /// The kind of record this creates.
    pub fn object(&self) -> ExternalObject {
        match self {
            ExternalCreate::Case(_) => ExternalObject::Case,
            ExternalCreate::Contact(_) => ExternalObject::Contact,
            ExternalCreate::Lead(_) => ExternalObject::Lead,
        }
    }
}

/// A create in an external CRM an interaction asked for and is not yet linked to (INT-7):
/// the request sits in the durable outbox until the remote record is known to exist, then
/// becomes a link. One that the remote refused stays listed, with the reason, so its key
/// is never given to another request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PendingExternalCreate {
    /// The create's idempotency key ([`ExternalCreate::key`]).
    pub key: String,
    /// Which CRM.
    pub system: ExternalSystem,
    /// Which kind of record.
    pub object: ExternalObject,
    /// Who asked for it.
    pub requested_by: crate::ids::AgentId,
    /// When.
    pub requested_at: DateTime<Utc>,
    /// Why the remote refused it (a dead create, which an administrator can requeue);
    /// `None` while it is still being tried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
}

/// The wrap-up of an interaction pushed to a linked remote record (INT-6): a call/activity
/// record. Connectors MUST apply it idempotently keyed by [`ActivityPush::external_key`], so
/// a retried delivery never creates a second activity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActivityPush {
    /// Idempotency key, stable across retries: the interaction id and, when an interaction
    /// pushes more than once (a chat transferred twice), the push sequence (`<uuid>-2`).
    pub external_key: String,
    /// The interaction it describes.
    pub interaction: InteractionId,
    /// The linked record the activity belongs to.
    pub target: ExternalRef,
    /// Subject line (`Call: Jane Doe`).
    pub subject: String,
    /// Channel.
    pub channel: Channel,
    /// Direction.
    pub direction: Direction,
    /// Contact name as known to the engine.
    pub contact_name: Option<String>,
    /// When the interaction started (offered).
    pub started_at: DateTime<Utc>,
    /// Duration in seconds (offered to end).
    pub duration_seconds: Option<u32>,
    /// Disposition code label, when set.
    pub disposition: Option<String>,
    /// The agent's notes, joined.
    pub notes: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creation_keys_name_the_interaction_the_kind_and_the_rank() {
        let interaction: InteractionId = "01935f6e-7b4c-7d2a-9c1e-4a5b6c7d8e9f".parse().unwrap();
        let person = ExternalPerson {
            first_name: None,
            last_name: "Doe".into(),
            phone: None,
            email: None,
            company: None,
            account: None,
        };
        let key = ExternalCreate::Lead(person.clone()).key(interaction, 2);
        assert_eq!(key, "01935f6e-7b4c-7d2a-9c1e-4a5b6c7d8e9f-lead-2");
        assert!(key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_ne!(ExternalCreate::Contact(person).key(interaction, 2), key);
    }

    #[test]
    fn netsuite_has_one_spelling_and_the_old_one_is_still_read() {
        assert_eq!(serde_json::to_value(ExternalSystem::NetSuite).unwrap(), "netsuite");
        assert_eq!(ExternalSystem::NetSuite.as_str(), "netsuite");
        for old in ["\"net_suite\"", "\"netsuite\""] {
            assert_eq!(serde_json::from_str::<ExternalSystem>(old).unwrap(), ExternalSystem::NetSuite);
        }
        assert_eq!("net_suite".parse::<ExternalSystem>().unwrap(), ExternalSystem::NetSuite);
    }

    #[test]
    fn salesforce_api_usage_is_read_from_its_header() {
        assert_eq!(ApiUsage::parse_salesforce("api-usage=25/15000"), Some(ApiUsage { used: 25, limit: 15_000 }));
        assert_eq!(
            ApiUsage::parse_salesforce("per-app-api-usage=3/250(appName=x), api-usage=18/5000"),
            Some(ApiUsage { used: 18, limit: 5_000 })
        );
        assert_eq!(ApiUsage::parse_salesforce("api-usage=abc/5000"), None);
        assert_eq!(ApiUsage::parse_salesforce(""), None);
    }
}
