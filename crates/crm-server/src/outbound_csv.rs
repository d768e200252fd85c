//! Call-list entries from CSV (OUT-1): the HTTP import and the CLI read rows the same way.
//! Columns: `customer` (the customer's id, required), `phone`, `priority`, `time_zone`,
//! `due_at` (RFC 3339), and any `custom.<key>` (text). A row that cannot be read becomes a
//! refused row of the report, naming its column; the use case checks the rest.

use std::collections::BTreeMap;
use std::io::Read;

use chrono::{DateTime, Utc};
use crm_core::FieldError;
use crm_core::access::Actor;
use crm_core::ids::CallListId;
use crm_core::outbound::NewEntry;
use crm_core::service::{Crm, ImportRow, RowError};

use crate::csv_io::Progress;

/// Reads every row of `input`.
///
/// # Errors
/// A field error naming `header` when the header is unreadable, lacks `customer` or has an
/// unknown column.
pub fn entry_rows(input: impl Read) -> Result<Vec<ImportRow>, FieldError> {
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).flexible(false).from_reader(input);
    let headers = reader.headers().map_err(|e| FieldError::new("header", format!("unreadable csv: {e}")))?.clone();
    if !headers.iter().any(|h| h == "customer") {
        return Err(FieldError::new("header", "the header has no `customer` column"));
    }
    for h in headers.iter() {
        let known = matches!(h, "customer" | "phone" | "priority" | "time_zone" | "due_at");
        if !known && h.strip_prefix("custom.").is_none_or(str::is_empty) {
            return Err(FieldError::new("header", format!("unknown column {h:?}")));
        }
    }
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let row = i + 1;
        let entry = match record {
            Ok(r) => read_row(&headers, &r),
            Err(e) => Err(FieldError::new("row", format!("unreadable: {e}"))),
        };
        rows.push(ImportRow { row, entry });
    }
    Ok(rows)
}

fn read_row(headers: &csv::StringRecord, record: &csv::StringRecord) -> Result<NewEntry, FieldError> {
    let cell =
        |name: &str| headers.iter().position(|h| h == name).and_then(|i| record.get(i)).filter(|v| !v.is_empty());
    let customer = cell("customer")
        .ok_or_else(|| FieldError::new("customer", "is required"))?
        .parse()
        .map_err(|_| FieldError::new("customer", "is not an id (a UUID)"))?;
    let priority = cell("priority")
        .map(|p| p.parse::<i32>().map_err(|_| FieldError::new("priority", format!("{p:?} is not a whole number"))))
        .transpose()?;
    let due_at = cell("due_at")
        .map(|d| {
            DateTime::parse_from_rfc3339(d)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| FieldError::new("due_at", format!("{d:?} is not an RFC 3339 instant")))
        })
        .transpose()?;
    let custom: BTreeMap<String, serde_json::Value> = headers
        .iter()
        .zip(record.iter())
        .filter_map(|(h, v)| Some((h.strip_prefix("custom.")?.to_owned(), v)))
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k, serde_json::Value::String(v.to_owned())))
        .collect();
    Ok(NewEntry {
        customer,
        phone: cell("phone").map(str::to_owned),
        priority,
        time_zone: cell("time_zone").map(str::to_owned),
        due_at,
        custom,
    })
}

/// Rows per batch of the CLI import.
pub const IMPORT_BATCH: usize = 1000;

/// What a batched import did: the refused rows of every batch, and the failure that stopped
/// it (the batches before it are written, the failed one is not).
#[derive(Debug, Default)]
pub struct BatchedReport {
    /// Rows read.
    pub rows: usize,
    /// Entries written.
    pub imported: usize,
    /// Refused rows.
    pub rejected: Vec<RowError>,
    /// The error that stopped the import.
    pub failure: Option<crm_core::Error>,
}

/// Imports `rows` into `list` in batches of [`IMPORT_BATCH`] (each written all or nothing),
/// advancing `progress` by the rows of each batch; stops at the first failing batch.
pub async fn import_in_batches(
    crm: &Crm,
    actor: &Actor,
    list: CallListId,
    rows: Vec<ImportRow>,
    progress: &dyn Progress,
) -> BatchedReport {
    let mut report = BatchedReport { rows: rows.len(), ..BatchedReport::default() };
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let batch: Vec<ImportRow> = rows.by_ref().take(IMPORT_BATCH).collect();
        let n = batch.len() as u64;
        match crm.import_entries(actor, list, batch).await {
            Ok(r) => {
                report.imported += r.imported;
                report.rejected.extend(r.rejected);
            }
            Err(e) => {
                report.failure = Some(e);
                return report;
            }
        }
        progress.advance(n);
    }
    report
}
