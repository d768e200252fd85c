//! Cursor pages over SQL rows: decoding a caller's cursor, cutting `limit + 1` rows into a
//! page, and the keyset page of rows in ascending (instant, id) order.

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, QueryResult, Value};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crm_core::error::StoreError;
use crm_core::page::{Cursor, Page, PageRequest};
use crm_core::ports::StoreResult;

use crate::error::db;
use crate::sql::{AsUuid, all, from_doc, limit, ts, uid};

/// Decodes a cursor, refusing foreign ones as `InvalidReference { field: "cursor" }`.
pub(crate) fn decode_cursor<T: serde::de::DeserializeOwned>(cursor: &Cursor) -> StoreResult<T> {
    cursor.decode().map_err(|e| StoreError::InvalidReference { field: e.field, reason: e.reason })
}

/// Turns `limit + 1` rows into a page whose cursor is built from its last item.
pub(crate) fn paginate<T>(
    mut rows: Vec<QueryResult>,
    limit: u32,
    cursor_of: impl Fn(&QueryResult) -> StoreResult<Cursor>,
    decode: impl Fn(&QueryResult) -> StoreResult<T>,
) -> StoreResult<Page<T>> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = match (more, rows.last()) {
        (true, Some(last)) => Some(cursor_of(last)?),
        _ => None,
    };
    let items = rows.iter().map(decode).collect::<StoreResult<Vec<T>>>()?;
    Ok(Page { items, next })
}

/// The page of `sql` (a `SELECT doc FROM … WHERE …` without `ORDER BY`) in ascending
/// (`at`, `id`) order after the page's cursor, `at` being a column of instants; `key` gives
/// an item's position, which the next cursor encodes.
pub(crate) async fn oldest_first<T, I>(
    read: &DatabaseConnection,
    mut sql: String,
    mut values: Vec<Value>,
    at: &str,
    page: &PageRequest,
    key: impl Fn(&T) -> (DateTime<Utc>, I),
) -> StoreResult<Page<T>>
where
    T: DeserializeOwned,
    I: Serialize + DeserializeOwned + AsUuid,
{
    let cursor: Option<(DateTime<Utc>, I)> = page.after.as_ref().map(decode_cursor).transpose()?;
    if let Some((after, id)) = cursor {
        sql.push_str(&format!(" AND ({at} > ? OR ({at} = ? AND id > ?))"));
        values.extend([Value::BigInt(Some(ts(after))), Value::BigInt(Some(ts(after))), uid(id)]);
    }
    sql.push_str(&format!(" ORDER BY {at}, id"));
    sql.push_str(&limit(u64::from(page.limit) + 1));
    let rows = all(read, &sql, values).await.map_err(db)?;
    paginate(rows, page.limit, |row| Ok(Cursor::encode(&key(&from_doc::<T>(row)?))), from_doc)
}
