//! [`CardStore`] for [`SqlStore`]: the four reads of a customer card as ONE statement (a
//! `UNION ALL` of the four ordered, limited reads), and the identity screen pop (lookup and
//! card) as one statement too, so a phone or email screen pop costs one round trip.

use std::cmp::{Ordering, Reverse};
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use async_trait::async_trait;

use crm_core::StoreError;
use crm_core::access::PrivateScope;
use crm_core::customer::{Customer, IdentityKey};
use crm_core::ids::{CustomerId, TenantId};
use crm_core::ports::{CardLimits, CardParts, CardStore, StoreResult};
use sea_orm::sqlx::postgres::PgRow;
use sea_orm::sqlx::{self, Row as _};
use sea_orm::{DbBackend, QueryResult, Value};
use uuid::Uuid;

use super::case::{cases_of_a_customer, open_status_condition, scope_condition};
use super::customer::{find_by_identity_sql, relation_with_ends};
use super::task::planned_tasks_of_a_customer;
use crate::connect::SqlStore;
use crate::error::db;
use crate::lookups;
use crate::sql::{all, col, limit, parse_doc, text, uid};

/// Which read a row of the combined statement belongs to (its `part` column).
const RELATIONS: i64 = 0;
const CASES: i64 = 1;
const TASKS: i64 = 2;
const INTERACTIONS: i64 = 3;
const CUSTOMERS: i64 = 4;

/// The combined statement's four parts, for the customer the SQL expression `who` names
/// (a bound `?` or a scalar subquery). Each part keeps its own `ORDER BY … LIMIT` (which
/// rows) and returns its sort keys (`k_time`, `k_num`, `k_id`): a `UNION ALL` by itself
/// promises no order, and the rows are put back in each part's order after reading
/// ([`CardRow::order`]), which spares the database a numbering (a temporary table per
/// part) and a sort of the whole result. Relations come first: their typed columns give
/// the `NULL`s of the other parts a type on PostgreSQL.
fn card_parts_sql(backend: DbBackend, who: &str, scope_sql: &str, limits: CardLimits) -> String {
    let cases = cases_of_a_customer(backend);
    let tasks = planned_tasks_of_a_customer(backend);
    let open = open_status_condition();
    let cases_limit = limit(limits.open_cases.into());
    let tasks_limit = limit(limits.pending_tasks.into());
    let interactions_limit = limit(limits.last_interactions.into());
    format!(
        "SELECT CAST({RELATIONS} AS BIGINT) AS part, CAST(NULL AS BIGINT) AS k_time, CAST(NULL AS BIGINT) AS k_num, \
         id AS k_id, doc, from_id, to_id \
         FROM relations WHERE tenant_id = ? AND (from_id = {who} OR to_id = {who}) \
         UNION ALL SELECT {CASES}, updated_at, number, NULL, doc, NULL, NULL FROM (SELECT updated_at, number, doc \
         FROM {cases} WHERE customer_id = {who} AND {open} AND tenant_id = ?{scope_sql} \
         ORDER BY updated_at DESC, number DESC{cases_limit}) AS k \
         UNION ALL SELECT {TASKS}, scheduled_at, NULL, id, doc, NULL, NULL FROM (SELECT scheduled_at, id, doc \
         FROM {tasks} WHERE customer_id = {who} AND status = 'planned' AND tenant_id = ? \
         ORDER BY scheduled_at, id{tasks_limit}) AS t \
         UNION ALL SELECT {INTERACTIONS}, offered_at, NULL, id, doc, NULL, NULL FROM (SELECT offered_at, id, doc \
         FROM interactions WHERE customer_id = {who} AND tenant_id = ? \
         ORDER BY offered_at DESC, id DESC{interactions_limit}) AS i"
    )
}

/// Which card statement a [`CardSql`] names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum CardStatement {
    /// [`card_parts_sql`] for a bound customer.
    Parts,
    /// [`cards_by_identity_sql`] with a bound key.
    ByIdentity,
    /// [`cards_by_identity_sql`] for combined reads (`crate::lookups`).
    ByIdentityKeyed,
}

/// What a card statement's text depends on.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct CardSql {
    statement: CardStatement,
    /// PostgreSQL, or else SQLite (the two backends of the store; `DbBackend` is not
    /// `Hash`).
    postgres: bool,
    /// The most matches of an identity statement (0 for [`CardStatement::Parts`]).
    max: u32,
    /// The agent's scope condition ([`scope_condition`]): its shape, the values are bound.
    scope_sql: String,
    limits: (u32, u32, u32),
}

/// Texts of [`CardSql`]s built so far; past this many the text is built for each read.
const CARD_SQL_KEPT: usize = 256;

impl CardSql {
    fn new(statement: CardStatement, backend: DbBackend, max: u32, scope_sql: String, limits: CardLimits) -> Self {
        let limits = (limits.open_cases, limits.pending_tasks, limits.last_interactions);
        Self { statement, postgres: backend == DbBackend::Postgres, max, scope_sql, limits }
    }

    /// The statement's text, built once per shape. A screen pop's statement depends only on
    /// the backend, the card limits and the shape of the agent's scope; formatting its
    /// 1.5 KB for every read cost about a twentieth of a screen pop's CPU. The same text
    /// (one `Arc`) also lets combined reads find their shape by pointer.
    fn text(self) -> Arc<str> {
        static KEPT: LazyLock<Mutex<HashMap<CardSql, Arc<str>>>> = LazyLock::new(Mutex::default);
        if let Some(text) = KEPT.lock().unwrap_or_else(PoisonError::into_inner).get(&self) {
            return text.clone();
        }
        let backend = if self.postgres { DbBackend::Postgres } else { DbBackend::Sqlite };
        let (open_cases, pending_tasks, last_interactions) = self.limits;
        let limits = CardLimits { open_cases, pending_tasks, last_interactions };
        let text: Arc<str> = match self.statement {
            CardStatement::Parts => card_parts_sql(backend, "?", &self.scope_sql, limits),
            CardStatement::ByIdentity => cards_by_identity_sql(backend, "?", self.max, &self.scope_sql, limits),
            CardStatement::ByIdentityKeyed => {
                cards_by_identity_sql(backend, lookups::KEY, self.max, &self.scope_sql, limits)
            }
        }
        .into();
        let mut kept = KEPT.lock().unwrap_or_else(PoisonError::into_inner);
        if kept.len() < CARD_SQL_KEPT {
            return kept.entry(self).or_insert(text).clone();
        }
        text
    }
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
/// the part [`CUSTOMERS`]. The key is the SQL expression `key`; binds tenant, the key when
/// `key` is `?`, tenant, then the card's values without the customer.
fn cards_by_identity_sql(backend: DbBackend, key: &str, max: u32, scope_sql: &str, limits: CardLimits) -> String {
    const ORDER: &str = "(last_contact_at IS NULL), last_contact_at DESC, id";
    let matches = find_by_identity_sql("c.id, c.doc, c.last_contact_at", key, max);
    format!(
        "WITH m AS ({matches}), f AS (SELECT id FROM m ORDER BY {ORDER} LIMIT 1) {} \
         UNION ALL SELECT {CUSTOMERS}, last_contact_at, NULL, id, doc, NULL, NULL FROM m",
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
) -> (Arc<str>, Vec<Value>) {
    let (scope_sql, scope_values) = scope_condition(scope);
    let mut values = vec![uid(tenant), text(key.as_str()), uid(tenant)];
    values.extend(card_parts_values(tenant, None, scope_values));
    (CardSql::new(CardStatement::ByIdentity, backend, max, scope_sql, limits).text(), values)
}

/// [`cards_by_identity_statement`] for combined reads on PostgreSQL (`crate::lookups`):
/// the key is not bound, [`lookups::KEY`] stands for it.
fn keyed_cards_by_identity_statement(
    tenant: TenantId,
    max: u32,
    scope: &PrivateScope,
    limits: CardLimits,
) -> (Arc<str>, Vec<Value>) {
    let (scope_sql, scope_values) = scope_condition(scope);
    let mut values = vec![uid(tenant), uid(tenant)];
    values.extend(card_parts_values(tenant, None, scope_values));
    let sql = CardSql::new(CardStatement::ByIdentityKeyed, DbBackend::Postgres, max, scope_sql, limits);
    (sql.text(), values)
}

/// One row of a combined statement: its part, its sort keys, the document and, for
/// relations, the ends.
struct CardRow {
    part: i64,
    time: Option<i64>,
    num: Option<i64>,
    id: Option<Uuid>,
    doc: String,
    ends: Option<(Uuid, Uuid)>,
}

impl CardRow {
    /// A row read through the pool.
    fn from_result(row: &QueryResult) -> StoreResult<Self> {
        let part = col::<i64>(row, "part")?;
        let ends = if part == RELATIONS { Some((col(row, "from_id")?, col(row, "to_id")?)) } else { None };
        Ok(Self {
            part,
            time: col(row, "k_time")?,
            num: col(row, "k_num")?,
            id: col(row, "k_id")?,
            doc: col(row, "doc")?,
            ends,
        })
    }

    /// A row of a combined read on PostgreSQL (`crate::lookups`).
    fn from_pg(row: &PgRow) -> Result<Self, sqlx::Error> {
        let part: i64 = row.try_get("part")?;
        let ends = if part == RELATIONS {
            row.try_get::<Option<Uuid>, _>("from_id")?.zip(row.try_get("to_id")?)
        } else {
            None
        };
        Ok(Self {
            part,
            time: row.try_get("k_time")?,
            num: row.try_get("k_num")?,
            id: row.try_get("k_id")?,
            doc: row.try_get("doc")?,
            ends,
        })
    }

    /// A row read on the caller's thread (columns `part, k_time, k_num, k_id, doc, from_id,
    /// to_id`).
    fn from_inline(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        let part: i64 = row.get(0)?;
        let uuid_at = |i: usize| {
            let bytes: Option<Vec<u8>> = row.get(i)?;
            bytes
                .map(|b| Uuid::from_slice(&b))
                .transpose()
                .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Blob, Box::new(e)))
        };
        let ends = if part == RELATIONS { uuid_at(5)?.zip(uuid_at(6)?) } else { None };
        Ok(Self { part, time: row.get(1)?, num: row.get(2)?, id: uuid_at(3)?, doc: row.get(4)?, ends })
    }

    /// The order of rows: by part, then as each part's `ORDER BY` in [`card_parts_sql`] and
    /// [`cards_by_identity_sql`] sorts them (uuids compare as bytes on both backends, as
    /// [`Uuid`] does).
    fn order(a: &Self, b: &Self) -> Ordering {
        a.part.cmp(&b.part).then_with(|| match a.part {
            // updated_at DESC, number DESC
            CASES => (b.time, b.num).cmp(&(a.time, a.num)),
            // scheduled_at, id
            TASKS => (a.time, a.id).cmp(&(b.time, b.id)),
            // offered_at DESC, id DESC
            INTERACTIONS => (b.time, b.id).cmp(&(a.time, a.id)),
            // (last_contact_at IS NULL), last_contact_at DESC, id
            CUSTOMERS => (a.time.is_none(), Reverse(a.time), a.id).cmp(&(b.time.is_none(), Reverse(b.time), b.id)),
            // relations: id (a row of an unknown part is refused when the rows are read)
            _ => a.id.cmp(&b.id),
        })
    }
}

/// Sorts the rows of a combined statement into card parts and customers, each in its
/// part's order.
fn parts_from_rows(mut rows: Vec<CardRow>) -> StoreResult<(CardParts, Vec<Customer>)> {
    rows.sort_unstable_by(CardRow::order);
    let mut parts = CardParts::default();
    let mut customers = Vec::new();
    for row in &rows {
        match row.part {
            RELATIONS => {
                let (from, to) =
                    row.ends.ok_or_else(|| StoreError::Backend("a relation row without its ends".into()))?;
                parts.relations.push(relation_with_ends(parse_doc(&row.doc)?, from, to));
            }
            CASES => parts.open_cases.push(parse_doc(&row.doc)?),
            TASKS => parts.pending_tasks.push(parse_doc(&row.doc)?),
            INTERACTIONS => parts.last_interactions.push(parse_doc(&row.doc)?),
            CUSTOMERS => customers.push(parse_doc(&row.doc)?),
            other => return Err(StoreError::Backend(format!("unknown card part {other}").into())),
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
        let sql = CardSql::new(CardStatement::Parts, self.backend, 0, scope_sql, limits).text();
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
        let rows = match &self.lookups {
            Some(lookups) => {
                let (sql, values) = keyed_cards_by_identity_statement(tenant, max, scope, limits);
                let rows = lookups.read(sql, values, key.as_str().to_owned()).await.map_err(db)?;
                rows.iter()
                    .map(CardRow::from_pg)
                    .collect::<Result<_, _>>()
                    .map_err(|e| db(lookups::query_error(Arc::new(e))))?
            }
            None => {
                let (sql, values) = cards_by_identity_statement(self.backend, tenant, key, max, scope, limits);
                self.card_rows(&sql, values).await?
            }
        };
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
