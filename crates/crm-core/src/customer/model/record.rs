//! The way a store rebuilds a customer card: [`CustomerRecord`], plain data, and
//! [`Customer::restore`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{AccountNumber, Customer, CustomerStatus};
use crate::custom_field::CustomValues;
use crate::customer::{Identity, PostalAddress};
use crate::ids::{AgentId, CustomerId, TenantId};
use crate::interaction::Channel;

/// A customer card as a store keeps it: every field public, no rule checked. The way back
/// in is [`Customer::restore`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerRecord {
    /// Its id.
    pub id: CustomerId,
    /// Its tenant.
    pub tenant: TenantId,
    /// Account number, unique per tenant.
    pub account_number: AccountNumber,
    /// Display name.
    pub name: String,
    /// Phones, emails and handles, unique by [`crate::customer::IdentityKey`].
    pub identities: Vec<Identity>,
    /// Postal addresses.
    pub addresses: Vec<PostalAddress>,
    /// Custom field values.
    pub custom: CustomValues,
    /// Live or merged.
    pub status: CustomerStatus,
    /// Channel of the first contact, for cards opened by a new contact (CUS-6).
    pub origin_channel: Option<Channel>,
    /// Last inbound contact (CUS-8).
    pub last_contact_at: Option<DateTime<Utc>>,
    /// Inbound messages no agent has read or answered yet (CUS-8); absent in cards stored
    /// before it existed.
    #[serde(default)]
    pub unread_messages: u32,
    /// Who created it.
    pub created_by: Option<AgentId>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// Optimistic-concurrency version, 1 on creation, +1 on every write.
    pub version: u64,
}

impl From<CustomerRecord> for Customer {
    fn from(r: CustomerRecord) -> Self {
        Customer::restore(r)
    }
}

impl From<Customer> for CustomerRecord {
    fn from(c: Customer) -> Self {
        c.into_record()
    }
}

impl Customer {
    /// Rebuilds a card from storage. For stores (and tests that need a card in a given
    /// state): it trusts its input and checks no rule.
    pub fn restore(r: CustomerRecord) -> Self {
        Self {
            id: r.id,
            tenant: r.tenant,
            account_number: r.account_number,
            name: r.name,
            identities: r.identities,
            addresses: r.addresses,
            custom: r.custom,
            status: r.status,
            origin_channel: r.origin_channel,
            last_contact_at: r.last_contact_at,
            unread_messages: r.unread_messages,
            created_by: r.created_by,
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        }
    }

    /// The card as plain data.
    pub fn into_record(self) -> CustomerRecord {
        CustomerRecord {
            id: self.id,
            tenant: self.tenant,
            account_number: self.account_number,
            name: self.name,
            identities: self.identities,
            addresses: self.addresses,
            custom: self.custom,
            status: self.status,
            origin_channel: self.origin_channel,
            last_contact_at: self.last_contact_at,
            unread_messages: self.unread_messages,
            created_by: self.created_by,
            created_at: self.created_at,
            updated_at: self.updated_at,
            version: self.version,
        }
    }
}
