//! `InteractionStore`: interactions and a customer's interaction history (newest first,
//! keyset-paginated).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, Value};

use crm_core::event::DomainEvent;
use crm_core::ids::{CustomerId, InteractionId, TenantId};
use crm_core::interaction::Interaction;
use crm_core::page::{Cursor, Page, PageRequest};
use crm_core::ports::{CardWrite, InteractionStore, StoreResult};

use super::customer::{decode_cursor, insert_customer_in, paginate, replace_customer};
use super::{require, stale_or_missing, write_events};
use crate::connect::{SqlStore, finish};
use crate::error::{db, map_db, with_value};
use crate::sql::{all, exec, from_doc, int, limit, one, text, to_doc, ts, uid};

/// Replaces an interaction whose stored version is `expected`.
pub(crate) async fn replace_interaction<C: ConnectionTrait>(
    c: &C,
    interaction: &Interaction,
    expected: u64,
) -> StoreResult<()> {
    let sql = "UPDATE interactions SET customer_id = ?, offered_at = ?, version = ?, doc = ? \
               WHERE id = ? AND tenant_id = ? AND version = ?";
    let values = vec![
        Value::Uuid(interaction.customer().map(|c| c.as_uuid())),
        Value::BigInt(Some(ts(interaction.offered_at))),
        int(interaction.version()),
        text(to_doc(interaction)?),
        uid(interaction.id),
        uid(interaction.tenant),
        int(expected),
    ];
    let (tenant, id) = (interaction.tenant.as_uuid(), interaction.id.as_uuid());
    if exec(c, sql, values).await.map_err(|e| map_db(e, "customer"))? == 0 {
        return Err(stale_or_missing(c, "interactions", "interaction", tenant, id, expected).await);
    }
    if let Some(customer) = interaction.customer() {
        require(c, "customers", "customer", tenant, customer.as_uuid()).await?;
    }
    Ok(())
}

#[async_trait]
impl InteractionStore for SqlStore {
    async fn insert_interaction(&self, interaction: &Interaction, events: &[DomainEvent]) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            insert_interaction_in(&tx, interaction).await?;
            write_events(&tx, events).await
        }
        .await;
        finish(tx, result).await
    }

    async fn insert_interaction_with_card(
        &self,
        interaction: &Interaction,
        card: &CardWrite,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            match card {
                CardWrite::Created(customer) => insert_customer_in(&tx, self.backend, customer).await?,
                CardWrite::Updated { customer, expected_version } => {
                    replace_customer(&tx, customer, *expected_version).await?;
                }
            }
            insert_interaction_in(&tx, interaction).await?;
            write_events(&tx, events).await
        }
        .await;
        finish(tx, result).await
    }

    async fn update_interaction(
        &self,
        interaction: &Interaction,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            replace_interaction(&tx, interaction, expected_version).await?;
            write_events(&tx, events).await
        }
        .await;
        finish(tx, result).await
    }

    async fn get_interaction(&self, tenant: TenantId, id: InteractionId) -> StoreResult<Option<Interaction>> {
        let row =
            one(&self.read, "SELECT doc FROM interactions WHERE id = ? AND tenant_id = ?", vec![uid(id), uid(tenant)])
                .await
                .map_err(db)?;
        row.as_ref().map(from_doc).transpose()
    }

    async fn interactions_of_customer(
        &self,
        tenant: TenantId,
        customer: CustomerId,
        page: &PageRequest,
    ) -> StoreResult<Page<Interaction>> {
        let cursor: Option<(DateTime<Utc>, InteractionId)> = page.after.as_ref().map(decode_cursor).transpose()?;
        let mut sql = String::from("SELECT doc FROM interactions WHERE customer_id = ? AND tenant_id = ?");
        let mut values = vec![uid(customer), uid(tenant)];
        if let Some((at, id)) = cursor {
            sql.push_str(" AND (offered_at < ? OR (offered_at = ? AND id < ?))");
            values.extend([Value::BigInt(Some(ts(at))), Value::BigInt(Some(ts(at))), uid(id)]);
        }
        sql.push_str(" ORDER BY offered_at DESC, id DESC");
        sql.push_str(&limit(u64::from(page.limit) + 1));
        let rows = all(&self.read, &sql, values).await.map_err(db)?;
        paginate(
            rows,
            page.limit,
            |row| {
                let i: Interaction = from_doc(row)?;
                Ok(Cursor::encode(&(i.offered_at, i.id)))
            },
            from_doc,
        )
    }
}

/// Inserts a new interaction in the caller's transaction, its card checked.
async fn insert_interaction_in<C: ConnectionTrait>(c: &C, interaction: &Interaction) -> StoreResult<()> {
    if let Some(customer) = interaction.customer() {
        require(c, "customers", "customer", interaction.tenant.as_uuid(), customer.as_uuid()).await?;
    }
    exec(
        c,
        "INSERT INTO interactions (id, tenant_id, customer_id, offered_at, version, doc) VALUES (?, ?, ?, ?, ?, ?)",
        vec![
            uid(interaction.id),
            uid(interaction.tenant),
            Value::Uuid(interaction.customer().map(|c| c.as_uuid())),
            Value::BigInt(Some(ts(interaction.offered_at))),
            int(interaction.version()),
            text(to_doc(interaction)?),
        ],
    )
    .await
    .map_err(|e| with_value(map_db(e, "customer"), |_| Some(interaction.id.to_string())))?;
    Ok(())
}
