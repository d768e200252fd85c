//! `CaseStore`: case numbers, cases with their append-only history, list queries with
//! keyset pagination and the private scope applied in SQL, open cases of a customer, and
//! follow-ups.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, QueryResult, Value};

use crm_core::StoreError;
use crm_core::access::PrivateScope;
use crm_core::case::{
    Case, CaseFilter, CaseHistoryEntry, CaseNumber, CaseSort, CaseSortField, CaseStatus, Priority, SortDirection,
};
use crm_core::event::DomainEvent;
use crm_core::follow_up::FollowUp;
use crm_core::ids::{AgentId, CaseId, CustomerId, TenantId};
use crm_core::interaction::Interaction;
use crm_core::page::{Cursor, Page, PageRequest};
use crm_core::ports::{CaseStore, StoreResult};

use super::case_catalogue::{list_conditions, replace_tags, tag_rows};
use super::interaction::replace_interaction;
use super::paging::{decode_cursor, paginate};
use super::sequence::Counter;
use super::{events_statement, insert_together, insert_together_if, require, stale_or_missing, write_events};
use crm_core::sla::{CaseRemark, SlaCondition};

use crate::connect::{SqlStore, finish};
use crate::error::{db, with_value};
use crate::sql::{
    all, col, exec, from_doc, int, like_escape, limit, marks, one, row_marks, text, to_doc, ts, ts_opt, uid,
};

/// The position of a case in a sorted list, as the memory store encodes it, so cursors are
/// understood by every store.
pub(crate) type CasePosition = (CaseSortField, Option<DateTime<Utc>>, Option<Priority>, CaseNumber);

fn position(field: CaseSortField, case: &Case) -> CasePosition {
    match field {
        CaseSortField::CreatedAt => (field, Some(case.created_at), None, case.number),
        CaseSortField::UpdatedAt => (field, Some(case.updated_at()), None, case.number),
        CaseSortField::Number => (field, None, None, case.number),
        CaseSortField::Priority => (field, None, Some(case.priority()), case.number),
        CaseSortField::DueNext => (field, case.sla().and_then(|m| m.due_at), None, case.number),
    }
}

fn priority_rank(p: Priority) -> i64 {
    Priority::ALL.iter().position(|x| *x == p).and_then(|i| i64::try_from(i).ok()).unwrap_or(0)
}

/// The column values of a case row, in `CASE_COLUMNS` order.
pub(crate) fn case_values(c: &Case) -> StoreResult<Vec<Value>> {
    Ok(vec![
        uid(c.id),
        uid(c.tenant),
        int(c.number.value()),
        uid(c.customer()),
        text(c.status().as_str()),
        text(c.visibility().as_str()),
        text(c.severity().as_str()),
        text(c.priority().as_str()),
        Value::BigInt(Some(priority_rank(c.priority()))),
        Value::Uuid(c.assignee().map(|a| a.as_uuid())),
        Value::Uuid(c.group().map(|g| g.as_uuid())),
        text(c.subject().to_lowercase()),
        text(c.description().body().to_lowercase()),
        Value::BigInt(Some(ts(c.created_at))),
        Value::BigInt(Some(ts(c.updated_at()))),
        int(c.version()),
        text(to_doc(c)?),
        ts_opt(c.deleted_at()),
        Value::BigInt(Some(ts(crm_core::case::due_key(c)))),
        ts_opt(c.sla().and_then(|m| m.warning_at)),
        ts_opt(c.sla().and_then(|m| m.breach_at)),
        ts_opt(c.sla().and_then(crm_core::sla::SlaMark::first_alarm)),
        Value::String(c.category().map(str::to_owned)),
        Value::String(c.case_type().map(str::to_owned)),
        Value::String(c.resolution().map(str::to_owned)),
        Value::Uuid(c.parent().map(|p| p.as_uuid())),
    ])
}

/// The columns of a case row.
pub(crate) const CASE_COLUMNS: &str = "id, tenant_id, number, customer_id, status, visibility, severity, priority, \
     priority_rank, assignee_id, group_id, subject_lc, description_lc, created_at, updated_at, version, doc, deleted_at, \
     sla_due_key, sla_warning_at, sla_breach_at, sla_fire_at, \
     category, case_type, resolution, parent_id";

/// The number of [`CASE_COLUMNS`].
pub(crate) const CASE_COLUMN_COUNT: usize = 26;

fn duplicate_value(case: &Case) -> impl Fn(&str) -> Option<String> + '_ {
    |field| match field {
        "number" => Some(case.number.to_string()),
        "id" => Some(case.id.to_string()),
        _ => None,
    }
}

/// Appends history entries after the case's existing changes.
async fn append_history<C: ConnectionTrait>(c: &C, case: CaseId, history: &[CaseHistoryEntry]) -> StoreResult<()> {
    if history.is_empty() {
        return Ok(());
    }
    let row = one(c, "SELECT COALESCE(MAX(seq), 0) AS seq FROM case_changes WHERE case_id = ?", vec![uid(case)])
        .await
        .map_err(db)?;
    let seq: i64 = match row {
        Some(r) => col(&r, "seq")?,
        None => 0,
    };
    for (sql, values) in history_statements(history, seq)? {
        exec(c, &sql, values).await.map_err(|e| crate::error::map_db(e, "case"))?;
    }
    Ok(())
}

/// One field of a change, as written in a `case_changes` row's `changes` (a JSON array).
#[derive(serde::Serialize)]
struct FieldChangeOut<'a> {
    field: &'a str,
    old: &'a serde_json::Value,
    new: &'a serde_json::Value,
}

/// [`FieldChangeOut`] as read back.
#[derive(serde::Deserialize)]
struct FieldChangeIn {
    field: String,
    old: serde_json::Value,
    new: serde_json::Value,
}

/// The statements appending `history` after change `seq`: one `case_changes` row per change
/// (the entries of one version, time and actor: every field a creation or an update
/// set), 500 rows per statement. A row per field made a creation write ~8 history rows
/// and index entries; PostgreSQL then did ~35 % fewer creations per second (ADR 0010).
fn history_statements(history: &[CaseHistoryEntry], mut seq: i64) -> StoreResult<Vec<(String, Vec<Value>)>> {
    let changes: Vec<&[CaseHistoryEntry]> = history
        .chunk_by(|a, b| (a.tenant, a.case, a.version, a.at, a.actor) == (b.tenant, b.case, b.version, b.at, b.actor))
        .collect();
    let mut statements = Vec::new();
    for chunk in changes.chunks(500) {
        let mut values = Vec::with_capacity(chunk.len() * 7);
        for change in chunk {
            let Some(first) = change.first() else { continue };
            seq += 1;
            let fields: Vec<FieldChangeOut<'_>> =
                change.iter().map(|e| FieldChangeOut { field: &e.field, old: &e.old, new: &e.new }).collect();
            values.extend([
                uid(first.tenant),
                uid(first.case),
                Value::BigInt(Some(seq)),
                int(first.version),
                Value::BigInt(Some(ts(first.at))),
                uid(first.actor),
                text(to_doc(&fields)?),
            ]);
        }
        let sql = format!(
            "INSERT INTO case_changes (tenant_id, case_id, seq, version, at, actor_id, changes) VALUES {}",
            row_marks(chunk.len(), 7)
        );
        statements.push((sql, values));
    }
    Ok(statements)
}

/// Checks, before the write transaction, that a new case's id is free and its customer
/// exists in its tenant (one read, off the single write path). The constraints catch what
/// changes in between: the primary key a taken id, the foreign key a deleted customer.
pub(crate) async fn check_new_case<C: ConnectionTrait>(c: &C, case: &Case) -> StoreResult<()> {
    let row = one(
        c,
        "SELECT (SELECT COUNT(*) FROM cases WHERE id = ?) AS taken, \
         (SELECT COUNT(*) FROM customers WHERE id = ? AND tenant_id = ?) AS customer",
        vec![uid(case.id), uid(case.customer()), uid(case.tenant)],
    )
    .await
    .map_err(db)?
    .ok_or_else(|| StoreError::Backend("the reference check returned no row".into()))?;
    if col::<i64>(&row, "taken")? > 0 {
        return Err(StoreError::duplicate("id", case.id.to_string()));
    }
    if col::<i64>(&row, "customer")? == 0 {
        return Err(missing_customer(case));
    }
    Ok(())
}

fn missing_customer(case: &Case) -> StoreError {
    StoreError::InvalidReference { field: "customer".into(), reason: format!("{} does not exist", case.customer()) }
}

/// The inserts of a new case with its history and events.
fn new_case_statements(
    case: &Case,
    history: &[CaseHistoryEntry],
    events: &[DomainEvent],
) -> StoreResult<Vec<(String, Vec<Value>)>> {
    let mut parts =
        vec![(format!("INSERT INTO cases ({CASE_COLUMNS}) VALUES ({})", marks(CASE_COLUMN_COUNT)), case_values(case)?)];
    parts.extend(tag_rows(case));
    parts.extend(history_statements(history, 0)?);
    parts.extend(events_statement(events)?);
    Ok(parts)
}

/// Names the duplicate value of a refused new case.
fn new_case_error(case: &Case, e: StoreError) -> StoreError {
    with_value(e, |field| match field {
        "number" => Some(case.number.to_string()),
        "id" => Some(case.id.to_string()),
        _ => None,
    })
}

/// Inserts a new case with its history and events in the caller's transaction, in one
/// round trip on both backends. PostgreSQL checks that the customer exists in the case's
/// tenant in the same statement ([`insert_together_if`]); on SQLite the caller has run
/// [`check_new_case`]. A taken id fails on the primary key on both.
pub(crate) async fn insert_case_rows<C: ConnectionTrait>(
    c: &C,
    case: &Case,
    history: &[CaseHistoryEntry],
    events: &[DomainEvent],
) -> StoreResult<()> {
    let parts = new_case_statements(case, history, events)?;
    if c.get_database_backend() == DbBackend::Postgres {
        let customer = (
            "EXISTS (SELECT 1 FROM customers WHERE id = ? AND tenant_id = ?)",
            vec![uid(case.customer()), uid(case.tenant)],
        );
        let wrote = insert_together_if(c, parts, customer, "customer").await.map_err(|e| new_case_error(case, e))?;
        return if wrote { Ok(()) } else { Err(missing_customer(case)) };
    }
    insert_together(c, parts, "customer").await.map_err(|e| new_case_error(case, e))
}

/// The case list's statement: the filter's conditions, the private scope, the keyset
/// condition after `cursor`, the sort with the case number breaking ties, and one row more
/// than `limit_to` (to tell whether a next page exists).
pub(crate) fn case_list_statement(
    tenant: TenantId,
    filter: &CaseFilter,
    scope: &PrivateScope,
    sort: CaseSort,
    cursor: Option<CasePosition>,
    limit_to: u32,
) -> (String, Vec<Value>) {
    let mut sql = String::from("SELECT doc FROM cases WHERE tenant_id = ? AND deleted_at IS NULL");
    let mut values = vec![uid(tenant)];
    let any_of = |sql: &mut String, values: &mut Vec<Value>, column: &str, items: Vec<&'static str>| {
        if !items.is_empty() {
            sql.push_str(&format!(" AND {column} IN ({})", marks(items.len())));
            values.extend(items.into_iter().map(text));
        }
    };
    any_of(&mut sql, &mut values, "status", filter.status.iter().map(|s| s.as_str()).collect());
    any_of(&mut sql, &mut values, "priority", filter.priority.iter().map(|s| s.as_str()).collect());
    any_of(&mut sql, &mut values, "severity", filter.severity.iter().map(|s| s.as_str()).collect());
    if let Some(a) = filter.assignee {
        sql.push_str(" AND assignee_id = ?");
        values.push(uid(a));
    }
    if let Some(g) = filter.group {
        sql.push_str(" AND group_id = ?");
        values.push(uid(g));
    }
    if let Some(c) = filter.customer {
        sql.push_str(" AND customer_id = ?");
        values.push(uid(c));
    }
    for (column, op, at) in [
        ("created_at", ">=", filter.created_from),
        ("created_at", "<", filter.created_to),
        ("updated_at", ">=", filter.updated_from),
        ("updated_at", "<", filter.updated_to),
    ] {
        if let Some(at) = at {
            sql.push_str(&format!(" AND {column} {op} ?"));
            values.push(Value::BigInt(Some(ts(at))));
        }
    }
    list_conditions(&mut sql, &mut values, filter);
    if let Some(t) = filter.text.as_deref() {
        let pattern = format!("%{}%", like_escape(&t.to_lowercase()));
        sql.push_str(" AND (subject_lc LIKE ? ESCAPE '\\' OR description_lc LIKE ? ESCAPE '\\')");
        values.extend([text(pattern.as_str()), text(pattern)]);
    }
    if let Some(condition) = filter.sla {
        let (sla_sql, sla_values) = sla_condition(condition, filter.at.unwrap_or_default());
        sql.push_str(&sla_sql);
        values.extend(sla_values);
    }
    let (scope_sql, scope_values) = scope_condition(scope);
    sql.push_str(&scope_sql);
    values.extend(scope_values);
    let (key, dir) = (
        match sort.field {
            CaseSortField::CreatedAt => Some("created_at"),
            CaseSortField::UpdatedAt => Some("updated_at"),
            CaseSortField::Number => None,
            CaseSortField::Priority => Some("priority_rank"),
            CaseSortField::DueNext => Some("sla_due_key"),
        },
        match sort.direction {
            SortDirection::Asc => ("ASC", ">"),
            SortDirection::Desc => ("DESC", "<"),
        },
    );
    if let Some((_, at, priority, number)) = cursor {
        let primary = match sort.field {
            CaseSortField::CreatedAt | CaseSortField::UpdatedAt => at.map(ts),
            CaseSortField::Priority => priority.map(priority_rank),
            CaseSortField::DueNext => Some(at.map_or(i64::MAX, ts)),
            CaseSortField::Number => None,
        };
        match (key, primary) {
            (Some(k), Some(p)) => {
                sql.push_str(&format!(" AND ({k} {op} ? OR ({k} = ? AND number {op} ?))", op = dir.1));
                values.extend([Value::BigInt(Some(p)), Value::BigInt(Some(p)), int(number.value())]);
            }
            _ => {
                sql.push_str(&format!(" AND number {} ?", dir.1));
                values.push(int(number.value()));
            }
        }
    }
    match key {
        Some(k) => sql.push_str(&format!(" ORDER BY {k} {d}, number {d}", d = dir.0)),
        None => sql.push_str(&format!(" ORDER BY number {}", dir.0)),
    }
    sql.push_str(&limit(u64::from(limit_to) + 1));
    (sql, values)
}

/// The SLA condition at `now` on the `cases` row (ADR 0028; the reference is
/// [`crm_core::sla::SlaMark::condition_at`]), with its values.
pub(crate) fn sla_condition(condition: SlaCondition, now: DateTime<Utc>) -> (String, Vec<Value>) {
    let now = || Value::BigInt(Some(ts(now)));
    let not_breached = " AND (sla_breach_at IS NULL OR sla_breach_at > ?)";
    match condition {
        SlaCondition::Breached => (" AND sla_breach_at <= ?".to_owned(), vec![now()]),
        SlaCondition::Warning => (format!(" AND sla_warning_at <= ?{not_breached}"), vec![now(), now()]),
        SlaCondition::Running => (
            format!(" AND sla_due_key < ?{not_breached} AND (sla_warning_at IS NULL OR sla_warning_at > ?)"),
            vec![Value::BigInt(Some(i64::MAX)), now(), now()],
        ),
    }
}

/// The private-scope condition on the `cases` row, with its values.
pub(crate) fn scope_condition(scope: &PrivateScope) -> (String, Vec<Value>) {
    match scope {
        PrivateScope::All => (String::new(), Vec::new()),
        PrivateScope::AssignedTo { agent, groups } => {
            let mut sql = String::from(" AND (visibility <> 'private' OR assignee_id = ?");
            let mut values = vec![uid(*agent)];
            if !groups.is_empty() {
                sql.push_str(&format!(" OR group_id IN ({})", marks(groups.len())));
                values.extend(groups.iter().map(|g| uid(*g)));
            }
            sql.push(')');
            (sql, values)
        }
    }
}

/// The condition on `status` of the cases that count as open on a customer card
/// ([`CaseStatus::is_open`]: the rule stays in crm-core), as comparisons joined by `OR`
/// (`(status = 'open' OR status = 'pending' OR status = 'on_hold')`), of the live cases
/// (`deleted_at IS NULL`: a softly deleted case is on no card). Not an `IN` list:
/// SQLite builds a temporary B-tree of a list of three or more constants each time the
/// statement runs (see `m0005` in `crate::migration`), on the screen pop's path.
pub(crate) fn open_status_condition() -> &'static str {
    static CONDITION: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let open = CaseStatus::ALL.iter().filter(|s| s.is_open()).map(|s| format!("status = '{}'", s.as_str()));
        format!("({}) AND deleted_at IS NULL", open.collect::<Vec<_>>().join(" OR "))
    });
    &CONDITION
}

/// The `cases` table as read for one customer's cases, newest first. On SQLite it names
/// the `cases_by_customer` index: without statistics (a database that never ran `ANALYZE`)
/// the planner rates `tenant_id = ?` as selective as `customer_id = ?` and may pick
/// `cases_by_updated`, which already yields the order, then walk the tenant's whole case
/// list for one customer's cases.
pub(crate) fn cases_of_a_customer(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Sqlite => "cases INDEXED BY cases_by_customer",
        _ => "cases",
    }
}

fn cases_from_rows(rows: &[QueryResult]) -> StoreResult<Vec<Case>> {
    rows.iter().map(from_doc).collect()
}

#[async_trait]
impl CaseStore for SqlStore {
    async fn next_case_number(&self, tenant: TenantId) -> StoreResult<CaseNumber> {
        self.next_sequence(tenant, Counter::Case).await.map(CaseNumber::new)
    }

    async fn insert_case(&self, case: &Case, history: &[CaseHistoryEntry], events: &[DomainEvent]) -> StoreResult<()> {
        if self.backend == DbBackend::Postgres {
            return insert_case_rows(&self.write, case, history, events).await;
        }
        check_new_case(&self.read, case).await?;
        let parts = new_case_statements(case, history, events)?;
        self.insert_atomically(parts, "customer").await.map_err(|e| new_case_error(case, e))
    }

    async fn insert_case_from_interaction(
        &self,
        case: &Case,
        history: &[CaseHistoryEntry],
        interaction: &Interaction,
        interaction_expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        if self.backend != DbBackend::Postgres {
            check_new_case(&self.read, case).await?;
        }
        let tx = self.begin().await?;
        let result = async {
            insert_case_rows(&tx, case, history, events).await?;
            if interaction.tenant != case.tenant {
                return Err(StoreError::not_found("interaction", interaction.id));
            }
            replace_interaction(&tx, interaction, interaction_expected_version).await
        }
        .await;
        finish(tx, result).await
    }

    async fn update_case(
        &self,
        case: &Case,
        expected_version: u64,
        history: &[CaseHistoryEntry],
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            let mut values = case_values(case)?;
            // Drop id and tenant (they are the WHERE clause) and keep the rest for SET.
            values.drain(0..2);
            values.extend([uid(case.id), uid(case.tenant), int(expected_version), int(case.sla_gen())]);
            let sql = "UPDATE cases SET number = ?, customer_id = ?, status = ?, visibility = ?, severity = ?, \
                       priority = ?, priority_rank = ?, assignee_id = ?, group_id = ?, subject_lc = ?, \
                       description_lc = ?, created_at = ?, updated_at = ?, version = ?, doc = ?, deleted_at = ?, \
                       sla_due_key = ?, sla_warning_at = ?, sla_breach_at = ?, sla_fire_at = ?, \
                       category = ?, case_type = ?, resolution = ?, parent_id = ? \
                       WHERE id = ? AND tenant_id = ? AND version = ? AND sla_gen = ?";
            let touched = exec(&tx, sql, values)
                .await
                .map_err(|e| with_value(crate::error::map_db(e, "customer"), duplicate_value(case)))?;
            if touched == 0 {
                return Err(stale_or_missing(
                    &tx,
                    "cases",
                    "case",
                    case.tenant.as_uuid(),
                    case.id.as_uuid(),
                    expected_version,
                )
                .await);
            }
            replace_tags(&tx, case).await?;
            append_history(&tx, case.id, history).await?;
            write_events(&tx, events).await
        }
        .await;
        finish(tx, result).await
    }

    async fn get_deleted_case(&self, tenant: TenantId, id: CaseId) -> StoreResult<Option<Case>> {
        let row = one(
            &self.read,
            "SELECT doc FROM cases WHERE id = ? AND tenant_id = ? AND deleted_at IS NOT NULL",
            vec![uid(id), uid(tenant)],
        )
        .await
        .map_err(db)?;
        row.as_ref().map(from_doc).transpose()
    }

    async fn get_case(&self, tenant: TenantId, id: CaseId) -> StoreResult<Option<Case>> {
        let row = one(
            &self.read,
            "SELECT doc FROM cases WHERE id = ? AND tenant_id = ? AND deleted_at IS NULL",
            vec![uid(id), uid(tenant)],
        )
        .await
        .map_err(db)?;
        row.as_ref().map(from_doc).transpose()
    }

    async fn get_case_by_number(&self, tenant: TenantId, number: CaseNumber) -> StoreResult<Option<Case>> {
        let row = one(
            &self.read,
            "SELECT doc FROM cases WHERE tenant_id = ? AND number = ? AND deleted_at IS NULL",
            vec![uid(tenant), int(number.value())],
        )
        .await
        .map_err(db)?;
        row.as_ref().map(from_doc).transpose()
    }

    async fn list_cases(
        &self,
        tenant: TenantId,
        filter: &CaseFilter,
        scope: &PrivateScope,
        sort: CaseSort,
        page: &PageRequest,
    ) -> StoreResult<Page<Case>> {
        let cursor: Option<CasePosition> = page.after.as_ref().map(decode_cursor).transpose()?;
        if cursor.as_ref().is_some_and(|c| c.0 != sort.field) {
            return Err(StoreError::InvalidReference {
                field: "cursor".into(),
                reason: "the cursor was made for another sort order".into(),
            });
        }
        let (sql, values) = case_list_statement(tenant, filter, scope, sort, cursor, page.limit);
        let rows = all(&self.read, &sql, values).await.map_err(db)?;
        let field = sort.field;
        paginate(
            rows,
            page.limit,
            |row| {
                let case: Case = from_doc(row)?;
                Ok(Cursor::encode(&position(field, &case)))
            },
            from_doc,
        )
    }

    async fn open_cases_of(
        &self,
        tenant: TenantId,
        customer: CustomerId,
        scope: &PrivateScope,
        max: u32,
    ) -> StoreResult<Vec<Case>> {
        let (scope_sql, scope_values) = scope_condition(scope);
        let sql = format!(
            "SELECT doc FROM {} WHERE customer_id = ? AND {} AND tenant_id = ?{scope_sql} \
             ORDER BY updated_at DESC, number DESC{}",
            cases_of_a_customer(self.backend),
            open_status_condition(),
            limit(max.into())
        );
        let mut values = vec![uid(customer), uid(tenant)];
        values.extend(scope_values);
        let rows = all(&self.read, &sql, values).await.map_err(db)?;
        cases_from_rows(&rows)
    }

    async fn case_history(&self, tenant: TenantId, case: CaseId) -> StoreResult<Vec<CaseHistoryEntry>> {
        let rows = all(
            &self.read,
            "SELECT tenant_id, case_id, version, at, actor_id, changes FROM case_changes \
             WHERE case_id = ? AND tenant_id = ? ORDER BY seq",
            vec![uid(case), uid(tenant)],
        )
        .await
        .map_err(db)?;
        let mut entries = Vec::new();
        for r in &rows {
            let raw: String = col(r, "changes")?;
            let fields: Vec<FieldChangeIn> =
                serde_json::from_str(&raw).map_err(|e| StoreError::Backend(Box::new(e)))?;
            let version: i64 = col(r, "version")?;
            let (tenant, case) = (TenantId::from_uuid(col(r, "tenant_id")?), CaseId::from_uuid(col(r, "case_id")?));
            let (at, actor) = (crate::sql::from_ts(col(r, "at")?), AgentId::from_uuid(col(r, "actor_id")?));
            entries.extend(fields.into_iter().map(|f| CaseHistoryEntry {
                tenant,
                case,
                version: u64::try_from(version).unwrap_or_default(),
                at,
                actor,
                field: f.field,
                old: f.old,
                new: f.new,
            }));
        }
        // By version, then field; changes in the order they were written (a stable sort).
        entries.sort_by(|a, b| (a.version, &a.field).cmp(&(b.version, &b.field)));
        Ok(entries)
    }

    async fn insert_follow_up(
        &self,
        follow_up: &FollowUp,
        remarks: &[CaseRemark],
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let tx = self.begin().await?;
        let result = async {
            insert_follow_up_in(&tx, follow_up).await?;
            for r in remarks {
                remark_case_in(&tx, r).await?;
            }
            write_events(&tx, events).await
        }
        .await;
        finish(tx, result).await
    }

    async fn follow_ups_of(&self, tenant: TenantId, case: CaseId) -> StoreResult<Vec<FollowUp>> {
        let rows = all(
            &self.read,
            "SELECT doc FROM follow_ups WHERE case_id = ? AND tenant_id = ? ORDER BY at, id",
            vec![uid(case), uid(tenant)],
        )
        .await
        .map_err(db)?;
        rows.iter().map(from_doc).collect()
    }
}

/// Writes a case re-marked apart from an edit in the caller's transaction (ADR 0032): the
/// document and the SLA columns, only over the version and mark generation it was read at.
///
/// # Errors
/// `StaleVersion` when the row moved (nothing written); `NotFound` without the row.
pub(crate) async fn remark_case_in<C: ConnectionTrait>(c: &C, remark: &CaseRemark) -> StoreResult<()> {
    let case = remark.case();
    let sql = "UPDATE cases SET doc = ?, sla_due_key = ?, sla_warning_at = ?, sla_breach_at = ?, sla_fire_at = ?, \
               sla_gen = ? WHERE id = ? AND tenant_id = ? AND version = ? AND sla_gen = ?";
    let values = vec![
        text(to_doc(case)?),
        Value::BigInt(Some(ts(crm_core::case::due_key(case)))),
        ts_opt(case.sla().and_then(|m| m.warning_at)),
        ts_opt(case.sla().and_then(|m| m.breach_at)),
        ts_opt(case.sla().and_then(crm_core::sla::SlaMark::first_alarm)),
        int(case.sla_gen()),
        uid(case.id),
        uid(case.tenant),
        int(remark.expected_version()),
        int(remark.expected_sla_gen()),
    ];
    if exec(c, sql, values).await.map_err(db)? == 0 {
        let (tenant, id) = (case.tenant.as_uuid(), case.id.as_uuid());
        return Err(stale_or_missing(c, "cases", "case", tenant, id, remark.expected_version()).await);
    }
    Ok(())
}

/// Inserts a follow-up in the caller's transaction, its case checked.
pub(crate) async fn insert_follow_up_in<C: ConnectionTrait>(c: &C, follow_up: &FollowUp) -> StoreResult<()> {
    require(c, "cases", "case", follow_up.tenant.as_uuid(), follow_up.case.as_uuid()).await?;
    exec(
        c,
        "INSERT INTO follow_ups (id, tenant_id, case_id, at, doc) VALUES (?, ?, ?, ?, ?)",
        vec![
            uid(follow_up.id),
            uid(follow_up.tenant),
            uid(follow_up.case),
            Value::BigInt(Some(ts(follow_up.at))),
            text(to_doc(follow_up)?),
        ],
    )
    .await
    .map_err(|e| with_value(crate::error::map_db(e, "case"), |_| Some(follow_up.id.to_string())))?;
    Ok(())
}
