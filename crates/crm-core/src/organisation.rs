//! Organisations (issue 27): the company or account customers belong to, with its own
//! name, registration id, phone/email identities, addresses and notes, and its card (its
//! members and their open cases). A customer belongs to at most one organisation; the
//! membership is kept beside the customer card (not inside it), so the screen pop's card
//! statement does not change (ADR 0031).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::access::Actor;
use crate::case::CaseSummary;
use crate::customer::{
    Customer, Identity, IdentityInput, IdentityKey, PostalAddress, Region, parse_addresses, parse_identities,
};
use crate::error::{FieldError, ValidationErrors, Validator};
use crate::ids::{AgentId, OrganisationId, TenantId};
use crate::text::{bounded_text, required_text, words};

/// How many members an organisation's card shows (the rest are listed with a cursor).
pub const CARD_MEMBERS: u32 = 20;

/// Longest organisation name.
const MAX_NAME: usize = 200;
/// Longest registration id.
const MAX_REGISTRATION: usize = 60;
/// Longest notes.
const MAX_NOTES: usize = 4000;

/// An organisation (a company, an account).
///
/// Its fields change only through [`Organisation::apply`], which validates them and bumps
/// the version once per change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Organisation {
    /// Its id.
    pub id: OrganisationId,
    /// Its tenant.
    pub tenant: TenantId,
    /// Name.
    name: String,
    /// Account number or registration id (free form), if known.
    #[serde(default)]
    registration: Option<String>,
    /// Its own phones, emails and handles (a switchboard, a shared mailbox), unique by key.
    #[serde(default)]
    identities: Vec<Identity>,
    /// Postal addresses.
    #[serde(default)]
    addresses: Vec<PostalAddress>,
    /// Free notes.
    #[serde(default)]
    notes: Option<String>,
    /// Who created it.
    pub created_by: Option<AgentId>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    updated_at: DateTime<Utc>,
    /// Optimistic-concurrency version, 1 on creation, +1 on every change.
    version: u64,
}

/// What a caller sends to create an organisation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewOrganisation {
    /// Name.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::required_text))]
    pub name: String,
    /// Account number or registration id.
    #[serde(default)]
    pub registration: Option<String>,
    /// Identities (phone, email, handle).
    #[serde(default)]
    pub identities: Vec<IdentityInput>,
    /// Addresses.
    #[serde(default)]
    pub addresses: Vec<PostalAddress>,
    /// Notes.
    #[serde(default)]
    pub notes: Option<String>,
}

/// What a caller sends to change an organisation. Absent fields stay; lists replace the
/// whole list; an empty `registration` or `notes` clears it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OrganisationPatch {
    /// New name.
    #[serde(default)]
    pub name: Option<String>,
    /// New registration id (empty: none).
    #[serde(default)]
    pub registration: Option<String>,
    /// New identity list.
    #[serde(default)]
    pub identities: Option<Vec<IdentityInput>>,
    /// New address list.
    #[serde(default)]
    pub addresses: Option<Vec<PostalAddress>>,
    /// New notes (empty: none).
    #[serde(default)]
    pub notes: Option<String>,
}

/// An organisation with its members and their open cases.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrganisationCard {
    /// The organisation.
    pub organisation: Organisation,
    /// Its first members by name (at most [`CARD_MEMBERS`]; the rest through the members
    /// list).
    pub members: Vec<Customer>,
    /// Whether it has more members than `members` shows.
    pub more_members: bool,
    /// The open cases of the members shown, the actor may see, most recently updated first.
    pub open_cases: Vec<CaseSummary>,
}

/// An optional text: trimmed, empty → none, at most `max` characters.
fn optional_text(v: &mut Validator, field: &str, input: Option<&str>, max: usize) -> Option<String> {
    let text = input.map(str::trim).filter(|t| !t.is_empty())?;
    v.check(bounded_text(field, text, max))
}

impl NewOrganisation {
    /// Validates the input into a new organisation created by `actor` at `now`; phone
    /// numbers without a country code are read in `region`.
    ///
    /// # Errors
    /// Every refused field, each named (`name`, `identities[0].number`, …).
    pub fn build(
        &self,
        id: OrganisationId,
        actor: &Actor,
        region: Option<Region>,
        now: DateTime<Utc>,
    ) -> Result<Organisation, ValidationErrors> {
        let mut v = Validator::new();
        let name = v.check(required_text("name", &self.name, MAX_NAME)).unwrap_or_default();
        let registration = optional_text(&mut v, "registration", self.registration.as_deref(), MAX_REGISTRATION);
        let notes = optional_text(&mut v, "notes", self.notes.as_deref(), MAX_NOTES);
        let identities = parse_identities(&mut v, &self.identities, region);
        let addresses = parse_addresses(&mut v, &self.addresses);
        v.finish()?;
        Ok(Organisation {
            id,
            tenant: actor.tenant,
            name,
            registration,
            identities,
            addresses,
            notes,
            created_by: Some(actor.agent),
            created_at: now,
            updated_at: now,
            version: 1,
        })
    }
}

impl Organisation {
    /// Name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Account number or registration id.
    pub fn registration(&self) -> Option<&str> {
        self.registration.as_deref()
    }

    /// Its own identities.
    pub fn identities(&self) -> &[Identity] {
        &self.identities
    }

    /// Postal addresses.
    pub fn addresses(&self) -> &[PostalAddress] {
        &self.addresses
    }

    /// Notes.
    pub fn notes(&self) -> Option<&str> {
        self.notes.as_deref()
    }

    /// When it last changed.
    pub fn updated_at(&self) -> DateTime<Utc> {
        self.updated_at
    }

    /// Optimistic-concurrency version.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The keys of its identities (what the organisation lookup matches).
    pub fn identity_keys(&self) -> Vec<IdentityKey> {
        self.identities.iter().map(Identity::key).collect()
    }

    /// The name as searches match and sort it: folded words joined by single spaces.
    pub fn folded_name(&self) -> String {
        words(&self.name).join(" ")
    }

    /// Whether a name search for `query` finds it: every folded word of the query starts a
    /// word of the name (the reference the stores implement).
    /// ```
    /// # use crm_core::organisation::Organisation;
    /// assert!(Organisation::name_matches("Société Générale Paris", "gene soc"));
    /// assert!(!Organisation::name_matches("Société Générale", "paris"));
    /// ```
    pub fn name_matches(name: &str, query: &str) -> bool {
        let name = words(name);
        let query = words(query);
        !query.is_empty() && query.iter().all(|q| name.iter().any(|w| w.starts_with(q.as_str())))
    }

    /// Applies a patch as one change at `now`; returns the names of the changed fields
    /// (none: nothing changed, the version stays).
    ///
    /// # Errors
    /// Every refused field, each named.
    pub fn apply(
        &mut self,
        patch: &OrganisationPatch,
        region: Option<Region>,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, ValidationErrors> {
        let mut v = Validator::new();
        let name = patch.name.as_deref().map(|n| v.check(required_text("name", n, MAX_NAME)));
        let registration =
            patch.registration.as_deref().map(|r| optional_text(&mut v, "registration", Some(r), MAX_REGISTRATION));
        let notes = patch.notes.as_deref().map(|n| optional_text(&mut v, "notes", Some(n), MAX_NOTES));
        let identities = patch.identities.as_deref().map(|i| parse_identities(&mut v, i, region));
        let addresses = patch.addresses.as_deref().map(|a| parse_addresses(&mut v, a));
        v.finish()?;
        let mut changed = Vec::new();
        if let Some(Some(name)) = name
            && name != self.name
        {
            self.name = name;
            changed.push("name".to_owned());
        }
        if let Some(registration) = registration
            && registration != self.registration
        {
            self.registration = registration;
            changed.push("registration".to_owned());
        }
        if let Some(notes) = notes
            && notes != self.notes
        {
            self.notes = notes;
            changed.push("notes".to_owned());
        }
        if let Some(identities) = identities
            && identities != self.identities
        {
            self.identities = identities;
            changed.push("identities".to_owned());
        }
        if let Some(addresses) = addresses
            && addresses != self.addresses
        {
            self.addresses = addresses;
            changed.push("addresses".to_owned());
        }
        if !changed.is_empty() {
            self.updated_at = now;
            self.version += 1;
        }
        Ok(changed)
    }
}

/// Checks a name-search query: 1 to 200 characters with at least one word.
///
/// # Errors
/// A [`FieldError`] on `q`.
pub fn check_query(q: &str) -> Result<String, FieldError> {
    let q = required_text("q", q, MAX_NAME)?;
    if words(&q).is_empty() {
        return Err(FieldError::new("q", "must hold at least one letter or digit"));
    }
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Role;
    use uuid::Uuid;

    fn actor() -> Actor {
        Actor::with_role(TenantId::from_uuid(Uuid::from_u128(1)), AgentId::from_uuid(Uuid::from_u128(2)), Role::Agent)
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default()
    }

    fn acme() -> Organisation {
        let input = NewOrganisation {
            name: "  ACME Corp ".into(),
            registration: Some("FR-123".into()),
            identities: vec![IdentityInput::Phone { number: "01 23 45 67 89".into(), label: None }],
            ..NewOrganisation::default()
        };
        input.build(OrganisationId::from_uuid(Uuid::from_u128(3)), &actor(), Region::parse("FR").ok(), now()).unwrap()
    }

    #[test]
    fn a_new_organisation_is_trimmed_and_its_phone_read_in_the_tenant_region() {
        let org = acme();
        assert_eq!((org.name(), org.registration(), org.version()), ("ACME Corp", Some("FR-123"), 1));
        assert_eq!(org.identity_keys(), vec![IdentityKey::phone_as_written("+33123456789")]);
    }

    #[test]
    fn bad_input_names_every_refused_field() {
        let input = NewOrganisation {
            name: " ".into(),
            identities: vec![IdentityInput::Email { address: "nope".into(), label: None }],
            notes: Some("x".repeat(MAX_NOTES + 1)),
            ..NewOrganisation::default()
        };
        let err = input.build(OrganisationId::from_uuid(Uuid::from_u128(3)), &actor(), None, now()).unwrap_err();
        let fields: Vec<&str> = err.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "notes", "identities[0].address"]);
    }

    #[test]
    fn a_patch_is_one_change_and_an_empty_registration_clears_it() {
        let mut org = acme();
        let patch = OrganisationPatch {
            name: Some("ACME".into()),
            registration: Some(String::new()),
            ..OrganisationPatch::default()
        };
        let changed = org.apply(&patch, None, now()).unwrap();
        assert_eq!(changed, ["name", "registration"]);
        assert_eq!((org.name(), org.registration(), org.version()), ("ACME", None, 2));
        // The same patch again changes nothing.
        assert!(org.apply(&patch, None, now()).unwrap().is_empty());
        assert_eq!(org.version(), 2);
    }

    #[test]
    fn a_refused_patch_changes_nothing() {
        let mut org = acme();
        let patch =
            OrganisationPatch { name: Some("Acme 2".into()), notes: Some("\u{7}".into()), ..Default::default() };
        assert!(org.apply(&patch, None, now()).is_err());
        assert_eq!((org.name(), org.version()), ("ACME Corp", 1));
    }

    #[test]
    fn name_search_matches_word_prefixes_without_accents() {
        assert!(Organisation::name_matches("Crédit Agricole", "agri CRED"));
        assert!(!Organisation::name_matches("Crédit Agricole", "redit"));
        assert!(!Organisation::name_matches("Crédit Agricole", " - "));
        assert!(check_query(" - ").is_err());
    }
}
