//! [`CardStore`] for [`SqlStore`]: the four reads of a customer card as ONE statement (a
//! `UNION ALL` of the four ordered, limited reads), so the screen pop costs one round trip
//! after the identity lookup instead of four.

use async_trait::async_trait;

use crm_core::StoreError;
use crm_core::access::PrivateScope;
use crm_core::ids::{CustomerId, TenantId};
use crm_core::ports::{CardLimits, CardParts, CardStore, StoreResult};

use super::case::scope_condition;
use super::customer::relation_from_row;
use crate::connect::SqlStore;
use crate::error::db;
use crate::sql::{all, col, from_doc, limit, uid};

/// Which read a row of the combined statement belongs to (its `part` column).
const RELATIONS: i64 = 0;
const CASES: i64 = 1;
const TASKS: i64 = 2;
const INTERACTIONS: i64 = 3;

/// The combined statement. Each part keeps its own `ORDER BY … LIMIT` and numbers its rows
/// in that order (`rn`), so the outer `ORDER BY part, rn` restores every part's order
/// (a `UNION ALL` by itself promises none). Relations come first: their uuid columns give
/// the `NULL`s of the other parts a type on PostgreSQL.
fn card_sql(scope_sql: &str, limits: CardLimits) -> String {
    let cases_limit = limit(limits.open_cases.into());
    let tasks_limit = limit(limits.pending_tasks.into());
    let interactions_limit = limit(limits.last_interactions.into());
    format!(
        "SELECT CAST({RELATIONS} AS BIGINT) AS part, ROW_NUMBER() OVER (ORDER BY id) AS rn, doc, from_id, to_id \
         FROM relations WHERE tenant_id = ? AND (from_id = ? OR to_id = ?) \
         UNION ALL SELECT {CASES}, rn, doc, NULL, NULL FROM (SELECT doc, \
         ROW_NUMBER() OVER (ORDER BY updated_at DESC, number DESC) AS rn FROM cases \
         WHERE customer_id = ? AND status IN ('open', 'pending', 'on_hold') AND tenant_id = ?{scope_sql} \
         ORDER BY updated_at DESC, number DESC{cases_limit}) AS k \
         UNION ALL SELECT {TASKS}, rn, doc, NULL, NULL FROM (SELECT doc, \
         ROW_NUMBER() OVER (ORDER BY scheduled_at, id) AS rn FROM tasks \
         WHERE customer_id = ? AND status = 'planned' AND tenant_id = ? ORDER BY scheduled_at, id{tasks_limit}) AS t \
         UNION ALL SELECT {INTERACTIONS}, rn, doc, NULL, NULL FROM (SELECT doc, \
         ROW_NUMBER() OVER (ORDER BY offered_at DESC, id DESC) AS rn FROM interactions \
         WHERE customer_id = ? AND tenant_id = ? ORDER BY offered_at DESC, id DESC{interactions_limit}) AS i \
         ORDER BY 1, 2"
    )
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
        let mut values = vec![uid(tenant), uid(customer), uid(customer), uid(customer), uid(tenant)];
        values.extend(scope_values);
        values.extend([uid(customer), uid(tenant), uid(customer), uid(tenant)]);
        let rows = all(&self.read, &card_sql(&scope_sql, limits), values).await.map_err(db)?;
        let mut parts = CardParts::default();
        for row in &rows {
            match col::<i64>(row, "part")? {
                RELATIONS => parts.relations.push(relation_from_row(row)?),
                CASES => parts.open_cases.push(from_doc(row)?),
                TASKS => parts.pending_tasks.push(from_doc(row)?),
                INTERACTIONS => parts.last_interactions.push(from_doc(row)?),
                other => return Err(StoreError::Backend(format!("unknown card part {other}").into())),
            }
        }
        Ok(parts)
    }
}
