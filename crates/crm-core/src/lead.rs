//! Leads (INT-7): prospects that are not customers yet, with a qualification status and a
//! source. A lead is created on its own or during an interaction (linked to it in the
//! same transaction), and is converted into a customer keeping its history: its
//! interactions are linked to the new card and the lead points at it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::access::Actor;
use crate::customer::{Identity, IdentityInput, NewCustomer, Region, parse_identities};
use crate::error::{FieldError, TransitionError, ValidationErrors, Validator};
use crate::ids::{AgentId, CustomerId, InteractionId, LeadId, TenantId};
use crate::text::{bounded_text, required_text};

/// Longest name, company or source.
const MAX_TEXT: usize = 200;
/// Longest notes.
const MAX_NOTES: usize = 4000;
/// The most interactions one lead records (a prospect is converted or dropped long before).
pub const MAX_LEAD_INTERACTIONS: usize = 200;

/// A lead's qualification status.
///
/// ```text
///   new ──► contacted ──► qualified ──► converted (by conversion only)
///    │  └──────────────────►┘  ▲   │
///    └──► disqualified ◄─────────┘──┘     disqualified ──► new (reopened)
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LeadStatus {
    /// Just recorded.
    New,
    /// Someone reached them.
    Contacted,
    /// A real prospect.
    Qualified,
    /// Not a prospect.
    Disqualified,
    /// Became a customer (terminal).
    Converted,
}

impl LeadStatus {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            LeadStatus::New => "new",
            LeadStatus::Contacted => "contacted",
            LeadStatus::Qualified => "qualified",
            LeadStatus::Disqualified => "disqualified",
            LeadStatus::Converted => "converted",
        }
    }

    /// Whether a status change from `self` to `to` is allowed by hand (conversion is its
    /// own operation).
    /// ```
    /// use crm_core::lead::LeadStatus::*;
    /// assert!(New.can_become(Qualified) && Disqualified.can_become(New));
    /// assert!(!Qualified.can_become(Converted) && !Converted.can_become(New));
    /// ```
    pub fn can_become(self, to: LeadStatus) -> bool {
        use LeadStatus::*;
        matches!(
            (self, to),
            (New, Contacted | Qualified | Disqualified)
                | (Contacted, Qualified | Disqualified)
                | (Qualified, Contacted | Disqualified)
                | (Disqualified, New)
        )
    }
}

/// A lead. Its status and history change only through its methods, which bump the version
/// once per change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Lead {
    /// Its id.
    pub id: LeadId,
    /// Its tenant.
    pub tenant: TenantId,
    /// The person's name.
    name: String,
    /// The company they are with, if known.
    #[serde(default)]
    company: Option<String>,
    /// Phones, emails and handles.
    #[serde(default)]
    identities: Vec<Identity>,
    /// Where the lead came from (`web form`, `trade fair`, a campaign …).
    #[serde(default)]
    source: Option<String>,
    /// Qualification status.
    status: LeadStatus,
    /// Free notes.
    #[serde(default)]
    notes: Option<String>,
    /// The interactions it was created in or linked to, oldest first.
    #[serde(default)]
    interactions: Vec<InteractionId>,
    /// The customer it became, once converted.
    #[serde(default)]
    converted_to: Option<CustomerId>,
    /// Who created it.
    pub created_by: Option<AgentId>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    updated_at: DateTime<Utc>,
    /// Optimistic-concurrency version.
    version: u64,
}

/// What a caller sends to create a lead.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewLead {
    /// The person's name.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::required_text))]
    pub name: String,
    /// Their company.
    #[serde(default)]
    pub company: Option<String>,
    /// Identities (phone, email, handle).
    #[serde(default)]
    pub identities: Vec<IdentityInput>,
    /// Where the lead came from.
    #[serde(default)]
    pub source: Option<String>,
    /// Notes.
    #[serde(default)]
    pub notes: Option<String>,
}

/// What a caller sends to change a lead. Absent fields stay; an empty text clears it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LeadPatch {
    /// New name.
    #[serde(default)]
    pub name: Option<String>,
    /// New company (empty: none).
    #[serde(default)]
    pub company: Option<String>,
    /// New identity list.
    #[serde(default)]
    pub identities: Option<Vec<IdentityInput>>,
    /// New source (empty: none).
    #[serde(default)]
    pub source: Option<String>,
    /// New notes (empty: none).
    #[serde(default)]
    pub notes: Option<String>,
    /// New status (`converted` only through the conversion).
    #[serde(default)]
    pub status: Option<LeadStatus>,
}

/// An optional text: trimmed, empty → none, at most `max` characters.
fn optional_text(v: &mut Validator, field: &str, input: Option<&str>, max: usize) -> Option<String> {
    let text = input.map(str::trim).filter(|t| !t.is_empty())?;
    v.check(bounded_text(field, text, max))
}

impl NewLead {
    /// Validates the input into a new lead (status `new`) created by `actor` at `now`,
    /// recording `interaction` when it is created during one.
    ///
    /// # Errors
    /// Every refused field, each named.
    pub fn build(
        &self,
        id: LeadId,
        actor: &Actor,
        region: Option<Region>,
        interaction: Option<InteractionId>,
        now: DateTime<Utc>,
    ) -> Result<Lead, ValidationErrors> {
        let mut v = Validator::new();
        let name = v.check(required_text("name", &self.name, MAX_TEXT)).unwrap_or_default();
        let company = optional_text(&mut v, "company", self.company.as_deref(), MAX_TEXT);
        let source = optional_text(&mut v, "source", self.source.as_deref(), MAX_TEXT);
        let notes = optional_text(&mut v, "notes", self.notes.as_deref(), MAX_NOTES);
        let identities = parse_identities(&mut v, &self.identities, region);
        v.finish()?;
        Ok(Lead {
            id,
            tenant: actor.tenant,
            name,
            company,
            identities,
            source,
            status: LeadStatus::New,
            notes,
            interactions: interaction.into_iter().collect(),
            converted_to: None,
            created_by: Some(actor.agent),
            created_at: now,
            updated_at: now,
            version: 1,
        })
    }
}

impl Lead {
    /// The person's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Their company.
    pub fn company(&self) -> Option<&str> {
        self.company.as_deref()
    }

    /// Identities.
    pub fn identities(&self) -> &[Identity] {
        &self.identities
    }

    /// Where the lead came from.
    pub fn source(&self) -> Option<&str> {
        self.source.as_deref()
    }

    /// Qualification status.
    pub fn status(&self) -> LeadStatus {
        self.status
    }

    /// Notes.
    pub fn notes(&self) -> Option<&str> {
        self.notes.as_deref()
    }

    /// The interactions it was created in or linked to.
    pub fn interactions(&self) -> &[InteractionId] {
        &self.interactions
    }

    /// The customer it became.
    pub fn converted_to(&self) -> Option<CustomerId> {
        self.converted_to
    }

    /// When it last changed.
    pub fn updated_at(&self) -> DateTime<Utc> {
        self.updated_at
    }

    /// Optimistic-concurrency version.
    pub fn version(&self) -> u64 {
        self.version
    }

    fn touch(&mut self, now: DateTime<Utc>) {
        self.updated_at = now;
        self.version += 1;
    }

    fn refuse_if_converted(&self) -> Result<(), ValidationErrors> {
        if self.status == LeadStatus::Converted {
            return Err(FieldError::new("status", "the lead was converted; change its customer").into());
        }
        Ok(())
    }

    /// Applies a patch as one change at `now`; returns the changed fields (none: the
    /// version stays).
    ///
    /// # Errors
    /// Every refused field; a status change the state machine refuses ([`LeadStatus::can_become`])
    /// names `status`; a converted lead cannot change.
    pub fn apply(
        &mut self,
        patch: &LeadPatch,
        region: Option<Region>,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, ValidationErrors> {
        self.refuse_if_converted()?;
        let mut v = Validator::new();
        let name = patch.name.as_deref().and_then(|n| v.check(required_text("name", n, MAX_TEXT)));
        let company = patch.company.as_deref().map(|c| optional_text(&mut v, "company", Some(c), MAX_TEXT));
        let source = patch.source.as_deref().map(|s| optional_text(&mut v, "source", Some(s), MAX_TEXT));
        let notes = patch.notes.as_deref().map(|n| optional_text(&mut v, "notes", Some(n), MAX_NOTES));
        let identities = patch.identities.as_deref().map(|i| parse_identities(&mut v, i, region));
        if let Some(to) = patch.status
            && to != self.status
            && !self.status.can_become(to)
        {
            v.push(FieldError::new("status", format!("a {} lead cannot become {}", self.status.as_str(), to.as_str())));
        }
        v.finish()?;
        let mut changed = Vec::new();
        let mut set = |name: &str, changed_now: bool| {
            if changed_now {
                changed.push(name.to_owned());
            }
        };
        if let Some(name) = name {
            set("name", name != self.name);
            self.name = name;
        }
        if let Some(company) = company {
            set("company", company != self.company);
            self.company = company;
        }
        if let Some(source) = source {
            set("source", source != self.source);
            self.source = source;
        }
        if let Some(notes) = notes {
            set("notes", notes != self.notes);
            self.notes = notes;
        }
        if let Some(identities) = identities {
            set("identities", identities != self.identities);
            self.identities = identities;
        }
        if let Some(status) = patch.status {
            set("status", status != self.status);
            self.status = status;
        }
        if !changed.is_empty() {
            self.touch(now);
        }
        Ok(changed)
    }

    /// Records that the lead took part in `interaction` (one change), unless already
    /// recorded. Returns whether it changed.
    ///
    /// # Errors
    /// A converted lead; more than [`MAX_LEAD_INTERACTIONS`].
    pub fn record_interaction(
        &mut self,
        interaction: InteractionId,
        now: DateTime<Utc>,
    ) -> Result<bool, ValidationErrors> {
        self.refuse_if_converted()?;
        if self.interactions.contains(&interaction) {
            return Ok(false);
        }
        if self.interactions.len() >= MAX_LEAD_INTERACTIONS {
            return Err(FieldError::new(
                "interaction",
                format!("a lead records at most {MAX_LEAD_INTERACTIONS} interactions"),
            )
            .into());
        }
        self.interactions.push(interaction);
        self.touch(now);
        Ok(true)
    }

    /// What the customer it becomes is made of: its name and identities (the caller may
    /// add an account number).
    pub fn customer_input(&self) -> NewCustomer {
        NewCustomer {
            name: self.name.clone(),
            identities: self.identities.iter().map(identity_input).collect(),
            ..NewCustomer::default()
        }
    }

    /// Converts the lead into `customer` (one change at `now`): status `converted`, a
    /// pointer to the card.
    ///
    /// # Errors
    /// Already converted; disqualified (reopen it first).
    pub fn convert(&mut self, customer: CustomerId, now: DateTime<Utc>) -> Result<(), TransitionError> {
        self.check_convertible()?;
        self.status = LeadStatus::Converted;
        self.converted_to = Some(customer);
        self.touch(now);
        Ok(())
    }

    /// Whether [`Lead::convert`] would accept it.
    ///
    /// # Errors
    /// Already converted; disqualified (reopen it first).
    pub fn check_convertible(&self) -> Result<(), TransitionError> {
        if matches!(self.status, LeadStatus::Converted | LeadStatus::Disqualified) {
            return Err(TransitionError {
                entity: "lead",
                from: self.status.as_str().to_owned(),
                to: LeadStatus::Converted.as_str().to_owned(),
                reason: (self.status == LeadStatus::Disqualified).then(|| "reopen it first".to_owned()),
            });
        }
        Ok(())
    }
}

/// What a caller may add when converting a lead.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ConvertLead {
    /// The new customer's account number; generated when absent.
    #[serde(default)]
    pub account_number: Option<String>,
}

/// A converted lead and the customer it became.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LeadConversion {
    /// The lead, now `converted`.
    pub lead: Lead,
    /// The new customer.
    pub customer: crate::customer::Customer,
}

/// The input that gives `identity` back when parsed.
fn identity_input(identity: &Identity) -> IdentityInput {
    match identity {
        Identity::Phone { number, label } => IdentityInput::Phone { number: number.to_string(), label: label.clone() },
        Identity::Email { address, label } => {
            IdentityInput::Email { address: address.to_string(), label: label.clone() }
        }
        Identity::Handle { channel, handle, label } => {
            IdentityInput::Handle { channel: *channel, handle: handle.clone(), label: label.clone() }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Role;
    use uuid::Uuid;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default()
    }

    fn lead() -> Lead {
        let actor = Actor::with_role(
            TenantId::from_uuid(Uuid::from_u128(1)),
            AgentId::from_uuid(Uuid::from_u128(2)),
            Role::Agent,
        );
        let input = NewLead {
            name: " Ada ".into(),
            source: Some("web form".into()),
            identities: vec![IdentityInput::Email { address: "Ada@Example.com".into(), label: None }],
            ..NewLead::default()
        };
        let interaction = InteractionId::from_uuid(Uuid::from_u128(9));
        input.build(LeadId::from_uuid(Uuid::from_u128(3)), &actor, None, Some(interaction), now()).unwrap()
    }

    #[test]
    fn a_new_lead_is_new_and_records_its_interaction() {
        let l = lead();
        assert_eq!((l.name(), l.status(), l.source(), l.version()), ("Ada", LeadStatus::New, Some("web form"), 1));
        assert_eq!(l.interactions(), [InteractionId::from_uuid(Uuid::from_u128(9))]);
    }

    #[test]
    fn status_follows_the_state_machine_and_names_the_field() {
        let mut l = lead();
        let to = |s| LeadPatch { status: Some(s), ..LeadPatch::default() };
        assert_eq!(l.apply(&to(LeadStatus::Qualified), None, now()).unwrap(), ["status"]);
        let err = l.apply(&to(LeadStatus::New), None, now()).unwrap_err();
        assert_eq!(err.errors()[0].field, "status");
        let err = l.apply(&to(LeadStatus::Converted), None, now()).unwrap_err();
        assert_eq!(err.errors()[0].field, "status");
        assert_eq!((l.status(), l.version()), (LeadStatus::Qualified, 2));
    }

    #[test]
    fn conversion_points_at_the_customer_and_freezes_the_lead() {
        let mut l = lead();
        let customer = CustomerId::from_uuid(Uuid::from_u128(7));
        l.convert(customer, now()).unwrap();
        assert_eq!((l.status(), l.converted_to(), l.version()), (LeadStatus::Converted, Some(customer), 2));
        assert!(l.convert(customer, now()).is_err());
        assert!(l.apply(&LeadPatch { name: Some("Bob".into()), ..LeadPatch::default() }, None, now()).is_err());
        assert!(l.record_interaction(InteractionId::from_uuid(Uuid::from_u128(10)), now()).is_err());
    }

    #[test]
    fn a_disqualified_lead_is_reopened_before_conversion() {
        let mut l = lead();
        l.apply(&LeadPatch { status: Some(LeadStatus::Disqualified), ..LeadPatch::default() }, None, now()).unwrap();
        assert!(l.convert(CustomerId::from_uuid(Uuid::from_u128(7)), now()).is_err());
        l.apply(&LeadPatch { status: Some(LeadStatus::New), ..LeadPatch::default() }, None, now()).unwrap();
        assert!(l.convert(CustomerId::from_uuid(Uuid::from_u128(7)), now()).is_ok());
    }

    #[test]
    fn the_customer_input_gives_back_the_same_identities() {
        let l = lead();
        let input = l.customer_input();
        let parsed: Vec<Identity> = input.identities.iter().map(|i| i.parse(None).unwrap()).collect();
        assert_eq!((input.name.as_str(), parsed.as_slice()), ("Ada", l.identities()));
    }

    #[test]
    fn recording_an_interaction_twice_is_one_change() {
        let mut l = lead();
        let other = InteractionId::from_uuid(Uuid::from_u128(10));
        assert!(l.record_interaction(other, now()).unwrap());
        assert!(!l.record_interaction(other, now()).unwrap());
        assert_eq!((l.interactions().len(), l.version()), (2, 2));
    }
}
