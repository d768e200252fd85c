//! The `/api/v1` handlers, one module per area. Each handler authenticates, calls one use
//! case of `Crm`, and maps the result; the rules live in `crm-core`.

pub mod admin;
pub mod attachments;
pub mod audit;
pub mod case_lists;
pub mod cases;
pub mod connectors;
pub mod contacts;
pub mod custom_fields;
pub mod customers;
pub mod events;
pub mod external;
pub mod groups;
pub mod guidance;
pub mod inbound_mail;
pub mod interactions;
pub mod knowledge;
pub mod mail;
pub mod messages;
pub mod operator;
pub mod outbound;
pub mod outbox;
pub mod passwords;
pub mod public;
pub mod responses;
pub mod roles;
pub mod sla;
pub mod sla_report;
pub mod tasks;
pub mod webhooks;

use serde::{Deserialize, Serialize};

use crm_core::page::{Cursor, Page, PageRequest};

use crate::problem::ApiError;

/// Paging parameters of list endpoints.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// At most this many items (1..=200, default 50).
    #[serde(default)]
    pub limit: Option<u32>,
    /// The `next` cursor of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

impl PageParams {
    /// The page request.
    ///
    /// # Errors
    /// 422 on a limit out of range.
    pub fn page(&self) -> Result<PageRequest, ApiError> {
        PageRequest::new(self.limit, self.cursor.clone().map(Cursor::from_string))
            .map_err(|e| ApiError::invalid(e.field, e.reason))
    }
}

/// A page on the wire: the items and the cursor of the next page.
// Its OpenAPI schemas are named for the item: `PageBody_Case`, `PageBody_Customer` …
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PageBody<T> {
    /// The items.
    pub items: Vec<T>,
    /// The cursor of the next page; `null` on the last.
    pub next: Option<String>,
}

impl<T> From<Page<T>> for PageBody<T> {
    fn from(p: Page<T>) -> Self {
        Self { items: p.items, next: p.next.map(|c| c.as_str().to_owned()) }
    }
}

/// Parses a comma-separated list of wire names (`open,pending`).
///
/// # Errors
/// 422 naming `field` for an unknown name.
pub fn csv_list<T: std::str::FromStr>(field: &str, raw: Option<&str>) -> Result<Vec<T>, ApiError> {
    let Some(raw) = raw else { return Ok(Vec::new()) };
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<T>().map_err(|_| ApiError::invalid(field, format!("{s:?} is not a valid value"))))
        .collect()
}
