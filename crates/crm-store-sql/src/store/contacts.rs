//! `ContactStore`: organisations, memberships and leads (issue 27, INT-7), in the tables of
//! migration `m0027` ([`Contacts`]). Each record is its row's `doc`; the columns are what it
//! is found by: an organisation's folded name (name search, in name order) and its identity
//! keys (`organisation_identities`, the organisation lookup, like the customers' side
//! table), a customer's one membership (`organisation_members`, keyed by the customer), a
//! lead's status and creation time. The customer screen pop's statement does not read any
//! of them (ADR 0031).

use async_trait::async_trait;
use sea_orm::{ConnectionTrait, DbErr, Value};
use sea_orm_migration::{MigrationName, MigrationTrait, SchemaManager};

use crm_core::StoreError;
use crm_core::customer::{Customer, IdentityKey};
use crm_core::error::Conflict;
use crm_core::event::DomainEvent;
use crm_core::ids::{CustomerId, LeadId, OrganisationId, TenantId};
use crm_core::interaction::Interaction;
use crm_core::lead::{Lead, LeadStatus};
use crm_core::organisation::Organisation;
use crm_core::page::{Cursor, Page, PageRequest};
use crm_core::ports::{ContactStore, StoreResult};

use super::customer::insert_customer_in;
use super::interaction::replace_interaction;
use super::paging::{decode_cursor, paginate};
use super::{exists, stale_or_missing, write_events};
use crate::connect::{SqlStore, finish};
use crate::error::{db, map_db};
use crate::migration::statements;
use crate::sql::{all, col, exec, from_doc, int, like_escape, limit, one, text, to_doc, ts, uid};

/// `m0027`: organisations with their identity keys, customers' memberships, and leads.
pub(crate) struct Contacts;

impl MigrationName for Contacts {
    fn name(&self) -> &str {
        "m0027_organisations_and_leads"
    }
}

/// The DDL of `m0027`, both backends.
const CONTACTS: &str = "
CREATE TABLE organisations (
    id {uuid} NOT NULL,
    tenant_id {uuid} NOT NULL,
    name_folded {text} NOT NULL,
    version BIGINT NOT NULL,
    doc TEXT NOT NULL,
    CONSTRAINT organisations_pkey PRIMARY KEY (id)
);
CREATE INDEX organisations_by_name ON organisations (tenant_id, name_folded, id);
CREATE TABLE organisation_identities (
    tenant_id {uuid} NOT NULL,
    key {text} NOT NULL,
    organisation_id {uuid} NOT NULL,
    CONSTRAINT organisation_identities_lookup PRIMARY KEY (tenant_id, key, organisation_id),
    CONSTRAINT organisation_identities_organisation_fk FOREIGN KEY (organisation_id)
        REFERENCES organisations (id) ON DELETE CASCADE
){without_rowid};
CREATE INDEX organisation_identities_by_organisation ON organisation_identities (organisation_id);
CREATE TABLE organisation_members (
    customer_id {uuid} NOT NULL,
    tenant_id {uuid} NOT NULL,
    organisation_id {uuid} NOT NULL,
    CONSTRAINT organisation_members_pkey PRIMARY KEY (customer_id),
    CONSTRAINT organisation_members_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE,
    CONSTRAINT organisation_members_organisation_fk FOREIGN KEY (organisation_id) REFERENCES organisations (id)
);
CREATE INDEX organisation_members_by_organisation ON organisation_members (organisation_id, customer_id);
CREATE TABLE leads (
    id {uuid} NOT NULL,
    tenant_id {uuid} NOT NULL,
    status {text} NOT NULL,
    created_at BIGINT NOT NULL,
    version BIGINT NOT NULL,
    doc TEXT NOT NULL,
    CONSTRAINT leads_pkey PRIMARY KEY (id)
);
CREATE INDEX leads_by_created ON leads (tenant_id, created_at, id);
CREATE INDEX leads_by_status ON leads (tenant_id, status, created_at, id)";

#[async_trait::async_trait]
impl MigrationTrait for Contacts {
    /// In one transaction on every backend: the tables and their indexes land together.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    #[allow(elided_lifetimes_in_paths)] // the trait's own signature
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        for statement in statements(CONTACTS, conn.get_database_backend()) {
            conn.execute_unprepared(&statement).await?;
        }
        Ok(())
    }
}

/// Writes an organisation's identity keys (after deleting the old ones).
async fn write_identities<C: ConnectionTrait>(c: &C, org: &Organisation) -> StoreResult<()> {
    exec(c, "DELETE FROM organisation_identities WHERE organisation_id = ?", vec![uid(org.id)]).await.map_err(db)?;
    for key in org.identity_keys() {
        exec(
            c,
            "INSERT INTO organisation_identities (tenant_id, key, organisation_id) VALUES (?, ?, ?)",
            vec![uid(org.tenant), text(key.as_str()), uid(org.id)],
        )
        .await
        .map_err(db)?;
    }
    Ok(())
}

/// Inserts a lead row, refusing a taken id.
async fn insert_lead_in<C: ConnectionTrait>(c: &C, lead: &Lead) -> StoreResult<()> {
    if one(c, "SELECT 1 AS one FROM leads WHERE id = ?", vec![uid(lead.id)]).await.map_err(db)?.is_some() {
        return Err(StoreError::duplicate("id", lead.id.to_string()));
    }
    exec(
        c,
        "INSERT INTO leads (id, tenant_id, status, created_at, version, doc) VALUES (?, ?, ?, ?, ?, ?)",
        vec![
            uid(lead.id),
            uid(lead.tenant),
            text(lead.status().as_str()),
            Value::BigInt(Some(ts(lead.created_at))),
            int(lead.version()),
            text(to_doc(lead)?),
        ],
    )
    .await
    .map_err(db)?;
    Ok(())
}

/// Replaces a lead row stored at `expected`.
async fn replace_lead<C: ConnectionTrait>(c: &C, lead: &Lead, expected: u64) -> StoreResult<()> {
    let touched = exec(
        c,
        "UPDATE leads SET status = ?, version = ?, doc = ? WHERE id = ? AND tenant_id = ? AND version = ?",
        vec![
            text(lead.status().as_str()),
            int(lead.version()),
            text(to_doc(lead)?),
            uid(lead.id),
            uid(lead.tenant),
            int(expected),
        ],
    )
    .await
    .map_err(db)?;
    if touched == 0 {
        return Err(stale_or_missing(c, "leads", "lead", lead.tenant.as_uuid(), lead.id.as_uuid(), expected).await);
    }
    Ok(())
}

/// Replaces an interaction of `tenant` (a record claiming another tenant is absent).
async fn replace_interaction_of<C: ConnectionTrait>(
    c: &C,
    tenant: TenantId,
    interaction: &Interaction,
    expected: u64,
) -> StoreResult<()> {
    if interaction.tenant != tenant {
        return Err(StoreError::not_found("interaction", interaction.id));
    }
    replace_interaction(c, interaction, expected).await
}

#[async_trait]
impl ContactStore for SqlStore {
    async fn insert_organisation(&self, org: &Organisation, events: &[DomainEvent]) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            if one(&tx, "SELECT 1 AS one FROM organisations WHERE id = ?", vec![uid(org.id)])
                .await
                .map_err(db)?
                .is_some()
            {
                return Err(StoreError::duplicate("id", org.id.to_string()));
            }
            exec(
                &tx,
                "INSERT INTO organisations (id, tenant_id, name_folded, version, doc) VALUES (?, ?, ?, ?, ?)",
                vec![uid(org.id), uid(org.tenant), text(org.folded_name()), int(org.version()), text(to_doc(org)?)],
            )
            .await
            .map_err(db)?;
            write_identities(&tx, org).await?;
            write_events(&tx, events).await
        }
        .await;
        finish(tx, result).await
    }

    async fn update_organisation(
        &self,
        org: &Organisation,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            let touched = exec(
                &tx,
                "UPDATE organisations SET name_folded = ?, version = ?, doc = ? \
                 WHERE id = ? AND tenant_id = ? AND version = ?",
                vec![
                    text(org.folded_name()),
                    int(org.version()),
                    text(to_doc(org)?),
                    uid(org.id),
                    uid(org.tenant),
                    int(expected_version),
                ],
            )
            .await
            .map_err(db)?;
            if touched == 0 {
                let (tenant, id) = (org.tenant.as_uuid(), org.id.as_uuid());
                return Err(stale_or_missing(&tx, "organisations", "organisation", tenant, id, expected_version).await);
            }
            write_identities(&tx, org).await?;
            write_events(&tx, events).await
        }
        .await;
        finish(tx, result).await
    }

    async fn delete_organisation(
        &self,
        tenant: TenantId,
        id: OrganisationId,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            let row = one(
                &tx,
                "SELECT version FROM organisations WHERE id = ? AND tenant_id = ?",
                vec![uid(id), uid(tenant)],
            )
            .await
            .map_err(db)?;
            let Some(row) = row else { return Err(StoreError::not_found("organisation", id)) };
            let stored: i64 = col(&row, "version")?;
            if u64::try_from(stored).ok() != Some(expected_version) {
                return Err(StoreError::stale("organisation", id, expected_version));
            }
            let members =
                one(&tx, "SELECT 1 AS one FROM organisation_members WHERE organisation_id = ? LIMIT 1", vec![uid(id)])
                    .await
                    .map_err(db)?;
            if members.is_some() {
                return Err(Conflict::State("the organisation still has members".into()).into());
            }
            exec(&tx, "DELETE FROM organisations WHERE id = ? AND tenant_id = ?", vec![uid(id), uid(tenant)])
                .await
                .map_err(db)?;
            write_events(&tx, events).await
        }
        .await;
        finish(tx, result).await
    }

    async fn get_organisation(&self, tenant: TenantId, id: OrganisationId) -> StoreResult<Option<Organisation>> {
        let row =
            one(&self.read, "SELECT doc FROM organisations WHERE id = ? AND tenant_id = ?", vec![uid(id), uid(tenant)])
                .await
                .map_err(db)?;
        row.as_ref().map(from_doc).transpose()
    }

    async fn organisations_by_identity(
        &self,
        tenant: TenantId,
        key: &IdentityKey,
        max: u32,
    ) -> StoreResult<Vec<Organisation>> {
        let sql = format!(
            "SELECT o.doc FROM organisation_identities i JOIN organisations o ON o.id = i.organisation_id \
             WHERE i.tenant_id = ? AND i.key = ? AND o.tenant_id = ? ORDER BY o.id{}",
            limit(max.into())
        );
        let rows = all(&self.read, &sql, vec![uid(tenant), text(key.as_str()), uid(tenant)]).await.map_err(db)?;
        rows.iter().map(from_doc).collect()
    }

    async fn list_organisations(
        &self,
        tenant: TenantId,
        query: Option<String>,
        page: &PageRequest,
    ) -> StoreResult<Page<Organisation>> {
        let mut sql = String::from("SELECT name_folded, id, doc FROM organisations WHERE tenant_id = ?");
        let mut values = vec![uid(tenant)];
        // Every word of the query starts a word of the name (`Organisation::name_matches`).
        for word in query.as_deref().map(crm_core::text::words).unwrap_or_default() {
            sql.push_str(" AND (' ' || name_folded) LIKE ? ESCAPE '\\'");
            values.push(text(format!("% {}%", like_escape(&word))));
        }
        let cursor: Option<(String, OrganisationId)> = page.after.as_ref().map(decode_cursor).transpose()?;
        if let Some((name, id)) = cursor {
            sql.push_str(" AND (name_folded > ? OR (name_folded = ? AND id > ?))");
            values.extend([text(name.clone()), text(name), uid(id)]);
        }
        sql.push_str(" ORDER BY name_folded, id");
        sql.push_str(&limit(u64::from(page.limit) + 1));
        let rows = all(&self.read, &sql, values).await.map_err(db)?;
        paginate(
            rows,
            page.limit,
            |row| {
                let org: Organisation = from_doc(row)?;
                Ok(Cursor::encode(&(org.folded_name(), org.id)))
            },
            from_doc,
        )
    }

    async fn set_customer_organisation(
        &self,
        tenant: TenantId,
        customer: CustomerId,
        organisation: Option<OrganisationId>,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            if !exists(&tx, "customers", tenant.as_uuid(), customer.as_uuid()).await? {
                return Err(StoreError::not_found("customer", customer));
            }
            exec(&tx, "DELETE FROM organisation_members WHERE customer_id = ?", vec![uid(customer)])
                .await
                .map_err(db)?;
            if let Some(org) = organisation {
                if !exists(&tx, "organisations", tenant.as_uuid(), org.as_uuid()).await? {
                    return Err(StoreError::InvalidReference {
                        field: "organisation".into(),
                        reason: format!("{org} does not exist"),
                    });
                }
                exec(
                    &tx,
                    "INSERT INTO organisation_members (customer_id, tenant_id, organisation_id) VALUES (?, ?, ?)",
                    vec![uid(customer), uid(tenant), uid(org)],
                )
                .await
                .map_err(|e| map_db(e, "organisation"))?;
            }
            write_events(&tx, events).await
        }
        .await;
        finish(tx, result).await
    }

    async fn organisation_of(&self, tenant: TenantId, customer: CustomerId) -> StoreResult<Option<OrganisationId>> {
        let row = one(
            &self.read,
            "SELECT organisation_id FROM organisation_members WHERE customer_id = ? AND tenant_id = ?",
            vec![uid(customer), uid(tenant)],
        )
        .await
        .map_err(db)?;
        row.map(|r| col::<uuid::Uuid>(&r, "organisation_id").map(OrganisationId::from_uuid)).transpose()
    }

    async fn members_of(
        &self,
        tenant: TenantId,
        organisation: OrganisationId,
        page: &PageRequest,
    ) -> StoreResult<Page<Customer>> {
        let mut sql = String::from(
            "SELECT c.doc FROM organisation_members m JOIN customers c ON c.id = m.customer_id \
             WHERE m.organisation_id = ? AND m.tenant_id = ? AND c.tenant_id = ?",
        );
        let mut values = vec![uid(organisation), uid(tenant), uid(tenant)];
        let cursor: Option<CustomerId> = page.after.as_ref().map(decode_cursor).transpose()?;
        if let Some(after) = cursor {
            sql.push_str(" AND m.customer_id > ?");
            values.push(uid(after));
        }
        sql.push_str(" ORDER BY m.customer_id");
        sql.push_str(&limit(u64::from(page.limit) + 1));
        let rows = all(&self.read, &sql, values).await.map_err(db)?;
        paginate(rows, page.limit, |row| Ok(Cursor::encode(&from_doc::<Customer>(row)?.id)), from_doc)
    }

    async fn insert_lead(&self, lead: &Lead, events: &[DomainEvent]) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            insert_lead_in(&tx, lead).await?;
            write_events(&tx, events).await
        }
        .await;
        finish(tx, result).await
    }

    async fn update_lead(&self, lead: &Lead, expected_version: u64, events: &[DomainEvent]) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            replace_lead(&tx, lead, expected_version).await?;
            write_events(&tx, events).await
        }
        .await;
        finish(tx, result).await
    }

    async fn get_lead(&self, tenant: TenantId, id: LeadId) -> StoreResult<Option<Lead>> {
        let row = one(&self.read, "SELECT doc FROM leads WHERE id = ? AND tenant_id = ?", vec![uid(id), uid(tenant)])
            .await
            .map_err(db)?;
        row.as_ref().map(from_doc).transpose()
    }

    async fn list_leads(
        &self,
        tenant: TenantId,
        status: Option<LeadStatus>,
        page: &PageRequest,
    ) -> StoreResult<Page<Lead>> {
        let mut sql = String::from("SELECT doc FROM leads WHERE tenant_id = ?");
        let mut values = vec![uid(tenant)];
        if let Some(status) = status {
            sql.push_str(" AND status = ?");
            values.push(text(status.as_str()));
        }
        let cursor: Option<(chrono::DateTime<chrono::Utc>, LeadId)> =
            page.after.as_ref().map(decode_cursor).transpose()?;
        if let Some((at, id)) = cursor {
            sql.push_str(" AND (created_at < ? OR (created_at = ? AND id < ?))");
            values.extend([Value::BigInt(Some(ts(at))), Value::BigInt(Some(ts(at))), uid(id)]);
        }
        sql.push_str(" ORDER BY created_at DESC, id DESC");
        sql.push_str(&limit(u64::from(page.limit) + 1));
        let rows = all(&self.read, &sql, values).await.map_err(db)?;
        paginate(
            rows,
            page.limit,
            |row| {
                let lead: Lead = from_doc(row)?;
                Ok(Cursor::encode(&(lead.created_at, lead.id)))
            },
            from_doc,
        )
    }

    async fn write_lead_with_interaction(
        &self,
        lead: &Lead,
        lead_expected_version: Option<u64>,
        interaction: &Interaction,
        interaction_expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            match lead_expected_version {
                None => insert_lead_in(&tx, lead).await?,
                Some(expected) => replace_lead(&tx, lead, expected).await?,
            }
            replace_interaction_of(&tx, lead.tenant, interaction, interaction_expected_version).await?;
            write_events(&tx, events).await
        }
        .await;
        finish(tx, result).await
    }

    async fn insert_customer_from_interaction(
        &self,
        customer: &Customer,
        interaction: &Interaction,
        interaction_expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            insert_customer_in(&tx, self.backend, customer).await?;
            replace_interaction_of(&tx, customer.tenant, interaction, interaction_expected_version).await?;
            write_events(&tx, events).await
        }
        .await;
        finish(tx, result).await
    }

    async fn convert_lead(
        &self,
        lead: &Lead,
        lead_expected_version: u64,
        customer: &Customer,
        interactions: &[(Interaction, u64)],
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            insert_customer_in(&tx, self.backend, customer).await?;
            replace_lead(&tx, lead, lead_expected_version).await?;
            for (interaction, expected) in interactions {
                replace_interaction_of(&tx, lead.tenant, interaction, *expected).await?;
            }
            write_events(&tx, events).await
        }
        .await;
        finish(tx, result).await
    }
}
