//! The customer card returned by the screen pop (CUS-4), and customer search (CUS-5).

use serde::{Deserialize, Serialize};

use super::{Customer, NameKeys, Relation};
use crate::case::CaseSummary;
use crate::custom_field::FieldKey;
use crate::error::{FieldError, Validator};
use crate::interaction::InteractionSummary;
use crate::task::Task;
use crate::text::words;

/// How many open cases, pending tasks and past interactions a card carries.
pub const CARD_OPEN_CASES: u32 = 20;
/// See [`CARD_OPEN_CASES`].
pub const CARD_PENDING_TASKS: u32 = 20;
/// See [`CARD_OPEN_CASES`].
pub const CARD_LAST_INTERACTIONS: u32 = 10;

/// What the screen pop shows an agent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomerCard {
    /// The customer, with identities and contact data.
    pub customer: Customer,
    /// Open cases (every status but draft and closed), most recent first, at most 20.
    pub open_cases: Vec<CaseSummary>,
    /// Planned tasks, soonest first, at most 20.
    pub pending_tasks: Vec<Task>,
    /// Last interactions, newest first, at most 10.
    pub last_interactions: Vec<InteractionSummary>,
    /// Relations to other customers (CUS-7).
    pub relations: Vec<Relation>,
    /// The alerts the tenant's rules raise for this customer (GUI-2), most severe first:
    /// filled by the screen pop (lookup, incoming call), left out elsewhere.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alerts: Vec<crate::alert::Alert>,
}

/// What a screen pop looks up by (CUS-4).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LookupKey {
    /// A phone number in any written form.
    Phone(String),
    /// An email address.
    Email(String),
    /// An account number.
    Account(String),
    /// A case number (`CS-000123`, `123`).
    CaseNumber(String),
}

/// A customer search as a caller writes it (CUS-5). Every given criterion must match.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerQuery {
    /// Free text: a name, an email, a phone or an account number, whole or begun, with
    /// typos and by sound, ranked, when a search engine is configured (and then alone:
    /// with another criterion it is a `name`); otherwise it is read as `name`.
    #[serde(default)]
    pub q: Option<String>,
    /// Words of the name: each matches a name word by prefix or by sound.
    #[serde(default)]
    pub name: Option<String>,
    /// Digits that must appear in one of the phone numbers.
    #[serde(default)]
    pub phone: Option<String>,
    /// An email address, or its beginning.
    #[serde(default)]
    pub email: Option<String>,
    /// An exact account number.
    #[serde(default)]
    pub account_number: Option<String>,
    /// A custom field key …
    #[serde(default)]
    pub custom_key: Option<String>,
    /// … and text its value must contain.
    #[serde(default)]
    pub custom_value: Option<String>,
}

/// One word of a name search: matches a name word that starts with `prefix`, or whose
/// phonetic code is one of `phonetic`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameTerm {
    /// Folded prefix.
    pub prefix: String,
    /// Phonetic codes of the whole word.
    pub phonetic: Vec<String>,
}

/// A validated, normalised search that stores translate to their query language.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CustomerSearch {
    /// Every term must match some name word.
    pub name_terms: Vec<NameTerm>,
    /// Digits contained in some E.164 phone.
    pub phone_digits: Option<String>,
    /// Lower-case prefix of some email key.
    pub email_prefix: Option<String>,
    /// Exact account number.
    pub account_number: Option<String>,
    /// Custom key and lower-case text its value's search text contains.
    pub custom: Option<(FieldKey, String)>,
}

impl CustomerQuery {
    /// Validates and normalises. An empty query lists every customer.
    ///
    /// # Errors
    /// Every bad criterion, naming it.
    pub fn normalise(&self) -> Result<CustomerSearch, crate::error::ValidationErrors> {
        let mut v = Validator::new();
        let mut search = CustomerSearch::default();
        for (field, value) in [
            ("q", &self.q),
            ("name", &self.name),
            ("phone", &self.phone),
            ("email", &self.email),
            ("account_number", &self.account_number),
            ("custom_key", &self.custom_key),
            ("custom_value", &self.custom_value),
        ] {
            if let Some(text) = value.as_deref() {
                v.check(crate::text::bounded_text(field, text, 254));
            }
        }
        if let Some(name) = self.name.as_deref().or(self.q.as_deref()) {
            search.name_terms = words(name)
                .into_iter()
                .take(8)
                .map(|w| NameTerm { phonetic: NameKeys::of(&w).phonetic, prefix: w })
                .collect();
        }
        if let Some(phone) = self.phone.as_deref() {
            let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
            if digits.len() < 3 {
                v.push(FieldError::new("phone", "give at least 3 digits"));
            } else {
                search.phone_digits = Some(digits);
            }
        }
        if let Some(email) = self.email.as_deref() {
            let e = email.trim().to_lowercase();
            if e.is_empty() || e.len() > 254 {
                v.push(FieldError::new("email", "must be 1 to 254 characters"));
            } else {
                search.email_prefix = Some(e);
            }
        }
        search.account_number = self.account_number.as_deref().map(|a| a.trim().to_owned()).filter(|a| !a.is_empty());
        match (self.custom_key.as_deref(), self.custom_value.as_deref()) {
            (None, None) => {}
            (Some(k), Some(val)) => {
                if let Some(key) = v.check(FieldKey::parse(k).map_err(|e| FieldError::new("custom_key", e.reason))) {
                    search.custom = Some((key, val.trim().to_lowercase()));
                }
            }
            _ => v.push(FieldError::new("custom_value", "custom_key and custom_value go together")),
        }
        v.finish()?;
        Ok(search)
    }
}

impl CustomerSearch {
    /// Whether `customer` matches; the reference semantics every store implements.
    pub fn matches(&self, customer: &Customer) -> bool {
        let keys = customer.name_keys();
        let name_ok = self.name_terms.iter().all(|t| {
            keys.words.iter().any(|w| w.starts_with(&t.prefix)) || t.phonetic.iter().any(|c| keys.phonetic.contains(c))
        });
        let phone_ok = self
            .phone_digits
            .as_deref()
            .is_none_or(|d| customer.identities().iter().filter_map(|i| i.phone()).any(|p| p.as_e164().contains(d)));
        let email_ok = self
            .email_prefix
            .as_deref()
            .is_none_or(|e| customer.identities().iter().filter_map(|i| i.email()).any(|a| a.key().starts_with(e)));
        let account_ok = self.account_number.as_deref().is_none_or(|a| customer.account_number().as_str() == a);
        let custom_ok = self
            .custom
            .as_ref()
            .is_none_or(|(k, text)| customer.custom().get(k).is_some_and(|v| v.search_text().contains(text.as_str())));
        name_ok && phone_ok && email_ok && account_ok && custom_ok
    }
}
