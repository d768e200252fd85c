//! [`CardStore`] for [`SqlStore`]: the four reads of a customer card as ONE statement (a
//! `UNION ALL` of the four ordered, limited reads), and the identity screen pop (lookup and
//! card) as one statement too, so a phone or email screen pop costs one round trip.

use async_trait::async_trait;

use crm_core::StoreError;
use crm_core::access::PrivateScope;
use crm_core::customer::{Customer, IdentityKey};
use crm_core::ids::{CustomerId, TenantId};
use crm_core::ports::{CardLimits, CardParts, CardStore, StoreResult};
use sea_orm::{DbBackend, QueryResult, Value};
use uuid::Uuid;

use super::case::{cases_of_a_customer, open_statuses, scope_condition};
use super::customer::{find_by_identity_sql, relation_with_ends};
use crate::connect::SqlStore;
use crate::error::db;
use crate::sql::{all, col, limit, parse_doc, text, uid};

/// Which read a row of the combined statement belongs to (its `part` column).
const RELATIONS: i64 = 0;
const CASES: i64 = 1;
const TASKS: i64 = 2;
const INTERACTIONS: i64 = 3;
const CUSTOMERS: i64 = 4;

/// The combined statement's four parts, for the customer the SQL expression `who` names
/// (a bound `?` or a scalar subquery). Each part keeps its own `ORDER BY … LIMIT` and
/// numbers its rows in that order (`rn`): a `UNION ALL` by itself promises no order, and
/// the rows are sorted by `(part, rn)` after reading ([`parts_from_rows`]), which spares
/// the database a sort of the whole result. Relations come first: their uuid
/// columns give the `NULL`s of the other parts a type on PostgreSQL.
fn card_parts_sql(backend: DbBackend, who: &str, scope_sql: &str, limits: CardLimits) -> String {
    let cases = cases_of_a_customer(backend);
    let open = open_statuses();
    let cases_limit = limit(limits.open_cases.into());
    let tasks_limit = limit(limits.pending_tasks.into());
    let interactions_limit = limit(limits.last_interactions.into());
    format!(
        "SELECT CAST({RELATIONS} AS BIGINT) AS part, ROW_NUMBER() OVER (ORDER BY id) AS rn, doc, from_id, to_id \
         FROM relations WHERE tenant_id = ? AND (from_id = {who} OR to_id = {who}) \
         UNION ALL SELECT {CASES}, rn, doc, NULL, NULL FROM (SELECT doc, \
         ROW_NUMBER() OVER (ORDER BY updated_at DESC, number DESC) AS rn FROM {cases} \
         WHERE customer_id = {who} AND status IN ({open}) AND tenant_id = ?{scope_sql} \
         ORDER BY updated_at DESC, number DESC{cases_limit}) AS k \
         UNION ALL SELECT {TASKS}, rn, doc, NULL, NULL FROM (SELECT doc, \
         ROW_NUMBER() OVER (ORDER BY scheduled_at, id) AS rn FROM tasks \
         WHERE customer_id = {who} AND status = 'planned' AND tenant_id = ? ORDER BY scheduled_at, id{tasks_limit}) AS t \
         UNION ALL SELECT {INTERACTIONS}, rn, doc, NULL, NULL FROM (SELECT doc, \
         ROW_NUMBER() OVER (ORDER BY offered_at DESC, id DESC) AS rn FROM interactions \
         WHERE customer_id = {who} AND tenant_id = ? ORDER BY offered_at DESC, id DESC{interactions_limit}) AS i"
    )
}

/// The values of [`card_parts_sql`], with `who` bound to `customer` when it is given (the
/// statement names the customer by `?`) and left out when `who` is a subquery.
fn card_parts_values(tenant: TenantId, customer: Option<CustomerId>, scope_values: Vec<Value>) -> Vec<Value> {
    let who = customer.map(uid);
    let mut values = vec![uid(tenant)];
    values.extend(who.clone()); // relations: from_id
    values.extend(who.clone()); // relations: to_id
    values.extend(who.clone()); // cases
    values.push(uid(tenant));
    values.extend(scope_values);
    values.extend(who.clone()); // tasks
    values.push(uid(tenant));
    values.extend(who); // interactions
    values.push(uid(tenant));
    values
}

/// The identity screen pop as one statement: the matching customers (CTE `m`, as
/// [`find_by_identity_sql`] orders them), the first one's card parts, and the customers as
/// the part [`CUSTOMERS`]. Binds tenant, key, tenant, then the card's values without the
/// customer.
fn cards_by_identity_sql(backend: DbBackend, max: u32, scope_sql: &str, limits: CardLimits) -> String {
    const ORDER: &str = "(last_contact_at IS NULL), last_contact_at DESC, id";
    let matches = find_by_identity_sql("c.id, c.doc, c.last_contact_at", max);
    format!(
        "WITH m AS ({matches}), f AS (SELECT id FROM m ORDER BY {ORDER} LIMIT 1) {} \
         UNION ALL SELECT {CUSTOMERS}, ROW_NUMBER() OVER (ORDER BY {ORDER}), doc, NULL, NULL FROM m",
        card_parts_sql(backend, "(SELECT id FROM f)", scope_sql, limits)
    )
}

/// [`cards_by_identity_sql`] with its values.
pub(crate) fn cards_by_identity_statement(
    backend: DbBackend,
    tenant: TenantId,
    key: &IdentityKey,
    max: u32,
    scope: &PrivateScope,
    limits: CardLimits,
) -> (String, Vec<Value>) {
    let (scope_sql, scope_values) = scope_condition(scope);
    let mut values = vec![uid(tenant), text(key.as_str()), uid(tenant)];
    values.extend(card_parts_values(tenant, None, scope_values));
    (cards_by_identity_sql(backend, max, &scope_sql, limits), values)
}

/// One row of a combined statement: its part, the document and, for relations, the ends.
struct CardRow {
    part: i64,
    /// The row's place in its part.
    rn: i64,
    doc: String,
    ends: Option<(Uuid, Uuid)>,
}

impl CardRow {
    /// A row read through the pool.
    fn from_result(row: &QueryResult) -> StoreResult<Self> {
        let part = col::<i64>(row, "part")?;
        let ends = if part == RELATIONS { Some((col(row, "from_id")?, col(row, "to_id")?)) } else { None };
        Ok(Self { part, rn: col(row, "rn")?, doc: col(row, "doc")?, ends })
    }

    /// A row read on the caller's thread (columns `part, rn, doc, from_id, to_id`).
    fn from_inline(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        let part: i64 = row.get(0)?;
        let uuid_at = |i: usize| {
            let bytes: Vec<u8> = row.get(i)?;
            Uuid::from_slice(&bytes)
                .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Blob, Box::new(e)))
        };
        let ends = if part == RELATIONS { Some((uuid_at(3)?, uuid_at(4)?)) } else { None };
        Ok(Self { part, rn: row.get(1)?, doc: row.get(2)?, ends })
    }
}

/// Sorts the rows of a combined statement into card parts and customers, each in its
/// part's order.
fn parts_from_rows(mut rows: Vec<CardRow>) -> StoreResult<(CardParts, Vec<Customer>)> {
    rows.sort_unstable_by_key(|r| (r.part, r.rn));
    let mut parts = CardParts::default();
    let mut customers = Vec::new();
    for row in &rows {
        match (row.part, row.ends) {
            (RELATIONS, Some((from, to))) => parts.relations.push(relation_with_ends(parse_doc(&row.doc)?, from, to)),
            (CASES, _) => parts.open_cases.push(parse_doc(&row.doc)?),
            (TASKS, _) => parts.pending_tasks.push(parse_doc(&row.doc)?),
            (INTERACTIONS, _) => parts.last_interactions.push(parse_doc(&row.doc)?),
            (CUSTOMERS, _) => customers.push(parse_doc(&row.doc)?),
            (other, _) => return Err(StoreError::Backend(format!("unknown card part {other}").into())),
        }
    }
    Ok((parts, customers))
}

impl SqlStore {
    /// The rows of a combined card statement: on the caller's thread when this store has
    /// that path and it can answer, through the read pool otherwise.
    async fn card_rows(&self, sql: &str, values: Vec<Value>) -> StoreResult<Vec<CardRow>> {
        if let Some(rows) = self.inline.as_ref().and_then(|fast| fast.query(sql, &values, CardRow::from_inline)) {
            return Ok(rows);
        }
        let rows = all(&self.read, sql, values).await.map_err(db)?;
        rows.iter().map(CardRow::from_result).collect()
    }
}

#[async_trait]
impl CardStore for SqlStore {
    async fn card_parts(
        &self,
        tenant: TenantId,
        customer: CustomerId,
        scope: &PrivateScope,
        limits: CardLimits,
    ) -> StoreResult<CardParts> {
        let (scope_sql, scope_values) = scope_condition(scope);
        let sql = card_parts_sql(self.backend, "?", &scope_sql, limits);
        let rows = self.card_rows(&sql, card_parts_values(tenant, Some(customer), scope_values)).await?;
        let (parts, _) = parts_from_rows(rows)?;
        Ok(parts)
    }

    /// One statement for the lookup and the first (most recently contacted) customer's card;
    /// the cards of further matches (several customers sharing a number) are read after it.
    async fn cards_by_identity(
        &self,
        tenant: TenantId,
        key: &IdentityKey,
        max: u32,
        scope: &PrivateScope,
        limits: CardLimits,
    ) -> StoreResult<Vec<(Customer, CardParts)>> {
        let (sql, values) = cards_by_identity_statement(self.backend, tenant, key, max, scope, limits);
        let rows = self.card_rows(&sql, values).await?;
        let (first_parts, customers) = parts_from_rows(rows)?;
        let mut customers = customers.into_iter();
        let Some(first) = customers.next() else { return Ok(Vec::new()) };
        let rest: Vec<Customer> = customers.collect();
        let more = rest.iter().map(|c| self.card_parts(tenant, c.id, scope, limits));
        let more_parts = futures::future::try_join_all(more).await?;
        Ok(std::iter::once((first, first_parts)).chain(rest.into_iter().zip(more_parts)).collect())
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;
    use crm_core::customer::PhoneNumber;
    use crm_core::time::UuidV7Generator;
    use crm_testkit::fixtures::SeededTenant;

    use super::*;
    use crate::SqlStoreOptions;

    /// On a SQLite file the card statements are answered on the caller's thread (the
    /// conformance suite checks what they return against the single reads).
    #[tokio::test]
    async fn sqlite_file_cards_are_read_inline() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("crm.db").display());
        let store = SqlStore::connect(&url, SqlStoreOptions::default()).await.unwrap();
        store.migrate().await.unwrap();
        let now = chrono::Utc.with_ymd_and_hms(2026, 12, 2, 9, 0, 0).unwrap();
        let seeded = SeededTenant::create(&store, &UuidV7Generator, now).await.unwrap();
        let tenant = seeded.tenant.id;
        let key = IdentityKey::phone(&PhoneNumber::parse("+33612345678", None).unwrap());
        let inline = store.inline.clone().unwrap();
        assert!(
            store.cards_by_identity(tenant, &key, 10, &PrivateScope::All, CardLimits::CARD).await.unwrap().is_empty()
        );
        let parts =
            store.card_parts(tenant, CustomerId::from_uuid(Uuid::now_v7()), &PrivateScope::All, CardLimits::CARD);
        assert!(parts.await.unwrap().open_cases.is_empty());
        assert_eq!(inline.counts(), crate::InlineReadCounts { served: 2, fell_back: 0 });
        assert_eq!(store.inline_reads(), Some(inline.counts()));
    }

    #[tokio::test]
    async fn sqlite_memory_has_no_inline_path() {
        let store = SqlStore::connect("sqlite::memory:", SqlStoreOptions::default()).await.unwrap();
        assert!(store.inline.is_none());
    }
}
