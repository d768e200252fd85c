//! A tenant's settings (ADM-3): its default phone region and time zone, read by its agents
//! and changed by an administrator (through the API) or an operator (the CLI). A new region
//! is checked against every phone number the tenant's customers hold first.

use chrono_tz::Tz;
use serde::Deserialize;

use super::Crm;
use crate::access::{Actor, Permission, Tenant};
use crate::customer::{CustomerSearch, Identity, PhoneNumber, Region};
use crate::error::{Error, FieldError, Result, Validator};
use crate::event::EventKind;
use crate::ids::TenantId;
use crate::page::PageRequest;

/// What an administrator may change of a tenant; absent fields stay.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TenantSettingsPatch {
    /// Default phone region (ISO 3166-1 alpha-2, `US`): reads national numbers written
    /// without `+`.
    #[serde(default)]
    pub default_region: Option<String>,
    /// IANA time zone (`America/New_York`).
    #[serde(default)]
    pub time_zone: Option<String>,
    /// Public slug of the self-service search (`acme-support`: `/public/acme-support/…`),
    /// unique across tenants (KNO-1).
    #[serde(default)]
    pub slug: Option<String>,
}

/// The most phone numbers a refusal lists (it says how many there are in all).
const LISTED: usize = 20;

impl Crm {
    /// The actor's tenant (any agent of it may read it).
    ///
    /// # Errors
    /// `NotFound` when the tenant is gone.
    pub async fn tenant_settings(&self, actor: &Actor) -> Result<Tenant> {
        self.get_tenant(actor.tenant).await
    }

    /// Changes a tenant's default region, time zone and public slug. With `actor` `None` this is an
    /// operator action (the CLI); otherwise it needs `admin.tenant` and `tenant` must be the
    /// actor's. A new region is first checked against every phone number of the tenant's
    /// customers (each must still read, in E.164, as itself): when some would not, nothing
    /// changes and the error lists them.
    ///
    /// # Errors
    /// Forbidden; `NotFound`; a 422 on `default_region` (unknown, or numbers it would make
    /// invalid), `time_zone` (not an IANA zone) or `slug` (not a slug); a 409 on `slug` when
    /// another tenant has it.
    pub async fn update_tenant_settings(
        &self,
        tenant: TenantId,
        actor: Option<&Actor>,
        patch: TenantSettingsPatch,
    ) -> Result<Tenant> {
        if let Some(actor) = actor {
            actor.require(Permission::AdminTenant)?;
            if actor.tenant != tenant {
                return Err(Error::not_found("tenant", tenant));
            }
        }
        let mut v = Validator::new();
        let region = patch.default_region.as_deref().and_then(|r| v.check(Region::parse(r)));
        let zone = patch.time_zone.as_deref().and_then(|z| {
            v.check(
                z.trim()
                    .parse::<Tz>()
                    .map_err(|_| FieldError::new("time_zone", format!("{z:?} is not an IANA time zone"))),
            )
        });
        let slug = patch.slug.as_deref().and_then(|s| v.check(crate::knowledge::public::parse_slug(s)));
        v.finish()?;
        let mut updated = self.get_tenant(tenant).await?;
        let before = updated.clone();
        if slug.is_some() {
            updated.slug = slug;
        }
        if let Some(region) = region
            && region != updated.default_region
        {
            self.check_phones_under(tenant, region).await?;
            updated.default_region = region;
        }
        if let Some(zone) = zone {
            updated.time_zone = zone;
        }
        let kind = EventKind::TenantUpdated { tenant, fields: super::changed_fields(&before, &updated) };
        let event = self.admin_event(tenant, actor, kind, Some(&before), Some(&updated));
        self.store.update_tenant(&updated, &[event]).await?;
        if let Ok(mut cache) = self.tenants.write() {
            cache.insert(tenant, (updated.clone(), self.clock.now()));
        }
        Ok(updated)
    }

    /// Refuses `region` when a phone number of the tenant's customers would not read as
    /// itself under it.
    async fn check_phones_under(&self, tenant: TenantId, region: Region) -> Result<()> {
        let search = CustomerSearch::default();
        let mut page = PageRequest::new(Some(200), None).map_err(Error::from)?;
        let mut refused = Vec::new();
        loop {
            let result = self.store.search_customers(tenant, &search, &page).await?;
            for customer in &result.items {
                for identity in customer.identities() {
                    if let Identity::Phone { number, .. } = identity
                        && PhoneNumber::parse(number.as_e164(), Some(region)).ok().as_ref() != Some(number)
                    {
                        refused.push(format!("{number} (customer {})", customer.id));
                    }
                }
            }
            match result.next {
                Some(next) => page = PageRequest::new(Some(200), Some(next)).map_err(Error::from)?,
                None => break,
            }
        }
        if refused.is_empty() {
            return Ok(());
        }
        let count = refused.len();
        refused.truncate(LISTED);
        Err(FieldError::new(
            "default_region",
            format!(
                "{count} phone number(s) would not be valid under {region}, nothing was changed: {}{}",
                refused.join(", "),
                if count > LISTED { ", …" } else { "" }
            ),
        )
        .into())
    }
}
