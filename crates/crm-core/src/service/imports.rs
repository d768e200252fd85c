//! Checking a customer import before it runs (CUS-1): every row validated exactly as
//! [`Crm::create_customer`] would, without writing, so a file with bad rows can be refused
//! or trimmed before anything is created.

use chrono::{DateTime, Utc};

use super::Crm;
use crate::access::{Actor, Permission};
use crate::custom_field::{FieldDefinition, FieldEntity};
use crate::customer::{AccountNumber, CustomerContext, NewCustomer, Region};
use crate::error::Result;
use crate::ids::{CustomerId, TenantId};

/// What checking a customer import needs, read once per file.
#[derive(Clone, Debug)]
pub struct CustomerImportCheck {
    tenant: TenantId,
    region: Region,
    definitions: Vec<FieldDefinition>,
    now: DateTime<Utc>,
}

impl CustomerImportCheck {
    /// Validates one row as [`Crm::create_customer`] would (a generated account number
    /// stands in when the row has none).
    ///
    /// # Errors
    /// Every refused value, each naming its field.
    pub fn check(&self, input: &NewCustomer) -> Result<()> {
        let ctx = CustomerContext { region: Some(self.region), definitions: &self.definitions, now: self.now };
        let placeholder = Some(AccountNumber::generated(0));
        input.clone().build(CustomerId::from_uuid(uuid::Uuid::nil()), self.tenant, None, placeholder, ctx)?;
        Ok(())
    }
}

impl Crm {
    /// The context to check an import's rows with ([`CustomerImportCheck::check`]).
    ///
    /// # Errors
    /// Forbidden without `customer.edit`; store failures.
    pub async fn customer_import_check(&self, actor: &Actor) -> Result<CustomerImportCheck> {
        actor.require(Permission::CustomerEdit)?;
        let tenant = self.tenant(actor.tenant).await?;
        let definitions = self.store.field_definitions(actor.tenant, FieldEntity::Customer).await?;
        Ok(CustomerImportCheck {
            tenant: actor.tenant,
            region: tenant.default_region,
            definitions,
            now: self.clock.now(),
        })
    }

    /// Whether a customer of the actor's tenant has this account number.
    ///
    /// # Errors
    /// Forbidden without `customer.read`; store failures.
    pub async fn account_number_in_use(&self, actor: &Actor, account: &AccountNumber) -> Result<bool> {
        actor.require(Permission::CustomerRead)?;
        Ok(self.store.find_by_account(actor.tenant, account).await?.is_some())
    }
}
