//! SLA attainment per group and period (issue 33), as JSON or CSV.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crm_core::ids::GroupId;
use crm_core::sla::{SlaReport, SlaReportQuery};

use crate::auth::Auth;
use crate::extract::{ApiQuery, Reply};
use crate::problem::ApiResult;
use crate::state::AppState;

/// `json` or `csv`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportFormat {
    /// JSON (the default).
    #[default]
    Json,
    /// CSV with a header.
    Csv,
}

/// The period, group and format of an SLA report.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SlaReportParams {
    /// Cases created at or after (RFC 3339).
    pub from: DateTime<Utc>,
    /// Cases created before (RFC 3339); after `from`.
    pub to: DateTime<Utc>,
    /// Only the cases of this group.
    #[serde(default)]
    #[param(value_type = Option<uuid::Uuid>)]
    pub group: Option<GroupId>,
    /// `json` (default) or `csv`; `Accept: text/csv` asks for CSV too.
    #[serde(default)]
    #[param(inline)]
    pub format: Option<ReportFormat>,
}

/// SLA attainment of the cases created in `[from, to)`, per group and metric: met,
/// breached, in progress, and met per mille of those decided. CSV with `?format=csv` or
/// `Accept: text/csv` (columns `group,metric,met,breached,in_progress,attainment_per_mille`).
#[utoipa::path(get, path = "/api/v1/reports/sla", tag = "sla", params(SlaReportParams),
    responses((status = 200, content((SlaReport = "application/json"), (String = "text/csv")))))]
pub async fn sla_report(
    State(st): State<AppState>,
    Auth(actor): Auth,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<SlaReportParams>,
) -> ApiResult<Response> {
    let query = SlaReportQuery { from: q.from, to: q.to, group: q.group };
    let report = st.crm.sla_report(&actor, &query).await?;
    let accepts_csv = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.split(',').any(|m| m.trim().starts_with("text/csv")));
    let csv = match q.format {
        Some(f) => f == ReportFormat::Csv,
        None => accepts_csv,
    };
    if csv {
        let mut response = report.to_csv().into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv"));
        return Ok(response);
    }
    Ok(Reply::ok(report).into_response())
}
