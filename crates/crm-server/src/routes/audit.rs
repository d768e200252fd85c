//! The audit log (ADM-4): its pages and its export as JSON Lines or CSV, for
//! administrators (`admin.audit`) of the caller's tenant.

use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crm_core::access::Actor;
use crm_core::audit::{AuditFilter, AuditRecord, CSV_HEADER};
use crm_core::ids::AgentId;
use crm_core::page::{Cursor, PageRequest};
use crm_core::service::Crm;

use super::{PageBody, PageParams};
use crate::auth::Auth;
use crate::extract::{ApiQuery, Reply};
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;

/// Which entries (every filter optional; all must hold).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    /// By this agent.
    #[serde(default)]
    pub actor: Option<AgentId>,
    /// On records of this kind (`case`, `customer`, `task`, `interaction`, `merge` …).
    #[serde(default)]
    pub target_kind: Option<String>,
    /// On this record (its id).
    #[serde(default)]
    pub target_id: Option<String>,
    /// This action (an event name: `case_created`, `customer_updated` …).
    #[serde(default)]
    pub action: Option<String>,
    /// At or after this instant (RFC 3339).
    #[serde(default)]
    pub from: Option<DateTime<Utc>>,
    /// Before this instant (RFC 3339); after `from`.
    #[serde(default)]
    pub to: Option<DateTime<Utc>>,
    /// At most this many items (1..=200, default 50).
    #[serde(default)]
    pub limit: Option<u32>,
    /// The `next` cursor of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
    /// Export format: `jsonl` (default) or `csv` (export only).
    #[serde(default)]
    pub format: Option<String>,
}

impl AuditParams {
    fn filter(&self) -> AuditFilter {
        AuditFilter {
            actor: self.actor,
            target_kind: self.target_kind.clone(),
            target_id: self.target_id.clone(),
            action: self.action.clone(),
            from: self.from,
            to: self.to,
        }
    }
}

/// A page of the caller's tenant's audit log in chain order (oldest first), filtered
/// (needs `admin.audit`). Each entry carries its place in the tenant's hash chain.
#[utoipa::path(get, path = "/api/v1/audit", operation_id = "list_audit_entries", tag = "admin", params(AuditParams),
    responses((status = 200, body = PageBody<AuditRecord>)))]
pub async fn list(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<AuditParams>,
) -> ApiResult<Reply<PageBody<AuditRecord>>> {
    if q.format.is_some() {
        return Err(ApiError::invalid("format", "applies to /api/v1/audit/export only"));
    }
    let page = PageParams { limit: q.limit, cursor: q.cursor.clone() }.page()?;
    Ok(Reply::ok(st.crm.audit_log(&actor, &q.filter(), &page).await?.into()))
}

/// Export formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    JsonLines,
    Csv,
}

/// Entries read per page while exporting.
const EXPORT_PAGE: u32 = 200;

/// Every entry of the caller's tenant's audit log passing the filters, in chain order, as
/// JSON Lines (`format=jsonl`, one entry per line, as in the list) or CSV (`format=csv`,
/// with a header row), streamed page by page (needs `admin.audit`).
#[utoipa::path(get, path = "/api/v1/audit/export", tag = "admin", params(AuditParams),
    responses((status = 200, description = "the entries", content(
        (String = "application/jsonl"),
        (String = "text/csv"),
    ))))]
pub async fn export(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<AuditParams>,
) -> ApiResult<Response> {
    let format = match q.format.as_deref() {
        None | Some("jsonl") => Format::JsonLines,
        Some("csv") => Format::Csv,
        Some(other) => return Err(ApiError::invalid("format", format!("{other:?} is not jsonl or csv"))),
    };
    if q.limit.is_some() || q.cursor.is_some() {
        return Err(ApiError::invalid("limit", "an export has no pages: leave out limit and cursor"));
    }
    let filter = q.filter();
    // The first page before answering: a refusal is a problem, not a broken stream.
    let first = st.crm.audit_log(&actor, &filter, &PageRequest { limit: EXPORT_PAGE, after: None }).await?;
    let head = match format {
        Format::Csv => format!("{CSV_HEADER}\n"),
        Format::JsonLines => String::new(),
    };
    let state = Some((st.crm.clone(), actor, filter, first.items, first.next));
    let pages = futures::stream::unfold((Some(head), state), move |(head, state)| async move {
        if let Some(head) = head {
            return Some((Ok::<_, std::io::Error>(head), (None, state)));
        }
        let (crm, actor, filter, items, next): (Crm, Actor, AuditFilter, Vec<AuditRecord>, Option<Cursor>) = state?;
        let mut chunk = String::new();
        for r in &items {
            match format {
                Format::JsonLines => chunk.push_str(&serde_json::to_string(r).unwrap_or_default()),
                Format::Csv => chunk.push_str(&r.csv_row()),
            }
            chunk.push('\n');
        }
        let state = match next {
            None => None,
            Some(after) => {
                match crm.audit_log(&actor, &filter, &PageRequest { limit: EXPORT_PAGE, after: Some(after) }).await {
                    Ok(page) => Some((crm, actor, filter, page.items, page.next)),
                    Err(error) => {
                        tracing::error!(%error, "audit export stopped");
                        return Some((Err(std::io::Error::other(error.to_string())), (None, None)));
                    }
                }
            }
        };
        Some((Ok(chunk), (None, state)))
    });
    let content_type = match format {
        Format::JsonLines => "application/jsonl",
        Format::Csv => "text/csv; charset=utf-8",
    };
    Ok(([(header::CONTENT_TYPE, content_type)], Body::from_stream(pages)).into_response())
}
