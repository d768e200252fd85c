//! Prometheus metrics, hand-rolled in the text exposition format: request counts by method,
//! route and status, and latency histograms by method and route. Routes are the matched
//! templates (`/api/v1/cases/{id}`), so the label set stays small.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::state::AppState;

/// Histogram bucket bounds in seconds.
const BUCKETS: [f64; 12] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

#[derive(Debug, Default, Clone)]
struct Histogram {
    buckets: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

/// The collected metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

/// Route template → method → figures; looked up by `&str`, so a request allocates nothing
/// once its route and method have been seen.
#[derive(Debug, Default)]
struct Inner {
    routes: BTreeMap<String, BTreeMap<String, RouteFigures>>,
}

#[derive(Debug, Default)]
struct RouteFigures {
    statuses: BTreeMap<u16, u64>,
    latency: Histogram,
}

impl Metrics {
    /// Records one request.
    pub fn record(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let Ok(mut inner) = self.inner.lock() else { return };
        if !inner.routes.contains_key(route) {
            inner.routes.insert(route.to_owned(), BTreeMap::new());
        }
        let Some(methods) = inner.routes.get_mut(route) else { return };
        if !methods.contains_key(method) {
            methods.insert(method.to_owned(), RouteFigures::default());
        }
        let Some(figures) = methods.get_mut(method) else { return };
        *figures.statuses.entry(status).or_default() += 1;
        let h = &mut figures.latency;
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                h.buckets[i] += 1;
            }
        }
        h.sum += seconds;
        h.count += 1;
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let Ok(inner) = self.inner.lock() else { return String::new() };
        let mut out = String::new();
        out.push_str("# HELP crm_http_requests_total HTTP requests by method, route and status.\n");
        out.push_str("# TYPE crm_http_requests_total counter\n");
        for (r, methods) in &inner.routes {
            for (m, figures) in methods {
                for (s, n) in &figures.statuses {
                    let _ = writeln!(
                        out,
                        "crm_http_requests_total{{method=\"{m}\",route=\"{}\",status=\"{s}\"}} {n}",
                        esc(r)
                    );
                }
            }
        }
        out.push_str("# HELP crm_http_request_duration_seconds HTTP request latency by method and route.\n");
        out.push_str("# TYPE crm_http_request_duration_seconds histogram\n");
        for (r, methods) in &inner.routes {
            for (m, figures) in methods {
                let h = &figures.latency;
                let labels = format!("method=\"{m}\",route=\"{}\"", esc(r));
                for (i, bound) in BUCKETS.iter().enumerate() {
                    let _ = writeln!(
                        out,
                        "crm_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {}",
                        h.buckets[i]
                    );
                }
                let _ = writeln!(out, "crm_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}", h.count);
                let _ = writeln!(out, "crm_http_request_duration_seconds_sum{{{labels}}} {}", h.sum);
                let _ = writeln!(out, "crm_http_request_duration_seconds_count{{{labels}}} {}", h.count);
            }
        }
        out
    }
}

/// The counters of the SQLite store's inline reads (ADR 0005), in the text exposition.
pub fn render_inline_reads(counts: crm_store_sql::InlineReadCounts) -> String {
    let mut out = String::new();
    out.push_str("# HELP crm_sqlite_inline_reads_total Screen-pop reads run on the caller's thread, by outcome.\n");
    out.push_str("# TYPE crm_sqlite_inline_reads_total counter\n");
    let _ = writeln!(out, "crm_sqlite_inline_reads_total{{outcome=\"served\"}} {}", counts.served);
    let _ = writeln!(out, "crm_sqlite_inline_reads_total{{outcome=\"fell_back\"}} {}", counts.fell_back);
    out
}

/// The counters of the PostgreSQL store's combined screen pops (ADR 0008), in the text
/// exposition: keys per statement is their ratio.
pub fn render_combined_reads(counts: crm_store_sql::CombinedReadCounts) -> String {
    let mut out = String::new();
    out.push_str(
        "# HELP crm_pg_combined_read_statements_total Statements that ran combined screen pops.
",
    );
    out.push_str(
        "# TYPE crm_pg_combined_read_statements_total counter
",
    );
    let _ = writeln!(out, "crm_pg_combined_read_statements_total {}", counts.statements);
    out.push_str(
        "# HELP crm_pg_combined_read_keys_total Screen pops those statements read.
",
    );
    out.push_str(
        "# TYPE crm_pg_combined_read_keys_total counter
",
    );
    let _ = writeln!(out, "crm_pg_combined_read_keys_total {}", counts.keys);
    out
}

/// The database connection pools' gauges, in the text exposition: `max` against `open`
/// and `idle` tells a pool that is too small (requests waiting for a connection) apart
/// from a slow database.
pub fn render_pools(gauges: &[crm_store_sql::PoolGauge]) -> String {
    let mut out = String::new();
    out.push_str(
        "# HELP crm_db_pool_connections Database connections per pool: the most it opens, open now, idle now.\n",
    );
    out.push_str("# TYPE crm_db_pool_connections gauge\n");
    for g in gauges {
        for (state, value) in [("max", g.max), ("open", g.open), ("idle", g.idle)] {
            let _ = writeln!(out, "crm_db_pool_connections{{pool=\"{}\",state=\"{state}\"}} {value}", esc(g.pool));
        }
    }
    out
}

/// The external CRMs' API allowance as their remotes last reported it, per tenant and
/// system (Salesforce's `Sforce-Limit-Info`), in the text exposition.
pub fn render_api_usage(
    usage: &[(crm_core::ids::TenantId, crm_core::external::ExternalSystem, crm_core::external::ApiUsage)],
) -> String {
    let mut out = String::new();
    if usage.is_empty() {
        return out;
    }
    out.push_str(
        "# HELP crm_external_api_usage_calls API calls the external CRM says the tenant used in its period.\n",
    );
    out.push_str("# TYPE crm_external_api_usage_calls gauge\n");
    for (tenant, system, u) in usage {
        let _ = writeln!(out, "crm_external_api_usage_calls{{tenant=\"{tenant}\",system=\"{system}\"}} {}", u.used);
    }
    out.push_str("# HELP crm_external_api_limit_calls The external CRM's API allowance of the period.\n");
    out.push_str("# TYPE crm_external_api_limit_calls gauge\n");
    for (tenant, system, u) in usage {
        let _ = writeln!(out, "crm_external_api_limit_calls{{tenant=\"{tenant}\",system=\"{system}\"}} {}", u.limit);
    }
    out
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// The middleware recording every request.
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let route = req.extensions().get::<MatchedPath>().cloned();
    let response = next.run(req).await;
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    state.metrics.record(method.as_str(), route, response.status().as_u16(), start.elapsed().as_secs_f64());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_histograms() {
        let m = Metrics::default();
        m.record("GET", "/api/v1/cases/{id}", 200, 0.003);
        let text = m.render();
        assert!(text.contains("crm_http_requests_total{method=\"GET\",route=\"/api/v1/cases/{id}\",status=\"200\"} 1"));
        assert!(text.contains("le=\"0.005\"} 1"));
        assert!(text.contains("le=\"0.001\"} 0"));
        m.record("GET", "/api/v1/cases/{id}", 404, 0.02);
        m.record("POST", "/api/v1/cases", 201, 0.02);
        let text = m.render();
        assert!(text.contains("crm_http_requests_total{method=\"GET\",route=\"/api/v1/cases/{id}\",status=\"404\"} 1"));
        assert!(text.contains("crm_http_requests_total{method=\"POST\",route=\"/api/v1/cases\",status=\"201\"} 1"));
        assert!(
            text.contains("crm_http_request_duration_seconds_count{method=\"GET\",route=\"/api/v1/cases/{id}\"} 2")
        );
    }

    #[test]
    fn renders_the_external_api_usage_per_tenant_and_system() {
        use crm_core::external::{ApiUsage, ExternalSystem};
        assert_eq!(render_api_usage(&[]), "");
        let tenant = crm_core::ids::TenantId::from(uuid::Uuid::from_u128(7));
        let text = render_api_usage(&[(tenant, ExternalSystem::Salesforce, ApiUsage { used: 42, limit: 15_000 })]);
        assert!(
            text.contains(&format!("crm_external_api_usage_calls{{tenant=\"{tenant}\",system=\"salesforce\"}} 42")),
            "{text}"
        );
        assert!(
            text.contains(&format!("crm_external_api_limit_calls{{tenant=\"{tenant}\",system=\"salesforce\"}} 15000")),
            "{text}"
        );
    }

    #[test]
    fn renders_the_inline_read_counters() {
        let text = render_inline_reads(crm_store_sql::InlineReadCounts { served: 7, fell_back: 1 });
        assert!(text.contains("crm_sqlite_inline_reads_total{outcome=\"served\"} 7"));
        assert!(text.contains("crm_sqlite_inline_reads_total{outcome=\"fell_back\"} 1"));
    }

    #[test]
    fn renders_the_pool_gauges() {
        let gauges = [
            crm_store_sql::PoolGauge { pool: "read", max: 8, open: 3, idle: 2 },
            crm_store_sql::PoolGauge { pool: "write", max: 1, open: 1, idle: 0 },
        ];
        let text = render_pools(&gauges);
        assert!(text.contains("# TYPE crm_db_pool_connections gauge\n"), "{text}");
        for line in [
            "crm_db_pool_connections{pool=\"read\",state=\"max\"} 8\n",
            "crm_db_pool_connections{pool=\"read\",state=\"open\"} 3\n",
            "crm_db_pool_connections{pool=\"read\",state=\"idle\"} 2\n",
            "crm_db_pool_connections{pool=\"write\",state=\"max\"} 1\n",
            "crm_db_pool_connections{pool=\"write\",state=\"idle\"} 0\n",
        ] {
            assert!(text.contains(line), "{line} missing from {text}");
        }
    }

    #[test]
    fn renders_the_combined_read_counters() {
        let text = render_combined_reads(crm_store_sql::CombinedReadCounts { statements: 3, keys: 40 });
        assert!(text.contains("crm_pg_combined_read_statements_total 3\n"));
        assert!(text.contains("crm_pg_combined_read_keys_total 40\n"));
    }
}
