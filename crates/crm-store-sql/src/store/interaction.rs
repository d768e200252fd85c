//! `InteractionStore`: interactions and a customer's interaction history (newest first,
//! keyset-paginated, filtered by the `channel` and `search_text` columns, INT-5), the
//! interactions of a case (`interaction_cases`, INT-6) and a conversation's messages
//! (`interaction_messages`, CUS-8). Every write of an interaction's document writes those
//! columns and link rows with it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, Value};

use crm_core::event::DomainEvent;
use crm_core::follow_up::FollowUp;
use crm_core::ids::{CaseId, CustomerId, InteractionId, TenantId};
use crm_core::interaction::{Interaction, InteractionFilter, InteractionMessage};
use crm_core::page::{Cursor, Page, PageRequest};
use crm_core::ports::{CardWrite, InteractionStore, StoreResult};

use super::case::insert_follow_up_in;
use super::customer::{insert_customer_in, replace_customer};
use super::paging::{decode_cursor, oldest_first, paginate};
use super::{require, stale_or_missing, write_events};
use crate::connect::{SqlStore, finish};
use crate::error::{db, map_db, with_value};
use crate::sql::{all, exec, from_doc, int, like_escape, limit, one, row_marks, text, to_doc, ts, uid};

/// Replaces an interaction whose stored version is `expected`.
pub(crate) async fn replace_interaction<C: ConnectionTrait>(
    c: &C,
    interaction: &Interaction,
    expected: u64,
) -> StoreResult<()> {
    let sql = "UPDATE interactions SET customer_id = ?, offered_at = ?, version = ?, doc = ?, channel = ?, \
               search_text = ? WHERE id = ? AND tenant_id = ? AND version = ?";
    let values = vec![
        Value::Uuid(interaction.customer().map(|c| c.as_uuid())),
        Value::BigInt(Some(ts(interaction.offered_at))),
        int(interaction.version()),
        text(to_doc(interaction)?),
        text(interaction.channel.as_str()),
        text(interaction.search_text()),
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
    exec(c, "DELETE FROM interaction_cases WHERE interaction_id = ?", vec![uid(interaction.id)]).await.map_err(db)?;
    insert_case_links(c, interaction).await
}

/// The `interaction_cases` rows of `interaction`'s links to local cases.
async fn insert_case_links<C: ConnectionTrait>(c: &C, interaction: &Interaction) -> StoreResult<()> {
    let cases = interaction.linked_cases();
    if cases.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO interaction_cases (tenant_id, case_id, interaction_id, offered_at) VALUES {}",
        row_marks(cases.len(), 4)
    );
    let values = cases
        .iter()
        .flat_map(|case| {
            [uid(interaction.tenant), uid(*case), uid(interaction.id), Value::BigInt(Some(ts(interaction.offered_at)))]
        })
        .collect();
    exec(c, &sql, values).await.map_err(db)?;
    Ok(())
}

/// Indexes, in batches, the interactions written before `m0011`: their `channel`,
/// `search_text` and case links, from their documents.
pub(crate) async fn index_unindexed_interactions<C: ConnectionTrait>(c: &C) -> Result<(), sea_orm::DbErr> {
    let to_db = |e: crm_core::StoreError| sea_orm::DbErr::Custom(e.to_string());
    loop {
        let rows = all(c, "SELECT doc FROM interactions WHERE channel IS NULL LIMIT 500", Vec::new()).await?;
        if rows.is_empty() {
            return Ok(());
        }
        for row in &rows {
            let interaction: Interaction = from_doc(row).map_err(to_db)?;
            exec(
                c,
                "UPDATE interactions SET channel = ?, search_text = ? WHERE id = ?",
                vec![text(interaction.channel.as_str()), text(interaction.search_text()), uid(interaction.id)],
            )
            .await?;
            insert_case_links(c, &interaction).await.map_err(to_db)?;
        }
    }
}

/// The SQL of a page of interactions, newest first, after `page`'s cursor: `from` names the
/// rows (`i` the interactions), `condition` filters them.
fn newest_first(
    select: &str,
    condition: String,
    mut values: Vec<Value>,
    key: (&str, &str),
    page: &PageRequest,
) -> StoreResult<(String, Vec<Value>)> {
    let cursor: Option<(DateTime<Utc>, InteractionId)> = page.after.as_ref().map(decode_cursor).transpose()?;
    let (at, id) = key;
    let mut sql = format!("{select} WHERE {condition}");
    if let Some((t, i)) = cursor {
        sql.push_str(&format!(" AND ({at} < ? OR ({at} = ? AND {id} < ?))"));
        values.extend([Value::BigInt(Some(ts(t))), Value::BigInt(Some(ts(t))), uid(i)]);
    }
    sql.push_str(&format!(" ORDER BY {at} DESC, {id} DESC"));
    sql.push_str(&limit(u64::from(page.limit) + 1));
    Ok((sql, values))
}

/// A page of interaction documents with its cursor.
fn interaction_page(rows: Vec<sea_orm::QueryResult>, page: &PageRequest) -> StoreResult<Page<Interaction>> {
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
        let condition = "customer_id = ? AND tenant_id = ?".to_owned();
        let (sql, values) = newest_first(
            "SELECT doc FROM interactions",
            condition,
            vec![uid(customer), uid(tenant)],
            ("offered_at", "id"),
            page,
        )?;
        let rows = all(&self.read, &sql, values).await.map_err(db)?;
        interaction_page(rows, page)
    }

    async fn update_interaction_with_follow_ups(
        &self,
        interaction: &Interaction,
        expected_version: u64,
        follow_ups: &[FollowUp],
        remarks: &[crm_core::sla::CaseRemark],
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            replace_interaction(&tx, interaction, expected_version).await?;
            for follow_up in follow_ups {
                insert_follow_up_in(&tx, follow_up).await?;
            }
            for r in remarks {
                super::case::remark_case_in(&tx, r).await?;
            }
            write_events(&tx, events).await
        }
        .await;
        finish(tx, result).await
    }

    async fn interactions_of_case(
        &self,
        tenant: TenantId,
        case: CaseId,
        page: &PageRequest,
    ) -> StoreResult<Page<Interaction>> {
        let (sql, values) = newest_first(
            "SELECT i.doc FROM interaction_cases l JOIN interactions i ON i.id = l.interaction_id",
            "l.case_id = ? AND l.tenant_id = ?".to_owned(),
            vec![uid(case), uid(tenant)],
            ("l.offered_at", "l.interaction_id"),
            page,
        )?;
        let rows = all(&self.read, &sql, values).await.map_err(db)?;
        interaction_page(rows, page)
    }

    async fn search_interactions_of_customer(
        &self,
        tenant: TenantId,
        customer: CustomerId,
        filter: &InteractionFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Interaction>> {
        let mut condition = String::from("i.customer_id = ? AND i.tenant_id = ?");
        let mut values = vec![uid(customer), uid(tenant)];
        if let Some(channel) = filter.channel {
            condition.push_str(" AND i.channel = ?");
            values.push(text(channel.as_str()));
        }
        if let Some(t) = filter.text() {
            let pattern = format!("%{}%", like_escape(t));
            condition.push_str(
                " AND (i.search_text LIKE ? ESCAPE '\\' OR EXISTS (SELECT 1 FROM interaction_messages m \
                 WHERE m.interaction_id = i.id AND m.search_text LIKE ? ESCAPE '\\'))",
            );
            values.extend([text(pattern.as_str()), text(pattern)]);
        }
        let (sql, values) =
            newest_first("SELECT i.doc FROM interactions i", condition, values, ("i.offered_at", "i.id"), page)?;
        let rows = all(&self.read, &sql, values).await.map_err(db)?;
        interaction_page(rows, page)
    }

    async fn insert_message(
        &self,
        message: &InteractionMessage,
        interaction_version: u64,
        card: Option<CardWrite>,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            // Holds the conversation's row until the commit: a concurrent change of its state
            // (a close) waits for the message, or the message sees the new version.
            let guard = "UPDATE interactions SET version = version WHERE id = ? AND tenant_id = ? AND version = ?";
            let values = vec![uid(message.interaction), uid(message.tenant), int(interaction_version)];
            if exec(&tx, guard, values).await.map_err(db)? == 0 {
                let (tenant, id) = (message.tenant.as_uuid(), message.interaction.as_uuid());
                return Err(stale_or_missing(&tx, "interactions", "interaction", tenant, id, interaction_version).await);
            }
            match &card {
                Some(CardWrite::Created(customer)) => insert_customer_in(&tx, self.backend, customer).await?,
                Some(CardWrite::Updated { customer, expected_version }) => {
                    replace_customer(&tx, customer, *expected_version).await?;
                }
                None => {}
            }
            exec(
                &tx,
                "INSERT INTO interaction_messages (id, tenant_id, interaction_id, at, search_text, doc) \
                 VALUES (?, ?, ?, ?, ?, ?)",
                vec![
                    uid(message.id),
                    uid(message.tenant),
                    uid(message.interaction),
                    Value::BigInt(Some(ts(message.at))),
                    text(message.search_text()),
                    text(to_doc(message)?),
                ],
            )
            .await
            .map_err(|e| with_value(map_db(e, "interaction"), |_| Some(message.id.to_string())))?;
            write_events(&tx, events).await
        }
        .await;
        finish(tx, result).await
    }

    async fn messages_of(
        &self,
        tenant: TenantId,
        interaction: InteractionId,
        page: &PageRequest,
    ) -> StoreResult<Page<InteractionMessage>> {
        let sql = String::from("SELECT doc FROM interaction_messages WHERE interaction_id = ? AND tenant_id = ?");
        let values = vec![uid(interaction), uid(tenant)];
        oldest_first(&self.read, sql, values, "at", page, |m: &InteractionMessage| (m.at, m.id)).await
    }
}

/// Inserts a new interaction in the caller's transaction, its card checked.
async fn insert_interaction_in<C: ConnectionTrait>(c: &C, interaction: &Interaction) -> StoreResult<()> {
    if let Some(customer) = interaction.customer() {
        require(c, "customers", "customer", interaction.tenant.as_uuid(), customer.as_uuid()).await?;
    }
    exec(
        c,
        "INSERT INTO interactions (id, tenant_id, customer_id, offered_at, version, doc, channel, search_text) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        vec![
            uid(interaction.id),
            uid(interaction.tenant),
            Value::Uuid(interaction.customer().map(|c| c.as_uuid())),
            Value::BigInt(Some(ts(interaction.offered_at))),
            int(interaction.version()),
            text(to_doc(interaction)?),
            text(interaction.channel.as_str()),
            text(interaction.search_text()),
        ],
    )
    .await
    .map_err(|e| with_value(map_db(e, "customer"), |_| Some(interaction.id.to_string())))?;
    insert_case_links(c, interaction).await
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use crm_core::ids::AgentId;
    use crm_core::interaction::{Channel, Direction, LinkTarget, NewInteraction};
    use uuid::Uuid;

    use super::*;
    use crate::SqlStoreOptions;

    /// `m0011` indexes the interactions written before it: their channel, folded text and
    /// case links come from their documents.
    #[tokio::test]
    async fn interactions_written_before_m0011_are_indexed_from_their_documents() {
        let store = SqlStore::connect("sqlite::memory:", SqlStoreOptions::default()).await.unwrap();
        store.migrate().await.unwrap();
        let now = Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).unwrap();
        let (tenant, case) = (TenantId::from_uuid(Uuid::now_v7()), CaseId::from_uuid(Uuid::now_v7()));
        let mut chat = NewInteraction {
            contact_name: Some("Zoë".into()),
            ..NewInteraction::new(Channel::Chat, Direction::Inbound)
        }
        .build(InteractionId::from_uuid(Uuid::now_v7()), tenant, false, now)
        .unwrap();
        chat.link(LinkTarget::Case { id: case }, AgentId::from_uuid(Uuid::now_v7()), now).unwrap();
        store.insert_interaction(&chat, &[]).await.unwrap();
        // As a row written before m0011 looks.
        exec(&store.write, "UPDATE interactions SET channel = NULL, search_text = NULL", vec![]).await.unwrap();
        exec(&store.write, "DELETE FROM interaction_cases", vec![]).await.unwrap();
        assert!(store.interactions_of_case(tenant, case, &PageRequest::first()).await.unwrap().items.is_empty());

        index_unindexed_interactions(&store.write).await.unwrap();
        let row = one(&store.read, "SELECT channel, search_text FROM interactions", vec![]).await.unwrap().unwrap();
        let (channel, search): (String, String) =
            (row.try_get("", "channel").unwrap(), row.try_get("", "search_text").unwrap());
        assert_eq!((channel.as_str(), search.as_str()), ("chat", " zoe "));
        let linked = store.interactions_of_case(tenant, case, &PageRequest::first()).await.unwrap();
        assert_eq!(linked.items, vec![chat]);
    }
}
