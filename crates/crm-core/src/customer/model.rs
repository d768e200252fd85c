//! The customer aggregate (CUS-1) and the commands that create and edit it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Identity, IdentityInput, IdentityKey, PostalAddress, Region};
use crate::access::Actor;
use crate::custom_field::{Completeness, CustomValues, FieldDefinition, apply_custom_values};
use crate::error::{FieldError, ValidationErrors, Validator};
use crate::ids::{AgentId, CustomerId, MergeId, TenantId};
use crate::interaction::Channel;
use crate::text::{phonetic_codes, required_text, words};

mod record;

pub use record::CustomerRecord;

/// The most identities one card may hold.
pub const MAX_IDENTITIES: usize = 50;

/// An account number, unique per tenant: 1 to 40 letters, digits, `-`, `_` or `.`.
/// Generated (`AC-000042`) when the caller gives none.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AccountNumber(String);

impl AccountNumber {
    /// Parses a caller-given account number (trimmed; case kept).
    ///
    /// # Errors
    /// A [`FieldError`] on `account_number`.
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let t = input.trim();
        let ok = !t.is_empty()
            && t.len() <= 40
            && t.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if ok {
            Ok(Self(t.to_owned()))
        } else {
            Err(FieldError::new("account_number", "must be 1 to 40 letters, digits, '-', '_' or '.'"))
        }
    }

    /// The generated account number for a tenant sequence value (`AC-000042`).
    pub fn generated(sequence: u64) -> Self {
        Self(format!("AC-{sequence:06}"))
    }

    /// The sequence value whose generated number this is (`AC-000042` → 42), when written
    /// exactly as [`AccountNumber::generated`] writes it: a number given by hand or imported
    /// in that form pushes the tenant's sequence past it (no generated number collides).
    /// ```
    /// use crm_core::customer::AccountNumber;
    /// let seq = |a: &str| AccountNumber::parse(a).unwrap().generated_sequence();
    /// assert_eq!((seq("AC-000006"), seq("AC-1234567")), (Some(6), Some(1_234_567)));
    /// assert_eq!((seq("AC-6"), seq("ac-000006")), (None, None));
    /// ```
    pub fn generated_sequence(&self) -> Option<u64> {
        let digits = self.0.strip_prefix("AC-")?;
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let sequence: u64 = digits.parse().ok()?;
        (Self::generated(sequence) == *self).then_some(sequence)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for AccountNumber {
    type Error = FieldError;

    fn try_from(s: String) -> Result<Self, FieldError> {
        Self::parse(&s)
    }
}

impl From<AccountNumber> for String {
    fn from(a: AccountNumber) -> String {
        a.0
    }
}

impl fmt::Display for AccountNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether a card is live or was merged into another (CUS-6).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum CustomerStatus {
    /// A live card.
    Active,
    /// A tombstone: this card was merged into `into`.
    Merged {
        /// The surviving card.
        into: CustomerId,
        /// The merge that did it.
        merge: MergeId,
    },
}

/// A customer card.
///
/// The facts fixed at creation (id, tenant, origin, creator, creation time) are public;
/// everything else is private and changes only through the methods below, the patch and
/// the merge plan, which keep its invariants (a non-empty name, identities unique by key,
/// custom values valid for their definitions) and bump the version once per change.
/// Stores rebuild it with [`Customer::restore`] (serde does too).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(from = "CustomerRecord")]
pub struct Customer {
    /// Its id.
    pub id: CustomerId,
    /// Its tenant.
    pub tenant: TenantId,
    /// Account number, unique per tenant.
    account_number: AccountNumber,
    /// Display name.
    name: String,
    /// Phones, emails and handles, unique by [`IdentityKey`].
    identities: Vec<Identity>,
    /// Postal addresses.
    addresses: Vec<PostalAddress>,
    /// Custom field values.
    custom: CustomValues,
    /// Live or merged.
    status: CustomerStatus,
    /// Channel of the first contact, for cards opened by a new contact (CUS-6).
    pub origin_channel: Option<Channel>,
    /// Last inbound contact (CUS-8).
    last_contact_at: Option<DateTime<Utc>>,
    /// Inbound messages no agent has read or answered yet (CUS-8).
    unread_messages: u32,
    /// Who created it.
    pub created_by: Option<AgentId>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    updated_at: DateTime<Utc>,
    /// Optimistic-concurrency version, 1 on creation, +1 on every write.
    version: u64,
}

/// The keys a store indexes to search customers by name (CUS-5): folded words and their
/// phonetic codes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NameKeys {
    /// Lower-case, accent-free words of the name.
    pub words: Vec<String>,
    /// Double Metaphone codes of those words.
    pub phonetic: Vec<String>,
}

impl NameKeys {
    /// The keys of a name.
    pub fn of(name: &str) -> Self {
        let words = words(name);
        let phonetic: BTreeSet<String> = words.iter().flat_map(|w| phonetic_codes(w)).collect();
        Self { words, phonetic: phonetic.into_iter().collect() }
    }
}

impl Customer {
    /// A card opened by `actor` for an inbound contact from an unknown address (CUS-6):
    /// named after the contact, holding the identity it came from, last contacted `now`.
    pub fn first_contact(
        id: CustomerId,
        actor: &Actor,
        account_number: AccountNumber,
        name: String,
        identity: Identity,
        channel: Channel,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id,
            tenant: actor.tenant,
            account_number,
            name,
            identities: vec![identity],
            addresses: Vec::new(),
            custom: CustomValues::new(),
            status: CustomerStatus::Active,
            origin_channel: Some(channel),
            last_contact_at: Some(now),
            unread_messages: 0,
            created_by: Some(actor.agent),
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    /// Account number, unique per tenant.
    pub fn account_number(&self) -> &AccountNumber {
        &self.account_number
    }

    /// Display name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Phones, emails and handles, unique by [`IdentityKey`].
    pub fn identities(&self) -> &[Identity] {
        &self.identities
    }

    /// Postal addresses.
    pub fn addresses(&self) -> &[PostalAddress] {
        &self.addresses
    }

    /// Custom field values.
    pub fn custom(&self) -> &CustomValues {
        &self.custom
    }

    /// Live or merged.
    pub fn status(&self) -> &CustomerStatus {
        &self.status
    }

    /// Last inbound contact (CUS-8).
    pub fn last_contact_at(&self) -> Option<DateTime<Utc>> {
        self.last_contact_at
    }

    /// When it last changed.
    pub fn updated_at(&self) -> DateTime<Utc> {
        self.updated_at
    }

    /// Optimistic-concurrency version, 1 on creation, +1 on every write.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The one place the version moves: one change, one version, changed `now`.
    fn touch(&mut self, now: DateTime<Utc>) {
        self.updated_at = now;
        self.version += 1;
    }

    /// The surviving card of a merge (CUS-6), as one change: `name` and `custom` as the
    /// merge settled them, the source's identities and addresses added without repeats,
    /// the later last contact kept.
    pub(super) fn absorb(&mut self, source: &Customer, name: String, custom: CustomValues, now: DateTime<Utc>) {
        self.name = name;
        let keys: BTreeSet<IdentityKey> = self.identity_keys().into_iter().collect();
        self.identities.extend(source.identities.iter().filter(|i| !keys.contains(&i.key())).cloned());
        for address in &source.addresses {
            if !self.addresses.contains(address) {
                self.addresses.push(address.clone());
            }
        }
        self.custom = custom;
        self.last_contact_at = self.last_contact_at.max(source.last_contact_at);
        self.unread_messages = self.unread_messages.saturating_add(source.unread_messages);
        self.touch(now);
    }

    /// The merged-away card of a merge (CUS-6), as one change: a tombstone pointing at
    /// `into`, its identities released.
    pub(super) fn bury(&mut self, into: CustomerId, merge: MergeId, now: DateTime<Utc>) {
        self.status = CustomerStatus::Merged { into, merge };
        self.identities.clear();
        self.touch(now);
    }

    /// A card as it was before a merge, written over its current state `current_version`
    /// (the undo of a merge, CUS-6): the next version after that.
    pub(super) fn reinstated(&self, current_version: u64, now: DateTime<Utc>) -> Self {
        let mut card = Self { version: current_version, ..self.clone() };
        card.touch(now);
        card
    }

    /// Whether this card is a tombstone.
    pub fn is_merged(&self) -> bool {
        matches!(self.status, CustomerStatus::Merged { .. })
    }

    /// The keys of every identity.
    pub fn identity_keys(&self) -> Vec<IdentityKey> {
        self.identities.iter().map(Identity::key).collect()
    }

    /// The name as searches sort it: folded words joined by single spaces
    /// (`"Zoë  D'Arcy"` → `"zoe d arcy"`). Stores order customer searches by it, then id.
    pub fn folded_name(&self) -> String {
        crate::text::words(&self.name).join(" ")
    }

    /// Name search keys (CUS-5).
    pub fn name_keys(&self) -> NameKeys {
        NameKeys::of(&self.name)
    }

    /// Records an inbound contact on `channel` from `identity` (CUS-8): bumps the last
    /// contact time and adds the identity when the card does not hold it yet. Returns
    /// whether the card changed (then it is one change, at `at`: the next version).
    pub fn record_contact(&mut self, identity: Option<Identity>, at: DateTime<Utc>) -> bool {
        let mut changed = false;
        if self.last_contact_at.is_none_or(|t| t < at) {
            self.last_contact_at = Some(at);
            changed = true;
        }
        if let Some(identity) = identity {
            let key = identity.key();
            if self.identities.len() < MAX_IDENTITIES && !self.identities.iter().any(|i| i.key() == key) {
                self.identities.push(identity);
                changed = true;
            }
        }
        if changed {
            self.touch(at);
        }
        changed
    }

    /// Inbound messages no agent has read or answered yet (CUS-8).
    pub fn unread_messages(&self) -> u32 {
        self.unread_messages
    }

    /// Records an inbound message on `channel` from `identity` (CUS-8): the contact as
    /// [`Customer::record_contact`] records it, and one more unread message. Always one
    /// change, at `at`: the next version.
    pub fn record_message(&mut self, identity: Option<Identity>, at: DateTime<Utc>) {
        self.unread_messages = self.unread_messages.saturating_add(1);
        if !self.record_contact(identity, at) {
            self.touch(at);
        }
    }

    /// An agent read or answered the messages (CUS-8): none unread. Returns whether the card
    /// changed (then it is one change, at `at`: the next version).
    pub fn mark_messages_read(&mut self, at: DateTime<Utc>) -> bool {
        if self.unread_messages == 0 {
            return false;
        }
        self.unread_messages = 0;
        self.touch(at);
        true
    }

    /// The field values history and events describe (`name`, `account_number`, …).
    pub fn summary_json(&self) -> Value {
        serde_json::json!({
            "id": self.id,
            "account_number": self.account_number,
            "name": self.name,
        })
    }
}

/// What a caller sends to create a customer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewCustomer {
    /// Account number; generated when absent.
    #[serde(default)]
    pub account_number: Option<String>,
    /// Display name.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::required_text))]
    pub name: String,
    /// Identities.
    #[serde(default)]
    pub identities: Vec<IdentityInput>,
    /// Addresses.
    #[serde(default)]
    pub addresses: Vec<PostalAddress>,
    /// Custom values by key.
    #[serde(default)]
    pub custom: BTreeMap<String, Value>,
    /// Channel of the first contact.
    #[serde(default)]
    pub origin_channel: Option<Channel>,
}

/// What a caller sends to change a customer. Absent fields stay; lists replace the whole
/// list; custom values merge (`null` removes one).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CustomerPatch {
    /// New account number.
    #[serde(default)]
    pub account_number: Option<String>,
    /// New name.
    #[serde(default)]
    pub name: Option<String>,
    /// New identity list.
    #[serde(default)]
    pub identities: Option<Vec<IdentityInput>>,
    /// New address list.
    #[serde(default)]
    pub addresses: Option<Vec<PostalAddress>>,
    /// Custom values to set (`null` removes).
    #[serde(default)]
    pub custom: BTreeMap<String, Value>,
}

/// Validated parts shared by create and patch.
pub(crate) fn parse_identities(v: &mut Validator, inputs: &[IdentityInput], region: Option<Region>) -> Vec<Identity> {
    if inputs.len() > MAX_IDENTITIES {
        v.push(FieldError::new("identities", format!("at most {MAX_IDENTITIES} identities")));
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(inputs.len());
    for (i, input) in inputs.iter().enumerate() {
        let prefix = format!("identities[{i}]");
        match input.parse(region) {
            Ok(identity) => {
                if seen.insert(identity.key()) {
                    out.push(identity);
                } else {
                    v.push(FieldError::new(prefix, "repeats an identity given earlier"));
                }
            }
            Err(e) => v.push(e.within(&prefix)),
        }
    }
    out
}

pub(crate) fn parse_addresses(v: &mut Validator, inputs: &[PostalAddress]) -> Vec<PostalAddress> {
    if inputs.len() > 10 {
        v.push(FieldError::new("addresses", "at most 10 addresses"));
    }
    inputs
        .iter()
        .enumerate()
        .filter_map(|(i, a)| match a.clone().validate() {
            Ok(a) => Some(a),
            Err(errors) => {
                v.extend(errors.into_iter().map(|e| e.within(&format!("addresses[{i}]"))));
                None
            }
        })
        .collect()
}

/// Everything a new customer needs besides the caller's input.
#[derive(Clone, Copy, Debug)]
pub struct CustomerContext<'a> {
    /// The tenant's phone region.
    pub region: Option<Region>,
    /// The customer custom field definitions.
    pub definitions: &'a [FieldDefinition],
    /// Now.
    pub now: DateTime<Utc>,
}

impl NewCustomer {
    /// Validates the input into a customer. `generated_account` is used when no account
    /// number was given; without either, `account_number` is refused as missing.
    ///
    /// # Errors
    /// Every refused value, each naming its field.
    pub fn build(
        self,
        id: CustomerId,
        tenant: TenantId,
        created_by: Option<AgentId>,
        generated_account: Option<AccountNumber>,
        ctx: CustomerContext<'_>,
    ) -> Result<Customer, ValidationErrors> {
        let mut v = Validator::new();
        let name = v.check(required_text("name", &self.name, 200));
        let account = match self.account_number.as_deref() {
            Some(a) => v.check(AccountNumber::parse(a)),
            None if generated_account.is_none() => {
                v.push(FieldError::new("account_number", "must be given"));
                None
            }
            None => generated_account,
        };
        let identities = parse_identities(&mut v, &self.identities, ctx.region);
        let addresses = parse_addresses(&mut v, &self.addresses);
        let custom = match apply_custom_values(
            ctx.definitions,
            &CustomValues::new(),
            &self.custom,
            true,
            Completeness::Complete,
            ctx.region,
        ) {
            Ok(c) => c,
            Err(e) => {
                v.extend(e.errors().iter().cloned());
                CustomValues::new()
            }
        };
        v.finish()?;
        let Some(account_number) = account else {
            return Err(FieldError::new("account_number", "must be given").into());
        };
        Ok(Customer {
            id,
            tenant,
            account_number,
            name: name.unwrap_or_default(),
            identities,
            addresses,
            custom,
            status: CustomerStatus::Active,
            origin_channel: self.origin_channel,
            last_contact_at: None,
            unread_messages: 0,
            created_by,
            created_at: ctx.now,
            updated_at: ctx.now,
            version: 1,
        })
    }
}

impl CustomerPatch {
    /// Applies the patch to `customer`, returning the changed fields' names (empty when
    /// nothing changed). A patch that changes anything is one change: the next version.
    ///
    /// # Errors
    /// Every refused value, each naming its field; `customer` is untouched then.
    pub fn apply(
        &self,
        customer: &mut Customer,
        ctx: CustomerContext<'_>,
    ) -> Result<Vec<&'static str>, ValidationErrors> {
        let mut v = Validator::new();
        let name = self.name.as_deref().and_then(|n| v.check(required_text("name", n, 200)));
        let account = self.account_number.as_deref().and_then(|a| v.check(AccountNumber::parse(a)));
        let identities = self.identities.as_deref().map(|i| parse_identities(&mut v, i, ctx.region));
        let addresses = self.addresses.as_deref().map(|a| parse_addresses(&mut v, a));
        let custom = match apply_custom_values(
            ctx.definitions,
            &customer.custom,
            &self.custom,
            false,
            Completeness::Complete,
            ctx.region,
        ) {
            Ok(c) => Some(c),
            Err(e) => {
                v.extend(e.errors().iter().cloned());
                None
            }
        };
        v.finish()?;
        let mut changed = Vec::new();
        if let Some(name) = name.filter(|n| *n != customer.name) {
            customer.name = name;
            changed.push("name");
        }
        if let Some(account) = account.filter(|a| *a != customer.account_number) {
            customer.account_number = account;
            changed.push("account_number");
        }
        if let Some(identities) = identities.filter(|i| *i != customer.identities) {
            customer.identities = identities;
            changed.push("identities");
        }
        if let Some(addresses) = addresses.filter(|a| *a != customer.addresses) {
            customer.addresses = addresses;
            changed.push("addresses");
        }
        if let Some(custom) = custom.filter(|c| *c != customer.custom) {
            customer.custom = custom;
            changed.push("custom");
        }
        if !changed.is_empty() {
            customer.touch(ctx.now);
        }
        Ok(changed)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};
    use uuid::Uuid;

    use super::*;
    use crate::access::Role;
    use crate::customer::EmailAddress;

    fn email(address: &str) -> Identity {
        Identity::Email { address: EmailAddress::parse(address).unwrap(), label: None }
    }

    #[test]
    fn a_recorded_contact_is_one_version_and_a_stale_one_none() {
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap();
        let actor = Actor::with_role(
            TenantId::from_uuid(Uuid::from_u128(1)),
            AgentId::from_uuid(Uuid::from_u128(2)),
            Role::Agent,
        );
        let id = CustomerId::from_uuid(Uuid::from_u128(3));
        let mut card = Customer::first_contact(
            id,
            &actor,
            AccountNumber::generated(1),
            "Jeanne".into(),
            email("j@example.org"),
            Channel::Email,
            now,
        );
        assert_eq!((card.version(), card.last_contact_at()), (1, Some(now)));
        let later = now + Duration::minutes(5);
        assert!(card.record_contact(Some(email("jeanne@example.org")), later));
        assert_eq!((card.version(), card.updated_at(), card.identities().len()), (2, later, 2));
        assert!(!card.record_contact(Some(email("j@example.org")), now), "an older contact with a known identity");
        assert_eq!(card.version(), 2);

        // Messages: each one counts and is one version, even an older one; reading resets.
        card.record_message(None, now);
        card.record_message(Some(email("j2@example.org")), later + Duration::minutes(1));
        assert_eq!((card.unread_messages(), card.version(), card.identities().len()), (2, 4, 3));
        assert!(card.mark_messages_read(later));
        assert!(!card.mark_messages_read(later), "nothing unread, no change");
        assert_eq!((card.unread_messages(), card.version()), (0, 5));
    }
}
