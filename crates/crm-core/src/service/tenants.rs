//! The operator's tenant administration (ADM-3): list, rename, suspend and resume. These
//! are operator actions (no tenant actor): the transport checks the operator credential
//! before calling them. A suspended tenant's tokens are refused
//! ([`Crm::tenant_suspension`]).

use chrono::{DateTime, Utc};

use super::Crm;
use crate::access::Tenant;
use crate::error::{Error, Result};
use crate::event::EventKind;
use crate::ids::TenantId;
use crate::text::required_text;

impl Crm {
    /// Every tenant, by name.
    ///
    /// # Errors
    /// Store failures.
    pub async fn list_tenants(&self) -> Result<Vec<Tenant>> {
        Ok(self.store.list_tenants().await?)
    }

    /// A tenant, read from the store (not the cache).
    ///
    /// # Errors
    /// `NotFound`.
    pub async fn get_tenant(&self, id: TenantId) -> Result<Tenant> {
        self.store.get_tenant(id).await?.ok_or_else(|| Error::not_found("tenant", id))
    }

    /// Renames a tenant.
    ///
    /// # Errors
    /// `NotFound`; `Validation` on `name`.
    pub async fn rename_tenant(&self, id: TenantId, name: &str) -> Result<Tenant> {
        let name = required_text("name", name, 200)?;
        self.change_tenant(id, |t| t.name = name).await
    }

    /// Suspends a tenant (every token of it is refused from then on) or resumes it; a
    /// tenant suspended already keeps its first suspension time.
    ///
    /// # Errors
    /// `NotFound`.
    pub async fn set_tenant_suspended(&self, id: TenantId, suspended: bool) -> Result<Tenant> {
        let now = self.clock.now();
        self.change_tenant(id, |t| {
            t.suspended_at = if suspended { Some(t.suspended_at.unwrap_or(now)) } else { None };
        })
        .await
    }

    async fn change_tenant(&self, id: TenantId, change: impl FnOnce(&mut Tenant)) -> Result<Tenant> {
        let mut tenant = self.get_tenant(id).await?;
        let before = tenant.clone();
        change(&mut tenant);
        let kind = EventKind::TenantUpdated { tenant: id, fields: super::changed_fields(&before, &tenant) };
        let event = self.operator_event(id, kind, Some(&before), Some(&tenant));
        self.store.update_tenant(&tenant, &[event]).await?;
        if let Ok(mut cache) = self.tenants.write() {
            cache.insert(id, (tenant.clone(), self.clock.now()));
        }
        Ok(tenant)
    }

    /// When the tenant was suspended, read from the store (`None`: active, or no such
    /// tenant: its tokens are refused otherwise).
    ///
    /// # Errors
    /// Store failures.
    pub async fn tenant_suspension(&self, id: TenantId) -> Result<Option<DateTime<Utc>>> {
        Ok(self.store.get_tenant(id).await?.and_then(|t| t.suspended_at))
    }
}
