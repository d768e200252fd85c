//! Identities: the ways a customer can be reached and recognised (CUS-3, CUS-6). Each has a
//! normalised [`IdentityKey`] used for matching and lookups.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{EmailAddress, PhoneNumber, Region};
use crate::error::FieldError;
use crate::interaction::Channel;
use crate::text::{bounded_text, required_text};

/// One way to reach a customer.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Identity {
    /// A phone number (E.164).
    Phone {
        /// The number.
        number: PhoneNumber,
        /// A label such as `mobile`, `home`, `work`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        label: Option<String>,
    },
    /// An email address.
    Email {
        /// The address.
        address: EmailAddress,
        /// A label such as `work`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        label: Option<String>,
    },
    /// A handle on a chat or social channel (a WhatsApp number, an X handle …).
    Handle {
        /// The channel.
        channel: Channel,
        /// The handle as the channel gives it.
        handle: String,
        /// A label.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        label: Option<String>,
    },
}

impl Identity {
    /// The normalised key that lookups and duplicate detection match on.
    pub fn key(&self) -> IdentityKey {
        match self {
            Identity::Phone { number, .. } => IdentityKey::phone(number),
            Identity::Email { address, .. } => IdentityKey::email(address),
            Identity::Handle { channel, handle, .. } => {
                IdentityKey(format!("handle:{channel}:{}", handle.to_lowercase()))
            }
        }
    }

    /// The phone number, when this is one.
    pub fn phone(&self) -> Option<&PhoneNumber> {
        match self {
            Identity::Phone { number, .. } => Some(number),
            _ => None,
        }
    }

    /// The email address, when this is one.
    pub fn email(&self) -> Option<&EmailAddress> {
        match self {
            Identity::Email { address, .. } => Some(address),
            _ => None,
        }
    }
}

/// A normalised identity: `phone:+33123456789`, `email:jane@example.com`,
/// `handle:whats_app:+33612345678`. Equal keys mean the same contact point.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IdentityKey(String);

impl IdentityKey {
    /// The key of a phone number.
    pub fn phone(number: &PhoneNumber) -> Self {
        Self::phone_as_written(number.as_e164())
    }

    /// The key a phone number written in E.164 would have if it is a valid number
    /// ([`PhoneNumber::is_e164_shaped`] text, not checked against the numbering plan).
    /// For lookups only: a stored key that equals it proves the number valid, and its
    /// [`PhoneNumber::parse`] would give the same key.
    pub(crate) fn phone_as_written(e164: &str) -> Self {
        Self(format!("phone:{e164}"))
    }

    /// The key of an email address.
    pub fn email(address: &EmailAddress) -> Self {
        Self(format!("email:{}", address.key()))
    }

    /// The key text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Rebuilds a stored key (adapters only; the text is trusted).
    pub fn from_stored(text: String) -> Self {
        Self(text)
    }
}

impl fmt::Display for IdentityKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An identity as a caller writes it, before normalisation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum IdentityInput {
    /// A phone number in any common written form.
    Phone {
        /// The number.
        number: String,
        /// Label.
        #[serde(default)]
        label: Option<String>,
    },
    /// An email address.
    Email {
        /// The address.
        #[cfg_attr(feature = "openapi", schema(format = Email))]
        address: String,
        /// Label.
        #[serde(default)]
        label: Option<String>,
    },
    /// A chat or social handle.
    Handle {
        /// The channel.
        channel: Channel,
        /// The handle.
        #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::required_text))]
        handle: String,
        /// Label.
        #[serde(default)]
        label: Option<String>,
    },
}

impl IdentityInput {
    /// Parses and normalises; errors name the sub-field (`number`, `address`, `handle`).
    ///
    /// # Errors
    /// When the value cannot be parsed.
    pub fn parse(&self, region: Option<Region>) -> Result<Identity, FieldError> {
        let label = |l: &Option<String>| -> Result<Option<String>, FieldError> {
            l.as_deref().map(|l| bounded_text("label", l.trim(), 40)).transpose()
        };
        Ok(match self {
            IdentityInput::Phone { number, label: l } => Identity::Phone {
                number: PhoneNumber::parse(number, region).map_err(|e| FieldError::new("number", e.reason))?,
                label: label(l)?,
            },
            IdentityInput::Email { address, label: l } => Identity::Email {
                address: EmailAddress::parse(address).map_err(|e| FieldError::new("address", e.reason))?,
                label: label(l)?,
            },
            IdentityInput::Handle { channel, handle, label: l } => {
                Identity::Handle { channel: *channel, handle: required_text("handle", handle, 200)?, label: label(l)? }
            }
        })
    }
}
