//! `CustomerStore`: customers with their identity, name-term and custom-value side tables,
//! relations, merges and their undo.

use std::collections::BTreeSet;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, QueryResult, Value};
use uuid::Uuid;

use crm_core::StoreError;
use crm_core::case::Case;
use crm_core::customer::{
    AccountNumber, Customer, CustomerSearch, IdentityKey, MergePlan, MergeRecord, MovedRecords, Relation, UndoPlan,
};
use crm_core::error::Conflict;
use crm_core::event::DomainEvent;
use crm_core::ids::{AgentId, CustomerId, MergeId, RelationId, TenantId};
use crm_core::interaction::Interaction;
use crm_core::page::{Cursor, Page, PageRequest};
use crm_core::ports::{CustomerStore, StoreResult};
use crm_core::task::Task;

use super::names;
use super::paging::{decode_cursor, paginate};
use super::sequence::{Counter, raise_account_counter};
use super::{require, stale_or_missing, write_events};
use crate::connect::{SqlStore, finish};
use crate::error::{db, map_db, with_value};
use crate::sql::{
    all, col, exec, from_doc, int, like_escape, limit, marks, one, row_marks, text, to_doc, ts, ts_opt, uid,
};

/// The screen-pop lookup: `columns` of up to `max` live customers `c` holding an identity
/// key, the SQL expression `key` (`?`: binds tenant, key, tenant), served by the
/// `customer_identities_lookup` index.
pub(crate) fn find_by_identity_sql(columns: &str, key: &str, max: u32) -> String {
    format!(
        "SELECT {columns} FROM customer_identities i JOIN customers c ON c.id = i.customer_id \
         WHERE i.tenant_id = ? AND i.key = {key} AND c.tenant_id = ? AND c.status = 'active' \
         ORDER BY (c.last_contact_at IS NULL), c.last_contact_at DESC, c.id{}",
        limit(max.into())
    )
}

fn status(customer: &Customer) -> &'static str {
    if customer.is_merged() { "merged" } else { "active" }
}

/// The column values of a customer row, in `CUSTOMER_COLUMNS` order.
pub(crate) fn customer_values(c: &Customer) -> StoreResult<Vec<Value>> {
    Ok(vec![
        uid(c.id),
        uid(c.tenant),
        text(c.account_number().as_str()),
        text(c.folded_name()),
        text(status(c)),
        ts_opt(c.last_contact_at()),
        Value::BigInt(Some(ts(c.created_at))),
        Value::BigInt(Some(ts(c.updated_at()))),
        int(c.version()),
        text(to_doc(c)?),
    ])
}

/// The columns of a customer row.
pub(crate) const CUSTOMER_COLUMNS: &str =
    "id, tenant_id, account_number, name_sort, status, last_contact_at, created_at, updated_at, version, doc";

/// Side-table rows of some customers: identities `(tenant, key, customer)`, name terms
/// `(tenant, kind, term, customer)` (PostgreSQL only: SQLite's name search is in FTS5, see
/// `super::names`) and custom values `(tenant, key, text, customer)`.
pub(crate) struct SideRows {
    name_terms: bool,
    pub(crate) identities: Vec<Value>,
    pub(crate) terms: Vec<Value>,
    pub(crate) customs: Vec<Value>,
}

impl SideRows {
    /// No rows yet, for `backend`.
    pub(crate) fn new(backend: DbBackend) -> Self {
        Self { name_terms: !names::in_fts(backend), identities: Vec::new(), terms: Vec::new(), customs: Vec::new() }
    }

    pub(crate) fn add(&mut self, c: &Customer) {
        let keys: BTreeSet<String> = c.identity_keys().into_iter().map(|k| k.as_str().to_owned()).collect();
        for key in keys {
            self.identities.extend([uid(c.tenant), text(key), uid(c.id)]);
        }
        if self.name_terms {
            let name = c.name_keys();
            let words: BTreeSet<&String> = name.words.iter().collect();
            for w in words {
                self.terms.extend([uid(c.tenant), text("w"), text(w.as_str()), uid(c.id)]);
            }
            let codes: BTreeSet<&String> = name.phonetic.iter().collect();
            for p in codes {
                self.terms.extend([uid(c.tenant), text("p"), text(p.as_str()), uid(c.id)]);
            }
        }
        for (key, value) in c.custom() {
            self.customs.extend([uid(c.tenant), text(key.as_str()), text(value.search_text()), uid(c.id)]);
        }
    }

    /// The rows per table: `(table (columns), values per row, values)`; tables without rows
    /// are left out.
    pub(crate) fn tables(self) -> impl Iterator<Item = (&'static str, usize, Vec<Value>)> {
        [
            ("customer_identities (tenant_id, key, customer_id)", 3, self.identities),
            ("customer_name_terms (tenant_id, kind, term, customer_id)", 4, self.terms),
            ("customer_custom_values (tenant_id, key, search_text, customer_id)", 4, self.customs),
        ]
        .into_iter()
        .filter(|(_, _, values)| !values.is_empty())
    }

    /// The insert statements of the rows, in chunks that stay under every backend's
    /// parameter limit.
    pub(crate) fn statements(self) -> Vec<(String, Vec<Value>)> {
        self.tables().flat_map(|(target, cols, values)| chunked_inserts(target, cols, values)).collect()
    }

    /// Inserts the rows.
    pub(crate) async fn insert<C: ConnectionTrait>(self, c: &C) -> StoreResult<()> {
        for (sql, values) in self.statements() {
            exec(c, &sql, values).await.map_err(db)?;
        }
        Ok(())
    }
}

/// Multi-row `INSERT`s of `values` (rows of `cols` values) into `target`, 8,000 values per
/// statement.
pub(crate) fn chunked_inserts(target: &str, cols: usize, values: Vec<Value>) -> Vec<(String, Vec<Value>)> {
    let per_statement = (8_000 / cols) * cols;
    let mut out = Vec::new();
    let mut rest = values;
    while !rest.is_empty() {
        let tail = if rest.len() > per_statement { rest.split_off(per_statement) } else { Vec::new() };
        let rows = rest.len() / cols;
        out.push((format!("INSERT INTO {target} VALUES {}", row_marks(rows, cols)), rest));
        rest = tail;
    }
    out
}

/// Deletes the side rows of customer `id`: [`SideRows`]' tables (the FTS5 row of SQLite's
/// name search is rewritten in place by `names::write_fts`).
async fn clear_side_tables<C: ConnectionTrait>(c: &C, id: CustomerId) -> StoreResult<()> {
    let tables: &[&str] = if names::in_fts(c.get_database_backend()) {
        &["customer_identities", "customer_custom_values"]
    } else {
        &["customer_identities", "customer_name_terms", "customer_custom_values"]
    };
    for table in tables {
        exec(c, &format!("DELETE FROM {table} WHERE customer_id = ?"), vec![uid(id)]).await.map_err(db)?;
    }
    Ok(())
}

fn duplicate_value(customer: &Customer) -> impl Fn(&str) -> Option<String> + '_ {
    |field| match field {
        "account_number" => Some(customer.account_number().to_string()),
        "id" => Some(customer.id.to_string()),
        _ => None,
    }
}

/// Replaces a customer row if its stored version is `expected`, then its side tables.
pub(crate) async fn replace_customer<C: ConnectionTrait>(c: &C, customer: &Customer, expected: u64) -> StoreResult<()> {
    let sql = "UPDATE customers SET account_number = ?, name_sort = ?, status = ?, last_contact_at = ?, \
               updated_at = ?, version = ?, doc = ? WHERE id = ? AND tenant_id = ? AND version = ?";
    let values = vec![
        text(customer.account_number().as_str()),
        text(customer.folded_name()),
        text(status(customer)),
        ts_opt(customer.last_contact_at()),
        Value::BigInt(Some(ts(customer.updated_at()))),
        int(customer.version()),
        text(to_doc(customer)?),
        uid(customer.id),
        uid(customer.tenant),
        int(expected),
    ];
    let touched = exec(c, sql, values).await.map_err(|e| with_value(db(e), duplicate_value(customer)))?;
    if touched == 0 {
        return Err(stale_or_missing(
            c,
            "customers",
            "customer",
            customer.tenant.as_uuid(),
            customer.id.as_uuid(),
            expected,
        )
        .await);
    }
    raise_account_counter(c, customer).await?;
    clear_side_tables(c, customer.id).await?;
    write_side_rows(c, customer).await
}

/// Writes the side rows of `customer`, whose row in `customers` is written: [`SideRows`],
/// and on SQLite its name search row.
/// Inserts a new customer with its side rows in the caller's transaction.
pub(crate) async fn insert_customer_in<C: ConnectionTrait>(
    c: &C,
    backend: DbBackend,
    customer: &Customer,
) -> StoreResult<()> {
    if one(c, "SELECT 1 AS one FROM customers WHERE id = ?", vec![uid(customer.id)]).await.map_err(db)?.is_some() {
        return Err(StoreError::duplicate("id", customer.id.to_string()));
    }
    let sql = if names::in_fts(backend) {
        format!("INSERT INTO customers ({CUSTOMER_COLUMNS}, name_key) VALUES ({}, {})", marks(10), names::NEXT_NAME_KEY)
    } else {
        format!("INSERT INTO customers ({CUSTOMER_COLUMNS}) VALUES ({})", marks(10))
    };
    exec(c, &sql, customer_values(customer)?).await.map_err(|e| with_value(db(e), duplicate_value(customer)))?;
    raise_account_counter(c, customer).await?;
    write_side_rows(c, customer).await
}

async fn write_side_rows<C: ConnectionTrait>(c: &C, customer: &Customer) -> StoreResult<()> {
    let backend = c.get_database_backend();
    let mut side = SideRows::new(backend);
    side.add(customer);
    side.insert(c).await?;
    if names::in_fts(backend) {
        names::write_fts(c, customer).await?;
    }
    Ok(())
}

pub(crate) fn relation_from_row(row: &QueryResult) -> StoreResult<Relation> {
    Ok(relation_with_ends(from_doc(row)?, col(row, "from_id")?, col(row, "to_id")?))
}

/// A relation read from its `doc`, with its ends from the `from_id` and `to_id` columns
/// (they follow merges, the document does not).
pub(crate) fn relation_with_ends(mut relation: Relation, from: Uuid, to: Uuid) -> Relation {
    relation.from = CustomerId::from_uuid(from);
    relation.to = CustomerId::from_uuid(to);
    relation
}

fn customers_from_rows(rows: &[QueryResult]) -> StoreResult<Vec<Customer>> {
    rows.iter().map(from_doc).collect()
}

/// Moves the cases, tasks and interactions of `from` (only the listed ones when `only` is
/// given) to `to`, bumping each one's version, as the merge contract says.
async fn move_children<C: ConnectionTrait>(
    c: &C,
    tenant: TenantId,
    from: Uuid,
    to: Uuid,
    only: Option<&MovedRecords>,
) -> StoreResult<MovedRecords> {
    let cases = move_rows::<_, Case>(
        c,
        "cases",
        tenant,
        from,
        to,
        only.map(|m| m.cases.iter().map(|i| i.as_uuid()).collect()),
        |case| {
            case.move_to_customer(CustomerId::from_uuid(to));
            case.version()
        },
    )
    .await?;
    let tasks = move_rows::<_, Task>(
        c,
        "tasks",
        tenant,
        from,
        to,
        only.map(|m| m.tasks.iter().map(|i| i.as_uuid()).collect()),
        |task| {
            task.move_to_customer(CustomerId::from_uuid(to));
            task.version()
        },
    )
    .await?;
    let interactions = move_rows::<_, Interaction>(
        c,
        "interactions",
        tenant,
        from,
        to,
        only.map(|m| m.interactions.iter().map(|i| i.as_uuid()).collect()),
        |interaction| {
            interaction.move_to_customer(CustomerId::from_uuid(to));
            interaction.version()
        },
    )
    .await?;
    Ok(MovedRecords {
        cases: cases.into_iter().map(Into::into).collect(),
        tasks: tasks.into_iter().map(Into::into).collect(),
        interactions: interactions.into_iter().map(Into::into).collect(),
        relations_from: Vec::new(),
        relations_to: Vec::new(),
    })
}

/// Rewrites the rows of `table` that belong to `from` (and are listed in `only`, when
/// given) so they belong to `to`; `apply` changes the aggregate and returns its version.
async fn move_rows<C: ConnectionTrait, T: serde::Serialize + serde::de::DeserializeOwned>(
    c: &C,
    table: &str,
    tenant: TenantId,
    from: Uuid,
    to: Uuid,
    only: Option<Vec<Uuid>>,
    apply: impl Fn(&mut T) -> u64,
) -> StoreResult<Vec<Uuid>> {
    let sql = format!("SELECT id, doc FROM {table} WHERE tenant_id = ? AND customer_id = ? ORDER BY id");
    let rows = all(c, &sql, vec![uid(tenant), uid(from)]).await.map_err(db)?;
    let update = format!("UPDATE {table} SET customer_id = ?, version = ?, doc = ? WHERE id = ?");
    let mut moved = Vec::new();
    for row in rows {
        let id: Uuid = col(&row, "id")?;
        if only.as_ref().is_some_and(|ids| !ids.contains(&id)) {
            continue;
        }
        let mut record: T = from_doc(&row)?;
        let version = apply(&mut record);
        exec(c, &update, vec![uid(to), int(version), text(to_doc(&record)?), uid(id)]).await.map_err(db)?;
        moved.push(id);
    }
    Ok(moved)
}

/// Re-points the relations whose `side` (`from_id` or `to_id`) is `from` to `to`, except
/// relations between the two cards; only the listed ones when `only` is given.
async fn move_relations<C: ConnectionTrait>(
    c: &C,
    tenant: TenantId,
    side: &str,
    from: Uuid,
    to: Uuid,
    only: Option<&[Uuid]>,
) -> StoreResult<Vec<RelationId>> {
    let other = if side == "from_id" { "to_id" } else { "from_id" };
    let select = "SELECT id, doc, from_id, to_id FROM relations";
    let rows = match only {
        None => {
            let sql = format!("{select} WHERE tenant_id = ? AND {side} = ? AND {other} <> ? ORDER BY id");
            all(c, &sql, vec![uid(tenant), uid(from), uid(to)]).await
        }
        Some(_) => {
            let sql = format!("{select} WHERE tenant_id = ? AND {side} = ? ORDER BY id");
            all(c, &sql, vec![uid(tenant), uid(from)]).await
        }
    }
    .map_err(db)?;
    let mut moved = Vec::new();
    for row in rows {
        let mut relation = relation_from_row(&row)?;
        if only.is_some_and(|ids| !ids.contains(&relation.id.as_uuid())) {
            continue;
        }
        if side == "from_id" {
            relation.from = CustomerId::from_uuid(to);
        } else {
            relation.to = CustomerId::from_uuid(to);
        }
        exec(
            c,
            "UPDATE relations SET from_id = ?, to_id = ?, doc = ? WHERE id = ?",
            vec![uid(relation.from), uid(relation.to), text(to_doc(&relation)?), uid(relation.id)],
        )
        .await
        .map_err(db)?;
        moved.push(relation.id);
    }
    Ok(moved)
}

impl SqlStore {
    pub(crate) async fn load_customer<C: ConnectionTrait>(
        c: &C,
        tenant: TenantId,
        id: CustomerId,
    ) -> StoreResult<Option<Customer>> {
        let row = one(c, "SELECT doc FROM customers WHERE id = ? AND tenant_id = ?", vec![uid(id), uid(tenant)])
            .await
            .map_err(db)?;
        row.as_ref().map(from_doc).transpose()
    }
}

#[async_trait]
impl CustomerStore for SqlStore {
    async fn next_account_sequence(&self, tenant: TenantId) -> StoreResult<u64> {
        self.next_sequence(tenant, Counter::Account).await
    }

    async fn insert_customer(&self, customer: &Customer, events: &[DomainEvent]) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            insert_customer_in(&tx, self.backend, customer).await?;
            write_events(&tx, events).await
        }
        .await;
        finish(tx, result).await
    }

    async fn update_customer(
        &self,
        customer: &Customer,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            replace_customer(&tx, customer, expected_version).await?;
            write_events(&tx, events).await
        }
        .await;
        finish(tx, result).await
    }

    async fn delete_customer(
        &self,
        tenant: TenantId,
        id: CustomerId,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            let version =
                one(&tx, "SELECT version FROM customers WHERE id = ? AND tenant_id = ?", vec![uid(id), uid(tenant)])
                    .await
                    .map_err(db)?;
            let Some(row) = version else { return Err(StoreError::not_found("customer", id)) };
            let stored: i64 = col(&row, "version")?;
            if u64::try_from(stored).ok() != Some(expected_version) {
                return Err(StoreError::stale("customer", id, expected_version));
            }
            for (table, what) in [("cases", "cases"), ("tasks", "tasks"), ("interactions", "interactions")] {
                let sql = format!("SELECT 1 AS one FROM {table} WHERE customer_id = ? LIMIT 1");
                if one(&tx, &sql, vec![uid(id)]).await.map_err(db)?.is_some() {
                    return Err(StoreError::InvalidReference {
                        field: "customer".into(),
                        reason: format!("{what} still point at customer {id}"),
                    });
                }
            }
            if names::in_fts(self.backend) {
                names::delete_fts(&tx, id).await?;
            }
            exec(&tx, "DELETE FROM customers WHERE id = ? AND tenant_id = ?", vec![uid(id), uid(tenant)])
                .await
                .map_err(|e| map_db(e, "customer"))?;
            write_events(&tx, events).await
        }
        .await;
        finish(tx, result).await
    }

    async fn get_customer(&self, tenant: TenantId, id: CustomerId) -> StoreResult<Option<Customer>> {
        Self::load_customer(&self.read, tenant, id).await
    }

    async fn find_by_identity(&self, tenant: TenantId, key: &IdentityKey, max: u32) -> StoreResult<Vec<Customer>> {
        let sql = find_by_identity_sql("c.doc", "?", max);
        let rows = all(&self.read, &sql, vec![uid(tenant), text(key.as_str()), uid(tenant)]).await.map_err(db)?;
        customers_from_rows(&rows)
    }

    async fn find_by_account(&self, tenant: TenantId, account: &AccountNumber) -> StoreResult<Option<Customer>> {
        let row = one(
            &self.read,
            "SELECT doc FROM customers WHERE tenant_id = ? AND account_number = ?",
            vec![uid(tenant), text(account.as_str())],
        )
        .await
        .map_err(db)?;
        row.as_ref().map(from_doc).transpose()
    }

    async fn search_customers(
        &self,
        tenant: TenantId,
        search: &CustomerSearch,
        page: &PageRequest,
    ) -> StoreResult<Page<Customer>> {
        let names = names::NameFilter::terms(self.backend, &uid(tenant), &search.name_terms);
        let mut sql = format!(
            "SELECT c.doc, c.name_sort, c.id FROM {} WHERE c.tenant_id = ? AND c.status = 'active'{}",
            names.from, names.condition
        );
        let mut values = names.values_with_tenant(uid(tenant));
        let identity_patterns = [
            search.phone_digits.as_deref().map(|d| format!("phone:%{}%", like_escape(d))),
            search.email_prefix.as_deref().map(|e| format!("email:{}%", like_escape(e))),
        ];
        for pattern in identity_patterns.into_iter().flatten() {
            sql.push_str(
                " AND EXISTS (SELECT 1 FROM customer_identities i WHERE i.customer_id = c.id AND i.key LIKE ? ESCAPE '\\')",
            );
            values.push(text(pattern));
        }
        if let Some(account) = &search.account_number {
            sql.push_str(" AND c.account_number = ?");
            values.push(text(account.as_str()));
        }
        if let Some((key, needle)) = &search.custom {
            sql.push_str(
                " AND EXISTS (SELECT 1 FROM customer_custom_values v WHERE v.customer_id = c.id AND v.key = ? \
                 AND v.search_text LIKE ? ESCAPE '\\')",
            );
            values.push(text(key.as_str()));
            values.push(text(format!("%{}%", like_escape(needle))));
        }
        if let Some(cursor) = &page.after {
            let (name, id): (String, Uuid) = decode_cursor(cursor)?;
            sql.push_str(" AND (c.name_sort > ? OR (c.name_sort = ? AND c.id > ?))");
            values.extend([text(name.as_str()), text(name), uid(id)]);
        }
        sql.push_str(" ORDER BY c.name_sort, c.id");
        sql.push_str(&limit(u64::from(page.limit) + 1));
        let rows = all(&self.read, &sql, values).await.map_err(db)?;
        paginate(
            rows,
            page.limit,
            |row| {
                let name: String = col(row, "name_sort")?;
                let id: Uuid = col(row, "id")?;
                Ok(Cursor::encode(&(name, id)))
            },
            from_doc,
        )
    }

    async fn find_by_phonetic(&self, tenant: TenantId, codes: &[String], max: u32) -> StoreResult<Vec<Customer>> {
        if codes.is_empty() || max == 0 {
            return Ok(Vec::new());
        }
        let names = names::NameFilter::phonetic(self.backend, &uid(tenant), codes);
        let sql = format!(
            "SELECT c.doc FROM {} WHERE c.tenant_id = ? AND c.status = 'active'{} ORDER BY c.name_sort, c.id{}",
            names.from,
            names.condition,
            limit(max.into())
        );
        let values = names.values_with_tenant(uid(tenant));
        let rows = all(&self.read, &sql, values).await.map_err(db)?;
        customers_from_rows(&rows)
    }

    async fn insert_relation(&self, relation: &Relation, events: &[DomainEvent]) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            let tenant = relation.tenant.as_uuid();
            require(&tx, "customers", "from", tenant, relation.from.as_uuid()).await?;
            require(&tx, "customers", "to", tenant, relation.to.as_uuid()).await?;
            exec(
                &tx,
                "INSERT INTO relations (id, tenant_id, from_id, to_id, doc) VALUES (?, ?, ?, ?, ?)",
                vec![
                    uid(relation.id),
                    uid(relation.tenant),
                    uid(relation.from),
                    uid(relation.to),
                    text(to_doc(relation)?),
                ],
            )
            .await
            .map_err(|e| with_value(map_db(e, "from"), |_| Some(relation.id.to_string())))?;
            write_events(&tx, events).await
        }
        .await;
        finish(tx, result).await
    }

    async fn delete_relation(&self, tenant: TenantId, id: RelationId, events: &[DomainEvent]) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            let n = exec(&tx, "DELETE FROM relations WHERE id = ? AND tenant_id = ?", vec![uid(id), uid(tenant)])
                .await
                .map_err(db)?;
            if n == 0 {
                return Err(StoreError::not_found("relation", id));
            }
            write_events(&tx, events).await
        }
        .await;
        finish(tx, result).await
    }

    async fn relations_of(&self, tenant: TenantId, customer: CustomerId) -> StoreResult<Vec<Relation>> {
        let rows = all(
            &self.read,
            "SELECT doc, from_id, to_id FROM relations WHERE tenant_id = ? AND (from_id = ? OR to_id = ?) ORDER BY id",
            vec![uid(tenant), uid(customer), uid(customer)],
        )
        .await
        .map_err(db)?;
        rows.iter().map(relation_from_row).collect()
    }

    async fn merge_customers(
        &self,
        plan: &MergePlan,
        record: &MergeRecord,
        events: &[DomainEvent],
    ) -> StoreResult<MovedRecords> {
        let tx = self.begin().await?;
        let result = async {
            let tenant = plan.target.tenant;
            let (target, source) = (plan.target.id.as_uuid(), plan.tombstone.id.as_uuid());
            if plan.tombstone.tenant != tenant || record.tenant != tenant {
                return Err(StoreError::not_found("customer", source));
            }
            if record.target != plan.target.id || record.source != plan.tombstone.id || record.id != plan.id {
                return Err(StoreError::InvalidReference {
                    field: "merge".into(),
                    reason: "the merge record does not describe the plan".into(),
                });
            }
            replace_customer(&tx, &plan.target, plan.target.version().saturating_sub(1)).await?;
            replace_customer(&tx, &plan.tombstone, plan.tombstone.version().saturating_sub(1)).await?;
            let mut moved = move_children(&tx, tenant, source, target, None).await?;
            moved.relations_from = move_relations(&tx, tenant, "from_id", source, target, None).await?;
            moved.relations_to = move_relations(&tx, tenant, "to_id", source, target, None).await?;
            let stored = MergeRecord { moved: moved.clone(), ..record.clone() };
            exec(
                &tx,
                "INSERT INTO merges (id, tenant_id, target_id, source_id, undone, doc) VALUES (?, ?, ?, ?, 0, ?)",
                vec![
                    uid(stored.id),
                    uid(stored.tenant),
                    uid(stored.target),
                    uid(stored.source),
                    text(to_doc(&stored)?),
                ],
            )
            .await
            .map_err(|e| with_value(db(e), |_| Some(stored.id.to_string())))?;
            write_events(&tx, events).await?;
            Ok(moved)
        }
        .await;
        finish(tx, result).await
    }

    async fn get_merge(&self, tenant: TenantId, id: MergeId) -> StoreResult<Option<MergeRecord>> {
        let row = one(&self.read, "SELECT doc FROM merges WHERE id = ? AND tenant_id = ?", vec![uid(id), uid(tenant)])
            .await
            .map_err(db)?;
        row.as_ref().map(from_doc).transpose()
    }

    async fn undo_merge(
        &self,
        tenant: TenantId,
        merge: MergeId,
        plan: &UndoPlan,
        by: AgentId,
        at: DateTime<Utc>,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            let row = one(&tx, "SELECT doc FROM merges WHERE id = ? AND tenant_id = ?", vec![uid(merge), uid(tenant)])
                .await
                .map_err(db)?;
            let Some(row) = row else { return Err(StoreError::not_found("merge", merge)) };
            let mut record: MergeRecord = from_doc(&row)?;
            if record.undone_at.is_some() {
                return Err(Conflict::State(format!("merge {merge} was already undone")).into());
            }
            if plan.target.id != record.target
                || plan.source.id != record.source
                || plan.target.tenant != tenant
                || plan.source.tenant != tenant
            {
                return Err(StoreError::InvalidReference {
                    field: "merge".into(),
                    reason: "the undo plan does not restore this merge's cards".into(),
                });
            }
            replace_customer(&tx, &plan.target, plan.target.version().saturating_sub(1)).await?;
            replace_customer(&tx, &plan.source, plan.source.version().saturating_sub(1)).await?;
            let (target, source) = (record.target.as_uuid(), record.source.as_uuid());
            let moved = record.moved.clone();
            move_children(&tx, tenant, target, source, Some(&moved)).await?;
            let from: Vec<Uuid> = moved.relations_from.iter().map(|i| i.as_uuid()).collect();
            let to: Vec<Uuid> = moved.relations_to.iter().map(|i| i.as_uuid()).collect();
            move_relations(&tx, tenant, "from_id", target, source, Some(&from)).await?;
            move_relations(&tx, tenant, "to_id", target, source, Some(&to)).await?;
            record.undone_at = Some(at);
            record.undone_by = Some(by);
            exec(
                &tx,
                "UPDATE merges SET undone = 1, doc = ? WHERE id = ? AND tenant_id = ?",
                vec![text(to_doc(&record)?), uid(merge), uid(tenant)],
            )
            .await
            .map_err(db)?;
            write_events(&tx, events).await
        }
        .await;
        finish(tx, result).await
    }
}
