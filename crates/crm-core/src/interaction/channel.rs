//! Channels and directions (INT-1).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::FieldError;

/// The medium of an interaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// A phone call.
    Voice,
    /// An email.
    Email,
    /// A web chat.
    Chat,
    /// A text message.
    Sms,
    /// A fax.
    Fax,
    /// Facebook / Messenger.
    Facebook,
    /// X (Twitter).
    Twitter,
    /// WhatsApp.
    WhatsApp,
    /// Any other social or messaging network.
    OtherSocial,
}

impl Channel {
    /// Every channel.
    pub const ALL: &'static [Channel] = &[
        Channel::Voice,
        Channel::Email,
        Channel::Chat,
        Channel::Sms,
        Channel::Fax,
        Channel::Facebook,
        Channel::Twitter,
        Channel::WhatsApp,
        Channel::OtherSocial,
    ];

    /// Whether this is a call (INT-6 pushes calls after wrap-up, digital interactions after
    /// transfer or unassign).
    pub const fn is_call(self) -> bool {
        matches!(self, Channel::Voice)
    }

    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Channel::Voice => "voice",
            Channel::Email => "email",
            Channel::Chat => "chat",
            Channel::Sms => "sms",
            Channel::Fax => "fax",
            Channel::Facebook => "facebook",
            Channel::Twitter => "twitter",
            Channel::WhatsApp => "whats_app",
            Channel::OtherSocial => "other_social",
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Channel {
    type Err = FieldError;

    fn from_str(s: &str) -> Result<Self, FieldError> {
        Channel::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| FieldError::new("channel", format!("{s:?} is not a channel")))
    }
}

/// Who started the interaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// The customer reached the contact center.
    Inbound,
    /// The contact center reached the customer.
    Outbound,
}

impl Direction {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
    }
}
